"""Ticket events that ask for AI work: a new ticket or customer message is triaged when the
workspace has triage on."""

from __future__ import annotations

from datetime import datetime

from chalicelib.ai.asking import (
    ask_for,
    usable,
)
from chalicelib.ai.deps import AiDeps
from chalicelib.ai.model import (
    AiResult,
    ResultKind,
    ResultStatus,
)


def on_ticket_event(deps: AiDeps, workspace_id: str, ticket_id: str, at: datetime) -> bool:
    """A new ticket or customer message: queue triage when the workspace has it on (one
    GetItem when it does not).  Returns True when a job was queued."""
    settings = deps.settings.get(workspace_id)
    if not settings.allows("triage") or deps.llm_for(ResultKind.TRIAGE) is None:
        return False
    ticket = deps.tickets.store.get_ticket(workspace_id, ticket_id)
    if ticket is None or ticket.merged_into:
        return False
    existing = deps.store.get_result(workspace_id, ticket_id, ResultKind.TRIAGE, "")
    if existing is not None and existing.basis >= ticket.message_count and usable(existing, at):
        return False  # already triaged (or being triaged) with this message
    result = AiResult(
        workspace_id=workspace_id,
        ticket_id=ticket_id,
        kind=ResultKind.TRIAGE,
        key="",
        status=ResultStatus.PENDING,
        requested_by="system",
        requested_at=at,
        basis=ticket.message_count,
        payload=existing.payload if existing else {},
    )
    ask_for(deps, result)
    return True
