"""A reply's life after Send: through Mailgun (fake), then delivery events on the ticket."""

import json

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import event_payload
from tests.integration.conftest import drain_mail_queue


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _send_queued_mail(pump):
    [subscription] = [q for q in pump.queues if q.name == "mail_out_worker"]
    while pump.poll_queue(subscription).received:
        pass


@pytest.fixture()
def replied(api, fake_mailgun, pump):
    owner = api.sign_up()
    drain_mail_queue()
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "carla@customer.test"}, "subject": "Help", "body": "Please"},
        token=owner["token"],
    )
    status, reply, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Here you go."},
        token=owner["token"],
    )
    assert status == 201
    return owner, ticket, reply


def _reply_state(api, owner, ticket):
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    return detail["messages"][-1]


def _event(api, sent, event, **kwargs):
    variables = {k[2:]: v for k, v in sent.fields.items() if k.startswith("v:")}
    payload = event_payload(
        event,
        sent.one("h:Message-Id"),
        sent.all("to")[0],
        extra={"user-variables": variables},
        **kwargs,
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/events",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload),
    )
    return response.status_code, json.loads(response.body), payload


def test_reply_is_sent_with_threading_headers_and_marked_sent(api, fake_mailgun, pump, replied):
    owner, ticket, _ = replied
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    assert sent.one("h:Message-Id").endswith("@mg.helptal.test>")
    assert sent.one("h:Reply-To").startswith("acme-support+t-")
    assert sent.one("from") == '"Ann Owner via Acme Support" <acme-support@in.helptal.test>'
    assert sent.one("v:helptal-ticket-id") == ticket["id"]
    assert _reply_state(api, owner, ticket)["delivery"] == "sent"


def test_delivered_and_bounced_events_show_on_the_reply(api, fake_mailgun, pump, replied):
    owner, ticket, _ = replied
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    status, body, _ = _event(api, sent, "delivered")
    assert (status, body) == (200, {"status": "recorded"})
    assert _reply_state(api, owner, ticket)["delivery"] == "delivered"
    status, body, _ = _event(
        api,
        sent,
        "failed",
        severity="permanent",
        reason="bounce",
        delivery_status_code=550,
        delivery_status_message="No such mailbox",
    )
    assert body == {"status": "recorded"}
    state = _reply_state(api, owner, ticket)
    assert (state["delivery"], state["delivery_detail"]) == ("bounced", "550 No such mailbox")


def test_temporary_failures_and_opens_change_nothing(api, fake_mailgun, pump, replied):
    owner, ticket, _ = replied
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    assert _event(api, sent, "failed", severity="temporary")[1] == {"status": "ignored"}
    assert _event(api, sent, "opened")[1] == {"status": "ignored"}
    assert _reply_state(api, owner, ticket)["delivery"] == "sent"


def test_event_webhooks_are_verified_and_idempotent(api, fake_mailgun, pump, replied):
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    _, _, payload = _event(api, sent, "delivered")
    again = api.client.http.post(
        "/v1/webhooks/mailgun/events",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload),
    )
    assert json.loads(again.body) == {"status": "duplicate"}
    payload["signature"]["signature"] = "0" * 64
    forged = api.client.http.post(
        "/v1/webhooks/mailgun/events",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload),
    )
    assert forged.status_code == 401
    garbage = api.client.http.post(
        "/v1/webhooks/mailgun/events", headers={"Content-Type": "application/json"}, body="{oops"
    )
    assert garbage.status_code == 400


def test_a_permanently_refused_reply_is_marked_failed_on_the_ticket(
    api, fake_mailgun, pump, replied
):
    owner, ticket, _ = replied
    fake_mailgun.fail_next(400, message="to parameter is not a valid address")
    _send_queued_mail(pump)
    assert fake_mailgun.messages == []
    assert _reply_state(api, owner, ticket)["delivery"] == "failed"


def test_an_event_that_could_not_be_recorded_is_accepted_when_mailgun_retries_it(
    api, fake_mailgun, pump, replied, monkeypatch
):
    from chalicelib import bootstrap

    owner, ticket, _ = replied
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    store = bootstrap.ticket_deps().store
    real_update = store.update_message_delivery

    def table_unavailable(*args, **kwargs):
        raise RuntimeError("DynamoDB is unavailable")

    monkeypatch.setattr(store, "update_message_delivery", table_unavailable)
    status, _, payload = _event(api, sent, "delivered")
    assert status == 500
    monkeypatch.setattr(store, "update_message_delivery", real_update)
    retried = api.client.http.post(  # Mailgun retries the very same signed body
        "/v1/webhooks/mailgun/events",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload),
    )
    assert (retried.status_code, json.loads(retried.body)["status"]) == (200, "recorded")
    assert _reply_state(api, owner, ticket)["delivery"] == "delivered"


def test_a_redelivered_send_never_undoes_a_later_delivery_report(api, fake_mailgun, pump, replied):
    from chalicelib import bootstrap
    from chalicelib.tickets.conversation import record_delivery
    from chalicelib.tickets.model import DeliveryStatus

    owner, ticket, reply = replied
    _send_queued_mail(pump)
    [sent] = fake_mailgun.messages
    assert _event(api, sent, "delivered")[0] == 200
    changed = record_delivery(
        bootstrap.ticket_deps(),
        owner["workspace"]["id"],
        ticket["id"],
        reply["id"],
        DeliveryStatus.SENT,
        sending_outcome=True,
    )
    assert changed is False
    assert _reply_state(api, owner, ticket)["delivery"] == "delivered"


def test_a_reply_that_could_not_be_queued_shows_as_failed(api, fake_mailgun, replied, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.errors import ServiceUnavailable

    owner, ticket, _ = replied

    def queue_down(mail):
        raise ServiceUnavailable("The queue is unavailable; try again.", code="queue_unavailable")

    monkeypatch.setattr(bootstrap.ticket_deps().outbox, "enqueue", queue_down)
    status, body, _ = api.request(
        "POST", f"/v1/tickets/{ticket['id']}/messages", {"body": "Again."}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (503, "queue_unavailable")
    last = _reply_state(api, owner, ticket)
    assert (last["text"], last["delivery"]) == ("Again.", "failed")
    assert "send it again" in last["delivery_detail"]
