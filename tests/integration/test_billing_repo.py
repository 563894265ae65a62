"""The billing store on the emulator's table: one account per workspace saved under its
version, provider snapshots applied newest only, seats never paid below those used, invoices
newest first, attempts and refunds recorded once, the backup card's secret sealed at rest,
webhook deliveries claimed once, and the trials and grace periods that end found by Query."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.billing.model import (
    AttemptOutcome,
    BillingStatus,
    Card,
    Invoice,
    InvoiceStatus,
    Money,
    PaymentAttempt,
    Processor,
    Refund,
    TapPayCardSecret,
)
from chalicelib.billing.plans import Period
from chalicelib.billing.ports import AccountChanged, SeatsInUse
from chalicelib.billing.trial import new_trial
from chalicelib.errors import InvalidCursor
from chalicelib.ids import new_id
from chalicelib.store import keys
from chalicelib.store.billing_repo import (
    BackupCardUnreadable,
    CustomerLinkedElsewhere,
    DynamoBillingStore,
)
from chalicelib.store.models import BillingAccountItem
from chalicelib.store.secret_box import TwoFactorSecretBox
from tests.conftest import TEST_TWO_FACTOR_KEY

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
VISA = Card(Processor.STRIPE, "visa", "4242", 12, 2030)
USD = "usd"


@pytest.fixture(scope="module")
def store(aws) -> DynamoBillingStore:
    return DynamoBillingStore(secret_box=TwoFactorSecretBox(lambda: (TEST_TWO_FACTOR_KEY, "")))


def _workspace(store: DynamoBillingStore, seats_used: int = 1, **changes) -> str:
    workspace_id = new_id()
    assert store.create(replace(new_trial(workspace_id, NOW, seats_used=seats_used), **changes))
    return workspace_id


def _invoice(workspace_id: str, invoice_id: str, created: datetime, **changes) -> Invoice:
    invoice = Invoice(
        id=invoice_id,
        workspace_id=workspace_id,
        processor=Processor.STRIPE,
        status=InvoiceStatus.OPEN,
        amount_due=Money(14_700, USD),
        amount_paid=Money(0, USD),
        amount_refunded=Money(0, USD),
        created_at=created,
        period_start=created,
        period_end=created + timedelta(days=30),
        number=f"HT-{invoice_id}",
        hosted_url=f"https://pay.example/{invoice_id}",
        lines=["3 x Pro (month)"],
    )
    return replace(invoice, **changes)


def _raw_account(aws, workspace_id: str) -> dict:
    return aws.client("dynamodb").get_item(
        TableName=aws.table_name,
        Key={"PK": {"S": keys.workspace_pk(workspace_id)}, "SK": {"S": keys.BILLING_SK}},
        ConsistentRead=True,
    )["Item"]


# -- the account ------------------------------------------------------------------------------


def test_a_workspace_has_one_account_read_back_as_it_was_written(store):
    workspace_id = new_id()
    trial = new_trial(workspace_id, NOW, seats_used=2)

    assert store.create(trial) is True
    assert store.create(replace(trial, plan_id="free")) is False
    assert store.get(workspace_id) == trial
    assert store.get(new_id()) is None


def test_a_save_moves_the_version_and_a_save_of_an_older_read_is_refused(store):
    workspace_id = _workspace(store)
    read = store.get(workspace_id)
    paying = replace(
        read,
        plan_id="pro",
        status=BillingStatus.ACTIVE,
        period=Period.YEAR,
        trial_ends_at=None,
        processor=Processor.STRIPE,
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
        current_period_start=NOW,
        current_period_end=NOW + timedelta(days=365),
        cancel_at_period_end=True,
        card=VISA,
        seats_paid=5,
        billing_email="accounts@acme.test",
    )

    saved = store.save(paying)

    assert saved == replace(paying, version=read.version + 1)
    assert store.get(workspace_id) == saved
    with pytest.raises(AccountChanged):
        store.save(replace(read, plan_id="free"))
    assert store.get(workspace_id).plan_id == "pro"


def test_a_save_keeps_the_seats_taken_since_the_account_was_read(store, aws):
    workspace_id = _workspace(store, seats_used=1)
    read = store.get(workspace_id)
    # A member joins meanwhile: the membership transaction moves the counter only.
    BillingAccountItem(keys.workspace_pk(workspace_id), keys.BILLING_SK).update(
        actions=[BillingAccountItem.seats_used.add(1)]
    )

    saved = store.save(replace(read, billing_email="billing@acme.test"))

    assert saved.seats_used == 2
    assert store.get(workspace_id).seats_used == 2


def test_an_older_provider_snapshot_is_not_applied_over_a_newer_one(store):
    workspace_id = _workspace(store)
    account = store.get(workspace_id)
    newer, older = NOW + timedelta(minutes=5), NOW + timedelta(minutes=1)

    assert store.save_synced(replace(account, status=BillingStatus.PAST_DUE), newer) is True
    current = store.get(workspace_id)
    assert (current.synced_at, current.status) == (newer, BillingStatus.PAST_DUE)

    assert store.save_synced(replace(current, status=BillingStatus.ACTIVE), older) is False
    assert store.save_synced(replace(current, status=BillingStatus.ACTIVE), newer) is False
    assert store.get(workspace_id) == current

    latest = replace(current, status=BillingStatus.ACTIVE)
    assert store.save_synced(latest, newer + timedelta(seconds=1)) is True
    assert latest.version == current.version + 1  # the caller's copy is the saved one
    with pytest.raises(AccountChanged):
        store.save_synced(replace(current, status=BillingStatus.GRACE), NOW + timedelta(hours=1))


def test_seats_paid_cannot_be_set_below_the_seats_used(store):
    workspace_id = _workspace(store, seats_used=3)

    with pytest.raises(SeatsInUse):
        store.set_seats_paid(workspace_id, 2)
    assert store.get(workspace_id).seats_paid == 25

    store.set_seats_paid(workspace_id, 3)
    assert store.get(workspace_id).seats_paid == 3
    with pytest.raises(AccountChanged):
        store.set_seats_paid(new_id(), 3)  # no account


# -- lookups ----------------------------------------------------------------------------------


def test_a_processor_id_finds_its_workspace_and_never_another(store):
    workspace_id, other = new_id(), new_id()
    customer, subscription = f"cus_{new_id()}", f"I-{new_id()}"

    store.link_customer(workspace_id, Processor.STRIPE, customer)
    store.link_customer(workspace_id, Processor.STRIPE, customer)  # again: no change
    store.link_customer(workspace_id, Processor.PAYPAL, subscription)

    assert store.workspace_of(Processor.STRIPE, customer) == workspace_id
    assert store.workspace_of(Processor.PAYPAL, subscription) == workspace_id
    assert store.workspace_of(Processor.PAYPAL, customer) is None
    assert store.workspace_of(Processor.STRIPE, "cus_unknown") is None
    with pytest.raises(CustomerLinkedElsewhere):
        store.link_customer(other, Processor.STRIPE, customer)
    assert store.workspace_of(Processor.STRIPE, customer) == workspace_id


# -- invoices, attempts, refunds -----------------------------------------------------------


def test_invoices_are_listed_newest_first_page_by_page(store):
    workspace_id = new_id()
    created = {f"in_{n}": NOW + timedelta(days=31 * n) for n in (3, 0, 4, 1, 2)}
    for invoice_id, at in created.items():
        store.put_invoice(_invoice(workspace_id, invoice_id, at))
    paid = _invoice(
        workspace_id,
        "in_4",
        created["in_4"],
        status=InvoiceStatus.PAID,
        amount_paid=Money(14_700, USD),
        paid_at=created["in_4"] + timedelta(hours=1),
        paid_by=Processor.TAPPAY,
        payment_ref="rec_trade_1",
    )
    store.put_invoice(paid)  # the newest state replaces the last, in place
    store.put_invoice(_invoice(new_id(), "in_9", NOW))  # another workspace's

    listed, cursor = [], None
    for _ in range(3):
        page = store.list_invoices(workspace_id, cursor, 2)
        listed += page.entries
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [invoice.id for invoice in listed] == ["in_4", "in_3", "in_2", "in_1", "in_0"]
    assert listed[0] == paid
    assert store.get_invoice(workspace_id, "in_4") == paid
    assert store.get_invoice(workspace_id, "in_9") is None
    first = store.list_invoices(workspace_id, None, 2)
    with pytest.raises(InvalidCursor):
        store.list_invoices(new_id(), first.next_cursor, 2)


def test_an_invoice_of_no_known_workspace_is_not_stored(store):
    with pytest.raises(ValueError):
        store.put_invoice(_invoice("", "in_orphan", NOW))


def test_a_payment_attempt_and_a_refund_are_recorded_once(store):
    workspace_id = new_id()
    attempt = PaymentAttempt(
        id="in_7:tappay:1",
        workspace_id=workspace_id,
        invoice_id="in_7",
        processor=Processor.TAPPAY,
        amount=Money(4_900, USD),
        outcome=AttemptOutcome.FAILED,
        at=NOW,
        reference="D2026030200001",
        detail="card declined",
    )
    refund = Refund(
        id="in_7:cancellation",
        workspace_id=workspace_id,
        invoice_id="in_7",
        processor=Processor.STRIPE,
        amount=Money(1_234, USD),
        reason="cancellation",
        at=NOW,
        reference="re_1",
    )

    assert store.record_attempt(attempt) is True
    assert store.record_attempt(replace(attempt, outcome=AttemptOutcome.SUCCEEDED)) is False
    assert store.record_attempt(replace(attempt, id="in_7:tappay:2")) is True
    assert store.record_refund(refund) is True
    assert store.record_refund(replace(refund, amount=Money(9_999, USD))) is False

    assert store.attempts(workspace_id, "in_7") == [
        attempt,
        replace(attempt, id="in_7:tappay:2"),
    ]
    assert store.refunds(workspace_id, "in_7") == [refund]
    assert store.attempts(workspace_id, "in_70") == []
    assert store.refunds(new_id(), "in_7") == []


# -- the backup card ------------------------------------------------------------------------


def test_a_backup_card_secret_is_sealed_at_rest_and_opens_for_its_workspace_only(store, aws):
    workspace_id, other = _workspace(store), _workspace(store)
    card = Card(Processor.TAPPAY, "mastercard", "5454", 3, 2031)
    secret = TapPayCardSecret(card_key="card-key-7f3a9c", card_token="card-token-b81d22")

    store.set_backup_card(workspace_id, card, secret)

    raw = str(_raw_account(aws, workspace_id))
    assert secret.card_key not in raw and secret.card_token not in raw
    assert store.backup_card_secret(workspace_id) == secret
    assert store.get(workspace_id).backup_card == card
    # The sealed value copied onto another workspace's account does not open there.
    sealed = _raw_account(aws, workspace_id)["backup_card_secret"]["S"]
    BillingAccountItem(keys.workspace_pk(other), keys.BILLING_SK).update(
        actions=[BillingAccountItem.backup_card_secret.set(sealed)]
    )
    with pytest.raises(BackupCardUnreadable):
        store.backup_card_secret(other)

    store.set_backup_card(workspace_id, None, None)
    assert store.backup_card_secret(workspace_id) is None
    assert store.get(workspace_id).backup_card is None


# -- webhook deliveries ---------------------------------------------------------------------


def test_a_webhook_delivery_is_first_once_until_forgotten(store):
    event_id = f"evt_{new_id()}"

    assert store.first_delivery(Processor.STRIPE, event_id) is True
    assert store.first_delivery(Processor.STRIPE, event_id) is False
    assert store.first_delivery(Processor.PAYPAL, event_id) is True  # another processor's

    store.forget_delivery(Processor.STRIPE, event_id)
    assert store.first_delivery(Processor.STRIPE, event_id) is True


# -- the due list ---------------------------------------------------------------------------


def test_due_lists_only_trials_and_grace_periods_ending_before_a_time_by_query(store, aws_calls):
    # Deadlines long past, so no account another test writes is among them.
    start = datetime(1991, 1, 1, tzinfo=UTC)
    trial_ending = _workspace(store)
    store.save(replace(store.get(trial_ending), trial_ends_at=start + timedelta(days=3)))
    grace_ending = _workspace(store)
    store.save(
        replace(
            store.get(grace_ending),
            status=BillingStatus.GRACE,
            trial_ends_at=None,
            grace_ends_at=start + timedelta(days=2),
        )
    )
    trial_later = _workspace(store)
    store.save(replace(store.get(trial_later), trial_ends_at=start + timedelta(days=30)))
    paid_up = _workspace(store)
    store.save(
        replace(
            store.get(paid_up),
            status=BillingStatus.ACTIVE,
            trial_ends_at=None,
            grace_ends_at=start + timedelta(days=1),  # left over: not in grace any more
        )
    )
    ours = {trial_ending, grace_ending, trial_later, paid_up}

    aws_calls.clear()
    due = [entry for entry in store.due(start + timedelta(days=10), 500) if entry[0] in ours]

    assert due == [
        (grace_ending, start + timedelta(days=2)),
        (trial_ending, start + timedelta(days=3)),
    ]
    assert set(aws_calls) == {"Query"}

    # Paid: out of the list.
    store.save(replace(store.get(trial_ending), status=BillingStatus.ACTIVE))
    due = [entry for entry in store.due(start + timedelta(days=10), 500) if entry[0] in ours]
    assert due == [(grace_ending, start + timedelta(days=2))]
