"""Booking reminders schedule: every 5 minutes, mails the reminders that fell due (24 h and
1 h before a meeting by default), each once: chalicelib/booking/reminders.py.  First it
queues again, once each, the booking jobs whose queueing was lost (their due items older
than 10 minutes: chalicelib/booking/job_outbox.py).  "Now" is the scheduled event's time, so
a late or repeated tick does the same work."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

booking_reminders_bp = Blueprint(__name__)
RESERVE_MS = 20_000


@booking_reminders_bp.schedule(Rate(5, unit=Rate.MINUTES), name="booking_reminders_job")
def booking_reminders_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.booking.job_outbox import requeue_lost_jobs
    from chalicelib.booking.sync import send_due_reminders
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    now = event_time(event)
    # First the booking jobs whose queueing was lost: their confirmation mails come first.
    sweep = requeue_lost_jobs(
        bootstrap.booking_job_outbox(), bootstrap.booking_jobs_queue(), now, keep_going
    )
    if sweep.found:
        logger.info("booking jobs queued again", extra=sweep.__dict__)
    run = send_due_reminders(bootstrap.booking_mail_deps(), now, keep_going)
    if run.due:
        logger.info("booking reminders", extra=run.__dict__)
    return {
        **run.__dict__,
        "jobs_requeued": sweep.requeued,
        "jobs_requeue_failed": sweep.failed,
    }
