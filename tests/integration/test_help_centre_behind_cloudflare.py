"""A tenant's help-centre domain reaches the API through Cloudflare's edge worker: the API's
own domain is called, and the tenant's domain is named in X-Forwarded-Host, trusted only with
the shared edge secret."""

from __future__ import annotations

import pytest

from chalicelib import bootstrap
from chalicelib.settings import reload_settings

EDGE_SECRET = "edge-secret-for-tests-0123456789"


@pytest.fixture()
def edge_secret(monkeypatch):
    monkeypatch.setenv("HELP_CENTRE_EDGE_SECRET", EDGE_SECRET)
    reload_settings()
    bootstrap.reset()
    yield EDGE_SECRET
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture()
def verified_domain(api, monkeypatch):
    owner = api.sign_up(workspace="Acme Support")
    status, settings, _ = api.request(
        "PUT",
        "/v1/kb/settings",
        {"custom_domain": "help.acme.test", "name": "Acme Help"},
        token=owner["token"],
    )
    assert status == 200
    record = settings["dns_record"]

    class Resolver:
        def txt_records(self, name):
            return [record["value"]] if name == record["name"] else []

    monkeypatch.setattr(bootstrap, "dns_resolver", Resolver)
    status, body, _ = api.request("POST", "/v1/kb/settings/verify-domain", token=owner["token"])
    assert status == 200, body
    return "help.acme.test"


def _home(api, **headers):
    response = api.client.http.get("/", headers={"Accept": "text/html", **headers})
    return response.status_code, response.body.decode()


def test_the_edge_worker_names_the_tenants_domain_and_gets_its_help_centre(
    api, edge_secret, verified_domain
):
    status, html = _home(
        api,
        Host="api.helptal.test",
        **{"X-Forwarded-Host": verified_domain, "X-Helptal-Edge-Secret": edge_secret},
    )

    assert status == 200
    assert "Acme Help" in html
    assert "https://help.acme.test/" in html


def test_a_forwarded_host_without_the_edge_secret_is_ignored(api, edge_secret, verified_domain):
    for secret in ("", "wrong-secret", edge_secret[:-1]):
        status, html = _home(
            api,
            Host="api.helptal.test",
            **{"X-Forwarded-Host": verified_domain, "X-Helptal-Edge-Secret": secret},
        )
        assert status == 404
        assert "Acme Help" not in html


def test_without_an_edge_secret_configured_only_the_host_counts(api, verified_domain):
    status, _ = _home(
        api,
        Host="api.helptal.test",
        **{"X-Forwarded-Host": verified_domain, "X-Helptal-Edge-Secret": ""},
    )
    assert status == 404
    assert _home(api, Host=verified_domain)[0] == 200
