"""The AI-jobs worker's work: `run_job` checks the workspace's opt-in again (it may have
changed since the ask), redacts the text, asks the model (one forced tool call, validated; an
invalid answer is asked once more), post-checks the answer and stores the result `ready`, or
`failed` with the reason.  Every provider call is logged without content."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.ai.deps import AiDeps
from chalicelib.ai.language import customer_language, detect_language
from chalicelib.ai.metering import provider_call
from chalicelib.ai.model import (
    FEATURE_OF,
    AiJob,
    AiResult,
    CallOutcome,
    ResultKind,
    ResultStatus,
)
from chalicelib.ai.ports import (
    Llm,
    LlmUnavailable,
    MalformedOutput,
    Passage,
    Usage,
)
from chalicelib.ai.prompts import (
    ConversationLine,
    DraftAnswer,
    Prompt,
    SummaryAnswer,
    ToneAnswer,
    TranslationAnswer,
    TriageAnswer,
    draft_prompt,
    summary_prompt,
    tone_block,
    tone_prompt,
    translation_prompt,
    triage_prompt,
)
from chalicelib.ai.redaction import redact
from chalicelib.ai.requests import tone_guide
from chalicelib.ai.settings import AiSettings
from chalicelib.errors import (
    ProviderRejected,
)
from chalicelib.tickets.counts import tag_vocabulary
from chalicelib.tickets.lifecycle import TicketChanges, change_ticket
from chalicelib.tickets.model import Message, MessageKind, Priority, Ticket, TicketFilter

A = TypeVar("A", bound=BaseModel)

CONVERSATION_MESSAGES = 20  # the latest messages a prompt sees
MESSAGE_CHARS = 4000  # of each
PASSAGES = 5
VOCABULARY_SIZE = 100
TONE_SAMPLE_DEFAULT = 20
TONE_TICKETS_READ = 100  # tickets looked through for the team's replies
ASK_ATTEMPTS = 2  # an invalid answer is asked once more
_CITATION = re.compile(r"\[(\d{1,3})\]")


class _GiveUp(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_job(deps: AiDeps, job: AiJob, *, last_attempt: bool) -> AiResult | None:
    """Makes the result `job` asks for.  Idempotent: a result no longer pending is left
    alone.  Raises LlmUnavailable for the queue to retry (after marking the result failed on
    the last attempt); every other failure is stored on the result."""
    result = deps.store.get_result(job.workspace_id, job.ticket_id, job.kind, job.key)
    if result is None or result.status is not ResultStatus.PENDING:
        return result
    now = deps.tickets.clock.now
    try:
        settings = deps.settings.get(job.workspace_id)
        if not settings.allows(FEATURE_OF[job.kind]):
            raise _GiveUp("ai_disabled")  # turned off since it was asked: nothing is sent
        llm = deps.llm_for(job.kind)
        if llm is None:
            raise _GiveUp("ai_not_configured")
        payload, flags = _MAKERS[job.kind](deps, settings, llm, result)
    except _GiveUp as e:
        return _finish(deps, result, ResultStatus.FAILED, now(), failure=e.reason)
    except LlmUnavailable:
        if last_attempt:
            _finish(deps, result, ResultStatus.FAILED, now(), failure="provider_unavailable")
        raise
    if job.kind is ResultKind.TRIAGE:
        # Applied once per ticket: a later triage never undoes what agents changed since.
        payload["applied"] = bool(result.payload.get("applied"))
    done = _finish(deps, result, ResultStatus.READY, now(), payload=payload, flags=flags)
    if (
        job.kind is ResultKind.TRIAGE
        and settings.allows("auto_apply_triage")
        and not payload["applied"]
        and done.status is ResultStatus.READY
    ):
        _apply_triage(deps, done)
    return done


def _finish(
    deps: AiDeps,
    result: AiResult,
    status: ResultStatus,
    at: datetime,
    *,
    payload: dict[str, Any] | None = None,
    flags: tuple[str, ...] = (),
    failure: str | None = None,
) -> AiResult:
    # A newer request for the same result (e.g. triage after another message) wins.
    latest = deps.store.get_result(result.workspace_id, result.ticket_id, result.kind, result.key)
    if latest is not None and latest.requested_at > result.requested_at:
        return latest
    done = replace(
        result,
        status=status,
        completed_at=at,
        payload=result.payload if payload is None else payload,
        flags=flags,
        failure=failure,
    )
    deps.store.put_result(done)
    return done


def _ask(
    deps: AiDeps, workspace_id: str, feature: str, llm: Llm, prompt: Prompt, answer: type[A]
) -> A:
    """The model's answer, validated; asked once more when invalid.  Every call is logged."""
    for _ in range(ASK_ATTEMPTS):
        at, started = deps.tickets.clock.now(), time.perf_counter()
        outcome: CallOutcome | None = None
        usage: Usage | None = None
        try:
            called = llm.call_tool(
                prompt.system,
                prompt.messages,
                prompt.tool_name,
                prompt.tool_schema,
                prompt.max_tokens,
                cache_after=prompt.cache_after,
            )
            usage, outcome = called.usage, CallOutcome.MALFORMED
            parsed = answer.model_validate(called.input)
            outcome = CallOutcome.OK
            return parsed
        except MalformedOutput as e:
            usage, outcome = e.usage, CallOutcome.MALFORMED
        except ValidationError:
            pass  # outcome: malformed
        except LlmUnavailable:
            outcome = CallOutcome.UNAVAILABLE
            raise
        except ProviderRejected:
            outcome = CallOutcome.REJECTED
            raise _GiveUp("provider_rejected") from None
        finally:
            if outcome is not None:
                deps.store.record_call(
                    provider_call(
                        workspace_id, feature, llm.provider, llm.model, at, started, outcome, usage
                    )
                )
    raise _GiveUp("malformed_output")


# --- what each job sends, and checks on what comes back ------------------------------------


def _redactor(settings: AiSettings) -> Callable[[str], str]:
    def clean(text: str) -> str:
        return redact(text, emails=settings.redaction.emails, phones=settings.redaction.phones).text

    return clean


def _load_ticket(deps: AiDeps, result: AiResult) -> tuple[Ticket, list[Message]]:
    ticket = deps.tickets.store.get_ticket(result.workspace_id, result.ticket_id)
    if ticket is None:
        raise _GiveUp("ticket_not_found")
    messages = deps.tickets.store.list_messages(result.workspace_id, ticket.id, 500)
    return ticket, messages


_WHO = {
    MessageKind.CUSTOMER: "Customer",
    MessageKind.REPLY: "Agent",
    MessageKind.NOTE: "Note",
    MessageKind.BOT: "Answer bot",
}


def _lines(
    messages: list[Message], clean: Callable[[str], str], *, notes: bool = True
) -> list[ConversationLine]:
    shown = [m for m in messages if notes or m.kind is not MessageKind.NOTE]
    return [
        ConversationLine(_WHO[m.kind], clean(m.text[:MESSAGE_CHARS]))
        for m in shown[-CONVERSATION_MESSAGES:]
        if m.text.strip()
    ]


def _make_triage(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ticket, messages = _load_ticket(deps, result)
    clean = _redactor(settings)
    vocabulary = tag_vocabulary(
        deps.tickets.store.inbox_counts(ticket.workspace_id), VOCABULARY_SIZE
    )
    prompt = triage_prompt(clean(ticket.subject), _lines(messages, clean, notes=False), vocabulary)
    answer = _ask(deps, ticket.workspace_id, "triage", llm, prompt, TriageAnswer)
    known = set(vocabulary)
    tags = [t for t in dict.fromkeys(t.lower() for t in answer.tags) if t in known]
    flags = ("unknown_tags_dropped",) if len(tags) < len(set(answer.tags)) else ()
    return (
        {
            "language": customer_language(messages),
            "tags": tags,
            "sentiment": answer.sentiment,
            "sentiment_score": round(answer.sentiment_score, 2),
            "priority": answer.priority,
            "priority_reason": answer.priority_reason,
            "summary": answer.summary,
            "applied": False,
        },
        flags,
    )


def _apply_triage(deps: AiDeps, triage: AiResult) -> None:
    """Adds the suggested tags and sets the suggested priority unless someone already chose
    one (a priority other than normal)."""
    ticket = deps.tickets.store.get_ticket(triage.workspace_id, triage.ticket_id)
    if ticket is None or ticket.merged_into:
        return
    suggested = Priority(triage.payload["priority"])
    tags = list(dict.fromkeys([*ticket.tags, *triage.payload["tags"]]))
    change_ticket(
        deps.tickets,
        triage.workspace_id,
        ticket.id,
        "ai:triage",
        TicketChanges(
            tags=tags if tags != ticket.tags else None,
            priority=suggested if ticket.priority is Priority.NORMAL else None,
        ),
    )
    deps.store.put_result(replace(triage, payload={**triage.payload, "applied": True}))


def _make_draft(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ticket, messages = _load_ticket(deps, result)
    clean = _redactor(settings)
    workspace = deps.tickets.accounts.get_workspace(ticket.workspace_id)
    language = customer_language(messages) or (workspace.locale[:2] if workspace else "en")
    customer_text = " ".join(
        m.text for m in messages[-CONVERSATION_MESSAGES:] if m.kind is MessageKind.CUSTOMER
    )
    query = clean(f"{ticket.subject} {customer_text}")[:1000]
    passages = deps.knowledge.passages(ticket.workspace_id, query, None, PASSAGES)
    guide = tone_guide(deps, ticket.workspace_id)
    tone = tone_block(
        workspace.name if workspace else "the team",
        settings.tone,
        str((guide.payload if guide else {}).get("guide", "")),
    )
    previous = ""
    if result.request.get("previous_key"):
        before = deps.store.get_result(
            ticket.workspace_id, ticket.id, ResultKind.DRAFT, result.request["previous_key"]
        )
        previous = str(before.payload.get("body", "")) if before else ""
    prompt = draft_prompt(
        tone,
        passages,
        clean(ticket.subject),
        _lines(messages, clean),
        language,
        instruction=clean(result.request.get("instruction", "")),
        previous_draft=previous,
    )
    answer = _ask(deps, ticket.workspace_id, "drafts", llm, prompt, DraftAnswer)
    body, citations, removed = check_citations(answer.body, answer.citations, passages)
    flags: list[str] = []
    if removed:
        flags.append("citation_removed")
    if not answer.answered:
        flags.append("needs_handoff")
    return (
        {
            "body": body,
            "citations": citations,
            "language": language,
            "answered": answer.answered,
            "missing": answer.missing,
            "instruction": result.request.get("instruction", ""),
        },
        tuple(flags),
    )


def check_citations(
    body: str, cited: list[int], passages: list[Passage]
) -> tuple[str, list[dict[str, Any]], bool]:
    """The draft with references to articles it was not given removed, the articles it
    cites (in order of their numbers), and whether anything had to be removed."""
    given = range(1, len(passages) + 1)
    removed = any(n not in given for n in cited)

    def keep(match: re.Match[str]) -> str:
        nonlocal removed
        if int(match.group(1)) in given:
            return match.group(0)
        removed = True
        return ""

    checked = _CITATION.sub(keep, body)
    checked = re.sub(r"[ \t]+([.,;:!?])", r"\1", checked)
    checked = re.sub(r"[ \t]{2,}", " ", checked).strip()
    numbers = sorted(
        {n for n in cited if n in given} | {int(m) for m in _CITATION.findall(checked)}
    )
    return (
        checked,
        [
            {
                "number": n,
                "article_id": passages[n - 1].article_id,
                "title": passages[n - 1].title,
                "url": passages[n - 1].url,
            }
            for n in numbers
        ],
        removed,
    )


def _make_summary(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ticket, messages = _load_ticket(deps, result)
    clean = _redactor(settings)
    prompt = summary_prompt(clean(ticket.subject), _lines(messages, clean))
    answer = _ask(deps, ticket.workspace_id, "summaries", llm, prompt, SummaryAnswer)
    return {"summary": answer.summary, "next_step": answer.next_step}, ()


def _make_translation(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    if result.kind is ResultKind.TRANSLATION:
        _, messages = _load_ticket(deps, result)
        found = [m for m in messages if m.id == result.request["message_id"]]
        if not found:
            raise _GiveUp("message_not_found")
        text = found[0].text
    else:
        text = str(result.request["text"])
    to = str(result.request["to"])
    source = detect_language(text)
    if source == to:
        return {"text": text, "from": source, "to": to, "original": text}, ("same_language",)
    prompt = translation_prompt(_redactor(settings)(text), to)
    answer = _ask(deps, result.workspace_id, "translation", llm, prompt, TranslationAnswer)
    return {"text": answer.text, "from": source, "to": to, "original": text}, ()


def _team_replies(deps: AiDeps, workspace_id: str, wanted: int) -> list[str]:
    """The team's latest sent replies, newest tickets first (bounded reads)."""
    replies: list[str] = []
    cursor: str | None = None
    read = 0
    while len(replies) < wanted and read < TONE_TICKETS_READ:
        page = deps.tickets.store.list_tickets(workspace_id, TicketFilter(), cursor, 50)
        for ticket in page.tickets:
            read += 1
            for message in reversed(deps.tickets.store.list_messages(workspace_id, ticket.id, 200)):
                if (
                    message.kind is MessageKind.REPLY
                    and message.author.startswith("user:")
                    and message.text.strip()
                ):
                    replies.append(message.text[:1500])
                    if len(replies) >= wanted:
                        return replies
        cursor = page.next_cursor
        if cursor is None:
            break
    return replies


def _make_tone(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    wanted = int(result.request.get("sample_size", TONE_SAMPLE_DEFAULT))
    replies = _team_replies(deps, result.workspace_id, wanted)
    if not replies:
        raise _GiveUp("no_sent_replies")
    workspace = deps.tickets.accounts.get_workspace(result.workspace_id)
    clean = _redactor(settings)
    prompt = tone_prompt(
        workspace.name if workspace else "the team", settings.tone, [clean(r) for r in replies]
    )
    answer = _ask(deps, result.workspace_id, "tone", llm, prompt, ToneAnswer)
    return {"guide": answer.guide, "learned_from": len(replies)}, ()


_MAKERS: dict[
    ResultKind,
    Callable[[AiDeps, AiSettings, Llm, AiResult], tuple[dict[str, Any], tuple[str, ...]]],
] = {
    ResultKind.TRIAGE: _make_triage,
    ResultKind.DRAFT: _make_draft,
    ResultKind.SUMMARY: _make_summary,
    ResultKind.TRANSLATION: _make_translation,
    ResultKind.REPLY_TRANSLATION: _make_translation,
    ResultKind.TONE: _make_tone,
}


def _make_chat_answer(
    deps: AiDeps, settings: AiSettings, llm: Llm, result: AiResult
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The chat's answer bot (chalicelib/chat/bot.py) answers or hands off.  The bot's chat
    ports (chat settings, waking widgets, insights) come from the composition root: this
    worker is given the AI deps only."""
    from chalicelib import bootstrap

    return bootstrap.chat_answer_bot().make_answer(deps, settings, llm, result)


_MAKERS[ResultKind.CHAT_ANSWER] = _make_chat_answer
