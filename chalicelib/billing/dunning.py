"""What happens when a payment fails, until one succeeds.

A failed payment makes the account past due and mails the owners (once per invoice).  When
Stripe stops retrying an invoice, the backup card is charged through TapPay; if that pays
it, the Stripe invoice is marked paid out of band and the account is active again.  If it
does not (or there is no backup card), a 7-day grace period starts (mailed, with the day it
ends); the hourly `run_due` makes the account read-only when it is over (mailed).  Any
successful payment makes it active again.

A backup charge is never made twice: each try is recorded as a `PaymentAttempt`
(`<invoice>:tappay:<n>`, TapPay's order number derived from it), a try is claimed with a
conditional write before TapPay is called, and a try whose outcome is unknown (a timeout)
is looked up with `find_charge` before any other try is made: another try is made only
when TapPay's records still do not show it LOOKUP_WAIT after it (until then the event is
retried, raising ProcessorUnavailable)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from hashlib import sha256

from chalicelib.billing import mails
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import (
    AttemptOutcome,
    BillingAccount,
    BillingStatus,
    ChargeResult,
    Invoice,
    InvoiceStatus,
    Money,
    PaymentAttempt,
    Processor,
    Refund,
)
from chalicelib.billing.overview import change_account, grace_ref, settle
from chalicelib.billing.plans import GRACE_DAYS
from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable
from chalicelib.observability import logger

DUNNING = frozenset({BillingStatus.PAST_DUE, BillingStatus.GRACE, BillingStatus.READ_ONLY})
# A backup charge is tried again only when TapPay confirms the earlier try never reached it.
MAX_BACKUP_TRIES = 3
DUE_BATCH = 100
PAID_TWICE = "paid_twice"  # the reason of a backup charge given back
ORDER_NUMBER_MAX = 50  # TapPay's limit
# A try whose outcome is unknown and that TapPay's records still do not show after this
# long never reached TapPay: only then is another try made.
LOOKUP_WAIT = timedelta(minutes=10)


def order_number(attempt_id: str) -> str:
    """TapPay's order number for an attempt: its id in the characters TapPay takes (a hash
    when too long), so a try can be looked up after a timeout."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", attempt_id)
    if len(readable) <= ORDER_NUMBER_MAX:
        return readable
    return "helptal-" + sha256(attempt_id.encode()).hexdigest()[:32]


def attempt_id(invoice_id: str, try_number: int) -> str:
    return f"{invoice_id}:tappay:{try_number}"


def _try_number(attempt: PaymentAttempt) -> int:
    tail = attempt.id.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def amount_due(invoice: Invoice) -> Money:
    return invoice.amount_due.minus(invoice.amount_paid)


# -- a payment failed, Stripe (or PayPal) retries --------------------------------------------


def payment_failed(deps: BillingDeps, workspace_id: str, about: str, amount: Money) -> str:
    """The account is past due (unless already in grace or read-only); the owners are
    mailed once per `about` (the invoice)."""

    def change(account: BillingAccount) -> BillingAccount | None:
        if account.status is not BillingStatus.ACTIVE:
            return None
        account.status = BillingStatus.PAST_DUE
        account.past_due_since = account.past_due_since or deps.clock.now()
        return account

    _, after = change_account(deps, workspace_id, change)
    if after.status in DUNNING:
        mails.send(
            deps,
            workspace_id,
            mails.BillingNotice("payment_failed", about, amount=amount),
            after.billing_email,
        )
    return after.status.value


def start_grace(deps: BillingDeps, workspace_id: str, amount: Money | None) -> BillingAccount:
    """GRACE_DAYS to pay before read-only (a grace period already running is kept); the
    owners are mailed once per grace period, with the day it ends."""

    def change(account: BillingAccount) -> BillingAccount | None:
        if account.status not in (BillingStatus.ACTIVE, BillingStatus.PAST_DUE):
            return None
        now = deps.clock.now()
        account.status = BillingStatus.GRACE
        account.past_due_since = account.past_due_since or now
        account.grace_ends_at = now + timedelta(days=GRACE_DAYS)
        return account

    _, after = change_account(deps, workspace_id, change)
    if after.status is BillingStatus.GRACE:
        mails.send(
            deps,
            workspace_id,
            mails.BillingNotice(
                "grace_started",
                grace_ref(after.grace_ends_at),
                amount=amount,
                date=after.grace_ends_at,
            ),
            after.billing_email,
        )
    return after


def payment_received(
    deps: BillingDeps,
    workspace_id: str,
    invoice: Invoice,
    *,
    was_failing: bool,
    force_active: bool = True,
) -> BillingAccount:
    """A payment succeeded: the account is active again (`force_active`; else as its
    subscription's status already says), its dunning dates cleared; the owners are mailed
    when it follows a failure."""

    def change(account: BillingAccount) -> BillingAccount | None:
        if not force_active or account.status not in DUNNING:
            return None
        account.status = BillingStatus.ACTIVE
        account.past_due_since = None
        account.grace_ends_at = None
        return account

    before, after = change_account(deps, workspace_id, change)
    failing = was_failing or before.status in DUNNING or invoice.attempt_count > 1
    if after.status is BillingStatus.ACTIVE and failing:
        card = after.backup_card if invoice.paid_by is Processor.TAPPAY else None
        mails.send(
            deps,
            workspace_id,
            mails.BillingNotice("restored", invoice.id, amount=invoice.amount_paid, card=card),
            after.billing_email,
        )
    return after


# -- Stripe stopped retrying: the backup card ------------------------------------------------


def _known(result: ChargeResult | None) -> bool:
    return result is not None and result.outcome is not AttemptOutcome.UNKNOWN


def _record(
    deps: BillingDeps, account: BillingAccount, invoice: Invoice, number: int, result: ChargeResult
) -> None:
    deps.store.record_attempt(
        PaymentAttempt(
            id=attempt_id(invoice.id, number),
            workspace_id=account.workspace_id,
            invoice_id=invoice.id,
            processor=Processor.TAPPAY,
            amount=amount_due(invoice),
            outcome=result.outcome,
            at=deps.clock.now(),
            reference=result.reference,
            detail=result.detail[:500],
        )
    )


def backup_charge(
    deps: BillingDeps, account: BillingAccount, invoice: Invoice
) -> ChargeResult | None:
    """The backup card's charge for `invoice`: the one made already when there is one
    (recorded, or found at TapPay after a timeout), else a new try.  None without a backup
    card.  Raises ProcessorUnavailable while the outcome of a try cannot be known yet."""
    tappay = deps.tappay
    if tappay is None:
        return None
    tries = sorted(
        (
            a
            for a in deps.store.attempts(account.workspace_id, invoice.id)
            if a.processor is Processor.TAPPAY
        ),
        key=_try_number,
    )
    for done in tries:
        if done.outcome is AttemptOutcome.SUCCEEDED:
            return ChargeResult(done.outcome, done.reference, done.detail)
    if tries and tries[-1].outcome is AttemptOutcome.FAILED:
        last = tries[-1]
        return ChargeResult(last.outcome, last.reference, last.detail)
    if tries:  # the last try's outcome is unknown: ask TapPay before any other try
        last = tries[-1]
        found = tappay.find_charge(order_number(last.id))
        if _known(found):
            return found
        if found is not None or deps.clock.now() < last.at + LOOKUP_WAIT:
            # It may still show up in TapPay's records: look again later, charge nothing.
            raise ProcessorUnavailable("the backup card's charge is still being processed")
    number = _try_number(tries[-1]) + 1 if tries else 1
    if number > MAX_BACKUP_TRIES:
        return ChargeResult(AttemptOutcome.FAILED, None, "no more tries")
    secret = deps.store.backup_card_secret(account.workspace_id)
    if secret is None or account.backup_card is None:
        return None
    amount = amount_due(invoice)
    if amount.amount <= 0:
        return None
    this_try = attempt_id(invoice.id, number)
    order = order_number(this_try)
    if not deps.store.first_delivery(Processor.TAPPAY, f"charge:{this_try}"):
        # Another run claimed this try: its charge is looked up, never made again.
        found = tappay.find_charge(order)
        if _known(found):
            return found
        unknown = ChargeResult(AttemptOutcome.UNKNOWN, None, "claimed by another run")
        _record(deps, account, invoice, number, unknown)
        raise ProcessorUnavailable("the backup card's charge is under way")
    try:
        result = tappay.charge(
            secret, amount, order_number=order, details=f"Helptal {invoice.number or invoice.id}"
        )
    except ProcessorRefused as e:
        result = ChargeResult(AttemptOutcome.FAILED, None, f"{e.code} {e}".strip())
    except ProcessorUnavailable:
        _record(deps, account, invoice, number, ChargeResult(AttemptOutcome.UNKNOWN, None))
        raise
    _record(deps, account, invoice, number, result)
    if result.outcome is AttemptOutcome.UNKNOWN:
        found = tappay.find_charge(order)
        if _known(found):
            return found
        raise ProcessorUnavailable("the backup card's charge timed out")
    return result


def _give_back(
    deps: BillingDeps, workspace_id: str, invoice: Invoice, result: ChargeResult
) -> Invoice:
    """Stripe took the invoice's payment meanwhile (the owner paid it): the backup card's
    charge is refunded (once) and the invoice recorded as Stripe has it."""
    refund_id = f"{invoice.id}:{PAID_TWICE}"
    amount = invoice.amount_due.minus(invoice.amount_paid)
    done = any(r.id == refund_id for r in deps.store.refunds(workspace_id, invoice.id))
    if not done and deps.tappay is not None and result.reference:
        reference = deps.tappay.refund(result.reference, amount)
        deps.store.record_refund(
            Refund(
                id=refund_id,
                workspace_id=workspace_id,
                invoice_id=invoice.id,
                processor=Processor.TAPPAY,
                amount=amount,
                reason=PAID_TWICE,
                at=deps.clock.now(),
                reference=reference,
            )
        )
    logger.warning(
        "an invoice paid through Stripe while the backup card paid it: card refunded",
        extra={"workspace_id": workspace_id, "invoice_id": invoice.id},
    )
    stripe_side = replace(deps.stripe.invoice(invoice.id).invoice, workspace_id=workspace_id)
    deps.store.put_invoice(stripe_side)
    return stripe_side


def _paid_by_backup_card(
    deps: BillingDeps, workspace_id: str, invoice: Invoice, result: ChargeResult
) -> str:
    """Records the invoice as paid by the backup card (first: a run cut short after it
    knows what to refund through), marks it paid out of band at Stripe, and makes the
    account active again."""
    now = deps.clock.now()
    paid = replace(
        invoice,
        status=InvoiceStatus.PAID,
        amount_paid=invoice.amount_due,
        paid_at=invoice.paid_at or now,
        paid_by=Processor.TAPPAY,
        payment_ref=result.reference,
        next_attempt_at=None,
    )
    deps.store.put_invoice(paid)
    try:
        deps.stripe.mark_paid_out_of_band(
            invoice.id, idempotency_key=f"paid-by-backup:{invoice.id}"
        )
    except ProcessorRefused as e:
        if e.code == "invoice_paid":
            stripe_side = _give_back(deps, workspace_id, invoice, result)
            payment_received(deps, workspace_id, stripe_side, was_failing=True)
            return "paid"
        # Paid (by TapPay) whatever Stripe says: the owner must not lose access over it.
        logger.error(
            "Stripe refused to mark an invoice paid by the backup card",
            extra={"workspace_id": workspace_id, "invoice_id": invoice.id, "code": e.code},
        )
    payment_received(deps, workspace_id, paid, was_failing=True)
    return "paid_by_backup_card"


def final_failure(deps: BillingDeps, account: BillingAccount, invoice: Invoice) -> str:
    """Stripe's last retry of `invoice` failed: the backup card pays it, else grace."""
    result = backup_charge(deps, account, invoice)
    if result is not None and result.outcome is AttemptOutcome.SUCCEEDED:
        return _paid_by_backup_card(deps, account.workspace_id, invoice, result)
    start_grace(deps, account.workspace_id, amount_due(invoice))
    return "grace"


# -- the hourly schedule ---------------------------------------------------------------------


def run_due(deps: BillingDeps, now: datetime) -> dict[str, int]:
    """Moves the accounts whose trial or grace period ended before `now` (trial -> free
    plan, grace -> read-only; owners mailed): counts by outcome.  One workspace failing
    does not hold up the others (logged; it is due again next run)."""
    counts = {"due": 0, "trial_ended": 0, "read_only": 0, "unchanged": 0, "failed": 0}
    for workspace_id, _deadline in deps.store.due(before=now, limit=DUE_BATCH):
        counts["due"] += 1
        try:
            _, kind = settle(deps, workspace_id, now)
        except Exception:
            logger.exception("billing deadline not applied", extra={"workspace_id": workspace_id})
            counts["failed"] += 1
            continue
        counts[kind if kind in counts else "unchanged"] += 1
    return counts
