"""AI settings and their change log, AI results, the provider call log and usage (single
table).

| access pattern                       | served by                                             |
|--------------------------------------|-------------------------------------------------------|
| a workspace's AI settings            | GetItem PK=WS#<ws>, SK=SETTINGS#AI                    |
| its changes, newest first            | Query PK=WS#<ws>, SK begins_with AICHANGE# (≤ 50)     |
| an AI result of a ticket             | GetItem PK=WS#<ws>#T#<ticket>, SK=AI#<kind>#<key>     |
| a ticket's latest draft              | Query PK=WS#<ws>#T#<ticket>, begins_with AI#draft#, 1 |
| the workspace's tone guide           | GetItem PK=WS#<ws>, SK=AI#tone#                       |
| provider calls, newest first (paged) | Query PK=WS#<ws>, SK begins_with AICALL# (400-day TTL)|
| a month's usage per feature          | Query PK=WS#<ws>, SK begins_with AIUSAGE#<yyyy-mm>#   |
| record a call                        | PutItem AICALL# + UpdateItem ADD AIUSAGE#...          |
"""

from __future__ import annotations

import json
from datetime import timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.ai.model import (
    WORKSPACE_SCOPE,
    AiResult,
    CallOutcome,
    MonthlyUsage,
    ProviderCall,
    ResultKind,
    ResultStatus,
)
from chalicelib.ai.settings import AiSettings, AiSettingsChange, Redaction, Tone
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.paging import decode_cursor, encode_cursor
from chalicelib.store.transactions import transaction

SETTINGS_SK = "SETTINGS#AI"
CHANGE_PREFIX = "AICHANGE#"
RESULT_PREFIX = "AI#"
CALL_PREFIX = "AICALL#"
USAGE_PREFIX = "AIUSAGE#"
CALL_LOG_DAYS = 400


class AiSettingsItem(Item, discriminator="ai_settings"):
    enabled = BooleanAttribute(default=False)
    features = UnicodeAttribute(default="{}")  # JSON: feature -> on/off
    tone = UnicodeAttribute(default="{}")  # JSON: description, sign_off, avoid
    redaction = UnicodeAttribute(default="{}")  # JSON: emails, phones


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
        redaction = json.loads(item.redaction or "{}")
        return AiSettings(
            enabled=bool(item.enabled),
            features={**AiSettings().features, **json.loads(item.features or "{}")},
            tone=Tone(
                description=tone.get("description", ""),
                sign_off=tone.get("sign_off", ""),
                avoid=tuple(tone.get("avoid", [])),
            ),
            redaction=Redaction(
                emails=bool(redaction.get("emails")), phones=bool(redaction.get("phones"))
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
                    redaction=json.dumps(
                        {
                            "emails": settings.redaction.emails,
                            "phones": settings.redaction.phones,
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


class AiResultItem(Item, discriminator="ai_result"):
    workspace_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    result_kind = UnicodeAttribute()
    result_key = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    basis = NumberAttribute(default=0)
    request = UnicodeAttribute(default="{}")  # JSON
    payload = UnicodeAttribute(default="{}")  # JSON
    completed_at = UTCDateTimeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    flags = UnicodeAttribute(default="")  # comma-separated


class AiCallItem(Item, discriminator="ai_call"):
    feature = UnicodeAttribute()
    provider = UnicodeAttribute()
    model = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    duration_ms = NumberAttribute()
    outcome = UnicodeAttribute()
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cache_read_tokens = NumberAttribute(default=0)
    cache_write_tokens = NumberAttribute(default=0)


class AiUsageItem(Item, discriminator="ai_usage"):
    calls = NumberAttribute(default=0)
    failed_calls = NumberAttribute(default=0)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cache_read_tokens = NumberAttribute(default=0)
    cache_write_tokens = NumberAttribute(default=0)


def _result_pk(workspace_id: str, ticket_id: str) -> str:
    if ticket_id == WORKSPACE_SCOPE:
        return keys.workspace_pk(workspace_id)
    return keys.ticket_pk(workspace_id, ticket_id)


def _result_sk(kind: ResultKind, key: str) -> str:
    return f"{RESULT_PREFIX}{kind.value}#{key}"


def _result(item: AiResultItem) -> AiResult:
    return AiResult(
        workspace_id=item.workspace_id,
        ticket_id=item.ticket_id,
        kind=ResultKind(item.result_kind),
        key=item.result_key or "",
        status=ResultStatus(item.status),
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        basis=int(item.basis or 0),
        request=json.loads(item.request or "{}"),
        payload=json.loads(item.payload or "{}"),
        completed_at=item.completed_at,
        failure=item.failure,
        flags=tuple(f for f in (item.flags or "").split(",") if f),
    )


class DynamoAiStore:
    def get_result(
        self, workspace_id: str, ticket_id: str, kind: ResultKind, key: str
    ) -> AiResult | None:
        try:
            item = AiResultItem.get(
                _result_pk(workspace_id, ticket_id),
                _result_sk(kind, key),
                consistent_read=True,
            )
        except AiResultItem.DoesNotExist:
            return None
        return _result(item)

    def latest_result(self, workspace_id: str, ticket_id: str, kind: ResultKind) -> AiResult | None:
        for item in AiResultItem.query(
            _result_pk(workspace_id, ticket_id),
            AiResultItem.sk.startswith(_result_sk(kind, "")),
            scan_index_forward=False,
            consistent_read=True,
            limit=1,
        ):
            return _result(item)
        return None

    def put_result(self, result: AiResult) -> None:
        AiResultItem(
            _result_pk(result.workspace_id, result.ticket_id),
            _result_sk(result.kind, result.key),
            workspace_id=result.workspace_id,
            ticket_id=result.ticket_id,
            result_kind=result.kind.value,
            result_key=result.key,
            status=result.status.value,
            requested_by=result.requested_by,
            requested_at=result.requested_at,
            basis=result.basis,
            request=json.dumps(result.request, ensure_ascii=False),
            payload=json.dumps(result.payload, ensure_ascii=False),
            completed_at=result.completed_at,
            failure=result.failure,
            flags=",".join(result.flags),
        ).save()

    def record_call(self, call: ProviderCall) -> None:
        pk = keys.workspace_pk(call.workspace_id)
        failed = call.outcome is not CallOutcome.OK
        AiCallItem(
            pk,
            f"{CALL_PREFIX}{call.id}",
            feature=call.feature,
            provider=call.provider,
            model=call.model,
            at=call.at,
            duration_ms=call.duration_ms,
            outcome=call.outcome.value,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
            expires_at=int((call.at + timedelta(days=CALL_LOG_DAYS)).timestamp()),
        ).save()
        usage = AiUsageItem(pk, f"{USAGE_PREFIX}{call.at:%Y-%m}#{call.feature}#{call.provider}")
        usage.update(
            actions=[
                AiUsageItem.kind.set(AiUsageItem),
                AiUsageItem.calls.add(1),
                AiUsageItem.failed_calls.add(1 if failed else 0),
                AiUsageItem.input_tokens.add(call.input_tokens),
                AiUsageItem.output_tokens.add(call.output_tokens),
                AiUsageItem.cache_read_tokens.add(call.cache_read_tokens),
                AiUsageItem.cache_write_tokens.add(call.cache_write_tokens),
            ]
        )

    def calls(
        self, workspace_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ProviderCall], str | None]:
        pk = keys.workspace_pk(workspace_id)
        start = decode_cursor(cursor, {"PK": pk}, sort_prefix=("SK", CALL_PREFIX))
        results = AiCallItem.query(
            pk,
            AiCallItem.sk.startswith(CALL_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        )
        calls = [
            ProviderCall(
                id=item.sk.removeprefix(CALL_PREFIX),
                workspace_id=workspace_id,
                feature=item.feature,
                provider=item.provider,
                model=item.model,
                at=item.at,
                duration_ms=int(item.duration_ms),
                outcome=CallOutcome(item.outcome),
                input_tokens=int(item.input_tokens or 0),
                output_tokens=int(item.output_tokens or 0),
                cache_read_tokens=int(item.cache_read_tokens or 0),
                cache_write_tokens=int(item.cache_write_tokens or 0),
            )
            for item in results
        ]
        return calls, encode_cursor(results.last_evaluated_key) if len(calls) == limit else None

    def usage(self, workspace_id: str, month: str) -> list[MonthlyUsage]:
        prefix = f"{USAGE_PREFIX}{month}#"
        rows = []
        for item in AiUsageItem.query(
            keys.workspace_pk(workspace_id), AiUsageItem.sk.startswith(prefix)
        ):
            feature, _, provider = item.sk.removeprefix(prefix).partition("#")
            rows.append(
                MonthlyUsage(
                    month=month,
                    feature=feature,
                    provider=provider,
                    calls=int(item.calls or 0),
                    failed_calls=int(item.failed_calls or 0),
                    input_tokens=int(item.input_tokens or 0),
                    output_tokens=int(item.output_tokens or 0),
                    cache_read_tokens=int(item.cache_read_tokens or 0),
                    cache_write_tokens=int(item.cache_write_tokens or 0),
                )
            )
        return rows
