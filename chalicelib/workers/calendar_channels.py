"""Calendar channels job: every hour, brings the push channels of members' busy calendars up
to date (creates missing ones, renews those expiring within a day, stops those of calendars
no longer chosen), for the connections due (one Query of a due list, no Scan).

"Now" is the scheduled event's time, so a late or repeated tick does the same work; a
connection done is no longer due, so overlapping runs do little twice (and a channel made
twice is harmless: both are ours).  It stops taking connections when fewer than `RESERVE_MS`
(or half the invocation's time, if shorter) remain."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

calendar_channels_bp = Blueprint(__name__)
RESERVE_MS = 30_000


def event_time(event: CloudWatchEvent) -> datetime:
    """The moment the schedule fired (`2026-05-01T10:00:00Z`)."""
    return datetime.fromisoformat(event.time.replace("Z", "+00:00"))


@calendar_channels_bp.schedule(Rate(1, unit=Rate.HOURS), name="calendar_channels_job")
def calendar_channels_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.booking.calendar_watch import run_due
    from chalicelib.readiness import ensure_configured

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    summary = run_due(bootstrap.calendar_deps(), event_time(event), keep_going)
    if summary.taken:
        logger.info("calendar channels worked on", extra=summary.__dict__)
    return dict(summary.__dict__)
