"""The page an invitation e-mail links to."""

import json
import re
from urllib.parse import urlencode

from tests.integration.conftest import PASSWORD, drain_mail_queue, invite

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _get(api, path, **headers):
    return api.client.http.get(path, headers=headers)


def _post(api, path, fields, **headers):
    return api.client.http.post(path, headers={**FORM, **headers}, body=urlencode(fields))


def _invite_in(api, owner_token, email, locale):
    status, body, _ = api.request(
        "POST",
        "/v1/members/invitations",
        {"email": email, "role": "agent", "locale": locale},
        token=owner_token,
    )
    assert status == 201, body
    [mail] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    return re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"]).group(1)


def test_join_page_speaks_the_invitations_language_not_the_browsers(api):
    owner = api.sign_up(workspace="Acme <Support>")
    token = _invite_in(api, owner["token"], "bob@acme.test", "fr")
    page = _get(api, f"/join/{token}", **{"Accept-Language": "en-GB,en;q=0.9"})
    html = page.body.decode()
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in html
    assert "Rejoindre Acme &lt;Support&gt; sur Helptal" in html
    assert "bob@acme.test" in html and "<Support>" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    english = _get(api, f"/join/{token}?lang=en").body.decode()
    assert "Join Acme &lt;Support&gt; on Helptal" in english


def test_join_page_of_a_french_workspace_is_french_for_an_english_browser(api):
    owner = api.sign_up(workspace="Atelier", locale="fr")
    drain_mail_queue()
    token = invite(api, owner["token"], "bob@acme.test")
    page = _get(api, f"/join/{token}", **{"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="fr">' in page.body.decode()
    done = _post(api, f"/join/{token}", {"name": "Bob", "password": PASSWORD})
    assert "Bienvenue chez Atelier" in done.body.decode()


def test_joining_through_the_form_creates_the_account(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    page = _post(api, f"/join/{token}", {"name": "Bob", "password": PASSWORD})
    assert page.status_code == 200
    assert "Welcome to Acme Support" in page.body.decode()
    assert 'href="https://app.helptal.test/login"' in page.body.decode()  # APP_BASE_URL
    status, body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "bob@acme.test", "password": PASSWORD}
    )
    assert status == 200 and body["user"]["name"] == "Bob"
    again = _get(api, f"/join/{token}")
    assert again.status_code == 410
    assert "This invitation was already used." in again.body.decode()


def test_weak_password_is_explained_on_the_form_and_nothing_is_created(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    page = _post(api, f"/join/{token}?lang=fr", {"name": "Bob", "password": "short"})
    html = page.body.decode()
    assert page.status_code == 422
    assert "Le mot de passe doit faire au moins 10 caractères" in html
    assert 'value="Bob"' in html  # what was typed is kept
    assert _get(api, f"/join/{token}").status_code == 200  # still usable


def test_a_common_password_is_refused_on_the_form_in_the_visitors_language(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    page = _post(api, f"/join/{token}?lang=fr", {"name": "Bob", "password": "password12"})
    assert page.status_code == 422
    assert "Ce mot de passe fait partie des plus courants" in page.body.decode()
    page = _post(api, f"/join/{token}?lang=en", {"name": "Bob", "password": " " * 12})
    assert page.status_code == 422
    assert "The password cannot be only spaces." in page.body.decode()
    assert _get(api, f"/join/{token}").status_code == 200  # still usable


def test_missing_name_is_explained(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    page = _post(api, f"/join/{token}", {"name": "  ", "password": PASSWORD})
    assert page.status_code == 422
    assert "Please enter your name." in page.body.decode()


def test_existing_account_is_asked_only_for_its_password(api):
    api.sign_up(workspace="Globex", email="bob@acme.test", name="Bob")
    owner = api.sign_up(workspace="Acme", email="ann@acme.test")
    token = invite(api, owner["token"], "bob@acme.test")
    html = _get(api, f"/join/{token}").body.decode()
    assert 'autocomplete="current-password"' in html and 'id="name"' not in html
    wrong = _post(api, f"/join/{token}", {"name": "-", "password": "not the password"})
    assert wrong.status_code == 401
    assert "That is not the password of this account." in wrong.body.decode()
    assert _post(api, f"/join/{token}", {"name": "-", "password": PASSWORD}).status_code == 200


def test_unknown_or_expired_links_get_a_helpful_page(api, clock):
    assert _get(api, "/join/hti_nope").status_code == 404
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    clock.advance(days=8)
    page = _get(api, f"/join/{token}")
    assert page.status_code == 410
    assert "This invitation has expired." in page.body.decode()


def test_a_form_that_is_not_valid_utf8_is_refused_and_nothing_is_created(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")
    page = api.client.http.post(
        f"/join/{token}", headers=FORM, body=f"name=B%FFob&password={PASSWORD}"
    )
    assert page.status_code == 400
    assert _get(api, f"/join/{token}").status_code == 200  # still usable


def test_join_page_says_vous_unless_the_workspace_chose_tu(api):
    owner = api.sign_up(workspace="Atelier", locale="fr")
    drain_mail_queue()
    token = invite(api, owner["token"], "bob@acme.test")
    assert "Votre nom" in _get(api, f"/join/{token}").body.decode()
    api.request("PATCH", "/v1/workspace", {"formality": "informal"}, token=owner["token"])
    page = _get(api, f"/join/{token}").body.decode()
    assert "Ton nom" in page and "Choisis un mot de passe" in page
    refused = _post(api, f"/join/{token}", {"name": "Bob", "password": "bob@acme.test"})
    assert "ne peut pas être ton adresse e-mail" in refused.body.decode()
