"""Forgot password: a single-use link, valid for an hour, mailed only to an address that has
an account (the answer is the same either way); the new password closes other sessions."""

import json
import re
from urllib.parse import urlencode

from tests.integration.conftest import PASSWORD, drain_mail_queue, take_queued_mail

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HTML = {"Accept": "text/html"}
NEW_PASSWORD = "a brand new passphrase"


def _ask(api, email, **extra):
    return api.request("POST", "/v1/auth/password-reset", {"email": email, **extra})


def _link(email):
    mail = take_queued_mail(email, "password_reset")
    return re.search(r"/account/reset-password/(htl_[\w-]+)", mail["text"]).group(1), mail


def _set(api, link, password=NEW_PASSWORD):
    return api.client.http.post(
        f"/account/reset-password/{link}", headers=FORM, body=urlencode({"password": password})
    )


def _log_in(api, password):
    return api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": password})


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(api):
    api.sign_up()
    known = _ask(api, "Ann@Acme.test")
    unknown = _ask(api, "nobody@acme.test")
    assert known[:2] == unknown[:2] == (202, None)
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert [(m["to"], m["purpose"]) for m in mails] == [(["ann@acme.test"], "password_reset")]


def test_a_new_password_from_the_link_replaces_the_old_and_closes_other_sessions(api):
    owner = api.sign_up()
    other_session = _log_in(api, PASSWORD)[1]["token"]
    _ask(api, "ann@acme.test")
    link, mail = _link("ann@acme.test")
    assert mail["subject"] == "Choose a new Helptal password"
    assert "works once, for one hour" in mail["text"]

    page = api.client.http.get(f"/account/reset-password/{link}", headers=HTML)
    assert page.status_code == 200 and "ann@acme.test" in page.body.decode()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = _set(api, link)
    assert done.status_code == 200 and "Your password is changed" in done.body.decode()

    assert _log_in(api, PASSWORD)[0] == 401
    assert _log_in(api, NEW_PASSWORD)[0] == 200
    for token in (owner["token"], other_session):
        status, body, _ = api.request("GET", "/v1/me", token=token)
        assert (status, body["error"]["code"]) == (401, "invalid_token")
    # Used: the link shows why it cannot be used again, and changes nothing.
    again = _set(api, link, "yet another passphrase")
    assert again.status_code == 404 and "was used already" in again.body.decode()
    assert _log_in(api, NEW_PASSWORD)[0] == 200


def test_a_weak_password_is_refused_on_the_page_and_the_link_keeps_working(api):
    api.sign_up()
    _ask(api, "ann@acme.test")
    link, _ = _link("ann@acme.test")
    weak = _set(api, link, "password")
    assert weak.status_code == 422
    assert "Please check the form" in weak.body.decode()
    assert _log_in(api, PASSWORD)[0] == 200
    assert _set(api, link).status_code == 200


def test_a_reset_link_expires_after_an_hour(api, clock):
    api.sign_up()
    _ask(api, "ann@acme.test")
    link, _ = _link("ann@acme.test")
    clock.advance(minutes=61)
    expired = _set(api, link)
    assert expired.status_code == 410 and "This link has expired" in expired.body.decode()
    assert _log_in(api, PASSWORD)[0] == 200


def test_at_most_three_reset_mails_an_hour_per_address_and_the_answer_never_changes(api):
    api.sign_up()
    for _ in range(5):
        assert _ask(api, "ann@acme.test")[:2] == (202, None)
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert len(mails) == 3


def test_the_reset_mail_and_page_speak_the_language_asked_for(api):
    api.sign_up()
    _ask(api, "ann@acme.test", locale="fr")
    link, mail = _link("ann@acme.test")
    assert mail["subject"] == "Choisissez un nouveau mot de passe Helptal"
    page = api.client.http.get(f"/account/reset-password/{link}", headers=HTML).body.decode()
    assert '<html lang="fr">' in page and "Nouveau mot de passe" in page


def test_a_reset_confirms_the_address_it_reached(api):
    owner = api.sign_up(confirm=False)
    drain_mail_queue()
    _ask(api, "ann@acme.test")
    link, _ = _link("ann@acme.test")
    assert _set(api, link).status_code == 200
    token = _log_in(api, NEW_PASSWORD)[1]["token"]
    me = api.request("GET", "/v1/me", token=token)[1]
    assert me["user"]["email_confirmed"] is True
    # The workspace its owner created still waits for a confirmation link, which the owner
    # can ask for again.
    assert owner["workspace"]["customer_mail_enabled"] is False
    assert me["workspace"]["customer_mail_enabled"] is False
    status, body, _ = api.request("POST", "/v1/auth/email-confirmation/resend", token=token)
    assert status == 202, body


def test_a_confirmation_link_is_not_a_reset_link(api):
    api.sign_up(confirm=False)
    mail = take_queued_mail("ann@acme.test", "email_confirmation")
    link = re.search(r"/account/confirm/(htl_[\w-]+)", mail["text"]).group(1)
    assert _set(api, link).status_code == 404
    assert _log_in(api, PASSWORD)[0] == 200
