"""PayPal adapter (`billing.ports.PayPalGateway`): PayPal Subscriptions for a per-seat plan,
the subscription's payments (sales) as invoices, refunds of a payment, and webhook
deliveries verified by PayPal itself (the verify-webhook-signature postback).  The local
stand-in is fakes/paypal.py.

- Auth: an OAuth client-credentials token, kept in memory until a minute before PayPal says
  it expires; a 401 from the API fetches a new one once.
- Plans: one PayPal product (`HELPTAL-SEATS`) and, under it, one plan per Helptal plan and
  period, named by its lookup key (`helptal_pro_month`), with `quantity_supported` and the
  per-seat price of chalicelib/billing/plans.py; found by name (or created) on first use,
  then remembered by the process.  A new price needs a new lookup key: a plan found by name
  is used as it is.
- Creates carry `PayPal-Request-Id`, so a retry after a lost answer creates nothing twice.
- Errors: no answer, HTTP 5xx and 429 raise `ProcessorUnavailable`; other HTTP errors raise
  `ProcessorRefused` with PayPal's issue (`REFUND_AMOUNT_EXCEEDED`, …) as its code.
"""

from __future__ import annotations

import calendar
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from chalicelib.billing.model import (
    CheckoutStart,
    Invoice,
    InvoiceStatus,
    Money,
    Processor,
    SubscriptionSnapshot,
)
from chalicelib.billing.plans import Period, Plan, plan_of_lookup_key, price_lookup_key
from chalicelib.billing.ports import (
    InvoiceSnapshot,
    ProcessorRefused,
    ProcessorUnavailable,
    WebhookEvent,
    WebhookRejected,
)

PRODUCT_ID = "HELPTAL-SEATS"
MAX_PLAN_PAGES = 50  # of 20 plans: far more than Helptal's plans and periods
# Seconds: to connect, and to wait for the answer once connected.
TIMEOUT = (3.05, 20.0)
# A token is taken for expired this long before PayPal says it expires.
TOKEN_MARGIN_SECONDS = 60
WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}
WEBHOOK_LIMIT_BYTES = 512 * 1024
PAYPAL_LOCALES = {"en": "en-US", "fr": "fr-FR"}
ZERO_DECIMAL_CURRENCIES = frozenset({"huf", "jpy", "twd"})  # PayPal takes no decimals
INTERVALS = {Period.MONTH: "MONTH", Period.YEAR: "YEAR"}
PAID_STATES = frozenset({"completed", "partially_refunded", "refunded"})  # a sale's `state`
ENDED = ("CANCELLED", "EXPIRED")


class PayPal:
    """PayPal's REST API for one app and one webhook (PayPalGateway)."""

    def __init__(
        self,
        api_base: str,
        client_id: str,
        client_secret: Callable[[], str],
        webhook_id: str,
        *,
        session: Any | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`client_secret`: how to read the secret at each token request (it can rotate);
        `webhook_id`: the id PayPal gave our webhook (named in every verification);
        `session`: a `requests.Session`-like (one is made on first use)."""
        self._api = api_base.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._webhook_id = webhook_id
        self._session = session
        self._timeout = timeout
        self._monotonic = monotonic
        self._now = now
        self._token: tuple[str, float] | None = None  # (access token, usable until)
        self._plan_ids: dict[str, str] = {}  # lookup key -> PayPal plan id
        self._plan_keys: dict[str, str] = {}  # PayPal plan id -> its name (a lookup key)
        self._lock = threading.Lock()

    # -- plans ------------------------------------------------------------------------------

    def plan_id(self, plan: Plan, period: Period) -> str:
        """PayPal's plan for ours: found by name, else created with its product."""
        key = price_lookup_key(plan, period)
        with self._lock:
            known = self._plan_ids.get(key)
        if known:
            return known
        found = self._find_plan(key) or self._create_plan(plan, period, key)
        with self._lock:
            self._plan_ids[key] = found
            self._plan_keys[found] = key
        return found

    def _find_plan(self, key: str) -> str | None:
        page = 1
        while True:
            answer = self._get(
                "/v1/billing/plans",
                params={
                    "product_id": PRODUCT_ID,
                    "page_size": 20,
                    "page": page,
                    "total_required": "true",
                },
            )
            plans = [p for p in answer.get("plans") or [] if isinstance(p, dict)]
            for listed in plans:
                if listed.get("name") == key and listed.get("status") == "ACTIVE":
                    return str(listed["id"])
            if not plans or page >= min(_int(answer.get("total_pages"), page), MAX_PLAN_PAGES):
                return None
            page += 1

    def _create_plan(self, plan: Plan, period: Period, key: str) -> str:
        product = self._call("GET", f"/v1/catalogs/products/{PRODUCT_ID}")
        if product.status_code == 404:
            self._post(
                "/v1/catalogs/products",
                {
                    "id": PRODUCT_ID,
                    "name": "Helptal seats",
                    "description": "Seats of a Helptal workspace",
                    "type": "SERVICE",
                    "category": "SOFTWARE",
                },
                request_id=f"helptal-product-{PRODUCT_ID}",
            )
        else:
            _answer(product)
        price = plan.seat_price.get(period)
        if price is None:
            raise ValueError(f"{plan.id} has no {period.value} price")
        created = self._post(
            "/v1/billing/plans",
            {
                "product_id": PRODUCT_ID,
                "name": key,
                "description": f"Helptal {plan.name}, per seat and {period.value}",
                "status": "ACTIVE",
                "quantity_supported": True,
                "billing_cycles": [
                    {
                        "frequency": {"interval_unit": INTERVALS[period], "interval_count": 1},
                        "tenure_type": "REGULAR",
                        "sequence": 1,
                        "total_cycles": 0,
                        "pricing_scheme": {"fixed_price": _amount(Money(price, plan.currency))},
                    }
                ],
                "payment_preferences": {
                    "auto_bill_outstanding": True,
                    "setup_fee_failure_action": "CANCEL",
                    "payment_failure_threshold": 3,
                },
            },
            request_id=f"helptal-plan-{key}",
        )
        return _text(created, "id")

    def _lookup_key_of(self, paypal_plan_id: str) -> str:
        with self._lock:
            known = self._plan_keys.get(paypal_plan_id)
        if known is not None:
            return known
        name = str(self._get(f"/v1/billing/plans/{quote(paypal_plan_id, safe='')}").get("name"))
        with self._lock:
            self._plan_keys[paypal_plan_id] = name
        return name

    # -- subscriptions ----------------------------------------------------------------------

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
        """A subscription waiting for the buyer: `url` is PayPal's approval link."""
        context: dict[str, Any] = {
            "brand_name": "Helptal",
            "shipping_preference": "NO_SHIPPING",
            "user_action": "SUBSCRIBE_NOW",
            "return_url": return_url,
            "cancel_url": cancel_url,
        }
        paypal_locale = locale if "-" in locale else PAYPAL_LOCALES.get(locale.lower())
        if paypal_locale:
            context["locale"] = paypal_locale
        created = self._post(
            "/v1/billing/subscriptions",
            {
                "plan_id": paypal_plan_id,
                "quantity": str(seats),
                "custom_id": workspace_id,
                "subscriber": {"email_address": email},
                "application_context": context,
            },
            request_id=request_id,
        )
        approve = _link(created, "approve")
        if not approve:
            raise ProcessorUnavailable("paypal made a subscription without an approval link")
        return CheckoutStart(url=approve, session_id=_text(created, "id"))

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        """The subscription as PayPal has it now (card: None, PayPal keeps the wallet)."""
        body = self._get(f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}")
        read_at = self._now()
        ours = plan_of_lookup_key(self._lookup_key_of(_text(body, "plan_id")))
        status = str(body.get("status") or "")
        billing = _object(body, "billing_info")
        paid_at = _moment(_object(billing, "last_payment").get("time"))
        custom_id = body.get("custom_id")
        return SubscriptionSnapshot(
            processor=Processor.PAYPAL,
            subscription_id=_text(body, "id"),
            customer_id=None,
            workspace_id=custom_id if isinstance(custom_id, str) and custom_id else None,
            status=status,
            plan_id=ours[0].id if ours else None,
            period=ours[1] if ours else None,
            quantity=_int(body.get("quantity"), 1),
            current_period_start=paid_at or _moment(body.get("start_time")),
            current_period_end=_period_end(billing, paid_at, ours[1] if ours else None),
            cancel_at_period_end=False,  # a PayPal cancellation ends the subscription at once
            card=None,
            read_at=read_at,
            ended_at=_moment(body.get("status_update_time")) if status in ENDED else None,
        )

    def change_quantity(self, subscription_id: str, seats: int, *, request_id: str) -> str | None:
        """Revises the quantity; PayPal applies it once the buyer approves: the link."""
        path = f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}"
        current = self._get(path)
        revised = self._post(
            f"{path}/revise",
            {"plan_id": _text(current, "plan_id"), "quantity": str(seats)},
            request_id=request_id,
        )
        return _link(revised, "approve")

    def cancel(self, subscription_id: str, reason: str) -> None:
        """Ends the subscription now (a subscription that has ended already is fine)."""
        path = f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}"
        response = self._call("POST", f"{path}/cancel", json={"reason": reason[:128] or "-"})
        if (
            response.status_code == 422
            and _issue(response) == "SUBSCRIPTION_STATUS_INVALID"
            and self._get(path).get("status") in ENDED
        ):
            return
        if response.status_code != 204:
            _answer(response)

    # -- payments ---------------------------------------------------------------------------

    def sale(self, sale_id: str) -> InvoiceSnapshot:
        """A subscription payment as an invoice: id and payment_ref are the sale (capture)
        id; the period is the plan's cycle from the payment on; the workspace and lines
        come from the subscription it pays."""
        body = self._get(f"/v1/payments/sale/{quote(sale_id, safe='')}")
        read_at = self._now()
        amount_field = _object(body, "amount")
        amount = _money(amount_field.get("total"), amount_field.get("currency"))
        state = str(body.get("state") or "")
        paid = state in PAID_STATES
        created = _moment(body.get("create_time")) or read_at
        subscription_id = body.get("billing_agreement_id")
        workspace_id, period_end, lines = "", None, []
        if isinstance(subscription_id, str) and subscription_id:
            snapshot = self.subscription(subscription_id)
            workspace_id = snapshot.workspace_id or ""
            if snapshot.period is not None and snapshot.plan_id is not None:
                period_end = _advance(created, snapshot.period)
                lines = [f"{snapshot.quantity} x {snapshot.plan_id} ({snapshot.period.value})"]
        else:
            subscription_id = None
        zero = Money(0, amount.currency)
        invoice = Invoice(
            id=_text(body, "id"),
            workspace_id=workspace_id,
            processor=Processor.PAYPAL,
            status=_invoice_status(state),
            amount_due=amount,
            amount_paid=amount if paid else zero,
            # A sale tells only that it was refunded in full; partial refunds are known
            # from the Refund records kept when they were made.
            amount_refunded=amount if state == "refunded" else zero,
            created_at=created,
            period_start=created if period_end else None,
            period_end=period_end,
            paid_at=created if paid else None,
            paid_by=Processor.PAYPAL if paid else None,
            payment_ref=_text(body, "id"),
            lines=lines,
        )
        return InvoiceSnapshot(
            invoice=invoice, customer_id=None, subscription_id=subscription_id, read_at=read_at
        )

    def refund(self, capture_id: str, amount: Money, *, request_id: str) -> str:
        """Refunds `amount` of a payment; the refund's id (ProcessorRefused above what is
        left: REFUND_AMOUNT_EXCEEDED, CAPTURE_FULLY_REFUNDED)."""
        refunded = self._post(
            f"/v2/payments/captures/{quote(capture_id, safe='')}/refund",
            {"amount": _amount(amount)},
            request_id=request_id,
        )
        return _text(refunded, "id")

    # -- webhooks ---------------------------------------------------------------------------

    def verify_webhook(self, headers: dict[str, str], raw_body: bytes) -> WebhookEvent:
        """Asks PayPal whether it sent this delivery (verify-webhook-signature) with the
        event exactly as received; FAILURE, missing headers or a body that is no event:
        WebhookRejected.  PayPal unreachable: ProcessorUnavailable (the delivery is retried)."""
        given = {name.upper(): value for name, value in headers.items()}
        fields = {field: given.get(header, "") for field, header in WEBHOOK_HEADERS.items()}
        if not all(isinstance(v, str) and v and len(v) < 2048 for v in fields.values()):
            raise WebhookRejected("paypal delivery without its transmission headers")
        if len(raw_body) > WEBHOOK_LIMIT_BYTES:
            raise WebhookRejected("paypal delivery too large")
        try:
            text = raw_body.decode("utf-8")
            event = json.loads(text)
        except (UnicodeDecodeError, ValueError) as e:
            raise WebhookRejected("paypal delivery is not JSON") from e
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise WebhookRejected("paypal delivery is not an event")
        if not isinstance(event.get("event_type"), str) or not event["event_type"]:
            raise WebhookRejected("paypal delivery without event_type")
        # The event goes back byte for byte: PayPal checks what it sent, not a re-encoding.
        head = json.dumps({**fields, "webhook_id": self._webhook_id})
        postback = f'{head[:-1]}, "webhook_event": {text}}}'
        response = self._call(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            data=postback.encode(),
            headers={"Content-Type": "application/json"},
        )
        if 400 <= response.status_code < 500 and response.status_code not in (401, 429):
            raise WebhookRejected(f"paypal refused to verify: {_issue(response)}")
        if _answer(response).get("verification_status") != "SUCCESS":
            raise WebhookRejected("paypal did not send this delivery")
        return WebhookEvent(
            processor=Processor.PAYPAL,
            id=event["id"],
            type=event["event_type"],
            object_id=_object_of(event),
            created=_moment(event.get("create_time")) or self._now(),
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return _answer(self._call("GET", path, params=params))

    def _post(self, path: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        return _answer(
            self._call("POST", path, json=body, headers={"PayPal-Request-Id": request_id[:108]})
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """PayPal's answer, whatever its status; on a 401 a new token is fetched and the call
        made once more."""
        extra = kwargs.pop("headers", {})
        response = None
        for attempt in range(2):
            headers = {
                "Authorization": f"Bearer {self._access_token(renew=attempt > 0)}",
                "Accept": "application/json",
                **extra,
            }
            response = self._send(method, self._api + path, headers=headers, **kwargs)
            if response.status_code != 401:
                break
        return response

    def _access_token(self, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token and self._monotonic() < self._token[1]:
                return self._token[0]
            self._token = None
        response = self._send(
            "POST",
            f"{self._api}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self._client_id, self._client_secret()),
            headers={"Accept": "application/json"},
        )
        answer = _answer(response)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProcessorUnavailable("paypal answered a token without access_token")
        lifetime = _int(answer.get("expires_in"), 3600)
        with self._lock:
            self._token = (token, self._monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0))
        return token

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        import requests  # imported on first use, not at cold start

        if self._session is None:
            self._session = requests.Session()
        try:
            return self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.RequestException as e:
            raise ProcessorUnavailable(f"paypal unreachable: {type(e).__name__}") from e


def _answer(response: Any) -> dict[str, Any]:
    """The JSON object of a 2xx answer; the error for any other."""
    code = response.status_code
    if code >= 500 or code == 429:
        raise ProcessorUnavailable(f"paypal answered {code}: {_issue(response)}")
    if code >= 300:
        raise ProcessorRefused(f"paypal answered {code}: {_issue(response)}", _issue(response))
    if code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as e:
        raise ProcessorUnavailable("paypal answered something that is not JSON") from e
    if not isinstance(body, dict):
        raise ProcessorUnavailable("paypal answered something that is not an object")
    return body


def _issue(response: Any) -> str:
    """PayPal's most precise word for an error: the first detail's issue, else its name."""
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}"
    if not isinstance(body, dict):
        return f"http_{response.status_code}"
    details = body.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        issue = details[0].get("issue")
        if isinstance(issue, str) and issue:
            return issue
    for name in ("name", "error"):
        if isinstance(body.get(name), str) and body[name]:
            return str(body[name])
    return f"http_{response.status_code}"


def _object_of(event: dict[str, Any]) -> str:
    """What the event is about: the subscription (BILLING.SUBSCRIPTION.*), the sale
    (PAYMENT.SALE.*: a refund's `sale_id`)."""
    resource = _object(event, "resource")
    if str(event.get("event_type")).startswith("PAYMENT.SALE.") and resource.get("sale_id"):
        return str(resource["sale_id"])
    return str(resource.get("id") or "")


def _link(body: dict[str, Any], rel: str) -> str | None:
    for link in body.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == rel and link.get("href"):
            return str(link["href"])
    return None


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ProcessorUnavailable(f"paypal answered without {name}")
    return value


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _amount(money: Money) -> dict[str, str]:
    """Money as PayPal writes it: {"currency_code": "USD", "value": "19.00"}."""
    if money.amount <= 0:
        raise ProcessorRefused("paypal takes positive amounts only", "INVALID_PARAMETER_VALUE")
    if money.currency in ZERO_DECIMAL_CURRENCIES:
        if money.amount % 100:
            raise ProcessorRefused(
                f"paypal takes no cents of {money.currency}", "DECIMAL_PRECISION"
            )
        value = str(money.amount // 100)
    else:
        value = f"{money.amount // 100}.{money.amount % 100:02d}"
    return {"currency_code": money.currency.upper(), "value": value}


def _money(value: Any, currency: Any) -> Money:
    """PayPal's "147.00" "USD" as Money in minor units."""
    if not isinstance(currency, str) or len(currency) != 3:
        raise ProcessorUnavailable("paypal answered an amount without its currency")
    try:
        minor = Decimal(str(value)) * 100
    except InvalidOperation as e:
        raise ProcessorUnavailable("paypal answered an amount that is not one") from e
    if minor != minor.to_integral_value():
        raise ProcessorUnavailable("paypal answered an amount finer than a cent")
    return Money(int(minor), currency.lower())


def _invoice_status(state: str) -> InvoiceStatus:
    if state in PAID_STATES:
        return InvoiceStatus.PAID
    if state == "pending":
        return InvoiceStatus.OPEN
    return InvoiceStatus.VOID if state == "reversed" else InvoiceStatus.UNCOLLECTIBLE


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _period_end(
    billing: dict[str, Any], paid_at: datetime | None, period: Period | None
) -> datetime | None:
    """The next billing time; once PayPal has none (a cancelled subscription), the end of
    the cycle the last payment paid for."""
    upcoming = _moment(billing.get("next_billing_time"))
    if upcoming is None and paid_at is not None and period is not None:
        return _advance(paid_at, period)
    return upcoming


def _advance(moment: datetime, period: Period) -> datetime:
    """One billing cycle after `moment` (the 31st of a month runs to the month's last day)."""
    months = 12 if period is Period.YEAR else 1
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
