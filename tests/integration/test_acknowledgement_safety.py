"""The acknowledgement auto-reply: only to proven senders, without the sender's links, capped
per recipient and per workspace, never again to an address that bounced; loops ignored."""

import json

import pytest

from fakes.mailgun import event_payload, inbound_form, inbound_mime
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"


@pytest.fixture()
def owner(api):
    body = api.sign_up()
    drain_mail_queue()
    return body


@pytest.fixture()
def deliver(deliver_mail, owner):
    return deliver_mail


def _form(owner, **fields):
    fields.setdefault("recipient", owner["workspace"]["inbound_address"])
    fields.setdefault("sender", CUSTOMER)
    return inbound_form(**fields)


def _acks():
    return [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "acknowledgement"
    ]


def _tickets(api, owner):
    return api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]


def test_a_forged_from_gets_a_ticket_but_no_acknowledgement(api, owner, deliver):
    deliver(
        _form(
            owner,
            sender="mallory@evil.test",
            from_header='"your account is locked; log in at http://evil.test/login" '
            "<victim@example.test>",
            subject="Security alert: verify at http://evil.test/login",
        )
    )
    [ticket] = _tickets(api, owner)
    assert ticket["sender_verified"] is False
    assert _acks() == []


def test_the_acknowledgement_repeats_no_link_from_the_senders_name_or_subject(api, owner, deliver):
    deliver(
        _form(
            owner,
            from_header=f'"your account is locked; log in at http://evil.test/login" <{CUSTOMER}>',
            subject="Locked out, see evil.test/login or www.evil.test or https://x.test/a "
            + "and more words " * 10,
        )
    )
    [ack] = _acks()
    for text in (ack["subject"], ack["text"], ack["html"]):
        assert "evil.test" not in text and "http" not in text and "x.test" not in text
    assert "Hello there," in ack["text"]
    assert "your account is locked" not in ack["text"]
    assert '"Locked out, see or or and more words' in ack["text"]
    assert "…" in ack["text"]
    assert ack["headers"]["X-Loop"] == owner["workspace"]["inbound_address"]


def test_acknowledgements_to_one_recipient_are_capped_per_hour(api, owner, deliver):
    for n in range(5):
        deliver(_form(owner, subject=f"Question {n}"))
    assert len(_tickets(api, owner)) == 5
    assert len(_acks()) == 3


def test_acknowledgements_per_workspace_are_capped_per_hour(api, owner, deliver, monkeypatch):
    from chalicelib.tickets import acknowledgements

    monkeypatch.setattr(acknowledgements, "ACKS_PER_WORKSPACE_PER_HOUR", 2)
    for n in range(4):
        deliver(_form(owner, sender=f"customer{n}@customer.test", subject=f"Question {n}"))
    assert sorted(a["to"][0] for a in _acks()) == [
        "customer0@customer.test",
        "customer1@customer.test",
    ]


@pytest.mark.parametrize(
    ("event", "severity", "reason"),
    [("failed", "permanent", "bounce"), ("complained", None, None)],
)
def test_an_address_whose_acknowledgement_bounced_is_not_acknowledged_again(
    api, owner, deliver, event, severity, reason
):
    deliver(_form(owner, subject="First"))
    [ack] = _acks()
    payload = event_payload(
        event,
        "<20261129.1@mg.helptal.test>",
        CUSTOMER,
        severity=severity,
        reason=reason,
        extra={
            "user-variables": {
                "helptal-mail-id": ack["mail_id"],
                "helptal-workspace-id": ack["workspace_id"],
                "helptal-ticket-id": ack["ticket_id"],
            }
        },
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/events",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload),
    )
    assert response.status_code == 200
    deliver(_form(owner, subject="Second"))
    assert len(_tickets(api, owner)) == 2
    assert _acks() == []
    deliver(_form(owner, sender="dora@customer.test", subject="Someone else"))
    assert [a["to"] for a in _acks()] == [["dora@customer.test"]]


def test_x_loop_with_our_address_and_a_null_return_path_are_loops(api, owner, deliver):
    ours = owner["workspace"]["inbound_address"]
    deliver(_form(owner, subject="Looped", extra_headers=[("X-Loop", ours)]))
    raw = (
        f"Return-Path: <>\r\nFrom: {CUSTOMER}\r\nTo: {ours}\r\nSubject: Bounce-ish\r\n"
        "Message-ID: <rp-1@customer.test>\r\n\r\nHello\r\n"
    ).encode()
    deliver(inbound_mime(raw, recipient=ours, sender=CUSTOMER, spf="Pass"))
    assert _tickets(api, owner) == []
    assert _acks() == []
    # Someone else's X-Loop (a list or another helpdesk) is not ours: the mail is ticketed.
    deliver(_form(owner, subject="Other loop", extra_headers=[("X-Loop", "help@other.test")]))
    assert len(_tickets(api, owner)) == 1
