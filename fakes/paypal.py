"""A local stand-in for PayPal's REST API (subscriptions, their payments and refunds, and
webhooks), over HTTP, with the buyer's approval page.

- `POST /v1/oauth2/token` (Basic `client_id:client_secret`, form
  `grant_type=client_credentials`): `{scope, access_token, token_type: "Bearer", app_id,
  expires_in, nonce}`; 401 `invalid_client`.  Every other API call wants `Authorization:
  Bearer <token>` (401 `invalid_token` once it expired).
- Catalog: `POST /v1/catalogs/products` (a caller-chosen `id` is kept; a taken one: 422
  DUPLICATE_RESOURCE_IDENTIFIER, unconfirmed), `GET /v1/catalogs/products[/{id}]`.
- Plans: `POST /v1/billing/plans` {product_id, name, billing_cycles, payment_preferences,
  quantity_supported, status?}, `GET /v1/billing/plans?product_id=&page_size=&page=
  &total_required=` (summaries, pages of at most 20), `GET /v1/billing/plans/{id}`.
- Subscriptions: `POST /v1/billing/subscriptions` {plan_id, quantity, custom_id, subscriber,
  application_context{return_url, cancel_url, ...}} -> 201 APPROVAL_PENDING with links
  `approve` (this stand-in's `/checkoutnow?token=<id>`), `edit`, `self`; `GET …/{id}`;
  `POST …/{id}/cancel|suspend|activate {reason}` -> 204 (422 SUBSCRIPTION_STATUS_INVALID
  from the wrong status); `POST …/{id}/revise {plan_id, quantity}` -> 200 with an `approve`
  link: the change applies once the buyer approves it.
- The approval page `GET /checkoutnow?token=<subscription id>` (Approve / Cancel buttons,
  `POST /checkoutnow`): Approve activates the subscription and takes its first payment, or
  applies a pending revision, then redirects to `return_url?subscription_id=&ba_token=
  &token=`; Cancel redirects to `cancel_url?token=`.
- Payments: each subscription payment is a sale, read as `GET /v1/payments/sale/{id}` (with
  `billing_agreement_id`) or `GET /v2/payments/captures/{id}`; `POST
  /v2/payments/captures/{id}/refund {amount?: {value, currency_code}}` -> 201 (422
  REFUND_AMOUNT_EXCEEDED above what is left).
- `PayPal-Request-Id` on a POST: the first answer is kept and replayed for the same id.
- Webhooks: events BILLING.SUBSCRIPTION.CREATED / ACTIVATED / UPDATED / SUSPENDED /
  CANCELLED / PAYMENT.FAILED and PAYMENT.SALE.COMPLETED / REFUNDED, POSTed to `webhook_url`
  (from a background thread, in order) with PAYPAL-TRANSMISSION-ID / -TIME / -SIG,
  PAYPAL-CERT-URL and PAYPAL-AUTH-ALGO: the signature is SHA256withRSA over
  `<transmission id>|<time>|<webhook id>|<crc32 of the body>` with the stand-in's key, whose
  certificate is served at the cert URL.  `POST /v1/notifications/verify-webhook-signature`
  answers 200 `{"verification_status": "SUCCESS"}` only for the headers and the very event
  of a transmission it made for that `webhook_id`, else `FAILURE` (400 when fields miss).

Controls (besides fakes/calendar_common.py's `/_fake/calls|fail|stall|reset`):
- `POST /_fake/payments {subscription_id, outcome: "success"|"failure"}`: the next cycle's
  payment; after the plan's `payment_failure_threshold` failures in a row (default 3) the
  subscription is SUSPENDED
- `GET  /_fake/events` -> `{events: [{id, event_type, transmission_id, headers, body,
  delivered}]}` (for re-delivery and forgery)
- `POST /_fake/hold {hold: true|false}`: keep deliveries back / send those kept
- `POST /_fake/redeliver {event_id}`: a new transmission of an event
- `POST /_fake/expire_tokens`; `GET /_fake/subscriptions`
"""

from __future__ import annotations

import base64
import calendar
import html
import json
import queue
import secrets
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from werkzeug.wrappers import Request, Response

from fakes.calendar_common import FakeServer, json_response, post_quietly

CLIENT_ID = "paypal-local-client"
CLIENT_SECRET = "paypal-local-secret"  # the stand-in's own
WEBHOOK_ID = "WH-LOCAL-HELPTAL-0001"
TOKEN_LIFETIME = 32_400
AUTH_ALGO = "SHA256withRSA"
DEFAULT_FAILURE_THRESHOLD = 3
_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


@dataclass
class Sale:
    id: str
    subscription_id: str
    value: Decimal
    currency: str
    time: str
    refunds: list[tuple[str, Decimal, str]] = field(default_factory=list)  # id, value, time

    @property
    def refunded(self) -> Decimal:
        return sum((value for _, value, _ in self.refunds), Decimal(0))

    @property
    def state(self) -> str:
        if not self.refunds:
            return "completed"
        return "refunded" if self.refunded >= self.value else "partially_refunded"


@dataclass
class Transmission:
    id: str
    event_id: str
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    delivered: int | None = None  # the receiver's HTTP status (0: no answer)


@dataclass
class Subscription:
    body: dict[str, Any]  # as GET answers it
    return_url: str
    cancel_url: str
    ba_token: str
    revision: dict[str, Any] | None = None  # a revise waiting for the buyer's approval


class FakePayPal(FakeServer):
    label = "paypal"

    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        webhook_url: str | None = None,
        webhook_id: str = WEBHOOK_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
        token_lifetime: int = TOKEN_LIFETIME,
    ) -> None:
        """`webhook_url`: where events are POSTed (None: only kept, see `transmissions`);
        `webhook_id`: the id PayPal gave that webhook (the verify postback names it)."""
        super().__init__(host, port, echo)
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_url = webhook_url
        self.webhook_id = webhook_id
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, float] = {}
        self.tokens_issued = 0
        self.products: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.sales: dict[str, Sale] = {}
        self.events: list[dict[str, Any]] = []
        self.transmissions: dict[str, Transmission] = {}
        self._replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self._held: list[Transmission] = []
        self._holding = False
        self._outbox: queue.Queue[Transmission] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_name = f"CERT-360caa42-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
        self._cert_pem = _certificate(self._key)
        threading.Thread(target=self._deliver_forever, daemon=True).start()

    @property
    def cert_url(self) -> str:
        return f"{self.url}/v1/notifications/certs/{self.cert_name}"

    # -- controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.tokens.clear()
            self.tokens_issued = 0
            self.products.clear()
            self.plans.clear()
            self.subscriptions.clear()
            self.sales.clear()
            self.events.clear()
            self.transmissions.clear()
            self._replies.clear()
            self._held.clear()
            self._holding = False

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def hold(self, holding: bool = True) -> None:
        """Keeps deliveries back (True) or sends those kept back, in order (False)."""
        with self._lock:
            self._holding = holding
            released = [] if holding else self._held
            if not holding:
                self._held = []
        for transmission in released:
            self._send(transmission)

    def take_payment(self, subscription_id: str, succeed: bool = True) -> str | None:
        """The next cycle's payment of an ACTIVE subscription: the sale's id, or None when
        it failed (after the plan's threshold of failures in a row: SUSPENDED)."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            if sub.body["status"] != "ACTIVE":
                raise ValueError(f"{subscription_id} is {sub.body['status']}, not ACTIVE")
            if succeed:
                return self._pay(sub).id
            info = sub.body["billing_info"]
            amount = self._cycle_amount(sub)
            info["failed_payments_count"] += 1
            info["last_failed_payment"] = {
                "amount": amount,
                "time": self._now(),
                "reason_code": "PAYMENT_DENIED",
            }
            balance = Decimal(info["outstanding_balance"]["value"]) + Decimal(amount["value"])
            info["outstanding_balance"] = _money(balance, amount["currency_code"])
            self._emit("BILLING.SUBSCRIPTION.PAYMENT.FAILED", "subscription", sub.body)
            plan = self.plans[sub.body["plan_id"]]
            threshold = int(
                (plan.get("payment_preferences") or {}).get(
                    "payment_failure_threshold", DEFAULT_FAILURE_THRESHOLD
                )
                or DEFAULT_FAILURE_THRESHOLD
            )
            if info["failed_payments_count"] >= threshold:
                self._set_status(sub, "SUSPENDED", "Payments failed")
                self._emit("BILLING.SUBSCRIPTION.SUSPENDED", "subscription", sub.body)
            return None

    def sales_of(self, subscription_id: str) -> list[Sale]:
        with self._lock:
            return [s for s in self.sales.values() if s.subscription_id == subscription_id]

    def redeliver(self, event_id: str) -> Transmission:
        """A new transmission (new id, time and signature) of an event sent before."""
        with self._lock:
            event = next(e for e in self.events if e["id"] == event_id)
            transmission = self._transmit(event)
        return transmission

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """True once every queued delivery was attempted."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def approve(self, subscription_id: str) -> str:
        """What the buyer's Approve click does; the URL the browser is sent to."""
        with self._lock:
            return self._approve(self.subscriptions[subscription_id])

    def control(self, request: Request) -> Response:
        path, method = request.path, request.method
        payload = request.get_json(silent=True) or {}
        if method == "POST" and path == "/_fake/expire_tokens":
            self.expire_tokens()
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/hold":
            self.hold(bool(payload.get("hold", True)))
            return json_response({"ok": True})
        if method == "GET" and path == "/_fake/events":
            with self._lock:
                listed = [
                    {
                        "id": t.event_id,
                        "event_type": _event_type(t.body),
                        "transmission_id": t.id,
                        "headers": t.headers,
                        "body": t.body.decode(),
                        "delivered": t.delivered,
                    }
                    for t in self.transmissions.values()
                ]
            return json_response({"events": listed})
        if method == "GET" and path == "/_fake/subscriptions":
            with self._lock:
                return json_response([s.body for s in self.subscriptions.values()])
        if method == "POST" and path == "/_fake/payments":
            sub_id = str(payload.get("subscription_id") or "")
            if sub_id not in self.subscriptions:
                return json_response({"error": "no such subscription"}, 404)
            try:
                sale = self.take_payment(sub_id, payload.get("outcome", "success") == "success")
            except ValueError as e:
                return json_response({"error": str(e)}, 409)
            return json_response({"sale_id": sale})
        if method == "POST" and path == "/_fake/redeliver":
            try:
                sent = self.redeliver(str(payload.get("event_id") or ""))
            except StopIteration:
                return json_response({"error": "no such event"}, 404)
            return json_response({"transmission_id": sent.id})
        return json_response({"error": "no such control"}, 404)

    # -- pages: the buyer's approval, the signing certificate --------------------------------

    def is_page(self, request: Request) -> bool:
        return request.path == "/checkoutnow" or request.path.startswith("/v1/notifications/certs/")

    def page(self, request: Request) -> Response:
        if request.path.startswith("/v1/notifications/certs/"):
            if request.path.rsplit("/", 1)[-1] != self.cert_name:
                return Response("not found", status=404)
            return Response(self._cert_pem, content_type="application/x-pem-file")
        token = request.values.get("token", "")
        with self._lock:
            sub = self.subscriptions.get(token)
            if sub is None:
                return _page("PayPal", "<p>This link is not valid.</p>", status=404)
            if request.method == "POST":
                if request.form.get("decision") == "approve":
                    target = self._approve(sub)
                else:
                    target = _with_query(sub.cancel_url, {"token": token})
                if not target:
                    return _page("PayPal", "<p>Done. You may close this window.</p>")
                return Response(status=302, headers={"Location": target})
            return self._approval_page(sub, token)

    def _approval_page(self, sub: Subscription, token: str) -> Response:
        body = sub.body
        plan = self.plans[(sub.revision or body)["plan_id"]]
        quantity = (sub.revision or body).get("quantity", "1")
        what = "Change your subscription" if sub.revision else "Subscribe"
        price = plan["billing_cycles"][-1]["pricing_scheme"]["fixed_price"]
        unit = plan["billing_cycles"][-1]["frequency"]["interval_unit"].lower()
        content = f"""<p>Local stand-in: nothing leaves this machine.</p>
<p>{html.escape(what)}: <strong>{html.escape(plan["name"])}</strong>,
{html.escape(str(quantity))} &times; {html.escape(price["value"])}
{html.escape(price["currency_code"])} per {html.escape(unit)}.</p>
<form method="post" action="/checkoutnow">
<input type="hidden" name="token" value="{html.escape(token)}">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>
</form>"""
        return _page("PayPal", content)

    def _approve(self, sub: Subscription) -> str:
        body = sub.body
        if body["status"] == "APPROVAL_PENDING":
            self._set_status(sub, "ACTIVE", "")
            body["start_time"] = self._now()
            body["subscriber"]["payer_id"] = "".join(secrets.choice(_ALPHABET) for _ in range(13))
            body["billing_info"] = {
                "outstanding_balance": _money(Decimal(0), self._currency(sub)),
                "cycle_executions": [
                    {
                        "tenure_type": "REGULAR",
                        "sequence": 1,
                        "cycles_completed": 0,
                        "cycles_remaining": 0,
                        "total_cycles": 0,
                    }
                ],
                "next_billing_time": body["start_time"],
                "failed_payments_count": 0,
            }
            self._emit("BILLING.SUBSCRIPTION.ACTIVATED", "subscription", body)
            self._pay(sub)
            return _with_query(
                sub.return_url,
                {"subscription_id": body["id"], "ba_token": sub.ba_token, "token": body["id"]},
            )
        if sub.revision is not None:
            revision, sub.revision = sub.revision, None
            body["plan_id"] = revision["plan_id"]
            body["quantity"] = revision["quantity"]
            body["update_time"] = self._now()
            self._emit("BILLING.SUBSCRIPTION.UPDATED", "subscription", body)
            return _with_query(
                revision.get("return_url") or sub.return_url,
                {"subscription_id": body["id"], "ba_token": sub.ba_token, "token": body["id"]},
            )
        return _with_query(sub.return_url, {"subscription_id": body["id"], "token": body["id"]})

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return _error(status, "INTERNAL_SERVICE_ERROR", "An internal service error occurred.")

    def api(self, request: Request, body: Any) -> Response:
        if request.path == "/v1/oauth2/token":
            return self._token(request)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            expiry = self.tokens.get(bearer)
            if expiry is None or expiry <= self.clock():
                return json_response(
                    {"error": "invalid_token", "error_description": "Token is not valid"}, 401
                )
            request_id = request.headers.get("PayPal-Request-Id", "")
            replay_key = (request_id, f"{request.method} {request.path}")
            if request.method == "POST" and request_id and replay_key in self._replies:
                status, replayed = self._replies[replay_key]
                return (
                    json_response(replayed, status)
                    if replayed is not None
                    else Response(status=status)
                )
            if body is None and request.method == "POST" and request.get_data():
                return _error(400, "INVALID_REQUEST", "The request is not well-formed JSON.")
            response = self._route(request, body if isinstance(body, dict) else {})
            if request.method == "POST" and request_id and response.status_code < 500:
                kept = json.loads(response.get_data()) if response.get_data() else None
                self._replies[replay_key] = (response.status_code, kept)
            return response

    def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            return json_response(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                401,
            )
        if request.form.get("grant_type") != "client_credentials":
            return json_response(
                {"error": "unsupported_grant_type", "error_description": "Grant type is wrong"},
                400,
            )
        token = "A21AA" + secrets.token_urlsafe(40)
        with self._lock:
            self.tokens[token] = self.clock() + self.token_lifetime
            self.tokens_issued += 1
        return json_response(
            {
                "scope": "https://uri.paypal.com/services/subscriptions "
                "https://uri.paypal.com/services/payments/refund",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-LOCAL0000000000",
                "expires_in": self.token_lifetime,
                "nonce": f"{self._now()}{secrets.token_urlsafe(16)}",
            }
        )

    def _route(self, request: Request, body: dict[str, Any]) -> Response:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if parts[:3] == ["v1", "catalogs", "products"]:
            return self._products(method, parts[3:], body)
        if parts[:3] == ["v1", "billing", "plans"]:
            return self._plans(method, parts[3:], body, request.args)
        if parts[:3] == ["v1", "billing", "subscriptions"]:
            return self._subscriptions(method, parts[3:], body)
        if parts[:3] == ["v1", "payments", "sale"] and len(parts) == 4 and method == "GET":
            sale = self.sales.get(parts[3])
            return json_response(self._sale_v1(sale)) if sale else _not_found()
        if parts[:3] == ["v2", "payments", "captures"] and len(parts) in (4, 5):
            sale = self.sales.get(parts[3])
            if sale is None:
                return _not_found()
            if len(parts) == 4 and method == "GET":
                return json_response(self._capture_v2(sale))
            if len(parts) == 5 and parts[4] == "refund" and method == "POST":
                return self._refund(sale, body)
        if request.path == "/v1/notifications/verify-webhook-signature" and method == "POST":
            return self._verify(body)
        return _not_found()

    # catalog and plans

    def _products(self, method: str, rest: list[str], body: dict[str, Any]) -> Response:
        if not rest and method == "POST":
            product_id = str(body.get("id") or "PROD-" + _random_id(17))
            if not body.get("name") or body.get("type") not in ("PHYSICAL", "DIGITAL", "SERVICE"):
                return _error(
                    400,
                    "INVALID_REQUEST",
                    "name and type are required",
                    "MISSING_REQUIRED_PARAMETER",
                )
            if product_id in self.products:
                return _error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "The product id is taken.",
                    "DUPLICATE_RESOURCE_IDENTIFIER",
                )
            now = self._now()
            product = {
                "id": product_id,
                "name": body["name"],
                "description": body.get("description", ""),
                "type": body["type"],
                "category": body.get("category", "SOFTWARE"),
                "create_time": now,
                "update_time": now,
                "links": [{"href": f"{self.url}/v1/catalogs/products/{product_id}", "rel": "self"}],
            }
            self.products[product_id] = product
            return json_response(product, 201)
        if not rest and method == "GET":
            return json_response({"products": list(self.products.values())})
        if len(rest) == 1 and method == "GET":
            found = self.products.get(rest[0])
            return json_response(found) if found else _not_found()
        return _not_found()

    def _plans(self, method: str, rest: list[str], body: dict[str, Any], args: Any) -> Response:
        if not rest and method == "POST":
            return self._create_plan(body)
        if not rest and method == "GET":
            size = min(max(_int(args.get("page_size"), 10), 1), 20)
            page = max(_int(args.get("page"), 1), 1)
            found = [
                p
                for p in self.plans.values()
                if not args.get("product_id") or p["product_id"] == args["product_id"]
            ]
            shown = found[(page - 1) * size : page * size]
            answer: dict[str, Any] = {
                "plans": [
                    {k: p[k] for k in ("id", "product_id", "name", "status", "description")}
                    | {
                        "usage_type": "LICENSED",
                        "create_time": p["create_time"],
                        "links": p["links"],
                    }
                    for p in shown
                ],
                "links": [],
            }
            if args.get("total_required") == "true":
                answer["total_items"] = len(found)
                answer["total_pages"] = (len(found) + size - 1) // size
            if page * size < len(found):
                answer["links"].append(
                    {
                        "href": f"{self.url}/v1/billing/plans?page_size={size}&page={page + 1}",
                        "rel": "next",
                        "method": "GET",
                    }
                )
            return json_response(answer)
        if len(rest) == 1 and method == "GET":
            plan = self.plans.get(rest[0])
            return json_response(plan) if plan else _not_found()
        return _not_found()

    def _create_plan(self, body: dict[str, Any]) -> Response:
        if body.get("product_id") not in self.products:
            return _error(422, "UNPROCESSABLE_ENTITY", "No such product.", "INVALID_PRODUCT_ID")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 127:
            return _error(400, "INVALID_REQUEST", "name", "MISSING_REQUIRED_PARAMETER")
        cycles = body.get("billing_cycles")
        if not isinstance(cycles, list) or not cycles or not all(_cycle_ok(c) for c in cycles):
            return _error(400, "INVALID_REQUEST", "billing_cycles", "INVALID_PARAMETER_VALUE")
        plan_id = "P-" + _random_id(24)
        now = self._now()
        plan = {
            "id": plan_id,
            "product_id": body["product_id"],
            "name": name,
            "status": body.get("status") or "ACTIVE",
            "description": body.get("description", ""),
            "usage_type": "LICENSED",
            "billing_cycles": cycles,
            "payment_preferences": body.get("payment_preferences") or {},
            "taxes": body.get("taxes") or {"percentage": "0", "inclusive": False},
            "quantity_supported": bool(body.get("quantity_supported", False)),
            "create_time": now,
            "update_time": now,
            "links": [{"href": f"{self.url}/v1/billing/plans/{plan_id}", "rel": "self"}],
        }
        self.plans[plan_id] = plan
        return json_response(plan, 201)

    # subscriptions

    def _subscriptions(self, method: str, rest: list[str], body: dict[str, Any]) -> Response:
        if not rest and method == "POST":
            return self._create_subscription(body)
        if not rest:
            return _not_found()
        sub = self.subscriptions.get(rest[0])
        if sub is None:
            return _not_found()
        if len(rest) == 1 and method == "GET":
            return json_response(sub.body)
        if len(rest) != 2 or method != "POST":
            return _not_found()
        action = rest[1]
        if action == "revise":
            return self._revise(sub, body)
        moves = {
            "cancel": (("ACTIVE", "SUSPENDED"), "CANCELLED"),
            "suspend": (("ACTIVE",), "SUSPENDED"),
            "activate": (("SUSPENDED",), "ACTIVE"),
        }
        if action not in moves:
            return _not_found()
        if not isinstance(body.get("reason"), str) or not body["reason"]:
            return _error(400, "INVALID_REQUEST", "reason", "MISSING_REQUIRED_PARAMETER")
        allowed, status = moves[action]
        if sub.body["status"] not in allowed:
            return _error(
                422,
                "UNPROCESSABLE_ENTITY",
                f"Invalid subscription status for {action}.",
                "SUBSCRIPTION_STATUS_INVALID",
            )
        self._set_status(sub, status, body["reason"])
        if status == "CANCELLED":  # nothing more is billed (as PayPal shows it: unconfirmed)
            sub.body.get("billing_info", {}).pop("next_billing_time", None)
        self._emit(
            f"BILLING.SUBSCRIPTION.{'ACTIVATED' if status == 'ACTIVE' else status}",
            "subscription",
            sub.body,
        )
        return Response(status=204)

    def _create_subscription(self, body: dict[str, Any]) -> Response:
        plan = self.plans.get(str(body.get("plan_id") or ""))
        if plan is None or plan["status"] != "ACTIVE":
            return _error(422, "UNPROCESSABLE_ENTITY", "The plan is not active.", "PLAN_NOT_ACTIVE")
        quantity = body.get("quantity", "1")
        if not _quantity_ok(quantity):
            return _error(400, "INVALID_REQUEST", "quantity", "INVALID_PARAMETER_VALUE")
        if quantity != "1" and not plan["quantity_supported"]:
            return _error(
                422, "UNPROCESSABLE_ENTITY", "The plan takes no quantity.", "QUANTITY_NOT_SUPPORTED"
            )
        custom_id = body.get("custom_id")
        if custom_id is not None and (not isinstance(custom_id, str) or len(custom_id) > 127):
            return _error(400, "INVALID_REQUEST", "custom_id", "INVALID_STRING_MAX_LENGTH")
        context = body.get("application_context") or {}
        sub_id = "I-" + _random_id(12)
        now = self._now()
        subscriber = body.get("subscriber") if isinstance(body.get("subscriber"), dict) else {}
        sub_body: dict[str, Any] = {
            "id": sub_id,
            "plan_id": plan["id"],
            "status": "APPROVAL_PENDING",
            "status_update_time": now,
            "quantity": quantity,
            "custom_id": custom_id,
            "plan_overridden": False,
            "subscriber": dict(subscriber or {}),
            "create_time": now,
            "update_time": now,
            "links": [
                {
                    "href": f"{self.url}/checkoutnow?token={sub_id}",
                    "rel": "approve",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/v1/billing/subscriptions/{sub_id}",
                    "rel": "edit",
                    "method": "PATCH",
                },
                {
                    "href": f"{self.url}/v1/billing/subscriptions/{sub_id}",
                    "rel": "self",
                    "method": "GET",
                },
            ],
        }
        if custom_id is None:
            del sub_body["custom_id"]
        self.subscriptions[sub_id] = Subscription(
            sub_body,
            str(context.get("return_url") or ""),
            str(context.get("cancel_url") or ""),
            "BA-" + _random_id(17),
        )
        self._emit("BILLING.SUBSCRIPTION.CREATED", "subscription", sub_body)
        return json_response(sub_body, 201)

    def _revise(self, sub: Subscription, body: dict[str, Any]) -> Response:
        if sub.body["status"] != "ACTIVE":
            return _error(
                422, "UNPROCESSABLE_ENTITY", "Only an active one.", "SUBSCRIPTION_STATUS_INVALID"
            )
        plan = self.plans.get(str(body.get("plan_id") or sub.body["plan_id"]))
        quantity = body.get("quantity", sub.body["quantity"])
        if plan is None:
            return _error(422, "UNPROCESSABLE_ENTITY", "No such plan.", "INVALID_PLAN_ID")
        if not _quantity_ok(quantity) or (quantity != "1" and not plan["quantity_supported"]):
            return _error(400, "INVALID_REQUEST", "quantity", "INVALID_PARAMETER_VALUE")
        context = body.get("application_context") or {}
        sub.revision = {
            "plan_id": plan["id"],
            "quantity": quantity,
            "return_url": context.get("return_url"),
        }
        return json_response(
            {
                "plan_id": plan["id"],
                "quantity": quantity,
                "effective_time": self._now(),
                "plan_overridden": False,
                "links": [
                    {
                        "href": f"{self.url}/checkoutnow?token={sub.body['id']}",
                        "rel": "approve",
                        "method": "GET",
                    },
                    {
                        "href": f"{self.url}/v1/billing/subscriptions/{sub.body['id']}",
                        "rel": "edit",
                        "method": "PATCH",
                    },
                ],
            }
        )

    def _set_status(self, sub: Subscription, status: str, note: str) -> None:
        sub.body["status"] = status
        sub.body["status_update_time"] = self._now()
        sub.body["update_time"] = sub.body["status_update_time"]
        if note:
            sub.body["status_change_note"] = note

    # payments

    def _currency(self, sub: Subscription) -> str:
        plan = self.plans[sub.body["plan_id"]]
        return str(plan["billing_cycles"][-1]["pricing_scheme"]["fixed_price"]["currency_code"])

    def _cycle_amount(self, sub: Subscription) -> dict[str, str]:
        plan = self.plans[sub.body["plan_id"]]
        price = plan["billing_cycles"][-1]["pricing_scheme"]["fixed_price"]
        total = Decimal(price["value"]) * Decimal(sub.body["quantity"])
        return _money(total, price["currency_code"])

    def _pay(self, sub: Subscription) -> Sale:
        amount = self._cycle_amount(sub)
        now = self._now()
        sale = Sale(
            id=_random_id(17),
            subscription_id=sub.body["id"],
            value=Decimal(amount["value"]),
            currency=amount["currency_code"],
            time=now,
        )
        self.sales[sale.id] = sale
        info = sub.body["billing_info"]
        plan = self.plans[sub.body["plan_id"]]
        frequency = plan["billing_cycles"][-1]["frequency"]
        info["last_payment"] = {"status": "COMPLETED", "amount": amount, "time": now}
        info["next_billing_time"] = _iso(
            _advance(_parse(now), frequency["interval_unit"], int(frequency["interval_count"]))
        )
        info["failed_payments_count"] = 0
        info["outstanding_balance"] = _money(Decimal(0), amount["currency_code"])
        info["cycle_executions"][0]["cycles_completed"] += 1
        self._emit("PAYMENT.SALE.COMPLETED", "sale", self._sale_v1(sale))
        return sale

    def _sale_v1(self, sale: Sale) -> dict[str, Any]:
        return {
            "id": sale.id,
            "state": sale.state,
            "amount": {
                "total": str(sale.value),
                "currency": sale.currency,
                "details": {"subtotal": str(sale.value)},
            },
            "payment_mode": "INSTANT_TRANSFER",
            "protection_eligibility": "ELIGIBLE",
            "transaction_fee": {"value": "0.00", "currency": sale.currency},
            "billing_agreement_id": sale.subscription_id,
            "create_time": sale.time,
            "update_time": sale.refunds[-1][2] if sale.refunds else sale.time,
            "links": [
                {"href": f"{self.url}/v1/payments/sale/{sale.id}", "rel": "self", "method": "GET"},
                {
                    "href": f"{self.url}/v1/payments/sale/{sale.id}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
            ],
        }

    def _capture_v2(self, sale: Sale) -> dict[str, Any]:
        status = {"completed": "COMPLETED", "partially_refunded": "PARTIALLY_REFUNDED"}
        return {
            "id": sale.id,
            "status": status.get(sale.state, "REFUNDED"),
            "amount": _money(sale.value, sale.currency),
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE"},
            "seller_receivable_breakdown": {
                "gross_amount": _money(sale.value, sale.currency),
                "paypal_fee": _money(Decimal(0), sale.currency),
                "net_amount": _money(sale.value, sale.currency),
            },
            "create_time": sale.time,
            "update_time": sale.refunds[-1][2] if sale.refunds else sale.time,
            "links": [
                {
                    "href": f"{self.url}/v2/payments/captures/{sale.id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/v2/payments/captures/{sale.id}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
            ],
        }

    def _refund(self, sale: Sale, body: dict[str, Any]) -> Response:
        left = sale.value - sale.refunded
        if left <= 0:
            return _error(
                422, "UNPROCESSABLE_ENTITY", "Already refunded.", "CAPTURE_FULLY_REFUNDED"
            )
        amount = body.get("amount")
        value = left
        if amount is not None:
            try:
                value = Decimal(str(amount["value"]))
            except (InvalidOperation, KeyError, TypeError):
                return _error(400, "INVALID_REQUEST", "amount", "INVALID_PARAMETER_VALUE")
            if amount.get("currency_code") != sale.currency:
                return _error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "Currency differs from the capture's.",
                    "REFUND_CAPTURE_CURRENCY_MISMATCH",
                )
            if value <= 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
                return _error(400, "INVALID_REQUEST", "amount", "INVALID_PARAMETER_VALUE")
            if value > left:
                return _error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "The refund amount exceeds what is left of the capture.",
                    "REFUND_AMOUNT_EXCEEDED",
                )
        refund_id = _random_id(17)
        now = self._now()
        sale.refunds.append((refund_id, value, now))
        self._emit(
            "PAYMENT.SALE.REFUNDED",
            "refund",
            {
                "id": refund_id,
                "state": "completed",
                "amount": {"total": str(value), "currency": sale.currency},
                "sale_id": sale.id,
                "billing_agreement_id": sale.subscription_id,
                "create_time": now,
                "update_time": now,
                "links": [
                    {"href": f"{self.url}/v1/payments/refund/{refund_id}", "rel": "self"},
                    {"href": f"{self.url}/v1/payments/sale/{sale.id}", "rel": "sale"},
                ],
            },
        )
        return json_response(
            {
                "id": refund_id,
                "status": "COMPLETED",
                "amount": _money(value, sale.currency),
                "seller_payable_breakdown": {
                    "gross_amount": _money(value, sale.currency),
                    "paypal_fee": _money(Decimal(0), sale.currency),
                    "net_amount": _money(value, sale.currency),
                    "total_refunded_amount": _money(sale.refunded, sale.currency),
                },
                "create_time": now,
                "update_time": now,
                "links": [
                    {"href": f"{self.url}/v2/payments/refunds/{refund_id}", "rel": "self"},
                    {"href": f"{self.url}/v2/payments/captures/{sale.id}", "rel": "up"},
                ],
            },
            201,
        )

    # webhooks

    def _emit(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> None:
        event_id = f"WH-{_random_id(17)}-{_random_id(17)}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": self._now(),
            "resource_type": resource_type,
            "resource_version": "2.0" if resource_type == "subscription" else "1.0",
            "event_type": event_type,
            "summary": event_type.replace(".", " ").lower().capitalize(),
            "resource": json.loads(json.dumps(resource)),  # as it is now
            "links": [
                {
                    "href": f"{self.url}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }
        self.events.append(event)
        self._transmit(event)

    def _transmit(self, event: dict[str, Any]) -> Transmission:
        body = json.dumps(event, separators=(",", ":")).encode()
        transmission_id = str(uuid.uuid4())
        sent_at = self._now()
        message = f"{transmission_id}|{sent_at}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        transmission = Transmission(
            id=transmission_id,
            event_id=event["id"],
            webhook_id=self.webhook_id,
            headers={
                "Content-Type": "application/json",
                "PAYPAL-TRANSMISSION-ID": transmission_id,
                "PAYPAL-TRANSMISSION-TIME": sent_at,
                "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
                "PAYPAL-CERT-URL": self.cert_url,
                "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            },
            body=body,
        )
        self.transmissions[transmission_id] = transmission
        if self._holding:
            self._held.append(transmission)
        else:
            self._send(transmission)
        return transmission

    def _send(self, transmission: Transmission) -> None:
        if not self.webhook_url:
            return
        with self._idle:
            self._pending += 1
        self._outbox.put(transmission)

    def _deliver_forever(self) -> None:
        while True:
            transmission = self._outbox.get()
            url = self.webhook_url
            status = 0
            if url:
                status, _, _ = post_quietly(
                    url, headers=transmission.headers, body=transmission.body
                )
            transmission.delivered = status
            if self.echo:
                print(f"[{self.label}] webhook {_event_type(transmission.body)} -> {status}")
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _verify(self, body: dict[str, Any]) -> Response:
        names = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
        )
        missing = [n for n in names if not isinstance(body.get(n), str) or not body[n]]
        if missing or not isinstance(body.get("webhook_event"), dict):
            return _error(
                400,
                "VALIDATION_ERROR",
                "Invalid request - see details",
                "MISSING_REQUIRED_PARAMETER",
                field=(missing or ["webhook_event"])[0],
            )
        sent = self.transmissions.get(body["transmission_id"])
        genuine = (
            sent is not None
            and sent.webhook_id == body["webhook_id"]
            and sent.headers["PAYPAL-TRANSMISSION-TIME"] == body["transmission_time"]
            and sent.headers["PAYPAL-TRANSMISSION-SIG"] == body["transmission_sig"]
            and sent.headers["PAYPAL-CERT-URL"] == body["cert_url"]
            and sent.headers["PAYPAL-AUTH-ALGO"] == body["auth_algo"]
            and json.loads(sent.body) == body["webhook_event"]
            and self._signed(sent)
        )
        return json_response({"verification_status": "SUCCESS" if genuine else "FAILURE"})

    def _signed(self, sent: Transmission) -> bool:
        headers = sent.headers
        message = (
            f"{sent.id}|{headers['PAYPAL-TRANSMISSION-TIME']}|{sent.webhook_id}|"
            f"{zlib.crc32(sent.body)}"
        ).encode()
        try:
            self._key.public_key().verify(
                base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"]),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:  # cryptography's InvalidSignature, or a malformed signature
            return False
        return True

    def _now(self) -> str:
        return _iso(datetime.fromtimestamp(self.clock(), UTC))


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.local")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _cycle_ok(cycle: Any) -> bool:
    if not isinstance(cycle, dict):
        return False
    frequency = cycle.get("frequency") or {}
    price = ((cycle.get("pricing_scheme") or {}).get("fixed_price")) or {}
    try:
        Decimal(str(price.get("value")))
    except InvalidOperation:
        return False
    return (
        frequency.get("interval_unit") in ("DAY", "WEEK", "MONTH", "YEAR")
        and isinstance(frequency.get("interval_count", 1), int)
        and cycle.get("tenure_type") in ("REGULAR", "TRIAL")
        and isinstance(cycle.get("sequence"), int)
        and isinstance(price.get("currency_code"), str)
        and len(price["currency_code"]) == 3
        and price["currency_code"].isupper()
    )


def _quantity_ok(quantity: Any) -> bool:
    return isinstance(quantity, str) and quantity.isdigit() and 1 <= int(quantity) <= 100_000


def _money(value: Decimal, currency: str) -> dict[str, str]:
    places = Decimal(1) if currency in ("JPY", "TWD", "HUF") else Decimal("0.01")
    return {"currency_code": currency, "value": str(value.quantize(places))}


def _advance(moment: datetime, unit: str, count: int) -> datetime:
    if unit == "DAY":
        return moment + timedelta(days=count)
    if unit == "WEEK":
        return moment + timedelta(weeks=count)
    month_index = moment.month - 1 + count * (12 if unit == "YEAR" else 1)
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query (before any #fragment); "" for no url."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _event_type(body: bytes) -> str:
    try:
        return str(json.loads(body).get("event_type", ""))
    except ValueError:
        return ""


def _error(status: int, name: str, message: str, issue: str = "", field: str = "") -> Response:
    details = [{"issue": issue or name, "description": message}]
    if field:
        details[0]["field"] = field
    return json_response(
        {
            "name": name,
            "message": message,
            "debug_id": secrets.token_hex(7),
            "details": details,
            "links": [],
        },
        status,
    )


def _not_found() -> Response:
    return _error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
    )


def _page(title: str, content: str, status: int = 200) -> Response:
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} (local stand-in)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}</style>
</head><body><h1>{html.escape(title)}</h1>{content}</body></html>"""
    return Response(body, status=status, content_type="text/html; charset=utf-8")
