"""The PayPal adapter against the local PayPal stand-in over HTTP: plans found or created once,
a subscription approved on the stand-in's page, read back, revised and cancelled, its
payments read as invoices and refunded, and webhook deliveries verified by postback."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.billing.model import InvoiceStatus, Money, Processor
from chalicelib.billing.plans import PRO, STARTER, Period
from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable, WebhookRejected
from chalicelib.providers.paypal import PRODUCT_ID, PayPal
from fakes.paypal import FakePayPal

RETURN_URL = "https://api.helptal.test/billing/paypal/return?workspace=ws_1"
CANCEL_URL = "https://app.helptal.test/app/#/settings/billing?paypal=canceled"


@pytest.fixture(scope="module")
def server():
    fake = FakePayPal().start()
    yield fake
    fake.stop()


@pytest.fixture()
def fake(server: FakePayPal) -> FakePayPal:
    server.reset()
    return server


def gateway(fake: FakePayPal, **overrides) -> PayPal:
    settings = {
        "client_secret": lambda: fake.client_secret,
        "webhook_id": fake.webhook_id,
        **overrides,
    }
    return PayPal(fake.url, fake.client_id, **settings)


@pytest.fixture()
def paypal(fake: FakePayPal) -> PayPal:
    return gateway(fake)


def subscribe(paypal: PayPal, workspace: str = "ws_1", seats: int = 3, plan=PRO) -> str:
    """Starts a subscription and approves it on the stand-in's page, as the buyer would."""
    start = paypal.start_subscription(
        paypal_plan_id=paypal.plan_id(plan, Period.MONTH),
        workspace_id=workspace,
        seats=seats,
        email="ann@acme.test",
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
        locale="fr",
        request_id=f"checkout:{workspace}:{secrets.token_hex(4)}",
    )
    approved = click(start.url, "approve")
    assert approved.status_code == 302
    return start.session_id


def click(approval_url: str, decision: str) -> requests.Response:
    page = requests.get(approval_url, timeout=5)
    assert page.status_code == 200 and 'value="approve"' in page.text
    token = parse_qs(urlsplit(approval_url).query)["token"][0]
    return requests.post(
        approval_url.split("?")[0],
        data={"token": token, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )


def test_the_plan_is_created_once_with_its_product_and_then_reused(fake, paypal):
    first = paypal.plan_id(PRO, Period.MONTH)
    assert paypal.plan_id(PRO, Period.MONTH) == first
    assert gateway(fake).plan_id(PRO, Period.MONTH) == first  # another process finds it

    assert list(fake.products) == [PRODUCT_ID]
    assert len(fake.calls("/v1/billing/plans", method="POST")) == 1
    plan = fake.plans[first]
    assert plan["name"] == "helptal_pro_month" and plan["quantity_supported"] is True
    [cycle] = plan["billing_cycles"]
    assert cycle["frequency"] == {"interval_unit": "MONTH", "interval_count": 1}
    assert cycle["pricing_scheme"]["fixed_price"] == {"currency_code": "USD", "value": "49.00"}

    yearly = paypal.plan_id(STARTER, Period.YEAR)
    assert yearly != first and fake.plans[yearly]["billing_cycles"][0]["pricing_scheme"][
        "fixed_price"
    ] == {"currency_code": "USD", "value": "190.00"}
    assert list(fake.products) == [PRODUCT_ID]


def test_a_plan_is_found_beyond_the_first_page_of_plans(fake, paypal):
    for n in range(25):
        fake.plans[f"P-OTHER{n:02d}"] = {
            "id": f"P-OTHER{n:02d}",
            "product_id": PRODUCT_ID,
            "name": f"someone_else_{n}",
            "status": "ACTIVE",
            "description": "",
            "create_time": "2026-01-01T00:00:00Z",
            "links": [],
        }
    fake.products[PRODUCT_ID] = {"id": PRODUCT_ID}
    created = paypal.plan_id(PRO, Period.YEAR)
    assert gateway(fake).plan_id(PRO, Period.YEAR) == created
    assert len(fake.calls("/v1/billing/plans", method="POST")) == 1


def test_a_subscription_is_approved_on_paypals_page_and_read_back(fake, paypal):
    start = paypal.start_subscription(
        paypal_plan_id=paypal.plan_id(PRO, Period.MONTH),
        workspace_id="ws_1",
        seats=3,
        email="ann@acme.test",
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
        locale="fr",
        request_id="checkout:ws_1:1",
    )
    assert start.session_id.startswith("I-")
    sent = fake.calls("/v1/billing/subscriptions", method="POST")[0].body
    assert (sent["quantity"], sent["custom_id"]) == ("3", "ws_1")
    assert sent["application_context"]["locale"] == "fr-FR"
    pending = paypal.subscription(start.session_id)
    assert pending.status == "APPROVAL_PENDING" and pending.current_period_end is None

    approved = click(start.url, "approve")

    back = urlsplit(approved.headers["Location"])
    query = parse_qs(back.query)
    assert f"{back.scheme}://{back.netloc}{back.path}" == RETURN_URL.split("?")[0]
    assert query["workspace"] == ["ws_1"] and query["subscription_id"] == [start.session_id]
    assert query["ba_token"][0].startswith("BA-") and query["token"]
    snapshot = paypal.subscription(start.session_id)
    assert snapshot.processor == Processor.PAYPAL and snapshot.status == "ACTIVE"
    assert (snapshot.plan_id, snapshot.period, snapshot.quantity) == ("pro", Period.MONTH, 3)
    assert snapshot.workspace_id == "ws_1" and snapshot.card is None
    body = fake.subscriptions[start.session_id].body
    assert snapshot.current_period_end == datetime.fromisoformat(
        body["billing_info"]["next_billing_time"].replace("Z", "+00:00")
    )
    assert snapshot.current_period_start is not None
    assert snapshot.current_period_start < snapshot.current_period_end
    assert not snapshot.cancel_at_period_end and snapshot.ended_at is None
    assert snapshot.read_at.tzinfo is not None


def test_the_same_request_id_starts_one_subscription(fake, paypal):
    plan = paypal.plan_id(PRO, Period.MONTH)
    starts = [
        paypal.start_subscription(
            paypal_plan_id=plan,
            workspace_id="ws_1",
            seats=2,
            email="ann@acme.test",
            return_url=RETURN_URL,
            cancel_url=CANCEL_URL,
            locale="en",
            request_id="checkout:ws_1:same",
        )
        for _ in range(2)
    ]
    assert starts[0] == starts[1] and len(fake.subscriptions) == 1


def test_a_buyer_who_cancels_on_paypals_page_goes_back_to_the_billing_screen(fake, paypal):
    start = paypal.start_subscription(
        paypal_plan_id=paypal.plan_id(PRO, Period.MONTH),
        workspace_id="ws_1",
        seats=1,
        email="ann@acme.test",
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
        locale="en",
        request_id="checkout:ws_1:2",
    )
    canceled = click(start.url, "cancel")
    location = canceled.headers["Location"]
    assert location.startswith("https://app.helptal.test/app/")
    assert "paypal=canceled" in location
    assert paypal.subscription(start.session_id).status == "APPROVAL_PENDING"


def test_revising_the_quantity_waits_for_the_buyers_approval(fake, paypal):
    subscription_id = subscribe(paypal, seats=3)

    link = paypal.change_quantity(subscription_id, 5, request_id="seats:ws_1:5")

    assert link and paypal.subscription(subscription_id).quantity == 3
    assert click(link, "approve").status_code == 302
    assert paypal.subscription(subscription_id).quantity == 5
    assert any(e["event_type"] == "BILLING.SUBSCRIPTION.UPDATED" for e in fake.events)


def test_cancelling_ends_the_subscription_and_cancelling_again_is_fine(fake, paypal):
    subscription_id = subscribe(paypal)

    paypal.cancel(subscription_id, "Owner cancelled in Helptal")
    paypal.cancel(subscription_id, "Owner cancelled in Helptal")

    snapshot = paypal.subscription(subscription_id)
    assert snapshot.status == "CANCELLED" and snapshot.ended_at is not None
    [paid] = fake.sales_of(subscription_id)  # the month paid for still ends when it ends
    assert snapshot.current_period_start == datetime.fromisoformat(paid.time)
    assert snapshot.current_period_end is not None
    assert 28 <= (snapshot.current_period_end - snapshot.current_period_start).days <= 31
    assert fake.subscriptions[subscription_id].body["status_change_note"] == (
        "Owner cancelled in Helptal"
    )
    pending = paypal.start_subscription(
        paypal_plan_id=paypal.plan_id(PRO, Period.MONTH),
        workspace_id="ws_2",
        seats=1,
        email="bob@acme.test",
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
        locale="en",
        request_id="checkout:ws_2:1",
    )
    with pytest.raises(ProcessorRefused) as refused:
        paypal.cancel(pending.session_id, "never approved")
    assert refused.value.code == "SUBSCRIPTION_STATUS_INVALID"


def test_a_subscription_payment_reads_as_a_paid_invoice(fake, paypal):
    subscription_id = subscribe(paypal, seats=3)
    [first] = fake.sales_of(subscription_id)

    snapshot = paypal.sale(first.id)

    invoice = snapshot.invoice
    assert snapshot.subscription_id == subscription_id and snapshot.customer_id is None
    assert (invoice.id, invoice.payment_ref, invoice.workspace_id) == (first.id, first.id, "ws_1")
    assert invoice.processor == Processor.PAYPAL and invoice.paid_by == Processor.PAYPAL
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_due == invoice.amount_paid == Money(14_700, "usd")
    assert invoice.amount_refunded == Money(0, "usd")
    assert invoice.paid_at == invoice.created_at == invoice.period_start
    assert invoice.period_end is not None and invoice.period_start is not None
    assert 28 <= (invoice.period_end - invoice.period_start).days <= 31
    assert invoice.lines == ["3 x pro (month)"]


def test_part_of_a_payment_is_refunded_and_more_than_is_left_is_refused(fake, paypal):
    subscription_id = subscribe(paypal, seats=3)
    [sale] = fake.sales_of(subscription_id)

    refund_id = paypal.refund(sale.id, Money(4_900, "usd"), request_id="refund:1")
    again = paypal.refund(sale.id, Money(4_900, "usd"), request_id="refund:1")

    assert again == refund_id and sale.refunded == Decimal("49.00")
    assert paypal.sale(sale.id).invoice.status == InvoiceStatus.PAID
    cases = [
        ("more than left", Money(9_801, "usd"), "REFUND_AMOUNT_EXCEEDED"),
        ("other currency", Money(100, "eur"), "REFUND_CAPTURE_CURRENCY_MISMATCH"),
    ]
    for name, amount, issue in cases:
        with pytest.raises(ProcessorRefused) as refused:
            paypal.refund(sale.id, amount, request_id=f"refund:{name}")
        assert refused.value.code == issue, name
    with pytest.raises(ProcessorRefused):
        paypal.refund("NOSUCHCAPTURE0000", Money(100, "usd"), request_id="refund:unknown")
    paypal.refund(sale.id, Money(9_800, "usd"), request_id="refund:rest")
    assert paypal.sale(sale.id).invoice.amount_refunded == Money(14_700, "usd")
    assert sale.refunded == Decimal("147.00")


def test_failed_payments_suspend_the_subscription(fake, paypal):
    subscription_id = subscribe(paypal)
    for _ in range(3):
        fake.take_payment(subscription_id, succeed=False)
    assert paypal.subscription(subscription_id).status == "SUSPENDED"
    types = [e["event_type"] for e in fake.events]
    assert types.count("BILLING.SUBSCRIPTION.PAYMENT.FAILED") == 3
    assert types[-1] == "BILLING.SUBSCRIPTION.SUSPENDED"


def delivery(fake: FakePayPal, event_type: str) -> tuple[dict[str, str], bytes]:
    sent = [
        t for t in fake.transmissions.values() if json.loads(t.body)["event_type"] == event_type
    ]
    return dict(sent[-1].headers), sent[-1].body


def test_a_genuine_delivery_is_verified_and_names_what_it_is_about(fake, paypal):
    subscription_id = subscribe(paypal)
    [sale] = fake.sales_of(subscription_id)
    paypal.refund(sale.id, Money(100, "usd"), request_id="refund:webhook")
    expected = [
        ("BILLING.SUBSCRIPTION.ACTIVATED", subscription_id),
        ("PAYMENT.SALE.COMPLETED", sale.id),
        ("PAYMENT.SALE.REFUNDED", sale.id),
    ]
    for event_type, object_id in expected:
        headers, body = delivery(fake, event_type)
        lowered = {name.lower(): value for name, value in headers.items()}

        event = paypal.verify_webhook(lowered, body)

        assert event.processor == Processor.PAYPAL and event.type == event_type
        assert event.id == json.loads(body)["id"] and event.object_id == object_id
        assert event.created.tzinfo == UTC


def test_forged_incomplete_and_misaddressed_deliveries_are_rejected(fake, paypal):
    subscribe(paypal)
    headers, body = delivery(fake, "BILLING.SUBSCRIPTION.ACTIVATED")
    event = json.loads(body)
    other_headers, _ = delivery(fake, "PAYMENT.SALE.COMPLETED")
    forged_body = json.dumps({**event, "event_type": "BILLING.SUBSCRIPTION.CANCELLED"}).encode()
    cases = [
        ("forged body", headers, forged_body, paypal),
        ("another delivery's headers", other_headers, body, paypal),
        ("signature altered", {**headers, "PAYPAL-TRANSMISSION-SIG": "AAAA"}, body, paypal),
        (
            "time altered",
            {**headers, "PAYPAL-TRANSMISSION-TIME": "2020-01-01T00:00:00Z"},
            body,
            paypal,
        ),
        ("wrong webhook id", headers, body, gateway(fake, webhook_id="WH-SOMEONE-ELSE")),
        ("not json", headers, b"<xml/>", paypal),
        ("not an event", headers, b'["WH-1"]', paypal),
        ("no event type", headers, json.dumps({"id": "WH-1"}).encode(), paypal),
        ("not utf-8", headers, b"\xff\xfe{}", paypal),
        ("too large", headers, b" " * (600 * 1024) + body, paypal),
    ]
    for name in (
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ):
        cases.append(
            (f"without {name}", {k: v for k, v in headers.items() if k != name}, body, paypal)
        )
    for name, sent_headers, sent_body, verifier in cases:
        with pytest.raises(WebhookRejected):
            verifier.verify_webhook(sent_headers, sent_body)
            pytest.fail(f"accepted: {name}")
    assert paypal.verify_webhook(headers, body).id == event["id"]


def test_a_redelivered_event_verifies_with_its_new_transmission(fake, paypal):
    subscribe(paypal)
    headers, body = delivery(fake, "BILLING.SUBSCRIPTION.ACTIVATED")
    again = fake.redeliver(json.loads(body)["id"])
    assert again.id != headers["PAYPAL-TRANSMISSION-ID"]
    assert paypal.verify_webhook(again.headers, again.body).id == json.loads(body)["id"]


def test_deliveries_reach_the_webhook_url_and_can_be_held(fake, paypal, httpserver):
    httpserver.expect_request("/v1/webhooks/paypal", method="POST").respond_with_data("")
    fake.webhook_url = httpserver.url_for("/v1/webhooks/paypal")
    try:
        fake.hold()
        subscription_id = subscribe(paypal)
        assert fake.wait_for_deliveries(2) and httpserver.log == []
        fake.hold(False)
        assert fake.wait_for_deliveries(5)
    finally:
        fake.webhook_url = None
    received = [json.loads(request.get_data())["event_type"] for request, _ in httpserver.log]
    assert received == [
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "PAYMENT.SALE.COMPLETED",
    ]
    request, _ = httpserver.log[1]
    event = paypal.verify_webhook(dict(request.headers), request.get_data())
    assert event.object_id == subscription_id


def test_the_token_is_reused_until_it_expires_then_fetched_again(fake):
    clock = [0.0]
    paypal = gateway(fake, monotonic=lambda: clock[0])
    paypal.plan_id(PRO, Period.MONTH)
    paypal.plan_id(STARTER, Period.MONTH)
    assert fake.tokens_issued == 1

    clock[0] = fake.token_lifetime - 59  # within a minute of its expiry
    paypal.plan_id(PRO, Period.YEAR)
    assert fake.tokens_issued == 2

    fake.expire_tokens()  # PayPal forgets it early: a 401, one new token, the call again
    paypal.plan_id(STARTER, Period.YEAR)
    assert fake.tokens_issued == 3


def test_outages_are_unavailable_and_bad_credentials_refused(fake, paypal):
    subscription_id = subscribe(paypal)
    slow = gateway(fake, timeout=(1.0, 0.3))
    slow.subscription(subscription_id)
    cases = [
        ("http 503", lambda: fake.fail_next(503), paypal),
        ("http 429", lambda: fake.fail_next(429), paypal),
        ("too slow", lambda: fake.stall_next(1.0), slow),
    ]
    for name, script, client in cases:
        script()
        with pytest.raises(ProcessorUnavailable):
            client.subscription(subscription_id)
            pytest.fail(f"no error: {name}")
    with pytest.raises(ProcessorUnavailable):
        PayPal("http://127.0.0.1:9", "id", lambda: "secret", "WH-1").subscription("I-1")
    with pytest.raises(ProcessorRefused) as refused:
        gateway(fake, client_secret=lambda: "wrong").subscription(subscription_id)
    assert refused.value.code == "invalid_client"
    headers, body = delivery(fake, "BILLING.SUBSCRIPTION.ACTIVATED")
    fake.fail_next(503)
    with pytest.raises(ProcessorUnavailable):
        paypal.verify_webhook(headers, body)
