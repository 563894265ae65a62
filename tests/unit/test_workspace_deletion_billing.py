"""The billing phase of a workspace's deletion (chalicelib/store/workspace_access_purge.py
`BillingPurge`) over billing's fakes: a paid subscription ends at once through the processor
that holds it, with the unused whole days refunded as an owner's "cancel now" is; a trial
or an ended subscription is left alone; asked again, nothing more is ended or refunded."""

from __future__ import annotations

from chalicelib.billing.model import BillingStatus, Processor
from chalicelib.billing.plans import Period
from chalicelib.privacy.workspace_deletion import Target
from chalicelib.store.workspace_access_purge import BillingPurge
from tests.billing_fakes import WS, BillingWorld


def test_a_stripe_subscription_ends_now_with_the_unused_days_refunded():
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.YEAR, 3)
    world.clock.advance(days=30)
    phase = BillingPurge(world.deps)

    done = phase.step(Target(WS), None)

    assert done.cursor is None and done.counts == {"subscriptions": 1}
    assert world.stripe.called("cancel_now")[0][0] == subscription
    assert world.account.status is BillingStatus.CANCELED
    [(_, amount, _)] = world.stripe.refunds
    assert amount.amount > 0
    assert len(world.mail.of_kind("refund_issued")) == 1
    assert len(world.mail.of_kind("subscription_canceled")) == 1


def test_a_paypal_subscription_is_ended_through_paypal():
    world = BillingWorld()
    world.subscribe_paypal("pro", Period.MONTH, 2)
    world.clock.advance(days=3)

    BillingPurge(world.deps).step(Target(WS), None)

    assert world.account.status is BillingStatus.CANCELED
    assert world.account.processor is Processor.PAYPAL
    assert len(world.paypal.refunds) == 1


def test_a_trial_has_nothing_to_end():
    world = BillingWorld()

    done = BillingPurge(world.deps).step(Target(WS), None)

    assert done.counts == {} and world.stripe.called("cancel_now") == []


def test_a_second_run_ends_and_refunds_nothing_more():
    world = BillingWorld()
    world.subscribe_stripe("pro", Period.YEAR, 2)
    world.clock.advance(days=10)
    phase = BillingPurge(world.deps)

    phase.step(Target(WS), None)
    again = phase.step(Target(WS), None)

    assert again.counts == {}
    assert len(world.stripe.called("cancel_now")) == 1 and len(world.stripe.refunds) == 1
