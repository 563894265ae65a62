"""The opt-in guarantee end to end: a workspace that has not turned AI on goes through a
ticket's whole life (mail in, events, reply out, knowledge-base search, help centre, drafts
asked for) while both AI providers are configured, and neither receives a single request."""

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.anthropic import FakeAnthropic
from fakes.mailgun import inbound_form
from fakes.openai import FakeOpenAI
from tests.integration.conftest import drain_mail_queue


@pytest.fixture()
def providers(httpserver, monkeypatch):
    claude, openai = FakeAnthropic(), FakeOpenAI()
    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(claude.handle)
    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_handler(openai.handle)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    reload_settings()
    bootstrap.reset()
    yield claude, openai, httpserver
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


def test_with_ai_off_a_whole_ticket_lifecycle_sends_nothing_to_any_ai_provider(
    api, clean_aws, providers, fake_mailgun
):
    claude, openai, server = providers
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    owner = api.sign_up()
    token = owner["token"]
    assert api.request("GET", "/v1/workspace/ai", token=token)[1]["enabled"] is False
    status, _, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {"title": "Refunds", "body": "Ask from the Billing page.", "status": "published"},
        token=token,
    )
    assert status == 201
    body, content_type = inbound_form(
        recipient=owner["workspace"]["inbound_address"],
        sender="carla@customer.test",
        from_header="Carla <carla@customer.test>",
        subject="Refund please",
        body_plain="I was charged twice, card 4111 1111 1111 1111. Please refund me.",
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200
    pump.drain()  # inbound mail, events (search index, triage check, KB index)
    [ticket] = api.request("GET", "/v1/tickets", token=token)[1]["tickets"]
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=token)[1]
    assert detail["ai"] is None
    drafted = api.request("POST", f"/v1/tickets/{ticket['id']}/drafts", {}, token=token)
    assert (drafted[0], drafted[1]["error"]["code"]) == (409, "ai_disabled")
    summary = api.request("GET", f"/v1/tickets/{ticket['id']}/summary", token=token)
    assert summary[0] == 409
    status, _, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Refund on its way."},
        token=token,
    )
    assert status == 201
    hits = api.request("GET", "/v1/kb/search?q=refund", token=token)[1]["hits"]
    assert [h["title"] for h in hits] == ["Refunds"]
    assert api.client.http.get("/hc/acme-support/api/search?q=refund").status_code == 200
    pump.drain()  # mail out, more events
    assert any("Refund on its way" in (m.one("text") or "") for m in fake_mailgun.messages)
    assert claude.requests == [] and openai.requests == []
    assert [entry for entry in server.log if "/v1/messages" in entry[0].path] == []
    drain_mail_queue()
