"""Mail in: only a sender SPF or DKIM proved joins a ticket or is acknowledged; a forged From
opens a ticket of its own, marked "sender not verified" and linked to the ticket it cites."""

import json
from email.message import EmailMessage

import pytest

from fakes.mailgun import inbound_form, inbound_mime
from tests.integration.conftest import drain_mail_queue

ALICE = "alice@customer.test"
OWNER = "ann@acme.test"


@pytest.fixture()
def owner(api):
    body = api.sign_up(email=OWNER)
    drain_mail_queue()
    return body


@pytest.fixture()
def deliver(deliver_mail, owner):
    return deliver_mail


def _form(owner, **fields):
    fields.setdefault("recipient", owner["workspace"]["inbound_address"])
    fields.setdefault("sender", ALICE)
    return inbound_form(**fields)


def _tickets(api, owner):
    return api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]


def _detail(api, owner, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=owner["token"])[1]


def _alice_ticket(api, owner, deliver):
    deliver(_form(owner, message_id="<alice-1@customer.test>", subject="My order"))
    drain_mail_queue()
    [ticket] = _tickets(api, owner)
    return ticket


def _our_reply_message_id(api, owner, ticket_id):
    api.request(
        "POST", f"/v1/tickets/{ticket_id}/messages", {"body": "On its way."}, token=owner["token"]
    )
    [queued] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "ticket_reply"
    ]
    return queued["headers"]["Message-Id"]


def test_a_forged_from_citing_a_customers_message_id_opens_an_unverified_linked_ticket(
    api, owner, deliver
):
    alices = _alice_ticket(api, owner, deliver)
    deliver(
        _form(
            owner,
            sender="mallory@evil.test",
            from_header="Alice <alice@customer.test>",
            in_reply_to="<alice-1@customer.test>",
            references="<alice-1@customer.test>",
            subject="Re: My order",
            body_plain="Please send it to my new address instead.",
        )
    )
    assert _detail(api, owner, alices["id"])["message_count"] == 1
    [forged] = [t for t in _tickets(api, owner) if t["id"] != alices["id"]]
    assert forged["sender_verified"] is False
    assert forged["unverified_reply_to"] == alices["id"]
    assert forged["follow_up_of"] is None
    detail = _detail(api, owner, forged["id"])
    assert [(a["action"], a["after"]) for a in detail["activity"]][-1] == (
        "sender_not_verified",
        alices["id"],
    )
    [message] = detail["messages"]
    assert message["sender_verified"] is False
    assert drain_mail_queue() == []  # and no acknowledgement to Alice


def test_a_forged_owner_from_on_our_message_id_is_never_an_agent_reply(api, owner, deliver):
    alices = _alice_ticket(api, owner, deliver)
    our_id = _our_reply_message_id(api, owner, alices["id"])
    deliver(
        _form(
            owner,
            sender="mallory@evil.test",
            from_header=f"Ann Owner <{OWNER}>",
            in_reply_to=our_id,
            references=our_id,
            body_plain="Refund approved, click here.",
        )
    )
    messages = _detail(api, owner, alices["id"])["messages"]
    assert [m["kind"] for m in messages] == ["customer", "reply"]
    [forged] = [t for t in _tickets(api, owner) if t["id"] != alices["id"]]
    assert (forged["sender_verified"], forged["unverified_reply_to"]) == (False, alices["id"])
    [message] = _detail(api, owner, forged["id"])["messages"]
    assert (message["kind"], message["from_member"]) == ("customer", True)


def test_a_members_authenticated_mail_joins_as_a_customer_side_message(api, owner, deliver):
    alices = _alice_ticket(api, owner, deliver)
    our_id = _our_reply_message_id(api, owner, alices["id"])
    deliver(_form(owner, sender=OWNER, in_reply_to=our_id, body_plain="Adding a detail."))
    [ticket] = _tickets(api, owner)
    last = _detail(api, owner, ticket["id"])["messages"][-1]
    assert (last["kind"], last["from_member"], last["sender_verified"]) == (
        "customer",
        True,
        True,
    )
    assert last["author"].startswith("contact:")


def test_a_reply_with_aligned_dkim_threads_though_the_envelope_is_elsewhere(api, owner, deliver):
    alices = _alice_ticket(api, owner, deliver)
    deliver(
        _form(
            owner,
            sender="bounce-42@esp-mailer.test",
            from_header=ALICE,
            dkim="Pass",
            in_reply_to="<alice-1@customer.test>",
        )
    )
    assert [t["id"] for t in _tickets(api, owner)] == [alices["id"]]
    assert _detail(api, owner, alices["id"])["message_count"] == 2


@pytest.mark.parametrize("spf", ["Fail", "SoftFail", "Neutral", "None", None])
def test_a_reply_whose_spf_did_not_pass_does_not_join(api, owner, deliver, spf):
    alices = _alice_ticket(api, owner, deliver)
    deliver(_form(owner, spf=spf, in_reply_to="<alice-1@customer.test>"))
    assert _detail(api, owner, alices["id"])["message_count"] == 1
    assert len(_tickets(api, owner)) == 2


def test_the_signed_reply_address_still_threads_the_requester_without_spf(api, owner, deliver):
    alices = _alice_ticket(api, owner, deliver)
    api.request(
        "POST", f"/v1/tickets/{alices['id']}/messages", {"body": "Hi"}, token=owner["token"]
    )
    [queued] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "ticket_reply"
    ]
    deliver(_form(owner, recipient=queued["reply_to"], spf="Fail", subject="thanks"))
    assert [t["id"] for t in _tickets(api, owner)] == [alices["id"]]
    last = _detail(api, owner, alices["id"])["messages"][-1]
    assert (last["kind"], last["sender_verified"]) == ("customer", False)


def test_a_forged_raw_mime_reply_is_judged_by_the_verdicts_in_its_headers(api, owner, deliver):
    alices = _alice_ticket(api, owner, deliver)
    forged = EmailMessage()
    forged["From"] = "Alice <alice@customer.test>"
    forged["To"] = owner["workspace"]["inbound_address"]
    forged["Subject"] = "Re: My order"
    forged["Message-ID"] = "<forged-1@evil.test>"
    forged["In-Reply-To"] = "<alice-1@customer.test>"
    forged.set_content("Change of address.")
    deliver(
        inbound_mime(
            bytes(forged),
            recipient=owner["workspace"]["inbound_address"],
            sender="mallory@evil.test",
            spf="Pass",
        )
    )
    assert _detail(api, owner, alices["id"])["message_count"] == 1
    genuine = EmailMessage()
    for name in ("From", "To", "Subject", "In-Reply-To"):
        genuine[name] = forged[name]
    genuine["Message-ID"] = "<alice-2@customer.test>"
    genuine.set_content("Really me.")
    deliver(
        inbound_mime(
            bytes(genuine),
            recipient=owner["workspace"]["inbound_address"],
            sender=ALICE,
            spf="Pass",
        )
    )
    assert _detail(api, owner, alices["id"])["message_count"] == 2
