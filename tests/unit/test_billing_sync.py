"""Webhook events applied by reading their object back from the processor: every order of a
subscription's events, with repeats, ends in the same account; a snapshot read earlier than
the one applied is not applied; PayPal's subscription states; unknown events are ignored."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.billing.checkout import start_checkout
from chalicelib.billing.model import BillingStatus, InvoiceStatus, Money, Processor
from chalicelib.billing.plans import FREE, GRACE_DAYS, Period
from chalicelib.billing.sync import apply_event
from tests.billing_fakes import WS, BillingWorld

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None)
IGNORED_FIELDS = {"version", "updated_at", "synced_at"}


@dataclass
class Scenario:
    world: BillingWorld
    events: list[tuple[str, str]]  # (type, object id), in the order Stripe sent them


def _checkout(world: BillingWorld, seats: int = 3) -> tuple[str, str, str]:
    """A Stripe checkout completed at Stripe, nothing applied yet: (session, subscription,
    first invoice)."""
    started = start_checkout(
        world.deps(), WS, "olivia@acme.test", "pro", "month", seats, "stripe", "en"
    )
    subscription = world.stripe.complete_checkout(started.session_id)
    first = next(i for i, f in world.stripe.invoices.items() if f.subscription_id == subscription)
    return started.session_id, subscription, first


def renewal_paid_after_a_retry() -> Scenario:
    """Subscribed, seats raised to 5, the renewal failed once then was paid."""
    world = BillingWorld()
    session, subscription, first = _checkout(world)
    world.stripe.subscriptions[subscription].quantity = 5
    world.stripe.renew(subscription)
    renewal = world.stripe.add_invoice(subscription, 5 * 4_900, attempt_count=0)
    world.stripe.payment_fails(renewal, retry_at=world.clock.now() + timedelta(days=3))
    world.stripe.payment_succeeds(renewal)
    return Scenario(
        world,
        [
            ("checkout.session.completed", session),
            ("customer.subscription.created", subscription),
            ("invoice.paid", first),
            ("customer.subscription.updated", subscription),
            ("invoice.payment_failed", renewal),
            ("customer.subscription.updated", subscription),
            ("invoice.paid", renewal),
            ("customer.subscription.updated", subscription),
        ],
    )


def canceled_after_a_failed_renewal() -> Scenario:
    world = BillingWorld()
    session, subscription, first = _checkout(world)
    world.stripe.renew(subscription)
    renewal = world.stripe.add_invoice(subscription, 3 * 4_900, attempt_count=0)
    world.stripe.payment_fails(renewal, retry_at=world.clock.now() + timedelta(days=3))
    world.stripe.subscriptions[subscription].status = "canceled"
    return Scenario(
        world,
        [
            ("checkout.session.completed", session),
            ("customer.subscription.created", subscription),
            ("invoice.paid", first),
            ("invoice.payment_failed", renewal),
            ("customer.subscription.updated", subscription),
            ("customer.subscription.deleted", subscription),
        ],
    )


def last_retry_failed_and_backup_card_declined() -> Scenario:
    world = BillingWorld()
    session, subscription, first = _checkout(world)
    world.add_backup_card()
    world.tappay.then("decline")
    world.stripe.renew(subscription)
    renewal = world.stripe.add_invoice(subscription, 3 * 4_900, attempt_count=0)
    for _ in range(3):
        world.stripe.payment_fails(renewal, retry_at=world.clock.now() + timedelta(days=2))
    world.stripe.payment_fails(renewal, retry_at=None)
    return Scenario(
        world,
        [
            ("checkout.session.completed", session),
            ("customer.subscription.created", subscription),
            ("invoice.paid", first),
            ("invoice.payment_failed", renewal),
            ("customer.subscription.updated", subscription),
            ("invoice.payment_failed", renewal),
            ("invoice.updated", renewal),
            ("customer.subscription.updated", subscription),
        ],
    )


SCENARIOS = {
    "renewal_paid_after_a_retry": renewal_paid_after_a_retry,
    "canceled_after_a_failed_renewal": canceled_after_a_failed_renewal,
    "last_retry_failed_and_backup_card_declined": last_retry_failed_and_backup_card_declined,
}


def outcome(world: BillingWorld) -> dict[str, Any]:
    """What an owner can see: the account (but its bookkeeping), the invoices, the charges."""
    account = world.account
    return {
        "account": {
            f.name: getattr(account, f.name)
            for f in fields(account)
            if f.name not in IGNORED_FIELDS
        },
        "invoices": sorted(
            (i.id, i.status, i.amount_paid, i.paid_by) for i in world.store.invoices.values()
        ),
        "charges": len(world.tappay.trades),
    }


def run(scenario: Scenario, order: list[int]) -> dict[str, Any]:
    world = scenario.world
    for index in order:
        type_, object_id = scenario.events[index]
        apply_event(world.deps(), world.event(type_, object_id))
    return outcome(world)


EXPECTED = {name: run(make(), list(range(len(make().events)))) for name, make in SCENARIOS.items()}


@st.composite
def deliveries(draw: st.DrawFn, name: str) -> list[int]:
    """Every event of the scenario in any order, some delivered again anywhere."""
    count = len(SCENARIOS[name]().events)
    order = list(draw(st.permutations(range(count))))
    for again in draw(st.lists(st.integers(0, count - 1), max_size=4)):
        order.insert(draw(st.integers(0, len(order))), again)
    return order


def test_the_scenarios_end_where_stripe_says() -> None:
    renewal = EXPECTED["renewal_paid_after_a_retry"]["account"]
    assert (renewal["status"], renewal["plan_id"], renewal["seats_paid"]) == (
        BillingStatus.ACTIVE,
        "pro",
        5,
    )
    assert renewal["past_due_since"] is None and renewal["trial_ends_at"] is None
    canceled = EXPECTED["canceled_after_a_failed_renewal"]["account"]
    assert (canceled["status"], canceled["plan_id"], canceled["seats_paid"]) == (
        BillingStatus.CANCELED,
        "free",
        FREE.max_seats,
    )
    grace = EXPECTED["last_retry_failed_and_backup_card_declined"]
    assert grace["account"]["status"] is BillingStatus.GRACE
    assert grace["charges"] == 1


@PROPERTY_SETTINGS
@given(deliveries("renewal_paid_after_a_retry"))
def test_any_order_of_a_renewal_paid_after_a_retry_ends_active_with_five_seats(
    order: list[int],
) -> None:
    assert run(renewal_paid_after_a_retry(), order) == EXPECTED["renewal_paid_after_a_retry"]


@PROPERTY_SETTINGS
@given(deliveries("canceled_after_a_failed_renewal"))
def test_any_order_of_a_subscription_ending_ends_canceled(order: list[int]) -> None:
    expected = EXPECTED["canceled_after_a_failed_renewal"]
    assert run(canceled_after_a_failed_renewal(), order) == expected


@PROPERTY_SETTINGS
@given(deliveries("last_retry_failed_and_backup_card_declined"))
def test_any_order_of_a_final_failure_ends_in_grace_after_one_backup_charge(
    order: list[int],
) -> None:
    expected = EXPECTED["last_retry_failed_and_backup_card_declined"]
    assert run(last_retry_failed_and_backup_card_declined(), order) == expected


def test_events_applied_again_change_nothing_more_and_mail_no_one_twice() -> None:
    for make in SCENARIOS.values():
        scenario = make()
        everything = list(range(len(scenario.events)))
        first = run(scenario, everything)
        mails = dict(scenario.world.mail.by_id)
        assert run(scenario, everything + everything) == first
        assert scenario.world.mail.by_id == mails


def test_a_subscription_read_before_the_one_applied_is_not_applied() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.MONTH, 3)
    old = world.stripe.snapshot(world.stripe.subscriptions[subscription])  # 3 seats, read now
    world.stripe.subscriptions[subscription].quantity = 7
    assert world.apply("customer.subscription.updated", subscription) == "applied"
    assert world.account.seats_paid == 7

    world.stripe.stale.append(old)  # a slow worker read it before
    assert world.apply("customer.subscription.updated", subscription) == "stale"
    assert world.account.seats_paid == 7


def test_a_checkout_completed_makes_the_workspace_subscribed() -> None:
    world = BillingWorld()
    world.clock.advance(days=3)
    session, subscription, _ = _checkout(world, seats=4)
    assert world.apply("checkout.session.completed", session) == "applied"
    account = world.account
    assert (account.status, account.plan_id, account.period, account.seats_paid) == (
        BillingStatus.ACTIVE,
        "pro",
        Period.MONTH,
        4,
    )
    assert account.trial_ends_at is None and account.stripe_subscription_id == subscription
    assert account.card is not None and account.card.last4 == "4242"
    assert world.store.workspace_of(Processor.STRIPE, account.stripe_customer_id or "") == WS


def test_a_canceled_subscription_of_the_past_does_not_end_the_live_one() -> None:
    world = BillingWorld()
    old = world.subscribe_stripe()
    world.stripe.subscriptions[old].status = "canceled"
    world.apply("customer.subscription.deleted", old)
    new = world.subscribe_stripe("starter", Period.YEAR, 2)
    assert world.apply("customer.subscription.deleted", old) == "ignored"
    account = world.account
    assert account.status is BillingStatus.ACTIVE and account.stripe_subscription_id == new


def test_stripe_past_due_keeps_a_grace_period_or_read_only_that_dunning_started() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe()
    world.store.accounts[WS].status = BillingStatus.GRACE
    world.store.accounts[WS].grace_ends_at = world.clock.now() + timedelta(days=GRACE_DAYS)
    world.stripe.subscriptions[subscription].status = "past_due"
    world.apply("customer.subscription.updated", subscription)
    assert world.account.status is BillingStatus.GRACE
    world.stripe.subscriptions[subscription].status = "active"
    world.apply("customer.subscription.updated", subscription)
    assert world.account.status is BillingStatus.ACTIVE and world.account.grace_ends_at is None


def test_incomplete_and_paused_subscriptions_change_nothing() -> None:
    world = BillingWorld()
    _, subscription, _ = _checkout(world)
    for status in ("incomplete", "paused"):
        world.stripe.subscriptions[subscription].status = status
        assert world.apply("customer.subscription.updated", subscription) == "ignored"
        assert world.account.status is BillingStatus.TRIALING


def test_paypal_suspended_starts_grace_and_cancelled_ends_the_subscription() -> None:
    world = BillingWorld()
    subscription = world.subscribe_paypal("starter", Period.MONTH, 2)
    assert world.account.status is BillingStatus.ACTIVE
    assert (world.account.processor, world.account.plan_id) == (Processor.PAYPAL, "starter")

    world.paypal.subscriptions[subscription].status = "SUSPENDED"
    world.apply("BILLING.SUBSCRIPTION.SUSPENDED", subscription, Processor.PAYPAL)
    account = world.account
    assert account.status is BillingStatus.GRACE
    assert account.grace_ends_at == world.clock.now() + timedelta(days=GRACE_DAYS)
    assert len(world.mail.of_kind("grace_started")) == 1

    world.paypal.subscriptions[subscription].status = "ACTIVE"
    world.apply("BILLING.SUBSCRIPTION.RE-ACTIVATED", subscription, Processor.PAYPAL)
    assert world.account.status is BillingStatus.ACTIVE

    world.paypal.subscriptions[subscription].status = "CANCELLED"
    world.apply("BILLING.SUBSCRIPTION.CANCELLED", subscription, Processor.PAYPAL)
    assert (world.account.status, world.account.plan_id) == (BillingStatus.CANCELED, "free")
    assert len(world.mail.of_kind("subscription_canceled")) == 1


def test_a_paypal_payment_failure_makes_the_account_past_due_with_one_mail() -> None:
    world = BillingWorld()
    subscription = world.subscribe_paypal()
    for _ in range(2):
        world.apply("BILLING.SUBSCRIPTION.PAYMENT.FAILED", subscription, Processor.PAYPAL)
    assert world.account.status is BillingStatus.PAST_DUE
    assert len(world.mail.of_kind("payment_failed")) == 1
    sale = world.paypal.add_sale(subscription, 3 * 4_900)
    world.apply("PAYMENT.SALE.COMPLETED", sale, Processor.PAYPAL)
    assert world.account.status is BillingStatus.ACTIVE
    stored = world.store.get_invoice(WS, sale)
    assert stored is not None and stored.status is InvoiceStatus.PAID
    assert stored.amount_paid == Money(3 * 4_900, "usd")


def test_unknown_events_and_tappay_notifications_are_acknowledged_and_ignored() -> None:
    world = BillingWorld()
    before = world.account
    assert world.apply("customer.created", "cus_x") == "ignored"
    assert world.apply("BILLING.PLAN.CREATED", "P-1", Processor.PAYPAL) == "ignored"
    assert world.apply("tappay.notify", "D0001", Processor.TAPPAY) == "ignored"
    assert world.account == before


def test_an_event_about_a_customer_of_no_workspace_is_reported_and_changes_nothing() -> None:
    world = BillingWorld()
    _, subscription, _ = _checkout(world)
    world.stripe.subscriptions[subscription].workspace_id = None
    world.stripe.subscriptions[subscription].customer_id = "cus_elsewhere"
    assert world.apply("customer.subscription.updated", subscription) == "unknown_workspace"
    assert world.account.status is BillingStatus.TRIALING
