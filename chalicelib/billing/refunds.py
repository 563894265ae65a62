"""Refunding the unused part of a prepaid period, by days, through the processor that took
the payment (a Stripe refund, a TapPay refund, a PayPal capture refund).

The same function serves a cancellation with refund and the sub-processor objection remedy:
each refund is recorded once per invoice and reason (`<invoice id>:<reason>`), and what was
refunded already is never refunded again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.billing import mails
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import (
    BillingAccount,
    Invoice,
    InvoiceStatus,
    Money,
    Processor,
    Refund,
)
from chalicelib.billing.overview import account_of
from chalicelib.errors import Conflict

DAY = timedelta(days=1)
INVOICES_LOOKED_AT = 20


def prorated_refund(
    paid: Money, period_start: datetime, period_end: datetime, at: datetime
) -> Money:
    """The part of `paid` for the whole days of the period left at `at`: paid x unused days
    // days of the period (rounded down, never negative, never more than paid)."""
    total = (period_end - period_start) // DAY
    if total <= 0 or paid.amount <= 0:
        return Money(0, paid.currency)
    unused = min(max((period_end - at) // DAY, 0), total)
    return Money(paid.amount * unused // total, paid.currency)


def _period(invoice: Invoice, account: BillingAccount) -> tuple[datetime, datetime] | None:
    start, end = invoice.period_start, invoice.period_end
    if start is not None and end is not None and end > start:
        return start, end
    if account.current_period_start is not None and account.current_period_end is not None:
        return account.current_period_start, account.current_period_end
    return None


def _paid_invoice_of_period(
    deps: BillingDeps, account: BillingAccount, at: datetime
) -> Invoice | None:
    """The newest paid invoice whose period holds `at` (the store's, else the one Stripe
    says is the subscription's latest paid, recorded then)."""
    page = deps.store.list_invoices(account.workspace_id, None, INVOICES_LOOKED_AT)
    for invoice in page.entries:
        if invoice.status is not InvoiceStatus.PAID or invoice.amount_paid.amount <= 0:
            continue
        period = _period(invoice, account)
        if period is not None and period[0] <= at < period[1]:
            return invoice
    if account.stripe_subscription_id and account.processor is Processor.STRIPE:
        latest = deps.stripe.latest_paid_invoice(account.stripe_subscription_id)
        if latest is not None:
            invoice = replace(latest.invoice, workspace_id=account.workspace_id)
            period = _period(invoice, account)
            if period is not None and period[0] <= at < period[1]:
                deps.store.put_invoice(invoice)
                return invoice
    return None


def _refund_through(deps: BillingDeps, invoice: Invoice, amount: Money, refund_id: str) -> str:
    """Refunds `amount` of the invoice's payment with the processor that took it: the
    processor's refund id."""
    reference = invoice.payment_ref
    if not reference or invoice.paid_by is None:
        raise Conflict(
            "This payment cannot be refunded from here; contact support.",
            code="refund_unavailable",
        )
    if invoice.paid_by is Processor.STRIPE:
        return deps.stripe.refund(reference, amount, idempotency_key=f"refund:{refund_id}")
    if invoice.paid_by is Processor.PAYPAL:
        if deps.paypal is None:
            raise Conflict(
                "This deployment does not offer PayPal.", code="processor_not_configured"
            )
        return deps.paypal.refund(reference, amount, request_id=f"refund:{refund_id}")
    if deps.tappay is None:
        raise Conflict("This deployment does not offer TapPay.", code="processor_not_configured")
    return deps.tappay.refund(reference, amount)


def refund_unused_part(deps: BillingDeps, workspace_id: str, reason: str) -> Refund | None:
    """Refunds the unused whole days of the current period's paid invoice, minus what was
    refunded of it already, through the processor that took the payment.  Idempotent: the
    refund of an invoice for a reason is made once (a second call returns it, refunding
    nothing more); None when nothing is left to refund.  Records the refund and the
    invoice's refunded amount; mails the owners."""
    account = account_of(deps, workspace_id)
    now = deps.clock.now()
    invoice = _paid_invoice_of_period(deps, account, now)
    if invoice is None:
        return None
    refund_id = f"{invoice.id}:{reason}"
    earlier = deps.store.refunds(workspace_id, invoice.id)
    for refund in earlier:
        if refund.id == refund_id:
            return refund
    period = _period(invoice, account)
    if period is None:
        return None
    owed = prorated_refund(invoice.amount_paid, period[0], period[1], now)
    recorded = sum(r.amount.amount for r in earlier if r.amount.currency == owed.currency)
    already = max(recorded, invoice.amount_refunded.amount)
    amount = Money(owed.amount - already, owed.currency)
    if amount.amount <= 0:
        return None
    reference = _refund_through(deps, invoice, amount, refund_id)
    refund = Refund(
        id=refund_id,
        workspace_id=workspace_id,
        invoice_id=invoice.id,
        processor=invoice.paid_by or Processor.STRIPE,
        amount=amount,
        reason=reason,
        at=now,
        reference=reference,
    )
    deps.store.record_refund(refund)
    refunded = Money(already + amount.amount, amount.currency)
    deps.store.put_invoice(replace(invoice, amount_refunded=refunded))
    mails.send(
        deps,
        workspace_id,
        mails.BillingNotice("refund_issued", refund_id, amount=amount, processor=refund.processor),
        account.billing_email,
    )
    return refund
