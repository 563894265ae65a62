"""AI settings and their change log (single table).

| access pattern              | served by                                         |
|-----------------------------|---------------------------------------------------|
| a workspace's AI settings   | GetItem PK=WS#<ws>, SK=SETTINGS#AI                |
| its changes, newest first   | Query PK=WS#<ws>, SK begins_with AICHANGE# (≤ 50) |
"""

from __future__ import annotations

import json

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.ai.settings import AiSettings, AiSettingsChange, Tone
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.transactions import transaction

SETTINGS_SK = "SETTINGS#AI"
CHANGE_PREFIX = "AICHANGE#"


class AiSettingsItem(Item, discriminator="ai_settings"):
    enabled = BooleanAttribute(default=False)
    features = UnicodeAttribute(default="{}")  # JSON: feature -> on/off
    tone = UnicodeAttribute(default="{}")  # JSON: description, sign_off, avoid


class AiSettingsChangeItem(Item, discriminator="ai_settings_change"):
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    before_enabled = BooleanAttribute()
    after_enabled = BooleanAttribute()
    summary = UnicodeAttribute()


class DynamoAiSettingsStore:
    def get(self, workspace_id: str) -> AiSettings:
        try:
            item = AiSettingsItem.get(
                keys.workspace_pk(workspace_id), SETTINGS_SK, consistent_read=True
            )
        except AiSettingsItem.DoesNotExist:
            return AiSettings()
        tone = json.loads(item.tone or "{}")
        return AiSettings(
            enabled=bool(item.enabled),
            features={**AiSettings().features, **json.loads(item.features or "{}")},
            tone=Tone(
                description=tone.get("description", ""),
                sign_off=tone.get("sign_off", ""),
                avoid=tuple(tone.get("avoid", [])),
            ),
        )

    def save(self, workspace_id: str, settings: AiSettings, change: AiSettingsChange) -> None:
        pk = keys.workspace_pk(workspace_id)
        with transaction() as tx:
            tx.save(
                AiSettingsItem(
                    pk,
                    SETTINGS_SK,
                    enabled=settings.enabled,
                    features=json.dumps(settings.features, sort_keys=True),
                    tone=json.dumps(
                        {
                            "description": settings.tone.description,
                            "sign_off": settings.tone.sign_off,
                            "avoid": list(settings.tone.avoid),
                        }
                    ),
                )
            )
            tx.save(
                AiSettingsChangeItem(
                    pk,
                    f"{CHANGE_PREFIX}{change.id}",
                    actor=change.actor,
                    at=change.at,
                    before_enabled=change.before_enabled,
                    after_enabled=change.after_enabled,
                    summary=change.summary,
                )
            )

    def changes(self, workspace_id: str, limit: int) -> list[AiSettingsChange]:
        items = AiSettingsChangeItem.query(
            keys.workspace_pk(workspace_id),
            AiSettingsChangeItem.sk.startswith(CHANGE_PREFIX),
            scan_index_forward=False,
            limit=limit,
        )
        return [
            AiSettingsChange(
                id=i.sk.removeprefix(CHANGE_PREFIX),
                actor=i.actor,
                at=i.at,
                before_enabled=bool(i.before_enabled),
                after_enabled=bool(i.after_enabled),
                summary=i.summary,
            )
            for i in items
        ]
