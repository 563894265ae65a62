"""What a workspace may do now: its plan's features and seats, as its status and the time
allow.  Pure functions of the account and the time (no store, no clock of their own).

An expired trial counts as the free plan (active); a grace period that is over counts as
read-only; a canceled subscription (or a PayPal one canceled for the end of a period that
is over) counts as the free plan.  `moved_on` writes those moves into the account itself,
for whoever saves it (chalicelib/billing/overview.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.billing.model import BillingAccount, BillingStatus, Processor, Standing
from chalicelib.billing.plans import FREE, PLANS, Feature, Plan, plan_named, plans_with
from chalicelib.errors import PlanLimit

FEATURE_NAMES: dict[Feature, str] = {
    Feature.AI_TEAMMATE: "the AI teammate",
    Feature.LIVE_CHAT: "live chat",
    Feature.BOOKING: "booking",
    Feature.CUSTOM_DOMAIN: "a custom help-centre domain",
    Feature.SSO: "single sign-on",
    Feature.API_KEYS: "API keys",
    Feature.INTEGRATIONS: "integrations",
}

# Statuses of a live paid subscription (canceled is not; trialing has none yet).
SUBSCRIBED = frozenset(
    {BillingStatus.ACTIVE, BillingStatus.PAST_DUE, BillingStatus.GRACE, BillingStatus.READ_ONLY}
)


def _free_limit() -> int:
    return FREE.max_seats or 0


def _paypal_period_over(account: BillingAccount, now: datetime) -> bool:
    """A PayPal subscription canceled for the end of its period (PayPal itself stops at
    once; the owner keeps what they paid for until then)."""
    return (
        account.processor is Processor.PAYPAL
        and account.cancel_at_period_end
        and account.status is not BillingStatus.CANCELED
        and account.current_period_end is not None
        and now >= account.current_period_end
    )


def standing(account: BillingAccount, now: datetime) -> Standing:
    """The effective status, plan, features, seat limit and writability at `now`."""
    status = account.status
    plan = plan_named(account.plan_id) or FREE
    trial_over = (
        status is BillingStatus.TRIALING
        and account.trial_ends_at is not None
        and now >= account.trial_ends_at
    )
    if trial_over:
        status, plan = BillingStatus.ACTIVE, FREE
    elif status is BillingStatus.CANCELED or _paypal_period_over(account, now):
        status, plan = BillingStatus.CANCELED, FREE
    elif (
        status is BillingStatus.GRACE
        and account.grace_ends_at is not None
        and now >= account.grace_ends_at
    ):
        status = BillingStatus.READ_ONLY
    if not plan.paid:
        seat_limit = _free_limit()
    elif plan.max_seats is not None and status is not BillingStatus.TRIALING:
        seat_limit = min(account.seats_paid, plan.max_seats)
    else:
        seat_limit = account.seats_paid  # the trial's seats, or as many as are paid for
    return Standing(
        status=status,
        plan_id=plan.id,
        features=plan.features,
        seat_limit=seat_limit,
        writable=status is not BillingStatus.READ_ONLY,
    )


def _plan_names(plans: list[Plan]) -> str:
    names = [p.name for p in plans]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _seat_remedies(now_standing: Standing, needed: int) -> list[dict[str, Any]]:
    """More seats on the plan paid for, else a plan that allows `needed` seats."""
    current = PLANS.get(now_standing.plan_id, FREE)
    subscribed = current.paid and now_standing.status in SUBSCRIBED
    if subscribed and (current.max_seats is None or needed <= current.max_seats):
        return [{"seats": needed}]
    rank = current.rank if subscribed else -1
    return [
        {"plan": p.id, "seats": needed}
        for p in sorted(PLANS.values(), key=lambda p: p.rank)
        if p.paid and p.rank > rank and (p.max_seats is None or needed <= p.max_seats)
    ]


def require(
    account: BillingAccount,
    now: datetime,
    *,
    feature: Feature | None = None,
    seats: int = 0,
    write: bool = True,
) -> None:
    """Raises PlanLimit (402) when the workspace may not do this now: a change (`write`)
    while read-only, a `feature` its plan lacks (whether reading or writing: gate only the
    changes of a feature whose data must stay readable after a downgrade), or `seats` more
    members than its free seats.  `details` names the reason and what would allow it."""
    now_standing = standing(account, now)
    base: dict[str, Any] = {"plan": now_standing.plan_id, "status": now_standing.status.value}
    if write and not now_standing.writable:
        raise PlanLimit(
            "This workspace is read-only until its open invoice is paid; "
            "everything can still be read and exported.",
            details={"reason": "read_only", **base, "allowed_by": [{"action": "pay_invoice"}]},
        )
    if feature is not None and feature not in now_standing.features:
        allowing = [p for p in plans_with(feature) if p.paid]
        plan = PLANS.get(now_standing.plan_id, FREE)
        raise PlanLimit(
            f"The {plan.name} plan does not include {FEATURE_NAMES[feature]}; "
            f"{_plan_names(allowing)} does.",
            details={
                "reason": "feature",
                "feature": feature.value,
                **base,
                "allowed_by": [{"plan": p.id} for p in allowing],
            },
        )
    needed = account.seats_used + seats
    if seats > 0 and needed > now_standing.seat_limit:
        raise PlanLimit(
            f"This workspace uses {account.seats_used} of its {now_standing.seat_limit} "
            f"seats; {needed} seats would allow this.",
            details={
                "reason": "seats",
                **base,
                "seats": {"used": account.seats_used, "limit": now_standing.seat_limit},
                "allowed_by": _seat_remedies(now_standing, needed),
            },
        )


# -- moves in time ---------------------------------------------------------------------------


def as_canceled(account: BillingAccount, now: datetime) -> BillingAccount:
    """The account once its paid subscription ended: the free plan's limits, members kept
    (`seats_used` untouched), the last period kept for the record."""
    return replace(
        account,
        plan_id=FREE.id,
        status=BillingStatus.CANCELED,
        period=None,
        seats_paid=_free_limit(),
        trial_ends_at=None,
        cancel_at_period_end=False,
        past_due_since=None,
        grace_ends_at=None,
        updated_at=now,
    )


def moved_on(account: BillingAccount, now: datetime) -> tuple[BillingAccount, str] | None:
    """The account after the deadline that passed, and which move it was ("trial_ended",
    "read_only", "subscription_canceled"); None when no deadline passed."""
    if (
        account.status is BillingStatus.TRIALING
        and account.trial_ends_at is not None
        and now >= account.trial_ends_at
    ):
        ended = replace(
            account,
            plan_id=FREE.id,
            status=BillingStatus.ACTIVE,
            period=None,
            seats_paid=_free_limit(),
            trial_ends_at=None,
            updated_at=now,
        )
        return ended, "trial_ended"
    if (
        account.status is BillingStatus.GRACE
        and account.grace_ends_at is not None
        and now >= account.grace_ends_at
    ):
        return replace(account, status=BillingStatus.READ_ONLY, updated_at=now), "read_only"
    if _paypal_period_over(account, now):
        return as_canceled(account, now), "subscription_canceled"
    return None
