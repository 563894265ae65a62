"""Retention schedule: every hour, removes the solved and closed tickets each workspace's
policy no longer keeps (chalicelib/privacy/retention.py `apply_retention`), a bounded number
a run, the workspaces in turn.  "Now" is the scheduled event's time, so a late, repeated or
overlapping tick removes nothing twice (removal is idempotent); a ticket or a workspace that
fails is left for the next tick without holding up the others; `python -m devstack fire
privacy-retention --time …` runs it locally."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

privacy_retention_bp = Blueprint(__name__)
RESERVE_MS = 60_000


@privacy_retention_bp.schedule(Rate(1, unit=Rate.HOURS), name="privacy_retention_job")
def privacy_retention_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.privacy.retention import apply_retention
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    counts = apply_retention(bootstrap.retention_deps(), event_time(event), keep_going)
    if counts["failed"]:
        logger.warning("retention applied; some of it failed", extra=counts)
    elif counts["tickets"] or counts["unfinished"]:
        logger.info("retention applied", extra=counts)
    return counts
