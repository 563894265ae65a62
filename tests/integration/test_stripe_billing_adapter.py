"""The Stripe adapter, through the real `stripe` SDK, against the local Stripe stand-in
(fakes/stripe.py) over HTTP: checkout, the portal, seats, cancellation, failed renewals,
payments out of band, refunds, idempotency, webhook signatures and outages."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from chalicelib.billing.model import Card, InvoiceStatus, Money, Processor
from chalicelib.billing.plans import PRO, STARTER, Period
from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable, WebhookRejected
from chalicelib.providers.stripe_billing import StripeBilling
from fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign

WORKSPACE = "ws_01HELPTAL"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    fake = FakeStripe(deliver=False).start()
    yield fake
    fake.stop()


@pytest.fixture()
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    return server


@pytest.fixture()
def billing(fake: FakeStripe) -> StripeBilling:
    return StripeBilling(fake.url, lambda: SECRET_KEY, lambda: WEBHOOK_SECRET)


def checkout(
    billing: StripeBilling,
    seats: int = 3,
    plan: Any = PRO,
    period: Period = Period.MONTH,
    locale: str = "en",
) -> tuple[str, str]:
    """(customer id, checkout session id) for a new customer of WORKSPACE."""
    customer = billing.create_customer(
        WORKSPACE, "ann@acme.test", "Acme Support", idempotency_key=f"customer:{WORKSPACE}"
    )
    started = billing.start_checkout(
        customer_id=customer,
        workspace_id=WORKSPACE,
        plan=plan,
        period=period,
        seats=seats,
        success_url="http://app.test/#/settings/billing?checkout=done&session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://app.test/#/settings/billing?checkout=canceled",
        locale=locale,
        idempotency_key=f"checkout:{WORKSPACE}:{plan.id}:{period.value}:{seats}",
    )
    return customer, started.session_id


def subscribed(fake: FakeStripe, billing: StripeBilling, seats: int = 3) -> tuple[str, str]:
    """(customer id, subscription id) after a paid checkout."""
    customer, session_id = checkout(billing, seats)
    completed = fake.complete_checkout(session_id)
    return customer, completed["subscription"]


# -- checkout and the subscription ----------------------------------------------------------


def test_checkout_is_a_subscription_session_for_the_plans_price_with_tax_and_the_workspace(
    fake, billing
):
    customer, session_id = checkout(
        billing, seats=4, plan=STARTER, period=Period.YEAR, locale="fr-FR"
    )

    session = fake.objects[session_id]
    assert session["url"] == f"{fake.url}/checkout/{session_id}"
    assert (session["mode"], session["customer"], session["locale"]) == (
        "subscription",
        customer,
        "fr",
    )
    assert session["client_reference_id"] == WORKSPACE
    assert session["automatic_tax"]["enabled"] is True
    asked = fake._session_params[session_id]
    assert asked["price"] == fake.price_id("helptal_starter_year")
    assert asked["quantity"] == 4
    assert asked["subscription_metadata"] == {"workspace_id": WORKSPACE}
    assert fake.objects[customer]["metadata"] == {"workspace_id": WORKSPACE}

    snapshot = billing.checkout_session(session_id)
    assert (snapshot.workspace_id, snapshot.customer_id, snapshot.complete) == (
        WORKSPACE,
        customer,
        False,
    )
    assert snapshot.subscription_id is None


def test_prices_are_looked_up_by_lookup_key_once_per_process(fake, billing):
    checkout(billing, seats=2)
    before = len(fake.calls("/v1/prices"))
    checkout(billing, seats=5)
    assert len(fake.calls("/v1/prices")) == before


def test_paying_on_the_checkout_page_gives_the_workspace_a_subscription_with_card_details_only(
    fake, billing
):
    customer, session_id = checkout(billing, seats=3)
    page = requests.get(f"{fake.url}/checkout/{session_id}", timeout=5)
    assert "4242 4242 4242 4242" in page.text and 'id="pay"' in page.text

    paid = requests.post(
        f"{fake.url}/checkout/{session_id}",
        data={"card": "4242 4242 4242 4242", "exp_month": "8", "exp_year": "2031"},
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 303
    assert paid.headers["Location"].endswith(f"checkout=done&session_id={session_id}")

    session = billing.checkout_session(session_id)
    assert session.complete and session.customer_id == customer and session.subscription_id
    before = datetime.now(UTC)
    snapshot = billing.subscription(session.subscription_id)
    assert snapshot.workspace_id == WORKSPACE and snapshot.customer_id == customer
    assert (snapshot.status, snapshot.plan_id, snapshot.period, snapshot.quantity) == (
        "active",
        "pro",
        Period.MONTH,
        3,
    )
    assert snapshot.current_period_start is not None and snapshot.current_period_end is not None
    assert timedelta(days=28) <= snapshot.current_period_end - snapshot.current_period_start
    assert snapshot.current_period_end - snapshot.current_period_start <= timedelta(days=31)
    assert snapshot.card == Card(Processor.STRIPE, "visa", "4242", 8, 2031)
    assert {f.name for f in fields(Card)} == {
        "processor",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
    }
    assert not snapshot.cancel_at_period_end and snapshot.ended_at is None
    assert before - timedelta(seconds=1) <= snapshot.read_at <= datetime.now(UTC)


def test_a_declined_card_leaves_the_checkout_open(fake, billing):
    _, session_id = checkout(billing)
    answer = requests.post(
        f"{fake.url}/_fake/checkout/{session_id}/complete",
        json={"card": "4000000000000002"},
        timeout=5,
    )
    assert answer.status_code == 402 and answer.json()["error"]["code"] == "card_declined"
    assert not billing.checkout_session(session_id).complete


def test_the_portal_is_a_session_of_the_customer_showing_plan_and_seats(fake, billing):
    customer, _ = subscribed(fake, billing, seats=3)
    url = billing.portal_url(customer, "http://app.test/#/settings/billing", "fr")

    assert url.startswith(f"{fake.url}/portal/bps_")
    session = fake.objects[url.rsplit("/", 1)[1]]
    assert (session["customer"], session["locale"]) == (customer, "fr")
    page = requests.get(url, timeout=5).text
    assert "Helptal Pro" in page and '<span class="seats">3</span>' in page
    assert "visa •••• 4242" in page


# -- changes ----------------------------------------------------------------------------------


def test_a_seat_change_is_prorated_onto_the_next_invoice(fake, billing):
    _, subscription_id = subscribed(fake, billing, seats=3)

    snapshot = billing.change_quantity(subscription_id, 5, idempotency_key="seats:5")
    assert snapshot.quantity == 5 and snapshot.plan_id == "pro"
    assert fake.objects[subscription_id]["items"]["data"][0]["quantity"] == 5

    fake.renew(subscription_id, outcome="succeed")
    latest = billing.latest_paid_invoice(subscription_id)
    assert latest is not None
    assert [line.split(" on ")[0] for line in latest.invoice.lines[:2]] == [
        "Unused time",
        "Remaining time",
    ]
    assert latest.invoice.lines[2] == "5 x Pro (month)"
    proration = latest.invoice.amount_due.amount - 5 * PRO.seat_price[Period.MONTH]
    assert 0 < proration <= 2 * PRO.seat_price[Period.MONTH]
    assert latest.invoice.period_start == snapshot.current_period_end


def test_cancel_at_period_end_resume_and_cancel_now(fake, billing):
    _, subscription_id = subscribed(fake, billing)

    ending = billing.cancel_at_period_end(subscription_id, True, idempotency_key="end:1")
    assert ending.cancel_at_period_end and ending.status == "active"
    resumed = billing.cancel_at_period_end(subscription_id, False, idempotency_key="end:2")
    assert not resumed.cancel_at_period_end

    ended = billing.cancel_now(subscription_id, idempotency_key="cancel:1")
    assert ended.status == "canceled" and ended.ended_at is not None
    assert not ended.cancel_at_period_end
    again = billing.cancel_now(subscription_id, idempotency_key="cancel:2")
    assert again.status == "canceled" and again.subscription_id == subscription_id


def test_a_subscription_set_to_end_ends_at_renewal(fake, billing):
    _, subscription_id = subscribed(fake, billing)
    billing.cancel_at_period_end(subscription_id, True, idempotency_key="end:1")
    fake.renew(subscription_id)
    assert billing.subscription(subscription_id).status == "canceled"


def test_a_failed_renewal_reads_as_an_open_invoice_until_paid_out_of_band(fake, billing):
    customer, subscription_id = subscribed(fake, billing, seats=2)
    portal = billing.portal_url(customer, "http://app.test/", "en")
    changed = requests.post(
        portal,
        data={
            "action": "card",
            "card": "4000 0000 0000 0341",
            "exp_month": "1",
            "exp_year": "2030",
        },
        timeout=5,
    )
    assert changed.ok
    assert billing.subscription(subscription_id).card == Card(
        Processor.STRIPE, "visa", "0341", 1, 2030
    )

    invoice_id = fake.renew(subscription_id)["invoice"]["id"]
    failed = billing.invoice(invoice_id)
    assert failed.invoice.status is InvoiceStatus.OPEN
    assert (failed.invoice.attempt_count, failed.subscription_id, failed.customer_id) == (
        1,
        subscription_id,
        customer,
    )
    assert failed.invoice.workspace_id == WORKSPACE
    assert failed.invoice.next_attempt_at is not None
    assert failed.invoice.next_attempt_at > datetime.now(UTC) + timedelta(days=2)
    assert failed.invoice.amount_due == Money(2 * PRO.seat_price[Period.MONTH], "usd")
    assert failed.invoice.hosted_url == f"{fake.url}/invoice/{invoice_id}"
    assert billing.subscription(subscription_id).status == "past_due"

    fake.retry_invoice(invoice_id, final=True)
    final = billing.invoice(invoice_id).invoice
    assert (final.status, final.attempt_count, final.next_attempt_at) == (
        InvoiceStatus.OPEN,
        2,
        None,
    )

    billing.mark_paid_out_of_band(invoice_id, idempotency_key=f"{invoice_id}:oob")
    billing.mark_paid_out_of_band(invoice_id, idempotency_key=f"{invoice_id}:oob:again")
    paid = billing.invoice(invoice_id).invoice
    assert (paid.status, paid.paid_by, paid.payment_ref) == (InvoiceStatus.PAID, None, None)
    assert paid.amount_paid == paid.amount_due and paid.paid_at is not None
    assert billing.subscription(subscription_id).status == "active"


def test_marking_an_invoice_stripe_collected_meanwhile_is_refused(fake, billing):
    _, subscription_id = subscribed(fake, billing)
    invoice_id = fake.renew(subscription_id, outcome="fail")["invoice"]["id"]
    fake.retry_invoice(invoice_id, outcome="succeed")
    with pytest.raises(ProcessorRefused) as refused:
        billing.mark_paid_out_of_band(invoice_id, idempotency_key=f"{invoice_id}:oob")
    assert refused.value.code == "invoice_paid"


def test_refunds_take_partial_amounts_and_never_more_than_was_paid(fake, billing):
    _, subscription_id = subscribed(fake, billing, seats=2)
    latest = billing.latest_paid_invoice(subscription_id)
    assert latest is not None and latest.invoice.paid_by is Processor.STRIPE
    paid, payment = latest.invoice.amount_paid, latest.invoice.payment_ref
    assert paid == Money(9_800, "usd") and payment and payment.startswith("pi_")

    first = billing.refund(payment, Money(1_000, "usd"), idempotency_key="refund:1")
    replayed = billing.refund(payment, Money(1_000, "usd"), idempotency_key="refund:1")
    second = billing.refund(payment, Money(2_500, "usd"), idempotency_key="refund:2")
    assert first == replayed != second
    refreshed = billing.invoice(latest.invoice.id).invoice
    assert refreshed.amount_refunded == Money(3_500, "usd")

    with pytest.raises(ProcessorRefused) as refused:
        billing.refund(payment, Money(6_301, "usd"), idempotency_key="refund:3")
    assert refused.value.code == "amount_too_large"
    billing.refund(payment, Money(6_300, "usd"), idempotency_key="refund:4")
    with pytest.raises(ProcessorRefused) as refused:
        billing.refund(payment, Money(1, "usd"), idempotency_key="refund:5")
    assert refused.value.code == "charge_already_refunded"
    assert billing.invoice(latest.invoice.id).invoice.amount_refunded == paid


# -- idempotency and shapes -------------------------------------------------------------------


def test_creates_with_the_same_idempotency_key_make_one_object(fake, billing):
    one = billing.create_customer(WORKSPACE, "ann@acme.test", "Acme", idempotency_key="c:1")
    two = billing.create_customer(WORKSPACE, "ann@acme.test", "Acme", idempotency_key="c:1")
    assert one == two and len(fake._all("customer")) == 1
    _, first = checkout(billing)
    _, second = checkout(billing)
    assert first == second and len(fake._all("checkout.session")) == 1

    with pytest.raises(ProcessorRefused) as refused:
        billing.create_customer(WORKSPACE, "bob@acme.test", "Acme", idempotency_key="c:1")
    assert refused.value.code == "idempotency"


def test_a_create_retried_after_a_server_error_makes_one_customer(fake, billing):
    fake.fail_next(500)
    billing.create_customer(WORKSPACE, "ann@acme.test", "Acme", idempotency_key="c:retried")
    assert len(fake.calls("/v1/customers", "POST")) == 2
    assert len(fake._all("customer")) == 1


def test_older_and_newer_api_shapes_read_the_same(fake, billing):
    _, subscription_id = subscribed(fake, billing)
    invoice_id = fake.renew(subscription_id, outcome="fail")["invoice"]["id"]
    newer = billing.subscription(subscription_id)
    newer_invoice = billing.invoice(invoice_id)

    subscription = fake.objects[subscription_id]
    item = subscription["items"]["data"][0]
    del item["current_period_start"], item["current_period_end"]  # before 2025-03-31
    invoice = fake.objects[invoice_id]
    invoice["parent"] = None
    invoice["subscription_details"] = {"metadata": {"workspace_id": WORKSPACE}}
    older = billing.subscription(subscription_id)
    older_invoice = billing.invoice(invoice_id)

    assert (older.current_period_start, older.current_period_end) == (
        newer.current_period_start,
        newer.current_period_end,
    )
    assert older_invoice.subscription_id == newer_invoice.subscription_id == subscription_id
    assert older_invoice.invoice.workspace_id == WORKSPACE

    subscription.pop("current_period_start")  # the newest: on items only
    item.update(current_period_start=1_800_000_000, current_period_end=1_802_592_000)
    invoice["parent"] = {"subscription_details": {"subscription": subscription_id}}
    del invoice["subscription"]
    newest = billing.subscription(subscription_id)
    assert newest.current_period_start == datetime.fromtimestamp(1_800_000_000, UTC)
    assert billing.invoice(invoice_id).subscription_id == subscription_id


# -- webhooks ---------------------------------------------------------------------------------


def _event_body(object_id: str = "sub_1Test") -> bytes:
    event = {
        "id": "evt_1Test",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": 1_790_000_000,
        "data": {"object": {"id": object_id, "object": "subscription"}},
    }
    return json.dumps(event).encode()


def _header(fake: FakeStripe, body: bytes, offset: int = 0, secret: str = WEBHOOK_SECRET) -> str:
    return fake.signature_header(body, timestamp=fake.now() + offset, secret=secret)


def test_webhook_signatures_are_checked_on_the_raw_body(fake, billing):
    body = _event_body()
    good = _header(fake, body)
    moment = fake.now()
    rotated = (
        f"t={moment},v1={sign(body, moment, 'whsec_old')},v1={sign(body, moment, WEBHOOK_SECRET)}"
    )
    cases: list[tuple[str, bytes, str, bool]] = [
        ("valid", body, good, True),
        ("rotated secret: two v1, one valid", body, rotated, True),
        ("signed 290 s ago", body, _header(fake, body, offset=-290), True),
        ("a space added to the body", body + b" ", good, False),
        ("forged body", body.replace(b"sub_1Test", b"sub_1Evil"), good, False),
        ("wrong secret", body, _header(fake, body, secret="whsec_wrong"), False),
        ("stale timestamp", body, _header(fake, body, offset=-301), False),
        ("far future timestamp", body, _header(fake, body, offset=+400), False),
        ("missing header", body, "", False),
        ("no v1 signature", body, f"t={moment},v0={sign(body, moment, WEBHOOK_SECRET)}", False),
        ("garbage header", body, "t=abc,v1=zz", False),
        ("not an event", b'{"object": "charge"}', _header(fake, b'{"object": "charge"}'), False),
        ("not JSON", b"\xff\xfe", _header(fake, b"\xff\xfe"), False),
        ("no object id", _event_body(""), _header(fake, _event_body("")), False),
    ]
    for name, raw, header, accepted in cases:
        try:
            event = billing.verify_webhook(raw, header)
        except WebhookRejected:
            assert not accepted, name
        else:
            assert accepted, name
            assert (event.processor, event.id, event.type, event.object_id) == (
                Processor.STRIPE,
                "evt_1Test",
                "customer.subscription.updated",
                "sub_1Test",
            ), name
            assert event.created == datetime.fromtimestamp(1_790_000_000, UTC), name


def test_every_change_makes_signed_events_about_the_objects_it_changed(fake, billing):
    _, subscription_id = subscribed(fake, billing)
    invoice_id = fake.renew(subscription_id, outcome="fail")["invoice"]["id"]
    made = fake.events()

    kinds = [(e.type, e.object_id) for e in made]
    completed = [o for t, o in kinds if t == "checkout.session.completed"]
    assert len(completed) == 1 and completed[0].startswith("cs_")
    assert ("customer.subscription.created", subscription_id) in kinds
    assert ("invoice.payment_failed", invoice_id) in kinds
    assert kinds[-1] == ("customer.subscription.updated", subscription_id)
    for sent in made:
        event = billing.verify_webhook(sent.body, sent.headers["Stripe-Signature"])
        assert (event.id, event.type, event.object_id) == (sent.id, sent.type, sent.object_id)
    assert made[-1].payload["data"]["previous_attributes"] == {"status": "active"}

    fake.set_clock_offset(-400)  # the stand-in's clock runs late: its signatures are stale
    invoice_id = fake.renew(subscription_id, outcome="succeed")["invoice"]["id"]
    fake.set_clock_offset(0)
    late = fake.events("invoice.paid")[-1]
    with pytest.raises(WebhookRejected):
        billing.verify_webhook(late.body, late.headers["Stripe-Signature"])


class _Receiver:
    """A local webhook endpoint answering the scripted statuses, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[bytes, str]] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/v1/webhooks/stripe"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.received.append((request.get_data(), request.headers.get("Stripe-Signature", "")))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("", status=status)(environ, start_response)


def test_events_are_delivered_signed_and_retried_until_accepted():
    receiver = _Receiver([500])
    fake = FakeStripe(webhook_url=receiver.url, retry_delays=(0.05, 0.05)).start()
    try:
        billing = StripeBilling(fake.url, lambda: SECRET_KEY, lambda: WEBHOOK_SECRET)
        subscribed(fake, billing)
        assert fake.wait_for_deliveries(timeout=5)
        first = fake.events()[0]
        assert fake.deliver(first.id) == 200  # a replay: the same body and signature again
        assert receiver.received[-1] == (first.body, first.headers["Stripe-Signature"])
    finally:
        fake.stop()
        receiver.stop()
    made = fake.events()
    assert made[0].deliveries == [500, 200, 200]
    assert all(e.deliveries[-1] == 200 for e in made)
    assert len(receiver.received) == len(made) + 2
    for raw, header in receiver.received:
        assert billing.verify_webhook(raw, header).id in {e.id for e in made}


# -- outages ----------------------------------------------------------------------------------


def test_an_unreachable_or_failing_stripe_is_worth_retrying(fake, billing):
    stopped = FakeStripe().start()
    stopped.stop()
    cases = [
        (
            "stand-in stopped",
            StripeBilling(stopped.url, lambda: SECRET_KEY, lambda: WEBHOOK_SECRET),
        ),
        ("5xx on every try", billing),
        ("a refused API key", StripeBilling(fake.url, lambda: "sk_test_wrong", lambda: "")),
    ]
    for name, adapter in cases:
        if name == "5xx on every try":
            fake.fail_next(500, times=3)
        with pytest.raises(ProcessorUnavailable):
            adapter.create_customer(WORKSPACE, "ann@acme.test", "Acme", idempotency_key=name)
        assert not fake._all("customer"), name


def test_an_unknown_subscription_is_refused_not_retried(billing):
    with pytest.raises(ProcessorRefused) as refused:
        billing.subscription("sub_1Unknown")
    assert refused.value.code == "resource_missing"
    assert re.search("No such subscription", str(refused.value))
