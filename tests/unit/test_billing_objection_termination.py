"""The remedy of an objection to a sub-processor change: the subscription ends now and the
unused prepaid part is refunded through the processor that took the payment, recorded with
the reason "subprocessor_objection", once however often it is asked."""

from __future__ import annotations

import pytest

from chalicelib.billing.cancellation import cancel, terminate_for_objection
from chalicelib.billing.model import BillingStatus, Money, Processor
from chalicelib.billing.plans import Period
from chalicelib.billing.refunds import prorated_refund
from chalicelib.errors import Conflict
from tests.billing_fakes import WS, BillingWorld


def test_a_yearly_stripe_subscription_ends_now_with_its_unused_days_refunded_for_the_objection():
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.YEAR, 3)
    start, end = world.account.current_period_start, world.account.current_period_end
    assert start is not None and end is not None
    world.clock.advance(days=40)

    done = terminate_for_objection(world.deps(), WS, "Objection to a sub-processor change")

    expected = prorated_refund(Money(3 * 49_000, "usd"), start, end, world.clock.now())
    assert expected.amount > 0
    assert done.refund is not None
    assert (done.refund.amount, done.refund.processor, done.refund.reason) == (
        expected,
        Processor.STRIPE,
        "subprocessor_objection",
    )
    assert done.refund.id.endswith(":subprocessor_objection")
    assert world.stripe.called("cancel_now")[0][0] == subscription
    [(_, amount, key)] = world.stripe.called("refund")
    assert amount == expected and key == f"refund:{done.refund.id}"
    assert (done.account.status, done.account.plan_id) == (BillingStatus.CANCELED, "free")
    assert len(world.mail.of_kind("subscription_canceled")) == 1
    assert len(world.mail.of_kind("refund_issued")) == 1


def test_asking_again_answers_the_same_refund_and_refunds_nothing_more():
    world = BillingWorld()
    world.subscribe_stripe("pro", Period.YEAR, 2)
    world.clock.advance(days=10)
    first = terminate_for_objection(world.deps(), WS, "objection")
    world.clock.advance(hours=5)

    again = terminate_for_objection(world.deps(), WS, "objection")

    assert again.refund == first.refund
    assert len(world.stripe.refunds) == 1 and len(world.stripe.called("cancel_now")) == 1
    assert len(world.mail.of_kind("refund_issued")) == 1


def test_a_paypal_subscription_is_ended_and_refunded_through_paypal():
    world = BillingWorld()
    subscription = world.subscribe_paypal("pro", Period.YEAR, 2)
    world.clock.advance(days=3)

    done = terminate_for_objection(world.deps(), WS, "  Objection to\na change ")

    assert world.paypal.called("cancel") == [(subscription, "Objection to a change")]
    assert done.refund is not None and done.refund.processor is Processor.PAYPAL
    assert done.refund.reason == "subprocessor_objection"
    assert [r[2] for r in world.paypal.refunds] == [done.refund.reference]
    assert done.account.status is BillingStatus.CANCELED


def test_after_a_cancellation_with_refund_nothing_more_is_refunded_for_the_objection():
    world = BillingWorld()
    world.subscribe_stripe("pro", Period.YEAR, 2)
    world.clock.advance(days=20)
    cancel(world.deps(), WS, now=True, reason="")

    done = terminate_for_objection(world.deps(), WS, "objection")

    assert done.refund is None
    assert len(world.stripe.refunds) == 1


@pytest.mark.parametrize("state", ["trial", "free plan"])
def test_a_workspace_without_a_paid_subscription_has_nothing_to_terminate(state):
    world = BillingWorld()
    if state == "free plan":
        world.clock.advance(days=15)  # the trial ended: the free plan

    with pytest.raises(Conflict) as refused:
        terminate_for_objection(world.deps(), WS, "objection")

    assert refused.value.code == "no_subscription"
    assert world.stripe.refunds == []
    assert world.mail.of_kind("refund_issued") == world.mail.of_kind("subscription_canceled") == []
