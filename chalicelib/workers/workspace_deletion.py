"""Workspace deletion schedule: every hour, removes the workspaces whose deletion is due,
family by family, saving its progress after every step (chalicelib/privacy/
workspace_deletion.py `run_due`).  "Now" is the scheduled event's time: a tick fired before a
deletion is due does nothing, and a late, repeated or overlapping tick takes up each
deletion where it stands (one run at a time holds it).  A run stops before its time is up;
the next carries on.  `python -m devstack fire workspace-deletion --time …` runs it locally."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

workspace_deletion_bp = Blueprint(__name__)
RESERVE_MS = 60_000


@workspace_deletion_bp.schedule(Rate(1, unit=Rate.HOURS), name="workspace_deletion_job")
def workspace_deletion_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.privacy.workspace_deletion import run_due
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    counts = run_due(bootstrap.workspace_deletion_deps(), event_time(event), keep_going)
    if counts["workspaces"]:
        logger.info("workspace deletions worked on", extra=counts)
    return counts
