"""The objection remedy through billing: `SubscriptionEnd` on billing's
`terminate_for_objection` (chalicelib/billing/cancellation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.privacy.objections import NoSubscription, Termination

if TYPE_CHECKING:
    from chalicelib.billing.deps import BillingDeps


class BillingTermination:
    def __init__(self, billing_deps: Callable[[], BillingDeps]) -> None:
        self._billing_deps = billing_deps

    def terminate_for_objection(self, workspace_id: str, reason: str) -> Termination:
        """NoSubscription without a paid subscription, or when it ended before (see
        `_ended_before`).  A processor that refuses is 409 `processor_refused`, one that
        does not answer 503 `processor_unavailable`, as billing's own routes answer;
        billing's other refusals (processor not configured, …) pass through as they are."""
        from chalicelib.billing.cancellation import terminate_for_objection
        from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable

        deps = self._billing_deps()
        if _ended_before(deps, workspace_id):
            raise NoSubscription()
        try:
            ended = terminate_for_objection(deps, workspace_id, reason)
        except Conflict as e:
            if e.code == "no_subscription":
                raise NoSubscription() from e
            raise
        except ProcessorRefused as e:
            raise Conflict(
                "The payment processor refused to end the subscription; reload and try again.",
                code="processor_refused",
            ) from e
        except ProcessorUnavailable as e:
            raise ServiceUnavailable(
                "The payment processor is not answering; try again in a moment.",
                code="processor_unavailable",
            ) from e
        if ended.refund is None:
            return Termination(refund=None, processor=None)
        return Termination(refund=ended.refund.amount, processor=ended.refund.processor)


def _ended_before(deps: BillingDeps, workspace_id: str) -> bool:
    """Whether the paid subscription had ended before any termination for an objection: it
    is canceled and none of its recent invoices was refunded for an objection.  (A
    confirmation cut short after billing ended the subscription and refunded finishes;
    one cut short when nothing was left to refund answers no_subscription.)  Reads the
    account, and the invoices and their refunds of a canceled one."""
    from chalicelib.billing.cancellation import OBJECTION_REFUND_REASON
    from chalicelib.billing.model import BillingStatus
    from chalicelib.billing.overview import account_of
    from chalicelib.billing.refunds import INVOICES_LOOKED_AT

    if account_of(deps, workspace_id).status is not BillingStatus.CANCELED:
        return False
    invoices = deps.store.list_invoices(workspace_id, None, INVOICES_LOOKED_AT).entries
    return not any(
        refund.reason == OBJECTION_REFUND_REASON
        for invoice in invoices
        for refund in deps.store.refunds(workspace_id, invoice.id)
    )
