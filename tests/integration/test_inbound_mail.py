"""Mail in: Mailgun's signed route posts through the webhook, the queue and the worker."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import InboundAttachment, inbound_form, inbound_mime
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"


@pytest.fixture()
def workspace(api):
    owner = api.sign_up()
    drain_mail_queue()
    return owner


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _post(api, body_and_type):
    body, content_type = body_and_type
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    return response.status_code, json.loads(response.body or b"{}")


def _file_queued_mail(pump):
    [subscription] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    outcomes = []
    while True:
        outcome = pump.poll_queue(subscription)
        if not outcome.received:
            return outcomes
        assert outcome.failed == 0, "the inbound worker failed a record"
        outcomes.append(outcome)


def _tickets(api, token):
    return api.request("GET", "/v1/tickets", token=token)[1]["tickets"]


def _detail(api, token, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=token)[1]


def _mail(workspace, **fields):
    fields.setdefault("recipient", workspace["workspace"]["inbound_address"])
    fields.setdefault("sender", CUSTOMER)
    return inbound_form(**fields)


def test_customer_mail_becomes_a_ticket(api, workspace, pump):
    status, body = _post(
        api,
        _mail(
            workspace,
            subject="Where is my order?",
            body_plain="Order 1234 has not arrived.",
            from_header="Carla Customer <carla@customer.test>",
        ),
    )
    assert (status, body) == (200, {"status": "queued"})
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    assert ticket["subject"] == "Where is my order?"
    assert ticket["channel"] == "email"
    assert ticket["requester"] == {
        "id": ticket["requester"]["id"],
        "email": CUSTOMER,
        "name": "Carla Customer",
    }
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    assert message["kind"] == "customer"
    assert message["text"] == "Order 1234 has not arrived."


def test_forged_stale_or_unsigned_posts_are_refused_and_store_nothing(api, workspace, pump):
    forged = _mail(workspace, signing_key="not-the-key")
    assert _post(api, forged)[0] == 401
    stale = _mail(workspace, timestamp=int(time.time()) - 10 * 3600)
    status, body = _post(api, stale)
    assert (status, body["error"]["code"]) == (403, "stale_signature")
    unsigned = (b"recipient=x%40y.test&body-plain=hi", "application/x-www-form-urlencoded")
    assert _post(api, unsigned)[0] == 401
    assert _file_queued_mail(pump) == []
    assert _tickets(api, workspace["token"]) == []


def test_a_replayed_delivery_is_accepted_once(api, workspace, pump):
    delivery = _mail(workspace, token="a" * 50)
    assert _post(api, delivery) == (200, {"status": "queued"})
    assert _post(api, delivery) == (200, {"status": "duplicate"})
    _file_queued_mail(pump)
    assert len(_tickets(api, workspace["token"])) == 1


def test_the_same_mail_delivered_twice_makes_one_ticket(api, workspace, pump):
    for _ in range(2):  # two deliveries (new tokens) of one message
        _post(api, _mail(workspace, message_id="<same-1@customer.test>"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    assert ticket["message_count"] == 1


def test_wrong_content_type_and_malformed_bodies_are_4xx(api, workspace):
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert response.status_code == 415
    status, body = _post(api, (b"--x\r\nbroken", "multipart/form-data; boundary=x"))
    assert (status, body["error"]["code"]) == (400, "malformed_form")


def test_reply_to_our_reply_threads_into_the_ticket_and_shows_only_new_text(api, workspace, pump):
    _post(api, _mail(workspace, subject="Broken", body_plain="It broke."))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Try turning it off."},
        token=workspace["token"],
    )
    [queued] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "ticket_reply"
    ]
    our_id = queued["headers"]["Message-Id"]
    api.request(
        "PATCH", f"/v1/tickets/{ticket['id']}", {"status": "solved"}, token=workspace["token"]
    )
    reply = (
        "That did not help.\n\nOn Tue, 3 Nov 2026 at 10:00, Acme Support "
        "<acme-support@in.helptal.test> wrote:\n> Try turning it off.\n"
    )
    _post(
        api,
        _mail(
            workspace, subject="Re: Broken", body_plain=reply, in_reply_to=our_id, references=our_id
        ),
    )
    _file_queued_mail(pump)
    [same] = _tickets(api, workspace["token"])
    assert same["id"] == ticket["id"]
    detail = _detail(api, workspace["token"], ticket["id"])
    assert detail["status"] == "open"  # a reply to a solved ticket reopens it
    last = detail["messages"][-1]
    assert last["text"] == "That did not help."
    assert "Try turning it off." in last["quoted_text"]


def test_reply_address_threads_even_without_headers(api, workspace, pump):
    _post(api, _mail(workspace, subject="Question"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    api.request(
        "POST", f"/v1/tickets/{ticket['id']}/messages", {"body": "Answer"}, token=workspace["token"]
    )
    [queued] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "ticket_reply"
    ]
    _post(api, _mail(workspace, recipient=queued["reply_to"], subject="thanks"))
    _file_queued_mail(pump)
    assert len(_tickets(api, workspace["token"])) == 1
    assert len(_detail(api, workspace["token"], ticket["id"])["messages"]) == 3


def test_a_forged_reply_address_does_not_reach_the_ticket(api, workspace, pump):
    _post(api, _mail(workspace, subject="Question"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    slug = workspace["workspace"]["slug"]
    forged = f"{slug}+t-{ticket['id'].lower()}-{'0' * 20}@in.helptal.test"
    _post(api, _mail(workspace, recipient=forged))
    _file_queued_mail(pump)
    assert len(_tickets(api, workspace["token"])) == 2


def test_a_stranger_citing_someone_elses_message_id_starts_a_new_ticket(api, workspace, pump):
    _post(api, _mail(workspace, message_id="<original-1@customer.test>"))
    _file_queued_mail(pump)
    _post(
        api,
        _mail(
            workspace,
            sender="mallory@evil.test",
            in_reply_to="<original-1@customer.test>",
            references="<original-1@customer.test>",
        ),
    )
    _file_queued_mail(pump)
    tickets = _tickets(api, workspace["token"])
    assert sorted(t["requester"]["email"] for t in tickets) == [CUSTOMER, "mallory@evil.test"]


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(api, workspace, pump):
    _post(api, _mail(workspace, message_id="<first@customer.test>"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    api.request(
        "PATCH", f"/v1/tickets/{ticket['id']}", {"status": "closed"}, token=workspace["token"]
    )
    _post(api, _mail(workspace, in_reply_to="<first@customer.test>"))
    _file_queued_mail(pump)
    tickets = _tickets(api, workspace["token"])
    assert len(tickets) == 2
    follow_up = next(t for t in tickets if t["id"] != ticket["id"])
    assert follow_up["follow_up_of"] == ticket["id"]


def test_auto_replies_and_bulk_mail_never_become_tickets(api, workspace, pump):
    _post(
        api,
        _mail(
            workspace, subject="Out of office", extra_headers=[("Auto-Submitted", "auto-replied")]
        ),
    )
    _post(
        api,
        _mail(
            workspace,
            subject="Newsletter",
            extra_headers=[("Precedence", "bulk"), ("List-Id", "<news.shop.test>")],
        ),
    )
    _post(api, _mail(workspace, sender="mailer-daemon@mx.test", subject="Undeliverable"))
    _file_queued_mail(pump)
    assert _tickets(api, workspace["token"]) == []


def test_mail_for_no_workspace_is_recorded_not_ticketed(api, workspace, pump):
    status, _ = _post(api, _mail(workspace, recipient="nobody-here@in.helptal.test"))
    assert status == 200
    _file_queued_mail(pump)
    assert _tickets(api, workspace["token"]) == []


def test_html_is_sanitised_and_attachments_are_kept_for_members(api, workspace, pump):
    html = (
        '<p>See <b>photo</b> <img src="cid:photo1"></p><script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a>'
    )
    _post(
        api,
        _mail(
            workspace,
            body_html=html,
            attachments=[
                InboundAttachment("photo.png", "image/png", b"\x89PNG fake", content_id="photo1"),
                InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"),
            ],
        ),
    )
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    assert "<script" not in message["html"] and "javascript:" not in message["html"]
    assert {a["filename"] for a in message["attachments"]} == {"photo.png", "invoice.pdf"}
    photo = next(a for a in message["attachments"] if a["filename"] == "photo.png")
    assert photo["inline"] and photo["url"] in message["html"]
    response = api.client.http.get(
        photo["url"], headers={"Authorization": f"Bearer {workspace['token']}"}
    )
    assert response.status_code == 302
    link = response.headers["Location"]
    assert "X-Amz-Signature" in link and "X-Amz-Expires=300" in link
    import requests

    assert requests.get(link, timeout=10).content == b"\x89PNG fake"
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    response = api.client.http.get(
        photo["url"], headers={"Authorization": f"Bearer {other['token']}"}
    )
    assert response.status_code == 404


def test_raw_mime_posts_are_understood(api, workspace, pump):
    mail = EmailMessage()
    mail["From"] = "Zoé <zoe@client.test>"
    mail["To"] = workspace["workspace"]["inbound_address"]
    mail["Subject"] = "Problème de connexion"
    mail["Message-ID"] = "<mime-1@client.test>"
    mail.set_content("Je n'arrive pas à me connecter.", charset="iso-8859-1")
    status, _ = _post(api, inbound_mime(bytes(mail), recipient=mail["To"]))
    assert status == 200
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    assert ticket["subject"] == "Problème de connexion"
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    assert message["text"] == "Je n'arrive pas à me connecter."


def test_twenty_replies_at_once_all_land_on_the_ticket(api, workspace, pump):
    api.request("PUT", "/v1/mail/settings", {"sender_rate_per_hour": 100}, token=workspace["token"])
    _post(api, _mail(workspace, message_id="<root@customer.test>"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    from chalicelib import bootstrap
    from chalicelib.http_forms import parse_form
    from chalicelib.mail.inbound import parse_mailgun_form
    from chalicelib.tickets.mail_intake import receive_mail

    def deliver(n):
        body, content_type = _mail(
            workspace,
            message_id=f"<reply-{n}@customer.test>",
            in_reply_to="<root@customer.test>",
            body_plain=f"Reply {n}",
        )
        form = parse_form(body, content_type)
        files = {k: (f.filename, f.content_type, f.content) for k, f in form.files.items()}
        return receive_mail(
            bootstrap.ticket_deps(), parse_mailgun_form(form.fields, files), f"inbound/test/{n}"
        ).outcome

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(deliver, range(20)))
    assert outcomes == ["appended"] * 20
    detail = _detail(api, workspace["token"], ticket["id"])
    assert detail["message_count"] == 21
    assert sorted(m["text"] for m in detail["messages"][1:]) == sorted(
        f"Reply {n}" for n in range(20)
    )


def test_an_attachment_over_the_limit_is_left_out_and_said_so(api, workspace, pump, monkeypatch):
    import dataclasses

    from chalicelib import bootstrap

    deps = bootstrap.ticket_deps()
    small = dataclasses.replace(
        deps, policy=dataclasses.replace(deps.policy, max_attachment_bytes=1000)
    )
    monkeypatch.setattr(bootstrap, "ticket_deps", lambda: small)
    _post(
        api,
        _mail(
            workspace,
            attachments=[
                InboundAttachment("small.txt", "text/plain", b"x" * 10),
                InboundAttachment("huge.bin", "application/octet-stream", b"x" * 5000),
            ],
        ),
    )
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    assert [a["filename"] for a in message["attachments"]] == ["small.txt"]
    assert "huge.bin" in message["delivery_detail"]


def test_a_subject_cannot_inject_headers_into_our_reply(api, workspace, pump, fake_mailgun):
    _post(api, _mail(workspace, subject="Hi"))
    _file_queued_mail(pump)
    [ticket] = _tickets(api, workspace["token"])
    api.request(
        "PATCH",
        f"/v1/tickets/{ticket['id']}",
        {"subject": "Hello\r\nBcc: victim@evil.test"},
        token=workspace["token"],
    )
    api.request(
        "POST", f"/v1/tickets/{ticket['id']}/messages", {"body": "ok"}, token=workspace["token"]
    )
    [queued] = [m for m in drain_mail_queue() if json.loads(m["Body"])["purpose"] == "ticket_reply"]
    from chalice.test import Client

    with Client(app, stage_name="test") as client:
        event = client.events.generate_sqs_event(message_bodies=[queued["Body"]])
        client.lambda_.invoke("mail_out_worker", event)
    [sent] = fake_mailgun.messages
    assert "\n" not in sent.one("subject") and "\r" not in sent.one("subject")
    assert sent.all("bcc") == []


@pytest.mark.parametrize(
    "fields",
    [
        {},  # signed, but nothing else
        {"recipient": "acme-support@in.helptal.test"},  # no sender, no body, no headers
        {
            "recipient": "acme-support@in.helptal.test",
            "from": "not an address",
            "message-headers": "[[broken json",
        },
    ],
)
def test_signed_posts_missing_fields_never_fail_the_worker(api, workspace, pump, fields):
    from urllib.parse import urlencode

    from fakes.mailgun import DEFAULT_WEBHOOK_SIGNING_KEY, signature_fields

    body = urlencode({**fields, **signature_fields(DEFAULT_WEBHOOK_SIGNING_KEY)}).encode()
    status, _ = _post(api, (body, "application/x-www-form-urlencoded"))
    assert status == 200
    _file_queued_mail(pump)  # asserts the worker did not fail the record
