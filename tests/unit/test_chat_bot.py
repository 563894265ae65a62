"""The answer bot's rules against in-memory ports (a chat conversation on a ticket store, the
AI teammate's store, queue and settings, the knowledge base, a scripted model): when it
answers, what it cites, when and how it hands the conversation to the team, and that nothing
reaches a provider while AI is off."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.accounts.model import Workspace
from chalicelib.ai.deps import AiDeps
from chalicelib.ai.jobs import run_job
from chalicelib.ai.model import AiJob, AiResult, ResultKind
from chalicelib.ai.ports import LlmUnavailable, Passage, ToolResult, Usage
from chalicelib.ai.settings import AiSettings
from chalicelib.chat.bot import QueuedAnswerBot, record_feedback
from chalicelib.chat.bot_rules import asks_for_person
from chalicelib.ids import new_id
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import (
    Channel,
    ChatContext,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import StaleTicket

WS = "01WORKSPACEAAAAAAAAAAAAAAAA"
REFUNDS = Passage("A1", "Refunds", "/en/articles/refunds", "Refund from Billing.")
PASSWORDS = Passage("A2", "Passwords", "/en/articles/passwords", "Use the reset link.")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 5, 14, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(milliseconds=5)
        return self.at


class Tickets:
    def __init__(self) -> None:
        self.tickets: dict[tuple[str, str], Ticket] = {}
        self.messages: dict[tuple[str, str], list[Message]] = {}
        self.activity: dict[tuple[str, str], list[Any]] = {}

    def get_ticket(self, workspace_id: str, ticket_id: str) -> Ticket | None:
        return self.tickets.get((workspace_id, ticket_id))

    def list_messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        return list(self.messages.get((workspace_id, ticket_id), []))[:limit]

    def list_activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Any]:
        return list(self.activity.get((workspace_id, ticket_id), []))[:limit]

    def get_message(self, workspace_id: str, ticket_id: str, message_id: str) -> Message | None:
        found = [m for m in self.messages.get((workspace_id, ticket_id), []) if m.id == message_id]
        return found[0] if found else None

    def save_ticket(self, before, after, activity, message=None, **_: Any) -> None:
        key = (before.workspace_id, before.id)
        if self.tickets[key].revision != before.revision:
            raise StaleTicket()
        self.tickets[key] = after
        self.activity.setdefault(key, []).extend(activity)
        if message is not None:
            self.messages.setdefault(key, []).append(message)


class AiStore:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str, str, str], AiResult] = {}
        self.calls: list[Any] = []

    def get_result(self, workspace_id, ticket_id, kind, key):
        return self.results.get((workspace_id, ticket_id, kind.value, key))

    def put_result(self, result: AiResult) -> None:
        self.results[(result.workspace_id, result.ticket_id, result.kind.value, result.key)] = (
            result
        )

    def record_call(self, call: Any) -> None:
        self.calls.append(call)


class Queue:
    def __init__(self) -> None:
        self.jobs: list[AiJob] = []

    def send(self, job: AiJob) -> None:
        self.jobs.append(job)


class Settings:
    def __init__(self) -> None:
        self.by_workspace: dict[str, AiSettings] = {}
        self.reads = 0

    def get(self, workspace_id: str) -> AiSettings:
        self.reads += 1
        return self.by_workspace.get(workspace_id, AiSettings())


class Knowledge:
    def __init__(self) -> None:
        self.passages_found: list[Passage] = [REFUNDS, PASSWORDS]
        self.queries: list[str] = []

    def passages(self, workspace_id, query, locale, limit):
        self.queries.append(query)
        return list(self.passages_found)[:limit]


class Llm:
    """Answers each tool from `answers` (a dict, or an exception to raise); counts requests."""

    provider, model = "anthropic", "fake-model"

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, Any] = {
            "write_chat_answer": {
                "answered": True,
                "body": "Ask for a refund from the Billing page [1].",
                "citations": [1],
                "wants_person": False,
                "summary": "",
            },
            "write_summary": {"summary": "Wants a refund; the answers did not help."},
        }

    def call_tool(self, system_blocks, messages, tool_name, tool_schema, max_tokens, **_: Any):
        self.requests.append(
            {"system": list(system_blocks), "messages": list(messages), "tool": tool_name}
        )
        answer = self.answers[tool_name]
        if isinstance(answer, Exception):
            raise answer
        return ToolResult(input=dict(answer), usage=Usage(10, 5), model=self.model, duration_ms=1)


class Accounts:
    def get_workspace(self, workspace_id: str) -> Workspace | None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        return Workspace(
            id=workspace_id,
            slug="acme",
            name="Acme",
            timezone="Pacific/Auckland",
            locale="en",
            owner_count=1,
            created_at=at,
            updated_at=at,
        )


class Events:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, event_type, workspace_id, payload) -> None:
        self.published.append((event_type, workspace_id, payload))


class Insights:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = {}
        self.questions: dict[tuple[str, str], dict[str, list[Any]]] = {}

    def add(self, workspace_id, month, counts) -> None:
        held = self.counts.setdefault((workspace_id, month), {})
        for name, by in counts.items():
            held[str(name)] = held.get(str(name), 0) + by

    def add_unanswered(self, workspace_id, month, folded, question) -> bool:
        held = self.questions.setdefault((workspace_id, month), {})
        held.setdefault(folded, [question, 0])[1] += 1
        return True

    def counters(self, workspace_id, month):
        return dict(self.counts.get((workspace_id, month), {}))

    def unanswered(self, workspace_id, month):
        return [(q, n) for q, n in self.questions.get((workspace_id, month), {}).values()]


class Gaps:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str]] = []

    def record(self, workspace_id, folded_query, query, at) -> None:
        self.recorded.append((workspace_id, folded_query, query))


class World:
    """One workspace with a chat conversation and the bot over in-memory ports."""

    def __init__(self, *, ai_on: bool = True, chat_on: bool = True) -> None:
        self.clock = Clock()
        self.tickets = Tickets()
        self.ai_store = AiStore()
        self.queue = Queue()
        self.settings = Settings()
        self.settings.by_workspace[WS] = AiSettings(enabled=ai_on)
        self.knowledge = Knowledge()
        self.llm = Llm()
        self.events = Events()
        self.insights = Insights()
        self.gaps = Gaps()
        self.chat_on = chat_on
        self.moved: list[tuple[str, str, str]] = []
        ticket_deps = TicketDeps(
            store=self.tickets,  # type: ignore[arg-type]
            accounts=Accounts(),  # type: ignore[arg-type]
            clock=self.clock,
            outbox=None,  # type: ignore[arg-type]
            events=self.events,  # type: ignore[arg-type]
            blobs=None,  # type: ignore[arg-type]
            policy=None,  # type: ignore[arg-type]
            mailbox=None,  # type: ignore[arg-type]
            uploads=None,  # type: ignore[arg-type]
            files=None,  # type: ignore[arg-type]
        )
        self.ai = AiDeps(
            settings=self.settings,  # type: ignore[arg-type]
            store=self.ai_store,  # type: ignore[arg-type]
            queue=self.queue,
            tickets=ticket_deps,
            knowledge=self.knowledge,
            llm_for=lambda kind: self.llm,
        )
        self.bot = QueuedAnswerBot(
            self.ai,
            self.insights,
            self.gaps,
            chat_ai_answers=lambda workspace_id: self.chat_on,
            conversation_moved=lambda *moved: self.moved.append(moved),
            help_centre=lambda workspace_id: "https://help.acme.test/",
        )
        self.ticket = self.open_chat()

    def open_chat(self, workspace_id: str = WS) -> Ticket:
        at = self.clock.now()
        ticket = Ticket(
            id=new_id(),
            workspace_id=workspace_id,
            number=1,
            subject="Chat with a visitor",
            requester_id="C1",
            requester_email="visitor-v1@anonymous.invalid",
            requester_name="Visitor",
            cc=[],
            status=TicketStatus.NEW,
            priority=Priority.NORMAL,
            assignee_id="U9",
            tags=[],
            channel=Channel.CHAT,
            created_at=at,
            updated_at=at,
            last_activity_at=at,
        )
        self.tickets.tickets[(workspace_id, ticket.id)] = ticket
        return ticket

    def visitor_says(self, text: str, language: str = "en-GB") -> Message:
        """The chat core stores the visitor's message, then tells the bot."""
        ticket = self.tickets.get_ticket(WS, self.ticket.id)
        assert ticket is not None
        message = Message(
            id=new_id(),
            ticket_id=ticket.id,
            workspace_id=WS,
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
            created_at=self.clock.now(),
            chat=ChatContext(language=language),
        )
        self.tickets.save_ticket(
            ticket, dataclasses.replace(ticket, revision=ticket.revision + 1), [], message=message
        )
        self.bot.on_visitor_message(WS, ticket.id, message.id)
        return message

    def run_jobs(self, monkeypatch: Any) -> list[AiResult | None]:
        """The AI-jobs worker takes every queued job (its maker finds this bot)."""
        from chalicelib import bootstrap

        monkeypatch.setattr(bootstrap, "chat_answer_bot", lambda: self.bot)
        done = []
        while self.queue.jobs:
            done.append(run_job(self.ai, self.queue.jobs.pop(0), last_attempt=False))
        return done

    @property
    def conversation(self) -> Ticket:
        found = self.tickets.get_ticket(WS, self.ticket.id)
        assert found is not None
        return found

    def messages(self, kind: MessageKind | None = None) -> list[Message]:
        found = self.tickets.list_messages(WS, self.ticket.id, 500)
        return [m for m in found if kind is None or m.kind is kind]

    def actions(self) -> list[tuple[str, str | None]]:
        return [(a.action, a.after) for a in self.tickets.list_activity(WS, self.ticket.id, 500)]

    def month_counts(self) -> dict[str, int]:
        return self.insights.counters(WS, "2026-05")

    def chat_answer_calls(self) -> int:
        return sum(1 for r in self.llm.requests if r["tool"] == "write_chat_answer")


def unavailable() -> LlmUnavailable:
    return LlmUnavailable("overloaded", retry_after=None)


CHAT_ANSWER = ResultKind.CHAT_ANSWER


# --- the tests ----------------------------------------------------------------------------


def test_the_bot_answers_a_question_with_a_citation_of_a_published_article(monkeypatch):
    world = World()
    question = world.visitor_says("How do I get a refund for my order?")
    [done] = world.run_jobs(monkeypatch)
    assert done is not None and done.payload["outcome"] == "answered"
    [answer] = world.messages(MessageKind.BOT)
    assert answer.text == "Ask for a refund from the Billing page [1]."
    assert answer.author == "bot" and answer.delivery is DeliveryStatus.SENT
    assert answer.in_reply_to == [question.id]
    assert [(c.number, c.article_id, c.url) for c in answer.citations] == [
        (1, "A1", "https://help.acme.test/en/articles/refunds")
    ]
    assert world.conversation.status is TicketStatus.NEW  # still the bot's
    assert world.moved == [(WS, world.ticket.id, answer.id)]
    assert world.month_counts() == {"bot_answered": 1}
    # The model saw the articles and the visitor's question, and was asked for English.
    [request] = world.llm.requests
    assert request["system"][1].startswith("Knowledge-base articles:\n\n[1] Refunds")
    assert "How do I get a refund" in request["messages"][0]["content"]
    assert "Write the answer in English." in request["messages"][0]["content"]
    assert [c.feature for c in world.ai_store.calls] == ["chat_answers"]


def test_a_citation_of_an_article_the_bot_was_not_given_is_removed(monkeypatch):
    world = World()
    world.llm.answers["write_chat_answer"] = {
        "answered": True,
        "body": "Refunds come from Billing [1]. Premium refunds twice [7].",
        "citations": [1, 7],
    }
    world.visitor_says("How do I get a refund?")
    [done] = world.run_jobs(monkeypatch)
    [answer] = world.messages(MessageKind.BOT)
    assert answer.text == "Refunds come from Billing [1]. Premium refunds twice."
    assert [c.number for c in answer.citations] == [1]
    assert done is not None and "citation_removed" in done.flags


def test_no_published_article_hands_off_without_asking_the_model(monkeypatch):
    world = World()
    world.knowledge.passages_found = []
    world.visitor_says("Do you ship to Mars?")
    world.run_jobs(monkeypatch)
    assert world.llm.requests == []
    ticket = world.conversation
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.OPEN, None)
    [note] = world.messages(MessageKind.NOTE)
    assert note.author == "bot"
    assert "no published article" in note.text and "- Do you ship to Mars?" in note.text
    assert ("handoff", "no_article") in world.actions()
    assert world.messages(MessageKind.BOT) == []
    assert world.month_counts() == {"handoff_no_article": 1}
    assert world.insights.unanswered(WS, "2026-05") == [("Do you ship to Mars?", 1)]
    assert world.gaps.recorded == [(WS, "do you ship to mars?", "Do you ship to Mars?")]
    assert ("note.added", WS) in [(e, w) for e, w, _ in world.events.published]


def test_an_answer_that_cites_nothing_is_not_sent_and_hands_off(monkeypatch):
    world = World()
    world.llm.answers["write_chat_answer"] = {
        "answered": True,
        "body": "We ship everywhere, probably.",
        "citations": [],
        "summary": "Asks about shipping to Mars.",
    }
    world.visitor_says("Do you ship to Mars?")
    world.run_jobs(monkeypatch)
    assert world.messages(MessageKind.BOT) == []
    [note] = world.messages(MessageKind.NOTE)
    assert "Summary: Asks about shipping to Mars." in note.text
    assert ("handoff", "no_article") in world.actions()


def test_the_model_saying_it_cannot_answer_hands_off(monkeypatch):
    world = World()
    world.llm.answers["write_chat_answer"] = {
        "answered": False,
        "body": "",
        "citations": [],
        "summary": "Wants to know about Mars.",
    }
    world.visitor_says("Do you ship to Mars?")
    world.run_jobs(monkeypatch)
    assert world.messages(MessageKind.BOT) == []
    assert ("handoff", "no_article") in world.actions()


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a person please?",
        "I want to speak with a human",
        "real person please",
        "Je voudrais parler à quelqu'un",
        "un humain svp",
        "Puis-je parler à un conseiller ?",
    ],
)
def test_asking_for_a_person_hands_off_without_asking_the_model(monkeypatch, text):
    world = World()
    world.visitor_says(text, language="fr-FR")
    world.run_jobs(monkeypatch)
    assert world.llm.requests == [] and world.knowledge.queries == []
    assert world.conversation.status is TicketStatus.OPEN
    assert ("handoff", "visitor_asked") in world.actions()
    assert world.month_counts() == {"handoff_visitor_asked": 1}


@pytest.mark.parametrize(
    "text",
    ["How do I add a person to my team?", "The agent app is slow", "Is it human-readable?"],
)
def test_questions_that_mention_people_are_not_requests_for_a_person(text):
    assert not asks_for_person(text)


def test_the_model_hearing_a_request_for_a_person_hands_off_with_its_summary(monkeypatch):
    world = World()
    world.llm.answers["write_chat_answer"] = {
        "answered": False,
        "wants_person": True,
        "summary": "Angry about a refund; wants someone from the team.",
    }
    world.visitor_says("Get me someone who can actually fix my refund")
    world.run_jobs(monkeypatch)
    assert ("handoff", "visitor_asked") in world.actions()
    [note] = world.messages(MessageKind.NOTE)
    assert "Angry about a refund" in note.text


def test_two_unhelpful_answers_hand_the_conversation_to_the_team(monkeypatch):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    [first] = world.messages(MessageKind.BOT)
    record_feedback(world.bot.deps, WS, world.ticket.id, first.id, helped=False)
    world.visitor_says("I did that and nothing happened, how do I get a refund?")
    world.run_jobs(monkeypatch)
    second = world.messages(MessageKind.BOT)[-1]
    assert world.conversation.status is TicketStatus.NEW
    record_feedback(world.bot.deps, WS, world.ticket.id, second.id, helped=False)
    world.run_jobs(monkeypatch)  # the hand-off, with the model's summary
    assert world.conversation.status is TicketStatus.OPEN
    assert ("handoff", "unhelpful") in world.actions()
    [note] = world.messages(MessageKind.NOTE)
    assert "Summary: Wants a refund; the answers did not help." in note.text
    assert world.month_counts() == {"bot_answered": 1, "handoff_unhelpful": 1, "bot_lost": 1}
    # After the hand-off the bot never answers again.
    world.visitor_says("Hello? How do I get a refund?")
    world.run_jobs(monkeypatch)
    assert len(world.messages(MessageKind.BOT)) == 2
    assert world.chat_answer_calls() == 2


def test_a_new_question_after_an_answer_without_feedback_is_not_unhelpful(monkeypatch):
    world = World()
    for question in ("How do I get a refund?", "And a password reset?", "Refund again?"):
        world.visitor_says(question)
        world.run_jobs(monkeypatch)
    assert len(world.messages(MessageKind.BOT)) == 3
    assert world.conversation.status is TicketStatus.NEW
    assert not any(action == "handoff" for action, _ in world.actions())


def test_feedback_counts_once_per_answer_and_only_on_the_bots_answers(monkeypatch):
    from chalicelib.errors import NotFound

    world = World()
    question = world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    [answer] = world.messages(MessageKind.BOT)
    record_feedback(world.bot.deps, WS, world.ticket.id, answer.id, helped=False)
    world.bot.on_feedback(WS, world.ticket.id, answer.id, False)  # again: no second count
    assert world.conversation.status is TicketStatus.NEW
    assert world.actions().count(("bot_feedback", "unhelpful")) == 1
    with pytest.raises(NotFound):
        record_feedback(world.bot.deps, WS, world.ticket.id, question.id, helped=True)


def test_an_answer_that_helped_keeps_a_handed_off_conversation_resolved(monkeypatch):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    [answer] = world.messages(MessageKind.BOT)
    world.visitor_says("Thanks. Can I talk to a person about something else?")
    world.run_jobs(monkeypatch)
    assert world.month_counts()["bot_lost"] == 1
    world.bot.on_feedback(WS, world.ticket.id, answer.id, True)
    assert world.month_counts()["bot_lost"] == 0


@pytest.mark.parametrize("workspace_ai, chat_ai", [(False, True), (True, False), (False, False)])
def test_with_ai_off_there_is_no_bot_and_nothing_reaches_a_provider(
    monkeypatch, workspace_ai, chat_ai
):
    world = World(ai_on=workspace_ai, chat_on=chat_ai)
    assert world.bot.wants_to_answer(WS) is False
    world.visitor_says("Can I talk to a person? Also how do I get a refund?")
    world.visitor_says("How do I get a refund?")
    assert world.queue.jobs == [] and world.ai_store.results == {}
    world.run_jobs(monkeypatch)
    assert world.llm.requests == [] and world.knowledge.queries == []
    assert world.messages(MessageKind.BOT) == [] and world.messages(MessageKind.NOTE) == []


def test_ai_turned_off_after_the_question_was_queued_sends_nothing(monkeypatch):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.settings.by_workspace[WS] = AiSettings(enabled=False)
    [done] = world.run_jobs(monkeypatch)
    assert done is not None and done.failure == "ai_disabled"
    assert world.llm.requests == [] and world.messages(MessageKind.BOT) == []


def test_a_redelivered_job_posts_one_answer(monkeypatch):
    world = World()
    question = world.visitor_says("How do I get a refund?")
    world.bot.on_visitor_message(WS, world.ticket.id, question.id)  # told twice: one job
    assert len(world.queue.jobs) == 1
    job = world.queue.jobs[0]
    pending = world.ai_store.get_result(WS, world.ticket.id, CHAT_ANSWER, question.id)
    world.run_jobs(monkeypatch)
    world.queue.jobs.append(job)  # delivered again after it finished
    world.run_jobs(monkeypatch)
    world.ai_store.put_result(pending)  # or after a crash before the result was stored
    world.queue.jobs.append(job)
    world.run_jobs(monkeypatch)
    assert len(world.messages(MessageKind.BOT)) == 1
    assert world.month_counts() == {"bot_answered": 1}


def test_the_model_being_unavailable_hands_off_rather_than_keeping_the_visitor_waiting(
    monkeypatch,
):
    world = World()
    world.llm.answers["write_chat_answer"] = unavailable()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    assert ("handoff", "bot_unavailable") in world.actions()
    assert world.conversation.status is TicketStatus.OPEN


def test_a_teammate_answering_in_the_chat_silences_the_bot(monkeypatch):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    ticket = world.conversation
    reply = dataclasses.replace(
        world.messages(MessageKind.BOT)[0], id=new_id(), kind=MessageKind.REPLY, author="user:U1"
    )
    world.tickets.save_ticket(
        ticket, dataclasses.replace(ticket, revision=ticket.revision + 1), [], message=reply
    )
    world.visitor_says("Thanks, and a password reset?")
    world.run_jobs(monkeypatch)
    assert len(world.messages(MessageKind.BOT)) == 1


def test_the_bot_answers_in_the_visitors_language(monkeypatch):
    world = World()
    world.visitor_says(
        "Bonjour, comment puis-je obtenir un remboursement de ma commande ?", "en-US"
    )
    world.run_jobs(monkeypatch)
    assert "Write the answer in French." in world.llm.requests[0]["messages"][0]["content"]
    other = World()
    other.visitor_says("refund?", "fr-CA")  # too short to tell: the browser's language
    other.run_jobs(monkeypatch)
    assert "Write the answer in French." in other.llm.requests[0]["messages"][0]["content"]


def test_visitor_markup_stays_text_in_the_prompt_and_the_stored_answer(monkeypatch):
    world = World()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> refund?'
    world.llm.answers["write_chat_answer"] = {
        "answered": True,
        "body": f"You wrote {hostile}: see [1].",
        "citations": [1],
    }
    world.visitor_says(hostile)
    world.run_jobs(monkeypatch)
    assert hostile in world.llm.requests[0]["messages"][0]["content"]
    [answer] = world.messages(MessageKind.BOT)
    assert hostile in answer.text
    assert "<script>" not in (answer.html or "") and "&lt;script&gt;" in (answer.html or "")


def test_internal_notes_are_never_shown_to_the_model_that_answers_visitors(monkeypatch):
    world = World()
    ticket = world.conversation
    note = dataclasses.replace(
        Message(**{**world.visitor_says("hi there").__dict__}),
        id=new_id(),
        kind=MessageKind.NOTE,
        author="user:U1",
        text="VIP customer, internal discount code SECRET42",
    )
    ticket = world.conversation
    world.tickets.save_ticket(
        ticket, dataclasses.replace(ticket, revision=ticket.revision + 1), [], message=note
    )
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    assert all("SECRET42" not in r["messages"][0]["content"] for r in world.llm.requests)


def _visitor_hands_off(world: World) -> None:
    """What the chat core writes when the widget's "Talk to a person" is pressed, then tells
    the bot."""
    from chalicelib.tickets.lifecycle import activity

    ticket = world.conversation
    entry = activity(ticket, "system:chat", "handoff", None, "visitor", world.clock.now())
    world.tickets.save_ticket(
        ticket, dataclasses.replace(ticket, revision=ticket.revision + 1), [entry]
    )
    world.bot.on_handoff(WS, ticket.id)


def test_talk_to_a_person_after_an_answer_counts_as_asked_and_not_resolved_by_the_bot(
    monkeypatch,
):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    [answer] = world.messages(MessageKind.BOT)
    record_feedback(world.bot.deps, WS, world.ticket.id, answer.id, helped=False)
    _visitor_hands_off(world)
    assert world.month_counts() == {
        "bot_answered": 1,
        "handoff_visitor_asked": 1,
        "bot_lost": 1,
    }
    _visitor_hands_off(world)  # asked again (another hand-off entry): counted once
    assert world.month_counts()["handoff_visitor_asked"] == 1


def test_talk_to_a_person_after_a_helpful_answer_leaves_it_resolved_by_the_bot(monkeypatch):
    world = World()
    world.visitor_says("How do I get a refund?")
    world.run_jobs(monkeypatch)
    [answer] = world.messages(MessageKind.BOT)
    record_feedback(world.bot.deps, WS, world.ticket.id, answer.id, helped=True)
    _visitor_hands_off(world)
    assert world.month_counts() == {"bot_answered": 1, "handoff_visitor_asked": 1}


def test_talk_to_a_person_after_the_bot_handed_off_counts_nothing_more(monkeypatch):
    world = World()
    world.knowledge.passages_found = []
    world.visitor_says("Do you ship to Mars?")
    world.run_jobs(monkeypatch)
    before = world.month_counts()
    assert before == {"handoff_no_article": 1}
    _visitor_hands_off(world)
    assert world.month_counts() == before
