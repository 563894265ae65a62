"""AI settings of the workspace (opt-in; owners and admins change them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.ai.settings import AiSettings, Tone, update_ai_settings
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import AiSettingsIn, AiSettingsOut

schemas = lazy_module("chalicelib.api.schemas")
bp = Blueprint(__name__)
CHANGES_SHOWN = 20


def _out(workspace_id: str, settings: AiSettings) -> AiSettingsOut:
    changes = bootstrap.ai_settings_store().changes(workspace_id, CHANGES_SHOWN)
    return schemas.AiSettingsOut(
        enabled=settings.enabled,
        features=settings.features,
        tone={
            "description": settings.tone.description,
            "sign_off": settings.tone.sign_off,
            "avoid": list(settings.tone.avoid),
        },
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
        call.member.workspace_id, bootstrap.ai_settings_store().get(call.member.workspace_id)
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
    features = (
        {k: v for k, v in body.features.model_dump().items() if v is not None}
        if body.features
        else None
    )
    tone = (
        Tone(
            description=body.tone.description,
            sign_off=body.tone.sign_off,
            avoid=tuple(body.tone.avoid),
        )
        if body.tone
        else None
    )
    before = bootstrap.ai_settings_store().get(call.member.workspace_id)
    updated = update_ai_settings(
        bootstrap.ai_settings_store(),
        call.member,
        bootstrap.clock().now(),
        enabled=body.enabled,
        features=features,
        tone=tone,
    )
    if updated.enabled != before.enabled:
        # The knowledge-base index gains or drops its embeddings.
        bootstrap.ticket_deps().events.publish(
            "ai.settings_changed", call.member.workspace_id, {"enabled": updated.enabled}
        )
    return _out(call.member.workspace_id, updated)
