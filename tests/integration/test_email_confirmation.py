"""Sign-up confirms the owner's address: a single-use link in a mail (in the workspace's
language), used by a POST from the page it opens; until then no mail goes to customers."""

import json
import re

from fakes.mailgun import inbound_form
from tests.integration.conftest import confirmation_link, drain_mail_queue, take_queued_mail

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HTML = {"Accept": "text/html"}


def _new_customer_mail(api, owner, deliver_mail, subject="Printer on fire"):
    deliver_mail(
        inbound_form(
            recipient=owner["workspace"]["inbound_address"],
            sender="carla@customer.test",
            from_header="Carla <carla@customer.test>",
            subject=subject,
            body_plain="Hello, my printer is on fire. Please help!",
        )
    )
    queued = [json.loads(m["Body"]) for m in drain_mail_queue()]
    tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    return next(t for t in tickets if t["subject"] == subject), queued


def _confirm(api, link):
    return api.client.http.post(f"/account/confirm/{link}", headers=FORM, body="")


def _resend(api, owner):
    return api.request("POST", "/v1/auth/email-confirmation/resend", token=owner["token"])


def _reply(api, owner, ticket):
    return api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "We are on it."},
        token=owner["token"],
    )


def test_sign_up_mails_a_link_and_mail_to_customers_waits_for_it(api, deliver_mail):
    owner = api.sign_up(confirm=False)
    assert owner["user"]["email_confirmed"] is False
    assert owner["workspace"]["customer_mail_enabled"] is False
    link = confirmation_link("ann@acme.test")

    # Before: the customer's mail opens a ticket, but no acknowledgement goes out, and a
    # reply is refused with a reason the agent can act on; a note is fine.
    ticket, queued = _new_customer_mail(api, owner, deliver_mail)
    assert [m for m in queued if m["purpose"] == "acknowledgement"] == []
    status, body, _ = _reply(api, owner, ticket)
    assert (status, body["error"]["code"]) == (409, "email_not_confirmed")
    note = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Checking", "kind": "note"},
        token=owner["token"],
    )
    assert note[0] == 201

    # Opening the page changes nothing (mail scanners fetch links); its button confirms.
    page = api.client.http.get(f"/account/confirm/{link}", headers=HTML)
    assert page.status_code == 200
    html = page.body.decode()
    assert "ann@acme.test" in html and f'action="/account/confirm/{link}?lang=en"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    me = api.request("GET", "/v1/me", token=owner["token"])[1]
    assert me["user"]["email_confirmed"] is False
    done = _confirm(api, link)
    assert done.status_code == 200 and "Your address is confirmed" in done.body.decode()

    me = api.request("GET", "/v1/me", token=owner["token"])[1]
    assert me["user"]["email_confirmed"] is True
    assert me["workspace"]["customer_mail_enabled"] is True
    assert _reply(api, owner, ticket)[0] == 201
    _, queued = _new_customer_mail(api, owner, deliver_mail, subject="Still on fire")
    assert [m["purpose"] for m in queued].count("acknowledgement") == 1


def test_a_confirmation_link_works_once_and_expires_after_seven_days(api, clock):
    api.sign_up(confirm=False)
    link = confirmation_link("ann@acme.test")
    assert (
        api.client.http.post(f"/account/confirm/{link}", headers=FORM, body="").status_code == 200
    )
    again = api.client.http.post(f"/account/confirm/{link}", headers=FORM, body="")
    assert again.status_code == 404 and "was used already" in again.body.decode()

    api.sign_up(workspace="Late Desk", email="lea@late.test", confirm=False)
    late = confirmation_link("lea@late.test")
    clock.advance(days=7, seconds=1)
    expired = api.client.http.get(f"/account/confirm/{late}", headers=HTML)
    assert expired.status_code == 410 and "This link has expired" in expired.body.decode()
    assert (
        api.client.http.post(f"/account/confirm/{late}", headers=FORM, body="").status_code == 410
    )
    assert api.client.http.get("/account/confirm/htl_not-a-link", headers=HTML).status_code == 404


def test_the_mail_and_its_page_speak_the_workspaces_language(api):
    api.sign_up(workspace="Bureau", email="jeanne@bureau.test", locale="fr", confirm=False)
    mail = take_queued_mail("jeanne@bureau.test", "email_confirmation")
    assert mail["subject"] == "Confirmez votre adresse e-mail pour Helptal"
    assert "clients de Bureau" in mail["text"] and "expire dans 7 jours" in mail["text"]
    assert 'href="https://api.helptal.test/account/confirm/htl_' in mail["html"]
    link = re.search(r"/account/confirm/(htl_[\w-]+)", mail["text"]).group(1)
    page = api.client.http.get(f"/account/confirm/{link}", headers=HTML).body.decode()
    assert '<html lang="fr">' in page and "Confirmer mon adresse" in page
    english = api.client.http.get(f"/account/confirm/{link}?lang=en", headers=HTML).body.decode()
    assert "Confirm my address" in english


def test_the_owner_can_ask_again_three_times_an_hour(api):
    owner = api.sign_up(confirm=False)
    first = confirmation_link("ann@acme.test")
    for _ in range(3):
        status, body, _ = _resend(api, owner)
        assert (status, body) == (202, {"sent_to": "ann@acme.test"})
    status, body, headers = _resend(api, owner)
    assert (status, body["error"]["code"]) == (429, "too_many_mails")
    assert int(headers["Retry-After"]) > 0
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert [m["purpose"] for m in mails] == ["email_confirmation"] * 3
    # Any of the links confirms; then there is nothing left to confirm.
    newest = re.search(r"/account/confirm/(htl_[\w-]+)", mails[-1]["text"]).group(1)
    assert (
        api.client.http.post(f"/account/confirm/{newest}", headers=FORM, body="").status_code == 200
    )
    status, body, _ = api.request(
        "POST", "/v1/auth/email-confirmation/resend", token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "already_confirmed")
    assert (
        api.client.http.post(f"/account/confirm/{first}", headers=FORM, body="").status_code == 200
    )


def test_an_invited_teammate_is_confirmed_by_the_invitation_itself(api):
    from tests.integration.conftest import accept_invitation, invite

    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    status, body, _ = accept_invitation(api, invitation)
    assert status == 200, body
    assert body["user"]["email_confirmed"] is True
