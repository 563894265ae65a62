"""Dunning: a failed payment, Stripe's last retry, the TapPay backup card (declined, timed
out, never charged twice), the grace period, read-only, and back to active on payment;
trials ending on the hourly schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.billing.dunning import order_number, run_due
from chalicelib.billing.model import AttemptOutcome, BillingStatus, InvoiceStatus, Processor
from chalicelib.billing.overview import account_of
from chalicelib.billing.plans import FREE, GRACE_DAYS
from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable
from chalicelib.billing.standing import require
from chalicelib.billing.sync import apply_event
from chalicelib.errors import PlanLimit
from tests.billing_fakes import WS, BillingWorld


def _renewal_failing(world: BillingWorld, *, final: bool, backup_card: bool = True) -> str:
    """A subscribed workspace whose renewal invoice failed (for the last time: `final`)."""
    subscription = world.subscribe_stripe("pro", seats=3)
    if backup_card:
        world.add_backup_card()
    world.clock.advance(days=31)
    world.stripe.renew(subscription)
    invoice = world.stripe.add_invoice(subscription, 3 * 4_900, attempt_count=0)
    retry = None if final else world.clock.now() + timedelta(days=3)
    world.stripe.payment_fails(invoice, retry_at=retry)
    return invoice


def test_a_failed_payment_makes_the_account_past_due_with_one_mail_per_invoice() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=False)
    for _ in range(3):
        assert world.apply("invoice.payment_failed", invoice) == "past_due"
    world.apply("invoice.updated", invoice)
    account = world.account
    assert account.status is BillingStatus.PAST_DUE
    assert account.past_due_since == world.clock.now()
    failed = world.mail.of_kind("payment_failed")
    assert [m.to for m in failed] == [["olivia@acme.test"]]
    assert "$147.00" in failed[0].text and "Acme Support" in failed[0].subject
    assert "https://app.helptal.test/app/#/settings/billing" in failed[0].text
    assert world.tappay.called("charge") == []  # Stripe still retries

    world.stripe.payment_fails(invoice, retry_at=world.clock.now() + timedelta(days=5))
    world.apply("invoice.payment_failed", invoice)
    assert len(world.mail.of_kind("payment_failed")) == 1


def test_stripes_last_failure_charges_the_backup_card_and_marks_the_invoice_paid() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)

    assert world.apply("invoice.payment_failed", invoice) == "paid_by_backup_card"

    trade = world.tappay.successful_charges()[0]
    assert trade.order_number == order_number(f"{invoice}:tappay:1")
    assert trade.amount.amount == 3 * 4_900
    assert world.stripe.called("mark_paid_out_of_band")[0][0] == invoice
    stored = world.store.get_invoice(WS, invoice)
    assert stored is not None
    assert (stored.status, stored.paid_by, stored.payment_ref) == (
        InvoiceStatus.PAID,
        Processor.TAPPAY,
        trade.rec_trade_id,
    )
    attempt = world.store.attempt_log[f"{invoice}:tappay:1"]
    assert (attempt.outcome, attempt.reference) == (AttemptOutcome.SUCCEEDED, trade.rec_trade_id)
    account = world.account
    assert account.status is BillingStatus.ACTIVE and account.past_due_since is None
    restored = world.mail.of_kind("restored")
    assert len(restored) == 1 and "backup card (Visa ending in" in restored[0].text

    # Stripe's own webhooks about it (paid out of band) change nothing and charge no more.
    world.apply("invoice.paid", invoice)
    world.apply("invoice.payment_failed", invoice)
    world.apply("customer.subscription.updated", world.subscription_id())
    assert len(world.tappay.trades) == 1
    stored = world.store.get_invoice(WS, invoice)
    assert stored is not None and stored.paid_by is Processor.TAPPAY
    assert world.account.status is BillingStatus.ACTIVE


def test_a_declined_backup_card_starts_grace_then_read_only_then_a_payment_restores() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.tappay.then("decline")

    assert world.apply("invoice.payment_failed", invoice) == "grace"
    assert world.apply("invoice.payment_failed", invoice) == "grace"
    account = world.account
    assert account.status is BillingStatus.GRACE
    assert account.grace_ends_at == world.clock.now() + timedelta(days=GRACE_DAYS)
    assert len(world.tappay.trades) == 1  # declined once, never tried again
    grace = world.mail.of_kind("grace_started")
    assert len(grace) == 1 and "read-only on" in grace[0].subject
    require(account, world.clock.now())  # still writable during grace

    world.clock.advance(days=GRACE_DAYS - 1)
    assert run_due(world.deps(), world.clock.now())["read_only"] == 0
    world.clock.advance(days=1, seconds=1)
    counts = run_due(world.deps(), world.clock.now())
    assert counts == {"due": 1, "trial_ended": 0, "read_only": 1, "unchanged": 0, "failed": 0}
    assert world.account.status is BillingStatus.READ_ONLY
    assert len(world.mail.of_kind("read_only")) == 1
    with pytest.raises(PlanLimit):
        require(world.account, world.clock.now())
    require(world.account, world.clock.now(), write=False)
    assert run_due(world.deps(), world.clock.now())["due"] == 0  # no longer due

    world.stripe.payment_succeeds(invoice)  # the owner paid the invoice
    assert world.apply("invoice.paid", invoice) == "paid"
    account = world.account
    assert account.status is BillingStatus.ACTIVE
    assert account.grace_ends_at is None and account.past_due_since is None
    assert len(world.mail.of_kind("restored")) == 1


def test_without_a_backup_card_the_last_failure_starts_grace() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True, backup_card=False)
    assert world.apply("invoice.payment_failed", invoice) == "grace"
    assert world.account.status is BillingStatus.GRACE
    assert world.tappay.called("charge") == []

    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    apply_event(world.deps(tappay=False), world.event("invoice.payment_failed", invoice))
    assert world.account.status is BillingStatus.GRACE


def test_a_timed_out_charge_that_tappay_took_is_found_instead_of_charged_again() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.tappay.then("timeout_charged")

    assert world.apply("invoice.payment_failed", invoice) == "paid_by_backup_card"

    assert len(world.tappay.trades) == 1
    names = [name for name, _ in world.tappay.calls]
    assert names[-2:] == ["charge", "find_charge"]
    stored = world.store.get_invoice(WS, invoice)
    assert stored is not None and stored.payment_ref == world.tappay.trades[0].rec_trade_id
    assert world.account.status is BillingStatus.ACTIVE


def test_a_timed_out_charge_not_yet_in_tappays_records_is_retried_by_lookup_only() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.tappay.then("timeout_charged_later")

    with pytest.raises(ProcessorUnavailable):
        world.apply("invoice.payment_failed", invoice)
    assert world.account.status is BillingStatus.PAST_DUE
    with pytest.raises(ProcessorUnavailable):  # still not in TapPay's records
        world.apply("invoice.payment_failed", invoice)
    world.clock.advance(minutes=3)
    world.tappay.show_hidden_trades()
    assert world.apply("invoice.payment_failed", invoice) == "paid_by_backup_card"

    assert len(world.tappay.called("charge")) == 1
    assert len(world.tappay.trades) == 1
    assert world.account.status is BillingStatus.ACTIVE


@pytest.mark.parametrize("failure", ["timeout_lost", "unavailable"])
def test_a_charge_that_never_reached_tappay_is_looked_up_before_a_second_try(
    failure: str,
) -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.tappay.then(failure)

    with pytest.raises(ProcessorUnavailable):
        world.apply("invoice.payment_failed", invoice)
    assert world.store.attempt_log[f"{invoice}:tappay:1"].outcome is AttemptOutcome.UNKNOWN
    world.clock.advance(minutes=5)
    with pytest.raises(ProcessorUnavailable):  # it might still show up in TapPay's records
        world.apply("invoice.payment_failed", invoice)
    assert len(world.tappay.called("charge")) == 1
    world.clock.advance(minutes=6)
    assert world.apply("invoice.payment_failed", invoice) == "paid_by_backup_card"

    first_order, second_order = (order_number(f"{invoice}:tappay:{n}") for n in (1, 2))
    calls = [
        (name, args[0] if name == "find_charge" else args[2])
        for name, args in world.tappay.calls
        if name in ("charge", "find_charge")
    ]
    assert calls.index(("find_charge", first_order)) < calls.index(("charge", second_order))
    assert len(world.tappay.successful_charges()) == 1
    assert world.store.attempt_log[f"{invoice}:tappay:2"].outcome is AttemptOutcome.SUCCEEDED


def test_a_try_claimed_by_another_run_is_never_charged_here() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.store.first_delivery(Processor.TAPPAY, f"charge:{invoice}:tappay:1")  # the other run

    with pytest.raises(ProcessorUnavailable):
        world.apply("invoice.payment_failed", invoice)
    world.clock.advance(minutes=1)
    with pytest.raises(ProcessorUnavailable):
        world.apply("invoice.payment_failed", invoice)
    assert world.tappay.called("charge") == []


def test_an_invoice_stripe_will_not_mark_paid_still_restores_the_account() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.stripe.fail("mark_paid_out_of_band", ProcessorRefused("not allowed", "invalid"))
    assert world.apply("invoice.payment_failed", invoice) == "paid_by_backup_card"
    assert world.account.status is BillingStatus.ACTIVE


def test_an_invoice_the_owner_paid_through_stripe_meanwhile_gives_the_backup_charge_back() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    snapshot = world.stripe.invoice(invoice)  # read while still open and failed
    world.stripe.payment_succeeds(invoice)  # then the owner paid it on Stripe's page
    world.stripe.stale_invoices.append(snapshot)

    assert world.apply("invoice.payment_failed", invoice) == "paid"

    trade = world.tappay.successful_charges()[0]
    assert [(r[0], r[1]) for r in world.tappay.refunds] == [(trade.rec_trade_id, trade.amount)]
    stored = world.store.get_invoice(WS, invoice)
    assert stored is not None and stored.paid_by is Processor.STRIPE
    assert world.account.status is BillingStatus.ACTIVE
    world.apply("invoice.paid", invoice)
    assert len(world.tappay.refunds) == 1


def test_stripe_down_while_reading_leaves_the_event_to_be_retried_and_nothing_changed() -> None:
    world = BillingWorld()
    invoice = _renewal_failing(world, final=True)
    world.stripe.fail("invoice", ProcessorUnavailable("Stripe answered 503"))
    with pytest.raises(ProcessorUnavailable):
        world.apply("invoice.payment_failed", invoice)
    assert world.account.status is BillingStatus.ACTIVE
    assert world.tappay.trades == []


def test_the_hourly_schedule_ends_trials_with_one_mail_and_leaves_running_ones() -> None:
    world = BillingWorld()
    world.add_members(3)
    world.clock.advance(days=13)
    assert run_due(world.deps(), world.clock.now())["due"] == 0
    world.clock.advance(days=1, minutes=5)

    counts = run_due(world.deps(), world.clock.now())
    again = run_due(world.deps(), world.clock.now())

    assert counts == {"due": 1, "trial_ended": 1, "read_only": 0, "unchanged": 0, "failed": 0}
    assert again["due"] == 0
    account = world.account
    assert (account.plan_id, account.status, account.seats_paid, account.seats_used) == (
        "free",
        BillingStatus.ACTIVE,
        FREE.max_seats,
        4,
    )
    ended = world.mail.of_kind("trial_ended")
    assert len(ended) == 1 and "14-day trial" in ended[0].text


def test_a_workspace_read_after_its_trial_ended_is_moved_on_before_the_schedule_runs() -> None:
    world = BillingWorld()
    world.clock.advance(days=15)
    assert account_of(world.deps(), WS).plan_id == "free"
    assert account_of(world.deps(), WS).plan_id == "free"
    assert len(world.mail.of_kind("trial_ended")) == 1
    assert run_due(world.deps(), world.clock.now())["due"] == 0


def test_one_workspace_failing_on_the_schedule_does_not_hold_up_the_others() -> None:
    world = BillingWorld()
    world.store.accounts["broken"] = replace(world.store.accounts[WS], workspace_id="broken")
    world.clock.advance(days=15)
    original = world.store.save

    def save(account):  # type: ignore[no-untyped-def]
        if account.workspace_id == "broken":
            raise RuntimeError("DynamoDB throttled")
        return original(account)

    world.store.save = save  # type: ignore[method-assign]
    counts = run_due(world.deps(), world.clock.now())
    assert (counts["trial_ended"], counts["failed"]) == (1, 1)
    assert world.account.plan_id == "free"
