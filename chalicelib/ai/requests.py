"""What agents ask the AI teammate for through the API: drafts, summaries, translations and
the team's tone of voice.  Each request checks the opt-in gate and queues a job, or returns
the stored result."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.accounts.model import Principal
from chalicelib.ai.asking import (
    ai_ticket,
    ask_for,
    may_ask_again,
    pending_result,
    require_ai,
    usable,
)
from chalicelib.ai.deps import AiDeps
from chalicelib.ai.language import SUPPORTED_LANGUAGES, customer_language
from chalicelib.ai.model import (
    WORKSPACE_SCOPE,
    AiResult,
    ResultKind,
    ResultStatus,
)
from chalicelib.ai.ports import AiStore
from chalicelib.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chalicelib.ids import new_id
from chalicelib.tickets.lifecycle import get_ticket
from chalicelib.tickets.model import Ticket

TONE_SAMPLE_MAX = 50


def request_draft(
    deps: AiDeps, principal: Principal, ticket_ref: str, instruction: str
) -> AiResult:
    ticket = ai_ticket(deps, principal, ticket_ref, ResultKind.DRAFT)
    request: dict[str, Any] = {"instruction": instruction.strip()}
    if instruction.strip():
        previous = deps.store.latest_result(principal.workspace_id, ticket.id, ResultKind.DRAFT)
        if previous is not None and previous.status is ResultStatus.READY:
            request["previous_key"] = previous.key
    return ask_for(
        deps,
        pending_result(
            principal,
            ticket.id,
            ResultKind.DRAFT,
            new_id(),
            deps.tickets.clock.now(),
            basis=ticket.message_count,
            request=request,
        ),
    )


def latest_draft(deps: AiDeps, principal: Principal, ticket_ref: str) -> AiResult:
    ticket = ai_ticket(deps, principal, ticket_ref, ResultKind.DRAFT)
    draft = deps.store.latest_result(principal.workspace_id, ticket.id, ResultKind.DRAFT)
    if draft is None:
        raise NotFound("No draft was asked for on this ticket yet.", code="no_draft")
    return draft


def request_summary(
    deps: AiDeps, principal: Principal, ticket_ref: str, *, again: bool = False
) -> AiResult:
    """The cached summary while no message arrived since; otherwise a new one is made
    (queues a job).  A failed summary of the same messages is returned as it is unless
    `again` (an explicit ask, at most once per `ASK_AGAIN_EVERY`: 429 beyond)."""
    ticket = ai_ticket(deps, principal, ticket_ref, ResultKind.SUMMARY)
    now = deps.tickets.clock.now()
    cached = deps.store.get_result(principal.workspace_id, ticket.id, ResultKind.SUMMARY, "")
    if cached is not None and cached.basis == ticket.message_count:
        if usable(cached, now) or (cached.status is ResultStatus.FAILED and not again):
            return cached
        may_ask_again(cached, now)
    return ask_for(
        deps,
        pending_result(
            principal,
            ticket.id,
            ResultKind.SUMMARY,
            "",
            deps.tickets.clock.now(),
            basis=ticket.message_count,
        ),
    )


def _supported(language: str) -> str:
    language = language.strip().lower()
    if language not in SUPPORTED_LANGUAGES:
        raise ValidationFailed(
            f"Translation is offered into {', '.join(SUPPORTED_LANGUAGES)}.",
            details=[{"field": "to", "message": f"unsupported language {language!r}"}],
        )
    return language


def request_message_translation(
    deps: AiDeps, principal: Principal, ticket_ref: str, message_id: str, to: str
) -> AiResult:
    """A customer's message in the agent's language (made once, then served from store; a
    failed one is asked again at most once per `ASK_AGAIN_EVERY`: 429 beyond).  Queues a
    job when one is made."""
    ticket = ai_ticket(deps, principal, ticket_ref, ResultKind.TRANSLATION)
    to = _supported(to)
    messages = deps.tickets.store.list_messages(principal.workspace_id, ticket.id, 500)
    if not any(m.id == message_id for m in messages):
        raise NotFound("No such message on this ticket.", code="message_not_found")
    key = f"{message_id}:{to}"
    existing = deps.store.get_result(principal.workspace_id, ticket.id, ResultKind.TRANSLATION, key)
    if existing is not None:
        if usable(existing, deps.tickets.clock.now()):
            return existing
        may_ask_again(existing, deps.tickets.clock.now())
    return ask_for(
        deps,
        pending_result(
            principal,
            ticket.id,
            ResultKind.TRANSLATION,
            key,
            deps.tickets.clock.now(),
            request={"message_id": message_id, "to": to},
        ),
    )


def message_translation(
    deps: AiDeps, principal: Principal, ticket_ref: str, message_id: str, to: str
) -> AiResult:
    """The stored translation of a message as it is (never asks the model); 404 when none
    was asked for."""
    return get_result(
        deps, principal, ticket_ref, ResultKind.TRANSLATION, f"{message_id}:{_supported(to)}"
    )


def request_reply_translation(
    deps: AiDeps, principal: Principal, ticket_ref: str, text: str, to: str | None
) -> AiResult:
    """An agent's reply in the customer's language (default: the language the customer
    wrote in), to review and send with the original kept on the ticket."""
    ticket = ai_ticket(deps, principal, ticket_ref, ResultKind.REPLY_TRANSLATION)
    if to is None:
        messages = deps.tickets.store.list_messages(principal.workspace_id, ticket.id, 500)
        to = customer_language(messages)
        if to is None:
            raise ValidationFailed(
                "The customer's language could not be told; say which one.",
                details=[{"field": "to", "message": "required for this ticket"}],
            )
    to = _supported(to)
    return ask_for(
        deps,
        pending_result(
            principal,
            ticket.id,
            ResultKind.REPLY_TRANSLATION,
            new_id(),
            deps.tickets.clock.now(),
            request={"text": text, "to": to},
        ),
    )


def get_result(
    deps: AiDeps, principal: Principal, ticket_ref: str, kind: ResultKind, key: str
) -> AiResult:
    """The stored result as it is (never asks the model); 404 when there is none."""
    ticket = ai_ticket(deps, principal, ticket_ref, kind)
    result = deps.store.get_result(principal.workspace_id, ticket.id, kind, key)
    if result is None:
        raise NotFound("No such AI result on this ticket.", code="ai_result_not_found")
    return result


def translated_reply_original(
    deps: AiDeps, workspace_id: str, ticket_ref: str, translation_id: str
) -> tuple[str, str | None]:
    """The agent's original text (and its language) of a ready reply translation on this
    ticket, to keep beside the translated reply that is sent."""
    ticket = get_ticket(deps.tickets, workspace_id, ticket_ref)
    result = deps.store.get_result(
        workspace_id, ticket.id, ResultKind.REPLY_TRANSLATION, translation_id
    )
    if result is None:
        raise NotFound("No such reply translation on this ticket.", code="translation_not_found")
    if result.status is not ResultStatus.READY:
        raise Conflict("The translation is not ready.", code="translation_not_ready")
    return str(result.payload.get("original", "")), result.payload.get("from")


def learn_tone(deps: AiDeps, principal: Principal, sample_size: int) -> AiResult:
    """Owners and admins: distil a style guide from the team's latest sent replies."""
    if not principal.role.can_manage_members:
        raise Forbidden(
            "Only owners and admins can teach the AI the team's tone.", code="forbidden_role"
        )
    require_ai(deps, principal.workspace_id, ResultKind.TONE)
    current = deps.store.get_result(principal.workspace_id, WORKSPACE_SCOPE, ResultKind.TONE, "")
    pending = pending_result(
        principal,
        WORKSPACE_SCOPE,
        ResultKind.TONE,
        "",
        deps.tickets.clock.now(),
        request={"sample_size": max(1, min(sample_size, TONE_SAMPLE_MAX))},
    )
    if current is not None:  # the guide in use stays until the new one is ready
        pending = replace(pending, payload=current.payload)
    return ask_for(deps, pending)


def tone_guide(deps: AiDeps, workspace_id: str) -> AiResult | None:
    return deps.store.get_result(workspace_id, WORKSPACE_SCOPE, ResultKind.TONE, "")


def ticket_triage(store: AiStore, ticket: Ticket) -> AiResult | None:
    """The AI triage shown with a ticket the caller may see (one GetItem: showing it needs
    none of the teammate's other services)."""
    return store.get_result(ticket.workspace_id, ticket.id, ResultKind.TRIAGE, "")
