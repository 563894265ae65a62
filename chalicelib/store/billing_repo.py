"""Billing in DynamoDB: each workspace's billing account (plan, status, seats, processor
ids), its invoices, payment attempts and refunds, the processors' customer lookups, the
webhook deliveries already accepted, and the due list of trials and grace periods.
Implements `BillingStore` (chalicelib/billing/ports.py); the access patterns are in
docs/data-model.md (Billing).

`seats_used` belongs to the membership transactions (chalicelib/store/accounts_repo.py):
nothing here writes it, so a save never undoes a join or a departure that happened after
the account was read."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.accounts.model import Page
from chalicelib.billing.model import (
    AttemptOutcome,
    BillingAccount,
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
from chalicelib.clock import Clock, SystemClock, epoch
from chalicelib.store import keys
from chalicelib.store.models import (
    BillingAccountItem,
    BillingCustomerLookup,
    ByUserIndex,
    InvoiceItem,
    Item,
    PaymentAttemptItem,
    RefundItem,
)
from chalicelib.store.paging import decode_cursor, encode_cursor, one_slice
from chalicelib.store.replay_guard import DynamoReplayGuard
from chalicelib.store.secret_box import SecretBoxError, TwoFactorSecretBox

logger = logging.getLogger(__name__)

CONDITION_FAILED = "ConditionalCheckFailedException"
DELIVERY_KEPT = timedelta(days=30)  # a webhook event id is remembered this long
MAX_LISTED = 100


class CustomerLinkedElsewhere(Exception):
    """A processor's customer or subscription id already points at another workspace (a
    bug, never a user's doing: ids are created per workspace)."""


class BackupCardUnreadable(Exception):
    """The sealed TapPay secret does not open (no key, another key, altered): an
    operator's problem, logged; the backup card cannot be charged until it is fixed."""


# -- values as stored ------------------------------------------------------------------------


def stored_moment(moment: datetime) -> str:
    """A UTC time as sort keys hold it (fixed width: sorts as it orders)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _card_json(card: Card | None) -> str | None:
    if card is None:
        return None
    return json.dumps(
        {
            "processor": card.processor.value,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
        separators=(",", ":"),
    )


def _card(raw: str | None) -> Card | None:
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    return Card(
        processor=Processor(data["processor"]),
        brand=data["brand"],
        last4=data["last4"],
        exp_month=int(data["exp_month"]),
        exp_year=int(data["exp_year"]),
    )


def _money_json(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


def _money(raw: dict[str, Any]) -> Money:
    return Money(int(raw["amount"]), str(raw["currency"]))


def _deadline(account: BillingAccount) -> datetime | None:
    """What puts the account in the due list: the trial's end, or the grace's."""
    if account.status is BillingStatus.TRIALING:
        return account.trial_ends_at
    if account.status is BillingStatus.GRACE:
        return account.grace_ends_at
    return None


def _seat_limit_until(account: BillingAccount) -> int | None:
    """Joins stop at the trial's end (epoch), until the account moves on to a plan."""
    if account.status is BillingStatus.TRIALING and account.trial_ends_at is not None:
        return epoch(account.trial_ends_at)
    return None


def _due_keys(account: BillingAccount) -> tuple[str, str] | None:
    deadline = _deadline(account)
    if deadline is None:
        return None
    return (
        keys.billing_due(keys.billing_due_shard(account.workspace_id)),
        keys.billing_due_order(stored_moment(deadline), account.workspace_id),
    )


def billing_account_item(account: BillingAccount) -> BillingAccountItem:
    """The item of a new account (also written by the workspace's creation transaction)."""
    due = _due_keys(account)
    return BillingAccountItem(
        keys.workspace_pk(account.workspace_id),
        keys.BILLING_SK,
        gsi1pk=due[0] if due else None,
        gsi1sk=due[1] if due else None,
        workspace_id=account.workspace_id,
        plan_id=account.plan_id,
        status=account.status.value,
        seats_paid=account.seats_paid,
        seats_used=account.seats_used,
        seat_limit_until=_seat_limit_until(account),
        created_at=account.created_at,
        updated_at=account.updated_at,
        period=account.period.value if account.period else None,
        trial_ends_at=account.trial_ends_at,
        processor=account.processor.value if account.processor else None,
        stripe_customer_id=account.stripe_customer_id,
        stripe_subscription_id=account.stripe_subscription_id,
        paypal_subscription_id=account.paypal_subscription_id,
        current_period_start=account.current_period_start,
        current_period_end=account.current_period_end,
        cancel_at_period_end=account.cancel_at_period_end or None,
        card=_card_json(account.card),
        backup_card=_card_json(account.backup_card),
        past_due_since=account.past_due_since,
        grace_ends_at=account.grace_ends_at,
        synced_at=account.synced_at,
        billing_email=account.billing_email,
        version=account.version,
    )


def billing_account(item: BillingAccountItem) -> BillingAccount:
    return BillingAccount(
        workspace_id=item.workspace_id,
        plan_id=item.plan_id,
        status=BillingStatus(item.status),
        seats_paid=int(item.seats_paid),
        seats_used=int(item.seats_used or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
        period=Period(item.period) if item.period else None,
        trial_ends_at=item.trial_ends_at,
        processor=Processor(item.processor) if item.processor else None,
        stripe_customer_id=item.stripe_customer_id,
        stripe_subscription_id=item.stripe_subscription_id,
        paypal_subscription_id=item.paypal_subscription_id,
        current_period_start=item.current_period_start,
        current_period_end=item.current_period_end,
        cancel_at_period_end=bool(item.cancel_at_period_end),
        card=_card(item.card),
        backup_card=_card(item.backup_card),
        past_due_since=item.past_due_since,
        grace_ends_at=item.grace_ends_at,
        synced_at=item.synced_at,
        billing_email=item.billing_email,
        version=int(item.version or 0),
    )


def _set_or_remove(attribute: Any, value: Any) -> Action:
    return attribute.set(value) if value is not None else attribute.remove()


def _account_actions(account: BillingAccount) -> list[Action]:
    """Every attribute a save writes: all but `seats_used` (the membership transactions'),
    the backup card (`set_backup_card`'s, with its secret) and `created_at`."""
    due = _due_keys(account)
    a = BillingAccountItem
    return [
        a.plan_id.set(account.plan_id),
        a.status.set(account.status.value),
        a.seats_paid.set(account.seats_paid),
        _set_or_remove(a.seat_limit_until, _seat_limit_until(account)),
        a.updated_at.set(account.updated_at),
        _set_or_remove(a.period, account.period.value if account.period else None),
        _set_or_remove(a.trial_ends_at, account.trial_ends_at),
        _set_or_remove(a.processor, account.processor.value if account.processor else None),
        _set_or_remove(a.stripe_customer_id, account.stripe_customer_id),
        _set_or_remove(a.stripe_subscription_id, account.stripe_subscription_id),
        _set_or_remove(a.paypal_subscription_id, account.paypal_subscription_id),
        _set_or_remove(a.current_period_start, account.current_period_start),
        _set_or_remove(a.current_period_end, account.current_period_end),
        _set_or_remove(a.cancel_at_period_end, account.cancel_at_period_end or None),
        _set_or_remove(a.card, _card_json(account.card)),
        _set_or_remove(a.past_due_since, account.past_due_since),
        _set_or_remove(a.grace_ends_at, account.grace_ends_at),
        _set_or_remove(a.billing_email, account.billing_email),
        _set_or_remove(a.gsi1pk, due[0] if due else None),
        _set_or_remove(a.gsi1sk, due[1] if due else None),
        a.version.add(1),
    ]


def _invoice_json(invoice: Invoice) -> str:
    return json.dumps(
        {
            "id": invoice.id,
            "workspace_id": invoice.workspace_id,
            "processor": invoice.processor.value,
            "status": invoice.status.value,
            "amount_due": _money_json(invoice.amount_due),
            "amount_paid": _money_json(invoice.amount_paid),
            "amount_refunded": _money_json(invoice.amount_refunded),
            "created_at": invoice.created_at.astimezone(UTC).isoformat(),
            "period_start": _iso(invoice.period_start),
            "period_end": _iso(invoice.period_end),
            "number": invoice.number,
            "paid_at": _iso(invoice.paid_at),
            "paid_by": invoice.paid_by.value if invoice.paid_by else None,
            "payment_ref": invoice.payment_ref,
            "hosted_url": invoice.hosted_url,
            "attempt_count": invoice.attempt_count,
            "next_attempt_at": _iso(invoice.next_attempt_at),
            "lines": list(invoice.lines),
        },
        separators=(",", ":"),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _invoice(item: InvoiceItem) -> Invoice:
    data: dict[str, Any] = json.loads(item.body)
    return Invoice(
        id=data["id"],
        workspace_id=data["workspace_id"],
        processor=Processor(data["processor"]),
        status=InvoiceStatus(data["status"]),
        amount_due=_money(data["amount_due"]),
        amount_paid=_money(data["amount_paid"]),
        amount_refunded=_money(data["amount_refunded"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        period_start=_moment(data.get("period_start")),
        period_end=_moment(data.get("period_end")),
        number=data.get("number"),
        paid_at=_moment(data.get("paid_at")),
        paid_by=Processor(data["paid_by"]) if data.get("paid_by") else None,
        payment_ref=data.get("payment_ref"),
        hosted_url=data.get("hosted_url"),
        attempt_count=int(data.get("attempt_count") or 0),
        next_attempt_at=_moment(data.get("next_attempt_at")),
        lines=[str(line) for line in data.get("lines") or []],
    )


def _attempt(item: PaymentAttemptItem) -> PaymentAttempt:
    return PaymentAttempt(
        id=item.attempt_id,
        workspace_id=item.workspace_id,
        invoice_id=item.invoice_id,
        processor=Processor(item.processor),
        amount=Money(int(item.amount), item.currency),
        outcome=AttemptOutcome(item.outcome),
        at=item.at,
        reference=item.reference,
        detail=item.detail or "",
    )


def _refund(item: RefundItem) -> Refund:
    return Refund(
        id=item.refund_id,
        workspace_id=item.workspace_id,
        invoice_id=item.invoice_id,
        processor=Processor(item.processor),
        amount=Money(int(item.amount), item.currency),
        reason=item.reason,
        at=item.at,
        reference=item.reference,
    )


def _card_binding(workspace_id: str) -> str:
    # The sealed value opens only for this workspace's backup card (associated data): a
    # value copied to another workspace, or a user's two-factor secret, does not open.
    return f"billing-backup-card:{workspace_id}"


def _refused(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == CONDITION_FAILED


class DynamoBillingStore:
    """`BillingStore` on the single table.  Each method is one or two calls (`due`: one
    Query per shard).  The TapPay secret of a backup card is sealed by `secret_box`."""

    def __init__(
        self, secret_box: TwoFactorSecretBox | None = None, clock: Clock | None = None
    ) -> None:
        self.secret_box = secret_box
        self._clock: Clock = clock or SystemClock()

    # -- the account ------------------------------------------------------------------------

    def _item(self, workspace_id: str) -> BillingAccountItem | None:
        try:
            return BillingAccountItem.get(
                keys.workspace_pk(workspace_id), keys.BILLING_SK, consistent_read=True
            )
        except BillingAccountItem.DoesNotExist:
            return None

    def get(self, workspace_id: str) -> BillingAccount | None:
        """GetItem (consistent: the version read is the latest)."""
        item = self._item(workspace_id)
        return billing_account(item) if item is not None else None

    def create(self, account: BillingAccount) -> bool:
        """PutItem under `attribute_not_exists`: False when the workspace has an account."""
        try:
            billing_account_item(account).save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if _refused(e):
                return False
            raise
        return True

    def _update(self, account: BillingAccount, actions: list[Action], condition: Any) -> Any:
        item = BillingAccountItem(keys.workspace_pk(account.workspace_id), keys.BILLING_SK)
        item.update(actions=actions, condition=condition)
        return item

    def save(self, account: BillingAccount) -> BillingAccount:
        """One UpdateItem under `version = <read>`; AccountChanged when it moved.  The saved
        copy carries version + 1 and the `seats_used` stored now."""
        try:
            item = self._update(
                account,
                _account_actions(account),
                BillingAccountItem.version == account.version,
            )
        except UpdateError as e:
            if _refused(e):
                raise AccountChanged() from e
            raise
        return billing_account(item)

    def save_synced(self, account: BillingAccount, read_at: datetime) -> bool:
        """Like `save`, and only if `synced_at` is older than `read_at` (or absent); sets
        synced_at = read_at.  False when a snapshot read at `read_at` or later was applied
        already; AccountChanged when the version moved.  On success `account` becomes the
        saved copy (version, synced_at, seats_used)."""
        synced: Condition = BillingAccountItem.synced_at.does_not_exist() | (
            BillingAccountItem.synced_at < read_at
        )
        actions = [*_account_actions(account), BillingAccountItem.synced_at.set(read_at)]
        try:
            item = self._update(
                account, actions, (BillingAccountItem.version == account.version) & synced
            )
        except UpdateError as e:
            if not _refused(e):
                raise
            current = self._item(account.workspace_id)
            if current is not None and current.synced_at and current.synced_at >= read_at:
                return False
            raise AccountChanged() from e
        saved = billing_account(item)
        account.version = saved.version
        account.synced_at = saved.synced_at
        account.seats_used = saved.seats_used
        return True

    def set_seats_paid(self, workspace_id: str, seats: int) -> None:
        """UpdateItem `seats_paid` under `seats_used <= seats`: SeatsInUse when more members
        than that hold seats at the moment of the write; AccountChanged when the workspace
        has no account.  Leaves `version` alone (like the seat counter), so an account read
        just before can still be saved: carry the new `seats_paid` in it."""
        item = BillingAccountItem(keys.workspace_pk(workspace_id), keys.BILLING_SK)
        try:
            item.update(
                actions=[BillingAccountItem.seats_paid.set(seats)],
                condition=Item.pk.exists() & (BillingAccountItem.seats_used <= seats),
            )
        except UpdateError as e:
            if not _refused(e):
                raise
            if self._item(workspace_id) is None:
                raise AccountChanged() from e
            raise SeatsInUse() from e

    # -- processor lookups ------------------------------------------------------------------

    def link_customer(self, workspace_id: str, processor: Processor, customer_ref: str) -> None:
        """PutItem `BILLINGREF#<processor>#<ref>` → workspace (again: no change).  Raises
        CustomerLinkedElsewhere when the id already names another workspace."""
        lookup = BillingCustomerLookup(
            keys.billing_customer_pk(processor.value, customer_ref),
            keys.LOOKUP_SK,
            workspace_id=workspace_id,
        )
        try:
            lookup.save(
                condition=Item.pk.does_not_exist()
                | (BillingCustomerLookup.workspace_id == workspace_id)
            )
        except PutError as e:
            if _refused(e):
                logger.error(
                    "a processor id is linked to another workspace",
                    extra={"workspace_id": workspace_id, "processor": processor.value},
                )
                raise CustomerLinkedElsewhere(customer_ref) from e
            raise

    def workspace_of(self, processor: Processor, customer_ref: str) -> str | None:
        try:
            lookup = BillingCustomerLookup.get(
                keys.billing_customer_pk(processor.value, customer_ref), keys.LOOKUP_SK
            )
        except BillingCustomerLookup.DoesNotExist:
            return None
        return lookup.workspace_id

    # -- invoices, attempts, refunds --------------------------------------------------------

    def put_invoice(self, invoice: Invoice) -> None:
        """PutItem (the newest state read from the processor replaces the last)."""
        if not invoice.workspace_id:
            raise ValueError("an invoice is stored under its workspace")
        InvoiceItem(
            keys.workspace_pk(invoice.workspace_id),
            keys.invoice_sk(invoice.id),
            gsi1pk=keys.invoices_view(invoice.workspace_id),
            gsi1sk=keys.invoice_order(stored_moment(invoice.created_at), invoice.id),
            invoice_id=invoice.id,
            workspace_id=invoice.workspace_id,
            status=invoice.status.value,
            created_at=invoice.created_at,
            body=_invoice_json(invoice),
        ).save()

    def get_invoice(self, workspace_id: str, invoice_id: str) -> Invoice | None:
        try:
            item = InvoiceItem.get(
                keys.workspace_pk(workspace_id), keys.invoice_sk(invoice_id), consistent_read=True
            )
        except InvoiceItem.DoesNotExist:
            return None
        return _invoice(item)

    def list_invoices(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Invoice]:
        """One Query of GSI1 `WS#<ws>#INVOICES` backwards (newest first), ≤ 100."""
        view = keys.invoices_view(workspace_id)
        limit = max(1, min(limit, MAX_LISTED))
        result = Item.by_user.query(
            view,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=decode_cursor(cursor, {"GSI1PK": view}),
        )
        found, last_key = one_slice(result, Item, limit)
        invoices = [_invoice(item) for item in found if isinstance(item, InvoiceItem)]
        return Page(invoices, encode_cursor(last_key))

    def record_attempt(self, attempt: PaymentAttempt) -> bool:
        """PutItem under `attribute_not_exists`: False when this attempt id was recorded."""
        item = PaymentAttemptItem(
            keys.workspace_pk(attempt.workspace_id),
            keys.attempt_sk(attempt.invoice_id, attempt.id),
            attempt_id=attempt.id,
            workspace_id=attempt.workspace_id,
            invoice_id=attempt.invoice_id,
            processor=attempt.processor.value,
            amount=attempt.amount.amount,
            currency=attempt.amount.currency,
            outcome=attempt.outcome.value,
            at=attempt.at,
            reference=attempt.reference,
            detail=attempt.detail,
        )
        return self._put_once(item)

    def attempts(self, workspace_id: str, invoice_id: str) -> list[PaymentAttempt]:
        """Query `billing#attempt#<invoice>#` (≤ 100), by id."""
        found = PaymentAttemptItem.query(
            keys.workspace_pk(workspace_id),
            PaymentAttemptItem.sk.startswith(keys.attempts_prefix(invoice_id)),
            consistent_read=True,
            limit=MAX_LISTED,
        )
        return [_attempt(item) for item in found]

    def record_refund(self, refund: Refund) -> bool:
        """PutItem under `attribute_not_exists`: False when this refund id was recorded."""
        item = RefundItem(
            keys.workspace_pk(refund.workspace_id),
            keys.refund_sk(refund.invoice_id, refund.id),
            refund_id=refund.id,
            workspace_id=refund.workspace_id,
            invoice_id=refund.invoice_id,
            processor=refund.processor.value,
            amount=refund.amount.amount,
            currency=refund.amount.currency,
            reason=refund.reason,
            at=refund.at,
            reference=refund.reference,
        )
        return self._put_once(item)

    def refunds(self, workspace_id: str, invoice_id: str) -> list[Refund]:
        """Query `billing#refund#<invoice>#` (≤ 100), by id."""
        found = RefundItem.query(
            keys.workspace_pk(workspace_id),
            RefundItem.sk.startswith(keys.refunds_prefix(invoice_id)),
            consistent_read=True,
            limit=MAX_LISTED,
        )
        return [_refund(item) for item in found]

    @staticmethod
    def _put_once(item: Item) -> bool:
        try:
            item.save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if _refused(e):
                return False
            raise
        return True

    # -- the backup card (TapPay) -----------------------------------------------------------

    def _box(self) -> TwoFactorSecretBox:
        if self.secret_box is None:
            raise BackupCardUnreadable("this store was built without a secret box")
        return self.secret_box

    def backup_card_secret(self, workspace_id: str) -> TapPayCardSecret | None:
        """GetItem and open the sealed secret; None without a backup card.  Raises
        BackupCardUnreadable when it does not open (logged)."""
        item = self._item(workspace_id)
        if item is None or not item.backup_card_secret:
            return None
        try:
            opened = self._box().open(_card_binding(workspace_id), item.backup_card_secret)
        except SecretBoxError as e:
            logger.error(
                "a backup card's secret does not open",
                extra={"workspace_id": workspace_id, "reason": e.reason, "sealed_by": e.key_id},
            )
            raise BackupCardUnreadable(e.reason) from e
        data: dict[str, Any] = json.loads(opened.secret)
        return TapPayCardSecret(card_key=data["card_key"], card_token=data["card_token"])

    def set_backup_card(
        self, workspace_id: str, card: Card | None, secret: TapPayCardSecret | None
    ) -> None:
        """One UpdateItem of the account: the card shown and its secret, sealed (or, with
        None, both removed).  AccountChanged when the workspace has no account."""
        a = BillingAccountItem
        actions: list[Action]
        if card is None or secret is None:
            actions = [a.backup_card.remove(), a.backup_card_secret.remove()]
        else:
            clear = json.dumps(
                {"card_key": secret.card_key, "card_token": secret.card_token},
                separators=(",", ":"),
            )
            try:
                sealed = self._box().seal(_card_binding(workspace_id), clear)
            except SecretBoxError as e:
                logger.error(
                    "cannot seal a backup card's secret",
                    extra={"workspace_id": workspace_id, "reason": e.reason},
                )
                raise BackupCardUnreadable(e.reason) from e
            shown = _card_json(card) or ""
            actions = [a.backup_card.set(shown), a.backup_card_secret.set(sealed)]
        item = BillingAccountItem(keys.workspace_pk(workspace_id), keys.BILLING_SK)
        try:
            item.update(actions=actions, condition=Item.pk.exists())
        except UpdateError as e:
            if _refused(e):
                raise AccountChanged() from e
            raise

    # -- webhook deliveries -----------------------------------------------------------------

    def _deliveries(self, processor: Processor) -> DynamoReplayGuard:
        return DynamoReplayGuard(f"billing-{processor.value}", self._clock)

    def first_delivery(self, processor: Processor, event_id: str) -> bool:
        """One conditional PutItem (the replay guard's), remembered for 30 days."""
        kept_until = epoch(self._clock.now() + DELIVERY_KEPT)
        return self._deliveries(processor).first_use(event_id, kept_until)

    def forget_delivery(self, processor: Processor, event_id: str) -> None:
        self._deliveries(processor).release(event_id)

    # -- the hourly schedule ----------------------------------------------------------------

    def due(self, before: datetime, limit: int) -> list[tuple[str, datetime]]:
        """One Query per shard of GSI1 `BILLINGDUE#<shard>`, `GSI1SK < <before>` (the
        sparse due list: only trialing accounts and those in grace carry its keys), merged
        oldest first, at most `limit`."""
        bound = stored_moment(before)
        found: list[tuple[str, datetime]] = []
        for shard in range(keys.BILLING_DUE_SHARDS):
            result = Item.by_user.query(
                keys.billing_due(shard),
                ByUserIndex.gsi1sk < bound,
                limit=limit,
                page_size=limit,
            )
            for item in result:
                if not isinstance(item, BillingAccountItem) or item.gsi1sk is None:
                    continue
                deadline, _, workspace_id = item.gsi1sk.partition("#")
                found.append((workspace_id, datetime.fromisoformat(deadline)))
        found.sort(key=lambda entry: (entry[1], entry[0]))
        return found[:limit]
