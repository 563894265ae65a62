"""Ending a subscription: at the end of the period paid for (nothing refunded, the plan
kept until then), or now, with the unused whole days refunded through the processor that
took the payment.  Either way the workspace then has the free plan's limits; nothing is
deleted.  `resume` keeps a subscription whose end was planned.  `terminate_for_objection`
is the remedy of an objection to a sub-processor change: an end now, its refund recorded
for that reason."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.billing import mails
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import BillingAccount, BillingStatus, Processor, Refund
from chalicelib.billing.overview import account_of, change_account
from chalicelib.billing.plans import FREE, plan_named
from chalicelib.billing.refunds import refund_unused_part
from chalicelib.billing.standing import SUBSCRIBED, as_canceled
from chalicelib.billing.sync import apply_subscription
from chalicelib.errors import Conflict

REFUND_REASON = "cancellation"
OBJECTION_REFUND_REASON = "subprocessor_objection"
PAYPAL_REASON_MAX = 128


@dataclass(frozen=True)
class Cancellation:
    account: BillingAccount  # as it is after the cancellation
    refund: Refund | None  # cancel now: the unused part refunded (None: nothing to refund)


def _no_subscription() -> Conflict:
    return Conflict("This workspace has no paid subscription.", code="no_subscription")


def _subscription(account: BillingAccount) -> str | None:
    if account.processor is Processor.STRIPE:
        return account.stripe_subscription_id
    if account.processor is Processor.PAYPAL:
        return account.paypal_subscription_id
    return None


def _paypal_reason(reason: str) -> str:
    return " ".join(reason.split())[:PAYPAL_REASON_MAX] or "Canceled by the workspace owner"


def _end_now(deps: BillingDeps, account: BillingAccount, subscription: str) -> None:
    def end(current: BillingAccount) -> BillingAccount | None:
        if current.status is BillingStatus.CANCELED:
            return None
        return as_canceled(current, deps.clock.now())

    before, after = change_account(deps, account.workspace_id, end)
    if before.status is not BillingStatus.CANCELED:
        plan = plan_named(before.plan_id) or FREE
        mails.send(
            deps,
            account.workspace_id,
            mails.BillingNotice("subscription_canceled", subscription, plan_name=plan.name),
            after.billing_email,
        )


def cancel(deps: BillingDeps, workspace_id: str, *, now: bool, reason: str) -> Cancellation:
    """Cancels the workspace's subscription at the end of its period (`now` False) or now,
    refunding the unused part (`refund_unused_part`, reason "cancellation"); `reason` is the
    owner's words, given to PayPal.  A cancellation now that is asked again (after a
    failure) finishes its refund.  409 `no_subscription`.  Calls the processor; writes the
    account; mails the owners."""
    account = account_of(deps, workspace_id)
    if now:
        return _cancel_now(deps, account, reason, REFUND_REASON)
    subscription = _subscription(account)
    if subscription is None or account.processor is None or account.status not in SUBSCRIBED:
        raise _no_subscription()
    return Cancellation(_cancel_at_period_end(deps, account, subscription, reason), None)


def terminate_for_objection(deps: BillingDeps, workspace_id: str, reason: str) -> Cancellation:
    """Ends the workspace's subscription now, as `cancel(now=True)` does, and refunds the
    unused prepaid part with the reason "subprocessor_objection" (the refund `<invoice>:
    subprocessor_objection`, made once whatever the retries; what was refunded of that
    invoice already is not refunded again).  `reason` is given to PayPal.  409
    `no_subscription`.  Calls the processor; writes the account; mails the owners."""
    return _cancel_now(deps, account_of(deps, workspace_id), reason, OBJECTION_REFUND_REASON)


def _cancel_now(
    deps: BillingDeps, account: BillingAccount, reason: str, refund_reason: str
) -> Cancellation:
    """Ends the subscription at its processor now and refunds the unused part for
    `refund_reason`; asked again (after a failure), finishes its refund."""
    workspace_id = account.workspace_id
    subscription = _subscription(account)
    if subscription is None or account.processor is None:
        raise _no_subscription()
    if account.status is BillingStatus.CANCELED:
        return Cancellation(account, refund_unused_part(deps, workspace_id, refund_reason))
    if account.status not in SUBSCRIBED:
        raise _no_subscription()
    if account.processor is Processor.STRIPE:
        snapshot = deps.stripe.cancel_now(subscription, idempotency_key=f"cancel:{subscription}")
        apply_subscription(deps, snapshot, workspace_id)
        # Ended at Stripe even if a newer read was applied meanwhile: end it here too.
        _end_now(deps, account, subscription)
    else:
        paypal = deps.paypal
        if paypal is None:
            raise Conflict(
                "This deployment does not offer PayPal.", code="processor_not_configured"
            )
        paypal.cancel(subscription, _paypal_reason(reason))
        _end_now(deps, account, subscription)
    refund = refund_unused_part(deps, workspace_id, refund_reason)
    return Cancellation(account_of(deps, workspace_id), refund)


def _cancel_at_period_end(
    deps: BillingDeps, account: BillingAccount, subscription: str, reason: str
) -> BillingAccount:
    workspace_id = account.workspace_id
    if account.processor is Processor.STRIPE:
        snapshot = deps.stripe.cancel_at_period_end(
            subscription,
            True,
            idempotency_key=f"cancel-at-period-end:{subscription}:{account.version}",
        )
        apply_subscription(deps, snapshot, workspace_id)
        return account_of(deps, workspace_id)
    paypal = deps.paypal
    if paypal is None:
        raise Conflict("This deployment does not offer PayPal.", code="processor_not_configured")

    def planned(current: BillingAccount) -> BillingAccount | None:
        if current.cancel_at_period_end:
            return None
        current.cancel_at_period_end = True
        return current

    # Planned first: PayPal ends its subscription at once (no more payments), and its
    # webhook then keeps the plan until the period paid for is over.
    change_account(deps, workspace_id, planned)
    paypal.cancel(subscription, _paypal_reason(reason))
    apply_subscription(deps, paypal.subscription(subscription), workspace_id)
    return account_of(deps, workspace_id)


def resume(deps: BillingDeps, workspace_id: str) -> BillingAccount:
    """Keeps a subscription whose end was planned for the end of its period (Stripe).
    409 `no_subscription`; 409 `cannot_resume` for a PayPal subscription (PayPal ended it
    already: subscribe again once the period is over)."""
    account = account_of(deps, workspace_id)
    subscription = _subscription(account)
    if subscription is None or account.status not in SUBSCRIBED:
        raise _no_subscription()
    if not account.cancel_at_period_end:
        return account
    if account.processor is not Processor.STRIPE:
        raise Conflict(
            "PayPal cannot take back a cancellation: subscribe again when this period ends.",
            code="cannot_resume",
        )
    snapshot = deps.stripe.cancel_at_period_end(
        subscription, False, idempotency_key=f"resume:{subscription}:{account.version}"
    )
    apply_subscription(deps, snapshot, workspace_id)
    return account_of(deps, workspace_id)
