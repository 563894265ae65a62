"""Custom-hostnames job: every minute, works on the help-centre domains whose custom hostname
at Cloudflare has something due: to create (again, after a failure), to check while it is
pending, or to delete after the domain left its help centre.

"Now" is the scheduled event's time, so a late or repeated tick does the same work.  One
Query finds the due hostnames (no Scan); each is held by a conditional write before it is
worked on, so overlapping runs never do the same one twice.  It stops taking new ones when
fewer than `RESERVE_MS` (or half the invocation's time, if shorter) remain: one hostname
takes at most three Cloudflare calls of up to 10 s each."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

custom_hostnames_bp = Blueprint(__name__)
RESERVE_MS = 30_000


def event_time(event: CloudWatchEvent) -> datetime:
    """The moment the schedule fired (`2026-05-01T10:00:00Z`)."""
    return datetime.fromisoformat(event.time.replace("Z", "+00:00"))


@custom_hostnames_bp.schedule(Rate(1, unit=Rate.MINUTES), name="custom_hostnames_job")
def custom_hostnames_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.kb.custom_hostnames import run_due
    from chalicelib.readiness import ensure_configured

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    summary = run_due(bootstrap.custom_hostname_deps(), event_time(event), keep_going)
    if summary.taken:
        logger.info("custom hostnames worked on", extra=summary.__dict__)
    return dict(summary.__dict__)
