"""The TapPay adapter against the local TapPay stand-in over HTTP: the backup card bound from
a prime, charged by token, refunded, looked up after a timeout, and backend notifies
accepted only for trades TapPay confirms."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import pytest
import requests

from chalicelib.billing.model import AttemptOutcome, Card, Money, Processor, TapPayCardSecret
from chalicelib.billing.ports import (
    Cardholder,
    ProcessorRefused,
    ProcessorUnavailable,
    WebhookRejected,
)
from chalicelib.providers.tappay import TapPay, bank_transaction_id
from fakes.tappay import (
    APPROVED_CARD,
    DECLINED_CARD,
    DECLINED_ON_CHARGE_CARD,
    FakeTapPay,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ANN = Cardholder(name="Ann Owner", email="ann@acme.test", phone="+886912345678")
USD = "usd"


class Clock:
    """The stand-in's clock, which a test moves forward (primes expire after 90 s)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(clock: Clock):
    fake = FakeTapPay(clock=clock).start()
    yield fake
    fake.stop()


@pytest.fixture()
def fake(server: FakeTapPay, clock: Clock) -> FakeTapPay:
    server.reset()
    clock.offset = 0.0
    return server


@pytest.fixture()
def tappay(fake: FakeTapPay) -> TapPay:
    return TapPay(fake.url, lambda: fake.partner_key, fake.merchant_id, timeout=2.0)


def bound(fake: FakeTapPay, tappay: TapPay, number: str = APPROVED_CARD) -> TapPayCardSecret:
    return tappay.bind_card(fake.make_prime(number), ANN, USD)[1]


def order() -> str:
    return f"in_{secrets.token_hex(6)}:tappay:1"


def test_a_bound_card_keeps_only_brand_last_four_and_expiry_and_nothing_is_charged(fake, tappay):
    prime = fake.make_prime(APPROVED_CARD, exp_month=7, exp_year=2031)

    card, secret = tappay.bind_card(prime, ANN, USD)

    assert card == Card(Processor.TAPPAY, "visa", "4242", 7, 2031)
    assert fake.cards[secret.card_key].card_token == secret.card_token
    assert fake.cards[secret.card_key].cardholder == {
        "phone_number": "+886912345678",
        "name": "Ann Owner",
        "email": "ann@acme.test",
    }
    assert fake.trades == {}
    [call] = fake.calls("/tpc/card/bind")
    assert call.body["currency"] == "USD" and call.body["partner_key"] == fake.partner_key


def test_a_prime_typed_in_the_sdk_stand_in_binds_a_card(fake, tappay):
    script = requests.get(f"{fake.url}/sdk/tpdirect.js", timeout=5)
    assert script.status_code == 200 and "window.TPDirect" in script.text
    assert "getPrime" in script.text and f"{fake.url}/_fake/prime" in script.text
    preflight = requests.options(f"{fake.url}/_fake/prime", timeout=5)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"

    typed = requests.post(
        f"{fake.url}/_fake/prime",
        json={
            "app_id": fake.app_id,
            "app_key": fake.app_key,
            "number": "5555 5555 5555 4444",
            "expiry": "04 / 30",
            "ccv": "123",
        },
        timeout=5,
    ).json()

    assert typed["status"] == 0 and typed["card"]["lastfour"] == "4444"
    card, _ = tappay.bind_card(typed["card"]["prime"], ANN, USD)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        "mastercard",
        "4444",
        4,
        2030,
    )


def test_a_card_typed_into_the_sdk_stand_in_in_a_browser_gives_a_prime(fake, tappay, httpserver):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (`make test` installs it)")
    from playwright.sync_api import sync_playwright

    httpserver.expect_request("/billing").respond_with_data(
        f"""<!doctype html><div id="number"></div><div id="expiry"></div><div id="ccv"></div>
<script src="{fake.url}/sdk/tpdirect.js"></script>
<script>
TPDirect.setupSDK({fake.app_id}, "{fake.app_key}", "sandbox");
TPDirect.card.setup({{fields: {{
  number: {{element: "#number", placeholder: "**** **** **** ****"}},
  expirationDate: {{element: document.getElementById("expiry"), placeholder: "MM / YY"}},
  ccv: {{element: "#ccv", placeholder: "CCV"}}}}}});
window.ready = false;
TPDirect.card.onUpdate(function (update) {{ window.ready = update.canGetPrime; }});
</script>""",
        content_type="text/html",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(httpserver.url_for("/billing"))
            page.fill("#number input", "4242 4242 4242 4242")
            page.fill("#expiry input", "09 / 31")
            assert page.evaluate("window.ready") is False
            page.fill("#ccv input", "123")
            assert page.evaluate("window.ready") is True
            result = page.evaluate("new Promise(done => TPDirect.card.getPrime(done))")
        finally:
            browser.close()

    assert result["status"] == 0 and result["card"]["lastfour"] == "4242"
    card, _ = tappay.bind_card(result["card"]["prime"], ANN, USD)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 9, 2031)


@pytest.mark.parametrize(
    "typed",
    [
        {"number": "4242424242424241", "expiry": "04/30", "ccv": "123"},  # Luhn
        {"number": APPROVED_CARD, "expiry": "13/30", "ccv": "123"},
        {"number": APPROVED_CARD, "expiry": "01/20", "ccv": "123"},  # expired
        {"number": APPROVED_CARD, "expiry": "04/30", "ccv": "12"},
    ],
    ids=["luhn", "month", "expired", "ccv"],
)
def test_the_sdk_stand_in_gives_no_prime_for_a_bad_card(fake, typed):
    answer = requests.post(
        f"{fake.url}/_fake/prime",
        json={"app_id": fake.app_id, "app_key": fake.app_key, **typed},
        timeout=5,
    ).json()
    assert answer["status"] != 0 and "card" not in answer


def test_expired_used_unknown_and_declined_primes_are_refused(fake, tappay, clock):
    used = fake.make_prime(APPROVED_CARD)
    tappay.bind_card(used, ANN, USD)
    expired = fake.make_prime(APPROVED_CARD)
    clock.offset = 91
    cases = [
        ("expired", expired, "91"),
        ("used", used, "121"),
        ("unknown", "f" * 64, "121"),
        ("empty", "", "503"),
        ("declined", fake.make_prime(DECLINED_CARD), "10003"),
    ]
    for name, prime, code in cases:
        with pytest.raises(ProcessorRefused) as refused:
            tappay.bind_card(prime, ANN, USD)
        assert refused.value.code == code, name
    assert len(fake.cards) == 1  # the card bound with the prime before it was used


def test_the_backup_card_is_charged_by_token_then_partly_refunded(fake, tappay):
    secret = bound(fake, tappay)
    number = order()

    result = tappay.charge(secret, Money(4_900, USD), order_number=number, details="Pro, 1 seat")

    assert result.outcome == AttemptOutcome.SUCCEEDED and result.reference
    trade = fake.trades[result.reference]
    assert (trade.amount, trade.currency, trade.order_number) == (4_900, "USD", number)
    assert trade.bank_transaction_id == bank_transaction_id(number)
    assert len(trade.bank_transaction_id) == 20

    refund_id = tappay.refund(result.reference, Money(1_500, USD))

    assert refund_id and trade.refunded == 1_500
    assert tappay.find_charge(number) == result


def test_an_order_is_charged_once_however_often_it_is_asked(fake, tappay):
    secret = bound(fake, tappay)
    number = order()
    first = tappay.charge(secret, Money(1_900, USD), order_number=number, details="Starter")
    again = tappay.charge(secret, Money(1_900, USD), order_number=number, details="Starter")
    assert again == first and len(fake.trades) == 1


def test_refunding_more_than_is_left_or_an_unknown_trade_is_refused(fake, tappay):
    secret = bound(fake, tappay)
    paid = tappay.charge(secret, Money(4_900, USD), order_number=order(), details="Pro")
    assert paid.reference
    tappay.refund(paid.reference, Money(4_000, USD))
    cases = [
        ("more than left", paid.reference, Money(901, USD)),
        ("unknown trade", "D20260101NOSUCHTRADE", Money(100, USD)),
        ("nothing", paid.reference, Money(0, USD)),
    ]
    for name, trade_id, amount in cases:
        with pytest.raises(ProcessorRefused):
            tappay.refund(trade_id, amount)
        assert fake.trades[paid.reference].refunded == 4_000, name
    tappay.refund(paid.reference, Money(900, USD))
    assert fake.trades[paid.reference].refunded == 4_900


def test_a_declined_charge_is_a_failed_result_not_an_exception(fake, tappay):
    secret = bound(fake, tappay, DECLINED_ON_CHARGE_CARD)
    number = order()

    result = tappay.charge(secret, Money(4_900, USD), order_number=number, details="Pro")

    assert result.outcome == AttemptOutcome.FAILED
    assert result.reference in fake.trades and result.detail.startswith("10003:")
    found = tappay.find_charge(number)
    assert found is not None and found.outcome == AttemptOutcome.FAILED


def test_a_removed_card_can_no_longer_be_charged(fake, tappay):
    secret = bound(fake, tappay)
    tappay.remove_card(secret)
    assert fake.cards == {}
    result = tappay.charge(secret, Money(100, USD), order_number=order(), details="Pro")
    assert result.outcome == AttemptOutcome.FAILED
    with pytest.raises(ProcessorRefused):
        tappay.remove_card(secret)


def test_a_charge_that_times_out_is_unknown_and_found_afterwards(fake):
    tappay = TapPay(fake.url, lambda: fake.partner_key, fake.merchant_id, timeout=0.3)
    secret = bound(fake, tappay)
    number = order()
    fake.answer_late(1.0, path="/tpc/payment/")  # carried out; the answer comes too late

    late = tappay.charge(secret, Money(4_900, USD), order_number=number, details="Pro")

    assert late.outcome == AttemptOutcome.UNKNOWN and late.reference is None
    found = tappay.find_charge(number)
    assert found is not None and found.outcome == AttemptOutcome.SUCCEEDED
    assert found.reference in fake.trades
    again = tappay.charge(secret, Money(4_900, USD), order_number=number, details="Pro")
    assert again == found and len(fake.trades) == 1


def test_an_order_tappay_never_saw_is_not_found(tappay):
    assert tappay.find_charge(order()) is None


def test_timeouts_and_outages_leave_a_charge_unknown(fake, tappay):
    secret = bound(fake, tappay)
    nowhere = TapPay("http://127.0.0.1:9", lambda: fake.partner_key, fake.merchant_id)
    cases = [
        ("payment http 503", lambda: fake.answer_http_next(503, path="/tpc/payment/"), tappay),
        ("payment http 429", lambda: fake.answer_http_next(429, path="/tpc/payment/"), tappay),
        ("lookup http 502", lambda: fake.answer_http_next(502, path="/tpc/transaction/"), tappay),
        ("status 421", lambda: fake.answer_status_next(421, path="/tpc/payment/"), tappay),
        ("status 422", lambda: fake.answer_status_next(422, path="/tpc/payment/"), tappay),
        ("unreachable", lambda: None, nowhere),
    ]
    for name, script, gateway in cases:
        script()
        result = gateway.charge(secret, Money(100, USD), order_number=order(), details="Pro")
        assert result.outcome == AttemptOutcome.UNKNOWN, name
    assert fake.trades == {}


def test_outages_of_other_calls_are_unavailable_and_configuration_errors_refused(fake, tappay):
    secret = bound(fake, tappay)
    paid = tappay.charge(secret, Money(4_900, USD), order_number=order(), details="Pro")
    assert paid.reference
    nowhere = TapPay("http://127.0.0.1:9", lambda: fake.partner_key, fake.merchant_id)
    unavailable = [
        ("http 503", lambda: fake.answer_http_next(503), tappay),
        ("status 422", lambda: fake.answer_status_next(422), tappay),
        ("unreachable", lambda: None, nowhere),
    ]
    for name, script, gateway in unavailable:
        script()
        with pytest.raises(ProcessorUnavailable):
            gateway.refund(paid.reference, Money(100, USD))
        assert fake.trades[paid.reference].refunded == 0, name

    wrong_key = TapPay(fake.url, lambda: "partner_wrong", fake.merchant_id, timeout=2.0)
    wrong_merchant = TapPay(fake.url, lambda: fake.partner_key, "nobody", timeout=2.0)
    refused = [
        (
            "wrong key, charge",
            "80",
            lambda: wrong_key.charge(secret, Money(100, USD), order_number=order(), details="Pro"),
        ),
        ("wrong key, refund", "80", lambda: wrong_key.refund(paid.reference, Money(1, USD))),
        (
            "wrong merchant, bind",
            "61",
            lambda: wrong_merchant.bind_card(fake.make_prime(APPROVED_CARD), ANN, USD),
        ),
        (
            "wrong merchant, charge",
            "61",
            lambda: wrong_merchant.charge(
                secret, Money(100, USD), order_number=order(), details="Pro"
            ),
        ),
    ]
    for name, code, call in refused:
        with pytest.raises(ProcessorRefused) as error:
            call()
        assert error.value.code == code, name
    assert len(fake.trades) == 1


def test_a_notify_is_accepted_only_for_a_trade_tappay_confirms(fake, tappay, httpserver):
    secret = bound(fake, tappay)
    paid = tappay.charge(secret, Money(4_900, USD), order_number=order(), details="Pro")
    declined_secret = bound(fake, tappay, DECLINED_ON_CHARGE_CARD)
    declined = tappay.charge(declined_secret, Money(4_900, USD), order_number=order(), details="P")
    assert paid.reference and declined.reference
    httpserver.expect_request("/v1/webhooks/tappay", method="POST").respond_with_data("OK")

    status, _ = fake.send_notify(paid.reference, httpserver.url_for("/v1/webhooks/tappay"))
    [(sent, _)] = httpserver.log
    event = tappay.verify_notify(sent.get_data())

    assert status == 200
    assert (event.processor, event.type, event.object_id) == (
        Processor.TAPPAY,
        "tappay.notify",
        paid.reference,
    )
    assert event.id == f"{paid.reference}:0"
    assert tappay.verify_notify(fake.notify_body(declined.reference)).id == (
        f"{declined.reference}:10003"
    )

    genuine = json.loads(fake.notify_body(paid.reference))
    forged = [
        ("unknown trade", {**genuine, "rec_trade_id": "D20260101FORGED"}),
        ("declined said paid", {**json.loads(fake.notify_body(declined.reference)), "status": 0}),
        ("paid said declined", {**genuine, "status": 10003}),
        ("other amount", {**genuine, "amount": 1}),
        ("other order", {**genuine, "order_number": "in_other:tappay:1"}),
        ("no trade id", {k: v for k, v in genuine.items() if k != "rec_trade_id"}),
        ("status as text", {**genuine, "status": "0"}),
        ("a list", [genuine]),
    ]
    for name, body in forged:
        with pytest.raises(WebhookRejected):
            tappay.verify_notify(json.dumps(body).encode())
            pytest.fail(f"accepted: {name}")
    for raw in (b"", b"not json", b"\xff\xfe", b"{" * 10 + b"x" * (70 * 1024)):
        with pytest.raises(WebhookRejected):
            tappay.verify_notify(raw)


def test_a_notify_is_not_judged_while_tappay_cannot_be_asked(fake, tappay):
    secret = bound(fake, tappay)
    paid = tappay.charge(secret, Money(4_900, USD), order_number=order(), details="Pro")
    assert paid.reference
    fake.fail_next(503)
    with pytest.raises(ProcessorUnavailable):
        tappay.verify_notify(fake.notify_body(paid.reference))
