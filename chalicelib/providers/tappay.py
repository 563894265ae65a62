"""TapPay adapter (`billing.ports.TapPayGateway`): the backup card a workspace adds through
TapPay's front-end SDK (a one-use prime), charged by card token when Stripe's last retry of
an invoice fails.  The local stand-in is fakes/tappay.py.

Every call is a POST of JSON to `{api_base}/tpc/...` with the partner key in the
`x-api-key` header and in the body; TapPay answers business errors with HTTP 200 and a
non-zero `status`.  How answers map to billing's errors:
- status 0: success.
- `charge` never raises for a card's refusal: a decline (any status that is not about our
  request or a timeout) is `ChargeResult(FAILED, rec_trade_id, "<status>: <msg>")`; a
  timeout, status 421/422 (gateway / authorisation timeout), HTTP 5xx/429 or a network
  failure is `ChargeResult(UNKNOWN)`: look the order up with `find_charge` before trying
  again.  `charge` itself looks the order number up first, so an order is charged at most
  once whoever calls it again.
- other calls: statuses 421/422, HTTP 5xx/429, network failures and timeouts raise
  `ProcessorUnavailable`; any other non-zero status raises `ProcessorRefused(code=status)`.
- a refusal of our own request (wrong partner key 80, unknown merchant 61, a missing or
  malformed field 5/501-515, ...) raises `ProcessorRefused` from every call, `charge`
  included: that is a configuration problem to fix, not the card's fault.

Helptal keeps only the card key/token pair (sealed by the store), the brand, the last four
digits and the expiry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.billing.model import (
    AttemptOutcome,
    Card,
    ChargeResult,
    Money,
    Processor,
    TapPayCardSecret,
)
from chalicelib.billing.ports import (
    Cardholder,
    ProcessorRefused,
    ProcessorUnavailable,
    WebhookEvent,
    WebhookRejected,
)

SUCCESS = 0
END_OF_LIST = 2  # the Record API past its last record
TIMEOUT_STATUSES = frozenset({421, 422})  # gateway timeout, authorisation timeout
# Refusals of the request itself (IP, JSON, card format, merchant, keys, currency, missing
# or malformed arguments): never a statement about the card.
REQUEST_STATUSES = frozenset({4, 5, 41, 61, 80, 81, 84, 89, *range(501, 516)})
# card_info.type -> brand (TapPay: 1 VISA, 2 MasterCard, 3 JCB, 4 Union Pay, 5 AMEX).
BRANDS = {1: "visa", 2: "mastercard", 3: "jcb", 4: "unionpay", 5: "amex"}
# Record API `record_status` (-1 error, 0 authorised, 1 captured, 2 partly refunded,
# 3 refunded, 4 pending, 5 cancelled; recalled from TapPay's Record API page).
RECORD_PAID = frozenset({0, 1, 2, 3})
RECORD_PENDING = 4
# TapPay takes these currencies in whole units (ISO gives TWD two decimals; TapPay's
# amounts in TWD are whole dollars).  Others are passed in minor units (unconfirmed for
# currencies other than TWD and USD).
WHOLE_UNIT_CURRENCIES = {"twd": 100, "jpy": 1, "krw": 1}
NOTIFY_LIMIT_BYTES = 64 * 1024


class TapPay:
    """TapPay's backend API for one merchant (TapPayGateway)."""

    def __init__(
        self,
        api_base: str,
        partner_key: Callable[[], str],
        merchant_id: str,
        timeout: float = 30.0,
        *,
        session: Any | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`partner_key`: how to read the secret at each call (it can rotate); `timeout`:
        seconds to wait for an answer (TapPay recommends 30); `session`: a
        `requests.Session`-like (one is made on first use)."""
        self._api = api_base.rstrip("/")
        self._partner_key = partner_key
        self._merchant_id = merchant_id
        self._timeout = (min(timeout, 5.0), timeout)
        self._session = session
        self._now = now

    # -- the card ---------------------------------------------------------------------------

    def bind_card(
        self, prime: str, cardholder: Cardholder, currency: str
    ) -> tuple[Card, TapPayCardSecret]:
        """Exchanges a prime for a remembered card with the Bind Card API.  Not Pay by Prime
        with `remember`: that charges the card, and adding a backup card must not take any
        money (Bind Card verifies the card with the bank and keeps nothing charged)."""
        answer = self._checked(
            "/tpc/card/bind",
            {
                "prime": prime,
                "merchant_id": self._merchant_id,
                "currency": currency.upper(),
                "cardholder": {
                    "phone_number": cardholder.phone,
                    "name": cardholder.name,
                    "email": cardholder.email,
                },
            },
        )
        secret = answer.get("card_secret")
        if not isinstance(secret, dict) or not secret.get("card_key"):
            raise ProcessorUnavailable("tappay bound the card without its card_secret")
        return _card(answer.get("card_info")), TapPayCardSecret(
            card_key=str(secret["card_key"]), card_token=str(secret.get("card_token") or "")
        )

    def remove_card(self, secret: TapPayCardSecret) -> None:
        """Forgets the card at TapPay (ProcessorRefused when TapPay knows no such card)."""
        self._checked(
            "/tpc/card/remove", {"card_key": secret.card_key, "card_token": secret.card_token}
        )

    # -- charges ----------------------------------------------------------------------------

    def charge(
        self,
        secret: TapPayCardSecret,
        amount: Money,
        *,
        order_number: str,
        details: str,
    ) -> ChargeResult:
        """Pay by Card Token for `order_number` (see the module docstring for outcomes).
        Reads the Record API first: an order TapPay has a trade for is not charged again."""
        try:
            earlier = self.find_charge(order_number)
        except ProcessorUnavailable as e:
            return ChargeResult(AttemptOutcome.UNKNOWN, None, str(e))
        if earlier is not None:
            return earlier
        body = {
            "card_key": secret.card_key,
            "card_token": secret.card_token,
            "merchant_id": self._merchant_id,
            "amount": _tappay_amount(amount),
            "currency": amount.currency.upper(),
            "details": details[:100],
            "order_number": order_number,
            "bank_transaction_id": bank_transaction_id(order_number),
        }
        try:
            answer = self._post("/tpc/payment/pay-by-token", body)
        except ProcessorUnavailable as e:
            return ChargeResult(AttemptOutcome.UNKNOWN, None, str(e))
        status, message = _status(answer)
        reference = str(answer.get("rec_trade_id") or "") or None
        if status == SUCCESS:
            return ChargeResult(AttemptOutcome.SUCCEEDED, reference, message)
        if status in TIMEOUT_STATUSES:
            return ChargeResult(AttemptOutcome.UNKNOWN, reference, f"{status}: {message}")
        if status in REQUEST_STATUSES:
            raise ProcessorRefused(f"tappay refused the request: {status}: {message}", str(status))
        return ChargeResult(AttemptOutcome.FAILED, reference, f"{status}: {message}")

    def find_charge(self, order_number: str) -> ChargeResult | None:
        """The outcome of the trade TapPay has for `order_number` (a paid one first, then
        the newest), or None when it has none."""
        records = self._records({"order_number": order_number})
        if not records:
            return None
        paid = [r for r in records if r.get("record_status") in RECORD_PAID]
        record = paid[0] if paid else records[0]
        reference = str(record.get("rec_trade_id") or "") or None
        state = record.get("record_status")
        detail = str(record.get("bank_result_msg") or "")
        if state in RECORD_PAID:
            return ChargeResult(AttemptOutcome.SUCCEEDED, reference, detail)
        if state == RECORD_PENDING:
            return ChargeResult(AttemptOutcome.UNKNOWN, reference, "pending at tappay")
        return ChargeResult(AttemptOutcome.FAILED, reference, detail)

    def refund(self, rec_trade_id: str, amount: Money) -> str:
        """Refunds `amount` of trade `rec_trade_id`; the refund's id.  ProcessorRefused
        when it is more than what is left of the trade."""
        answer = self._checked(
            "/tpc/transaction/refund",
            {"rec_trade_id": rec_trade_id, "amount": _tappay_amount(amount)},
        )
        return str(answer.get("refund_id") or f"{rec_trade_id}:refund:{amount.amount}")

    # -- backend notify ---------------------------------------------------------------------

    def verify_notify(self, raw_body: bytes) -> WebhookEvent:
        """A backend notify carries no signature: it is accepted only when the Record API
        has the trade it names, with the same order number and amount and an outcome that
        agrees with the notify's status (else WebhookRejected)."""
        if len(raw_body) > NOTIFY_LIMIT_BYTES:
            raise WebhookRejected("tappay notify too large")
        try:
            notify = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError) as e:
            raise WebhookRejected("tappay notify is not JSON") from e
        if not isinstance(notify, dict):
            raise WebhookRejected("tappay notify is not a JSON object")
        trade_id = notify.get("rec_trade_id")
        status = notify.get("status")
        if not isinstance(trade_id, str) or not trade_id or len(trade_id) > 64:
            raise WebhookRejected("tappay notify without rec_trade_id")
        if not isinstance(status, int) or isinstance(status, bool):
            raise WebhookRejected("tappay notify without status")
        records = [r for r in self._records({"rec_trade_id": trade_id}) if _same(r, notify)]
        if not records:
            raise WebhookRejected("tappay has no such trade")
        record = records[0]
        paid = record.get("record_status") in RECORD_PAID
        if (status == SUCCESS) != paid:
            raise WebhookRejected("the notify's status disagrees with tappay's record")
        return WebhookEvent(
            processor=Processor.TAPPAY,
            id=f"{trade_id}:{status}",
            type="tappay.notify",
            object_id=trade_id,
            created=_moment(record.get("time")) or self._now(),
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _records(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        """The Record API's trades matching `filters`, newest first (first page)."""
        answer = self._post(
            "/tpc/transaction/query",
            {
                "records_per_page": 50,
                "page": 0,
                "filters": filters,
                "order_by": {"attribute": "time", "is_descending": True},
            },
        )
        status, message = _status(answer)
        if status == END_OF_LIST:
            return []
        self._raise_for(status, message)
        records = answer.get("trade_records")
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []

    def _checked(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._post(path, body)
        self._raise_for(*_status(answer))
        return answer

    @staticmethod
    def _raise_for(status: int, message: str) -> None:
        if status == SUCCESS:
            return
        if status in TIMEOUT_STATUSES:
            raise ProcessorUnavailable(f"tappay timed out: {status}: {message}")
        raise ProcessorRefused(f"tappay refused: {status}: {message}", str(status))

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """TapPay's JSON answer to a 2xx; ProcessorUnavailable for no answer, 5xx and 429,
        ProcessorRefused for other HTTP errors."""
        import requests  # imported on first use, not at cold start

        key = self._partner_key()
        try:
            response = self._http().post(
                self._api + path,
                json={**body, "partner_key": key},
                headers={"x-api-key": key, "Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as e:
            raise ProcessorUnavailable(f"tappay unreachable: {type(e).__name__}") from e
        code = response.status_code
        if code >= 500 or code == 429:
            raise ProcessorUnavailable(f"tappay answered HTTP {code}")
        if code >= 300:
            raise ProcessorRefused(f"tappay answered HTTP {code}", f"http_{code}")
        try:
            answer = response.json()
        except ValueError as e:
            raise ProcessorUnavailable("tappay answered something that is not JSON") from e
        if not isinstance(answer, dict):
            raise ProcessorUnavailable("tappay answered something that is not an object")
        return answer

    def _http(self) -> Any:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session


def bank_transaction_id(order_number: str) -> str:
    """Our unique id for the bank, derived from the order number: 20 characters of
    [0-9A-F] after "HT", which every acquirer accepts (TapPay refuses a repeated one)."""
    return "HT" + hashlib.sha256(order_number.encode()).hexdigest()[:18].upper()


def _status(answer: dict[str, Any]) -> tuple[int, str]:
    status = answer.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        raise ProcessorUnavailable("tappay answered without a status")
    return status, str(answer.get("msg") or "")[:200]


def _tappay_amount(amount: Money) -> int:
    divisor = WHOLE_UNIT_CURRENCIES.get(amount.currency, 1)
    if amount.amount <= 0 or amount.amount % divisor:
        raise ProcessorRefused(f"tappay cannot take {amount.amount} {amount.currency}", "amount")
    return amount.amount // divisor


def _card(info: Any) -> Card:
    """Brand, last four digits and expiry of TapPay's `card_info` (nothing more is kept)."""
    if not isinstance(info, dict):
        raise ProcessorUnavailable("tappay bound the card without its card_info")
    last4 = str(info.get("last_four") or "")
    expiry = str(info.get("expiry_date") or "")  # YYYYMM
    if len(last4) != 4 or not last4.isdigit():
        raise ProcessorUnavailable("tappay answered a card without its last four digits")
    if len(expiry) != 6 or not expiry.isdigit() or not 1 <= int(expiry[4:]) <= 12:
        raise ProcessorUnavailable("tappay answered a card without a readable expiry")
    card_type = info.get("type")
    return Card(
        processor=Processor.TAPPAY,
        brand=BRANDS.get(card_type, "unknown") if isinstance(card_type, int) else "unknown",
        last4=last4,
        exp_month=int(expiry[4:]),
        exp_year=int(expiry[:4]),
    )


def _same(record: dict[str, Any], notify: dict[str, Any]) -> bool:
    """The record is the trade the notify names (order number and amount agree)."""
    if record.get("rec_trade_id") != notify.get("rec_trade_id"):
        return False
    for name in ("order_number", "amount"):
        if name in notify and notify[name] != record.get(name):
            return False
    return True


def _moment(millis: Any) -> datetime | None:
    if not isinstance(millis, int) or isinstance(millis, bool) or millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC)
