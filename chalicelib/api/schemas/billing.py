"""Billing: the workspace's plan, seats, payment methods, invoices; checkout and changes."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.api.schemas.common import Incoming, Outgoing, QueryParams

if TYPE_CHECKING:
    from chalicelib.billing.model import Card, Invoice, Money
    from chalicelib.billing.overview import Overview
    from chalicelib.billing.plans import Plan


class MoneyOut(Outgoing):
    amount: int = Field(description="In the currency's minor unit (cents).")
    currency: str = Field(description="ISO 4217, lower case.")

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


class PlanOut(Outgoing):
    id: str
    name: str
    features: list[str]


class PlanOfferOut(PlanOut):
    max_seats: int | None = Field(description="None: as many seats as are paid for.")
    prices: dict[str, MoneyOut] = Field(description="Per seat, by period (`month`, `year`).")

    @classmethod
    def of(cls, plan: Plan) -> PlanOfferOut:
        return cls(
            id=plan.id,
            name=plan.name,
            features=sorted(plan.features),
            max_seats=plan.max_seats,
            prices={
                period.value: MoneyOut(amount=amount, currency=plan.currency)
                for period, amount in plan.seat_price.items()
            },
        )


class SeatsOut(Outgoing):
    used: int
    paid: int
    limit: int = Field(description="Members the workspace may have now.")


class NextChargeOut(Outgoing):
    at: datetime
    amount: MoneyOut


class CardOut(Outgoing):
    processor: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @classmethod
    def of(cls, card: Card | None) -> CardOut | None:
        if card is None:
            return None
        return cls(
            processor=card.processor.value,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )


class TapPaySdkOut(Outgoing):
    app_id: int
    app_key: str
    server_type: str
    sdk_url: str


class BillingOut(Outgoing):
    plan: PlanOut
    period: str | None
    status: str = Field(
        description="trialing, active, past_due, grace, read_only or canceled (read-only: "
        "members read and export; mail and chats are still received)."
    )
    writable: bool
    trial_ends_at: datetime | None
    seats: SeatsOut
    processor: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_ends_at: datetime | None
    next_charge: NextChargeOut | None
    payment_method: CardOut | None
    backup_card: CardOut | None
    plans: list[PlanOfferOut] = Field(description="The plans on sale.")
    tappay: TapPaySdkOut | None = Field(
        description="For adding a backup card with TapPay's front-end SDK (null: not offered)."
    )
    paypal: bool = Field(description="Whether PayPal is offered.")

    @classmethod
    def of(cls, overview: Overview, tappay: TapPaySdkOut | None, paypal: bool) -> BillingOut:
        from chalicelib.billing.plans import PLANS

        account, standing = overview.account, overview.standing
        plan = PLANS[standing.plan_id]
        next_charge = (
            NextChargeOut(at=overview.next_charge[0], amount=MoneyOut.of(overview.next_charge[1]))
            if overview.next_charge
            else None
        )
        return cls(
            plan=PlanOut(id=plan.id, name=plan.name, features=sorted(standing.features)),
            period=account.period.value if account.period else None,
            status=standing.status.value,
            writable=standing.writable,
            trial_ends_at=account.trial_ends_at,
            seats=SeatsOut(
                used=account.seats_used, paid=account.seats_paid, limit=standing.seat_limit
            ),
            processor=account.processor.value if account.processor else None,
            current_period_end=account.current_period_end,
            cancel_at_period_end=account.cancel_at_period_end,
            grace_ends_at=account.grace_ends_at,
            next_charge=next_charge,
            payment_method=CardOut.of(account.card),
            backup_card=CardOut.of(account.backup_card),
            plans=[PlanOfferOut.of(p) for p in PLANS.values() if p.paid],
            tappay=tappay,
            paypal=paypal,
        )


class InvoiceOut(Outgoing):
    id: str
    number: str | None
    status: str
    amount_due: MoneyOut
    amount_paid: MoneyOut
    amount_refunded: MoneyOut
    created_at: datetime
    paid_at: datetime | None
    paid_by: str | None
    period_start: datetime | None
    period_end: datetime | None
    hosted_url: str | None
    lines: list[str]

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls(
            id=invoice.id,
            number=invoice.number,
            status=invoice.status.value,
            amount_due=MoneyOut.of(invoice.amount_due),
            amount_paid=MoneyOut.of(invoice.amount_paid),
            amount_refunded=MoneyOut.of(invoice.amount_refunded),
            created_at=invoice.created_at,
            paid_at=invoice.paid_at,
            paid_by=invoice.paid_by.value if invoice.paid_by else None,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            hosted_url=invoice.hosted_url,
            lines=list(invoice.lines),
        )


class InvoicesPageOut(Outgoing):
    invoices: list[InvoiceOut]
    next_cursor: str | None


class CheckoutIn(Incoming):
    plan: Literal["starter", "pro"]
    period: Literal["month", "year"]
    seats: int = Field(ge=1, le=1000)
    processor: Literal["stripe", "paypal"] = "stripe"


class RedirectOut(Outgoing):
    url: str = Field(description="Where to send the owner's browser next.")


class SeatsIn(Incoming):
    seats: int = Field(ge=1, le=1000)


def _one_line(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("no line breaks or control characters")
    return value


class CardholderIn(Incoming):
    # Given to TapPay and the bank as it is: one line of text, not blank.
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
        AfterValidator(_one_line),
    ]
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str = Field(min_length=4, max_length=32, pattern=r"^\+?[0-9 ()-]+$")


class BackupCardIn(Incoming):
    prime: str = Field(
        min_length=8, max_length=200, description="From TapPay's front-end SDK (`getPrime`)."
    )
    cardholder: CardholderIn


class SubscriptionCancelIn(Incoming):
    when: Literal["period_end", "now"] = "period_end"
    reason: str = Field(default="", max_length=500)


class RefundOut(Outgoing):
    amount: MoneyOut
    processor: str


class CancellationOut(Outgoing):
    billing: BillingOut
    refund: RefundOut | None


class PayPalReturnQuery(QueryParams):
    workspace: str | None = Field(default=None, description="The workspace it was for.")
    subscription_id: str | None = Field(default=None, description="PayPal's `I-…` id.")
    ba_token: str | None = Field(default=None, description="PayPal's billing agreement token.")
    token: str | None = Field(default=None, description="PayPal's approval token.")
