"""The chat widget's settings (members read them; owners and admins change them), its
public key and the identity secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api import plan_gate
from chalicelib.api.routing import Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.model import Workspace
    from chalicelib.api.schemas import ChatSettingsIn, ChatSettingsOut, IdentitySecretOut
    from chalicelib.chat.model import ChatSettings

schemas = lazy_module("chalicelib.api.schemas")
chat_settings = lazy_module("chalicelib.chat.settings")
chat_model = lazy_module("chalicelib.chat.model")
office_hours = lazy_module("chalicelib.chat.office_hours")
bp = Blueprint(__name__)


def _workspace(call: Call) -> Workspace:
    return call.workspace(bootstrap.account_deps().store)


def settings_out(workspace: Workspace, settings: ChatSettings) -> ChatSettingsOut:
    deps = bootstrap.chat_deps()
    return schemas.ChatSettingsOut(
        enabled=settings.enabled,
        public_key=settings.public_key,
        snippet=chat_settings.snippet(get_settings().public_base_url, settings.public_key),
        colour=settings.colour,
        position=settings.position.value,
        greeting={locale: chat_settings.greeting_in(settings, locale) for locale in ("en", "fr")},
        team_name=settings.team_name or workspace.name,
        team_photo_url=settings.team_photo_url,
        office_hours={
            "time_zone": workspace.timezone,
            "weekly": {
                day: [{"start": s.start, "end": s.end} for s in spans]
                for day, spans in settings.office_hours.weekly.items()
            },
            "always_open": settings.office_hours.always_open,
        },
        allowed_origins=list(settings.allowed_origins),
        pre_chat_fields={
            "name": settings.pre_chat_fields.name.value,
            "email": settings.pre_chat_fields.email.value,
        },
        ai_answers=settings.ai_answers,
        ai_answers_effective=chat_settings.ai_answers_effective(deps, workspace.id, settings),
        identity_verification={
            "required": settings.identity_required,
            "secret_set": settings.identity_secret is not None,
        },
    )


@operation(
    bp,
    "GET",
    "/v1/chat/settings",
    summary="The chat widget's settings, public key and script tag",
    tag="chat",
    response="ChatSettingsOut",
    errors=(401,),
)
def get_chat_settings(call: Call) -> ChatSettingsOut:
    workspace = _workspace(call)
    return settings_out(
        workspace, chat_settings.current_settings(bootstrap.chat_deps(), workspace.id)
    )


@operation(
    bp,
    "PUT",
    "/v1/chat/settings",
    summary="Change the chat widget: on/off, look, greeting, office hours, allowed origins, "
    "pre-chat fields, AI answers, identity verification",
    tag="chat",
    body="ChatSettingsIn",
    response="ChatSettingsOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 422),
    description="Fields left out stay as they are. `allowed_origins`: up to 20 "
    "`https://host[:port]` (or `http://localhost[:port]`, `http://127.0.0.1[:port]`), "
    "normalised; empty refuses the widget everywhere. 422 `ai_not_enabled` for "
    "`ai_answers: true` while AI is off for the workspace; 422 `identity_secret_missing` "
    "for `identity_verification.required` before the identity secret exists.",
)
def put_chat_settings(call: Call) -> ChatSettingsOut:
    body: ChatSettingsIn = call.body
    if body.enabled:
        plan_gate.require_feature(call.member.workspace_id, Feature.LIVE_CHAT)
    workspace = _workspace(call)
    deps = bootstrap.chat_deps()
    hours = None
    if body.office_hours is not None:
        current = chat_settings.current_settings(deps, workspace.id).office_hours
        weekly = (
            {
                day: [chat_model.OpeningSpan(s.start, s.end) for s in spans]
                for day, spans in body.office_hours.weekly.items()
            }
            if body.office_hours.weekly is not None
            else current.weekly
        )
        always = (
            body.office_hours.always_open
            if body.office_hours.always_open is not None
            else current.always_open
        )
        hours = office_hours.checked_hours(weekly, always)
    change = chat_settings.SettingsChange(
        enabled=body.enabled,
        colour=body.colour,
        position=chat_model.Position(body.position) if body.position else None,
        greeting=(
            {k: v for k, v in body.greeting.model_dump().items() if v is not None}
            if body.greeting is not None
            else None
        ),
        team_name=body.team_name,
        team_photo_url=body.team_photo_url or None,
        clear_team_photo=body.team_photo_url == "",
        office_hours=hours,
        allowed_origins=body.allowed_origins,
        pre_chat_fields=(
            chat_model.PreChatFields(
                name=chat_model.FieldRule(body.pre_chat_fields.name),
                email=chat_model.FieldRule(body.pre_chat_fields.email),
            )
            if body.pre_chat_fields is not None
            else None
        ),
        ai_answers=body.ai_answers,
        identity_required=(
            body.identity_verification.required if body.identity_verification else None
        ),
    )
    updated = chat_settings.change_settings(deps, workspace.id, change)
    return settings_out(workspace, updated)


@operation(
    bp,
    "POST",
    "/v1/chat/settings/public-key",
    gate=Feature.LIVE_CHAT,
    summary="Rotate the widget's public key (the old script tag stops working at once)",
    tag="chat",
    response="ChatSettingsOut",
    roles=MANAGERS,
    errors=(401, 403),
)
def rotate_public_key(call: Call) -> ChatSettingsOut:
    workspace = _workspace(call)
    return settings_out(
        workspace, chat_settings.rotate_public_key(bootstrap.chat_deps(), workspace.id)
    )


@operation(
    bp,
    "POST",
    "/v1/chat/settings/identity-secret",
    gate=Feature.LIVE_CHAT,
    summary="Create or rotate the identity secret (shown once) that signs visitors' identities",
    tag="chat",
    response="IdentitySecretOut",
    roles=MANAGERS,
    errors=(401, 403),
)
def rotate_identity_secret(call: Call) -> IdentitySecretOut:
    workspace = _workspace(call)
    _, secret = chat_settings.rotate_identity_secret(bootstrap.chat_deps(), workspace.id)
    return schemas.IdentitySecretOut(identity_secret=secret)
