"""Stripe adapter (`billing.ports.StripeGateway`) on the `stripe` SDK, pointed at `api_base`
(Stripe, or the local stand-in fakes/stripe.py).

The SDK is imported inside the methods that call Stripe, never when this module is imported
(`import app` must stay light).  Every create and update carries the caller's idempotency key
and the SDK retries network failures, 409s and 5xx twice with that same key, so a retry
never makes a second customer, session, refund or payment.  Prices are found by their lookup
key (chalicelib/billing/plans.py) once per process.

Stripe's answers are read in both shapes Stripe has used: the billing period on the
subscription items (API 2025-03-31 and later) or on the subscription; an invoice's
subscription in `parent.subscription_details` or top-level `subscription`; its payment
intent in `payments` or top-level `payment_intent`.

Errors: network failures, 5xx, 429 and refused keys -> `ProcessorUnavailable` (worth retrying);
card and invalid-request errors -> `ProcessorRefused(code)` with Stripe's code."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from chalicelib.billing.model import (
    Card,
    CheckoutStart,
    Invoice,
    InvoiceStatus,
    Money,
    Processor,
    SubscriptionSnapshot,
)
from chalicelib.billing.plans import (
    PLANS,
    Period,
    Plan,
    plan_of_lookup_key,
    price_lookup_key,
)
from chalicelib.billing.ports import (
    CheckoutSnapshot,
    InvoiceSnapshot,
    ProcessorRefused,
    ProcessorUnavailable,
    WebhookEvent,
    WebhookRejected,
)

# Stripe's own default: a delivery signed longer ago than this is refused (a replay).
WEBHOOK_TOLERANCE_SECONDS = 300
MAX_NETWORK_RETRIES = 2
TIMEOUT_SECONDS = 20.0
# Checkout and the portal speak these of our languages; others get Stripe's "auto".
STRIPE_LOCALES = frozenset({"en", "fr"})
# The subscription's card: its own default, else the customer's invoice default.
_CARD_EXPANSIONS = ["default_payment_method", "customer.invoice_settings.default_payment_method"]

# The sold prices' ids by lookup key, per api base: read once per process (prices do not
# change within a deployment; a new price gets a new lookup key).
_price_ids: dict[str, dict[str, str]] = {}
_price_lock = threading.Lock()


class StripeBilling:
    """Stripe Billing for one Stripe account (StripeGateway)."""

    def __init__(
        self,
        api_base: str,
        secret_key: Callable[[], str],
        webhook_secret: Callable[[], str],
        *,
        timeout: float = TIMEOUT_SECONDS,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`secret_key` and `webhook_secret` are read at each use (rotation needs no restart)."""
        self._api_base = api_base.rstrip("/")
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._timeout = timeout
        self._now = now or (lambda: datetime.now(UTC))
        self._client: tuple[str, Any] | None = None  # (the key it was made with, StripeClient)
        self._lock = threading.Lock()

    # -- customers and checkout -------------------------------------------------------------

    def create_customer(
        self, workspace_id: str, email: str, name: str, *, idempotency_key: str
    ) -> str:
        """Creates the workspace's Stripe customer (metadata `workspace_id`); its id."""
        with _translated("creating the customer"):
            customer = self._stripe().v1.customers.create(
                params={"email": email, "name": name, "metadata": {"workspace_id": workspace_id}},
                options={"idempotency_key": idempotency_key},
            )
        return str(customer.id)

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
        """A Checkout Session in subscription mode for `seats` seats of the plan's price, with
        automatic tax (the address entered in Checkout is saved on the customer)."""
        price_id = self._price_id(price_lookup_key(plan, period))
        metadata = {"workspace_id": workspace_id}
        with _translated("starting checkout"):
            session = self._stripe().v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "customer": customer_id,
                    "client_reference_id": workspace_id,
                    "line_items": [{"price": price_id, "quantity": seats}],
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "locale": _stripe_locale(locale),
                    "automatic_tax": {"enabled": True},
                    "customer_update": {"address": "auto", "name": "auto"},
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                },
                options={"idempotency_key": idempotency_key},
            )
        url = getattr(session, "url", None)
        if not url:
            raise ProcessorRefused("stripe answered a checkout session without a url", "no_url")
        return CheckoutStart(url=str(url), session_id=str(session.id))

    def portal_url(self, customer_id: str, return_url: str, locale: str) -> str:
        """A Customer Portal session's address (short-lived: one per visit)."""
        with _translated("opening the customer portal"):
            session = self._stripe().v1.billing_portal.sessions.create(
                params={
                    "customer": customer_id,
                    "return_url": return_url,
                    "locale": _stripe_locale(locale),
                }
            )
        return str(session.url)

    def checkout_session(self, session_id: str) -> CheckoutSnapshot:
        with _translated("reading the checkout session"):
            session = self._stripe().v1.checkout.sessions.retrieve(session_id).to_dict()
        metadata = session.get("metadata") or {}
        return CheckoutSnapshot(
            session_id=str(session["id"]),
            workspace_id=session.get("client_reference_id") or metadata.get("workspace_id"),
            customer_id=_id_of(session.get("customer")),
            subscription_id=_id_of(session.get("subscription")),
            complete=session.get("status") == "complete",
        )

    # -- subscriptions ----------------------------------------------------------------------

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        read_at = self._now()
        with _translated("reading the subscription"):
            found = self._stripe().v1.subscriptions.retrieve(
                subscription_id, params={"expand": _CARD_EXPANSIONS}
            )
        return _subscription_snapshot(found.to_dict(), read_at)

    def change_quantity(
        self, subscription_id: str, seats: int, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """Sets the seats, prorated (`proration_behavior=create_prorations`: the difference
        is on the next invoice)."""
        client = self._stripe()
        with _translated("reading the subscription"):
            current = client.v1.subscriptions.retrieve(subscription_id).to_dict()
        items = (current.get("items") or {}).get("data") or []
        if not items:
            raise ProcessorRefused(f"subscription {subscription_id} has no item", "no_item")
        read_at = self._now()
        with _translated("changing the seats"):
            updated = client.v1.subscriptions.update(
                subscription_id,
                params={
                    "items": [{"id": items[0]["id"], "quantity": seats}],
                    "proration_behavior": "create_prorations",
                    "expand": _CARD_EXPANSIONS,
                },
                options={"idempotency_key": idempotency_key},
            )
        return _subscription_snapshot(updated.to_dict(), read_at)

    def cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """Ends the subscription when the paid period ends (`cancel=False` resumes it)."""
        read_at = self._now()
        with _translated("scheduling the cancellation"):
            updated = self._stripe().v1.subscriptions.update(
                subscription_id,
                params={"cancel_at_period_end": cancel, "expand": _CARD_EXPANSIONS},
                options={"idempotency_key": idempotency_key},
            )
        return _subscription_snapshot(updated.to_dict(), read_at)

    def cancel_now(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        """Ends it now, without Stripe's own proration credit (refunds are ours); ending one
        that has ended already answers its state."""
        import stripe

        read_at = self._now()
        try:
            with _translated("canceling the subscription"):
                ended = self._stripe().v1.subscriptions.cancel(
                    subscription_id,
                    params={"prorate": False, "invoice_now": False, "expand": _CARD_EXPANSIONS},
                    options={"idempotency_key": idempotency_key},
                )
        except ProcessorRefused as refused:
            if not isinstance(refused.__cause__, stripe.InvalidRequestError):
                raise
            # Stripe answers "no such subscription" for one canceled already: look.
            snapshot = self.subscription(subscription_id)
            if snapshot.status != "canceled":
                raise
            return snapshot
        return _subscription_snapshot(ended.to_dict(), read_at)

    # -- invoices and refunds ---------------------------------------------------------------

    def invoice(self, invoice_id: str) -> InvoiceSnapshot:
        read_at = self._now()
        with _translated("reading the invoice"):
            found = self._stripe().v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
        return self._invoice_snapshot(found.to_dict(), read_at)

    def latest_paid_invoice(self, subscription_id: str) -> InvoiceSnapshot | None:
        read_at = self._now()
        with _translated("listing the invoices"):
            found = self._stripe().v1.invoices.list(
                params={
                    "subscription": subscription_id,
                    "status": "paid",
                    "limit": 1,
                    "expand": ["data.payments"],
                }
            )
        invoices = [invoice.to_dict() for invoice in found.data]
        return self._invoice_snapshot(invoices[0], read_at) if invoices else None

    def mark_paid_out_of_band(self, invoice_id: str, *, idempotency_key: str) -> None:
        """Records the invoice as paid elsewhere (the backup card): Stripe stops retrying it.
        Already paid out of band: nothing to do; paid by Stripe meanwhile: ProcessorRefused
        with code "invoice_paid" (the other payment must be given back)."""
        import stripe

        try:
            with _translated("marking the invoice paid"):
                self._stripe().v1.invoices.pay(
                    invoice_id,
                    params={"paid_out_of_band": True},
                    options={"idempotency_key": idempotency_key},
                )
        except ProcessorRefused as refused:
            if not isinstance(refused.__cause__, stripe.InvalidRequestError):
                raise
            snapshot = self.invoice(invoice_id)
            if snapshot.invoice.status is not InvoiceStatus.PAID:
                raise
            if snapshot.invoice.paid_by is Processor.STRIPE:
                raise ProcessorRefused(
                    f"invoice {invoice_id} was paid through Stripe already", "invoice_paid"
                ) from refused

    def refund(self, payment_ref: str, amount: Money, *, idempotency_key: str) -> str:
        """Refunds `amount` of payment intent `payment_ref`; the refund's id.  Stripe refuses
        more than was paid less what was refunded (ProcessorRefused "amount_too_large")."""
        with _translated("refunding"):
            refund = self._stripe().v1.refunds.create(
                params={
                    "payment_intent": payment_ref,
                    "amount": amount.amount,
                    "reason": "requested_by_customer",
                },
                options={"idempotency_key": idempotency_key},
            )
        if getattr(refund, "currency", amount.currency) != amount.currency:
            raise ProcessorRefused(
                f"refund {refund.id} is in {refund.currency}, not {amount.currency}",
                "currency_mismatch",
            )
        return str(refund.id)

    # -- webhooks ---------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, signature_header: str) -> WebhookEvent:
        """Checks `Stripe-Signature` on the raw body with the SDK (any `v1` may match while
        the secret rotates; signed more than 300 s ago, or as far ahead: refused)."""
        import stripe

        try:
            stripe.WebhookSignature.verify_header(
                raw_body, signature_header, self._webhook_secret(), WEBHOOK_TOLERANCE_SECONDS
            )
            signed_at = next(
                int(part[2:]) for part in signature_header.split(",") if part.startswith("t=")
            )
            event = json.loads(raw_body)
        except (stripe.SignatureVerificationError, ValueError, StopIteration, TypeError) as e:
            raise WebhookRejected(f"stripe delivery refused: {e}") from e
        if signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected("stripe delivery refused: signed in the future")
        if not isinstance(event, dict) or event.get("object") != "event":
            raise WebhookRejected("stripe delivery refused: not an event")
        data = event.get("data")
        thing = data.get("object") if isinstance(data, dict) else None
        event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
        object_id = thing.get("id") if isinstance(thing, dict) else None
        if not (
            isinstance(event_id, str)
            and event_id
            and isinstance(kind, str)
            and kind
            and isinstance(object_id, str)
            and object_id
            and isinstance(created, int)
        ):
            raise WebhookRejected("stripe delivery refused: an event without id, type or object")
        try:
            created_at = datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError) as e:
            raise WebhookRejected("stripe delivery refused: created at no possible time") from e
        return WebhookEvent(
            processor=Processor.STRIPE,
            id=event_id,
            type=kind,
            object_id=object_id,
            created=created_at,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _stripe(self) -> Any:
        """The SDK's client for the current secret key (made again when the key rotates)."""
        import stripe

        key = self._secret_key()
        with self._lock:
            if self._client is None or self._client[0] != key:
                client = stripe.StripeClient(
                    key,
                    base_addresses={"api": self._api_base},
                    max_network_retries=MAX_NETWORK_RETRIES,
                    http_client=stripe.RequestsClient(timeout=self._timeout),
                )
                self._client = (key, client)
            return self._client[1]

    def _price_id(self, lookup_key: str) -> str:
        price_id = self._prices().get(lookup_key)
        if price_id is None:
            raise ProcessorRefused(
                f"no active Stripe price has lookup key {lookup_key}", "no_price"
            )
        return price_id

    def _prices(self) -> dict[str, str]:
        """Every sold plan's price id by lookup key (one call, then remembered)."""
        with _price_lock:
            known = _price_ids.get(self._api_base)
        if known is not None:
            return known
        keys = [
            price_lookup_key(plan, period) for plan in PLANS.values() for period in plan.seat_price
        ]
        with _translated("finding the prices"):
            found = self._stripe().v1.prices.list(
                params={"lookup_keys": keys, "active": True, "limit": 100}
            )
        prices = {str(price.lookup_key): str(price.id) for price in found.data if price.lookup_key}
        if prices:  # none yet (a deployment being set up): look again next time
            with _price_lock:
                _price_ids[self._api_base] = prices
        return prices

    def _invoice_snapshot(self, invoice: dict[str, Any], read_at: datetime) -> InvoiceSnapshot:
        paid_ref = _paid_payment_intent(invoice)
        refunded = self._refunded(paid_ref) if paid_ref else 0
        currency = str(invoice.get("currency") or "usd")
        status = _invoice_status(invoice.get("status"))
        details = _subscription_details(invoice)
        metadata = details.get("metadata") or {}
        period = _service_period(invoice)
        paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
        lines = ((invoice.get("lines") or {}).get("data")) or []
        return InvoiceSnapshot(
            invoice=Invoice(
                id=str(invoice["id"]),
                workspace_id=str(metadata.get("workspace_id") or ""),
                processor=Processor.STRIPE,
                status=status,
                amount_due=Money(int(invoice.get("amount_due") or 0), currency),
                amount_paid=Money(int(invoice.get("amount_paid") or 0), currency),
                amount_refunded=Money(refunded, currency),
                created_at=_time(invoice.get("created")) or read_at,
                period_start=period[0],
                period_end=period[1],
                number=invoice.get("number"),
                paid_at=_time(paid_at),
                paid_by=Processor.STRIPE if status is InvoiceStatus.PAID and paid_ref else None,
                payment_ref=paid_ref,
                hosted_url=invoice.get("hosted_invoice_url"),
                attempt_count=int(invoice.get("attempt_count") or 0),
                next_attempt_at=_time(invoice.get("next_payment_attempt")),
                lines=[self._line_text(line) for line in lines],
            ),
            customer_id=_id_of(invoice.get("customer")),
            subscription_id=_id_of(details.get("subscription") or invoice.get("subscription")),
            read_at=read_at,
        )

    def _line_text(self, line: dict[str, Any]) -> str:
        """A plan's line as "3 x Pro (month)"; Stripe's description for others (prorations)."""
        details = (line.get("parent") or {}).get("subscription_item_details") or {}
        proration = details.get("proration", line.get("proration", False))
        pricing = (line.get("pricing") or {}).get("price_details") or {}
        price_id = _id_of(pricing.get("price") or line.get("price"))
        lookup_keys = {price: key for key, price in self._prices().items()}
        sold = plan_of_lookup_key(lookup_keys.get(price_id or "", ""))
        if sold is None or proration or not line.get("quantity"):
            return str(line.get("description") or "")
        return f"{line['quantity']} x {sold[0].name} ({sold[1].value})"

    def _refunded(self, payment_intent_id: str) -> int:
        """What was refunded of the payment intent's charge (refunds are not on invoices)."""
        with _translated("reading the payment"):
            intent = self._stripe().v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge"]}
            )
        charge = intent.to_dict().get("latest_charge")
        return int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Stripe's exceptions as the port's: retry-worthy or a permanent refusal."""
    import stripe

    try:
        yield
    except (stripe.CardError, stripe.InvalidRequestError) as e:
        code = e.code or ("card_declined" if isinstance(e, stripe.CardError) else "invalid")
        raise ProcessorRefused(f"stripe refused {action}: {e.user_message}", code) from e
    except stripe.IdempotencyError as e:
        raise ProcessorRefused(f"stripe refused {action}: {e.user_message}", "idempotency") from e
    except stripe.StripeError as e:
        # Network, 5xx, 429, a refused or missing key: the queue tries again later.
        raise ProcessorUnavailable(f"stripe unavailable while {action}: {e}") from e


def _subscription_snapshot(subscription: dict[str, Any], read_at: datetime) -> SubscriptionSnapshot:
    items = (subscription.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or {}
    sold = plan_of_lookup_key(str(price.get("lookup_key") or ""))
    status = str(subscription.get("status") or "")
    ends = subscription.get("cancel_at_period_end") or subscription.get("cancel_at") is not None
    return SubscriptionSnapshot(
        processor=Processor.STRIPE,
        subscription_id=str(subscription["id"]),
        customer_id=_id_of(subscription.get("customer")),
        workspace_id=(subscription.get("metadata") or {}).get("workspace_id"),
        status=status,
        plan_id=sold[0].id if sold else None,
        period=sold[1] if sold else None,
        quantity=int(item.get("quantity") or subscription.get("quantity") or 0),
        current_period_start=_time(
            item.get("current_period_start") or subscription.get("current_period_start")
        ),
        current_period_end=_time(
            item.get("current_period_end") or subscription.get("current_period_end")
        ),
        cancel_at_period_end=bool(ends) and status != "canceled",
        card=_card_of(subscription),
        read_at=read_at,
        ended_at=_time(subscription.get("ended_at")),
    )


def _card_of(subscription: dict[str, Any]) -> Card | None:
    customer = subscription.get("customer")
    settings = customer.get("invoice_settings") if isinstance(customer, dict) else None
    for method in (
        subscription.get("default_payment_method"),
        (settings or {}).get("default_payment_method"),
    ):
        card = method.get("card") if isinstance(method, dict) else None
        if isinstance(card, dict) and card.get("last4"):
            return Card(
                processor=Processor.STRIPE,
                brand=str(card.get("brand") or "unknown").lower(),
                last4=str(card["last4"]),
                exp_month=int(card.get("exp_month") or 0),
                exp_year=int(card.get("exp_year") or 0),
            )
    return None


def _subscription_details(invoice: dict[str, Any]) -> dict[str, Any]:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or invoice.get("subscription_details")
    return details if isinstance(details, dict) else {}


def _paid_payment_intent(invoice: dict[str, Any]) -> str | None:
    """The payment intent that paid the invoice through Stripe (None when it was paid out of
    band or not at all)."""
    if invoice.get("status") != "paid" or invoice.get("paid_out_of_band"):
        return None
    payments = invoice.get("payments")
    if isinstance(payments, dict):
        for payment in payments.get("data") or []:
            intent = (payment.get("payment") or {}).get("payment_intent")
            if payment.get("status") == "paid" and intent:
                return _id_of(intent)
        return None
    return _id_of(invoice.get("payment_intent"))


def _service_period(invoice: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The period the invoice bills for: its plan lines' (an invoice's own period_start/end
    is the period before, for a renewal), else the invoice's."""
    spans = []
    for line in ((invoice.get("lines") or {}).get("data")) or []:
        details = (line.get("parent") or {}).get("subscription_item_details") or {}
        proration = details.get("proration", line.get("proration", False))
        period = line.get("period") or {}
        if not proration and period.get("start") and period.get("end"):
            spans.append((int(period["start"]), int(period["end"])))
    if spans:
        return _time(min(s for s, _ in spans)), _time(max(e for _, e in spans))
    return _time(invoice.get("period_start")), _time(invoice.get("period_end"))


def _invoice_status(status: Any) -> InvoiceStatus:
    """Stripe's draft (not final yet) counts as open."""
    try:
        return InvoiceStatus(status)
    except ValueError:
        return InvoiceStatus.OPEN


def _stripe_locale(locale: str) -> str:
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return language if language in STRIPE_LOCALES else "auto"


def _id_of(value: Any) -> str | None:
    """An expandable field's id, whether Stripe answered the id or the object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None
