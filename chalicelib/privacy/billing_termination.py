"""The objection remedy through billing: `SubscriptionEnd` on billing's
`terminate_for_objection` (chalicelib/billing/cancellation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.errors import Conflict
from chalicelib.privacy.objections import NoSubscription, Termination

if TYPE_CHECKING:
    from chalicelib.billing.deps import BillingDeps


class BillingTermination:
    def __init__(self, billing_deps: Callable[[], BillingDeps]) -> None:
        self._billing_deps = billing_deps

    def terminate_for_objection(self, workspace_id: str, reason: str) -> Termination:
        """Billing's refusals other than "no subscription" (processor not configured,
        refund unavailable, processor errors) pass through as they are."""
        from chalicelib.billing.cancellation import terminate_for_objection

        try:
            ended = terminate_for_objection(self._billing_deps(), workspace_id, reason)
        except Conflict as e:
            if e.code == "no_subscription":
                raise NoSubscription() from e
            raise
        if ended.refund is None:
            return Termination(refund=None, processor=None)
        return Termination(refund=ended.refund.amount, processor=ended.refund.processor)
