"""The chat's opt-in guarantee: with the workspace's AI off, and separately with AI on but the
chat's AI answers off, the whole chat flow (start, messages, a request for a person, the
agent's reply, feedback, the end with a transcript, the insights) reaches neither AI
provider, while both are configured, and every conversation goes straight to the team."""

from __future__ import annotations

from typing import Any

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI
from tests.integration.chat_helpers import enable_chat, start, visitor


@pytest.fixture()
def providers(httpserver, monkeypatch):
    """Claude and OpenAI configured, both answered by fakes that keep every request."""
    claude, openai = FakeAnthropic(), FakeOpenAI()
    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(claude.handle)
    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_handler(openai.handle)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    reload_settings()
    bootstrap.reset()
    yield httpserver
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _provider_requests(server: Any) -> list[str]:
    return [request.path for request, _ in server.log]


def _workspace(api, pump, email: str) -> dict[str, Any]:
    owner = api.sign_up(workspace=f"Shop {email}", email=email)
    status, article, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {
            "title": "Refunds",
            "body": "Ask for a refund from the Billing page within 30 days of payment.",
            "status": "published",
            "locale": "en",
        },
        token=owner["token"],
    )
    assert status == 201, article
    return owner


def _whole_chat_flow(api, pump, owner: dict[str, Any], key: str) -> None:
    """Two conversations through every visitor request and the agent's reply."""
    token = owner["token"]
    for n, question in enumerate(("How do I get a refund?", "Can I talk to a person?")):
        started = start(
            api,
            key,
            question,
            page_url="https://www.acme.example/help",
            language="en-GB",
            client_id=f"first-{n}",
        )
        conversation = started["conversation"]
        assert conversation["status"] == "new"  # straight to the team, no bot
        path = f"/v1/chat/{key}/conversations/{conversation['id']}"
        vt = started["visitor_token"]
        for i, text in enumerate(("Order 42", "Paid by card")):
            status, body, _ = visitor(
                api, "POST", f"{path}/messages", {"text": text, "client_id": f"m-{n}-{i}"}, vt
            )
            assert status == 201, body
        pump.drain()
        status, news, _ = visitor(
            api, "GET", f"{path}/messages?after={started['cursor']}", None, vt
        )
        assert status == 200, news
        assert [m["author"] for m in news["messages"]] == ["visitor", "visitor"]
        status, body, _ = visitor(api, "POST", f"{path}/handoff", None, vt)
        assert status == 200 and body["status"] == "open", body
        status, reply, _ = api.request(
            "POST",
            f"/v1/tickets/{conversation['id']}/messages",
            {"kind": "reply", "body": "Here to help."},
            token=token,
        )
        assert status == 201, reply
        # Feedback asks the bot about a message of its: there is none, nothing is asked.
        status, body, _ = visitor(
            api, "POST", f"{path}/feedback", {"message_id": reply["id"], "helped": False}, vt
        )
        assert status == 404 and body["error"]["code"] == "message_not_found", body
        status, body, _ = visitor(
            api, "POST", f"{path}/email", {"email": f"vera{n}@example.com"}, vt
        )
        assert status == 200, body
        status, body, _ = visitor(api, "POST", f"{path}/rating", {"rating": "good"}, vt)
        assert status == 200, body
        status, body, _ = visitor(api, "POST", f"{path}/end", {"transcript": True}, vt)
        assert status == 200, body
        pump.drain()
        status, ticket, _ = api.request("GET", f"/v1/tickets/{conversation['id']}", token=token)
        assert status == 200
        kinds = [m["kind"] for m in ticket["messages"]]
        assert "bot" not in kinds and kinds.count("reply") == 1
    status, insights, _ = api.request("GET", "/v1/chat/insights", token=token)
    assert status == 200, insights
    assert insights["conversations"] == 2
    assert insights["bot_answered"] == 0 and insights["unanswered_questions"] == []


def test_with_ai_off_the_whole_chat_flow_sends_nothing_to_any_ai_provider(
    api, pump, providers, fake_mailgun
):
    owner = _workspace(api, pump, "ann@shop.test")
    key = enable_chat(api, owner)["public_key"]
    status, config, _ = visitor(api, "GET", f"/v1/chat/{key}/config")
    assert status == 200 and config["ai_answers"] is False
    _whole_chat_flow(api, pump, owner, key)
    assert _provider_requests(providers) == []
    # The transcripts went out by mail: the flow really ran to its end.
    assert sum("Here to help." in (m.one("text") or "") for m in fake_mailgun.messages) >= 2


def test_with_ai_on_but_the_chat_s_ai_answers_off_the_chat_sends_nothing_to_any_ai_provider(
    api, pump, providers, fake_mailgun
):
    owner = _workspace(api, pump, "olga@shop.test")
    # AI on for the workspace, but none of its automatic ticket features (triage of a new
    # ticket is its own switch): only the chat's switch decides here.
    status, body, _ = api.request(
        "PUT",
        "/v1/workspace/ai",
        {"enabled": True, "features": {"triage": False, "auto_apply_triage": False}},
        token=owner["token"],
    )
    assert status == 200, body
    assert body["features"]["chat_answers"] is True
    key = enable_chat(api, owner, ai_answers=False)["public_key"]
    pump.drain()  # the knowledge base's own indexing (embeddings) happens before the chat
    before = _provider_requests(providers)
    status, config, _ = visitor(api, "GET", f"/v1/chat/{key}/config")
    assert status == 200 and config["ai_answers"] is False
    _whole_chat_flow(api, pump, owner, key)
    assert _provider_requests(providers) == before
