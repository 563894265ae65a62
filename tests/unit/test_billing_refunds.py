"""Refunds of the unused part of a prepaid period: the amount by whole days (monthly and
yearly, leap years, first and last day), and the refund itself, made once, through the
processor that took the payment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.billing.model import Money, Processor
from chalicelib.billing.plans import Period
from chalicelib.billing.refunds import prorated_refund, refund_unused_part
from tests.billing_fakes import WS, BillingWorld


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


USD_YEAR = Money(49_000, "usd")  # Pro, one seat, a year
USD_MONTH = Money(4_900, "usd")


@pytest.mark.parametrize(
    ("paid", "start", "end", "when", "expected"),
    [
        # a year spanning February 2028 has 366 days
        (USD_YEAR, "2027-06-01", "2028-06-01", "2027-06-01", 49_000),
        (USD_YEAR, "2027-06-01", "2028-06-01", "2027-12-01", 49_000 * 183 // 366),
        (USD_YEAR, "2027-06-01", "2028-06-01", "2028-05-31", 49_000 * 1 // 366),
        (USD_YEAR, "2027-06-01", "2028-06-01", "2028-06-01", 0),
        # starting on 29 February 2028: a year to 1 March 2029 is 366 days, to 28 February 365
        (USD_YEAR, "2028-02-29", "2029-03-01", "2028-03-01", 49_000 * 365 // 366),
        (USD_YEAR, "2028-02-29", "2029-02-28", "2028-03-01", 49_000 * 364 // 365),
        (USD_YEAR, "2028-02-29", "2029-02-28", "2028-02-29", 49_000),
        # a year without 29 February has 365 days
        (USD_YEAR, "2026-03-01", "2027-03-01", "2026-09-01", 49_000 * 181 // 365),
        # months: February of a leap year (29 days), of another year (28), a 31-day month
        (USD_MONTH, "2028-02-01", "2028-03-01", "2028-02-15", 4_900 * 15 // 29),
        (USD_MONTH, "2027-02-01", "2027-03-01", "2027-02-15", 4_900 * 14 // 28),
        (USD_MONTH, "2026-01-01", "2026-02-01", "2026-01-01", 4_900),
        (USD_MONTH, "2026-01-01", "2026-02-01", "2026-01-31", 4_900 * 1 // 31),
        (USD_MONTH, "2026-01-01", "2026-02-01", "2026-02-01", 0),
        # part of a day left counts no day; a moment after the end or before the start is
        # no refund, or all of it, never less than nothing nor more than paid
        (USD_MONTH, "2026-01-01", "2026-02-01", "2026-01-31T12:00", 0),
        (USD_MONTH, "2026-01-01", "2026-02-01", "2026-03-15", 0),
        (USD_MONTH, "2026-01-01", "2026-02-01", "2025-12-15", 4_900),
        (Money(0, "usd"), "2026-01-01", "2026-02-01", "2026-01-10", 0),
        (USD_MONTH, "2026-01-01", "2026-01-01", "2026-01-01", 0),
        # three seats of Starter, paid in euros: the currency stays
        (Money(5_700, "eur"), "2026-04-01", "2026-05-01", "2026-04-11", 5_700 * 20 // 30),
    ],
)
def test_the_refund_is_the_paid_amount_times_the_unused_whole_days_of_the_period(
    paid: Money, start: str, end: str, when: str, expected: int
) -> None:
    refund = prorated_refund(paid, at(start), at(end), at(when))
    assert refund == Money(expected, paid.currency)
    assert 0 <= refund.amount <= max(paid.amount, 0)


def _yearly_world() -> BillingWorld:
    world = BillingWorld()
    world.subscribe_stripe("pro", Period.YEAR, 2)
    return world


def test_the_unused_part_is_refunded_once_through_stripe_whatever_the_calls() -> None:
    world = _yearly_world()
    world.clock.advance(days=73)
    paid = 2 * 49_000
    start, end = world.account.current_period_start, world.account.current_period_end
    assert start is not None and end is not None
    days = (end - start).days
    expected = paid * (days - 73) // days

    refund = refund_unused_part(world.deps(), WS, "subprocessor_objection")
    again = refund_unused_part(world.deps(), WS, "subprocessor_objection")

    assert refund is not None and refund.amount == Money(expected, "usd")
    assert refund.processor is Processor.STRIPE and refund.reference == world.stripe.refunds[0][2]
    assert again == refund
    assert [(r[0], r[1]) for r in world.stripe.refunds] == [
        (world.stripe.refunds[0][0], refund.amount)
    ]
    stored = world.store.get_invoice(WS, refund.invoice_id)
    assert stored is not None and stored.amount_refunded == refund.amount
    assert len(world.mail.of_kind("refund_issued")) == 1
    assert "$" in world.mail.of_kind("refund_issued")[0].subject


def test_a_refund_for_another_reason_refunds_only_what_was_not_refunded_yet() -> None:
    world = _yearly_world()
    world.clock.advance(days=100)
    first = refund_unused_part(world.deps(), WS, "cancellation")
    world.clock.advance(days=10)
    assert first is not None
    assert refund_unused_part(world.deps(), WS, "subprocessor_objection") is None
    assert len(world.stripe.refunds) == 1


def test_nothing_is_refunded_without_a_paid_invoice_of_the_current_period() -> None:
    world = BillingWorld()  # trialing: nothing paid
    assert refund_unused_part(world.deps(), WS, "cancellation") is None
    world = _yearly_world()
    world.clock.advance(days=400)  # the period paid for is over
    assert refund_unused_part(world.deps(), WS, "cancellation") is None
    assert world.stripe.refunds == []


def test_a_paypal_payment_is_refunded_through_paypal() -> None:
    world = BillingWorld()
    world.subscribe_paypal("starter", Period.MONTH, 3)
    world.clock.advance(days=10, hours=1)
    refund = refund_unused_part(world.deps(), WS, "cancellation")
    assert refund is not None and refund.processor is Processor.PAYPAL
    start, end = world.account.current_period_start, world.account.current_period_end
    assert start is not None and end is not None
    days = (end - start).days
    assert refund.amount == Money(3 * 1_900 * (days - 11) // days, "usd")
    assert [(r[0], r[1]) for r in world.paypal.refunds] == [(refund.invoice_id, refund.amount)]
    assert refund_unused_part(world.deps(), WS, "cancellation") == refund
    assert len(world.paypal.refunds) == 1


def test_an_invoice_paid_by_the_backup_card_is_refunded_through_tappay() -> None:
    world = BillingWorld()
    subscription = world.subscribe_stripe("pro", Period.MONTH, 2)
    world.add_backup_card()
    world.clock.advance(days=31)
    world.stripe.renew(subscription)
    invoice = world.stripe.add_invoice(subscription, 2 * 4_900, attempt_count=0)
    world.stripe.payment_fails(invoice, retry_at=None)
    world.apply("invoice.payment_failed", invoice)
    world.clock.advance(days=5)

    refund = refund_unused_part(world.deps(), WS, "cancellation")

    assert refund is not None and refund.processor is Processor.TAPPAY
    trade = world.tappay.successful_charges()[0]
    assert world.tappay.refunds == [(trade.rec_trade_id, refund.amount, refund.reference)]
    assert world.stripe.refunds == []


def test_a_refund_keeps_working_when_the_period_is_only_known_from_the_account() -> None:
    world = _yearly_world()
    for key, fake in world.store.invoices.items():
        world.store.invoices[key] = replace(fake, period_start=None, period_end=None)
    world.clock.advance(days=1)
    refund = refund_unused_part(world.deps(), WS, "cancellation")
    assert refund is not None and refund.amount.amount > 0
