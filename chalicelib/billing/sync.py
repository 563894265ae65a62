"""Applying what a processor says: a verified webhook event names an object (subscription,
invoice, checkout session, PayPal sale); the object is read back from the processor and
the account follows the object's state, never the event's type or arrival order.

A subscription's state is saved with the time it was read (`save_synced`): a snapshot read
earlier than the one applied last is not applied, so events in any order, or twice, end in
the same account.  Invoices are recorded as read (what only Helptal knows of one, such as
a payment by the backup card, is kept) and drive the dunning steps (dunning.py).

Status mapping, snapshot -> account:
- Stripe: active/trialing -> ACTIVE (dunning cleared); past_due/unpaid -> PAST_DUE unless the
  account is in GRACE or READ_ONLY (kept); canceled/incomplete_expired -> CANCELED (free
  plan); incomplete/paused -> unchanged.
- PayPal: ACTIVE -> ACTIVE; SUSPENDED -> GRACE (unless READ_ONLY); CANCELLED/EXPIRED ->
  CANCELED, except while a period the owner canceled at its end is still paid for;
  APPROVAL_PENDING/APPROVED -> unchanged.
A snapshot's plan, period, quantity (seats_paid), current period, cancel_at_period_end and
card are copied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.billing import dunning, mails
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import (
    BillingAccount,
    BillingStatus,
    Invoice,
    InvoiceStatus,
    Money,
    Processor,
    SubscriptionSnapshot,
)
from chalicelib.billing.overview import SAVE_ATTEMPTS, account_of, busy, grace_ref
from chalicelib.billing.plans import FREE, GRACE_DAYS, plan_named
from chalicelib.billing.ports import (
    AccountChanged,
    InvoiceSnapshot,
    ProcessorRefused,
    WebhookEvent,
)
from chalicelib.billing.standing import SUBSCRIBED, as_canceled
from chalicelib.observability import logger

STRIPE_CHECKOUT_EVENTS = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)
STRIPE_SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
    }
)
STRIPE_INVOICE_EVENTS = frozenset(
    {
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "invoice.marked_uncollectible",
        "invoice.voided",
        "invoice.updated",
    }
)
# Refunds: the adapter names the refunded charge's invoice as the event's object.
STRIPE_REFUND_EVENTS = frozenset(
    {"charge.refunded", "charge.refund.updated", "refund.created", "refund.updated"}
)
PAYPAL_SUBSCRIPTION_EVENTS = frozenset(
    {
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "BILLING.SUBSCRIPTION.UPDATED",
        "BILLING.SUBSCRIPTION.RE-ACTIVATED",
        "BILLING.SUBSCRIPTION.SUSPENDED",
        "BILLING.SUBSCRIPTION.CANCELLED",
        "BILLING.SUBSCRIPTION.EXPIRED",
    }
)
PAYPAL_PAYMENT_FAILED = "BILLING.SUBSCRIPTION.PAYMENT.FAILED"
# Sales (and their refunds): the adapter names the sale (capture) as the event's object.
PAYPAL_SALE_EVENTS = frozenset(
    {
        "PAYMENT.SALE.COMPLETED",
        "PAYMENT.SALE.REFUNDED",
        "PAYMENT.SALE.REVERSED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
    }
)

STRIPE_ACTIVE = frozenset({"active", "trialing"})
STRIPE_PAST_DUE = frozenset({"past_due", "unpaid"})
STRIPE_ENDED = frozenset({"canceled", "incomplete_expired"})
PAYPAL_ENDED = frozenset({"CANCELLED", "EXPIRED"})


# -- subscriptions ---------------------------------------------------------------------------


def _subscription_of(account: BillingAccount, processor: Processor) -> str | None:
    if processor is Processor.STRIPE:
        return account.stripe_subscription_id
    return account.paypal_subscription_id


def _live(account: BillingAccount) -> bool:
    return (
        account.status in SUBSCRIBED
        and account.processor is not None
        and _subscription_of(account, account.processor) is not None
    )


def _status(
    account: BillingAccount, snapshot: SubscriptionSnapshot, now: datetime
) -> BillingStatus | None:
    """The account's status once `snapshot` applies; None for a snapshot that changes
    nothing (a checkout not paid yet, a subscription waiting for PayPal approval)."""
    word = snapshot.status
    if snapshot.processor is Processor.STRIPE:
        if word in STRIPE_ACTIVE:
            return BillingStatus.ACTIVE
        if word in STRIPE_PAST_DUE:
            if account.status in (BillingStatus.GRACE, BillingStatus.READ_ONLY):
                return account.status
            return BillingStatus.PAST_DUE
        if word in STRIPE_ENDED:
            return BillingStatus.CANCELED
        return None
    word = word.upper()
    if word == "ACTIVE":
        return BillingStatus.ACTIVE
    if word == "SUSPENDED":
        if account.status in (BillingStatus.GRACE, BillingStatus.READ_ONLY):
            return account.status
        return BillingStatus.GRACE
    if word in PAYPAL_ENDED:
        still_paid = (
            account.cancel_at_period_end
            and account.status in SUBSCRIBED
            and account.current_period_end is not None
            and now < account.current_period_end
        )
        return account.status if still_paid else BillingStatus.CANCELED
    return None


def mapped(
    account: BillingAccount, snapshot: SubscriptionSnapshot, now: datetime
) -> BillingAccount | None:
    """`account` with `snapshot` applied; None when it does not apply: a status that
    changes nothing, or a subscription other than the account's live one."""
    own = account.processor is snapshot.processor and (
        _subscription_of(account, snapshot.processor) == snapshot.subscription_id
    )
    if _live(account) and not own:
        logger.warning(
            "a subscription other than the live one",
            extra={"workspace_id": account.workspace_id, "subscription": snapshot.subscription_id},
        )
        return None
    status = _status(account, snapshot, now)
    if status is None:
        return None
    changed = replace(
        account,
        processor=snapshot.processor,
        current_period_start=snapshot.current_period_start or account.current_period_start,
        current_period_end=snapshot.current_period_end or account.current_period_end,
        updated_at=now,
    )
    if snapshot.processor is Processor.STRIPE:
        changed.stripe_subscription_id = snapshot.subscription_id
        changed.stripe_customer_id = snapshot.customer_id or account.stripe_customer_id
        changed.card = snapshot.card
    else:
        changed.paypal_subscription_id = snapshot.subscription_id
        changed.card = None
    if status is BillingStatus.CANCELED:
        return as_canceled(changed, now)
    changed.status = status
    changed.plan_id = snapshot.plan_id or account.plan_id
    changed.period = snapshot.period or account.period
    changed.seats_paid = snapshot.quantity
    changed.trial_ends_at = None
    keep_cancel = snapshot.processor is Processor.PAYPAL and snapshot.status.upper() in PAYPAL_ENDED
    changed.cancel_at_period_end = snapshot.cancel_at_period_end or (
        keep_cancel and account.cancel_at_period_end
    )
    if status is BillingStatus.ACTIVE:
        changed.past_due_since = None
        changed.grace_ends_at = None
    else:
        changed.past_due_since = account.past_due_since or now
    if status is BillingStatus.GRACE and changed.grace_ends_at is None:
        changed.grace_ends_at = now + timedelta(days=GRACE_DAYS)
    return changed


def _owner(
    deps: BillingDeps, processor: Processor, ref: str | None, claimed: str | None
) -> str | None:
    """The workspace that made `ref` (a Stripe customer, a PayPal subscription): the link
    written when the workspace made it.  What Helptal wrote at the processor and reads back
    (metadata, client_reference_id, custom_id) only confirms it: None when no workspace
    made `ref`, or when that names another workspace."""
    linked = deps.store.workspace_of(processor, ref) if ref else None
    if linked is not None and claimed and claimed != linked:
        logger.warning(
            "a processor object names another workspace than the one that made it",
            extra={"workspace_id": linked, "processor": processor.value, "claimed": claimed},
        )
        return None
    return linked


def _workspace_of_subscription(deps: BillingDeps, snapshot: SubscriptionSnapshot) -> str | None:
    if snapshot.processor is Processor.STRIPE:
        ref = snapshot.customer_id
    else:
        ref = snapshot.subscription_id
    return _owner(deps, snapshot.processor, ref, snapshot.workspace_id)


def _announce(deps: BillingDeps, before: BillingAccount, after: BillingAccount) -> None:
    """Mails about the state a snapshot brought (once each, whichever event brought it)."""
    if after.status is BillingStatus.CANCELED and before.status is not BillingStatus.CANCELED:
        plan = plan_named(before.plan_id) or FREE
        about = _subscription_of(after, after.processor) if after.processor else None
        mails.send(
            deps,
            after.workspace_id,
            mails.BillingNotice(
                "subscription_canceled", about or "subscription", plan_name=plan.name
            ),
            after.billing_email,
        )
    if after.status is BillingStatus.GRACE and after.processor is Processor.PAYPAL:
        mails.send(
            deps,
            after.workspace_id,
            mails.BillingNotice(
                "grace_started", grace_ref(after.grace_ends_at), date=after.grace_ends_at
            ),
            after.billing_email,
        )


def apply_subscription(
    deps: BillingDeps, snapshot: SubscriptionSnapshot, workspace_id: str | None = None
) -> str:
    """Applies a subscription read from its processor: "applied", "stale" (a newer read was
    applied already), "ignored" (nothing to change) or "unknown_workspace".  Writes the
    account (save_synced) and mails the owners when it ended or went into grace."""
    workspace = workspace_id or _workspace_of_subscription(deps, snapshot)
    if workspace is None:
        return "unknown_workspace"
    for _ in range(SAVE_ATTEMPTS):
        before = account_of(deps, workspace)
        if before.synced_at is not None and before.synced_at >= snapshot.read_at:
            return "stale"
        after = mapped(before, snapshot, deps.clock.now())
        if after is None:
            return "ignored"
        try:
            if not deps.store.save_synced(after, snapshot.read_at):
                return "stale"
        except AccountChanged:
            continue
        if (
            snapshot.processor is Processor.PAYPAL
            and before.paypal_subscription_id != snapshot.subscription_id
        ):
            deps.store.link_customer(workspace, Processor.PAYPAL, snapshot.subscription_id)
        _announce(deps, before, after)
        return "applied"
    raise busy()


# -- invoices --------------------------------------------------------------------------------


def merged(stored: Invoice | None, fresh: Invoice) -> Invoice:
    """The invoice as read, with what only Helptal knows of it kept: a payment by the
    backup card (Stripe only knows it was paid out of band, and names no payment) and
    refunds made through another processor than the invoice's."""
    if stored is None:
        return fresh
    refunded = fresh.amount_refunded
    if (
        stored.amount_refunded.currency == refunded.currency
        and stored.amount_refunded.amount > refunded.amount
    ):
        refunded = stored.amount_refunded
    if stored.paid_by is Processor.TAPPAY and fresh.payment_ref is None:
        return replace(
            fresh,
            status=InvoiceStatus.PAID,
            amount_paid=stored.amount_paid,
            amount_refunded=refunded,
            paid_at=stored.paid_at,
            paid_by=stored.paid_by,
            payment_ref=stored.payment_ref,
            next_attempt_at=None,
        )
    return replace(fresh, amount_refunded=refunded)


def _workspace_of_invoice(deps: BillingDeps, snapshot: InvoiceSnapshot) -> str | None:
    if snapshot.invoice.processor is Processor.PAYPAL:
        ref = snapshot.subscription_id
    else:
        ref = snapshot.customer_id
    return _owner(deps, snapshot.invoice.processor, ref, snapshot.invoice.workspace_id or None)


def record_invoice(deps: BillingDeps, snapshot: InvoiceSnapshot) -> Invoice | None:
    """Stores the invoice read (merged with what was known); None when no workspace has
    its customer."""
    workspace = _workspace_of_invoice(deps, snapshot)
    if workspace is None:
        return None
    fresh = replace(snapshot.invoice, workspace_id=workspace)
    invoice = merged(deps.store.get_invoice(workspace, fresh.id), fresh)
    deps.store.put_invoice(invoice)
    return invoice


def _paypal_amount(account: BillingAccount) -> Money:
    plan = plan_named(account.plan_id) or FREE
    price = plan.seat_price.get(account.period, 0) if account.period else 0
    return Money(price * account.seats_paid, plan.currency)


def apply_stripe_invoice(deps: BillingDeps, snapshot: InvoiceSnapshot) -> str:
    """Records a Stripe invoice, applies its subscription as read now, then the dunning
    step the invoice's state calls for: paid -> active again; open and failed with a retry
    planned -> past due; open and failed with no retry left -> the backup card, else
    grace."""
    invoice = record_invoice(deps, snapshot)
    if invoice is None:
        return "unknown_workspace"
    workspace = invoice.workspace_id
    subscription_id = snapshot.subscription_id
    if subscription_id is None:
        return "recorded"
    was = account_of(deps, workspace).status
    apply_subscription(deps, deps.stripe.subscription(subscription_id), workspace)
    account = account_of(deps, workspace)
    if account.stripe_subscription_id != subscription_id or account.status not in SUBSCRIBED:
        return "recorded"
    if invoice.status is InvoiceStatus.PAID:
        # Stripe's subscription says whether the account is paid up (another invoice may
        # still be open): its status was applied above.
        dunning.payment_received(
            deps, workspace, invoice, was_failing=was in dunning.DUNNING, force_active=False
        )
        return "paid"
    if invoice.status is not InvoiceStatus.OPEN or invoice.attempt_count == 0:
        return "recorded"
    if invoice.next_attempt_at is not None:
        dunning.payment_failed(deps, workspace, invoice.id, dunning.amount_due(invoice))
        return "past_due"
    return dunning.final_failure(deps, account, invoice)


def apply_paypal_sale(deps: BillingDeps, snapshot: InvoiceSnapshot) -> str:
    """Records a PayPal payment (or its refund); a completed one makes the account active."""
    invoice = record_invoice(deps, snapshot)
    if invoice is None:
        return "unknown_workspace"
    if invoice.status is InvoiceStatus.PAID and invoice.amount_refunded.amount == 0:
        dunning.payment_received(
            deps, invoice.workspace_id, invoice, was_failing=False, force_active=True
        )
        return "paid"
    return "recorded"


def paypal_payment_failed(deps: BillingDeps, subscription_id: str) -> str:
    """PayPal failed to take a payment and retries: past due, owners mailed (once per
    billing period)."""
    if deps.paypal is None:
        return "ignored"
    snapshot = _read(deps.paypal.subscription, subscription_id)
    outcome = apply_subscription(deps, snapshot)
    workspace = _workspace_of_subscription(deps, snapshot)
    if workspace is None or outcome == "unknown_workspace":
        return "unknown_workspace"
    account = account_of(deps, workspace)
    if account.paypal_subscription_id != subscription_id or account.status not in SUBSCRIBED:
        return outcome
    period = f"{account.current_period_end:%Y%m%d}" if account.current_period_end else "period"
    return dunning.payment_failed(
        deps, workspace, f"{subscription_id}-{period}", _paypal_amount(account)
    )


# -- events ----------------------------------------------------------------------------------


class _Unreadable(Exception):
    """The processor refuses to read back what an event names (deleted, or never there):
    nothing to apply, and asking again would not change that."""


def _read[T](read: Callable[[str], T], object_id: str) -> T:
    try:
        return read(object_id)
    except ProcessorRefused as e:
        raise _Unreadable(f"{object_id}: {e.code} {e}") from e


def _apply_stripe(deps: BillingDeps, event: WebhookEvent) -> str:
    if event.type in STRIPE_CHECKOUT_EVENTS:
        session = _read(deps.stripe.checkout_session, event.object_id)
        if not session.complete or session.subscription_id is None:
            return "ignored"
        snapshot = _read(deps.stripe.subscription, session.subscription_id)
        # The customer was linked when the workspace made it, before its checkout.
        customer = session.customer_id or snapshot.customer_id
        workspace = _owner(deps, Processor.STRIPE, customer, session.workspace_id)
        if workspace is None or _workspace_of_subscription(deps, snapshot) != workspace:
            return "unknown_workspace"
        return apply_subscription(deps, snapshot, workspace)
    if event.type in STRIPE_SUBSCRIPTION_EVENTS:
        return apply_subscription(deps, _read(deps.stripe.subscription, event.object_id))
    if event.type in STRIPE_INVOICE_EVENTS or (
        event.type in STRIPE_REFUND_EVENTS and event.object_id.startswith("in_")
    ):
        return apply_stripe_invoice(deps, _read(deps.stripe.invoice, event.object_id))
    return "ignored"


def _apply_paypal(deps: BillingDeps, event: WebhookEvent) -> str:
    paypal = deps.paypal
    if paypal is None:
        return "ignored"
    if event.type in PAYPAL_SUBSCRIPTION_EVENTS:
        return apply_subscription(deps, _read(paypal.subscription, event.object_id))
    if event.type == PAYPAL_PAYMENT_FAILED:
        return paypal_payment_failed(deps, event.object_id)
    if event.type in PAYPAL_SALE_EVENTS:
        return apply_paypal_sale(deps, _read(paypal.sale, event.object_id))
    return "ignored"


def apply_event(deps: BillingDeps, event: WebhookEvent) -> str:
    """Applies one verified event by reading its object back from the processor: what was
    done ("applied", "paid", "past_due", "grace", "paid_by_backup_card", "recorded",
    "stale", "unknown_workspace", "unknown_object" when the processor has no such object,
    "ignored" for an event billing does not act on).  Raises ProcessorUnavailable to be
    retried later."""
    try:
        if event.processor is Processor.STRIPE:
            outcome = _apply_stripe(deps, event)
        elif event.processor is Processor.PAYPAL:
            outcome = _apply_paypal(deps, event)
        else:
            # TapPay's notify confirms a charge made (and recorded) already; a charge whose
            # outcome was unknown is looked up by the dunning step itself.
            outcome = "ignored"
    except _Unreadable as e:
        logger.warning("the processor refused to read what an event names", extra={"error": str(e)})
        outcome = "unknown_object"
    logger.info(
        "billing event applied",
        extra={"event_id": event.id, "event_type": event.type, "outcome": outcome},
    )
    return outcome
