"""The ports billing works with: the billing store (chalicelib/store/billing_repo.py), one
gateway per payment processor (chalicelib/providers/stripe_billing.py, tappay.py, paypal.py),
the billing-events queue and the mail outbox.  Gateways raise `ProcessorUnavailable` for
what is worth retrying (network, 5xx, 429, a timeout) and `ProcessorRefused` for a
permanent refusal (4xx, a decline); they never leak a vendor exception."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.accounts.model import Page
from chalicelib.billing.model import (
    BillingAccount,
    Card,
    ChargeResult,
    CheckoutStart,
    Invoice,
    Money,
    PaymentAttempt,
    Processor,
    Refund,
    SubscriptionSnapshot,
    TapPayCardSecret,
)
from chalicelib.billing.plans import Period, Plan
from chalicelib.mail.outbound import OutboundMail


class ProcessorUnavailable(Exception):
    """Worth retrying later (the queue retries; the last failure lands in the DLQ)."""


class ProcessorRefused(Exception):
    """A permanent refusal, e.g. a declined card or an invalid request.  `code` is the
    processor's own code ("card_declined", TapPay's status number, …)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class WebhookRejected(Exception):
    """A delivery that is not from the processor, or is stale: answered 400, nothing kept."""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery, reduced to what the worker needs: the object is read back from
    the processor before anything is applied."""

    processor: Processor
    id: str  # the provider's event id ("evt_…", "WH-…", TapPay's rec_trade_id)
    type: str  # "invoice.payment_failed", "BILLING.SUBSCRIPTION.ACTIVATED", "tappay.notify"
    object_id: str  # the subscription / invoice / checkout session / sale / trade it is about
    created: datetime


@dataclass(frozen=True)
class InvoiceSnapshot:
    invoice: Invoice  # workspace_id "" when the adapter cannot tell (the service resolves it)
    customer_id: str | None
    subscription_id: str | None
    read_at: datetime


@dataclass(frozen=True)
class CheckoutSnapshot:
    session_id: str
    workspace_id: str | None  # client_reference_id
    customer_id: str | None
    subscription_id: str | None
    complete: bool


@dataclass(frozen=True)
class Cardholder:
    name: str
    email: str
    phone: str


class StripeGateway(Protocol):
    def create_customer(
        self, workspace_id: str, email: str, name: str, *, idempotency_key: str
    ) -> str: ...

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
        """A Checkout Session in subscription mode (automatic tax on, per-seat quantity,
        `client_reference_id` and subscription metadata `workspace_id`)."""

    def portal_url(self, customer_id: str, return_url: str, locale: str) -> str: ...

    def checkout_session(self, session_id: str) -> CheckoutSnapshot: ...

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot: ...

    def change_quantity(
        self, subscription_id: str, seats: int, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """Prorated (`proration_behavior=create_prorations`)."""

    def cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot: ...

    def cancel_now(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        """Ends it now, without Stripe's own proration credit (refunds are ours)."""

    def invoice(self, invoice_id: str) -> InvoiceSnapshot: ...

    def latest_paid_invoice(self, subscription_id: str) -> InvoiceSnapshot | None: ...

    def mark_paid_out_of_band(self, invoice_id: str, *, idempotency_key: str) -> None: ...

    def refund(self, payment_ref: str, amount: Money, *, idempotency_key: str) -> str:
        """Refunds `amount` of payment intent `payment_ref`; the refund's id."""

    def verify_webhook(self, raw_body: bytes, signature_header: str) -> WebhookEvent:
        """Raises WebhookRejected (bad signature, stale timestamp, not an event)."""


class TapPayGateway(Protocol):
    def bind_card(
        self, prime: str, cardholder: Cardholder, currency: str
    ) -> tuple[Card, TapPayCardSecret]:
        """Exchanges a front-end prime for a remembered card (no charge)."""

    def charge(
        self,
        secret: TapPayCardSecret,
        amount: Money,
        *,
        order_number: str,
        details: str,
    ) -> ChargeResult:
        """Pay by Card Token.  A timeout is outcome UNKNOWN: `find_charge` before retrying."""

    def find_charge(self, order_number: str) -> ChargeResult | None: ...

    def refund(self, rec_trade_id: str, amount: Money) -> str: ...

    def remove_card(self, secret: TapPayCardSecret) -> None: ...

    def verify_notify(self, raw_body: bytes) -> WebhookEvent:
        """TapPay's backend notify has no signature: the trade it names is looked up with
        the Record API and only a trade TapPay confirms is accepted (else WebhookRejected)."""


class PayPalGateway(Protocol):
    def plan_id(self, plan: Plan, period: Period) -> str:
        """PayPal's plan for ours (created with its product on first use, then remembered)."""

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
        """`url` is the buyer's approval link, `session_id` the subscription id "I-…"."""

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot: ...

    def change_quantity(self, subscription_id: str, seats: int, *, request_id: str) -> str | None:
        """Revises the quantity; the approval link when PayPal needs the buyer again."""

    def cancel(self, subscription_id: str, reason: str) -> None: ...

    def sale(self, sale_id: str) -> InvoiceSnapshot:
        """A subscription payment as an invoice (id = the sale/capture id)."""

    def refund(self, capture_id: str, amount: Money, *, request_id: str) -> str: ...

    def verify_webhook(self, headers: dict[str, str], raw_body: bytes) -> WebhookEvent:
        """Postback to verify-webhook-signature; FAILURE or missing headers: WebhookRejected."""


class AccountChanged(Exception):
    """The account changed since it was read (version): read again and retry."""


class SeatsInUse(Exception):
    """Fewer seats than members were asked for."""


class BillingStore(Protocol):
    """Access patterns: docs/data-model.md, Billing."""

    def get(self, workspace_id: str) -> BillingAccount | None: ...

    def create(self, account: BillingAccount) -> bool:
        """False when the workspace already has one."""

    def save(self, account: BillingAccount) -> BillingAccount:
        """Writes under the version read (raises AccountChanged); the saved copy, version+1."""

    def save_synced(self, account: BillingAccount, read_at: datetime) -> bool:
        """Like `save`, and only if no newer provider snapshot was applied (`synced_at`
        older than `read_at`); sets synced_at = read_at.  False when it was older."""

    def set_seats_paid(self, workspace_id: str, seats: int) -> None:
        """Raises SeatsInUse when seats_used > seats (checked in the same write)."""

    def link_customer(self, workspace_id: str, processor: Processor, customer_ref: str) -> None:
        """Remembers the Stripe customer / PayPal subscription id → workspace lookup."""

    def workspace_of(self, processor: Processor, customer_ref: str) -> str | None: ...

    def put_invoice(self, invoice: Invoice) -> None: ...

    def get_invoice(self, workspace_id: str, invoice_id: str) -> Invoice | None: ...

    def list_invoices(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Invoice]:
        """Newest first."""

    def record_attempt(self, attempt: PaymentAttempt) -> bool:
        """False when an attempt with this id was recorded already."""

    def attempts(self, workspace_id: str, invoice_id: str) -> list[PaymentAttempt]: ...

    def record_refund(self, refund: Refund) -> bool:
        """False when a refund with this id was recorded already."""

    def refunds(self, workspace_id: str, invoice_id: str) -> list[Refund]: ...

    def backup_card_secret(self, workspace_id: str) -> TapPayCardSecret | None: ...

    def set_backup_card(
        self, workspace_id: str, card: Card | None, secret: TapPayCardSecret | None
    ) -> None:
        """Sets (or, with None, removes) the backup card on the account and its sealed secret."""

    def first_delivery(self, processor: Processor, event_id: str) -> bool:
        """One conditional write: True the first time this event id is seen (kept 30 days)."""

    def forget_delivery(self, processor: Processor, event_id: str) -> None:
        """Releases a claim whose event could not be queued, so the provider's retry counts."""

    def due(self, before: datetime, limit: int) -> list[tuple[str, datetime]]:
        """Workspaces whose trial or grace ends before `before`: (workspace id, deadline),
        oldest first (a sparse index, never a Scan)."""


class BillingEvents(Protocol):
    """The billing-events queue (with its DLQ): verified webhook deliveries to apply."""

    def enqueue(self, event: WebhookEvent) -> None: ...


class BillingMail(Protocol):
    def send_once(self, mail: OutboundMail) -> bool:
        """Queues `mail` unless one with its `mail_id` was queued before."""
