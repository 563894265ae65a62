"""A workspace's AI settings.  AI is off until an owner or admin turns it on; every change is
recorded (who, when, what)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.accounts.model import Principal

if TYPE_CHECKING:
    from chalicelib.tickets.deps import EventPublisher
from chalicelib.errors import Forbidden
from chalicelib.ids import new_id

FEATURES = ("triage", "drafts", "translation", "summaries", "auto_apply_triage", "chat_answers")


@dataclass(frozen=True)
class Tone:
    description: str = ""
    sign_off: str = ""
    avoid: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redaction:
    """What is replaced before text leaves for a provider, besides card numbers (always)."""

    emails: bool = False
    phones: bool = False


@dataclass(frozen=True)
class AiSettings:
    enabled: bool = False
    features: dict[str, bool] = field(
        default_factory=lambda: {name: name != "auto_apply_triage" for name in FEATURES}
    )
    tone: Tone = field(default_factory=Tone)
    redaction: Redaction = field(default_factory=Redaction)

    def allows(self, feature: str) -> bool:
        """AI is on for the workspace and this feature is on."""
        return self.enabled and self.features.get(feature, False)


@dataclass(frozen=True)
class AiSettingsChange:
    id: str
    actor: str
    at: datetime
    before_enabled: bool
    after_enabled: bool
    summary: str  # which fields changed


class AiSettingsStore(Protocol):
    def get(self, workspace_id: str) -> AiSettings: ...
    def save(self, workspace_id: str, settings: AiSettings, change: AiSettingsChange) -> None:
        """Settings and their change record, in one transaction."""

    def changes(self, workspace_id: str, limit: int) -> list[AiSettingsChange]: ...


def ai_settings_of(
    store: AiSettingsStore, principal: Principal, changes_shown: int
) -> tuple[AiSettings, list[AiSettingsChange]]:
    """The caller's workspace's AI settings and their latest changes, newest first."""
    return store.get(principal.workspace_id), store.changes(principal.workspace_id, changes_shown)


def update_ai_settings(
    store: AiSettingsStore,
    events: EventPublisher,
    principal: Principal,
    now: datetime,
    *,
    enabled: bool | None,
    features: dict[str, bool] | None,
    tone: Tone | None,
    redaction: dict[str, bool] | None = None,
) -> tuple[AiSettings, AiSettings]:
    """Only owners and admins; records the change and returns the settings before and after.
    `features` and `redaction` change only the switches they name.  Turning AI on or off
    publishes `ai.settings_changed` (the knowledge-base index gains or drops embeddings)."""
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can change AI settings.", code="forbidden_role")
    before = store.get(principal.workspace_id)
    after = before
    changed: list[str] = []
    if enabled is not None and enabled != before.enabled:
        after, changed = replace(after, enabled=enabled), [*changed, "enabled"]
    if features is not None:
        merged = {**before.features, **features}
        if merged != before.features:
            after, changed = replace(after, features=merged), [*changed, "features"]
    if tone is not None and tone != before.tone:
        after, changed = replace(after, tone=tone), [*changed, "tone"]
    if redaction is not None:
        merged_redaction = replace(before.redaction, **redaction)
        if merged_redaction != before.redaction:
            after = replace(after, redaction=merged_redaction)
            changed = [*changed, "redaction"]
    if changed:
        store.save(
            principal.workspace_id,
            after,
            AiSettingsChange(
                id=new_id(),
                actor=principal.actor,
                at=now,
                before_enabled=before.enabled,
                after_enabled=after.enabled,
                summary=",".join(changed),
            ),
        )
    if after.enabled != before.enabled:
        events.publish("ai.settings_changed", principal.workspace_id, {"enabled": after.enabled})
    return before, after
