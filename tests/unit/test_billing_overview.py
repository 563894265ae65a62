"""The account as the billing screen shows it, its creation for a workspace made before
billing, saves that lost a race, the backup card and the webhook deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.billing.backup_card import add_backup_card, remove_backup_card
from chalicelib.billing.deliveries import accept_delivery
from chalicelib.billing.model import BillingStatus, Money, Processor
from chalicelib.billing.overview import account_of, change_account, invoices, overview
from chalicelib.billing.plans import TRIAL_SEATS, Period
from chalicelib.billing.ports import Cardholder
from chalicelib.errors import Conflict, ValidationFailed
from tests.billing_fakes import WS, BillingWorld

HOLDER = Cardholder("Olivia Owner", "olivia@acme.test", "+886912345678")


def test_a_workspace_made_before_billing_starts_a_trial_counting_its_members() -> None:
    world = BillingWorld()
    world.accounts.add_workspace("legacy")
    for n in range(3):
        world.accounts.add_member("legacy", f"01HUSERLEGACY{n:013d}")
    account = account_of(world.deps(), "legacy")
    assert (account.status, account.plan_id, account.seats_used, account.seats_paid) == (
        BillingStatus.TRIALING,
        "pro",
        3,
        TRIAL_SEATS,
    )
    assert account.trial_ends_at == world.clock.now() + timedelta(days=14)
    assert account_of(world.deps(), "legacy") == account


def test_the_overview_shows_the_standing_and_the_next_charge() -> None:
    world = BillingWorld()
    trial = overview(world.deps(), WS)
    assert trial.next_charge is None and trial.standing.status is BillingStatus.TRIALING

    world.subscribe_stripe("pro", Period.MONTH, 3)
    subscribed = overview(world.deps(), WS)
    assert subscribed.next_charge == (
        subscribed.account.current_period_end,
        Money(3 * 4_900, "usd"),
    )
    assert subscribed.standing.writable and subscribed.standing.seat_limit == 3
    page = invoices(world.deps(), WS, None, 10)
    assert [i.status.value for i in page.entries] == ["paid"] and page.next_cursor is None


def test_a_change_that_lost_a_race_is_made_again_on_a_fresh_read() -> None:
    world = BillingWorld()

    def concurrent(_account: object) -> None:
        world.store.accounts[WS].billing_email = "compta@acme.test"
        world.store.accounts[WS].version += 1

    world.store.before_save = concurrent
    seen: list[str | None] = []

    def set_period(account):  # type: ignore[no-untyped-def]
        seen.append(account.billing_email)
        account.period = Period.YEAR
        return account

    _, after = change_account(world.deps(), WS, set_period)
    assert seen == [None, "compta@acme.test"]
    assert (after.period, after.billing_email) == (Period.YEAR, "compta@acme.test")


def test_a_backup_card_keeps_only_brand_last_digits_and_expiry_and_replaces_the_last() -> None:
    world = BillingWorld()
    first = add_backup_card(world.deps(), WS, "prime-ok", HOLDER)
    assert first.backup_card is not None
    assert (first.backup_card.processor, first.backup_card.brand) == (Processor.TAPPAY, "visa")
    assert world.tappay.called("bind_card")[0][2] == "usd"
    old_key = world.store.secrets[WS].card_key

    second = add_backup_card(world.deps(), WS, "prime-ok", HOLDER)
    assert second.backup_card != first.backup_card
    assert world.tappay.removed == [old_key]

    removed = remove_backup_card(world.deps(), WS)
    assert removed.backup_card is None and WS not in world.store.secrets
    assert len(world.tappay.removed) == 2


def test_a_refused_card_or_a_deployment_without_tappay_adds_no_backup_card() -> None:
    world = BillingWorld()
    with pytest.raises(ValidationFailed) as refused:
        add_backup_card(world.deps(), WS, "prime-refused", HOLDER)
    assert refused.value.code == "card_refused"
    assert refused.value.details[0]["code"] == "10003"
    with pytest.raises(Conflict) as missing:
        add_backup_card(world.deps(tappay=False), WS, "prime-ok", HOLDER)
    assert missing.value.code == "processor_not_configured"
    assert world.account.backup_card is None


def test_a_delivery_is_queued_once_and_a_failed_enqueue_lets_the_retry_in() -> None:
    world = BillingWorld()
    event = world.event("invoice.paid", "in_1")
    assert accept_delivery(world.deps(), event) is True
    assert accept_delivery(world.deps(), event) is False
    assert world.events.queued == [event]

    failing = world.event("invoice.paid", "in_2")
    world.events.failing = True
    with pytest.raises(RuntimeError):
        accept_delivery(world.deps(), failing)
    world.events.failing = False
    assert accept_delivery(world.deps(), failing) is True
    assert world.events.queued == [event, failing]
