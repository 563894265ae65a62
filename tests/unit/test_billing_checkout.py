"""Subscribing (Stripe Checkout, PayPal approval), the Stripe portal, and changing seats:
what is started, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.billing.checkout import paypal_returned, portal_url, start_checkout
from chalicelib.billing.model import BillingStatus, Processor
from chalicelib.billing.plans import Period
from chalicelib.billing.seats import change_seats
from chalicelib.errors import Conflict, HelptalError, PlanLimit, ValidationFailed
from tests.billing_fakes import WS, BillingWorld


def _checkout(world: BillingWorld, **changes: Any) -> Any:
    args: dict[str, Any] = {
        "owner_email": "olivia@acme.test",
        "plan_id": "pro",
        "period": "month",
        "seats": 3,
        "processor": "stripe",
        "locale": "fr",
        **changes,
    }
    return start_checkout(world.deps(), WS, **args)


def test_a_stripe_checkout_creates_the_customer_once_and_comes_back_to_the_billing_screen() -> None:
    world = BillingWorld()
    started = _checkout(world)
    again = _checkout(world)
    other = _checkout(world, seats=4)

    assert started.url == f"https://checkout.stripe.test/{started.session_id}"
    assert again == started  # the same request retried: the same session
    assert other.session_id != started.session_id
    assert [args[3] for args in world.stripe.called("create_customer")] == [f"customer:{WS}"]
    assert len(world.stripe.customers) == 1
    customer = world.account.stripe_customer_id
    assert customer is not None and world.store.workspace_of(Processor.STRIPE, customer) == WS
    session = world.stripe.sessions[started.session_id]
    assert session.success_url == (
        "https://app.helptal.test/app/#/settings/billing"
        "?checkout=done&session_id={CHECKOUT_SESSION_ID}"
    )
    assert session.cancel_url == "https://app.helptal.test/app/#/settings/billing?checkout=canceled"
    assert world.stripe.called("start_checkout")[0][-1] == "fr"
    assert world.account.status is BillingStatus.TRIALING  # nothing subscribed before Stripe says


def _subscribed_stripe() -> BillingWorld:
    world = BillingWorld()
    world.subscribe_stripe()
    return world


def _subscribed_paypal() -> BillingWorld:
    world = BillingWorld()
    world.subscribe_paypal()
    return world


def _in_grace() -> BillingWorld:
    world = _subscribed_stripe()
    world.store.accounts[WS].status = BillingStatus.GRACE
    return world


def _three_members() -> BillingWorld:
    world = BillingWorld()
    world.add_members(2)
    return world


REFUSALS: list[tuple[str, Any, dict[str, Any], type[HelptalError], str]] = [
    ("subscribed_with_stripe", _subscribed_stripe, {}, Conflict, "already_subscribed"),
    ("subscribed_with_paypal", _subscribed_paypal, {}, Conflict, "already_subscribed"),
    ("in_grace", _in_grace, {}, Conflict, "already_subscribed"),
    ("free_plan", BillingWorld, {"plan_id": "free"}, ValidationFailed, "validation_failed"),
    ("unknown_plan", BillingWorld, {"plan_id": "gold"}, ValidationFailed, "validation_failed"),
    ("unknown_period", BillingWorld, {"period": "week"}, ValidationFailed, "validation_failed"),
    ("tappay", BillingWorld, {"processor": "tappay"}, ValidationFailed, "validation_failed"),
    (
        "unknown_processor",
        BillingWorld,
        {"processor": "bitcoin"},
        ValidationFailed,
        "validation_failed",
    ),
    ("no_seat", BillingWorld, {"seats": 0}, ValidationFailed, "seats_below_members"),
    ("below_members", _three_members, {"seats": 2}, ValidationFailed, "seats_below_members"),
    (
        "over_plan",
        BillingWorld,
        {"plan_id": "starter", "seats": 11},
        ValidationFailed,
        "too_many_seats",
    ),
]


@pytest.mark.parametrize(
    ("case", "make", "changes", "error", "code"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_checkout_refusals(
    case: str, make: Any, changes: dict[str, Any], error: type[HelptalError], code: str
) -> None:
    world = make()
    calls = len(world.stripe.calls)
    with pytest.raises(error) as refused:
        _checkout(world, **changes)
    assert refused.value.code == code, case
    assert len(world.stripe.calls) == calls, case  # nothing asked of Stripe


def test_paypal_checkout_is_refused_where_paypal_is_not_offered() -> None:
    world = BillingWorld()
    with pytest.raises(Conflict) as refused:
        start_checkout(
            world.deps(paypal=False), WS, "o@acme.test", "pro", "month", 3, "paypal", "en"
        )
    assert refused.value.code == "processor_not_configured"


def test_a_workspace_whose_subscription_ended_may_subscribe_again() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe()
    world.stripe.subscriptions[subscription].status = "canceled"
    world.apply("customer.subscription.deleted", subscription)
    assert _checkout(world, plan_id="starter", period=Period.YEAR, seats=2).url


def test_a_paypal_subscription_is_approved_then_applied_when_the_owner_comes_back() -> None:
    world = BillingWorld()
    started = _checkout(world, processor="paypal", plan_id="starter", period="year", seats=2)
    assert started.url == f"https://paypal.test/approve/{started.session_id}"
    args = world.paypal.called("start_subscription")[0]
    assert args[0] == "P-starter-year"
    assert args[3] == f"https://api.helptal.test/v1/billing/paypal/return?workspace={WS}"
    assert world.store.workspace_of(Processor.PAYPAL, started.session_id) == WS

    world.paypal.approve(started.session_id)
    account = paypal_returned(world.deps(), WS, started.session_id)

    assert (account.status, account.processor, account.plan_id, account.period) == (
        BillingStatus.ACTIVE,
        Processor.PAYPAL,
        "starter",
        Period.YEAR,
    )
    assert account.paypal_subscription_id == started.session_id and account.seats_paid == 2


def test_a_paypal_return_naming_another_workspaces_subscription_changes_nothing() -> None:
    world = BillingWorld()
    started = _checkout(world, processor="paypal")
    world.paypal.approve(started.session_id)
    with pytest.raises(Conflict) as refused:
        paypal_returned(world.deps(), "another", started.session_id)
    assert refused.value.code == "subscription_mismatch"
    with pytest.raises(Conflict):
        paypal_returned(world.deps(), WS, "")
    assert world.account.status is BillingStatus.TRIALING


def test_the_portal_needs_a_stripe_customer() -> None:
    world = BillingWorld()
    with pytest.raises(Conflict) as refused:
        portal_url(world.deps(), WS, "en")
    assert refused.value.code == "no_subscription"
    world.subscribe_stripe()
    url = portal_url(world.deps(), WS, "en")
    assert url.startswith("https://billing.stripe.test/p/cus_")
    assert "settings/billing" in url


# -- seats -----------------------------------------------------------------------------------


def test_more_seats_are_prorated_by_stripe_and_then_paid_for() -> None:
    world = BillingWorld()
    world.subscribe_stripe("pro", seats=3)
    account = change_seats(world.deps(), WS, 8)
    assert account.seats_paid == 8
    subscription, seats, key = world.stripe.called("change_quantity")[0]
    assert (subscription, seats) == (world.subscription_id(), 8) and key.startswith("seats:")
    assert change_seats(world.deps(), WS, 8).seats_paid == 8
    assert len(world.stripe.called("change_quantity")) == 1  # nothing to change


def test_fewer_seats_than_members_are_refused_and_stripe_is_not_asked() -> None:
    world = BillingWorld()
    world.subscribe_stripe("pro", seats=5)
    world.add_members(3)
    with pytest.raises(Conflict) as refused:
        change_seats(world.deps(), WS, 3)
    assert refused.value.code == "seats_in_use"
    assert refused.value.details == {"seats": {"used": 4}}
    assert change_seats(world.deps(), WS, 4).seats_paid == 4
    assert world.stripe.called("change_quantity")[0][1] == 4


def test_a_member_joining_while_seats_are_lowered_wins_the_seat() -> None:
    world = BillingWorld()
    world.subscribe_stripe("pro", seats=5)
    world.add_members(2)
    lower = world.store.set_seats_paid

    def joined_meanwhile(workspace_id: str, seats: int) -> None:
        world.add_members(1)
        lower(workspace_id, seats)

    world.store.set_seats_paid = joined_meanwhile  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        change_seats(world.deps(), WS, 3)
    assert refused.value.code == "seats_in_use"
    assert world.account.seats_paid == 5 and world.account.seats_used == 4
    assert world.stripe.called("change_quantity") == []


def test_seats_beyond_the_plan_are_a_plan_limit_naming_the_plan_that_allows_them() -> None:
    world = BillingWorld()
    world.subscribe_stripe("starter", seats=3)
    with pytest.raises(PlanLimit) as refused:
        change_seats(world.deps(), WS, 11)
    assert refused.value.details["allowed_by"] == [{"plan": "pro", "seats": 11}]
    assert refused.value.details["reason"] == "seats"


@pytest.mark.parametrize("seats", [0, -1])
def test_no_seat_at_all_is_invalid(seats: int) -> None:
    world = BillingWorld()
    world.subscribe_stripe()
    with pytest.raises(ValidationFailed):
        change_seats(world.deps(), WS, seats)


def test_seats_cannot_change_without_a_subscription() -> None:
    world = BillingWorld()
    with pytest.raises(Conflict) as refused:
        change_seats(world.deps(), WS, 5)
    assert refused.value.code == "no_subscription"


def test_paypal_seats_are_revised_or_sent_back_to_paypal_for_approval() -> None:
    world = BillingWorld()
    world.subscribe_paypal("pro", seats=3)
    assert change_seats(world.deps(), WS, 6).seats_paid == 6
    world.paypal.approval_for_quantity = True
    with pytest.raises(Conflict) as refused:
        change_seats(world.deps(), WS, 9)
    assert refused.value.code == "approval_required"
    assert refused.value.details["url"].startswith("https://paypal.test/approve-revision/")
