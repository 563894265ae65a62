"""Billing through the API on the emulator, with the real Stripe SDK, TapPay and PayPal
adapters against their local stand-ins: the trial, checkout and its webhooks, forged, stale
and replayed deliveries, the backup card taking over from Stripe's last retry, grace then
read-only (mail still received) then paid again, cancelling now with a refund by days, and
PayPal from approval to refund."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.billing.model import Money
from chalicelib.billing.refunds import prorated_refund
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from fakes.paypal import FakePayPal
from fakes.stripe import FakeStripe
from fakes.tappay import FakeTapPay
from tests.integration.chat_helpers import enable_chat
from tests.integration.chat_helpers import start as start_chat
from tests.integration.conftest import Api, accept_invitation, drain_mail_queue, invite

DECLINING_CARD = "4000000000000341"
CARDHOLDER = {"name": "Ann Owner", "email": "ann@acme.test", "phone": "+886912345678"}


@pytest.fixture(scope="module")
def processors():
    stripe = FakeStripe(deliver=False).start()
    tappay = FakeTapPay().start()
    paypal = FakePayPal().start()
    yield stripe, tappay, paypal
    for fake in (stripe, tappay, paypal):
        fake.stop()


class Billing:
    """The API, the processors' stand-ins and the billing-events worker, for one test."""

    def __init__(self, api: Api, stripe: FakeStripe, tappay: FakeTapPay, paypal: FakePayPal):
        self.api, self.stripe, self.tappay, self.paypal = api, stripe, tappay, paypal
        self.pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
        self._stripe_seen = 0
        self._paypal_seen: set[str] = set()

    def post_stripe(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = self.api.client.http.post(
            "/v1/webhooks/stripe",
            headers={"Content-Type": "application/json", **headers},
            body=body,
        )
        return response.status_code, response.body

    def deliver_stripe(self) -> list[str]:
        """Delivers the Stripe events made since the last call, then runs the worker."""
        events = self.stripe.events()[self._stripe_seen :]
        self._stripe_seen += len(events)
        for event in events:
            status, body = self.post_stripe(event.body, event.headers)
            assert status == 200, (event.type, body)
        self.work()
        return [event.type for event in events]

    def deliver_paypal(self) -> list[str]:
        delivered = []
        for transmission in list(self.paypal.transmissions.values()):
            if transmission.id in self._paypal_seen:
                continue
            self._paypal_seen.add(transmission.id)
            response = self.api.client.http.post(
                "/v1/webhooks/paypal", headers=transmission.headers, body=transmission.body
            )
            assert response.status_code == 200, response.body
            delivered.append(transmission.event_id)
        self.work()
        return delivered

    def work(self) -> None:
        worker = next(q for q in self.pump.queues if q.name == "billing_events_worker")
        while (outcome := self.pump.poll_queue(worker)).received:
            assert outcome.failed == 0, "the billing-events worker failed a record"

    def get(self, token: str) -> dict[str, Any]:
        status, body, _ = self.api.request("GET", "/v1/billing", token=token)
        assert status == 200, body
        return body

    def subscribe(self, token: str, seats: int = 3, period: str = "month") -> dict[str, Any]:
        status, body, _ = self.api.request(
            "POST",
            "/v1/billing/checkout",
            {"plan": "pro", "period": period, "seats": seats, "processor": "stripe"},
            token=token,
        )
        assert status == 201, body
        assert body["url"].startswith(self.stripe.url)
        self.stripe.complete_checkout(body["url"].rsplit("/", 1)[1])
        self.deliver_stripe()
        return self.get(token)

    def subscription_id(self) -> str:
        [subscription] = [o for o in self.stripe.objects.values() if o["object"] == "subscription"]
        return str(subscription["id"])


@pytest.fixture()
def billing(processors, api, monkeypatch):
    stripe, tappay, paypal = processors
    for fake in processors:
        fake.reset()
    paypal.hold(True)  # the API listens on no socket: the test delivers
    for name, value in {
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_SECRET_KEY": str(stripe.secret_key),
        "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "TAPPAY_API_BASE": tappay.url,
        "TAPPAY_PARTNER_KEY": tappay.partner_key,
        "TAPPAY_MERCHANT_ID": tappay.merchant_id,
        "TAPPAY_APP_ID": str(tappay.app_id),
        "TAPPAY_APP_KEY": tappay.app_key,
        "TAPPAY_SDK_URL": f"{tappay.url}/sdk/tpdirect.js",
        "PAYPAL_API_BASE": paypal.url,
        "PAYPAL_CLIENT_ID": paypal.client_id,
        "PAYPAL_CLIENT_SECRET": paypal.client_secret,
        "PAYPAL_WEBHOOK_ID": paypal.webhook_id,
    }.items():
        monkeypatch.setenv(name, value)
    reload_settings()
    bootstrap.reset()
    yield Billing(api, stripe, tappay, paypal)
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


def _owner(api: Api) -> str:
    return str(api.sign_up()["token"])


def test_a_new_workspace_is_on_a_trial_that_owners_and_admins_see_and_agents_do_not(billing):
    api = billing.api
    owner = _owner(api)
    shown = billing.get(owner)
    assert shown["status"] == "trialing" and shown["plan"]["id"] == "pro"
    assert shown["seats"] == {"used": 1, "paid": 25, "limit": 25}
    assert shown["payment_method"] is None and shown["next_charge"] is None
    assert {p["id"] for p in shown["plans"]} == {"starter", "pro"}
    assert shown["tappay"]["sdk_url"].startswith(billing.tappay.url)
    trial_end = datetime.fromisoformat(shown["trial_ends_at"])
    assert timedelta(days=13, hours=23) < trial_end - datetime.now(UTC) <= timedelta(days=14)

    _, admin, _ = accept_invitation(api, invite(api, owner, "adam@acme.test", "admin"), "Adam")
    _, agent, _ = accept_invitation(api, invite(api, owner, "aggie@acme.test", "agent"), "Aggie")
    assert billing.get(admin["token"])["seats"]["used"] == 3
    status, body, _ = api.request(
        "POST",
        "/v1/billing/checkout",
        {"plan": "pro", "period": "month", "seats": 3},
        token=admin["token"],
    )
    assert status == 403, body
    status, body, _ = api.request("GET", "/v1/billing", token=agent["token"])
    assert status == 403, body


def test_checkout_then_stripe_webhooks_make_the_workspace_active_with_its_card_and_invoice(
    billing,
):
    owner = _owner(billing.api)
    shown = billing.subscribe(owner, seats=3, period="year")
    assert shown["status"] == "active" and shown["period"] == "year"
    assert shown["seats"]["paid"] == 3 and shown["processor"] == "stripe"
    assert shown["payment_method"] == {
        "processor": "stripe",
        "brand": "visa",
        "last4": "4242",
        "exp_month": shown["payment_method"]["exp_month"],
        "exp_year": shown["payment_method"]["exp_year"],
    }
    assert shown["next_charge"]["amount"] == {"amount": 3 * 49_000, "currency": "usd"}
    status, page, _ = billing.api.request("GET", "/v1/billing/invoices", token=owner)
    assert status == 200, page
    [invoice] = page["invoices"]
    assert invoice["status"] == "paid" and invoice["paid_by"] == "stripe"
    assert invoice["amount_paid"] == {"amount": 3 * 49_000, "currency": "usd"}
    # More seats: the subscription's quantity changes at Stripe, prorated.
    status, shown, _ = billing.api.request("PUT", "/v1/billing/seats", {"seats": 5}, token=owner)
    assert status == 200 and shown["seats"]["paid"] == 5, shown
    subscription = billing.stripe.objects[billing.subscription_id()]
    assert subscription["items"]["data"][0]["quantity"] == 5
    # Subscribed already: a second checkout is refused, the portal is offered.
    status, body, _ = billing.api.request(
        "POST", "/v1/billing/checkout", {"plan": "pro", "period": "month", "seats": 3}, token=owner
    )
    assert (status, body["error"]["code"]) == (409, "already_subscribed")
    status, body, _ = billing.api.request("POST", "/v1/billing/portal", token=owner)
    assert status == 201 and body["url"].startswith(billing.stripe.url)


def test_forged_stale_and_replayed_stripe_deliveries_change_nothing(billing):
    owner = _owner(billing.api)
    billing.subscribe(owner)
    before = billing.get(owner)
    sub = billing.subscription_id()
    billing.stripe.set_clock_offset(0)
    # An event that would cancel the subscription, if it were believed.
    billing.stripe.renew(sub, "fail")
    [failed] = billing.stripe.events("invoice.payment_failed")[-1:]
    body = failed.body
    good = billing.stripe.signature_header(body)
    now = int(datetime.now(UTC).timestamp())
    cases = {
        "no signature": {},
        "wrong secret": {"Stripe-Signature": billing.stripe.signature_header(body, secret="x")},
        "stale": {"Stripe-Signature": billing.stripe.signature_header(body, timestamp=now - 600)},
        "from the future": {
            "Stripe-Signature": billing.stripe.signature_header(body, timestamp=now + 900)
        },
        "body changed": {"Stripe-Signature": good, "_body": body.replace(b'"id"', b'"iD"', 1)},
    }
    for case, headers in cases.items():
        sent = headers.pop("_body", body)
        status, answer = billing.post_stripe(sent, headers)
        assert status == 400, (case, answer)
    billing.work()
    assert billing.get(owner) == before
    # The genuine delivery acts once; its replay (same event id) is acknowledged, ignored.
    first = billing.post_stripe(body, {"Stripe-Signature": good})
    again = billing.post_stripe(body, {"Stripe-Signature": good})
    assert (first[0], json.loads(first[1])) == (200, {"status": "accepted"})
    assert (again[0], json.loads(again[1])) == (200, {"status": "duplicate"})


def test_stripes_last_failed_retry_is_paid_by_the_backup_card_and_marked_paid_out_of_band(
    billing,
):
    api = billing.api
    owner = _owner(api)
    billing.subscribe(owner)
    prime = billing.tappay.make_prime("4242424242424242")
    status, shown, _ = api.request(
        "POST",
        "/v1/billing/backup-card",
        {"prime": prime, "cardholder": CARDHOLDER},
        token=owner,
    )
    assert status == 200, shown
    assert shown["backup_card"]["processor"] == "tappay"
    assert shown["backup_card"]["last4"] == "4242"

    sub = billing.subscription_id()
    invoice = billing.stripe.renew(sub, "fail")["invoice"]
    billing.deliver_stripe()
    assert billing.get(owner)["status"] == "past_due"
    billing.stripe.retry_invoice(invoice["id"], "fail", final=True)
    billing.deliver_stripe()

    shown = billing.get(owner)
    assert shown["status"] == "active", shown
    [trade] = billing.tappay.trade_records()[-1:]
    assert trade["amount"] == 3 * 4_900
    assert billing.stripe.objects[invoice["id"]]["status"] == "paid"
    assert billing.stripe.objects[invoice["id"]].get("paid_out_of_band") is True
    status, page, _ = api.request("GET", "/v1/billing/invoices", token=owner)
    assert page["invoices"][0]["paid_by"] == "tappay"
    # The owner is told of the failure once, however often Stripe retried (the mail-out
    # worker sends each mail id once), and that the backup card paid.
    ids = {json.loads(m["Body"])["mail_id"] for m in drain_mail_queue()}
    assert len([i for i in ids if f":{invoice['id']}:payment_failed:" in i]) == 1, ids
    assert len([i for i in ids if f":{invoice['id']}:restored:" in i]) == 1, ids


def test_a_declined_backup_card_leads_to_grace_then_read_only_keeping_mail_then_payment_restores(
    billing, deliver_mail
):
    api = billing.api
    signed_up = api.sign_up()
    owner = signed_up["token"]
    chat_key = enable_chat(api, signed_up)["public_key"]
    billing.subscribe(owner)
    billing.stripe.set_card(
        billing.stripe.objects[billing.subscription_id()]["customer"], DECLINING_CARD
    )
    api.request(
        "POST",
        "/v1/billing/backup-card",
        {
            "prime": billing.tappay.make_prime(DECLINING_CARD),
            "cardholder": CARDHOLDER,
        },
        token=owner,
    )
    invoice = billing.stripe.renew(billing.subscription_id())["invoice"]
    billing.stripe.retry_invoice(invoice["id"], final=True)
    billing.deliver_stripe()
    shown = billing.get(owner)
    assert shown["status"] == "grace", shown
    grace_end = datetime.fromisoformat(shown["grace_ends_at"])

    billing.pump.fire("billing-dunning", (grace_end + timedelta(minutes=1)).timestamp())
    shown = billing.get(owner)
    assert shown["status"] == "read_only" and shown["writable"] is False
    status, body, _ = api.request("POST", "/v1/tickets", {"subject": "x"}, token=owner)
    assert (status, body["error"]["code"]) == (402, "plan_limit")
    assert body["error"]["details"]["reason"] == "read_only"
    assert api.request("GET", "/v1/tickets", token=owner)[0] == 200
    # Customers' mail still arrives and is filed while read-only.
    inbound = api.request("GET", "/v1/workspace", token=owner)[1]["inbound_address"]
    deliver_mail(
        inbound_form(
            recipient=inbound,
            sender="cleo@client.test",
            subject="Where is my order?",
            body_plain="It has not arrived.",
        )
    )
    # And so do chats from the site's widget.
    start_chat(api, chat_key, "Is anyone there?")
    status, tickets, _ = api.request("GET", "/v1/tickets", token=owner)
    subjects = {t["subject"] for t in tickets["tickets"]}
    assert {"Where is my order?", "Is anyone there?"} <= subjects, subjects

    # The owner pays the open invoice with a good card: active again.
    billing.stripe.set_card(
        billing.stripe.objects[billing.subscription_id()]["customer"], "4242424242424242"
    )
    billing.stripe.retry_invoice(invoice["id"], "succeed")
    billing.deliver_stripe()
    assert billing.get(owner)["status"] == "active"
    assert api.request("POST", "/v1/tickets", {"subject": "x"}, token=owner)[0] != 402


def test_cancelling_now_refunds_the_unused_days_through_stripe(billing):
    owner = _owner(billing.api)
    billing.subscribe(owner, seats=2, period="year")
    subscription = billing.stripe.objects[billing.subscription_id()]
    start = datetime.fromtimestamp(subscription["items"]["data"][0]["current_period_start"], UTC)
    end = datetime.fromtimestamp(subscription["items"]["data"][0]["current_period_end"], UTC)

    status, body, _ = billing.api.request(
        "POST", "/v1/billing/cancel", {"when": "now", "reason": "too expensive"}, token=owner
    )
    assert status == 200, body
    expected = prorated_refund(Money(2 * 49_000, "usd"), start, end, datetime.now(UTC))
    assert body["refund"] == {
        "amount": {"amount": expected.amount, "currency": "usd"},
        "processor": "stripe",
    }
    [refund] = [o for o in billing.stripe.objects.values() if o["object"] == "refund"]
    assert refund["amount"] == expected.amount
    billing.deliver_stripe()
    shown = billing.get(owner)
    assert shown["status"] == "canceled" and shown["plan"]["id"] == "free"
    # Asked again (say, after a timeout): the same refund is answered, nothing more refunded.
    status, again, _ = billing.api.request(
        "POST", "/v1/billing/cancel", {"when": "now"}, token=owner
    )
    assert (status, again["refund"]) == (200, body["refund"])
    assert len([o for o in billing.stripe.objects.values() if o["object"] == "refund"]) == 1
    status, again, _ = billing.api.request(
        "POST", "/v1/billing/cancel", {"when": "period_end"}, token=owner
    )
    assert (status, again["error"]["code"]) == (409, "no_subscription")


def test_paypal_subscription_from_approval_to_payment_and_a_refund_on_cancel(billing):
    api = billing.api
    owner = _owner(api)
    status, body, _ = api.request(
        "POST",
        "/v1/billing/checkout",
        {"plan": "starter", "period": "month", "seats": 2, "processor": "paypal"},
        token=owner,
    )
    assert status == 201, body
    subscription_id = body["url"].split("token=")[1].split("&")[0]
    back = billing.paypal.approve(subscription_id)
    path = back.split("://", 1)[1].split("/", 1)[1]
    response = api.client.http.get(f"/{path}")
    assert response.status_code == 302, response.body
    assert "paypal=done" in response.headers["Location"]
    billing.deliver_paypal()
    shown = billing.get(owner)
    assert shown["status"] == "active" and shown["processor"] == "paypal", shown
    assert shown["plan"]["id"] == "starter" and shown["seats"]["paid"] == 2
    status, page, _ = api.request("GET", "/v1/billing/invoices", token=owner)
    [invoice] = page["invoices"]
    assert invoice["paid_by"] == "paypal" and invoice["amount_paid"]["amount"] == 2 * 1_900

    status, body, _ = api.request("POST", "/v1/billing/cancel", {"when": "now"}, token=owner)
    assert status == 200, body
    assert body["refund"]["processor"] == "paypal"
    [sale] = billing.paypal.sales_of(subscription_id)
    assert sale.refunded > 0


def test_a_workspace_on_the_free_plan_is_refused_every_gated_route_with_what_would_allow_it(
    billing,
):
    from chalicelib.api.routing import OPERATIONS
    from chalicelib.billing.model import BillingStatus

    api = billing.api
    owner_body = api.sign_up()
    owner, workspace_id = owner_body["token"], owner_body["workspace"]["id"]
    accept_invitation(api, invite(api, owner, "bob@acme.test"))  # the free plan's 2 seats
    store = bootstrap.billing_store()
    account = store.get(workspace_id)
    account.plan_id, account.status, account.seats_paid = "free", BillingStatus.ACTIVE, 2
    account.trial_ends_at = None
    store.save(account)

    gated = [op for op in OPERATIONS if op.gate is not None or op.seats]
    assert len(gated) >= 12
    for op in gated:
        path = op.path.replace("{", "").replace("}", "")
        status, body, _ = api.request(op.method, path, {}, token=owner)
        assert status == 402, (op.method, op.path, body)
        details = body["error"]["details"]
        assert body["error"]["code"] == "plan_limit"
        assert details["allowed_by"], (op.path, details)
    # Turning AI or the chat widget on, or a custom domain: refused the same way.
    for method, path, change in (
        ("PUT", "/v1/workspace/ai", {"enabled": True}),
        ("PUT", "/v1/chat/settings", {"enabled": True}),
        ("PUT", "/v1/kb/settings", {"custom_domain": "help.acme.test"}),
    ):
        status, body, _ = api.request(method, path, change, token=owner)
        assert (status, body["error"]["code"]) == (402, "plan_limit"), (path, body)
        assert {"plan": "pro"} in body["error"]["details"]["allowed_by"]
    # What the plan still allows works: a ticket, reading what exists.
    assert api.request("POST", "/v1/tickets", {"subject": "x"}, token=owner)[0] != 402
    assert api.request("GET", "/v1/booking/event-types", token=owner)[0] == 200
