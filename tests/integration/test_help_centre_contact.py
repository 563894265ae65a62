"""The help centre's contact form: a visitor's message opens a ticket in that workspace."""

import re
from urllib.parse import urlencode

import pytest

HTML_HEADERS = {"Accept": "text/html"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture()
def centre(api, clean_aws):
    return api.sign_up(workspace="Acme Support")


def _form(api, path="/hc/acme-support/en/contact"):
    response = api.client.http.get(path, headers=HTML_HEADERS)
    html = response.body.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    cookie = response.headers["Set-Cookie"].split(";")[0]
    return response, html, token, cookie


def _send(api, token, cookie, path="/hc/acme-support/en/contact", **fields):
    body = {
        "name": "Zoé Client",
        "email": "zoe@client.test",
        "subject": "Invoice missing",
        "message": "I cannot find my March invoice.\n\nThanks!",
        "token": token,
        **fields,
    }
    return api.client.http.post(
        path, headers={**HTML_HEADERS, **FORM, "Cookie": cookie}, body=urlencode(body)
    )


def _tickets(api, owner):
    return api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]


def test_every_page_offers_the_contact_form(api, centre):
    html = api.client.http.get("/hc/acme-support", headers=HTML_HEADERS).body.decode()
    assert "Still need help?" in html
    assert 'href="https://api.helptal.test/hc/acme-support/en/contact"' in html
    french = api.client.http.get("/hc/acme-support?lang=fr", headers=HTML_HEADERS).body.decode()
    assert "Besoin d&#39;aide supplémentaire ?" in french and "/fr/contact" in french


def test_the_contact_form_opens_a_ticket_from_the_visitor(api, centre):
    response, html, token, cookie = _form(api)
    assert response.status_code == 200 and "Contact us" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert "SameSite=Strict" in response.headers["Set-Cookie"]
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    sent = _send(api, token, cookie)
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith("/hc/acme-support/en/contact?sent=1")
    thanks = api.client.http.get("/hc/acme-support/en/contact?sent=1", headers=HTML_HEADERS)
    assert "your message has reached our team" in thanks.body.decode()
    [ticket] = _tickets(api, centre)
    assert ticket["subject"] == "Invoice missing" and ticket["channel"] == "web"
    assert ticket["requester"]["email"] == "zoe@client.test"
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=centre["token"])[1]
    assert "I cannot find my March invoice." in str(detail)


def test_a_form_without_its_cookie_or_from_another_site_opens_nothing(api, centre):
    _, _, token, cookie = _form(api)
    assert _send(api, token, "hc_contact=forged").status_code == 403
    assert _send(api, "forged", cookie).status_code == 403
    forged = api.client.http.post(
        "/hc/acme-support/en/contact",
        headers={**HTML_HEADERS, **FORM, "Cookie": cookie, "Origin": "https://evil.test"},
        body=urlencode(
            {"name": "x", "email": "x@x.test", "subject": "x", "message": "x", "token": token}
        ),
    )
    assert forged.status_code == 403
    assert "This form has expired" in forged.body.decode()
    assert _tickets(api, centre) == []


def test_an_invalid_form_is_shown_again_with_what_was_typed(api, centre):
    _, _, token, cookie = _form(api, "/hc/acme-support/fr/contact")
    response = _send(api, token, cookie, path="/hc/acme-support/fr/contact", email="not-an-email")
    html = response.body.decode()
    assert response.status_code == 422 and "Veuillez vérifier les champs" in html
    assert _tickets(api, centre) == []


def test_a_visitor_sends_at_most_five_messages_an_hour(api, centre):
    _, _, token, cookie = _form(api)
    assert [_send(api, token, cookie).status_code for _ in range(6)] == [303] * 5 + [429]
    assert len(_tickets(api, centre)) == 5


def test_an_unknown_help_centre_has_no_contact_form(api, centre):
    assert api.client.http.get("/hc/nobody/en/contact", headers=HTML_HEADERS).status_code == 404
    response = api.client.http.post(
        "/hc/nobody/en/contact",
        headers={**HTML_HEADERS, **FORM},
        body=urlencode({"name": "x", "email": "x@x.test", "subject": "x", "message": "x"}),
    )
    assert response.status_code == 404


@pytest.fixture()
def turnstile(monkeypatch, centre):
    from chalicelib import bootstrap
    from chalicelib.settings import reload_settings
    from fakes.turnstile import FakeTurnstile

    fake = FakeTurnstile(secret_key="ts-secret").start()
    monkeypatch.setenv("TURNSTILE_SITE_KEY", "ts-site-key")
    monkeypatch.setenv("TURNSTILE_SECRET_KEY", "ts-secret")
    monkeypatch.setenv("TURNSTILE_API_BASE", fake.url)
    reload_settings()
    bootstrap.reset()
    yield fake
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()
    fake.stop()


def test_with_turnstile_configured_the_form_opens_a_ticket_only_for_a_human(api, centre, turnstile):
    response, html, token, cookie = _form(api, "/hc/acme-support/fr/contact")
    assert '<div class="cf-turnstile" data-sitekey="ts-site-key" data-language="fr">' in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src https://challenges.cloudflare.com" in policy
    assert "frame-src https://challenges.cloudflare.com" in policy
    assert "'unsafe-inline'" not in policy
    path = "/hc/acme-support/fr/contact"
    refused = _send(api, token, cookie, path=path)  # no widget token
    assert refused.status_code == 403 and "pas un robot" in refused.body.decode()
    refused = _send(api, token, cookie, path=path, **{"cf-turnstile-response": "bot-token"})
    assert refused.status_code == 403
    assert _tickets(api, centre) == []
    sent = _send(
        api, token, cookie, path=path, **{"cf-turnstile-response": "XXXX.DUMMY.TOKEN.XXXX"}
    )
    assert sent.status_code == 303
    assert [t["subject"] for t in _tickets(api, centre)] == ["Invoice missing"]
    assert turnstile.verifications[-1]["secret"] == "ts-secret"
    # Other pages still load no script.
    home = api.client.http.get("/hc/acme-support", headers=HTML_HEADERS)
    assert "script-src" not in home.headers["Content-Security-Policy"]


def test_without_turnstile_no_page_loads_a_script(api, centre):
    response, html, _, _ = _form(api)
    assert "cf-turnstile" not in html and "<script" not in html
    assert "script-src" not in response.headers["Content-Security-Policy"]


def test_french_pages_say_tu_once_the_workspace_chose_it(api, centre):
    path = "/hc/acme-support/fr/contact"
    assert "Votre nom" in _form(api, path)[1]
    api.request("PATCH", "/v1/workspace", token=centre["token"], body={"formality": "informal"})
    html = _form(api, path)[1]
    assert "Ton nom" in html and "Votre nom" not in html
    assert "Comment pouvons-nous t&#39;aider ?" in html
