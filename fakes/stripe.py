"""A local stand-in for the part of Stripe's API Helptal bills with, over HTTP, stateful, with
the hosted pages a browser goes through and the webhooks Stripe would send.

API (`/v1`, form-encoded with nested `a[b][0][c]` keys, `Authorization: Bearer sk_…`: 401
otherwise; errors as `{"error": {"type", "code", "message", "param", "decline_code"?}}`;
`Idempotency-Key` on POSTs: the same key with the same parameters replays the first answer
(`Idempotent-Replayed: true`), with other parameters 400 `idempotency_error`; `expand[]`
for the expandable fields used here, e.g. `default_payment_method`,
`customer.invoice_settings.default_payment_method`, `payments`, `latest_charge`, `data.…`):
- prices (seeded, one per sold plan and period, with the lookup keys of
  chalicelib/billing/plans.py): `GET /v1/prices?lookup_keys[]=&active=`, `GET /v1/prices/{id}`
- customers: `POST /v1/customers`, `GET|POST /v1/customers/{id}`; payment methods (cards with
  brand, last4, expiry): `GET /v1/payment_methods/{id}`
- checkout sessions (subscription mode; `automatic_tax[enabled]` needs an address on the
  customer or `customer_update[address]=auto`, as Stripe's): `POST /v1/checkout/sessions`,
  `GET /v1/checkout/sessions/{id}`; `url` is this server's `/checkout/{id}` page
- billing portal sessions: `POST /v1/billing_portal/sessions`; `url` is `/portal/{id}`
- subscriptions: `GET /v1/subscriptions[/{id}]`, `POST /v1/subscriptions/{id}` (`items[0][id]`
  + `quantity`/`price`, `proration_behavior` create_prorations|none|always_invoice,
  `cancel_at_period_end`, `metadata`, `default_payment_method`), `DELETE /v1/subscriptions/{id}`
  (`prorate`, `invoice_now`; a canceled one is 404 like Stripe's). Periods are on the items
  (`items.data[].current_period_start/end`, as since API 2025-03-31) and on the subscription.
- invoices: `GET /v1/invoices[/{id}]` (`subscription=`, `customer=`, `status=`; newest first),
  `POST /v1/invoices/{id}/pay` (`paid_out_of_band=true`, or charges the card). The
  subscription is `parent.subscription_details.subscription` and, as before 2025-03-31, the
  top-level `subscription`; the payment intent is top-level `payment_intent` and, when
  `payments` is expanded, `payments.data[].payment.payment_intent`.
- payment intents and charges: `GET /v1/payment_intents/{id}`, `GET /v1/charges/{id}`
- refunds: `POST /v1/refunds` (`payment_intent` or `charge`, `amount`: never more than was
  paid less what was refunded), `GET /v1/refunds/{id}`; `GET /v1/events/{id}`

Cards: 4242 4242 4242 4242 (visa), 5555 5555 5555 4444 (mastercard), 3782 822463 10005
(amex) succeed; 4000 0000 0000 0341 is accepted but every charge on it fails; 4000 0000 0000
0002 (declined), 4000 0000 0000 9995 (insufficient funds), 4000 0000 0000 0069 (expired) are
refused outright.

Pages (for a browser; no scripted failures): `/checkout/{id}` (card prefilled 4242…, Pay ->
the success URL), `/portal/{id}` (plan, seats, card; cancel at period end, resume, change the
card, prefilled with the failing 4000 0000 0000 0341), `/invoice/{id}` (pay an open invoice).

Webhooks: every state change makes the events Stripe would (`checkout.session.completed`,
`customer.subscription.created|updated|deleted`, `invoice.finalized|paid|payment_succeeded|
payment_failed`, `charge.refunded`, `refund.created`, `payment_method.attached`), signed as
Stripe signs them (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with
the whsec secret>`).  With `deliver=True` and a `webhook_url` they are POSTed in the
background (re-signed at each try; retried after `retry_delays`); every event is also kept
(`.events()`, with the headers signed when it was made) so tests can deliver, replay, forge
or reorder them.

Controls (JSON), besides those of fakes/calendar_common.py (`/_fake/calls`, `/_fake/fail`,
`/_fake/stall`, `/_fake/reset`):
- `POST /_fake/checkout/{id}/complete {card?, exp_month?, exp_year?, name?, country?,
  postal_code?}` -> the completed session (402 with Stripe's card error for a refused card)
- `POST /_fake/subscriptions/{id}/renew {outcome?: "succeed"|"fail"}` -> `{subscription,
  invoice}`: the next period starts and is invoiced (the card decides without `outcome`); a
  subscription set to cancel at period end ends instead (`invoice` null)
- `POST /_fake/invoices/{id}/retry {outcome?, final?: false}` -> the invoice: Stripe's retry
  of an open invoice; a final failure leaves it open with `next_payment_attempt` null and
  the subscription past_due
- `POST /_fake/customers/{id}/card {number, exp_month?, exp_year?}` -> the new payment method,
  now the customer's and their subscriptions' default
- `GET /_fake/events[?type=]`, `POST /_fake/events/{id}/deliver {resign?: false}` -> `{status}`
- `POST /_fake/webhook {url?, deliver?}`: where and whether events are delivered
- `GET|POST /_fake/clock {offset_seconds}`: this server's clock runs that far from the real one
  (signatures, `created`, periods), e.g. -600 for stale signatures
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from chalicelib.billing.plans import PLANS, Period, price_lookup_key
from fakes.calendar_common import FakeServer, json_response, post_quietly

SECRET_KEY = "sk_test_helptal_local_stand_in"
WEBHOOK_SECRET = "whsec_helptal_local_stand_in"
API_VERSION = "2026-10-28.endive"  # the version stripe-python 16 sends
GOOD_CARD = "4242424242424242"
FAILING_CARD = "4000000000000341"  # attaches, then every charge fails
# Refused when entered: (code, decline_code, message).
REFUSED_CARDS = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
}
RETRY_DAYS = (3, 5, 7)  # days to Stripe's next attempt after the 1st, 2nd, 3rd failure
TIMES = "\u00d7"  # the multiplication sign of Stripe's line descriptions ("3 x Helptal Pro …")
_ALPHABET = string.ascii_letters + string.digits


class StripeFailure(Exception):
    """An answer in Stripe's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        for name, value in (("code", code), ("param", param), ("decline_code", decline_code)):
            if value is not None:
                self.body[name] = value

    def response(self) -> Response:
        return json_response({"error": self.body}, self.status)


def _missing(kind: str, object_id: str, param: str | None = None) -> StripeFailure:
    return StripeFailure(
        404 if param is None else 400,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param or "id",
    )


@dataclass
class SentEvent:
    """An event as made: its signed body and headers, and what each delivery answered."""

    id: str
    type: str
    object_id: str
    body: bytes
    headers: dict[str, str]
    deliveries: list[int] = field(default_factory=list)  # HTTP status per try (0: no answer)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class _Stored:
    fingerprint: str
    status: int
    body: bytes


class FakeStripe(FakeServer):
    label = "stripe"

    def __init__(
        self,
        secret_key: str | None = SECRET_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        webhook_url: str | None = None,
        deliver: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = (0.5, 2.0, 10.0),
    ) -> None:
        """`secret_key`: the only API key accepted (None: any `sk_…`); `webhook_url`: where
        events are POSTed when `deliver` is true (else they are only kept)."""
        super().__init__(host, port, echo)
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.deliver_events = deliver
        self.clock = clock
        self.clock_offset = 0.0
        self.retry_delays = tuple(retry_delays)
        self.objects: dict[str, dict[str, Any]] = {}
        self._sent: list[SentEvent] = []
        self._idempotent: dict[str, _Stored] = {}
        self._sequence = 0
        self._order: dict[str, int] = {}
        # A customer's invoices are created at least a second apart, as a subscription's
        # cycles are: the renewal a test makes at once still reads as the newer one.
        self._invoiced_at: dict[str, int] = {}
        self._cards: dict[str, str] = {}  # payment method -> card number
        self._cycles: dict[str, int] = {}  # subscription -> periods since its anchor
        self._pending_lines: dict[str, list[dict[str, Any]]] = {}  # subscription -> prorations
        self._session_params: dict[str, dict[str, Any]] = {}  # checkout session -> its params
        self._request: dict[str, Any] = {"id": None, "idempotency_key": None}
        self._outbox: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._outstanding = 0
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None
        self._seed_prices()

    # -- life -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stops serving and closes the port (clients are refused, not left hanging)."""
        if self._worker is not None:
            self._outbox.put(None)
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.objects.clear()
            self._sent.clear()
            self._idempotent.clear()
            self._order.clear()
            self._cards.clear()
            self._cycles.clear()
            self._pending_lines.clear()
            self._session_params.clear()
            self.clock_offset = 0.0
            self._seed_prices()

    def now(self) -> int:
        return int(self.clock() + self.clock_offset)

    def set_clock_offset(self, seconds: float) -> None:
        with self._lock:
            self.clock_offset = float(seconds)

    # -- controls (Python) ------------------------------------------------------------------

    def price_id(self, lookup_key: str) -> str:
        with self._lock:
            return next(p["id"] for p in self._all("price") if p.get("lookup_key") == lookup_key)

    def complete_checkout(self, session_id: str, **card: Any) -> dict[str, Any]:
        """Pays the session as a buyer would (see `/_fake/checkout/{id}/complete`)."""
        with self._lock:
            return self._render(self._complete_checkout(session_id, card))

    def renew(self, subscription_id: str, outcome: str | None = None) -> dict[str, Any]:
        with self._lock:
            return self._renew(subscription_id, outcome)

    def retry_invoice(
        self, invoice_id: str, outcome: str | None = None, final: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            return self._render(self._retry(invoice_id, outcome, final))

    def set_card(
        self, customer_id: str, number: str, exp_month: int = 12, exp_year: int | None = None
    ) -> dict[str, Any]:
        with self._lock:
            customer = self._get("cus", customer_id)
            method = self._new_card(customer, number, exp_month, exp_year)
            self._make_default(customer, method)
            return self._render(method)

    def events(self, type: str | None = None) -> list[SentEvent]:
        """Every event made, oldest first (optionally of one type)."""
        with self._lock:
            return [e for e in self._sent if type in (None, e.type)]

    def signature_header(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """`Stripe-Signature` for `body`, as Stripe makes it (now, with this server's secret)."""
        moment = self.now() if timestamp is None else timestamp
        return f"t={moment},v1={sign(body, moment, secret or self.webhook_secret)}"

    def deliver(self, event_id: str, *, resign: bool = False) -> int:
        """POSTs the event to `webhook_url` now: with the headers it was made with (a replay),
        or signed afresh; the HTTP status (0 when nothing answered)."""
        return self._post(event_id, resign=resign)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Waits until every queued delivery has been answered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    # -- controls (HTTP) --------------------------------------------------------------------

    def control(self, request: Request) -> Response:
        path, method = request.path, request.method
        payload = request.get_json(silent=True) or {}
        if match := re.fullmatch(r"/_fake/events/([^/]+)/deliver", path):
            # Not under the lock: the receiver may call this server back while it answers.
            if not any(e.id == match.group(1) for e in self.events()):
                return _missing("event", match.group(1)).response()
            status = self._post(match.group(1), resign=bool(payload.get("resign", False)))
            return json_response({"status": status})
        try:
            with self._lock:
                return self._control(path, method, payload, request)
        except StripeFailure as failure:
            return failure.response()

    def _control(
        self, path: str, method: str, payload: dict[str, Any], request: Request
    ) -> Response:
        if match := re.fullmatch(r"/_fake/checkout/([^/]+)/complete", path):
            return json_response(self.complete_checkout(match.group(1), **payload))
        if match := re.fullmatch(r"/_fake/subscriptions/([^/]+)/renew", path):
            return json_response(self._renew(match.group(1), payload.get("outcome")))
        if match := re.fullmatch(r"/_fake/invoices/([^/]+)/retry", path):
            invoice = self._retry(
                match.group(1), payload.get("outcome"), bool(payload.get("final", False))
            )
            return json_response(self._render(invoice))
        if match := re.fullmatch(r"/_fake/customers/([^/]+)/card", path):
            method_ = self.set_card(
                match.group(1),
                str(payload.get("number", GOOD_CARD)),
                int(payload.get("exp_month", 12)),
                payload.get("exp_year"),
            )
            return json_response(method_)
        if path == "/_fake/events" and method == "GET":
            wanted = request.args.get("type")
            return json_response([_listed(e) for e in self.events(wanted)])
        if path == "/_fake/webhook" and method == "POST":
            self.webhook_url = payload.get("url", self.webhook_url)
            self.deliver_events = bool(payload.get("deliver", self.deliver_events))
            return json_response({"url": self.webhook_url, "deliver": self.deliver_events})
        if path == "/_fake/clock":
            if method == "POST":
                self.clock_offset = float(payload.get("offset_seconds", 0))
            return json_response({"offset_seconds": self.clock_offset, "now": self.now()})
        return json_response({"error": "no such control"}, 404)

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return StripeFailure(
            status, "An unexpected error occurred (scripted).", type="api_error"
        ).response()

    def api(self, request: Request, body: Any) -> Response:
        if not request.path.startswith("/v1/"):
            return StripeFailure(404, f"Unrecognized request URL ({request.path}).").response()
        if not self._authorised(request.headers.get("Authorization", "")):
            return json_response(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided.",
                    }
                },
                401,
            )
        source = request.form if request.method == "POST" else request.args
        pairs = list(source.items(multi=True))
        try:
            params = parse_form(pairs)
        except StripeFailure as failure:
            return failure.response()
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        fingerprint = _fingerprint(request.path, pairs)
        with self._lock:
            if key is not None:
                replayed = self._replay(key, fingerprint)
                if replayed is not None:
                    return replayed
            self._request = {"id": "req_" + _token(14), "idempotency_key": key}
            try:
                status, answer = 200, self._route(request.method, request.path, params)
            except StripeFailure as failure:
                status, answer = failure.status, {"error": failure.body}
            finally:
                self._request = {"id": None, "idempotency_key": None}
            encoded = json.dumps(answer).encode()
            # Stripe keeps what an endpoint answered once it ran, not a refused request.
            if key is not None and status not in (400, 401, 404, 409, 429):
                self._idempotent[key] = _Stored(fingerprint, status, encoded)
        return Response(
            encoded, status=status, content_type="application/json", headers=_api_headers()
        )

    def _authorised(self, authorization: str) -> bool:
        supplied = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not supplied.startswith("sk_"):
            return False
        return self.secret_key is None or hmac.compare_digest(supplied, self.secret_key)

    def _replay(self, key: str, fingerprint: str) -> Response | None:
        """The first answer given for `key`, or None when the key is new."""
        if len(key) > 255:
            return StripeFailure(400, "Idempotency-Key must be at most 255 characters.").response()
        stored = self._idempotent.get(key)
        if stored is None:
            return None
        if stored.fingerprint != fingerprint:
            return StripeFailure(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you "
                "meant to execute a different request.",
                type="idempotency_error",
            ).response()
        headers = {**_api_headers(), "Idempotent-Replayed": "true"}
        return Response(
            stored.body, status=stored.status, content_type="application/json", headers=headers
        )

    def _route(self, method: str, path: str, params: dict[str, Any]) -> Any:
        expand = _strings(params.pop("expand", []))
        route = path.removeprefix("/v1")
        parts = route.strip("/").split("/")
        if method == "GET" and route == "/prices":
            return self._render(self._list_prices(params), expand)
        if method == "GET" and route == "/invoices":
            return self._render(self._list_invoices(params), expand)
        if method == "GET" and route == "/subscriptions":
            return self._render(self._list_subscriptions(params), expand)
        handler = {
            ("POST", "customers"): self._create_customer,
            ("POST", "checkout/sessions"): self._create_checkout,
            ("POST", "billing_portal/sessions"): self._create_portal,
            ("POST", "refunds"): self._create_refund,
        }.get((method, "/".join(parts)))
        if handler is not None:
            return self._render(handler(params), expand)
        if method == "POST" and len(parts) == 3 and parts[0] == "invoices" and parts[2] == "pay":
            return self._render(self._pay_invoice(parts[1], params), expand)
        gettable = {
            "prices": "price",
            "customers": "cus",
            "payment_methods": "pm",
            "checkout/sessions": "cs",
            "subscriptions": "sub",
            "invoices": "in",
            "payment_intents": "pi",
            "charges": "ch",
            "refunds": "re",
            "events": "evt",
        }
        collection, object_id = "/".join(parts[:-1]), parts[-1]
        if collection not in gettable:
            raise StripeFailure(404, f"Unrecognized request URL ({method} {path}).")
        if method == "GET":
            if collection == "events":
                return self._event_object(object_id)
            return self._render(self._get(gettable[collection], object_id), expand)
        if method == "POST" and collection == "customers":
            return self._render(self._update_customer(object_id, params), expand)
        if method == "POST" and collection == "subscriptions":
            return self._render(self._update_subscription(object_id, params), expand)
        if method == "DELETE" and collection == "subscriptions":
            return self._render(self._cancel_subscription(object_id, params), expand)
        raise StripeFailure(404, f"Unrecognized request URL ({method} {path}).")

    # -- objects ----------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        object_id = f"{prefix}_{'test_' if prefix == 'cs' else ''}1{_token(23)}"
        self._sequence += 1
        self._order[object_id] = self._sequence
        return object_id

    def _get(self, prefix: str, object_id: str, param: str | None = None) -> dict[str, Any]:
        found = self.objects.get(object_id)
        if found is None or not object_id.startswith(prefix + "_"):
            raise _missing(_KINDS.get(prefix, prefix), object_id, param)
        return found

    def _all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == kind]

    def _newest_first(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(objects, key=lambda o: (o.get("created", 0), self._order[o["id"]]))[::-1]

    def _render(self, value: Any, expand: Iterable[str] = ()) -> Any:
        """A copy to answer with: includable fields left out unless expanded, ids expanded."""
        rendered = copy.deepcopy(value)
        paths = [p.split(".") for p in expand]
        wanted = {p[1] if p[0] == "data" and len(p) > 1 else p[0] for p in paths}
        targets = rendered.get("data", []) if rendered.get("object") == "list" else [rendered]
        for target in targets:
            if target.get("object") == "invoice" and "payments" not in wanted:
                target.pop("payments", None)
        for path in paths:
            rendered = self._expand(rendered, path)
        return rendered

    def _expand(self, node: Any, path: list[str]) -> Any:
        if isinstance(node, str) and node in self.objects:
            node = self._render(self.objects[node])
        if not path:
            return node
        if isinstance(node, list):
            return [self._expand(item, path) for item in node]
        if isinstance(node, dict) and path[0] in node:
            node[path[0]] = self._expand(node[path[0]], path[1:])
        return node

    def _list(self, items: list[dict[str, Any]], url: str, params: dict[str, Any]) -> Any:
        limit = _int(params.get("limit", 10), "limit", low=1, high=100)
        after = params.get("starting_after")
        if after:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "url": url,
        }

    def _seed_prices(self) -> None:
        for plan in PLANS.values():
            if not plan.paid:
                continue
            product: dict[str, Any] = {
                "id": "prod_" + _stable(plan.id),
                "object": "product",
                "active": True,
                "name": f"Helptal {plan.name}",
                "metadata": {"plan": plan.id},
                "created": self.now(),
            }
            self.objects[product["id"]] = product
            self._order[product["id"]] = 0
            for period, amount in plan.seat_price.items():
                lookup_key = price_lookup_key(plan, period)
                price: dict[str, Any] = {
                    "id": "price_" + _stable(lookup_key),
                    "object": "price",
                    "active": True,
                    "billing_scheme": "per_unit",
                    "created": self.now(),
                    "currency": plan.currency,
                    "livemode": False,
                    "lookup_key": lookup_key,
                    "metadata": {},
                    "nickname": f"{plan.name} ({period.value})",
                    "product": product["id"],
                    "recurring": {
                        "interval": "year" if period is Period.YEAR else "month",
                        "interval_count": 1,
                        "usage_type": "licensed",
                    },
                    "tax_behavior": "exclusive",
                    "type": "recurring",
                    "unit_amount": amount,
                }
                self.objects[price["id"]] = price
                self._order[price["id"]] = 0

    def _list_prices(self, params: dict[str, Any]) -> Any:
        keys = _strings(params.get("lookup_keys", []))
        prices = [
            p
            for p in self._all("price")
            if (not keys or p.get("lookup_key") in keys)
            and ("active" not in params or p["active"] == _bool(params["active"], "active"))
        ]
        return self._list(prices, "/v1/prices", params)

    # -- customers and cards ----------------------------------------------------------------

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer: dict[str, Any] = {
            "id": self._new_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.now(),
            "currency": None,
            "email": params.get("email"),
            "invoice_settings": {"default_payment_method": None},
            "livemode": False,
            "metadata": _metadata(params.get("metadata")),
            "name": params.get("name"),
            "preferred_locales": _strings(params.get("preferred_locales", [])),
        }
        if isinstance(params.get("address"), dict):
            customer["address"] = params["address"]
        self.objects[customer["id"]] = customer
        return customer

    def _update_customer(self, customer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        customer = self._get("cus", customer_id)
        for name in ("email", "name"):
            if name in params:
                customer[name] = params[name] or None
        if isinstance(params.get("address"), dict):
            customer["address"] = params["address"]
        customer["metadata"] = _metadata(params.get("metadata"), customer["metadata"])
        settings = params.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            method = self._get(
                "pm", settings["default_payment_method"], "invoice_settings[default_payment_method]"
            )
            if method.get("customer") != customer_id:
                raise StripeFailure(
                    400,
                    f"The PaymentMethod {method['id']} is not attached to this customer.",
                    param="invoice_settings[default_payment_method]",
                )
            customer["invoice_settings"]["default_payment_method"] = method["id"]
        return customer

    def _new_card(
        self,
        customer: dict[str, Any],
        number: str,
        exp_month: int = 12,
        exp_year: Any = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A card attached to `customer` (refused cards answer 402, as Stripe's)."""
        digits = re.sub(r"[\s-]", "", str(number))
        if not digits.isdigit() or not 13 <= len(digits) <= 19 or not _luhn(digits):
            raise StripeFailure(
                402,
                "Your card number is incorrect.",
                type="card_error",
                code="incorrect_number",
                param="number",
            )
        this_year = datetime.fromtimestamp(self.now(), UTC).year
        exp_year = int(exp_year) if exp_year else this_year + 3
        if not 1 <= int(exp_month) <= 12:
            raise StripeFailure(
                402,
                "Your card's expiration month is invalid.",
                type="card_error",
                code="invalid_expiry_month",
                param="exp_month",
            )
        if exp_year < this_year:
            raise StripeFailure(
                402,
                "Your card's expiration year is invalid.",
                type="card_error",
                code="invalid_expiry_year",
                param="exp_year",
            )
        if digits in REFUSED_CARDS:
            code, decline, message = REFUSED_CARDS[digits]
            raise StripeFailure(402, message, type="card_error", code=code, decline_code=decline)
        method = {
            "id": self._new_id("pm"),
            "object": "payment_method",
            "billing_details": {"email": customer.get("email"), "name": name},
            "card": {
                "brand": _brand(digits),
                "country": "US",
                "exp_month": int(exp_month),
                "exp_year": exp_year,
                "fingerprint": _stable(digits)[:16],
                "funding": "credit",
                "last4": digits[-4:],
            },
            "created": self.now(),
            "customer": customer["id"],
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self.objects[method["id"]] = method
        self._cards[method["id"]] = digits
        self._emit("payment_method.attached", method)
        return method

    def _make_default(self, customer: dict[str, Any], method: dict[str, Any]) -> None:
        """The customer's default card, and their live subscriptions' (as the portal does)."""
        customer["invoice_settings"]["default_payment_method"] = method["id"]
        self._emit("customer.updated", customer)
        for subscription in self._all("subscription"):
            if subscription["customer"] == customer["id"] and subscription["status"] != "canceled":
                before = copy.deepcopy(subscription)
                subscription["default_payment_method"] = method["id"]
                self._emit("customer.subscription.updated", subscription, before)

    # -- checkout ---------------------------------------------------------------------------

    def _create_checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeFailure(
                400, "This stand-in supports `mode=subscription` only.", param="mode"
            )
        if not params.get("success_url"):
            raise StripeFailure(400, "Missing required param: success_url.", param="success_url")
        customer_id = params.get("customer")
        customer = self._get("cus", customer_id, "customer") if customer_id else None
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or len(line_items) != 1:
            raise StripeFailure(
                400, "Give one line item (this stand-in's limit).", param="line_items"
            )
        price = self._get("price", str(line_items[0].get("price")), "line_items[0][price]")
        quantity = _int(line_items[0].get("quantity", 1), "line_items[0][quantity]", low=1)
        automatic_tax = _bool((params.get("automatic_tax") or {}).get("enabled", "false"), "")
        update = params.get("customer_update") or {}
        if (
            automatic_tax
            and customer
            and not customer.get("address")
            and update.get("address") != "auto"
        ):
            raise StripeFailure(
                400,
                "Automatic tax calculation in Checkout requires a valid address on the "
                "Customer. Add a valid address to the Customer or set either "
                "`customer_update[address]` to 'auto' or `customer_update[shipping]` to "
                "'auto' to save the address entered in Checkout to the Customer.",
                param="customer_update[address]",
            )
        locale = params.get("locale", "auto")
        if not re.fullmatch(r"auto|[a-z]{2}(-[A-Z]{2})?", str(locale)):
            raise StripeFailure(400, f"Invalid locale: {locale}", param="locale")
        reference = params.get("client_reference_id")
        if reference is not None and (not reference or len(reference) > 200):
            raise StripeFailure(400, "Invalid client_reference_id.", param="client_reference_id")
        session_id = self._new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_total": price["unit_amount"] * quantity,
            "automatic_tax": {"enabled": automatic_tax, "liability": None, "status": None},
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": reference,
            "created": self.now(),
            "currency": price["currency"],
            "customer": customer_id,
            "customer_email": params.get("customer_email"),
            "expires_at": self.now() + 24 * 3600,
            "livemode": False,
            "locale": locale,
            "metadata": _metadata(params.get("metadata")),
            "mode": "subscription",
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": params["success_url"],
            "url": f"{self.url}/checkout/{session_id}",
        }
        self.objects[session_id] = session
        self._session_params[session_id] = {
            "price": price["id"],
            "quantity": quantity,
            "subscription_metadata": _metadata(
                (params.get("subscription_data") or {}).get("metadata")
            ),
            "customer_update": update,
        }
        return session

    def _complete_checkout(self, session_id: str, form: dict[str, Any]) -> dict[str, Any]:
        session = self._get("cs", session_id)
        if session["status"] != "open":
            raise StripeFailure(400, "This Checkout Session is no longer active.")
        if session["expires_at"] <= self.now():
            session["status"] = "expired"
            raise StripeFailure(400, "This Checkout Session has expired.")
        asked = self._session_params[session_id]
        customer = (
            self.objects[session["customer"]]
            if session["customer"]
            else self._create_customer(
                {"email": form.get("email") or session.get("customer_email")}
            )
        )
        number = re.sub(r"\s", "", str(form.get("card") or GOOD_CARD))
        if number == FAILING_CARD:  # the first invoice is charged at once: it fails here
            raise StripeFailure(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code="generic_decline",
            )
        method = self._new_card(
            customer,
            number,
            int(form.get("exp_month") or 12),
            form.get("exp_year"),
            form.get("name"),
        )
        if asked["customer_update"].get("address") == "auto" or not customer.get("address"):
            customer["address"] = {
                "country": str(form.get("country") or "US"),
                "postal_code": str(form.get("postal_code") or "10001"),
                "line1": None,
                "city": None,
                "state": None,
            }
        if asked["customer_update"].get("name") == "auto" and form.get("name"):
            customer["name"] = str(form["name"])
        price = self.objects[asked["price"]]
        now = self.now()
        subscription_id = self._new_id("sub")
        end = _add_interval(now, price["recurring"]["interval"], 1)
        item = {
            "id": self._new_id("si"),
            "object": "subscription_item",
            "created": now,
            "current_period_end": end,
            "current_period_start": now,
            "metadata": {},
            "price": copy.deepcopy(price),
            "quantity": asked["quantity"],
            "subscription": subscription_id,
        }
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "automatic_tax": {"enabled": session["automatic_tax"]["enabled"]},
            "billing_cycle_anchor": now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": price["currency"],
            "current_period_end": end,
            "current_period_start": now,
            "customer": customer["id"],
            "default_payment_method": method["id"],
            "ended_at": None,
            "items": {
                "object": "list",
                "data": [item],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(asked["subscription_metadata"]),
            "quantity": asked["quantity"],
            "start_date": now,
            "status": "incomplete",
            "trial_end": None,
            "trial_start": None,
        }
        self.objects[subscription_id] = subscription
        self.objects[item["id"]] = item
        self._cycles[subscription_id] = 1
        self._emit("customer.subscription.created", subscription)
        invoice = self._new_invoice(
            subscription, [self._plan_line(subscription, now, end)], "subscription_create"
        )
        self._collect(invoice, "succeed")
        session.update(
            status="complete",
            payment_status="paid",
            customer=customer["id"],
            subscription=subscription_id,
        )
        self._emit("checkout.session.completed", session)
        return session

    def _create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self._get("cus", str(params.get("customer")), "customer")
        session_id = self._new_id("bps")
        session = {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": "bpc_1" + _stable("portal")[:23],
            "created": self.now(),
            "customer": customer["id"],
            "flow": None,
            "livemode": False,
            "locale": params.get("locale"),
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": f"{self.url}/portal/{session_id}",
        }
        self.objects[session_id] = session
        return session

    # -- subscriptions ----------------------------------------------------------------------

    def _list_subscriptions(self, params: dict[str, Any]) -> Any:
        status = params.get("status")  # by default, every one not canceled (as Stripe's)
        found = [
            s
            for s in self._all("subscription")
            if params.get("customer") in (None, s["customer"])
            and (
                status == "all"
                or status == s["status"]
                or (status is None and s["status"] != "canceled")
            )
        ]
        return self._list(self._newest_first(found), "/v1/subscriptions", params)

    def _update_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self._get("sub", subscription_id)
        ended = subscription["status"] in ("canceled", "incomplete_expired")
        if ended and set(params) - {"metadata", "cancellation_details"}:
            raise StripeFailure(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        before = copy.deepcopy(subscription)
        behaviour = params.get("proration_behavior", "create_prorations")
        if behaviour not in ("create_prorations", "none", "always_invoice"):
            raise StripeFailure(
                400, f"Invalid proration_behavior: {behaviour}", param="proration_behavior"
            )
        item = subscription["items"]["data"][0]
        changes = params.get("items") or []
        if not isinstance(changes, list) or len(changes) > 1:
            raise StripeFailure(400, "This stand-in changes one item at a time.", param="items")
        new_price, new_quantity = item["price"], item["quantity"]
        for change in changes:
            if "id" not in change:
                if change.get("price") == item["price"]["id"]:
                    raise StripeFailure(
                        400,
                        "Cannot add multiple subscription items with the same price: "
                        f"{item['price']['id']}",
                        param="items[0][price]",
                    )
                raise StripeFailure(
                    400, "This stand-in keeps one item per subscription.", param="items"
                )
            if change["id"] != item["id"]:
                raise _missing("subscription item", change["id"], "items[0][id]")
            if "price" in change:
                new_price = self._get("price", change["price"], "items[0][price]")
                if new_price["recurring"]["interval"] != item["price"]["recurring"]["interval"]:
                    raise StripeFailure(
                        400,
                        "This stand-in does not change a subscription's interval.",
                        param="items[0][price]",
                    )
            if "quantity" in change:
                new_quantity = _int(change["quantity"], "items[0][quantity]", low=0)
        # Everything is checked before anything changes (a refused update changes nothing).
        ending = (
            _bool(params["cancel_at_period_end"], "cancel_at_period_end")
            if "cancel_at_period_end" in params
            else None
        )
        method = (
            self._get("pm", params["default_payment_method"], "default_payment_method")
            if "default_payment_method" in params
            else None
        )
        metadata = _metadata(params.get("metadata"), subscription["metadata"])
        if (new_price["id"], new_quantity) != (item["price"]["id"], item["quantity"]):
            self._prorate(subscription, new_price, new_quantity, behaviour)
        if ending is not None:
            subscription["cancel_at_period_end"] = ending
            subscription["cancel_at"] = item["current_period_end"] if ending else None
            subscription["canceled_at"] = self.now() if ending else None
        if method is not None:
            subscription["default_payment_method"] = method["id"]
        subscription["metadata"] = metadata
        if subscription != before:
            self._emit("customer.subscription.updated", subscription, before)
        return subscription

    def _prorate(
        self,
        subscription: dict[str, Any],
        price: dict[str, Any],
        quantity: int,
        behaviour: str,
    ) -> None:
        item = subscription["items"]["data"][0]
        start, end, now = item["current_period_start"], item["current_period_end"], self.now()
        share = min(max((end - now) / max(end - start, 1), 0.0), 1.0)
        when = datetime.fromtimestamp(now, UTC).strftime("%d %b %Y")
        lines = [
            self._line(
                subscription,
                -round(item["price"]["unit_amount"] * item["quantity"] * share),
                f"Unused time on {item['quantity']} {TIMES} {self._product(item['price'])}"
                f" after {when}",
                item["quantity"],
                now,
                end,
                proration=True,
            ),
            self._line(
                subscription,
                round(price["unit_amount"] * quantity * share),
                f"Remaining time on {quantity} {TIMES} {self._product(price)} after {when}",
                quantity,
                now,
                end,
                proration=True,
            ),
        ]
        item["price"], item["quantity"] = copy.deepcopy(price), quantity
        subscription["quantity"] = quantity
        if behaviour == "create_prorations":
            self._pending_lines.setdefault(subscription["id"], []).extend(lines)
        elif behaviour == "always_invoice":
            invoice = self._new_invoice(subscription, lines, "subscription_update")
            self._collect(invoice, None)

    def _cancel_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self._get("sub", subscription_id)
        if subscription["status"] == "canceled":
            raise _missing("subscription", subscription_id)
        before = copy.deepcopy(subscription)
        now = self.now()
        item = subscription["items"]["data"][0]
        if _bool(params.get("prorate", "false"), "prorate"):
            share = (item["current_period_end"] - now) / max(
                item["current_period_end"] - item["current_period_start"], 1
            )
            share = min(max(share, 0.0), 1.0)
            credit = round(item["price"]["unit_amount"] * item["quantity"] * share)
            self.objects[subscription["customer"]]["balance"] -= credit
        if _bool(params.get("invoice_now", "false"), "invoice_now"):
            pending = self._pending_lines.pop(subscription_id, [])
            if pending:
                self._collect(self._new_invoice(subscription, pending, "subscription_update"), None)
        details = params.get("cancellation_details") or {}
        subscription.update(
            status="canceled",
            canceled_at=subscription["canceled_at"] or now,
            ended_at=now,
            cancellation_details={
                "comment": details.get("comment"),
                "feedback": details.get("feedback"),
                "reason": "cancellation_requested",
            },
        )
        self._emit("customer.subscription.deleted", subscription, before)
        return subscription

    def _renew(self, subscription_id: str, outcome: str | None) -> dict[str, Any]:
        subscription = self._get("sub", subscription_id)
        if subscription["status"] in ("canceled", "incomplete", "incomplete_expired"):
            raise StripeFailure(400, f"The subscription is {subscription['status']}.")
        before = copy.deepcopy(subscription)
        item = subscription["items"]["data"][0]
        if subscription["cancel_at_period_end"]:
            subscription.update(
                status="canceled",
                ended_at=item["current_period_end"],
                cancellation_details={
                    "comment": None,
                    "feedback": None,
                    "reason": "cancellation_requested",
                },
            )
            self._emit("customer.subscription.deleted", subscription, before)
            return {"subscription": self._render(subscription), "invoice": None}
        self._cycles[subscription_id] += 1
        start = item["current_period_end"]
        end = _add_interval(
            subscription["billing_cycle_anchor"],
            item["price"]["recurring"]["interval"],
            self._cycles[subscription_id],
        )
        item.update(current_period_start=start, current_period_end=end)
        subscription.update(current_period_start=start, current_period_end=end)
        self._emit("customer.subscription.updated", subscription, before)
        lines = [
            *self._pending_lines.pop(subscription_id, []),
            self._plan_line(subscription, start, end),
        ]
        invoice = self._new_invoice(subscription, lines, "subscription_cycle")
        self._collect(invoice, outcome)
        return {"subscription": self._render(subscription), "invoice": self._render(invoice)}

    def _set_status(self, subscription: dict[str, Any], status: str) -> None:
        if subscription["status"] != status and subscription["status"] != "canceled":
            before = copy.deepcopy(subscription)
            subscription["status"] = status
            self._emit("customer.subscription.updated", subscription, before)

    # -- invoices and payments --------------------------------------------------------------

    def _product(self, price: dict[str, Any]) -> str:
        return str(self.objects[price["product"]]["name"])

    def _plan_line(self, subscription: dict[str, Any], start: int, end: int) -> dict[str, Any]:
        item = subscription["items"]["data"][0]
        price = item["price"]
        description = (
            f"{item['quantity']} {TIMES} {self._product(price)} "
            f"(at ${price['unit_amount'] / 100:.2f} / {price['recurring']['interval']})"
        )
        amount = price["unit_amount"] * item["quantity"]
        return self._line(subscription, amount, description, item["quantity"], start, end)

    def _line(
        self,
        subscription: dict[str, Any],
        amount: int,
        description: str,
        quantity: int,
        start: int,
        end: int,
        proration: bool = False,
    ) -> dict[str, Any]:
        item = subscription["items"]["data"][0]
        return {
            "id": "il_1" + _token(23),
            "object": "line_item",
            "amount": amount,
            "currency": subscription["currency"],
            "description": description,
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "proration": proration,
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
            },
            "period": {"start": start, "end": end},
            "pricing": {
                "type": "price_details",
                "price_details": {
                    "price": item["price"]["id"],
                    "product": item["price"]["product"],
                },
                "unit_amount_decimal": str(item["price"]["unit_amount"]),
            },
            "proration": proration,
            "quantity": quantity,
        }

    def _new_invoice(
        self, subscription: dict[str, Any], lines: list[dict[str, Any]], reason: str
    ) -> dict[str, Any]:
        """A finalized (open) invoice of `lines`, the customer's balance applied."""
        customer = self.objects[subscription["customer"]]
        now = max(self.now(), self._invoiced_at.get(customer["id"], 0) + 1)
        self._invoiced_at[customer["id"]] = now
        total = sum(line["amount"] for line in lines)
        starting = customer["balance"]
        amount_due = max(total + starting, 0)
        customer["balance"] = min(total + starting, 0)
        invoice_id = self._new_id("in")
        plan_lines = [line for line in lines if not line["proration"]] or lines
        self._sequence += 1
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": amount_due,
            "amount_paid": 0,
            "amount_remaining": amount_due,
            "attempt_count": 0,
            "attempted": False,
            "automatic_tax": {
                "enabled": subscription["automatic_tax"]["enabled"],
                "status": "complete",
            },
            "billing_reason": reason,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": subscription["currency"],
            "customer": customer["id"],
            "customer_email": customer.get("email"),
            "ending_balance": customer["balance"],
            "hosted_invoice_url": f"{self.url}/invoice/{invoice_id}",
            "invoice_pdf": f"{self.url}/invoice/{invoice_id}/pdf",
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": f"HT{_stable(customer['id'])[:6].upper()}-{self._sequence:04d}",
            "paid": False,
            "paid_out_of_band": False,
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                    "subscription_proration_date": None,
                },
            },
            "payment_intent": None,
            "payments": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": "/v1/invoice_payments",
            },
            "period_end": max(line["period"]["end"] for line in plan_lines),
            "period_start": min(line["period"]["start"] for line in plan_lines),
            "starting_balance": starting,
            "status": "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subscription": subscription["id"],
            "subtotal": total,
            "total": total,
            "total_taxes": [],
        }
        self.objects[invoice_id] = invoice
        subscription["latest_invoice"] = invoice_id
        self._emit("invoice.finalized", invoice)
        return invoice

    def _payment_method_of(self, invoice: dict[str, Any]) -> str | None:
        subscription = self.objects.get(invoice["subscription"] or "")
        if subscription and subscription.get("default_payment_method"):
            return str(subscription["default_payment_method"])
        customer = self.objects[invoice["customer"]]
        found = customer["invoice_settings"]["default_payment_method"]
        return str(found) if found else None

    def _collect(
        self, invoice: dict[str, Any], outcome: str | None, method_id: str | None = None
    ) -> bool:
        """One payment attempt on an open invoice (with the default card unless `method_id`
        is given); True when it is paid."""
        if invoice["amount_due"] == 0:
            self._mark_paid(invoice, out_of_band=False)
            return True
        method_id = method_id or self._payment_method_of(invoice)
        if outcome is None:
            outcome = "succeed" if method_id and self._cards[method_id] != FAILING_CARD else "fail"
        if outcome not in ("succeed", "fail"):
            raise StripeFailure(400, "outcome is succeed or fail", param="outcome")
        intent = self._charge(invoice, method_id, outcome == "succeed")
        invoice["payment_intent"] = intent["id"]
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        invoice["payments"]["data"].append(
            {
                "id": "inpay_1" + _token(23),
                "object": "invoice_payment",
                "amount_paid": intent["amount_received"],
                "amount_requested": intent["amount"],
                "created": self.now(),
                "currency": intent["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "livemode": False,
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "status": "paid" if outcome == "succeed" else "open",
                "status_transitions": {
                    "canceled_at": None,
                    "paid_at": self.now() if outcome == "succeed" else None,
                },
            }
        )
        subscription = self.objects.get(invoice["subscription"] or "")
        if outcome == "succeed":
            self._mark_paid(invoice, out_of_band=False)
            return True
        attempt = min(invoice["attempt_count"], len(RETRY_DAYS))
        invoice["next_payment_attempt"] = self.now() + RETRY_DAYS[attempt - 1] * 86400
        self._emit("invoice.payment_failed", invoice)
        if subscription:
            self._set_status(
                subscription, "incomplete" if subscription["status"] == "incomplete" else "past_due"
            )
        return False

    def _charge(
        self, invoice: dict[str, Any], method_id: str | None, succeed: bool
    ) -> dict[str, Any]:
        now = self.now()
        intent_id = self._new_id("pi")
        charge_id = self._new_id("ch")
        card = self.objects[method_id]["card"] if method_id else None
        failure = None if succeed else ("card_declined", "Your card was declined.")
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": invoice["amount_due"],
            "amount_captured": invoice["amount_due"] if succeed else 0,
            "amount_refunded": 0,
            "captured": succeed,
            "created": now,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[1] if failure else None,
            "livemode": False,
            "outcome": {"type": "authorized" if succeed else "issuer_declined"},
            "paid": succeed,
            "payment_intent": intent_id,
            "payment_method": method_id,
            "payment_method_details": {"type": "card", "card": card},
            "refunded": False,
            "status": "succeeded" if succeed else "failed",
        }
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": invoice["amount_due"],
            "amount_received": invoice["amount_due"] if succeed else 0,
            "created": now,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "last_payment_error": None
            if succeed
            else {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": failure[1] if failure else "",
            },
            "latest_charge": charge_id,
            "livemode": False,
            "payment_method": method_id,
            "status": "succeeded" if succeed else "requires_payment_method",
        }
        self.objects[charge_id] = charge
        self.objects[intent_id] = intent
        return intent

    def _mark_paid(self, invoice: dict[str, Any], *, out_of_band: bool) -> None:
        now = self.now()
        invoice.update(
            status="paid",
            paid=True,
            paid_out_of_band=out_of_band,
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        self._emit("invoice.paid", invoice)
        if not out_of_band:
            self._emit("invoice.payment_succeeded", invoice)
        subscription = self.objects.get(invoice["subscription"] or "")
        if subscription and subscription["latest_invoice"] == invoice["id"]:
            self._set_status(subscription, "active")

    def _retry(self, invoice_id: str, outcome: str | None, final: bool) -> dict[str, Any]:
        invoice = self._get("in", invoice_id)
        if invoice["status"] != "open":
            raise StripeFailure(400, f"Invoice {invoice_id} is {invoice['status']}, not open.")
        if not self._collect(invoice, outcome) and final:
            invoice["next_payment_attempt"] = None
            subscription = self.objects.get(invoice["subscription"] or "")
            if subscription:
                self._set_status(subscription, "past_due")
        return invoice

    def _list_invoices(self, params: dict[str, Any]) -> Any:
        found = [
            i
            for i in self._all("invoice")
            if params.get("subscription") in (None, i["subscription"])
            and params.get("customer") in (None, i["customer"])
            and params.get("status") in (None, i["status"])
        ]
        return self._list(self._newest_first(found), "/v1/invoices", params)

    def _pay_invoice(self, invoice_id: str, params: dict[str, Any]) -> dict[str, Any]:
        invoice = self._get("in", invoice_id)
        if invoice["status"] == "paid":
            raise StripeFailure(400, "Invoice is already paid")
        if invoice["status"] != "open":
            raise StripeFailure(
                400, f"You can only pay an open invoice; this one is {invoice['status']}."
            )
        if _bool(params.get("paid_out_of_band", "false"), "paid_out_of_band"):
            self._mark_paid(invoice, out_of_band=True)
            return invoice
        method_id = None
        if params.get("payment_method"):  # this payment only: the default card stays
            method = self._get("pm", params["payment_method"], "payment_method")
            if method.get("customer") != invoice["customer"]:
                raise _missing("PaymentMethod", method["id"], "payment_method")
            method_id = method["id"]
        if not self._collect(invoice, None, method_id):
            raise StripeFailure(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code="generic_decline",
            )
        return invoice

    # -- refunds ----------------------------------------------------------------------------

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("payment_intent"):
            intent = self._get("pi", params["payment_intent"], "payment_intent")
            charge = self.objects.get(intent.get("latest_charge") or "")
            if charge is None or intent["status"] != "succeeded":
                raise StripeFailure(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                    "to refund.",
                    param="payment_intent",
                )
        elif params.get("charge"):
            charge = self._get("ch", params["charge"], "charge")
        else:
            raise StripeFailure(
                400, "Missing required param: payment_intent.", param="payment_intent"
            )
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeFailure(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params.get("amount", left), "amount", low=1)
        if amount > left:
            raise StripeFailure(
                400,
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on "
                f"charge (${left / 100:.2f})",
                code="amount_too_large",
                param="amount",
            )
        reason = params.get("reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeFailure(400, f"Invalid reason: {reason}", param="reason")
        refund = {
            "id": self._new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": self.now(),
            "currency": charge["currency"],
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        self.objects[refund["id"]] = refund
        before = copy.deepcopy(charge)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge, before)
        return refund

    # -- events -----------------------------------------------------------------------------

    def _emit(self, type: str, obj: dict[str, Any], before: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": self._render(obj)}
        if before is not None:
            changed = {k: v for k, v in before.items() if obj.get(k) != v}
            if changed:
                data["previous_attributes"] = copy.deepcopy(changed)
        event_id = "evt_1" + _token(23)
        event = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": dict(self._request),
            "type": type,
        }
        body = json.dumps(event, indent=2).encode()
        sent = SentEvent(event_id, type, obj["id"], body, self._delivery_headers(body))
        self._sent.append(sent)
        if self.deliver_events and self.webhook_url:
            self._start_worker()
            with self._idle:
                self._outstanding += 1
            self._outbox.put((event_id, 0))

    def _event_object(self, event_id: str) -> Any:
        for sent in self._sent:
            if sent.id == event_id:
                return sent.payload
        raise _missing("event", event_id)

    def _delivery_headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.signature_header(body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._deliver_loop, daemon=True)
            self._worker.start()

    def _deliver_loop(self) -> None:
        while (job := self._outbox.get()) is not None:
            event_id, attempt = job
            status = self._post(event_id, resign=True)
            if not 200 <= status < 300 and attempt < len(self.retry_delays):
                timer = threading.Timer(
                    self.retry_delays[attempt], self._outbox.put, ((event_id, attempt + 1),)
                )
                timer.daemon = True
                timer.start()
                continue
            with self._idle:
                self._outstanding -= 1
                self._idle.notify_all()

    def _post(self, event_id: str, *, resign: bool) -> int:
        with self._lock:
            sent = next(e for e in self._sent if e.id == event_id)
            url = self.webhook_url
            headers = self._delivery_headers(sent.body) if resign else dict(sent.headers)
        if not url:
            return 0
        status, _, _ = post_quietly(url, headers=headers, body=sent.body)
        with self._lock:
            sent.deliveries.append(status)
        if self.echo:
            print(f"[stripe] webhook {sent.type} {sent.id} -> {status or 'no answer'}")
        return status

    # -- pages ------------------------------------------------------------------------------

    def is_page(self, request: Request) -> bool:
        return re.match(r"/(checkout|portal|invoice)/", request.path) is not None

    def page(self, request: Request) -> Response:
        kind, _, rest = request.path.strip("/").partition("/")
        object_id = rest.split("/")[0]
        with self._lock:
            try:
                if kind == "checkout":
                    return self._checkout_page(object_id, request)
                if kind == "portal":
                    return self._portal_page(object_id, request)
                return self._invoice_page(object_id, request)
            except StripeFailure as failure:
                return _page("Stripe (local stand-in)", f"<p>{html.escape(str(failure))}</p>", 404)

    def _checkout_page(self, session_id: str, request: Request) -> Response:
        session = self._get("cs", session_id)
        error = ""
        if request.method == "POST" and session["status"] == "open":
            try:
                self._complete_checkout(session_id, request.form.to_dict())
                target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
                return Response(status=303, headers={"Location": target})
            except StripeFailure as failure:
                error = str(failure)
        if session["status"] != "open":
            return _page("Checkout", f"<p>This checkout is {html.escape(session['status'])}.</p>")
        asked = self._session_params[session_id]
        price = self.objects[asked["price"]]
        total = price["unit_amount"] * asked["quantity"]
        cancel = (
            f'<a href="{html.escape(session["cancel_url"])}" id="cancel">Back</a>'
            if session.get("cancel_url")
            else ""
        )
        body = f"""
<p>{asked["quantity"]} {TIMES} {html.escape(self._product(price))}:
<strong id="total">${total / 100:.2f}</strong> per {price["recurring"]["interval"]}
{"(plus tax)" if session["automatic_tax"]["enabled"] else ""}</p>
{f'<p role="alert" id="error">{html.escape(error)}</p>' if error else ""}
<form method="post">
<label for="card">Card number</label>
<input id="card" name="card" value="4242 4242 4242 4242" autocomplete="off" required>
<label for="exp_month">Expiry month</label><input id="exp_month" name="exp_month" value="12">
<label for="exp_year">Expiry year</label>
<input id="exp_year" name="exp_year" value="{datetime.now(UTC).year + 3}">
<label for="name">Name on card</label><input id="name" name="name" value="">
<label for="country">Country</label><input id="country" name="country" value="US">
<label for="postal_code">Postal code</label>
<input id="postal_code" name="postal_code" value="10001">
<button type="submit" id="pay">Pay</button> {cancel}
</form>"""
        return _page("Checkout", body)

    def _portal_page(self, session_id: str, request: Request) -> Response:
        session = self._get("bps", session_id)
        customer = self.objects[session["customer"]]
        error = ""
        if request.method == "POST":
            try:
                self._portal_action(customer, request.form.to_dict())
                return Response(status=303, headers={"Location": f"/portal/{session_id}"})
            except StripeFailure as failure:
                error = str(failure)
        rows = []
        for subscription in self._newest_first(self._all("subscription")):
            if subscription["customer"] != customer["id"] or subscription["status"] == "canceled":
                continue
            item = subscription["items"]["data"][0]
            end = datetime.fromtimestamp(item["current_period_end"], UTC).strftime("%d %b %Y")
            ending = subscription["cancel_at_period_end"]
            action = "resume" if ending else "cancel"
            label = "Renew the plan" if ending else "Cancel at period end"
            rows.append(
                f"""<section class="subscription">
<h2>{html.escape(self._product(item["price"]))} ({item["price"]["recurring"]["interval"]}ly)</h2>
<p>Seats: <span class="seats">{item["quantity"]}</span> · status
<span class="status">{subscription["status"]}</span> ·
{"ends" if ending else "renews"} on {end}</p>
<form method="post"><input type="hidden" name="subscription" value="{subscription["id"]}">
<button type="submit" name="action" value="{action}" id="{action}">{label}</button></form>
</section>"""
            )
        method_id = customer["invoice_settings"]["default_payment_method"] or next(
            (
                s["default_payment_method"]
                for s in self._all("subscription")
                if s["customer"] == customer["id"] and s["default_payment_method"]
            ),
            None,
        )
        card = self.objects[method_id]["card"] if method_id else None
        shown = (
            f"{card['brand']} •••• {card['last4']}, "
            f"expires {card['exp_month']:02d}/{card['exp_year']}"
            if card
            else "none"
        )
        back = (
            f'<p><a id="return" href="{html.escape(session["return_url"])}">'
            "Return to Helptal</a></p>"
            if session.get("return_url")
            else ""
        )
        body = f"""
{f'<p role="alert" id="error">{html.escape(error)}</p>' if error else ""}
{"".join(rows) or "<p>No current subscription.</p>"}
<h2>Payment method</h2><p id="card-shown">{html.escape(shown)}</p>
<form method="post"><input type="hidden" name="action" value="card">
<label for="card">Card number</label>
<input id="card" name="card" value="4000 0000 0000 0341" autocomplete="off">
<label for="exp_month">Expiry month</label><input id="exp_month" name="exp_month" value="12">
<label for="exp_year">Expiry year</label>
<input id="exp_year" name="exp_year" value="{datetime.now(UTC).year + 3}">
<button type="submit" id="change-card">Change card</button></form>{back}"""
        return _page("Billing", body)

    def _portal_action(self, customer: dict[str, Any], form: dict[str, str]) -> None:
        action = form.get("action")
        if action == "card":
            method = self._new_card(
                customer,
                form.get("card", ""),
                int(form.get("exp_month") or 12),
                form.get("exp_year"),
            )
            self._make_default(customer, method)
            return
        subscription = self._get("sub", form.get("subscription", ""))
        if subscription["customer"] != customer["id"]:
            raise _missing("subscription", subscription["id"])
        if action in ("cancel", "resume"):
            self._update_subscription(
                subscription["id"],
                {"cancel_at_period_end": "true" if action == "cancel" else "false"},
            )

    def _invoice_page(self, invoice_id: str, request: Request) -> Response:
        invoice = self._get("in", invoice_id)
        error = ""
        if request.method == "POST" and invoice["status"] == "open":
            form = request.form.to_dict()
            try:
                customer = self.objects[invoice["customer"]]
                method = self._new_card(
                    customer,
                    form.get("card", ""),
                    int(form.get("exp_month") or 12),
                    form.get("exp_year"),
                )
                self._pay_invoice(invoice_id, {"payment_method": method["id"]})
            except StripeFailure as failure:
                error = str(failure)
        lines = "".join(
            f"<li>{html.escape(line['description'])}: ${line['amount'] / 100:.2f}</li>"
            for line in invoice["lines"]["data"]
        )
        pay = (
            f"""<form method="post"><label for="card">Card number</label>
<input id="card" name="card" value="4242 4242 4242 4242">
<button type="submit" id="pay">Pay ${invoice["amount_remaining"] / 100:.2f}</button></form>"""
            if invoice["status"] == "open"
            else ""
        )
        body = f"""<p>Invoice {html.escape(invoice["number"])} ·
<span id="status">{invoice["status"]}</span></p><ul>{lines}</ul>
<p>Amount due: ${invoice["amount_due"] / 100:.2f}</p>
{f'<p role="alert" id="error">{html.escape(error)}</p>' if error else ""}{pay}"""
        return _page("Invoice", body)


# -- signing ---------------------------------------------------------------------------------


def sign(body: bytes, timestamp: int, secret: str) -> str:
    """Stripe's v1 signature: hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


# -- form encoding ---------------------------------------------------------------------------


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` pairs as nested dicts and lists (`a[]=` appends)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        parts = [head, *re.findall(r"\[([^\]]*)\]", bracket + rest)]
        node: Any = root
        for depth, part in enumerate(parts):
            if not isinstance(node, dict):
                raise StripeFailure(400, f"Invalid parameter: {key}", param=key)
            name = part if part else str(len(node))
            if depth == len(parts) - 1:
                node[name] = value
            else:
                node = node.setdefault(name, {})
    return _listed_form(root)


def _listed_form(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listed_form(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _fingerprint(path: str, pairs: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps([path, sorted(pairs)]).encode()).hexdigest()


def _int(value: Any, param: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeFailure(400, f"Invalid integer: {value}", param=param) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise StripeFailure(400, f"Invalid value for {param}: {value}", param=param)
    return number


def _bool(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False, ""):
        return False
    raise StripeFailure(400, f"Invalid boolean: {value}", param=param)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _metadata(value: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    merged = dict(current or {})
    if value is None or value == "":
        return merged if value is None else {}
    if not isinstance(value, dict):
        raise StripeFailure(400, "Invalid metadata.", param="metadata")
    for key, item in value.items():
        if len(key) > 40 or len(str(item)) > 500:
            raise StripeFailure(400, f"Invalid metadata key or value: {key}", param="metadata")
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = str(item)
    if len(merged) > 50:
        raise StripeFailure(400, "Metadata holds at most 50 keys.", param="metadata")
    return merged


# -- small helpers ---------------------------------------------------------------------------

_KINDS = {
    "cus": "customer",
    "pm": "PaymentMethod",
    "cs": "checkout.session",
    "price": "price",
    "sub": "subscription",
    "in": "invoice",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "bps": "billing portal session",
    "evt": "event",
}


def _token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _stable(text: str) -> str:
    """A deterministic id part (prices keep their ids across restarts of the stand-in)."""
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest)[:24]


def _api_headers() -> dict[str, str]:
    return {"Request-Id": "req_" + _token(14), "Stripe-Version": API_VERSION}


def _listed(sent: SentEvent) -> dict[str, Any]:
    return {
        "id": sent.id,
        "type": sent.type,
        "object_id": sent.object_id,
        "headers": sent.headers,
        "body": sent.body.decode(),
        "deliveries": sent.deliveries,
    }


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def _add_interval(anchor: int, interval: str, count: int) -> int:
    """`count` intervals after `anchor`, keeping the anchor's day where the month has it."""
    moment = datetime.fromtimestamp(anchor, UTC)
    if interval in ("day", "week"):
        return anchor + count * 86400 * (7 if interval == "week" else 1)
    months = moment.month - 1 + count * (12 if interval == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def _page(title: str, body: str, status: int = 200) -> Response:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} (Stripe, local stand-in)</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin-top:.6rem}} input{{font-size:1rem;padding:.3rem;width:100%}}
button{{font-size:1rem;padding:.5rem 1.4rem;margin-top:1rem}} [role=alert]{{color:#b00020}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p><small>Local stand-in for Stripe: no card is charged, nothing leaves this machine.</small></p>
{body}</body></html>"""
    return Response(document, status=status, content_type="text/html; charset=utf-8")
