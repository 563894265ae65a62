"""Booking reminders schedule: every 5 minutes, mails the reminders that fell due (24 h and
1 h before a meeting by default), each once: chalicelib/booking/reminders.py.  "Now" is the
scheduled event's time, so a late or repeated tick does the same work."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

booking_reminders_bp = Blueprint(__name__)
RESERVE_MS = 20_000


@booking_reminders_bp.schedule(Rate(5, unit=Rate.MINUTES), name="booking_reminders_job")
def booking_reminders_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.booking.sync import send_due_reminders
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    run = send_due_reminders(bootstrap.booking_mail_deps(), event_time(event), keep_going)
    if run.due:
        logger.info("booking reminders", extra=run.__dict__)
    return dict(run.__dict__)
