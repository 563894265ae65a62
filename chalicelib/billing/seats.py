"""Changing the number of paid seats of a live subscription, prorated by its processor.

Fewer seats are first written to the store under "no more members than that" (the same
condition the membership transactions use), then asked of the processor: an invitation
accepted meanwhile either got its seat before (and the change is refused) or is refused
after.  More seats are asked of the processor first and stored from what it answers."""

from __future__ import annotations

from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import BillingAccount, Processor
from chalicelib.billing.overview import account_of
from chalicelib.billing.plans import FREE, PLANS, plan_named
from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable, SeatsInUse
from chalicelib.billing.standing import SUBSCRIBED
from chalicelib.billing.sync import apply_subscription
from chalicelib.errors import Conflict, PlanLimit, ValidationFailed


def _seats_in_use(used: int) -> Conflict:
    return Conflict(
        f"The workspace has {used} members: remove members before paying for fewer seats.",
        code="seats_in_use",
        details={"seats": {"used": used}},
    )


def change_seats(deps: BillingDeps, workspace_id: str, seats: int) -> BillingAccount:
    """The account with `seats` paid seats.  409 `no_subscription` without a live paid
    subscription, 409 `seats_in_use` for fewer seats than members, 402 `plan_limit` beyond
    the plan's seats, 409 `approval_required` (details.url) when PayPal needs the owner to
    approve the new quantity.  Calls the processor; writes the account."""
    account = account_of(deps, workspace_id)
    subscription = (
        account.stripe_subscription_id
        if account.processor is Processor.STRIPE
        else account.paypal_subscription_id
    )
    if account.status not in SUBSCRIBED or subscription is None:
        raise Conflict("This workspace has no paid subscription.", code="no_subscription")
    if seats < 1:
        raise ValidationFailed(
            "Invalid seats: at least 1.", details=[{"field": "seats", "message": "at least 1"}]
        )
    plan = plan_named(account.plan_id) or FREE
    if plan.max_seats is not None and seats > plan.max_seats:
        bigger = [
            {"plan": p.id, "seats": seats}
            for p in sorted(PLANS.values(), key=lambda p: p.rank)
            if p.paid and p.rank > plan.rank and (p.max_seats is None or seats <= p.max_seats)
        ]
        raise PlanLimit(
            f"The {plan.name} plan has at most {plan.max_seats} seats.",
            details={
                "reason": "seats",
                "plan": plan.id,
                "status": account.status.value,
                "seats": {"used": account.seats_used, "limit": plan.max_seats},
                "allowed_by": bigger,
            },
        )
    if seats < account.seats_used:
        raise _seats_in_use(account.seats_used)
    if seats == account.seats_paid:
        return account
    lowered = seats < account.seats_paid
    if lowered:
        try:
            deps.store.set_seats_paid(workspace_id, seats)
        except SeatsInUse:
            raise _seats_in_use(account_of(deps, workspace_id).seats_used) from None
    try:
        return _ask_processor(deps, account, subscription, seats)
    except (ProcessorRefused, ProcessorUnavailable):
        if lowered:  # not paid for fewer after all (a late success comes by webhook)
            deps.store.set_seats_paid(workspace_id, account.seats_paid)
        raise


def _ask_processor(
    deps: BillingDeps, account: BillingAccount, subscription: str, seats: int
) -> BillingAccount:
    workspace_id = account.workspace_id
    attempt = f"seats:{subscription}:{account.version}:{seats}"
    if account.processor is Processor.STRIPE:
        snapshot = deps.stripe.change_quantity(subscription, seats, idempotency_key=attempt)
        apply_subscription(deps, snapshot, workspace_id)
        return account_of(deps, workspace_id)
    paypal = deps.paypal
    if paypal is None:
        raise Conflict("This deployment does not offer PayPal.", code="processor_not_configured")
    approval = paypal.change_quantity(subscription, seats, request_id=attempt)
    if approval:
        raise Conflict(
            "PayPal asks the owner to approve the new number of seats.",
            code="approval_required",
            details={"url": approval},
        )
    apply_subscription(deps, paypal.subscription(subscription), workspace_id)
    return account_of(deps, workspace_id)
