"""Cancelling at the end of the period or now (with the unused part refunded through the
processor that took the payment), and resuming."""

from __future__ import annotations

import pytest

from chalicelib.billing.cancellation import cancel, resume
from chalicelib.billing.model import BillingStatus, Money, Processor
from chalicelib.billing.overview import account_of, overview
from chalicelib.billing.plans import FREE, Period
from chalicelib.billing.refunds import prorated_refund
from chalicelib.errors import Conflict
from tests.billing_fakes import WS, BillingWorld


def test_cancelling_at_period_end_keeps_the_plan_until_stripe_ends_it() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.YEAR, 3)

    done = cancel(world.deps(), WS, now=False, reason="Too expensive")

    assert done.refund is None
    assert (done.account.status, done.account.plan_id, done.account.cancel_at_period_end) == (
        BillingStatus.ACTIVE,
        "pro",
        True,
    )
    assert world.stripe.called("cancel_at_period_end")[0][:2] == (subscription, True)
    assert overview(world.deps(), WS).next_charge is None
    assert world.stripe.refunds == [] and world.mail.of_kind("subscription_canceled") == []

    world.clock.advance(days=366)
    world.stripe.subscriptions[subscription].status = "canceled"
    world.apply("customer.subscription.deleted", subscription)
    account = world.account
    assert (account.status, account.plan_id, account.seats_paid) == (
        BillingStatus.CANCELED,
        "free",
        FREE.max_seats,
    )
    assert len(world.mail.of_kind("subscription_canceled")) == 1


def test_resuming_keeps_the_subscription() -> None:
    world = BillingWorld()
    world.subscribe_stripe()
    cancel(world.deps(), WS, now=False, reason="")
    account = resume(world.deps(), WS)
    assert account.cancel_at_period_end is False and account.status is BillingStatus.ACTIVE
    assert overview(world.deps(), WS).next_charge is not None


def test_cancelling_now_ends_the_subscription_and_refunds_the_unused_days_through_stripe() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.YEAR, 3)
    start = world.account.current_period_start
    end = world.account.current_period_end
    assert start is not None and end is not None
    world.clock.advance(days=100)

    done = cancel(world.deps(), WS, now=True, reason="Moving to another tool")

    expected = prorated_refund(Money(3 * 49_000, "usd"), start, end, world.clock.now())
    assert done.refund is not None
    assert (done.refund.amount, done.refund.processor, done.refund.reason) == (
        expected,
        Processor.STRIPE,
        "cancellation",
    )
    assert world.stripe.called("cancel_now")[0][0] == subscription
    assert [r[1] for r in world.stripe.refunds] == [expected]
    assert (done.account.status, done.account.plan_id) == (BillingStatus.CANCELED, "free")
    assert len(world.mail.of_kind("subscription_canceled")) == 1
    assert len(world.mail.of_kind("refund_issued")) == 1

    # Asked again (the first answer was lost): the same refund, nothing refunded twice.
    again = cancel(world.deps(), WS, now=True, reason="Moving to another tool")
    assert again.refund == done.refund
    assert len(world.stripe.refunds) == 1 and len(world.stripe.called("cancel_now")) == 1
    assert len(world.mail.of_kind("refund_issued")) == 1


def test_cancelling_now_a_paypal_subscription_refunds_through_paypal() -> None:
    world = BillingWorld()
    subscription = world.subscribe_paypal("starter", Period.MONTH, 2)
    world.clock.advance(days=3)

    done = cancel(world.deps(), WS, now=True, reason="  We\nclosed  ")

    assert world.paypal.called("cancel") == [(subscription, "We closed")]
    assert done.refund is not None and done.refund.processor is Processor.PAYPAL
    assert [r[2] for r in world.paypal.refunds] == [done.refund.reference]
    assert done.account.status is BillingStatus.CANCELED
    assert len(world.mail.of_kind("subscription_canceled")) == 1


def test_cancelling_now_after_the_backup_card_paid_refunds_through_tappay() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.MONTH, 2)
    world.add_backup_card()
    world.clock.advance(days=31)
    world.stripe.renew(subscription)
    invoice = world.stripe.add_invoice(subscription, 2 * 4_900, attempt_count=0)
    world.stripe.payment_fails(invoice, retry_at=None)
    world.apply("invoice.payment_failed", invoice)
    world.clock.advance(days=2)

    done = cancel(world.deps(), WS, now=True, reason="")

    assert done.refund is not None and done.refund.processor is Processor.TAPPAY
    assert done.refund.invoice_id == invoice
    assert len(world.tappay.refunds) == 1 and world.stripe.refunds == []


def test_a_paypal_subscription_canceled_for_the_period_end_keeps_its_plan_until_then() -> None:
    world = BillingWorld()
    subscription = world.subscribe_paypal("pro", Period.MONTH, 3)
    period_end = world.account.current_period_end
    assert period_end is not None

    done = cancel(world.deps(), WS, now=False, reason="")
    world.apply("BILLING.SUBSCRIPTION.CANCELLED", subscription, Processor.PAYPAL)

    assert done.refund is None
    assert world.paypal.called("cancel")[0][0] == subscription
    account = world.account
    assert (account.status, account.plan_id, account.cancel_at_period_end) == (
        BillingStatus.ACTIVE,
        "pro",
        True,
    )
    assert account.current_period_end == period_end
    with pytest.raises(Conflict) as refused:
        resume(world.deps(), WS)
    assert refused.value.code == "cannot_resume"

    world.clock.moment = period_end
    assert account_of(world.deps(), WS).status is BillingStatus.CANCELED
    assert len(world.mail.of_kind("subscription_canceled")) == 1


def test_there_is_nothing_to_cancel_or_resume_without_a_subscription() -> None:
    world = BillingWorld()
    for call in (
        lambda: cancel(world.deps(), WS, now=True, reason=""),
        lambda: cancel(world.deps(), WS, now=False, reason=""),
        lambda: resume(world.deps(), WS),
    ):
        with pytest.raises(Conflict) as refused:
            call()
        assert refused.value.code == "no_subscription"
    world.subscribe_stripe()
    cancel(world.deps(), WS, now=True, reason="")
    with pytest.raises(Conflict):
        cancel(world.deps(), WS, now=False, reason="")
