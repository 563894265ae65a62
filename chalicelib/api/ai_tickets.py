"""The AI teammate on a ticket: drafts, the summary and translations.

Each is made by a queue job: asking answers 202 with `status: pending`; the same resource
answers 200 once `ready` (or `failed`, with the reason).  A GET never asks the model again
for a failed result: a POST does, at most once a minute per result (429
`ai_asked_too_often` with Retry-After beyond).  While the workspace has AI off: 409
`ai_disabled`; without a provider key in this deployment: 503 `ai_not_configured`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.routing import JSON, Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.ai.model import AiResult
    from chalicelib.api.schemas import (
        DraftIn,
        ReplyTranslationIn,
        TranslateIn,
        TriageOut,
    )

schemas = lazy_module("chalicelib.api.schemas")
ai_requests = lazy_module("chalicelib.ai.requests")
model = lazy_module("chalicelib.ai.model")
bp = Blueprint(__name__)


def _base(result: AiResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "failure": result.failure,
        "flags": list(result.flags),
        "requested_at": result.requested_at,
        "completed_at": result.completed_at,
    }


def _answer(out: Any, result: AiResult) -> Response:
    """202 while the job is pending, 200 once it is done."""
    status = 202 if result.status.value == "pending" else 200
    return Response(
        body=json.dumps(out.model_dump(mode="json")),
        status_code=status,
        headers={"Content-Type": JSON},
    )


def draft_out(result: AiResult) -> Any:
    p = result.payload
    return schemas.DraftOut(
        **_base(result),
        id=result.key,
        instruction=str(result.request.get("instruction", "")),
        body=p.get("body"),
        citations=p.get("citations", []),
        language=p.get("language"),
        answered=p.get("answered"),
        missing=p.get("missing"),
    )


def triage_out(result: AiResult) -> TriageOut:
    p = result.payload
    return schemas.TriageOut(
        **_base(result),
        language=p.get("language"),
        tags=p.get("tags", []),
        sentiment=p.get("sentiment"),
        sentiment_score=p.get("sentiment_score"),
        priority=p.get("priority"),
        priority_reason=p.get("priority_reason"),
        summary=p.get("summary"),
        applied=bool(p.get("applied")),
    )


def translation_out(result: AiResult) -> Any:
    p = result.payload
    return schemas.MessageTranslationOut(
        **_base(result),
        id=result.key,
        text=p.get("text"),
        source_language=p.get("from"),
        to=str(result.request.get("to", "")),
        original=p.get("original"),
    )


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/drafts",
    gate=Feature.AI_TEAMMATE,
    summary="Ask the AI for a reply draft grounded in the knowledge base (queued)",
    tag="ai",
    body="DraftIn",
    response="DraftOut",
    status=202,
    also=(200,),
    errors=(400, 401, 404, 409, 422, 503),
)
def request_draft(call: Call) -> Response:
    body: DraftIn = call.body
    result = ai_requests.request_draft(
        bootstrap.ai_deps(), call.member, call.params["ticket_id"], body.instruction
    )
    return _answer(draft_out(result), result)


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/drafts/latest",
    summary="The latest draft (202 while it is being written)",
    tag="ai",
    response="DraftOut",
    also=(202,),
    errors=(401, 404, 409, 503),
)
def latest_draft(call: Call) -> Response:
    result = ai_requests.latest_draft(bootstrap.ai_deps(), call.member, call.params["ticket_id"])
    return _answer(draft_out(result), result)


def _summary_answer(result: AiResult) -> Response:
    out = schemas.SummaryOut(
        **_base(result),
        summary=result.payload.get("summary"),
        next_step=result.payload.get("next_step"),
        message_count=result.basis,
    )
    return _answer(out, result)


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/summary",
    summary=(
        "A summary of the conversation, cached until a new message arrives (a failed one "
        "stays failed until asked again with POST)"
    ),
    tag="ai",
    response="SummaryOut",
    also=(202,),
    errors=(401, 404, 409, 503),
)
def summary(call: Call) -> Response:
    result = ai_requests.request_summary(bootstrap.ai_deps(), call.member, call.params["ticket_id"])
    return _summary_answer(result)


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/summary",
    gate=Feature.AI_TEAMMATE,
    summary=(
        "Ask for the summary again after it failed (queued; at most once a minute per "
        "ticket, 429 beyond); a ready or pending summary is returned as it is"
    ),
    tag="ai",
    response="SummaryOut",
    status=202,
    also=(200,),
    errors=(401, 404, 409, 429, 503),
)
def ask_summary_again(call: Call) -> Response:
    result = ai_requests.request_summary(
        bootstrap.ai_deps(), call.member, call.params["ticket_id"], again=True
    )
    return _summary_answer(result)


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/messages/{message_id}/translate",
    gate=Feature.AI_TEAMMATE,
    summary=(
        "Translate a message for the agent (queued; made once per language; a failed one is "
        "asked again at most once a minute, 429 beyond)"
    ),
    tag="ai",
    body="TranslateIn",
    response="MessageTranslationOut",
    status=202,
    also=(200,),
    errors=(400, 401, 404, 409, 422, 429, 503),
)
def translate_message(call: Call) -> Response:
    body: TranslateIn = call.body
    result = ai_requests.request_message_translation(
        bootstrap.ai_deps(),
        call.member,
        call.params["ticket_id"],
        call.params["message_id"],
        body.to,
    )
    return _answer(translation_out(result), result)


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/messages/{message_id}/translations/{language}",
    summary="A message's translation as asked for (202 while it is being made; never asks again)",
    tag="ai",
    response="MessageTranslationOut",
    also=(202,),
    errors=(401, 404, 409, 422, 503),
)
def message_translation(call: Call) -> Response:
    result = ai_requests.message_translation(
        bootstrap.ai_deps(),
        call.member,
        call.params["ticket_id"],
        call.params["message_id"],
        call.params["language"],
    )
    return _answer(translation_out(result), result)


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/reply-translations",
    gate=Feature.AI_TEAMMATE,
    summary="Translate a reply into the customer's language before sending it (queued)",
    tag="ai",
    body="ReplyTranslationIn",
    response="MessageTranslationOut",
    status=202,
    also=(200,),
    errors=(400, 401, 404, 409, 422, 503),
)
def translate_reply(call: Call) -> Response:
    body: ReplyTranslationIn = call.body
    result = ai_requests.request_reply_translation(
        bootstrap.ai_deps(), call.member, call.params["ticket_id"], body.text, body.to
    )
    return _answer(translation_out(result), result)


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/reply-translations/{translation_id}",
    summary="A reply translation (202 while it is being made)",
    tag="ai",
    response="MessageTranslationOut",
    also=(202,),
    errors=(401, 404, 409, 503),
)
def get_reply_translation(call: Call) -> Response:
    result = ai_requests.get_result(
        bootstrap.ai_deps(),
        call.member,
        call.params["ticket_id"],
        model.ResultKind.REPLY_TRANSLATION,
        call.params["translation_id"],
    )
    return _answer(translation_out(result), result)
