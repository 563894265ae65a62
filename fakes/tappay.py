"""A local stand-in for TapPay: its backend API over HTTP, and its front-end SDK script.

Backend (every call `POST` JSON, header `x-api-key` = the partner key, `partner_key` also in
the body; business errors come back as HTTP 200 with a non-zero `status`, as TapPay's do):
- `/tpc/card/bind` {prime, merchant_id, currency, cardholder}: a remembered card without a
  charge: `card_secret{card_key, card_token}` and `card_info{bin_code, last_four, issuer,
  funding, type, level, country, country_code, expiry_date (YYYYMM)}`.
- `/tpc/payment/pay-by-prime` (optionally `remember`) and `/tpc/payment/pay-by-token`
  {card_key, card_token, merchant_id, amount, currency, details, order_number?,
  bank_transaction_id?}: a trade, `rec_trade_id`.
- `/tpc/transaction/refund` {rec_trade_id, amount?}: at most what is captured and not yet
  refunded (no `amount`: all of it); `refund_id`, `refund_amount`.
- `/tpc/transaction/query` {filters{rec_trade_id|order_number|bank_transaction_id},
  records_per_page, page}: the Record API, `trade_records`, newest first.
- `/tpc/card/remove` {card_key, card_token}.
Status codes: 0 success; 5 body not JSON; 61 merchant unknown; 80 wrong partner key; 91
prime expired (90 s); 121 prime unknown or used already (a prime is one-use); 10003 card
declined; 421 gateway timeout (scripted with `answer_status_next`); 503/504/505/507-510
missing prime/currency/details/cardholder fields/amount.  The codes marked "unconfirmed"
below are the stand-in's own choice: TapPay's documentation names no code for them.

Test cards: 4242424242424242 binds and pays; 4000000000000341 binds but every charge is
declined; 4000000000000002 is declined even when bound.

Front-end SDK (`GET /sdk/tpdirect.js`): defines `window.TPDirect` with `setupSDK(appId,
appKey, serverType)`, `card.setup({fields: {number, expirationDate, ccv}})` (plain inputs
rendered into each field's `element`, a selector or a node), `card.onUpdate(cb)`,
`card.getTappayFieldsStatus()` and `card.getPrime(cb)`, which POSTs the typed card to
`/_fake/prime` (CORS open) and calls `cb({status: 0, msg, card: {prime, bincode, lastfour,
funding, type, ...}})` as the real SDK does.

Controls (besides fakes/calendar_common.py's `/_fake/calls|fail|stall|reset`):
- `POST /_fake/prime {app_id, app_key, number, expiry "MM/YY" | exp_month+exp_year, ccv}`
- `POST /_fake/late {seconds, times?: 1, path?}`: the next API calls (whose path starts with
  `path`) are carried out, then answered `seconds` late (a client with a shorter timeout
  gives up although the trade exists)
- `POST /_fake/status {status, times?: 1, path?}`: the next API calls answer that business
  status (e.g. 421) and change nothing
- `POST /_fake/http {status, times?: 1, path?}`: the next API calls answer that HTTP status
- `GET  /_fake/trades` -> every trade, as the Record API describes it
- `POST /_fake/notify {rec_trade_id, url?}`: POSTs the trade's backend notify to `url` or
  `notify_url` -> `{status_code, body}`
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes.calendar_common import FakeServer, json_response, post_quietly

PARTNER_KEY = "partner_local_tappay_key"  # the stand-in's own
MERCHANT_ID = "helptal_local_CTBC"
APP_ID = 10001
APP_KEY = "app_local_tappay_public_key"
PRIME_LIFETIME_SECONDS = 90

APPROVED_CARD = "4242424242424242"
DECLINED_ON_CHARGE_CARD = "4000000000000341"
DECLINED_CARD = "4000000000000002"

SUCCESS = 0
WRONG_JSON = 5
MERCHANT_NOT_FOUND = 61
WRONG_KEY = 80
CURRENCY_NOT_SUPPORTED = 89
PRIME_EXPIRED = 91
PRIME_INVALID = 121
MISSING_PRIME = 503
MISSING_CURRENCY = 504
MISSING_DETAILS = 505
MISSING_PHONE = 507  # 507-509: the cardholder's phone, name, e-mail (order unconfirmed)
MISSING_NAME = 508
MISSING_EMAIL = 509
INVALID_AMOUNT = 510
DECLINED = 10003
# The stand-in's own codes (unconfirmed: no TapPay document names them).
UNKNOWN_CARD = 10005  # card_key/card_token that name no bound card
TRADE_NOT_FOUND = 10007  # refund of an unknown rec_trade_id
REFUND_EXCEEDS = 10008  # refund above what is left of the trade
DUPLICATE_BANK_TRANSACTION_ID = 10012  # bank_transaction_id used by an earlier trade
END_OF_LIST = 2  # the Record API, past the last record

# Record API `record_status` (unconfirmed: from TapPay's Record API page as recalled).
RECORD_ERROR = -1
RECORD_AUTH = 0
RECORD_OK = 1
RECORD_PARTIALLY_REFUNDED = 2
RECORD_REFUNDED = 3

# card_info.type: 1 VISA, 2 MasterCard, 3 JCB, 4 Union Pay, 5 AMEX; funding 0 credit.
_CARD_TYPES: tuple[tuple[str, int], ...] = (
    ("4", 1),
    ("51", 2),
    ("52", 2),
    ("53", 2),
    ("54", 2),
    ("55", 2),
    ("2", 2),
    ("35", 3),
    ("62", 4),
    ("34", 5),
    ("37", 5),
)


@dataclass
class Script:
    """What the next API call whose path starts with `path` does instead of the usual."""

    path: str
    late: float = 0.0  # carried out, answered this many seconds late
    status: int | None = None  # answers this business status, does nothing
    http_status: int | None = None  # answers this HTTP status, does nothing


@dataclass
class TypedCard:
    number: str
    exp_month: int
    exp_year: int

    @property
    def type(self) -> int:
        return next((t for prefix, t in _CARD_TYPES if self.number.startswith(prefix)), -1)

    def info(self) -> dict[str, Any]:
        """`card_info` as the backend API answers it (never the whole number)."""
        return {
            "bin_code": self.number[:6],
            "last_four": self.number[-4:],
            "issuer": "LOCAL STAND-IN BANK",
            "issuer_zh_tw": "",
            "bank_id": "",
            "funding": 0,
            "type": self.type,
            "level": "CLASSIC",
            "country": "TAIWAN, PROVINCE OF CHINA",
            "country_code": "TW",
            "expiry_date": f"{self.exp_year:04d}{self.exp_month:02d}",
        }


@dataclass
class Prime:
    card: TypedCard
    issued_at: float
    used: bool = False


@dataclass
class BoundCard:
    card: TypedCard
    card_key: str
    card_token: str
    cardholder: dict[str, Any]


@dataclass
class Trade:
    rec_trade_id: str
    card: TypedCard
    amount: int
    currency: str
    details: str
    order_number: str
    bank_transaction_id: str
    time_millis: int
    status: int  # the pay call's answer: 0 or a decline
    msg: str
    refunded: int = 0
    refunds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def record_status(self) -> int:
        if self.status != SUCCESS:
            return RECORD_ERROR
        if self.refunded >= self.amount:
            return RECORD_REFUNDED
        return RECORD_PARTIALLY_REFUNDED if self.refunded else RECORD_OK

    def record(self, merchant_id: str) -> dict[str, Any]:
        """The trade as the Record API lists it."""
        return {
            "rec_trade_id": self.rec_trade_id,
            "merchant_id": merchant_id,
            "order_number": self.order_number,
            "bank_transaction_id": self.bank_transaction_id,
            "amount": self.amount,
            "refunded_amount": self.refunded,
            "currency": self.currency,
            "details": self.details,
            "record_status": self.record_status,
            "is_captured": self.status == SUCCESS,
            "time": self.time_millis,
            "bank_result_code": "00" if self.status == SUCCESS else "05",
            "bank_result_msg": self.msg,
            "card_info": self.card.info(),
        }


class FakeTapPay(FakeServer):
    label = "tappay"

    def __init__(
        self,
        partner_key: str = PARTNER_KEY,
        merchant_id: str = MERCHANT_ID,
        app_id: int = APP_ID,
        app_key: str = APP_KEY,
        notify_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`notify_url`: where backend notifies go (TapPay's backend_notify_url; they carry
        no signature); `clock`: seconds since the epoch (primes expire after 90 s)."""
        super().__init__(host, port, echo)
        self.partner_key = partner_key
        self.merchant_id = merchant_id
        self.app_id = app_id
        self.app_key = app_key
        self.notify_url = notify_url
        self.clock = clock
        self.primes: dict[str, Prime] = {}
        self.cards: dict[str, BoundCard] = {}  # by card_key
        self.trades: dict[str, Trade] = {}  # by rec_trade_id
        self._scripts: list[Script] = []

    # -- controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.primes.clear()
            self.cards.clear()
            self.trades.clear()
            self._scripts.clear()

    def make_prime(
        self, number: str, exp_month: int = 12, exp_year: int | None = None, ccv: str = "123"
    ) -> str:
        """What the front-end SDK's getPrime gives for a typed card (ValueError when the
        SDK would refuse the card)."""
        card = _typed_card(number, exp_month, exp_year or _this_year() + 3, ccv)
        prime = secrets.token_hex(32)
        with self._lock:
            self.primes[prime] = Prime(card, self.clock())
        return prime

    def answer_late(self, seconds: float, times: int = 1, path: str = "") -> None:
        """The next `times` API calls (whose path starts with `path`) are carried out, then
        answered `seconds` late."""
        with self._lock:
            self._scripts.extend(Script(path, late=seconds) for _ in range(times))

    def answer_status_next(self, status: int, times: int = 1, path: str = "") -> None:
        """The next `times` API calls answer business status `status` (HTTP 200), doing
        nothing (e.g. 421, TapPay's gateway timeout)."""
        with self._lock:
            self._scripts.extend(Script(path, status=status) for _ in range(times))

    def answer_http_next(self, status: int = 503, times: int = 1, path: str = "") -> None:
        """The next `times` API calls answer HTTP `status`, doing nothing."""
        with self._lock:
            self._scripts.extend(Script(path, http_status=status) for _ in range(times))

    def trade_records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [t.record(self.merchant_id) for t in self.trades.values()]

    def notify_body(self, rec_trade_id: str) -> bytes:
        """The backend notify TapPay POSTs for a trade.  Its shape is modelled on TapPay's
        3-D Secure / e-payment notify as third-party clients describe it (unconfirmed)."""
        with self._lock:
            trade = self.trades[rec_trade_id]
            body = {
                "rec_trade_id": trade.rec_trade_id,
                "auth_code": secrets.token_hex(3) if trade.status == SUCCESS else "",
                "bank_transaction_id": trade.bank_transaction_id,
                "order_number": trade.order_number,
                "amount": trade.amount,
                "currency": trade.currency,
                "status": trade.status,
                "msg": trade.msg,
                "transaction_time_millis": trade.time_millis,
                "card_info": {k: v for k, v in trade.card.info().items() if k != "expiry_date"},
                "acquirer": "TW_LOCAL_STAND_IN",
            }
        return json.dumps(body).encode()

    def send_notify(self, rec_trade_id: str, url: str | None = None) -> tuple[int, str]:
        """POSTs the trade's backend notify to `url` (default: notify_url); (status, text),
        status 0 when nothing answered."""
        target = url or self.notify_url
        if not target:
            raise ValueError("no notify_url to send the notify to")
        status, _, text = post_quietly(
            target,
            headers={"Content-Type": "application/json"},
            body=self.notify_body(rec_trade_id),
        )
        return status, text

    def control(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/_fake/prime":
            return self._prime_from_sdk(request)
        payload = request.get_json(silent=True) or {}
        if method == "GET" and path == "/_fake/trades":
            return json_response({"trades": self.trade_records()})
        times, prefix = int(payload.get("times", 1)), str(payload.get("path") or "")
        if method == "POST" and path == "/_fake/late":
            self.answer_late(float(payload.get("seconds", 1)), times, prefix)
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/status":
            self.answer_status_next(int(payload.get("status", 421)), times, prefix)
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/http":
            self.answer_http_next(int(payload.get("status", 503)), times, prefix)
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/notify":
            trade_id = str(payload.get("rec_trade_id") or "")
            if trade_id not in self.trades:
                return json_response({"error": "no such trade"}, 404)
            try:
                status, text = self.send_notify(trade_id, payload.get("url"))
            except ValueError as e:
                return json_response({"error": str(e)}, 400)
            return json_response({"status_code": status, "body": text[:2000]})
        return json_response({"error": "no such control"}, 404)

    def _prime_from_sdk(self, request: Request) -> Response:
        cors = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        if request.method == "OPTIONS":
            return Response(status=204, headers=cors)
        if request.method != "POST":
            return json_response({"status": -1, "msg": "POST only"}, 405, cors)
        typed = request.get_json(silent=True) or {}
        if str(typed.get("app_key") or "") != self.app_key or _int(typed.get("app_id")) != (
            self.app_id
        ):
            return json_response({"status": WRONG_KEY, "msg": "Wrong app_id or app_key"}, 200, cors)
        month, year = _int(typed.get("exp_month")), _int(typed.get("exp_year"))
        if month is None or year is None:
            month, year = _expiry(str(typed.get("expiry") or ""))
        try:
            prime = self.make_prime(
                _digits(typed.get("number")), month or 0, year or 0, _digits(typed.get("ccv"))
            )
        except ValueError as e:
            return json_response({"status": 41, "msg": str(e)}, 200, cors)
        with self._lock:
            card = self.primes[prime].card
        answer = {
            "status": 0,
            "msg": "Success",
            "card": {
                "prime": prime,
                "bincode": card.number[:6],
                "lastfour": card.number[-4:],
                "issuer": "LOCAL STAND-IN BANK",
                "funding": 0,
                "type": card.type,
                "level": "CLASSIC",
                "country": "TAIWAN, PROVINCE OF CHINA",
                "countrycode": "TW",
            },
            "clientip": request.remote_addr or "",
            "card_identifier": secrets.token_hex(16),
        }
        return json_response(answer, 200, cors)

    # -- the SDK script ---------------------------------------------------------------------

    def is_page(self, request: Request) -> bool:
        return request.path == "/sdk/tpdirect.js"

    def page(self, request: Request) -> Response:
        base = request.host_url.rstrip("/")
        script = SDK_SCRIPT.replace("__PRIME_URL__", json.dumps(f"{base}/_fake/prime"))
        return Response(
            script,
            content_type="application/javascript; charset=utf-8",
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
        )

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return json_response({"status": -1, "msg": "Service unavailable"}, status)

    def api(self, request: Request, body: Any) -> Response:
        with self._lock:
            script = next((s for s in self._scripts if request.path.startswith(s.path)), None)
            if script is not None:
                self._scripts.remove(script)
        if script is not None and script.http_status is not None:
            return self.failure_response(script.http_status)
        if script is not None and script.status is not None:
            return _status(script.status, "Scripted status")
        response = self._answer(request, body)
        if script is not None and script.late:
            time.sleep(script.late)  # carried out already: only the answer is late
        return response

    def _answer(self, request: Request, body: Any) -> Response:
        if request.method != "POST" or not request.path.startswith("/tpc/"):
            return json_response({"status": -1, "msg": "Not found"}, 404)
        if not isinstance(body, dict):
            return _status(WRONG_JSON, "Wrong JSON format")
        if request.headers.get("x-api-key") != self.partner_key or (
            body.get("partner_key") != self.partner_key
        ):
            return _status(WRONG_KEY, "Wrong x-api-key or partner_key")
        with self._lock:
            route = _ROUTES.get(request.path)
            if route is None:
                return json_response({"status": -1, "msg": "Not found"}, 404)
            return route(self, body)

    def _merchant_ok(self, body: dict[str, Any]) -> bool:
        return body.get("merchant_id") == self.merchant_id

    def _take_prime(self, body: dict[str, Any]) -> TypedCard | Response:
        value = body.get("prime")
        if not isinstance(value, str) or not value:
            return _status(MISSING_PRIME, "Missing prime")
        prime = self.primes.get(value)
        if prime is None or prime.used:
            return _status(PRIME_INVALID, "Invalid prime")
        prime.used = True  # one use, whatever the outcome
        if self.clock() - prime.issued_at > PRIME_LIFETIME_SECONDS:
            return _status(PRIME_EXPIRED, "Prime expired")
        return prime.card

    def _bind(self, body: dict[str, Any]) -> Response:
        if not self._merchant_ok(body):
            return _status(MERCHANT_NOT_FOUND, "Merchant not found")
        problem = _currency_problem(body) or _cardholder_problem(body)
        if problem:
            return problem
        card = self._take_prime(body)
        if isinstance(card, Response):
            return card
        if card.number == DECLINED_CARD:
            return _status(DECLINED, "Card declined", card_info=card.info())
        bound = self._remember(card, body)
        return _status(
            SUCCESS,
            "Success",
            card_secret={"card_key": bound.card_key, "card_token": bound.card_token},
            card_info=card.info(),
            bank_result_code="00",
            bank_result_msg="",
        )

    def _remember(self, card: TypedCard, body: dict[str, Any]) -> BoundCard:
        bound = BoundCard(
            card, secrets.token_hex(32), secrets.token_hex(32), dict(body.get("cardholder") or {})
        )
        self.cards[bound.card_key] = bound
        return bound

    def _pay_by_prime(self, body: dict[str, Any]) -> Response:
        problem = self._payment_problem(body) or _cardholder_problem(body)
        if problem:
            return problem
        card = self._take_prime(body)
        if isinstance(card, Response):
            return card
        extra: dict[str, Any] = {}
        if body.get("remember") is True and card.number != DECLINED_CARD:
            bound = self._remember(card, body)
            extra["card_secret"] = {"card_key": bound.card_key, "card_token": bound.card_token}
        return self._pay(card, body, extra)

    def _pay_by_token(self, body: dict[str, Any]) -> Response:
        problem = self._payment_problem(body)
        if problem:
            return problem
        bound = self.cards.get(str(body.get("card_key") or ""))
        if bound is None or bound.card_token != body.get("card_token"):
            return _status(UNKNOWN_CARD, "Card key or card token not found")
        return self._pay(bound.card, body, {})

    def _payment_problem(self, body: dict[str, Any]) -> Response | None:
        if not self._merchant_ok(body):
            return _status(MERCHANT_NOT_FOUND, "Merchant not found")
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _status(INVALID_AMOUNT, "Invalid amount")
        if not isinstance(body.get("details"), str) or not body["details"]:
            return _status(MISSING_DETAILS, "Missing details")
        if len(str(body.get("order_number") or "")) > 50:
            return _status(5, "order_number is longer than 50 characters")
        bank_id = str(body.get("bank_transaction_id") or "")
        if len(bank_id) > 40:
            return _status(5, "bank_transaction_id is longer than 40 characters")
        if bank_id and any(t.bank_transaction_id == bank_id for t in self.trades.values()):
            return _status(DUPLICATE_BANK_TRANSACTION_ID, "Duplicate bank_transaction_id")
        return _currency_problem(body)

    def _pay(self, card: TypedCard, body: dict[str, Any], extra: dict[str, Any]) -> Response:
        declined = card.number in (DECLINED_CARD, DECLINED_ON_CHARGE_CARD)
        now = self.clock()
        trade = Trade(
            rec_trade_id="D"
            + datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
            + secrets.token_hex(5).upper(),
            card=card,
            amount=body["amount"],
            currency=body["currency"],
            details=body["details"],
            order_number=str(body.get("order_number") or ""),
            bank_transaction_id=str(body.get("bank_transaction_id") or "")
            or "TP" + secrets.token_hex(8).upper(),
            time_millis=int(now * 1000),
            status=DECLINED if declined else SUCCESS,
            msg="Card declined" if declined else "Success",
        )
        self.trades[trade.rec_trade_id] = trade
        return _status(
            trade.status,
            trade.msg,
            rec_trade_id=trade.rec_trade_id,
            bank_transaction_id=trade.bank_transaction_id,
            order_number=trade.order_number,
            auth_code="" if declined else secrets.token_hex(3),
            amount=trade.amount,
            currency=trade.currency,
            card_info=card.info(),
            acquirer="TW_LOCAL_STAND_IN",
            transaction_time_millis=trade.time_millis,
            bank_result_code="05" if declined else "00",
            bank_result_msg="Do not honour" if declined else "",
            **extra,
        )

    def _refund(self, body: dict[str, Any]) -> Response:
        trade = self.trades.get(str(body.get("rec_trade_id") or ""))
        if trade is None or trade.status != SUCCESS:
            return _status(TRADE_NOT_FOUND, "Trade not found")
        left = trade.amount - trade.refunded
        amount = body.get("amount", left)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _status(INVALID_AMOUNT, "Invalid amount")
        if amount > left:
            return _status(REFUND_EXCEEDS, f"Refund amount exceeds the {left} left")
        trade.refunded += amount
        refund_id = "R" + trade.rec_trade_id[1:9] + secrets.token_hex(5).upper()
        trade.refunds.append({"refund_id": refund_id, "amount": amount})
        return _status(
            SUCCESS,
            "Success",
            refund_id=refund_id,
            refund_amount=amount,
            is_captured=True,
            currency=trade.currency,
            bank_result_code="00",
            bank_result_msg="",
        )

    def _query(self, body: dict[str, Any]) -> Response:
        filters = body.get("filters") or {}
        if not isinstance(filters, dict):
            return _status(WRONG_JSON, "filters must be an object")
        per_page = min(max(_int(body.get("records_per_page")) or 50, 1), 200)
        page = max(_int(body.get("page")) or 0, 0)
        found = [
            trade
            for trade in self.trades.values()
            if all(
                str(getattr(trade, name)) == str(filters[name])
                for name in ("rec_trade_id", "order_number", "bank_transaction_id")
                if name in filters
            )
        ]
        found.sort(key=lambda t: t.time_millis, reverse=True)
        shown = found[page * per_page : (page + 1) * per_page]
        return _status(
            SUCCESS if shown else END_OF_LIST,
            "Success" if shown else "End of list",
            records_per_page=per_page,
            page=page,
            total_page_count=(len(found) + per_page - 1) // per_page,
            number_of_transactions=len(found),
            trade_records=[t.record(self.merchant_id) for t in shown],
        )

    def _remove(self, body: dict[str, Any]) -> Response:
        bound = self.cards.get(str(body.get("card_key") or ""))
        if bound is None or bound.card_token != body.get("card_token"):
            return _status(UNKNOWN_CARD, "Card key or card token not found")
        del self.cards[bound.card_key]
        return _status(SUCCESS, "Success")


_ROUTES: dict[str, Callable[[FakeTapPay, dict[str, Any]], Response]] = {
    "/tpc/card/bind": FakeTapPay._bind,
    "/tpc/payment/pay-by-prime": FakeTapPay._pay_by_prime,
    "/tpc/payment/pay-by-token": FakeTapPay._pay_by_token,
    "/tpc/transaction/refund": FakeTapPay._refund,
    "/tpc/transaction/query": FakeTapPay._query,
    "/tpc/card/remove": FakeTapPay._remove,
}


def _status(status: int, msg: str, **fields: Any) -> Response:
    return json_response({"status": status, "msg": msg, **fields})


def _currency_problem(body: dict[str, Any]) -> Response | None:
    currency = body.get("currency")
    if not currency:
        return _status(MISSING_CURRENCY, "Missing currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
        return _status(CURRENCY_NOT_SUPPORTED, "Currency not supported")
    return None


def _cardholder_problem(body: dict[str, Any]) -> Response | None:
    holder = body.get("cardholder")
    if not isinstance(holder, dict):
        return _status(MISSING_PHONE, "Missing cardholder")
    for name, status in (
        ("phone_number", MISSING_PHONE),
        ("name", MISSING_NAME),
        ("email", MISSING_EMAIL),
    ):
        if not isinstance(holder.get(name), str) or not holder[name]:
            return _status(status, f"Missing cardholder.{name}")
    return None


def _typed_card(number: str, exp_month: int, exp_year: int, ccv: str) -> TypedCard:
    if not (13 <= len(number) <= 19) or not number.isdigit() or not _luhn(number):
        raise ValueError("Card number is invalid")
    if not 1 <= exp_month <= 12:
        raise ValueError("Expiry date is invalid")
    now = datetime.now(UTC)
    if (exp_year, exp_month) < (now.year, now.month):
        raise ValueError("Card is expired")
    if ccv and (not (3 <= len(ccv) <= 4) or not ccv.isdigit()):  # a merchant may omit CCV
        raise ValueError("CCV is invalid")
    return TypedCard(number, exp_month, exp_year)


def _luhn(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char)
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _expiry(text: str) -> tuple[int | None, int | None]:
    """ "MM/YY", "MM / YY" or "MM/YYYY" -> (month, year)."""
    month, _, year = text.replace(" ", "").partition("/")
    if not month.isdigit() or not year.isdigit():
        return None, None
    return int(month), int(year) + (2000 if len(year) == 2 else 0)


def _digits(value: Any) -> str:
    return "".join(c for c in str(value or "") if c.isdigit())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _this_year() -> int:
    return datetime.now(UTC).year


# The front-end SDK stand-in: plain inputs instead of TapPay's iframes, the same calls.
SDK_SCRIPT = r"""/* Local stand-in of TapPay's TPDirect SDK (fakes/tappay.py).
   Nothing leaves this machine. */
(function () {
  "use strict";
  var PRIME_URL = __PRIME_URL__;
  var sdk = { appId: null, appKey: null, serverType: null };
  var inputs = {};
  var listeners = [];

  function digits(text) { return String(text || "").replace(/\D/g, ""); }
  function luhn(number) {
    var total = 0;
    for (var i = 0; i < number.length; i++) {
      var d = +number.charAt(number.length - 1 - i);
      if (i % 2) { d = d * 2; if (d > 9) { d -= 9; } }
      total += d;
    }
    return total % 10 === 0;
  }
  function cardType(number) {
    if (/^4/.test(number)) { return "visa"; }
    if (/^(5[1-5]|2[2-7])/.test(number)) { return "mastercard"; }
    if (/^3[47]/.test(number)) { return "amex"; }
    if (/^35/.test(number)) { return "jcb"; }
    if (/^62/.test(number)) { return "unionpay"; }
    return "unknown";
  }
  function expiry() {
    var d = digits(inputs.expirationDate ? inputs.expirationDate.value : "");
    if (d.length !== 4 && d.length !== 6) { return null; }
    var month = +d.slice(0, 2);
    var year = d.length === 4 ? 2000 + +d.slice(2) : +d.slice(2);
    return { month: month, year: year };
  }
  // 0 ready, 1 empty, 2 wrong, 3 being typed (TapPay's field statuses).
  function numberStatus() {
    var n = digits(inputs.number ? inputs.number.value : "");
    if (!n) { return 1; }
    if (n.length < 13) { return 3; }
    if (n.length > 19) { return 2; }
    if (luhn(n)) { return 0; }
    return n.length < 16 ? 3 : 2;
  }
  function expiryStatus() {
    var raw = digits(inputs.expirationDate ? inputs.expirationDate.value : "");
    if (!raw) { return 1; }
    if (raw.length < 4) { return 3; }
    var e = expiry();
    if (!e || e.month < 1 || e.month > 12) { return 2; }
    var now = new Date();
    var thisYear = now.getFullYear();
    if (e.year < thisYear || (e.year === thisYear && e.month < now.getMonth() + 1)) {
      return 2;
    }
    return 0;
  }
  function ccvStatus() {
    if (!inputs.ccv) { return 0; }
    var c = digits(inputs.ccv.value);
    if (!c) { return 1; }
    if (c.length < 3) { return 3; }
    return c.length <= 4 ? 0 : 2;
  }
  function fieldsStatus() {
    var status = { number: numberStatus(), expiry: expiryStatus(), ccv: ccvStatus() };
    var ready = status.number === 0 && status.expiry === 0 && status.ccv === 0;
    var wrong = status.number === 2 || status.expiry === 2 || status.ccv === 2;
    return {
      canGetPrime: ready,
      hasError: wrong,
      status: status,
      cardType: cardType(digits(inputs.number ? inputs.number.value : ""))
    };
  }
  function changed() {
    var update = fieldsStatus();
    var marks = {
      number: update.status.number,
      expirationDate: update.status.expiry,
      ccv: update.status.ccv
    };
    Object.keys(inputs).forEach(function (name) {
      inputs[name].classList.toggle("valid", marks[name] === 0);
      inputs[name].classList.toggle("invalid", marks[name] === 2);
    });
    listeners.forEach(function (listener) { listener(update); });
  }
  function place(name, field, autocomplete, className, styles) {
    var container = typeof field.element === "string"
      ? document.querySelector(field.element) : field.element;
    if (!container) { return; }
    var input = document.createElement("input");
    input.type = "text";
    input.inputMode = "numeric";
    input.autocomplete = autocomplete;
    input.className = "tpfield " + className;
    input.placeholder = field.placeholder || "";
    input.setAttribute("data-tappay-field", name);
    var look = (styles && styles.input) || {};
    Object.keys(look).forEach(function (property) {
      input.style.setProperty(property, look[property]);
    });
    input.style.width = input.style.width || "100%";
    input.style.border = input.style.border || "0";
    input.style.outline = input.style.outline || "none";
    input.style.background = input.style.background || "transparent";
    input.style.font = input.style.font || "inherit";
    input.addEventListener("input", changed);
    container.textContent = "";
    container.appendChild(input);
    inputs[name] = input;
  }

  window.TPDirect = {
    setupSDK: function (appId, appKey, serverType) {
      sdk.appId = appId; sdk.appKey = appKey; sdk.serverType = serverType;
    },
    card: {
      setup: function (config) {
        var fields = (config && config.fields) || {};
        inputs = {};
        var styles = config && config.styles;
        if (fields.number) {
          place("number", fields.number, "cc-number", "card-number", styles);
        }
        if (fields.expirationDate) {
          place("expirationDate", fields.expirationDate, "cc-exp", "expiration-date", styles);
        }
        if (fields.ccv) { place("ccv", fields.ccv, "cc-csc", "ccv", styles); }
        changed();
      },
      onUpdate: function (listener) { listeners.push(listener); listener(fieldsStatus()); },
      getTappayFieldsStatus: fieldsStatus,
      getPrime: function (callback) {
        var update = fieldsStatus();
        if (!update.canGetPrime) {
          callback({ status: -1, msg: "The card fields are not complete" });
          return;
        }
        var e = expiry();
        fetch(PRIME_URL, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            app_id: sdk.appId,
            app_key: sdk.appKey,
            server_type: sdk.serverType,
            number: digits(inputs.number.value),
            exp_month: e.month,
            exp_year: e.year,
            ccv: inputs.ccv ? digits(inputs.ccv.value) : ""
          })
        }).then(function (response) { return response.json(); })
          .then(callback, function (error) { callback({ status: -2, msg: String(error) }); });
      }
    }
  };
})();
"""
