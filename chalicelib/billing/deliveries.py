"""Accepting a verified webhook delivery: claimed once by its event id, then queued for the
billing-events worker (sync.apply_event), so the webhook answers at once and a delivery
repeated by the processor is acknowledged without being applied again."""

from __future__ import annotations

from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.ports import WebhookEvent


def accept_delivery(deps: BillingDeps, event: WebhookEvent) -> bool:
    """True when `event` was seen for the first time and queued; False for a repeat.  A
    failed enqueue releases the claim and raises, so the processor's retry is accepted."""
    if not deps.store.first_delivery(event.processor, event.id):
        return False
    try:
        deps.events.enqueue(event)
    except BaseException:
        deps.store.forget_delivery(event.processor, event.id)
        raise
    return True
