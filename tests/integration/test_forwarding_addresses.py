"""Forwarding addresses are confirmed by the mailbox's owner before they route any mail."""

import dataclasses
import json
from datetime import timedelta

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"
ADDRESS = "support@acme.test"


@pytest.fixture()
def owner(api):
    body = api.sign_up()
    drain_mail_queue()
    return body


@pytest.fixture()
def rival(api, owner):
    body = api.sign_up(workspace="Globex", email="gus@globex.test")
    drain_mail_queue()
    return body


@pytest.fixture()
def mail_in(api, clean_aws):
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]

    def deliver(**fields):
        fields.setdefault("sender", CUSTOMER)
        body, content_type = inbound_form(**fields)
        response = api.client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        assert response.status_code == 200
        while pump.poll_queue(worker).received:
            pass

    return deliver


def _add(api, workspace, address=ADDRESS):
    return api.request("POST", "/v1/mail/addresses", {"address": address}, token=workspace["token"])


def _confirmation_mail(address=ADDRESS):
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    [mail] = [
        m for m in mails if m["purpose"] == "forwarding_confirmation" and m["to"] == [address]
    ]
    return mail


def _code(mail):
    return next(line.rpartition(": ")[2] for line in mail["text"].splitlines() if "code:" in line)


def _confirm(api, workspace, code, address=ADDRESS):
    path = f"/v1/mail/addresses/{address.replace('@', '%40')}/confirm"
    return api.request("POST", path, {"code": code}, token=workspace["token"])


def _forward_back(mail_in, workspace, mail):
    """The mailbox owner's forwarding (Gmail-style: original From and To kept) brings our
    confirmation e-mail to the workspace's inbound address."""
    from chalicelib.settings import get_settings

    mail_in(
        recipient=workspace["workspace"]["inbound_address"],
        sender="support+caf_=acme=in.helptal.test@acme.test",
        from_header=f"Helptal <noreply@{get_settings().mailgun_domain}>",
        subject=mail["subject"],
        body_plain=mail["text"],
        body_html=mail["html"],
        extra_headers=[(name, value) for name, value in mail["headers"].items()]
        + [("To", mail["to"][0])],
    )


def _tickets(api, workspace):
    return api.request("GET", "/v1/tickets", token=workspace["token"])[1]["tickets"]


def _forwarding(api, workspace):
    return api.request("GET", "/v1/mail/settings", token=workspace["token"])[1]["forwarding"]


def test_an_added_address_is_pending_and_routes_nothing_until_confirmed(api, owner, mail_in):
    status, added, _ = _add(api, owner, "Support@Acme.test")
    assert status == 201
    assert (added["address"], added["status"]) == (ADDRESS, "pending")
    assert added["forward_to"] == owner["workspace"]["inbound_address"]
    assert added["expires_at"]
    mail = _confirmation_mail()
    assert owner["workspace"]["name"] in mail["subject"] and ADDRESS in mail["subject"]
    assert owner["workspace"]["inbound_address"] in mail["text"]
    assert mail["reply_to"] is None and mail["from_address"] is None
    mail_in(recipient=ADDRESS, subject="Before confirmation")
    assert _tickets(api, owner) == []
    settings = api.request("GET", "/v1/mail/settings", token=owner["token"])[1]
    assert settings["forwarding_addresses"] == []
    assert [(a["address"], a["status"]) for a in settings["forwarding"]] == [(ADDRESS, "pending")]


def test_the_confirmation_mail_forwarded_back_confirms_the_address(api, owner, mail_in):
    _add(api, owner)
    mail = _confirmation_mail()
    _forward_back(mail_in, owner, mail)
    assert [(a["address"], a["status"]) for a in _forwarding(api, owner)] == [
        (ADDRESS, "confirmed")
    ]
    assert _tickets(api, owner) == []  # the confirmation itself is no ticket
    mail_in(recipient=ADDRESS, subject="Via our own domain")
    assert [t["subject"] for t in _tickets(api, owner)] == ["Via our own domain"]


def test_a_manager_can_confirm_with_the_code_from_the_mail(api, owner, mail_in):
    _add(api, owner)
    code = _code(_confirmation_mail())
    status, confirmed, _ = _confirm(api, owner, code.lower().replace("-", " "))
    assert (status, confirmed["status"]) == (200, "confirmed")
    mail_in(recipient=ADDRESS, subject="Routed")
    assert [t["subject"] for t in _tickets(api, owner)] == ["Routed"]


def test_five_wrong_codes_end_the_claim(api, owner):
    _add(api, owner)
    code = _code(_confirmation_mail())
    for _ in range(4):
        status, body, _ = _confirm(api, owner, "AAAA-AAAA")
        assert (status, body["error"]["code"]) == (422, "wrong_confirmation_code")
    status, body, _ = _confirm(api, owner, "AAAA-AAAA")
    assert (status, body["error"]["code"]) == (422, "confirmation_code_expired")
    status, body, _ = _confirm(api, owner, code)
    assert (status, body["error"]["code"]) == (404, "address_not_pending")
    assert _forwarding(api, owner) == []


def test_another_workspace_cannot_take_an_address_by_claiming_it_first(api, owner, rival, mail_in):
    """A pending claim blocks nobody; the first to confirm takes the address."""
    assert _add(api, rival)[0] == 201
    rival_mail = _confirmation_mail()
    assert _add(api, owner)[0] == 201
    owner_mail = _confirmation_mail()
    assert _code(rival_mail) != _code(owner_mail)
    # The mailbox forwards to the owner: the rival's confirmation lands there, confirms nothing.
    _forward_back(mail_in, owner, rival_mail)
    assert [a["status"] for a in _forwarding(api, rival)] == ["pending"]
    _forward_back(mail_in, owner, owner_mail)
    assert [a["status"] for a in _forwarding(api, owner)] == ["confirmed"]
    status, body, _ = _confirm(api, rival, _code(rival_mail))
    assert (status, body["error"]["code"]) == (409, "address_taken")
    mail_in(recipient=ADDRESS, subject="For Acme")
    assert [t["subject"] for t in _tickets(api, owner)] == ["For Acme"]
    assert _tickets(api, rival) == []


def test_a_code_only_confirms_the_claim_it_was_sent_for(api, owner, rival):
    _add(api, rival)
    rival_code = _code(_confirmation_mail())
    _add(api, owner)
    _confirmation_mail()
    status, body, _ = _confirm(api, owner, rival_code)
    assert (status, body["error"]["code"]) == (422, "wrong_confirmation_code")


def test_a_confirmation_token_in_mail_not_sent_by_us_confirms_nothing(api, owner, mail_in):
    """A person's forward or an auto-reply quoting the mail is not the forwarding itself."""
    _add(api, owner)
    mail = _confirmation_mail()
    mail_in(
        recipient=owner["workspace"]["inbound_address"],
        from_header="Someone <someone@acme.test>",
        subject="Fwd: " + mail["subject"],
        body_plain=mail["text"],
        extra_headers=list(mail["headers"].items()),
    )
    assert [a["status"] for a in _forwarding(api, owner)] == ["pending"]


@pytest.mark.parametrize(
    "address",
    [
        "acme-support@in.helptal.test",
        "Acme-Support+x@IN.helptal.test",
        "noreply@mg.helptal.test",
        "someone+tag@MG.Helptal.Test",
        "x@eu.in.helptal.test",
    ],
)
def test_our_own_addresses_cannot_be_forwarding_addresses(api, owner, address):
    status, body, _ = _add(api, owner, address)
    assert (status, body["error"]["code"]) == (422, "own_domain_address")
    assert drain_mail_queue() == []


def test_adding_a_pending_address_again_resends_at_most_once_a_minute(api, owner):
    _add(api, owner)
    first = _code(_confirmation_mail())
    status, body, _ = _add(api, owner)
    assert (status, body["error"]["code"]) == (429, "confirmation_just_sent")
    assert drain_mail_queue() == []
    from chalicelib import bootstrap

    deps = bootstrap.ticket_deps()
    later = deps.clock.now() + timedelta(minutes=2)
    moved = dataclasses.replace(deps, clock=type("Later", (), {"now": lambda self: later})())
    from unittest import mock

    with mock.patch.object(bootstrap, "ticket_deps", lambda: moved):
        assert _add(api, owner)[0] == 201
    assert _code(_confirmation_mail()) == first


def test_a_pending_claim_expires_after_seven_days(api, owner):
    _add(api, owner)
    code = _code(_confirmation_mail())
    from unittest import mock

    from chalicelib import bootstrap

    deps = bootstrap.ticket_deps()
    later = deps.clock.now() + timedelta(days=7, minutes=1)
    moved = dataclasses.replace(deps, clock=type("Later", (), {"now": lambda self: later})())
    with mock.patch.object(bootstrap, "ticket_deps", lambda: moved):
        status, body, _ = _confirm(api, owner, code)
        assert (status, body["error"]["code"]) == (404, "address_not_pending")
        assert _forwarding(api, owner) == []


def test_a_pending_or_confirmed_address_can_be_removed(api, owner, rival, mail_in):
    _add(api, owner)
    _confirmation_mail()
    path = "/v1/mail/addresses/support%40acme.test"
    assert api.request("DELETE", path, token=owner["token"])[0] == 204
    assert _forwarding(api, owner) == []
    _add(api, owner)
    assert _confirm(api, owner, _code(_confirmation_mail()))[0] == 200
    assert api.request("DELETE", path, token=owner["token"])[0] == 204
    mail_in(recipient=ADDRESS, subject="After removal")
    assert _tickets(api, owner) == []
    _add(api, rival)  # freed: another workspace may now confirm it
    assert _confirm(api, rival, _code(_confirmation_mail()))[0] == 200
    assert api.request("DELETE", path, token=owner["token"])[0] == 404


def test_an_address_confirmed_before_confirmation_existed_keeps_routing(api, owner, mail_in):
    """Lookups written without a status (older data) are confirmed ones."""
    from chalicelib.store import keys
    from chalicelib.store.models import MailAddressLookup, MailboxSettingsItem

    workspace_id = owner["workspace"]["id"]
    MailAddressLookup(
        keys.mail_address_pk("old@acme.test"), keys.LOOKUP_SK, workspace_id=workspace_id
    ).save()
    MailboxSettingsItem(
        keys.workspace_pk(workspace_id),
        keys.MAILBOX_SETTINGS_SK,
        forwarding_addresses=["old@acme.test"],
    ).save()
    mail_in(recipient="old@acme.test", subject="Still routed")
    assert [t["subject"] for t in _tickets(api, owner)] == ["Still routed"]
    assert [(a["address"], a["status"]) for a in _forwarding(api, owner)] == [
        ("old@acme.test", "confirmed")
    ]


def test_the_confirmation_mail_is_in_the_workspace_language(api, owner):
    api.request("PATCH", "/v1/workspace", {"locale": "fr"}, token=owner["token"])
    _add(api, owner)
    mail = _confirmation_mail()
    assert mail["subject"].startswith("Confirmez que Acme Support")
    assert "code de confirmation" in mail["text"]
