"""In-memory fakes of every billing port (chalicelib/billing/ports.py, deps.py) for the
billing unit tests: the store (versioned saves, `save_synced`, the seat counter), Stripe,
TapPay and PayPal with scriptable behaviour, the events queue, the mail outbox (mails by
id) and the accounts.

    world = BillingWorld()                       # a workspace WS with its owner, on a trial
    world.subscribe_stripe("pro", Period.MONTH, 3)   # checkout completed, webhook applied
    world.stripe.fail_invoice(...); world.apply("invoice.payment_failed", invoice_id)
    world.mail.of_kind("payment_failed")
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.accounts.model import Member, Page, Role, User, Workspace
from chalicelib.billing.deps import BillingDeps, BillingUrls
from chalicelib.billing.model import (
    AttemptOutcome,
    BillingAccount,
    BillingStatus,
    Card,
    ChargeResult,
    CheckoutStart,
    Invoice,
    InvoiceStatus,
    Money,
    PaymentAttempt,
    Processor,
    Refund,
    SubscriptionSnapshot,
    TapPayCardSecret,
)
from chalicelib.billing.plans import Period, Plan, plan_named
from chalicelib.billing.ports import (
    AccountChanged,
    Cardholder,
    CheckoutSnapshot,
    InvoiceSnapshot,
    ProcessorRefused,
    ProcessorUnavailable,
    SeatsInUse,
    WebhookEvent,
    WebhookRejected,
)
from chalicelib.billing.trial import new_trial
from chalicelib.mail.outbound import OutboundMail

WS = "01HWORKSPACEBILLING0000001"
OWNER = "01HUSEROWNER00000000000001"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VISA = Card(Processor.STRIPE, "visa", "4242", 12, 2030)
BACKUP_VISA = Card(Processor.TAPPAY, "visa", "1881", 11, 2031)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


def add_months(moment: datetime, months: int) -> datetime:
    """Stripe's way: the same day of the month, or the month's last day."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(moment)


def period_end(start: datetime, period: Period) -> datetime:
    return add_months(start, 12 if period is Period.YEAR else 1)


# -- the store -------------------------------------------------------------------------------


class FakeBillingStore:
    """Like DynamoBillingStore: a save writes all but `seats_used` under the version read."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.accounts: dict[str, BillingAccount] = {}
        self.lookups: dict[tuple[Processor, str], str] = {}
        self.invoices: dict[tuple[str, str], Invoice] = {}
        self.attempt_log: dict[str, PaymentAttempt] = {}
        self.refund_log: dict[str, Refund] = {}
        self.secrets: dict[str, TapPayCardSecret] = {}
        self.deliveries: set[tuple[Processor, str]] = set()
        self.saves = 0
        # Called before each save: lets a test change the account "meanwhile".
        self.before_save: Callable[[BillingAccount], None] | None = None

    def get(self, workspace_id: str) -> BillingAccount | None:
        found = self.accounts.get(workspace_id)
        return replace(found) if found is not None else None

    def create(self, account: BillingAccount) -> bool:
        if account.workspace_id in self.accounts:
            return False
        self.accounts[account.workspace_id] = replace(account)
        return True

    def _write(self, account: BillingAccount) -> BillingAccount:
        if self.before_save is not None:
            hook, self.before_save = self.before_save, None
            hook(account)
        stored = self.accounts.get(account.workspace_id)
        if stored is None or stored.version != account.version:
            raise AccountChanged()
        saved = replace(account, seats_used=stored.seats_used, version=stored.version + 1)
        self.accounts[account.workspace_id] = saved
        self.saves += 1
        return saved

    def save(self, account: BillingAccount) -> BillingAccount:
        return replace(self._write(account))

    def save_synced(self, account: BillingAccount, read_at: datetime) -> bool:
        stored = self.accounts.get(account.workspace_id)
        if stored is not None and stored.synced_at is not None and stored.synced_at >= read_at:
            return False
        saved = self._write(replace(account, synced_at=read_at))
        account.version, account.synced_at = saved.version, saved.synced_at
        account.seats_used = saved.seats_used
        return True

    def set_seats_paid(self, workspace_id: str, seats: int) -> None:
        stored = self.accounts.get(workspace_id)
        if stored is None:
            raise AccountChanged()
        if stored.seats_used > seats:
            raise SeatsInUse()
        stored.seats_paid = seats

    # the membership transactions' seat counter (accounts_repo)
    def take_seat(self, workspace_id: str) -> bool:
        stored = self.accounts[workspace_id]
        now = self.clock.now()
        trial_over = (
            stored.status is BillingStatus.TRIALING
            and stored.trial_ends_at is not None
            and stored.trial_ends_at <= now
        )
        if stored.seats_used >= stored.seats_paid or trial_over:
            return False
        stored.seats_used += 1
        return True

    def free_seat(self, workspace_id: str) -> None:
        stored = self.accounts[workspace_id]
        stored.seats_used = max(0, stored.seats_used - 1)

    def link_customer(self, workspace_id: str, processor: Processor, customer_ref: str) -> None:
        linked = self.lookups.setdefault((processor, customer_ref), workspace_id)
        if linked != workspace_id:
            raise RuntimeError("linked to another workspace")

    def workspace_of(self, processor: Processor, customer_ref: str) -> str | None:
        return self.lookups.get((processor, customer_ref))

    def put_invoice(self, invoice: Invoice) -> None:
        if not invoice.workspace_id:
            raise ValueError("an invoice is stored under its workspace")
        self.invoices[(invoice.workspace_id, invoice.id)] = replace(invoice)

    def get_invoice(self, workspace_id: str, invoice_id: str) -> Invoice | None:
        found = self.invoices.get((workspace_id, invoice_id))
        return replace(found) if found is not None else None

    def list_invoices(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Invoice]:
        mine = sorted(
            (i for (ws, _), i in self.invoices.items() if ws == workspace_id),
            key=lambda i: (i.created_at, i.id),
            reverse=True,
        )
        start = int(cursor or 0)
        page = mine[start : start + limit]
        more = str(start + limit) if start + limit < len(mine) else None
        return Page([replace(i) for i in page], more)

    def record_attempt(self, attempt: PaymentAttempt) -> bool:
        if attempt.id in self.attempt_log:
            return False
        self.attempt_log[attempt.id] = attempt
        return True

    def attempts(self, workspace_id: str, invoice_id: str) -> list[PaymentAttempt]:
        return [
            a
            for a in self.attempt_log.values()
            if a.workspace_id == workspace_id and a.invoice_id == invoice_id
        ]

    def record_refund(self, refund: Refund) -> bool:
        if refund.id in self.refund_log:
            return False
        self.refund_log[refund.id] = refund
        return True

    def refunds(self, workspace_id: str, invoice_id: str) -> list[Refund]:
        return [
            r
            for r in self.refund_log.values()
            if r.workspace_id == workspace_id and r.invoice_id == invoice_id
        ]

    def backup_card_secret(self, workspace_id: str) -> TapPayCardSecret | None:
        return self.secrets.get(workspace_id)

    def set_backup_card(
        self, workspace_id: str, card: Card | None, secret: TapPayCardSecret | None
    ) -> None:
        stored = self.accounts.get(workspace_id)
        if stored is None:
            raise AccountChanged()
        stored.backup_card = card
        if secret is None:
            self.secrets.pop(workspace_id, None)
        else:
            self.secrets[workspace_id] = secret

    def first_delivery(self, processor: Processor, event_id: str) -> bool:
        if (processor, event_id) in self.deliveries:
            return False
        self.deliveries.add((processor, event_id))
        return True

    def forget_delivery(self, processor: Processor, event_id: str) -> None:
        self.deliveries.discard((processor, event_id))

    def due(self, before: datetime, limit: int) -> list[tuple[str, datetime]]:
        found = []
        for ws, account in self.accounts.items():
            deadline = (
                account.trial_ends_at
                if account.status is BillingStatus.TRIALING
                else account.grace_ends_at
                if account.status is BillingStatus.GRACE
                else None
            )
            if deadline is not None and deadline < before:
                found.append((ws, deadline))
        return sorted(found, key=lambda e: (e[1], e[0]))[:limit]


# -- processors ------------------------------------------------------------------------------


class Scripted:
    """Failures queued per method: `fail("invoice", ProcessorUnavailable("down"))`."""

    def __init__(self) -> None:
        self.failures: dict[str, list[Exception]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def fail(self, method: str, error: Exception, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([error] * times)

    def _call(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        queued = self.failures.get(method)
        if queued:
            raise queued.pop(0)

    def called(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]


@dataclass
class FakeSubscription:
    id: str
    customer_id: str | None
    workspace_id: str | None
    status: str
    plan_id: str | None
    period: Period | None
    quantity: int
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool = False
    card: Card | None = None
    ended_at: datetime | None = None


@dataclass
class FakeInvoice:
    invoice: Invoice
    customer_id: str | None
    subscription_id: str | None


@dataclass
class FakeSession:
    id: str
    customer_id: str
    workspace_id: str
    plan: Plan
    period: Period
    seats: int
    success_url: str
    cancel_url: str
    subscription_id: str | None = None
    complete: bool = False


class FakeStripe(Scripted):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.ids = itertools.count(1)
        self.reads = itertools.count(1)
        self.customers: dict[str, tuple[str, str, str]] = {}  # id -> (workspace, email, name)
        self.by_key: dict[str, Any] = {}  # idempotency key -> what it returned
        self.sessions: dict[str, FakeSession] = {}
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.invoices: dict[str, FakeInvoice] = {}
        self.refunds: list[tuple[str, Money, str]] = []  # (payment ref, amount, refund id)
        self.stale: list[SubscriptionSnapshot] = []  # served by the next subscription() reads
        self.stale_invoices: list[InvoiceSnapshot] = []  # served by the next invoice() reads

    def _read_at(self) -> datetime:
        # Every read is later than the one before, as a real clock would have it.
        return self.clock.now() + timedelta(microseconds=next(self.reads))

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.by_key:
            self.by_key[key] = make()
        return self.by_key[key]

    # -- the port --
    def create_customer(
        self, workspace_id: str, email: str, name: str, *, idempotency_key: str
    ) -> str:
        self._call("create_customer", workspace_id, email, name, idempotency_key)

        def make() -> str:
            customer = f"cus_{next(self.ids)}"
            self.customers[customer] = (workspace_id, email, name)
            return customer

        return str(self._once(idempotency_key, make))

    def start_checkout(
        self,
        *,
        customer_id: str,
        workspace_id: str,
        plan: Plan,
        period: Period,
        seats: int,
        success_url: str,
        cancel_url: str,
        locale: str,
        idempotency_key: str,
    ) -> CheckoutStart:
        self._call("start_checkout", customer_id, workspace_id, plan.id, period, seats, locale)

        def make() -> CheckoutStart:
            session = FakeSession(
                f"cs_{next(self.ids)}",
                customer_id,
                workspace_id,
                plan,
                period,
                seats,
                success_url,
                cancel_url,
            )
            self.sessions[session.id] = session
            return CheckoutStart(f"https://checkout.stripe.test/{session.id}", session.id)

        started = self._once(idempotency_key, make)
        assert isinstance(started, CheckoutStart)
        return started

    def portal_url(self, customer_id: str, return_url: str, locale: str) -> str:
        self._call("portal_url", customer_id, return_url, locale)
        return f"https://billing.stripe.test/p/{customer_id}?return={return_url}"

    def checkout_session(self, session_id: str) -> CheckoutSnapshot:
        self._call("checkout_session", session_id)
        s = self.sessions[session_id]
        return CheckoutSnapshot(s.id, s.workspace_id, s.customer_id, s.subscription_id, s.complete)

    def snapshot(self, sub: FakeSubscription) -> SubscriptionSnapshot:
        return SubscriptionSnapshot(
            processor=Processor.STRIPE,
            subscription_id=sub.id,
            customer_id=sub.customer_id,
            workspace_id=sub.workspace_id,
            status=sub.status,
            plan_id=sub.plan_id,
            period=sub.period,
            quantity=sub.quantity,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
            card=sub.card,
            read_at=self._read_at(),
            ended_at=sub.ended_at,
        )

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        self._call("subscription", subscription_id)
        if self.stale:
            return self.stale.pop(0)
        return self.snapshot(self.subscriptions[subscription_id])

    def change_quantity(
        self, subscription_id: str, seats: int, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._call("change_quantity", subscription_id, seats, idempotency_key)
        self.subscriptions[subscription_id].quantity = seats
        return self.snapshot(self.subscriptions[subscription_id])

    def cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._call("cancel_at_period_end", subscription_id, cancel, idempotency_key)
        self.subscriptions[subscription_id].cancel_at_period_end = cancel
        return self.snapshot(self.subscriptions[subscription_id])

    def cancel_now(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        self._call("cancel_now", subscription_id, idempotency_key)
        sub = self.subscriptions[subscription_id]
        sub.status, sub.ended_at = "canceled", self.clock.now()
        return self.snapshot(sub)

    def invoice(self, invoice_id: str) -> InvoiceSnapshot:
        self._call("invoice", invoice_id)
        if self.stale_invoices:
            return self.stale_invoices.pop(0)
        found = self.invoices[invoice_id]
        return InvoiceSnapshot(
            replace(found.invoice), found.customer_id, found.subscription_id, self._read_at()
        )

    def latest_paid_invoice(self, subscription_id: str) -> InvoiceSnapshot | None:
        self._call("latest_paid_invoice", subscription_id)
        paid = [
            f
            for f in self.invoices.values()
            if f.subscription_id == subscription_id and f.invoice.status is InvoiceStatus.PAID
        ]
        if not paid:
            return None
        newest = max(paid, key=lambda f: f.invoice.created_at)
        return InvoiceSnapshot(
            replace(newest.invoice), newest.customer_id, subscription_id, self._read_at()
        )

    def mark_paid_out_of_band(self, invoice_id: str, *, idempotency_key: str) -> None:
        self._call("mark_paid_out_of_band", invoice_id, idempotency_key)
        found = self.invoices[invoice_id]
        if found.invoice.status is InvoiceStatus.PAID:
            if self.by_key.get(idempotency_key) == invoice_id:
                return
            raise ProcessorRefused("Invoice is already paid", "invoice_paid")
        self.by_key[idempotency_key] = invoice_id
        found.invoice = replace(
            found.invoice,
            status=InvoiceStatus.PAID,
            paid_at=self.clock.now(),
            paid_by=None,  # as the adapter reads an invoice paid out of band
            payment_ref=None,
            amount_paid=Money(0, found.invoice.amount_due.currency),
            next_attempt_at=None,
        )
        self._settle_subscription(found.subscription_id)

    def refund(self, payment_ref: str, amount: Money, *, idempotency_key: str) -> str:
        self._call("refund", payment_ref, amount, idempotency_key)

        def make() -> str:
            refund_id = f"re_{next(self.ids)}"
            self.refunds.append((payment_ref, amount, refund_id))
            for f in self.invoices.values():
                if f.invoice.payment_ref == payment_ref:
                    done = f.invoice.amount_refunded.amount + amount.amount
                    f.invoice = replace(f.invoice, amount_refunded=Money(done, amount.currency))
            return refund_id

        return str(self._once(idempotency_key, make))

    def verify_webhook(self, raw_body: bytes, signature_header: str) -> WebhookEvent:
        raise WebhookRejected("the fake verifies nothing")

    # -- what the test makes happen at Stripe --
    def _settle_subscription(self, subscription_id: str | None) -> None:
        """A subscription whose invoices are all paid is active again (as at Stripe)."""
        if subscription_id is None:
            return
        sub = self.subscriptions[subscription_id]
        open_ones = [
            f
            for f in self.invoices.values()
            if f.subscription_id == subscription_id and f.invoice.status is InvoiceStatus.OPEN
        ]
        if sub.status in ("past_due", "unpaid") and not open_ones:
            sub.status = "active"

    def complete_checkout(self, session_id: str, card: Card | None = VISA) -> str:
        """The buyer paid: the subscription exists (active) with its first invoice paid."""
        session = self.sessions[session_id]
        now = self.clock.now()
        sub = FakeSubscription(
            id=f"sub_{next(self.ids)}",
            customer_id=session.customer_id,
            workspace_id=session.workspace_id,
            status="active",
            plan_id=session.plan.id,
            period=session.period,
            quantity=session.seats,
            current_period_start=now,
            current_period_end=period_end(now, session.period),
            card=card,
        )
        self.subscriptions[sub.id] = sub
        session.subscription_id, session.complete = sub.id, True
        price = session.plan.seat_price[session.period] * session.seats
        self.add_invoice(sub.id, price, status=InvoiceStatus.PAID)
        return sub.id

    def add_invoice(
        self,
        subscription_id: str,
        amount: int,
        *,
        status: InvoiceStatus = InvoiceStatus.OPEN,
        attempt_count: int = 1,
        next_attempt_at: datetime | None = None,
        created_at: datetime | None = None,
    ) -> str:
        sub = self.subscriptions[subscription_id]
        paid = status is InvoiceStatus.PAID
        invoice_id = f"in_{next(self.ids)}"
        created = created_at or self.clock.now()
        self.invoices[invoice_id] = FakeInvoice(
            Invoice(
                id=invoice_id,
                workspace_id="",
                processor=Processor.STRIPE,
                status=status,
                amount_due=Money(amount, "usd"),
                amount_paid=Money(amount if paid else 0, "usd"),
                amount_refunded=Money(0, "usd"),
                created_at=created,
                period_start=sub.current_period_start,
                period_end=sub.current_period_end,
                number=f"HT-{invoice_id}",
                paid_at=created if paid else None,
                paid_by=Processor.STRIPE if paid else None,
                payment_ref=f"pi_{invoice_id}" if paid else None,
                attempt_count=attempt_count,
                next_attempt_at=next_attempt_at,
                lines=[f"{sub.quantity} x {sub.plan_id} ({sub.period})"],
            ),
            sub.customer_id,
            subscription_id,
        )
        return invoice_id

    def renew(self, subscription_id: str) -> None:
        sub = self.subscriptions[subscription_id]
        assert sub.current_period_end is not None and sub.period is not None
        sub.current_period_start = sub.current_period_end
        sub.current_period_end = period_end(sub.current_period_end, sub.period)

    def payment_fails(self, invoice_id: str, *, retry_at: datetime | None) -> None:
        """A try failed: Stripe retries at `retry_at` (None: that was the last retry)."""
        found = self.invoices[invoice_id]
        found.invoice = replace(
            found.invoice,
            status=InvoiceStatus.OPEN,
            attempt_count=found.invoice.attempt_count + 1,
            next_attempt_at=retry_at,
        )
        if found.subscription_id:
            self.subscriptions[found.subscription_id].status = "past_due"

    def payment_succeeds(self, invoice_id: str) -> None:
        found = self.invoices[invoice_id]
        found.invoice = replace(
            found.invoice,
            status=InvoiceStatus.PAID,
            attempt_count=found.invoice.attempt_count + 1,
            amount_paid=found.invoice.amount_due,
            paid_at=self.clock.now(),
            paid_by=Processor.STRIPE,
            payment_ref=f"pi_{invoice_id}",
            next_attempt_at=None,
        )
        self._settle_subscription(found.subscription_id)


@dataclass
class Trade:
    order_number: str
    amount: Money
    rec_trade_id: str
    outcome: AttemptOutcome
    visible: bool = True  # in TapPay's records (a timed-out trade may show up later)


class FakeTapPay(Scripted):
    """Cards by prime ("prime-ok", "prime-refused"); each charge's behaviour scripted with
    `then(...)`: "succeed", "decline", "timeout_charged" (TapPay took it, we heard nothing),
    "timeout_lost" (it never reached TapPay), "timeout_charged_later" (taken, not yet in
    TapPay's records), "unavailable"."""

    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.cards: dict[str, Card] = {}  # card_key -> card
        self.removed: list[str] = []
        self.trades: list[Trade] = []
        self.refunds: list[tuple[str, Money, str]] = []
        self.behaviour: list[str] = []

    def then(self, *behaviour: str) -> None:
        self.behaviour.extend(behaviour)

    def bind_card(
        self, prime: str, cardholder: Cardholder, currency: str
    ) -> tuple[Card, TapPayCardSecret]:
        self._call("bind_card", prime, cardholder, currency)
        if prime == "prime-refused":
            raise ProcessorRefused("Card declined by the issuer", "10003")
        n = next(self.ids)
        card = replace(BACKUP_VISA, last4=f"{1880 + n}"[-4:])
        secret = TapPayCardSecret(f"card-key-{n}", f"card-token-{n}")
        self.cards[secret.card_key] = card
        return card, secret

    def _trade(self, order_number: str, amount: Money, outcome: AttemptOutcome) -> Trade:
        trade = Trade(order_number, amount, f"D{next(self.ids):010d}", outcome)
        self.trades.append(trade)
        return trade

    def charge(
        self, secret: TapPayCardSecret, amount: Money, *, order_number: str, details: str
    ) -> ChargeResult:
        self._call("charge", secret, amount, order_number, details)
        if secret.card_key not in self.cards:
            raise ProcessorRefused("Card token not found", "10005")
        behaviour = self.behaviour.pop(0) if self.behaviour else "succeed"
        if behaviour == "unavailable":
            raise ProcessorUnavailable("TapPay answered 503")
        if behaviour == "timeout_lost":
            return ChargeResult(AttemptOutcome.UNKNOWN, None, "timed out")
        if behaviour.startswith("timeout_charged"):
            trade = self._trade(order_number, amount, AttemptOutcome.SUCCEEDED)
            trade.visible = behaviour == "timeout_charged"
            return ChargeResult(AttemptOutcome.UNKNOWN, None, "timed out")
        if behaviour == "decline":
            trade = self._trade(order_number, amount, AttemptOutcome.FAILED)
            return ChargeResult(AttemptOutcome.FAILED, trade.rec_trade_id, "Card declined")
        trade = self._trade(order_number, amount, AttemptOutcome.SUCCEEDED)
        return ChargeResult(AttemptOutcome.SUCCEEDED, trade.rec_trade_id, "")

    def find_charge(self, order_number: str) -> ChargeResult | None:
        self._call("find_charge", order_number)
        for trade in self.trades:
            if trade.order_number == order_number and trade.visible:
                return ChargeResult(trade.outcome, trade.rec_trade_id, "")
        return None

    def show_hidden_trades(self) -> None:
        for trade in self.trades:
            trade.visible = True

    def successful_charges(self) -> list[Trade]:
        return [t for t in self.trades if t.outcome is AttemptOutcome.SUCCEEDED]

    def refund(self, rec_trade_id: str, amount: Money) -> str:
        self._call("refund", rec_trade_id, amount)
        refund_id = f"tappay-refund-{next(self.ids)}"
        self.refunds.append((rec_trade_id, amount, refund_id))
        return refund_id

    def remove_card(self, secret: TapPayCardSecret) -> None:
        self._call("remove_card", secret)
        if self.cards.pop(secret.card_key, None) is None:
            raise ProcessorRefused("Card not found", "10005")
        self.removed.append(secret.card_key)

    def verify_notify(self, raw_body: bytes) -> WebhookEvent:
        raise WebhookRejected("the fake verifies nothing")


class FakePayPal(Scripted):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.ids = itertools.count(1)
        self.reads = itertools.count(1)
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.sales: dict[str, FakeInvoice] = {}
        self.refunds: list[tuple[str, Money, str]] = []
        self.by_request: dict[str, Any] = {}
        self.approval_for_quantity = False

    def plan_id(self, plan: Plan, period: Period) -> str:
        self._call("plan_id", plan.id, period)
        return f"P-{plan.id}-{period.value}"

    def start_subscription(
        self,
        *,
        paypal_plan_id: str,
        workspace_id: str,
        seats: int,
        email: str,
        return_url: str,
        cancel_url: str,
        locale: str,
        request_id: str,
    ) -> CheckoutStart:
        self._call("start_subscription", paypal_plan_id, workspace_id, seats, return_url)
        if request_id in self.by_request:
            started = self.by_request[request_id]
            assert isinstance(started, CheckoutStart)
            return started
        _, plan_id, period = paypal_plan_id.split("-")
        sub = FakeSubscription(
            id=f"I-{next(self.ids):08d}",
            customer_id=None,
            workspace_id=workspace_id,
            status="APPROVAL_PENDING",
            plan_id=plan_id,
            period=Period(period),
            quantity=seats,
            current_period_start=None,
            current_period_end=None,
        )
        self.subscriptions[sub.id] = sub
        started = CheckoutStart(f"https://paypal.test/approve/{sub.id}", sub.id)
        self.by_request[request_id] = started
        return started

    def snapshot(self, sub: FakeSubscription) -> SubscriptionSnapshot:
        return SubscriptionSnapshot(
            processor=Processor.PAYPAL,
            subscription_id=sub.id,
            customer_id=None,
            workspace_id=sub.workspace_id,
            status=sub.status,
            plan_id=sub.plan_id,
            period=sub.period,
            quantity=sub.quantity,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=False,
            card=None,
            read_at=self.clock.now() + timedelta(microseconds=next(self.reads)),
        )

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        self._call("subscription", subscription_id)
        return self.snapshot(self.subscriptions[subscription_id])

    def change_quantity(self, subscription_id: str, seats: int, *, request_id: str) -> str | None:
        self._call("change_quantity", subscription_id, seats, request_id)
        if self.approval_for_quantity:
            return f"https://paypal.test/approve-revision/{subscription_id}"
        self.subscriptions[subscription_id].quantity = seats
        return None

    def cancel(self, subscription_id: str, reason: str) -> None:
        self._call("cancel", subscription_id, reason)
        sub = self.subscriptions[subscription_id]
        sub.status = "CANCELLED"
        sub.current_period_end = None  # PayPal drops next_billing_time

    def sale(self, sale_id: str) -> InvoiceSnapshot:
        self._call("sale", sale_id)
        found = self.sales[sale_id]
        return InvoiceSnapshot(
            replace(found.invoice), None, found.subscription_id, self.clock.now()
        )

    def refund(self, capture_id: str, amount: Money, *, request_id: str) -> str:
        self._call("refund", capture_id, amount, request_id)
        if request_id not in self.by_request:
            refund_id = f"PPR-{next(self.ids)}"
            self.refunds.append((capture_id, amount, refund_id))
            self.by_request[request_id] = refund_id
        return str(self.by_request[request_id])

    def verify_webhook(self, headers: dict[str, str], raw_body: bytes) -> WebhookEvent:
        raise WebhookRejected("the fake verifies nothing")

    # -- what the test makes happen at PayPal --
    def approve(self, subscription_id: str) -> str:
        """The buyer approved: ACTIVE, first payment (a sale) completed; the sale's id."""
        sub = self.subscriptions[subscription_id]
        now = self.clock.now()
        assert sub.period is not None and sub.plan_id is not None
        sub.status = "ACTIVE"
        sub.current_period_start, sub.current_period_end = now, period_end(now, sub.period)
        plan = plan_named(sub.plan_id)
        assert plan is not None
        return self.add_sale(subscription_id, plan.seat_price[sub.period] * sub.quantity)

    def add_sale(self, subscription_id: str, amount: int) -> str:
        sub = self.subscriptions[subscription_id]
        sale_id = f"SALE-{next(self.ids)}"
        self.sales[sale_id] = FakeInvoice(
            Invoice(
                id=sale_id,
                workspace_id="",
                processor=Processor.PAYPAL,
                status=InvoiceStatus.PAID,
                amount_due=Money(amount, "usd"),
                amount_paid=Money(amount, "usd"),
                amount_refunded=Money(0, "usd"),
                created_at=self.clock.now(),
                period_start=sub.current_period_start,
                period_end=sub.current_period_end,
                paid_at=self.clock.now(),
                paid_by=Processor.PAYPAL,
                payment_ref=sale_id,
                attempt_count=1,
            ),
            None,
            subscription_id,
        )
        return sale_id


# -- queue, mail, accounts -------------------------------------------------------------------


class FakeEvents:
    def __init__(self) -> None:
        self.queued: list[WebhookEvent] = []
        self.failing = False

    def enqueue(self, event: WebhookEvent) -> None:
        if self.failing:
            raise RuntimeError("SQS refused the message")
        self.queued.append(event)


class FakeOutbox:
    """Mails by id: a second mail with an id already queued is not queued."""

    def __init__(self) -> None:
        self.by_id: dict[str, OutboundMail] = {}

    def send_once(self, mail: OutboundMail) -> bool:
        if mail.mail_id in self.by_id:
            return False
        self.by_id[mail.mail_id] = mail
        return True

    @property
    def mails(self) -> list[OutboundMail]:
        return list(self.by_id.values())

    def of_kind(self, kind: str) -> list[OutboundMail]:
        return [m for m in self.by_id.values() if m.mail_id.split(":")[-2] == kind]

    def kinds(self) -> list[str]:
        return [m.mail_id.split(":")[-2] for m in self.by_id.values()]


class FakeAccounts:
    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self.members: dict[str, list[Member]] = {}
        self.users: dict[str, User] = {}

    def add_workspace(
        self, workspace_id: str, name: str = "Acme Support", locale: str = "en"
    ) -> None:
        self.workspaces[workspace_id] = Workspace(
            id=workspace_id,
            slug=name.lower().replace(" ", "-"),
            name=name,
            timezone="Europe/Paris",
            locale=locale,
            owner_count=1,
            created_at=NOW,
            updated_at=NOW,
        )
        self.members.setdefault(workspace_id, [])

    def add_member(
        self,
        workspace_id: str,
        user_id: str,
        *,
        role: Role = Role.AGENT,
        name: str = "",
        email: str = "",
        locale: str | None = None,
    ) -> None:
        name = name or f"Member {user_id[-4:]}"
        email = email or f"{user_id[-6:].lower()}@acme.test"
        self.users[user_id] = User(user_id, email, name, "hash", NOW, locale=locale)
        self.members[workspace_id].append(Member(workspace_id, user_id, role, email, name, NOW))

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        return self.workspaces.get(workspace_id)

    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]:
        everyone = self.members.get(workspace_id, [])
        start = int(cursor or 0)
        more = str(start + limit) if start + limit < len(everyone) else None
        return Page(everyone[start : start + limit], more)

    def get_user(self, user_id: str) -> User | None:
        return self.users.get(user_id)


# -- a world to test in ----------------------------------------------------------------------


@dataclass
class BillingWorld:
    clock: FakeClock = field(default_factory=FakeClock)
    workspace_id: str = WS

    def __post_init__(self) -> None:
        self.store = FakeBillingStore(self.clock)
        self.stripe = FakeStripe(self.clock)
        self.tappay = FakeTapPay()
        self.paypal = FakePayPal(self.clock)
        self.events = FakeEvents()
        self.mail = FakeOutbox()
        self.accounts = FakeAccounts()
        self.event_ids = itertools.count(1)
        self.accounts.add_workspace(self.workspace_id)
        self.accounts.add_member(
            self.workspace_id,
            OWNER,
            role=Role.OWNER,
            name="Olivia Owner",
            email="olivia@acme.test",
        )
        self.store.create(new_trial(self.workspace_id, self.clock.now(), seats_used=1))

    def deps(self, *, tappay: bool = True, paypal: bool = True) -> BillingDeps:
        return BillingDeps(
            store=self.store,
            stripe=self.stripe,
            tappay=self.tappay if tappay else None,
            paypal=self.paypal if paypal else None,
            events=self.events,
            mail=self.mail,
            accounts=self.accounts,
            clock=self.clock,
            urls=BillingUrls(
                app_base_url="https://app.helptal.test/app",
                public_base_url="https://api.helptal.test",
            ),
        )

    @property
    def account(self) -> BillingAccount:
        found = self.store.get(self.workspace_id)
        assert found is not None
        return found

    def add_members(self, count: int) -> None:
        """`count` more agents, each taking a seat as an accepted invitation does."""
        for _ in range(count):
            n = len(self.accounts.members[self.workspace_id]) + 1
            if not self.store.take_seat(self.workspace_id):
                raise RuntimeError("no seat left")
            self.accounts.add_member(self.workspace_id, f"01HUSERAGENT{n:014d}")

    def event(
        self, type_: str, object_id: str, processor: Processor = Processor.STRIPE
    ) -> WebhookEvent:
        return WebhookEvent(
            processor, f"evt_{next(self.event_ids)}", type_, object_id, self.clock.now()
        )

    def apply(self, type_: str, object_id: str, processor: Processor = Processor.STRIPE) -> str:
        from chalicelib.billing.sync import apply_event

        return apply_event(self.deps(), self.event(type_, object_id, processor))

    def subscribe_stripe(
        self, plan: str = "pro", period: Period = Period.MONTH, seats: int = 3
    ) -> str:
        """Checkout through Stripe, completed and applied: the subscription's id."""
        from chalicelib.billing.checkout import start_checkout

        started = start_checkout(
            self.deps(), self.workspace_id, "olivia@acme.test", plan, period, seats, "stripe", "en"
        )
        subscription_id = self.stripe.complete_checkout(started.session_id)
        self.apply("checkout.session.completed", started.session_id)
        for fake in self.stripe.invoices.values():
            if fake.subscription_id == subscription_id:
                self.apply("invoice.paid", fake.invoice.id)
        return subscription_id

    def subscribe_paypal(
        self, plan: str = "pro", period: Period = Period.MONTH, seats: int = 3
    ) -> str:
        from chalicelib.billing.checkout import paypal_returned, start_checkout

        started = start_checkout(
            self.deps(), self.workspace_id, "olivia@acme.test", plan, period, seats, "paypal", "en"
        )
        sale = self.paypal.approve(started.session_id)
        paypal_returned(self.deps(), self.workspace_id, started.session_id)
        self.apply("PAYMENT.SALE.COMPLETED", sale, Processor.PAYPAL)
        return started.session_id

    def add_backup_card(self) -> None:
        from chalicelib.billing.backup_card import add_backup_card

        add_backup_card(
            self.deps(),
            self.workspace_id,
            "prime-ok",
            Cardholder("Olivia Owner", "olivia@acme.test", "+886912345678"),
        )

    def subscription_id(self) -> str:
        found = self.account.stripe_subscription_id or self.account.paypal_subscription_id
        assert found is not None
        return found
