"""Billing schedule: every hour, moves on the workspaces whose trial or grace period ended
(a trial to the free plan, a grace period to read-only), each with its mail to the owners
(chalicelib/billing/dunning.py `run_due`).  "Now" is the scheduled event's time, so a late,
repeated or overlapping tick does the same work once; `python -m devstack fire
billing-dunning --time …` runs it locally."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import logger

billing_dunning_bp = Blueprint(__name__)


@billing_dunning_bp.schedule(Rate(1, unit=Rate.HOURS), name="billing_dunning_job")
def billing_dunning_job(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.billing.dunning import run_due
    from chalicelib.readiness import ensure_configured
    from chalicelib.workers.custom_hostnames import event_time

    ensure_configured()  # a deployment missing a setting fails the tick (the next one retries)
    counts = run_due(bootstrap.billing_deps(), event_time(event))
    if any(counts.values()):
        logger.info("billing deadlines passed", extra=counts)
    return counts
