"""What billing knows about a workspace: its account (plan, status, seats, processor ids),
its invoices, payment attempts and refunds.  Amounts are integer minor units and always
carry their currency (`Money`).  Helptal never holds a card number: a card is its
processor's token plus brand, last four digits and expiry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chalicelib.billing.plans import Feature, Period


class BillingStatus(StrEnum):
    TRIALING = "trialing"  # the 14-day trial of a new workspace
    ACTIVE = "active"  # paid up, or on the free plan
    PAST_DUE = "past_due"  # a payment failed; the processor is retrying
    GRACE = "grace"  # every automatic attempt failed: 7 days to pay before read-only
    READ_ONLY = "read_only"  # agents read and export; mail and chats are still received
    CANCELED = "canceled"  # the paid subscription ended: the free plan's limits apply


class Processor(StrEnum):
    STRIPE = "stripe"
    TAPPAY = "tappay"  # the backup card, charged when Stripe's last retry fails
    PAYPAL = "paypal"


@dataclass(frozen=True)
class Money:
    amount: int  # minor units (cents)
    currency: str  # ISO 4217, lower case ("usd")

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.islower():
            raise ValueError(f"currency must be a lower-case ISO 4217 code, got {self.currency!r}")

    def minus(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("amounts in different currencies")
        return Money(self.amount - other.amount, self.currency)


@dataclass(frozen=True)
class Card:
    """A card as shown to owners: never its number."""

    processor: Processor
    brand: str  # "visa", "mastercard", "amex", … (lower case)
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class TapPayCardSecret:
    """TapPay's token pair for a remembered card (`card_secret`); stored sealed."""

    card_key: str
    card_token: str


@dataclass
class BillingAccount:
    """One per workspace (created with it, on a trial)."""

    workspace_id: str
    plan_id: str
    status: BillingStatus
    seats_paid: int  # the subscription's quantity (trial: TRIAL_SEATS; free: the plan's max)
    seats_used: int  # members; kept in the same transactions that add or remove one
    created_at: datetime
    updated_at: datetime
    period: Period | None = None
    trial_ends_at: datetime | None = None
    processor: Processor | None = None  # who bills the subscription: STRIPE or PAYPAL
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    paypal_subscription_id: str | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    card: Card | None = None  # Stripe's default payment method
    backup_card: Card | None = None  # TapPay (its secret is kept apart, sealed)
    past_due_since: datetime | None = None
    grace_ends_at: datetime | None = None
    # When the provider state applied last was read from the provider: a snapshot read
    # earlier than this is older and is not applied (events arrive in any order).
    synced_at: datetime | None = None
    billing_email: str | None = None  # receipts and dunning mail go to owners and here
    version: int = 0


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


@dataclass
class Invoice:
    """A bill: Stripe's invoice, or a PayPal subscription payment."""

    id: str  # the processor's id ("in_…", PayPal sale "…")
    workspace_id: str
    processor: Processor  # who issued it (STRIPE or PAYPAL)
    status: InvoiceStatus
    amount_due: Money
    amount_paid: Money
    amount_refunded: Money
    created_at: datetime
    period_start: datetime | None = None
    period_end: datetime | None = None
    number: str | None = None
    paid_at: datetime | None = None
    paid_by: Processor | None = None  # STRIPE, TAPPAY (out of band) or PAYPAL
    # The processor's payment reference, refunded through `paid_by`: a Stripe payment
    # intent "pi_…", a TapPay rec_trade_id, a PayPal capture (sale) id.
    payment_ref: str | None = None
    hosted_url: str | None = None  # where the owner sees or pays it
    attempt_count: int = 0
    next_attempt_at: datetime | None = None  # None once the processor stopped retrying
    lines: list[str] = field(default_factory=list)  # "3 x Pro (month)"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # timed out: look the charge up before trying again


@dataclass(frozen=True)
class PaymentAttempt:
    id: str  # deterministic per invoice and try, e.g. "<invoice id>:tappay:1"
    workspace_id: str
    invoice_id: str
    processor: Processor
    amount: Money
    outcome: AttemptOutcome
    at: datetime
    reference: str | None = None  # the processor's transaction id
    detail: str = ""  # the processor's message (decline reason)


@dataclass(frozen=True)
class Refund:
    id: str
    workspace_id: str
    invoice_id: str
    processor: Processor
    amount: Money
    reason: str  # "cancellation", "subprocessor_objection", …
    at: datetime
    reference: str | None = None  # the processor's refund id


@dataclass(frozen=True)
class Standing:
    """What a workspace may do now: derived from its account and the time."""

    status: BillingStatus  # effective: an expired trial or grace is already moved on
    plan_id: str
    features: frozenset[Feature]
    seat_limit: int
    writable: bool  # False when read-only (unpaid past grace)


# --- what a provider says now (read back from it after a webhook, never trusted from
# the webhook's body alone) ----------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionSnapshot:
    processor: Processor
    subscription_id: str
    customer_id: str | None
    workspace_id: str | None  # from the subscription's metadata / custom_id
    status: str  # the provider's own status word ("active", "past_due", "ACTIVE", …)
    plan_id: str | None  # from the price's lookup key; None when it names no plan of ours
    period: Period | None
    quantity: int
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    card: Card | None
    read_at: datetime  # when it was read from the provider
    ended_at: datetime | None = None


@dataclass(frozen=True)
class CheckoutStart:
    url: str
    session_id: str


@dataclass(frozen=True)
class ChargeResult:
    outcome: AttemptOutcome
    reference: str | None  # TapPay rec_trade_id
    detail: str = ""
