"""What a workspace may do now: every feature on every plan and status, seats, read-only,
an expired trial and a grace period that is over, and what each refusal says would allow
it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.billing.model import BillingAccount, BillingStatus, Processor
from chalicelib.billing.plans import FREE, PRO, STARTER, TRIAL_SEATS, Feature, Period
from chalicelib.billing.standing import moved_on, require, standing
from chalicelib.billing.trial import new_trial
from chalicelib.errors import PlanLimit

WS = "ws1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
DAY = timedelta(days=1)


def _paid(plan_id: str, status: BillingStatus, seats: int = 5, **changes: object) -> BillingAccount:
    account = replace(
        new_trial(WS, NOW - 30 * DAY, seats_used=2),
        plan_id=plan_id,
        status=status,
        seats_paid=seats,
        trial_ends_at=None,
        period=Period.MONTH,
        processor=Processor.STRIPE,
        stripe_subscription_id="sub_1",
    )
    return replace(account, **changes)  # type: ignore[arg-type]


# situation -> (account at LATER, effective status, plan whose features apply, writable)
SITUATIONS: dict[str, tuple[BillingAccount, BillingStatus, str, bool]] = {
    "trialing": (new_trial(WS, NOW), BillingStatus.TRIALING, "pro", True),
    "trial_expired": (
        new_trial(WS, NOW - 15 * DAY),
        BillingStatus.ACTIVE,
        "free",
        True,
    ),
    "free": (
        replace(
            new_trial(WS, NOW), plan_id="free", status=BillingStatus.ACTIVE, trial_ends_at=None
        ),
        BillingStatus.ACTIVE,
        "free",
        True,
    ),
    "starter_active": (
        _paid("starter", BillingStatus.ACTIVE),
        BillingStatus.ACTIVE,
        "starter",
        True,
    ),
    "starter_past_due": (
        _paid("starter", BillingStatus.PAST_DUE),
        BillingStatus.PAST_DUE,
        "starter",
        True,
    ),
    "starter_grace": (
        _paid("starter", BillingStatus.GRACE, grace_ends_at=LATER + DAY),
        BillingStatus.GRACE,
        "starter",
        True,
    ),
    "starter_grace_over": (
        _paid("starter", BillingStatus.GRACE, grace_ends_at=LATER - DAY),
        BillingStatus.READ_ONLY,
        "starter",
        False,
    ),
    "starter_read_only": (
        _paid("starter", BillingStatus.READ_ONLY),
        BillingStatus.READ_ONLY,
        "starter",
        False,
    ),
    "pro_active": (_paid("pro", BillingStatus.ACTIVE), BillingStatus.ACTIVE, "pro", True),
    "pro_past_due": (_paid("pro", BillingStatus.PAST_DUE), BillingStatus.PAST_DUE, "pro", True),
    "pro_grace": (
        _paid("pro", BillingStatus.GRACE, grace_ends_at=LATER + DAY),
        BillingStatus.GRACE,
        "pro",
        True,
    ),
    "pro_read_only": (_paid("pro", BillingStatus.READ_ONLY), BillingStatus.READ_ONLY, "pro", False),
    "canceled": (_paid("pro", BillingStatus.CANCELED), BillingStatus.CANCELED, "free", True),
    "paypal_canceled_period_over": (
        _paid(
            "pro",
            BillingStatus.ACTIVE,
            processor=Processor.PAYPAL,
            paypal_subscription_id="I-1",
            cancel_at_period_end=True,
            current_period_end=LATER - DAY,
        ),
        BillingStatus.CANCELED,
        "free",
        True,
    ),
}
PLAN_FEATURES = {"free": FREE.features, "starter": STARTER.features, "pro": PRO.features}
CASES = [
    (name, feature, write) for name in SITUATIONS for feature in Feature for write in (True, False)
]


@pytest.mark.parametrize(("situation", "feature", "write"), CASES)
def test_each_feature_is_allowed_exactly_when_the_effective_plan_has_it_and_writes_when_writable(
    situation: str, feature: Feature, write: bool
) -> None:
    account, status, plan_id, writable = SITUATIONS[situation]
    now_standing = standing(account, LATER)
    assert (now_standing.status, now_standing.plan_id, now_standing.writable) == (
        status,
        plan_id,
        writable,
    ), situation

    if write and not writable:
        expected: str | None = "read_only"
    elif feature not in PLAN_FEATURES[plan_id]:
        expected = "feature"
    else:
        expected = None
    try:
        require(account, LATER, feature=feature, write=write)
        refused = None
    except PlanLimit as e:
        refused = e.details["reason"]
        assert e.details["plan"] == plan_id and e.details["status"] == status.value
    assert refused == expected, (situation, feature, write)


def test_a_feature_refusal_names_the_plans_that_include_it_cheapest_first() -> None:
    free = SITUATIONS["free"][0]
    with pytest.raises(PlanLimit) as live_chat:
        require(free, LATER, feature=Feature.LIVE_CHAT)
    assert live_chat.value.status == 402 and live_chat.value.code == "plan_limit"
    assert live_chat.value.details == {
        "reason": "feature",
        "feature": "live_chat",
        "plan": "free",
        "status": "active",
        "allowed_by": [{"plan": "starter"}, {"plan": "pro"}],
    }
    assert "Free plan does not include live chat" in live_chat.value.message
    with pytest.raises(PlanLimit) as sso:
        require(SITUATIONS["starter_active"][0], LATER, feature=Feature.SSO)
    assert sso.value.details["allowed_by"] == [{"plan": "pro"}]


def test_a_read_only_workspace_may_read_but_any_change_asks_to_pay_the_invoice() -> None:
    account = SITUATIONS["pro_read_only"][0]
    require(account, LATER, write=False)
    with pytest.raises(PlanLimit) as refused:
        require(account, LATER)
    assert refused.value.details == {
        "reason": "read_only",
        "plan": "pro",
        "status": "read_only",
        "allowed_by": [{"action": "pay_invoice"}],
    }


@pytest.mark.parametrize(
    ("situation", "used", "limit", "allowed_by"),
    [
        ("trialing", TRIAL_SEATS, TRIAL_SEATS, [{"plan": "pro", "seats": TRIAL_SEATS + 1}]),
        ("trial_expired", 2, 2, [{"plan": "starter", "seats": 3}, {"plan": "pro", "seats": 3}]),
        ("canceled", 4, 2, [{"plan": "starter", "seats": 5}, {"plan": "pro", "seats": 5}]),
        ("starter_active", 5, 5, [{"seats": 6}]),
        ("pro_past_due", 5, 5, [{"seats": 6}]),
    ],
)
def test_a_member_beyond_the_seats_is_refused_with_the_seats_or_plan_that_would_allow_it(
    situation: str, used: int, limit: int, allowed_by: list[dict[str, object]]
) -> None:
    account = replace(SITUATIONS[situation][0], seats_used=used)
    with pytest.raises(PlanLimit) as refused:
        require(account, LATER, seats=1)
    assert refused.value.details["reason"] == "seats"
    assert refused.value.details["seats"] == {"used": used, "limit": limit}
    assert refused.value.details["allowed_by"] == allowed_by


def test_the_starter_plan_at_its_maximum_points_to_pro_for_more_seats() -> None:
    account = _paid("starter", BillingStatus.ACTIVE, seats=10, seats_used=10)
    with pytest.raises(PlanLimit) as refused:
        require(account, LATER, seats=1)
    assert refused.value.details["allowed_by"] == [{"plan": "pro", "seats": 11}]


def test_free_seats_are_given_until_the_last_one() -> None:
    account = _paid("starter", BillingStatus.ACTIVE, seats=5, seats_used=3)
    require(account, LATER, seats=2)
    with pytest.raises(PlanLimit):
        require(account, LATER, seats=3)


def test_an_expired_trial_moves_to_the_free_plan_and_an_ended_grace_to_read_only() -> None:
    trial = new_trial(WS, NOW, seats_used=4)
    assert moved_on(trial, NOW + 13 * DAY) is None
    moved = moved_on(trial, NOW + 14 * DAY)
    assert moved is not None
    after, kind = moved
    assert kind == "trial_ended"
    assert (after.plan_id, after.status, after.seats_paid, after.seats_used) == (
        "free",
        BillingStatus.ACTIVE,
        FREE.max_seats,
        4,
    )
    assert after.trial_ends_at is None

    grace = _paid("pro", BillingStatus.GRACE, grace_ends_at=NOW)
    assert moved_on(grace, NOW - timedelta(seconds=1)) is None
    moved = moved_on(grace, NOW)
    assert moved is not None and moved[0].status is BillingStatus.READ_ONLY
    assert moved[1] == "read_only"
