"""The answer bot on the emulator: a chat conversation's question answered through the real
AI-jobs worker by the local stand-in model, with a citation that links the article on the help
centre; a redelivered job answers once; the month's chat insights through the API, for the
caller's workspace only."""

from __future__ import annotations

import dataclasses

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.chat.bot import QueuedAnswerBot
from chalicelib.ids import new_id
from chalicelib.settings import get_settings, reload_settings
from chalicelib.tickets.lifecycle import NewTicket, open_ticket
from chalicelib.tickets.model import (
    Channel,
    ChatContext,
    DeliveryStatus,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)
from devstack.pump import EventPump
from fakes.local_model import LocalModel
from tests.integration.conftest import drain_mail_queue


@pytest.fixture()
def stand_in(monkeypatch):
    model = LocalModel().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-local")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model.url)
    reload_settings()
    bootstrap.reset()
    yield model
    model.stop()
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


@pytest.fixture()
def moved(monkeypatch):
    """The bot as bootstrap builds it, with the chat's AI answers on and its widget wake-ups
    recorded."""
    calls: list[tuple[str, str, str]] = []
    built = bootstrap.chat_answer_bot

    def bot() -> QueuedAnswerBot:
        real = built()
        real.deps = dataclasses.replace(
            real.deps,
            chat_ai_answers=lambda ws: True,
            conversation_moved=lambda *c: calls.append(c),
        )
        return real

    monkeypatch.setattr(bootstrap, "chat_answer_bot", bot)
    return calls


def _workspace(api, pump, email, *, ai=True):
    owner = api.sign_up(workspace=f"Shop {email}", email=email)
    drain_mail_queue()
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
    if ai:
        status, _, _ = api.request(
            "PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"]
        )
        assert status == 200
    pump.drain(["search_indexer", "ai_jobs_worker"])
    return owner, article


def _chat(workspace_id: str, text: str) -> tuple[Ticket, Message]:
    deps = bootstrap.ticket_deps()
    first: list[Message] = []

    def message(ticket: Ticket) -> Message:
        first.append(
            Message(
                id=new_id(),
                ticket_id=ticket.id,
                workspace_id=workspace_id,
                kind=MessageKind.CUSTOMER,
                author=f"contact:{ticket.requester_id}",
                from_address=None,
                to=[],
                cc=[],
                subject=ticket.subject,
                text=text,
                html=None,
                quoted_text=None,
                message_id=None,
                in_reply_to=[],
                references=[],
                attachments=[],
                delivery=DeliveryStatus.RECEIVED,
                created_at=ticket.created_at,
                chat=ChatContext(page_url="https://shop.test/", language="en-GB"),
            )
        )
        return first[-1]

    ticket = open_ticket(
        deps,
        workspace_id,
        "system:chat",
        NewTicket(
            requester_email=f"visitor-{new_id().lower()}@anonymous.invalid",
            requester_name="Visitor",
            subject=text[:60],
            channel=Channel.CHAT,
            cc=[],
            tags=[],
        ),
        message,
    )
    bootstrap.chat_answer_bot().on_conversation_started(workspace_id, ticket.created_at)
    return ticket, first[-1]


def _messages(workspace_id, ticket_id, kind):
    found = bootstrap.ticket_deps().store.list_messages(workspace_id, ticket_id, 100)
    return [m for m in found if m.kind is kind]


def test_a_visitor_question_is_answered_with_a_link_to_the_article_on_the_help_centre(
    api, pump, stand_in, moved
):
    owner, article = _workspace(api, pump, "ann@shop.test")
    workspace_id = owner["workspace"]["id"]
    ticket, question = _chat(workspace_id, "How do I get a refund? <script>alert(1)</script>")
    bot = bootstrap.chat_answer_bot()
    bot.on_visitor_message(workspace_id, ticket.id, question.id)
    bot.on_visitor_message(workspace_id, ticket.id, question.id)  # told twice: one job
    pump.drain(["ai_jobs_worker"])
    [answer] = _messages(workspace_id, ticket.id, MessageKind.BOT)
    assert answer.author == "bot" and answer.delivery is DeliveryStatus.SENT
    [citation] = answer.citations
    slug = article["slug"]
    assert citation.article_id == article["id"]
    help_centre = f"{get_settings().public_base_url.rstrip('/')}/hc/{owner['workspace']['slug']}"
    assert citation.url == f"{help_centre}/en/articles/{slug}"
    assert "[1]" in answer.text
    assert moved == [(workspace_id, ticket.id, answer.id)]
    # The visitor's markup reached the model as text (the stand-in quotes the question).
    [stored] = _messages(workspace_id, ticket.id, MessageKind.CUSTOMER)
    assert "<script>alert(1)</script>" in stored.text
    # A redelivered job (its result pending again, as after a crash) answers once.
    from chalicelib.ai.model import AiJob, ResultKind, ResultStatus

    store = bootstrap.ai_store()
    done = store.get_result(workspace_id, ticket.id, ResultKind.CHAT_ANSWER, question.id)
    assert done is not None and done.status is ResultStatus.READY
    store.put_result(dataclasses.replace(done, status=ResultStatus.PENDING))
    bootstrap.ai_job_queue().send(AiJob.for_result(done))
    pump.drain(["ai_jobs_worker"])
    assert len(_messages(workspace_id, ticket.id, MessageKind.BOT)) == 1
    assert bootstrap.ticket_deps().store.get_ticket(workspace_id, ticket.id).status is (
        TicketStatus.NEW
    )


def test_chat_insights_count_the_months_conversations_for_the_callers_workspace_only(
    api, pump, stand_in, moved
):
    owner, _ = _workspace(api, pump, "ann@shop.test")
    other, _ = _workspace(api, pump, "olga@other.test")
    workspace_id = owner["workspace"]["id"]
    bot = bootstrap.chat_answer_bot()
    for text in ("How do I get a refund?", "Do you ship to Mars?", "Can I talk to a person?"):
        ticket, question = _chat(workspace_id, text)
        bot.on_visitor_message(workspace_id, ticket.id, question.id)
    pump.drain(["ai_jobs_worker"])
    status, insights, _ = api.request("GET", "/v1/chat/insights", token=owner["token"])
    assert status == 200, insights
    assert insights["conversations"] == 3
    assert insights["bot_answered"] == 1 and insights["resolved_by_bot"] == 1
    assert insights["handoffs"]["no_article"] == 1
    assert insights["handoffs"]["visitor_asked"] == 1
    assert insights["unanswered_questions"] == [{"question": "Do you ship to Mars?", "count": 1}]
    gaps = api.request("GET", "/v1/kb/search-insights", token=owner["token"])[1]
    assert "Do you ship to Mars?" in [g["query"] for g in gaps["failed_queries"]]
    # Another workspace sees none of it.
    status, theirs, _ = api.request(
        "GET", f"/v1/chat/insights?month={insights['month']}", token=other["token"]
    )
    assert status == 200
    assert (theirs["conversations"], theirs["unanswered_questions"]) == (0, [])
    # A month that is not one is refused.
    status, body, _ = api.request("GET", "/v1/chat/insights?month=2026-13", token=owner["token"])
    assert status in (400, 422) and body["error"]["code"]
