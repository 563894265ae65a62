"""Mailbox settings: acknowledgement auto-reply, forwarding addresses, held mail, loops."""

import json

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"


@pytest.fixture()
def owner(api):
    body = api.sign_up()
    drain_mail_queue()
    return body


@pytest.fixture()
def mail_in(api, owner, clean_aws):
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]

    def deliver(**fields):
        fields.setdefault("recipient", owner["workspace"]["inbound_address"])
        fields.setdefault("sender", CUSTOMER)
        body, content_type = inbound_form(**fields)
        response = api.client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        assert response.status_code == 200
        while pump.poll_queue(worker).received:
            pass

    return deliver


def _tickets(api, owner):
    return api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]


def test_a_new_ticket_is_acknowledged_by_mail_once(api, owner, mail_in):
    mail_in(
        subject="Where is my parcel?",
        message_id="<q1@customer.test>",
        from_header="Carla <carla@customer.test>",
    )
    [ack] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    [ticket] = _tickets(api, owner)
    assert ack["to"] == [CUSTOMER]
    assert ack["subject"] == "[#1] We received your request"
    assert '"Where is my parcel?"' in ack["text"] and "Hello Carla" in ack["text"]
    assert ack["headers"]["Auto-Submitted"] == "auto-replied"
    assert ack["headers"]["In-Reply-To"] == "<q1@customer.test>"
    assert (
        ack["reply_to"].lower().startswith(f"{owner['workspace']['slug']}+t-{ticket['id'].lower()}")
    )
    mail_in(subject="Re: Where is my parcel?", in_reply_to="<q1@customer.test>")
    assert drain_mail_queue() == []  # replies on the ticket are not acknowledged again


def test_acknowledgement_can_be_reworded_or_turned_off(api, owner, mail_in):
    status, settings, _ = api.request(
        "PUT",
        "/v1/mail/settings",
        {
            "acknowledgement": {
                "subject": "Ticket {{ticket.number}} opened",
                "body": "Hi {{requester.name}}!",
            }
        },
        token=owner["token"],
    )
    assert status == 200 and settings["acknowledgement"]["subject"].startswith("Ticket")
    mail_in(subject="One", from_header="Carla <carla@customer.test>")
    [ack] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert (ack["subject"], ack["text"]) == ("Ticket 1 opened", "Hi Carla!")
    api.request(
        "PUT", "/v1/mail/settings", {"acknowledgement": {"enabled": False}}, token=owner["token"]
    )
    mail_in(subject="Two", sender="dan@customer.test")
    assert drain_mail_queue() == []


def test_a_new_customer_too_terse_to_tell_is_acknowledged_in_the_workspace_language(
    api, owner, mail_in
):
    api.request("PATCH", "/v1/workspace", {"locale": "fr"}, token=owner["token"])
    mail_in(subject="Colis", body_plain="?")
    [ack] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert ack["subject"] == "[#1] Nous avons bien reçu votre demande"


def test_unknown_placeholders_and_bad_values_are_refused(api, owner):
    status, body, _ = api.request(
        "PUT",
        "/v1/mail/settings",
        {"acknowledgement": {"body": "Hi {{requester.shoe_size}}"}},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (422, "unknown_placeholder")
    status, body, _ = api.request(
        "PUT", "/v1/mail/settings", {"sender_rate_per_hour": 0}, token=owner["token"]
    )
    assert status == 422
    settings = api.request("GET", "/v1/mail/settings", token=owner["token"])[1]
    assert settings["acknowledgement"]["body"] is None and settings["sender_rate_per_hour"] == 20


def _confirmed_address(api, owner, address):
    """Adds a forwarding address and confirms it with the code mailed to it."""
    status, added, _ = api.request(
        "POST", "/v1/mail/addresses", {"address": address}, token=owner["token"]
    )
    assert (status, added["status"]) == (201, "pending")
    [mail] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["to"] == [address.lower()]
    ]
    code = next(line.rpartition(": ")[2] for line in mail["text"].splitlines() if "code:" in line)
    path = f"/v1/mail/addresses/{address.lower().replace('@', '%40')}/confirm"
    return api.request("POST", path, {"code": code}, token=owner["token"])


def test_mail_to_a_confirmed_forwarding_address_lands_in_the_inbox(api, owner, mail_in):
    status, confirmed, _ = _confirmed_address(api, owner, "Support@Acme.test")
    assert (status, confirmed["status"]) == (200, "confirmed")
    settings = api.request("GET", "/v1/mail/settings", token=owner["token"])[1]
    assert settings["forwarding_addresses"] == ["support@acme.test"]
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    drain_mail_queue()
    status, body, _ = _confirmed_address(api, other, "support@acme.test")
    assert (status, body["error"]["code"]) == (409, "address_taken")
    mail_in(recipient="support@acme.test", subject="Via our own domain")
    assert [t["subject"] for t in _tickets(api, owner)] == ["Via our own domain"]
    assert (
        api.request("DELETE", "/v1/mail/addresses/support%40acme.test", token=owner["token"])[0]
        == 204
    )
    mail_in(recipient="support@acme.test", subject="After removal")
    assert len(_tickets(api, owner)) == 1


def test_settings_changed_at_the_same_time_keep_every_change(api, owner):
    """Admins confirming addresses while others reword the acknowledgement: no change is
    lost.  (Run on the domain functions: the framework's test client is not safe across
    threads for different routes.)"""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib import bootstrap
    from chalicelib.accounts.sessions import authenticate
    from chalicelib.tickets import forwarding, mailbox_admin

    deps = bootstrap.ticket_deps()
    principal = authenticate(bootstrap.account_deps(), f"Bearer {owner['token']}", None)
    for n in (1, 3, 5, 7):
        forwarding.request_address(deps, principal, f"team{n}@acme.test")
    codes = {
        json.loads(m["Body"])["to"][0]: next(
            line.rpartition(": ")[2]
            for line in json.loads(m["Body"])["text"].splitlines()
            if "code:" in line
        )
        for m in drain_mail_queue()
    }

    def change(n):
        if n % 2:
            address = f"team{n}@acme.test"
            forwarding.confirm_with_code(deps, principal, address, codes[address])
        else:
            mailbox_admin.update_settings(
                deps,
                principal,
                ack_enabled=None,
                ack_subject=f"Thanks #{n} {{{{ticket.number}}}}",
                ack_body=None,
                clear_subject=False,
                clear_body=False,
                sender_rate_per_hour=None,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(change, range(8)))
    settings = api.request("GET", "/v1/mail/settings", token=owner["token"])[1]
    assert sorted(settings["forwarding_addresses"]) == [f"team{n}@acme.test" for n in (1, 3, 5, 7)]
    for n in (1, 3, 5, 7):  # every claimed address is in the list, and can be removed
        path = f"/v1/mail/addresses/team{n}%40acme.test"
        assert api.request("DELETE", path, token=owner["token"])[0] == 204


def test_a_flood_from_one_sender_is_held_back_and_can_be_released(api, owner, mail_in):
    api.request(
        "PUT",
        "/v1/mail/settings",
        {"sender_rate_per_hour": 2, "acknowledgement": {"enabled": False}},
        token=owner["token"],
    )
    for n in range(4):
        mail_in(subject=f"Spam {n}", message_id=f"<s{n}@customer.test>")
    assert len(_tickets(api, owner)) == 2
    held = api.request("GET", "/v1/mail/held", token=owner["token"])[1]["held"]
    assert sorted(h["subject"] for h in held) == ["Spam 2", "Spam 3"]
    assert {h["reason"] for h in held} == {"sender_rate"}
    status, released, _ = api.request(
        "POST", f"/v1/mail/held/{held[0]['id']}/release", token=owner["token"]
    )
    assert status == 200 and released["ticket_id"]
    assert len(_tickets(api, owner)) == 3
    assert api.request("DELETE", f"/v1/mail/held/{held[1]['id']}", token=owner["token"])[0] == 204
    assert api.request("GET", "/v1/mail/held", token=owner["token"])[1]["held"] == []


def test_mail_from_our_own_addresses_never_loops_into_a_ticket(api, owner, mail_in):
    mail_in(sender="acme-support@in.helptal.test", subject="Loop")
    mail_in(sender="noreply@mg.helptal.test", subject="Loop 2")
    assert _tickets(api, owner) == []


def test_mail_for_no_workspace_is_recorded_for_operators(api, owner, mail_in, clean_aws):
    mail_in(recipient="ghost@in.helptal.test", subject="Anyone?")
    assert _tickets(api, owner) == []
    from chalicelib.store.models import UnroutedMailItem

    [recorded] = list(UnroutedMailItem.scan())  # test-only look at the operators' record
    assert (recorded.recipient, recorded.sender) == ("ghost@in.helptal.test", CUSTOMER)


def test_agents_can_read_but_not_change_mailbox_settings(api, owner):
    from tests.integration.conftest import accept_invitation, invite

    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    assert api.request("GET", "/v1/mail/settings", token=agent["token"])[0] == 200
    assert (
        api.request("PUT", "/v1/mail/settings", {"sender_rate_per_hour": 5}, token=agent["token"])[
            0
        ]
        == 403
    )
    assert (
        api.request("POST", "/v1/mail/addresses", {"address": "x@acme.test"}, token=agent["token"])[
            0
        ]
        == 403
    )
