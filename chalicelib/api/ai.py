"""AI settings of the workspace (opt-in; owners and admins change them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api import plan_gate
from chalicelib.api.routing import Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.errors import NotFound
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.ai.model import AiResult
    from chalicelib.ai.settings import AiSettings, AiSettingsChange
    from chalicelib.api.schemas import (
        AiLogOut,
        AiLogQuery,
        AiSettingsIn,
        AiSettingsOut,
        AiUsageOut,
        AiUsageQuery,
        ToneGuideOut,
        ToneLearnIn,
    )

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
ai_settings = lazy_module("chalicelib.ai.settings")
ai_requests = lazy_module("chalicelib.ai.requests")
metering = lazy_module("chalicelib.ai.metering")
bp = Blueprint(__name__)
CHANGES_SHOWN = 20


def _out(settings: AiSettings, changes: list[AiSettingsChange]) -> AiSettingsOut:
    return schemas.AiSettingsOut(
        enabled=settings.enabled,
        features=settings.features,
        tone={
            "description": settings.tone.description,
            "sign_off": settings.tone.sign_off,
            "avoid": list(settings.tone.avoid),
        },
        redaction={"emails": settings.redaction.emails, "phones": settings.redaction.phones},
        configured=bool(get_settings().anthropic_api_key),
        changes=[
            {
                "actor": c.actor,
                "at": c.at,
                "enabled_before": c.before_enabled,
                "enabled_after": c.after_enabled,
                "changed": c.summary.split(","),
            }
            for c in changes
        ],
    )


@operation(
    bp,
    "GET",
    "/v1/workspace/ai",
    summary="AI settings (off unless an admin opted in)",
    tag="ai",
    response="AiSettingsOut",
    errors=(401,),
)
def get_ai(call: Call) -> AiSettingsOut:
    return _out(
        *ai_settings.ai_settings_of(bootstrap.ai_settings_store(), call.member, CHANGES_SHOWN)
    )


@operation(
    bp,
    "PUT",
    "/v1/workspace/ai",
    summary="Turn AI on or off, choose features and tone",
    tag="ai",
    body="AiSettingsIn",
    response="AiSettingsOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 422),
)
def put_ai(call: Call) -> AiSettingsOut:
    body: AiSettingsIn = call.body
    if body.enabled:
        plan_gate.require_feature(call.member.workspace_id, Feature.AI_TEAMMATE)
    features = (
        {k: v for k, v in body.features.model_dump().items() if v is not None}
        if body.features
        else None
    )
    tone = (
        ai_settings.Tone(
            description=body.tone.description,
            sign_off=body.tone.sign_off,
            avoid=tuple(body.tone.avoid),
        )
        if body.tone
        else None
    )
    ai_settings.update_ai_settings(
        bootstrap.ai_settings_store(),
        bootstrap.ticket_deps().events,
        call.member,
        bootstrap.clock().now(),
        enabled=body.enabled,
        features=features,
        tone=tone,
        redaction=(
            {k: v for k, v in body.redaction.model_dump().items() if v is not None}
            if body.redaction
            else None
        ),
    )
    return _out(
        *ai_settings.ai_settings_of(bootstrap.ai_settings_store(), call.member, CHANGES_SHOWN)
    )


def tone_out(result: AiResult | None) -> ToneGuideOut:
    if result is None:
        raise NotFound("The team's tone has not been learned yet.", code="no_tone_guide")
    return schemas.ToneGuideOut(
        status=result.status.value,
        failure=result.failure,
        flags=list(result.flags),
        requested_at=result.requested_at,
        completed_at=result.completed_at,
        guide=result.payload.get("guide"),
        learned_from=result.payload.get("learned_from"),
    )


@operation(
    bp,
    "POST",
    "/v1/workspace/ai/tone/learn",
    gate=Feature.AI_TEAMMATE,
    summary="Learn the team's tone of voice from its latest sent replies (queued)",
    tag="ai",
    body="ToneLearnIn",
    response="ToneGuideOut",
    status=202,
    roles=MANAGERS,
    errors=(400, 401, 403, 409, 422, 503),
)
def learn_tone(call: Call) -> ToneGuideOut:
    body: ToneLearnIn = call.body
    return tone_out(ai_requests.learn_tone(bootstrap.ai_deps(), call.member, body.sample_size))


@operation(
    bp,
    "GET",
    "/v1/workspace/ai/tone",
    summary="The learned style guide drafts follow",
    tag="ai",
    response="ToneGuideOut",
    errors=(401, 404),
)
def get_tone(call: Call) -> ToneGuideOut:
    return tone_out(ai_requests.tone_guide(bootstrap.ai_deps(), call.member.workspace_id))


@operation(
    bp,
    "GET",
    "/v1/workspace/ai/log",
    summary="Every AI provider call of the workspace (no content), newest first",
    tag="ai",
    query="AiLogQuery",
    response="AiLogOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 422),
)
def ai_log(call: Call) -> AiLogOut:
    query: AiLogQuery = call.query
    calls, cursor = metering.call_log(bootstrap.ai_store(), call.member, query.limit, query.cursor)
    return schemas.AiLogOut(
        calls=[
            {
                "id": c.id,
                "feature": c.feature,
                "provider": c.provider,
                "model": c.model,
                "at": c.at,
                "duration_ms": c.duration_ms,
                "outcome": c.outcome.value,
                "input_tokens": c.input_tokens,
                "output_tokens": c.output_tokens,
                "cache_read_tokens": c.cache_read_tokens,
                "cache_write_tokens": c.cache_write_tokens,
            }
            for c in calls
        ],
        next_cursor=cursor,
    )


@operation(
    bp,
    "GET",
    "/v1/workspace/ai/usage",
    summary="AI provider calls and tokens in a month, per feature",
    tag="ai",
    query="AiUsageQuery",
    response="AiUsageOut",
    roles=MANAGERS,
    errors=(401, 403, 422),
)
def ai_usage(call: Call) -> AiUsageOut:
    query: AiUsageQuery = call.query
    month = query.month or f"{bootstrap.clock().now():%Y-%m}"
    rows = metering.monthly_usage(bootstrap.ai_store(), call.member, month)
    return schemas.AiUsageOut(
        month=month,
        features=[
            {
                "feature": r.feature,
                "provider": r.provider,
                "calls": r.calls,
                "failed_calls": r.failed_calls,
                "input_tokens": r.input_tokens,
                "output_tokens": r.output_tokens,
                "cache_read_tokens": r.cache_read_tokens,
                "cache_write_tokens": r.cache_write_tokens,
            }
            for r in rows
        ],
        total_calls=sum(r.calls for r in rows),
        total_input_tokens=sum(
            r.input_tokens + r.cache_read_tokens + r.cache_write_tokens for r in rows
        ),
        total_output_tokens=sum(r.output_tokens for r in rows),
    )
