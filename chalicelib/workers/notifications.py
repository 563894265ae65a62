"""Notifications from the events queue, and the e-mail digest schedule.

The events queue has one consumer (SQS hands each message to one reader), the events worker
in search_indexer.py: it calls `notify` for every event, so a failure here fails that record
and the queue retries it (then dead-letters it).  Idempotent: a notification's id is its
event's id, written only if absent.

`notification_digest_job` runs every 5 minutes ("now" is its event's time): it mails each
agent whose digest is due one mail listing what waits for them (chalicelib/notifications/
digest.py)."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

notifications_bp = Blueprint(__name__)
RESERVE_MS = 20_000


def notify(body: str | dict[str, Any]) -> int:
    """Writes the notifications one queued event brings (0 for events that tell no one)."""
    from chalicelib.notifications.recording import event_of, record_event

    event = event_of(json.loads(body) if isinstance(body, str) else body)
    if event is None:
        return 0
    written = record_event(bootstrap.notification_deps(), event)
    if written:
        logger.info("notifications written", extra={"count": written, "event_type": event.type})
    return written


@notifications_bp.schedule(Rate(5, unit=Rate.MINUTES), name="notification_digest_job")
def notification_digest_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.notifications.digest import run_digests
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    run = run_digests(bootstrap.notification_deps(), event_time(event), keep_going)
    if run.due:
        logger.info("notification digests", extra=run.__dict__)
    return dict(run.__dict__)
