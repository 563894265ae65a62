"""Dense retrieval for the knowledge base: only for workspaces whose admin turned AI on, through
the real OpenAI SDK against a local fake; with AI off nothing is sent."""

import json

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.openai import FakeOpenAI


@pytest.fixture()
def fake_openai(httpserver, monkeypatch):
    fake = FakeOpenAI()
    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_handler(fake.handle)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    reload_settings()
    bootstrap.reset()
    yield fake
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture()
def kb(api, clean_aws, fake_openai):
    owner = api.sign_up()
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "search_indexer"]

    def run_events():
        while pump.poll_queue(worker).received:
            pass

    for title, body in [
        ("Resetting a password", "Use the forgotten password link."),
        ("Exporting invoices", "Invoices can be exported as CSV files."),
    ]:
        status, _, _ = api.request(
            "POST",
            "/v1/kb/articles",
            {"title": title, "body": body, "status": "published"},
            token=owner["token"],
        )
        assert status == 201
    run_events()
    return owner, run_events


def _search(api, token, query):
    return api.request("GET", f"/v1/kb/search?q={query}", token=token)[1]["hits"]


def test_with_ai_off_no_content_reaches_the_provider(api, kb, fake_openai):
    owner, _ = kb
    assert api.request("GET", "/v1/workspace/ai", token=owner["token"])[1]["enabled"] is False
    assert [h["title"] for h in _search(api, owner["token"], "password")] == [
        "Resetting a password"
    ]
    api.client.http.get("/hc/acme-support/api/search?q=invoices")
    assert fake_openai.requests == []


def test_turning_ai_on_embeds_articles_and_queries(api, kb, fake_openai):
    owner, run_events = kb
    status, settings, _ = api.request(
        "PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"]
    )
    assert status == 200 and settings["enabled"] is True
    assert settings["changes"][0]["actor"] == f"user:{owner['user']['id']}"
    assert settings["changes"][0]["changed"] == ["enabled"]
    run_events()  # the index is rebuilt with vectors
    assert any("forgotten password link" in text for text in fake_openai.embedded_texts)
    assert fake_openai.requests[0]["authorization"] == "Bearer sk-test"
    asked = len(fake_openai.requests)
    hits = _search(api, owner["token"], "csv export")
    assert hits[0]["title"] == "Exporting invoices"
    assert len(fake_openai.requests) == asked + 1
    assert fake_openai.requests[-1]["body"]["input"] == ["csv export"]
    assert fake_openai.requests[-1]["body"]["model"] == "text-embedding-3-small"


def test_a_provider_failure_falls_back_to_words(api, kb, fake_openai):
    owner, run_events = kb
    api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"])
    run_events()
    fake_openai.fail_with = 500
    hits = _search(api, owner["token"], "password")
    assert [h["title"] for h in hits] == ["Resetting a password"]


def test_turning_ai_off_stops_every_call(api, kb, fake_openai):
    owner, run_events = kb
    api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"])
    run_events()
    api.request("PUT", "/v1/workspace/ai", {"enabled": False}, token=owner["token"])
    run_events()
    asked = len(fake_openai.requests)
    _search(api, owner["token"], "password")
    assert len(fake_openai.requests) == asked
    changes = api.request("GET", "/v1/workspace/ai", token=owner["token"])[1]["changes"]
    assert [(c["enabled_before"], c["enabled_after"]) for c in changes] == [
        (True, False),
        (False, True),
    ]


def test_only_owners_and_admins_change_ai_settings(api, kb):
    from tests.integration.conftest import accept_invitation, invite

    owner, _ = kb
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    assert api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=agent["token"])[0] == 403
    status, body, _ = api.request(
        "PUT", "/v1/workspace/ai", {"enabled": "yes"}, token=owner["token"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "enabled"
    assert api.request("GET", "/v1/workspace/ai", token=owner["token"])[1]["enabled"] is False
    assert json.dumps(api.request("GET", "/v1/workspace/ai", token=agent["token"])[1])


def test_embedding_calls_are_in_the_ai_log_and_usage_without_content(api, kb, fake_openai):
    owner, run_events = kb
    api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"])
    run_events()
    _search(api, owner["token"], "csv export")
    calls = api.request("GET", "/v1/workspace/ai/log", token=owner["token"])[1]["calls"]
    assert len(calls) == len(fake_openai.requests) >= 2
    assert {(c["feature"], c["provider"], c["outcome"]) for c in calls} == {
        ("kb_embeddings", "openai", "ok")
    }
    assert all(c["input_tokens"] > 0 for c in calls)
    assert "csv" not in json.dumps(calls) and "password" not in json.dumps(calls)
    usage = api.request("GET", "/v1/workspace/ai/usage", token=owner["token"])[1]
    assert usage["features"][0]["feature"] == "kb_embeddings"
    assert usage["total_calls"] == len(calls)
    fake_openai.fail_with = 500
    _search(api, owner["token"], "password")
    latest = api.request("GET", "/v1/workspace/ai/log", token=owner["token"])[1]["calls"][0]
    assert latest["outcome"] == "provider_unavailable"
