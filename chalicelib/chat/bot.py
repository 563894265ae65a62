"""The chat's answer bot: answers a visitor's questions from the published knowledge base,
with numbered citations, and hands the conversation to the team when it cannot help
(rules in chalicelib/chat/bot_rules.py).

Nothing runs, and nothing reaches a provider, unless the workspace has AI on and the chat's AI
answers on.  A visitor's message queues a job on the AI-jobs queue (the model is slow); the
AI-jobs worker answers it (`make_answer`), at most once per visitor message however often the
job is delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.ai.deps import AiDeps
from chalicelib.ai.jobs import PASSAGES, _ask, _GiveUp, _lines, _redactor, check_citations
from chalicelib.ai.model import AiJob, AiResult, ResultKind, ResultStatus
from chalicelib.ai.ports import Llm, LlmUnavailable
from chalicelib.ai.prompts import ChatAnswer, SummaryAnswer, chat_answer_prompt, summary_prompt
from chalicelib.ai.settings import AiSettings
from chalicelib.chat.bot_rules import (
    BOT_AUTHOR,
    FEEDBACK_ACTION,
    HANDOFF_ACTION,
    HELPED,
    UNHELPFUL,
    BotState,
    HandoffReason,
    Step,
    answer_language,
    before_answering,
    bot_state,
    feedback_hands_off,
    handoff_note,
    visitor_questions,
)
from chalicelib.chat.insights import (
    ChatInsightsStore,
    Counter,
    handoff_counter,
    month_of,
    record_unanswered,
)
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.kb.search import SearchGaps
from chalicelib.tickets.conversation import text_to_html
from chalicelib.tickets.lifecycle import activity, retrying
from chalicelib.tickets.model import (
    Activity,
    Channel,
    Citation,
    DeliveryStatus,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)

FEATURE = "chat_answers"  # the AI feature switch and the call log's name for the bot
MESSAGES_READ = 500  # of a conversation (messages and activity), oldest first
QUERY_CHARS = 1000
HANDOFF_KEY = "handoff:"  # result key of a hand-off asked for by feedback

# (workspace id, ticket id, last message id): the conversation changed; wake its widgets.
ConversationMoved = Callable[[str, str, str], None]


@dataclass(frozen=True)
class BotDeps:
    ai: AiDeps
    chat_ai_answers: Callable[[str], bool]  # the chat settings' AI answers switch
    conversation_moved: ConversationMoved
    insights: ChatInsightsStore
    gaps: SearchGaps
    # Workspace id -> its help centre's root URL, before the articles' paths (visitors follow
    # the citations from another site); None: the paths as they are.
    help_centre: Callable[[str], str] | None = None


class QueuedAnswerBot:
    """The answer bot as the chat core sees it (its `AnswerBot` port)."""

    def __init__(
        self,
        ai: AiDeps,
        insights: ChatInsightsStore,
        gaps: SearchGaps,
        *,
        chat_ai_answers: Callable[[str], bool],
        conversation_moved: ConversationMoved,
        help_centre: Callable[[str], str] | None = None,
    ) -> None:
        self.deps = BotDeps(ai, chat_ai_answers, conversation_moved, insights, gaps, help_centre)

    def wants_to_answer(self, workspace_id: str) -> bool:
        """AI on for the workspace, the chat's AI answers on and a model configured (one
        GetItem of the AI settings, then the chat settings' switch)."""
        return can_answer(self.deps, workspace_id)

    def on_visitor_message(self, workspace_id: str, ticket_id: str, message_id: str) -> None:
        """Queues the answer to a visitor's message (nothing while the bot is off).  Asked
        twice for one message, it queues one job.  GetItem, PutItem, SendMessage."""
        if not can_answer(self.deps, workspace_id):
            return
        ask_bot(self.deps.ai, workspace_id, ticket_id, message_id)

    def on_feedback(self, workspace_id: str, ticket_id: str, message_id: str, helped: bool) -> None:
        record_feedback(self.deps, workspace_id, ticket_id, message_id, helped)

    def on_handoff(self, workspace_id: str, ticket_id: str) -> None:
        """The visitor asked for a person with the widget's button: the hand-off is counted
        in the conversation's month (see `record_visitor_handoff`)."""
        record_visitor_handoff(self.deps, workspace_id, ticket_id)

    def on_conversation_started(self, workspace_id: str, at: datetime) -> None:
        """Counts the conversation in its month's insights (GetItem, UpdateItem)."""
        from chalicelib.chat.insights import count_conversation

        count_conversation(self.deps.insights, self.deps.ai.tickets.accounts, workspace_id, at)

    def make_answer(
        self, ai: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The AI-jobs worker's maker for `chat_answer` results."""
        return answer_job(replace(self.deps, ai=ai), settings, llm, result)


def can_answer(deps: BotDeps, workspace_id: str) -> bool:
    if deps.ai.llm_for(ResultKind.CHAT_ANSWER) is None:
        return False
    if not deps.ai.settings.get(workspace_id).allows(FEATURE):
        return False
    return deps.chat_ai_answers(workspace_id)


def ask_bot(ai: AiDeps, workspace_id: str, ticket_id: str, key: str, **request: Any) -> bool:
    """Stores a pending `chat_answer` result and queues its job, unless one was asked for
    with this key already (a message's id, or a hand-off's)."""
    if ai.store.get_result(workspace_id, ticket_id, ResultKind.CHAT_ANSWER, key) is not None:
        return False
    result = AiResult(
        workspace_id=workspace_id,
        ticket_id=ticket_id,
        kind=ResultKind.CHAT_ANSWER,
        key=key,
        status=ResultStatus.PENDING,
        requested_by=BOT_AUTHOR,
        requested_at=ai.tickets.clock.now(),
        request=dict(request),
    )
    ai.store.put_result(result)
    ai.queue.send(AiJob.for_result(result))
    return True


# --- the worker's side --------------------------------------------------------------------


@dataclass(frozen=True)
class _Conversation:
    ticket: Ticket
    messages: list[Message]
    state: BotState


def _read(deps: BotDeps, workspace_id: str, ticket_id: str) -> _Conversation | None:
    store = deps.ai.tickets.store
    ticket = store.get_ticket(workspace_id, ticket_id)
    if ticket is None or ticket.channel is not Channel.CHAT or ticket.merged_into:
        return None
    messages = store.list_messages(workspace_id, ticket_id, MESSAGES_READ)
    entries = store.list_activity(workspace_id, ticket_id, MESSAGES_READ)
    return _Conversation(ticket, messages, bot_state(messages, entries))


def _skipped(reason: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    return {"outcome": "skipped", "reason": reason}, ()


def answer_job(
    deps: BotDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Answers the visitor message `result.key` (posts a `bot` message with its citations)
    or hands the conversation off; a hand-off asked for by feedback (`request.handoff`)
    hands off with the model's summary.  The payload says what was done."""
    workspace_id, ticket_id = result.workspace_id, result.ticket_id
    if not deps.chat_ai_answers(workspace_id):
        return _skipped("chat_ai_answers_off")
    chat = _read(deps, workspace_id, ticket_id)
    if chat is None:
        return _skipped("not_a_chat")
    if result.request.get("handoff"):
        if chat.state.handoff is not None:
            return _skipped("handed_off")
        summary = _summary(deps, settings, llm, chat)
        reason = str(result.request["handoff"])
        return _handed_off(deps, chat, reason, None, summary)
    message = next((m for m in chat.messages if m.id == result.key), None)
    if message is None:
        return _skipped("message_not_found")
    decision = before_answering(chat.state, message)
    if decision.step is Step.SKIP:
        return _skipped(decision.reason)
    if decision.step is Step.HAND_OFF:
        # A plain request for a person costs no model call; two unhelpful answers get the
        # model's summary.
        unhelpful = decision.reason == HandoffReason.UNHELPFUL
        summary = _summary(deps, settings, llm, chat) if unhelpful else ""
        return _handed_off(deps, chat, decision.reason, message, summary)
    clean = _redactor(settings)
    passages = deps.ai.knowledge.passages(
        workspace_id, clean(message.text)[:QUERY_CHARS], None, PASSAGES
    )
    if not passages:
        return _handed_off(deps, chat, HandoffReason.NO_ARTICLE, message, "")
    if deps.help_centre is not None:
        root = deps.help_centre(workspace_id).rstrip("/")
        passages = [replace(p, url=root + p.url) if p.url.startswith("/") else p for p in passages]
    workspace = deps.ai.tickets.accounts.get_workspace(workspace_id)
    upto = [m for m in chat.messages if m.id <= message.id]
    prompt = chat_answer_prompt(
        workspace.name if workspace else "the team",
        passages,
        _lines(upto, clean, notes=False),
        answer_language(message, workspace.locale[:2] if workspace else "en"),
    )
    try:
        answer = _ask(deps.ai, workspace_id, FEATURE, llm, prompt, ChatAnswer)
    except (LlmUnavailable, _GiveUp):
        # A visitor is waiting: the team answers rather than the queue retrying for minutes.
        return _handed_off(deps, chat, HandoffReason.BOT_UNAVAILABLE, message, "")
    body, citations, removed = check_citations(answer.body, answer.citations, passages)
    flags = ("citation_removed",) if removed else ()
    if answer.wants_person:
        return _handed_off(deps, chat, HandoffReason.VISITOR_ASKED, message, answer.summary)
    if not answer.answered or not citations or not body:
        payload, _ = _handed_off(deps, chat, HandoffReason.NO_ARTICLE, message, answer.summary)
        return payload, flags
    posted = post_bot_answer(deps, chat.ticket, message.id, body, citations)
    if posted is None:
        return _skipped("already_answered")
    if chat.state.answers == 0:
        deps.insights.add(workspace_id, _month(deps, chat.ticket), {Counter.BOT_ANSWERED: 1})
    deps.conversation_moved(workspace_id, ticket_id, posted.id)
    return {"outcome": "answered", "message_id": posted.id, "citations": citations}, flags


def _summary(deps: BotDeps, settings: AiSettings, llm: Llm, chat: _Conversation) -> str:
    """The model's summary of the chat for the team ("" when it cannot make one)."""
    clean = _redactor(settings)
    prompt = summary_prompt(clean(chat.ticket.subject), _lines(chat.messages, clean, notes=False))
    try:
        return _ask(deps.ai, chat.ticket.workspace_id, FEATURE, llm, prompt, SummaryAnswer).summary
    except (LlmUnavailable, _GiveUp):
        return ""


def _month(deps: BotDeps, ticket: Ticket) -> str:
    workspace = deps.ai.tickets.accounts.get_workspace(ticket.workspace_id)
    return month_of(ticket.created_at, workspace.timezone if workspace else None)


def post_bot_answer(
    deps: BotDeps,
    ticket: Ticket,
    visitor_message_id: str,
    body: str,
    citations: list[dict[str, Any]],
) -> Message | None:
    """Adds the bot's answer to the conversation, unless the bot already answered that
    visitor message or the conversation went to the team meanwhile (None).  Reads the
    ticket and its messages and activity again on each attempt; one transaction."""
    store = deps.ai.tickets.store

    def write() -> Message | None:
        current = store.get_ticket(ticket.workspace_id, ticket.id)
        if current is None or current.merged_into:
            return None
        messages = store.list_messages(ticket.workspace_id, ticket.id, MESSAGES_READ)
        entries = store.list_activity(ticket.workspace_id, ticket.id, MESSAGES_READ)
        state = bot_state(messages, entries)
        if state.handoff or state.team_replied or visitor_message_id in state.answered:
            return None
        now = deps.ai.tickets.clock.now()
        answer = Message(
            id=new_id(),
            ticket_id=current.id,
            workspace_id=current.workspace_id,
            kind=MessageKind.BOT,
            author=BOT_AUTHOR,
            from_address=None,
            to=[],
            cc=[],
            subject=current.subject,
            text=body,
            html=text_to_html(body),
            quoted_text=None,
            message_id=None,
            in_reply_to=[visitor_message_id],
            references=[],
            attachments=[],
            delivery=DeliveryStatus.SENT,
            created_at=now,
            citations=[Citation(**c) for c in citations],
        )
        updated = replace(
            current,
            updated_at=now,
            last_activity_at=now,
            message_count=current.message_count + 1,
            revision=current.revision + 1,
        )
        store.save_ticket(current, updated, [], message=answer)
        return answer

    return retrying(write)


def _handed_off(
    deps: BotDeps,
    chat: _Conversation,
    reason: str,
    message: Message | None,
    summary: str,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    note = hand_off(deps, chat.ticket, reason, message, summary)
    if note is None:
        return _skipped("handed_off")
    return {"outcome": "handoff", "reason": reason, "note_id": note.id}, ()


def hand_off(
    deps: BotDeps,
    ticket: Ticket,
    reason: str,
    message: Message | None,
    summary: str,
) -> Message | None:
    """Gives the conversation to the team: `open`, unassigned, the bot's note (the model's
    `summary`, else the visitor's questions) and a `handoff` activity entry, in one
    transaction; then counts it in the insights (a question no article answered also in the
    knowledge base's search insights), publishes `ticket.updated` and `note.added` and wakes
    the conversation's widgets.  None when it was handed off already."""
    store = deps.ai.tickets.store
    before: list[BotState] = []

    def write() -> tuple[Ticket, Message, list[Activity]] | None:
        current = store.get_ticket(ticket.workspace_id, ticket.id)
        if current is None or current.merged_into:
            return None
        messages = store.list_messages(ticket.workspace_id, ticket.id, MESSAGES_READ)
        state = bot_state(
            messages, store.list_activity(ticket.workspace_id, ticket.id, MESSAGES_READ)
        )
        if state.handoff is not None:
            return None
        before[:] = [state]
        now = deps.ai.tickets.clock.now()
        text = handoff_note(
            reason, visitor_questions(messages, message.id if message else None), summary
        )
        note = Message(
            id=new_id(),
            ticket_id=current.id,
            workspace_id=current.workspace_id,
            kind=MessageKind.NOTE,
            author=BOT_AUTHOR,
            from_address=None,
            to=[],
            cc=[],
            subject=current.subject,
            text=text,
            html=text_to_html(text),
            quoted_text=None,
            message_id=None,
            in_reply_to=[],
            references=[],
            attachments=[],
            delivery=DeliveryStatus.NOT_SENT,
            created_at=now,
        )
        entries = [activity(current, BOT_AUTHOR, HANDOFF_ACTION, None, reason, now)]
        if current.status is not TicketStatus.OPEN:
            entries.append(
                activity(current, BOT_AUTHOR, "status", current.status, TicketStatus.OPEN, now)
            )
        if current.assignee_id is not None:
            entries.append(
                activity(current, BOT_AUTHOR, "assignee", current.assignee_id, None, now)
            )
        updated = replace(
            current,
            status=TicketStatus.OPEN,
            assignee_id=None,
            updated_at=now,
            last_activity_at=now,
            message_count=current.message_count + 1,
            revision=current.revision + 1,
        )
        store.save_ticket(current, updated, entries, message=note)
        return updated, note, entries

    done = retrying(write)
    if done is None:
        return None
    updated, note, entries = done
    state = before[0]
    month = _month(deps, updated)
    counts = {handoff_counter(reason): 1}
    if state.answers and not state.helped:
        counts[Counter.BOT_LOST] = 1
    deps.insights.add(updated.workspace_id, month, counts)
    if reason == HandoffReason.NO_ARTICLE and message is not None:
        record_unanswered(
            deps.insights, deps.gaps, updated.workspace_id, month, message.text, note.created_at
        )
    events = deps.ai.tickets.events
    # The hand-off is named among the changes: the team is told of it (notifications).
    changes = list(dict.fromkeys(e.action for e in entries))
    events.publish(
        "ticket.updated",
        updated.workspace_id,
        {"ticket_id": updated.id, "actor": BOT_AUTHOR, "changes": changes},
    )
    events.publish(
        "note.added",
        updated.workspace_id,
        {"ticket_id": updated.id, "message_id": note.id, "actor": BOT_AUTHOR},
    )
    deps.conversation_moved(updated.workspace_id, updated.id, note.id)
    return note


# --- the visitor's feedback ----------------------------------------------------------------


def record_feedback(
    deps: BotDeps, workspace_id: str, ticket_id: str, message_id: str, helped: bool
) -> None:
    """Records a visitor's "this helped" / "this did not help" on one of the bot's answers
    (the first word on an answer counts; again is a no-op).  The second answer that did not
    help hands the conversation to the team: with the model's summary (a queued job) when
    the bot may use it, at once with a plain note otherwise.  404 `message_not_found` for
    anything but a bot answer of this workspace's conversation.  Writes the ticket and an
    activity entry (one transaction), a counter when a handed-off conversation was helped."""
    store = deps.ai.tickets.store
    answer = store.get_message(workspace_id, ticket_id, message_id)
    if answer is None or answer.kind is not MessageKind.BOT:
        raise NotFound("No such answer in this conversation.", code="message_not_found")

    def write() -> tuple[Ticket, BotState] | None:
        current = store.get_ticket(workspace_id, ticket_id)
        if current is None:
            raise NotFound("No such answer in this conversation.", code="message_not_found")
        messages = store.list_messages(workspace_id, ticket_id, MESSAGES_READ)
        state = bot_state(messages, store.list_activity(workspace_id, ticket_id, MESSAGES_READ))
        if message_id in state.feedback:
            return None
        now = deps.ai.tickets.clock.now()
        entry = activity(
            current,
            f"contact:{current.requester_id}",
            FEEDBACK_ACTION,
            message_id,
            HELPED if helped else UNHELPFUL,
            now,
        )
        store.save_ticket(current, replace(current, revision=current.revision + 1), [entry])
        return current, state

    done = retrying(write)
    if done is None:
        return
    ticket, state = done
    if helped and not state.helped and state.handoff is not None:
        # Counted as not resolved when it was handed off; an answer helped after all.
        deps.insights.add(workspace_id, _month(deps, ticket), {Counter.BOT_LOST: -1})
    if feedback_hands_off(state, helped):
        if can_answer(deps, workspace_id):
            ask_bot(
                deps.ai,
                workspace_id,
                ticket_id,
                f"{HANDOFF_KEY}{message_id}",
                handoff=HandoffReason.UNHELPFUL.value,
            )
        else:
            hand_off(deps, ticket, HandoffReason.UNHELPFUL, None, "")


# --- a hand-off the visitor asked for outside the bot ---------------------------------------


def record_visitor_handoff(deps: BotDeps, workspace_id: str, ticket_id: str) -> None:
    """Counts a hand-off the chat core wrote when the visitor asked for a person (the widget's
    "Talk to a person"), after it wrote its `handoff` entry: in the conversation's month, as
    asked by the visitor, and as not resolved by the bot when the bot had answered and no
    answer helped.  Nothing when the conversation had been handed off before (that hand-off
    was counted), so asking for a person again counts nothing.  Reads the ticket, its
    activity and messages; one UpdateItem."""
    store = deps.ai.tickets.store
    ticket = store.get_ticket(workspace_id, ticket_id)
    if ticket is None or ticket.channel is not Channel.CHAT:
        return
    entries = store.list_activity(workspace_id, ticket_id, MESSAGES_READ)
    if sum(1 for entry in entries if entry.action == HANDOFF_ACTION) != 1:
        return
    state = bot_state(store.list_messages(workspace_id, ticket_id, MESSAGES_READ), entries)
    counts = {handoff_counter(HandoffReason.VISITOR_ASKED): 1}
    if state.answers and not state.helped:
        counts[Counter.BOT_LOST] = 1
    deps.insights.add(workspace_id, _month(deps, ticket), counts)
