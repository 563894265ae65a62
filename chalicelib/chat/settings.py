"""The widget's settings: defaults, validation and changes (owners and admins), the public
key that names the workspace in the script tag, and the identity secret."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.identity import new_identity_secret
from chalicelib.chat.model import (
    ChatSettings,
    OfficeHours,
    Position,
    PreChatFields,
)
from chalicelib.chat.ports import SettingsExist
from chalicelib.errors import ValidationFailed
from chalicelib.translations import words

PUBLIC_KEY_PREFIX = "pk_"
PUBLIC_KEY_LENGTH = 22
MAX_ALLOWED_ORIGINS = 20
LOCALES = ("en", "fr")
_BASE62 = string.ascii_letters + string.digits
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def new_public_key() -> str:
    return PUBLIC_KEY_PREFIX + "".join(secrets.choice(_BASE62) for _ in range(PUBLIC_KEY_LENGTH))


def looks_like_public_key(value: str) -> bool:
    return (
        len(value) == len(PUBLIC_KEY_PREFIX) + PUBLIC_KEY_LENGTH
        and value.startswith(PUBLIC_KEY_PREFIX)
        and all(ch in _BASE62 for ch in value[len(PUBLIC_KEY_PREFIX) :])
    )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, "message": message}])


def normalise_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port or a trailing slash;
    None unless it is https, or http on localhost / 127.0.0.1, with no path, query or user."""
    text = value.strip()
    if not text or len(text) > 300:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    if parts.password or "@" in parts.netloc:
        return None
    scheme = parts.scheme.lower()
    if scheme == "https":
        if not _HOST.match(host):
            return None
        default = 443
    elif scheme == "http" and host in LOCAL_HOSTS:
        default = 80
    else:
        return None
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def checked_origins(values: list[str]) -> tuple[str, ...]:
    if len(values) > MAX_ALLOWED_ORIGINS:
        raise _invalid("allowed_origins", f"at most {MAX_ALLOWED_ORIGINS} origins")
    origins: list[str] = []
    for value in values:
        origin = normalise_origin(value)
        if origin is None:
            raise _invalid(
                "allowed_origins",
                f"{value[:80]!r} is not https://host[:port] (or http://localhost[:port], "
                "http://127.0.0.1[:port])",
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def default_greeting(locale: str) -> str:
    return words(locale)["chat.greeting"]


def greeting_in(settings: ChatSettings, locale: str) -> str:
    return settings.greeting.get(locale) or default_greeting(locale)


@dataclass(frozen=True)
class SettingsChange:
    """What a PUT sets; None: left as it is."""

    enabled: bool | None = None
    colour: str | None = None
    position: Position | None = None
    greeting: dict[str, str] | None = None
    team_name: str | None = None
    team_photo_url: str | None = None
    clear_team_photo: bool = False
    office_hours: OfficeHours | None = None
    allowed_origins: list[str] | None = None
    pre_chat_fields: PreChatFields | None = None
    ai_answers: bool | None = None
    identity_required: bool | None = None


def current_settings(deps: ChatDeps, workspace_id: str) -> ChatSettings:
    """The workspace's settings, created with their public key on first use (one GetItem;
    the first time, one transaction more)."""
    found = deps.store.get_settings(workspace_id)
    if found is not None:
        return found
    created = ChatSettings(public_key=new_public_key())
    try:
        deps.store.create_settings(workspace_id, created)
    except SettingsExist:
        raced = deps.store.get_settings(workspace_id)
        if raced is not None:
            return raced
        raise
    return created


def change_settings(deps: ChatDeps, workspace_id: str, change: SettingsChange) -> ChatSettings:
    """Applies `change` (422 for an invalid value, nothing written); `ai_answers` may be
    turned on only while the workspace has AI on.  One GetItem, one PutItem."""
    settings = current_settings(deps, workspace_id)
    updated = settings
    if change.enabled is not None:
        updated = replace(updated, enabled=change.enabled)
    if change.colour is not None:
        if not _COLOUR.match(change.colour):
            raise _invalid("colour", "a colour is #rrggbb")
        updated = replace(updated, colour=change.colour.lower())
    if change.position is not None:
        updated = replace(updated, position=change.position)
    if change.greeting is not None:
        unknown = set(change.greeting) - set(LOCALES)
        if unknown:
            raise _invalid("greeting", f"greetings are in {', '.join(LOCALES)}")
        updated = replace(
            updated,
            greeting={k: v.strip() for k, v in change.greeting.items() if v.strip()},
        )
    if change.team_name is not None:
        updated = replace(updated, team_name=change.team_name.strip())
    if change.clear_team_photo:
        updated = replace(updated, team_photo_url=None)
    elif change.team_photo_url is not None:
        url = change.team_photo_url.strip()
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url):
            raise _invalid("team_photo_url", "the team photo is an https:// address")
        updated = replace(updated, team_photo_url=url)
    if change.office_hours is not None:
        updated = replace(updated, office_hours=change.office_hours)
    if change.allowed_origins is not None:
        updated = replace(updated, allowed_origins=checked_origins(change.allowed_origins))
    if change.pre_chat_fields is not None:
        updated = replace(updated, pre_chat_fields=change.pre_chat_fields)
    if change.ai_answers is not None:
        if change.ai_answers and not deps.ai_enabled(workspace_id):
            raise ValidationFailed(
                "Turn AI on for the workspace first: the answer bot needs it.",
                code="ai_not_enabled",
                details=[{"field": "ai_answers", "message": "AI is off for the workspace"}],
            )
        updated = replace(updated, ai_answers=change.ai_answers)
    if change.identity_required is not None:
        if change.identity_required and not updated.identity_secret:
            raise ValidationFailed(
                "Create the identity secret first (POST /v1/chat/settings/identity-secret).",
                code="identity_secret_missing",
                details=[{"field": "identity_verification", "message": "no identity secret"}],
            )
        updated = replace(updated, identity_required=change.identity_required)
    if updated != settings:
        deps.store.save_settings(workspace_id, updated)
    return updated


def rotate_public_key(deps: ChatDeps, workspace_id: str) -> ChatSettings:
    """A new public key: the old one stops working at once (widgets must embed the new
    snippet).  One transaction: the settings, the new key's lookup, the old one's removal."""
    settings = current_settings(deps, workspace_id)
    rotated = replace(settings, public_key=new_public_key())
    deps.store.replace_public_key(workspace_id, settings, rotated)
    return rotated


def rotate_identity_secret(deps: ChatDeps, workspace_id: str) -> tuple[ChatSettings, str]:
    """A new identity secret (returned once: the settings show only that one is set); the
    old one stops verifying at once."""
    settings = current_settings(deps, workspace_id)
    secret = new_identity_secret()
    updated = replace(settings, identity_secret=secret)
    deps.store.save_settings(workspace_id, updated)
    return updated, secret


def snippet(public_base_url: str, public_key: str) -> str:
    return (
        f'<script src="{public_base_url.rstrip("/")}/chat/widget.js" '
        f'data-workspace="{public_key}" async></script>'
    )


def ai_answers_effective(deps: ChatDeps, workspace_id: str, settings: ChatSettings) -> bool:
    """Whether the answer bot answers now: chat AI answers on and AI on for the workspace."""
    return settings.ai_answers and deps.ai_enabled(workspace_id)


def widget_of_key(deps: ChatDeps, public_key: str) -> tuple[str, ChatSettings] | None:
    """The workspace a widget's public key names, and its settings; None for a key that
    is malformed, unknown or retired.  Two GetItems (none for a malformed key)."""
    if not looks_like_public_key(public_key):
        return None
    workspace_id = deps.store.workspace_of_key(public_key)
    settings = deps.store.get_settings(workspace_id) if workspace_id else None
    if workspace_id is None or settings is None or settings.public_key != public_key:
        return None
    return workspace_id, settings
