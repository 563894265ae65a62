"""Sub-processor notices schedule: every hour, mails each planned change's notice, during its
notice period, to every owner and admin of every workspace and to every confirmed subscriber,
once per change and address (chalicelib/privacy/notices.py `send_due_notices`).  "Now" is the
scheduled event's time, so a late, repeated or overlapping tick does the same work once; a
run that stops early is taken up by the next; `python -m devstack fire subprocessor-notices
--time …` runs it locally."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

subprocessor_notices_bp = Blueprint(__name__)
RESERVE_MS = 20_000


@subprocessor_notices_bp.schedule(Rate(1, unit=Rate.HOURS), name="subprocessor_notices_job")
def subprocessor_notices_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.privacy.notices import send_due_notices
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    reserve = min(RESERVE_MS, remaining() // 2) if remaining else 0

    def keep_going() -> bool:
        return remaining is None or remaining() > reserve

    counts = send_due_notices(bootstrap.notice_deps(), event_time(event), keep_going)
    if counts["changes"]:
        logger.info("sub-processor change notices", extra=counts)
    return counts
