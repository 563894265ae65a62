"""The opt-in gate and the rules of asking the model.

Nothing is asked while the workspace has not opted in (or the feature is off, or the
deployment has no provider).  Asking stores a `pending` result and queues a job for the
AI-jobs worker; a failed result stays failed until someone asks again explicitly, at most
once per `ASK_AGAIN_EVERY`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.model import Principal
from chalicelib.ai.deps import AiDeps
from chalicelib.ai.model import (
    FEATURE_OF,
    AiJob,
    AiResult,
    ResultKind,
    ResultStatus,
)
from chalicelib.ai.settings import AiSettings
from chalicelib.errors import (
    Conflict,
    ServiceUnavailable,
    TooManyRequests,
)
from chalicelib.tickets.lifecycle import get_ticket
from chalicelib.tickets.model import Ticket

STALE_PENDING = timedelta(minutes=30)  # longer than every retry of a job
# Each ask is a paid provider call: a failed result is asked again at most this often.
ASK_AGAIN_EVERY = timedelta(minutes=1)


def require_ai(deps: AiDeps, workspace_id: str, kind: ResultKind) -> AiSettings:
    """409 `ai_disabled` while the workspace has not opted in, 409 `ai_feature_disabled` when
    this feature is off, 503 `ai_not_configured` when the deployment has no provider."""
    settings = deps.settings.get(workspace_id)
    if not settings.enabled:
        raise Conflict(
            "AI is turned off for this workspace; an owner or admin can turn it on.",
            code="ai_disabled",
        )
    if not settings.allows(FEATURE_OF[kind]):
        raise Conflict(
            f"The AI feature '{FEATURE_OF[kind]}' is turned off for this workspace.",
            code="ai_feature_disabled",
        )
    if deps.llm_for(kind) is None:
        raise ServiceUnavailable(
            "No AI provider is configured for this deployment.", code="ai_not_configured"
        )
    return settings


def ai_ticket(deps: AiDeps, principal: Principal, ticket_ref: str, kind: ResultKind) -> Ticket:
    """The caller's ticket, once `require_ai` allowed this kind of result (404 otherwise)."""
    require_ai(deps, principal.workspace_id, kind)
    return get_ticket(deps.tickets, principal.workspace_id, ticket_ref)


def ask_for(deps: AiDeps, result: AiResult) -> AiResult:
    deps.store.put_result(result)
    deps.queue.send(AiJob.for_result(result))
    return result


def usable(result: AiResult | None, now: datetime) -> bool:
    """A stored result worth returning: ready, or pending for less than `STALE_PENDING` (a
    job lost to a crash is asked for again rather than awaited forever)."""
    if result is None or result.status is ResultStatus.FAILED:
        return False
    return result.status is ResultStatus.READY or now - result.requested_at < STALE_PENDING


def may_ask_again(result: AiResult, now: datetime) -> None:
    """429 `ai_asked_too_often` while a failed `result` was asked for less than
    `ASK_AGAIN_EVERY` ago (Retry-After: the seconds left)."""
    waited = now - result.requested_at
    if result.status is ResultStatus.FAILED and waited < ASK_AGAIN_EVERY:
        raise TooManyRequests(
            "This was asked for less than a minute ago; ask again later.",
            code="ai_asked_too_often",
            retry_after_seconds=int((ASK_AGAIN_EVERY - waited).total_seconds()) + 1,
        )


def pending_result(
    principal: Principal,
    ticket_id: str,
    kind: ResultKind,
    key: str,
    now: datetime,
    *,
    basis: int = 0,
    request: dict[str, Any] | None = None,
) -> AiResult:
    return AiResult(
        workspace_id=principal.workspace_id,
        ticket_id=ticket_id,
        kind=kind,
        key=key,
        status=ResultStatus.PENDING,
        requested_by=principal.actor,
        requested_at=now,
        basis=basis,
        request=request or {},
    )
