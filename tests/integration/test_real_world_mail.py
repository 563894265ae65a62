"""Real-world-shaped messages (tests/fixtures/mail) through the signed raw-MIME webhook and
the worker: what the agent sees on the ticket."""

from pathlib import Path

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_mime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
REPLIES = ["gmail_reply", "outlook_reply", "apple_mail_reply", "gmail_reply_fr"]
MACHINE = ["bounce_report", "out_of_office", "mailing_list"]
QUOTE_MARKERS = ("wrote:", "a écrit", "Original Message", "De :", "From: ", "\n>")


@pytest.fixture()
def owner(api):
    body = api.sign_up()
    api.request(
        "PUT", "/v1/mail/settings", {"acknowledgement": {"enabled": False}}, token=body["token"]
    )
    return body


@pytest.fixture()
def deliver(api, owner, clean_aws):
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]

    def post(name):
        raw = (FIXTURES / f"{name}.eml").read_bytes()
        body, content_type = inbound_mime(raw, recipient=owner["workspace"]["inbound_address"])
        response = api.client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        assert response.status_code == 200, response.body
        while True:
            outcome = pump.poll_queue(worker)
            assert outcome.failed == 0, f"{name} failed in the worker"
            if not outcome.received:
                break
        tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
        if not tickets:
            return None
        return api.request("GET", f"/v1/tickets/{tickets[0]['id']}", token=owner["token"])[1]

    return post


@pytest.mark.parametrize("name", REPLIES)
def test_replies_from_common_mail_clients_show_only_the_new_text(deliver, name):
    ticket = deliver(name)
    [message] = ticket["messages"]
    assert message["text"].strip()
    assert not any(marker in message["text"] for marker in QUOTE_MARKERS), message["text"]
    assert message["quoted_text"]
    assert message["from_address"] == message["from_address"].lower()


@pytest.mark.parametrize("name", MACHINE)
def test_bounces_auto_replies_and_list_mail_make_no_ticket(deliver, name):
    assert deliver(name) is None


def test_japanese_mail_keeps_its_subject_and_sender(deliver):
    ticket = deliver("thunderbird_iso2022jp")
    assert ticket["subject"] == "請求書のPDFについて"
    assert ticket["requester"]["name"] == "山田 太郎"


def test_broken_or_unusual_mail_still_becomes_a_readable_ticket(deliver):
    for name in (
        "bogus_charset",
        "windows1252_invalid_byte",
        "truncated_base64",
        "rfc2231_filenames",
        "forwarded_as_attachment",
        "inline_image_cid",
    ):
        ticket = deliver(name)
        assert ticket is not None, name
        assert all("<script" not in (m["html"] or "") for m in ticket["messages"])


def test_inline_images_and_attachments_are_listed(deliver):
    ticket = deliver("inline_image_cid")
    [message] = ticket["messages"]
    inline = [a for a in message["attachments"] if a["inline"]]
    assert inline and inline[0]["url"] in (message["html"] or "")
