"""What the AI teammate produces for a ticket, the jobs that produce it, and the record of
every provider call.

A result is asked for (status `pending`), then a queue job fills it (`ready`) or gives up
(`failed`, with a reason).  Nothing is ever made up: while AI is off, or when the provider
cannot answer, the result says so."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ResultKind(StrEnum):
    TRIAGE = "triage"
    DRAFT = "draft"
    SUMMARY = "summary"
    TRANSLATION = "translation"  # of a customer's message
    REPLY_TRANSLATION = "reply_translation"  # of an agent's text, before it is sent
    TONE = "tone"  # the workspace's learned style guide (no ticket)
    CHAT_ANSWER = "chat_answer"  # the chat's answer bot, per visitor message (chalicelib/chat)


class ResultStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


# Which workspace feature switch allows each kind.
FEATURE_OF = {
    ResultKind.TRIAGE: "triage",
    ResultKind.DRAFT: "drafts",
    ResultKind.SUMMARY: "summaries",
    ResultKind.TRANSLATION: "translation",
    ResultKind.REPLY_TRANSLATION: "translation",
    ResultKind.TONE: "drafts",
    ResultKind.CHAT_ANSWER: "chat_answers",
}

WORKSPACE_SCOPE = "-"  # `ticket_id` of results that belong to no ticket (the tone guide)


@dataclass(frozen=True)
class AiResult:
    """One piece of AI output.  `key` tells results of one kind on a ticket apart (a draft's
    id, `<message id>:<language>` for a translation, "" for triage and the summary);
    `basis` is the ticket's message count it was made from (a newer message makes a summary
    stale); `payload` holds the validated output."""

    workspace_id: str
    ticket_id: str
    kind: ResultKind
    key: str
    status: ResultStatus
    requested_by: str
    requested_at: datetime
    basis: int = 0
    request: dict[str, Any] = field(default_factory=dict)  # e.g. an instruction, a language
    payload: dict[str, Any] = field(default_factory=dict)
    completed_at: datetime | None = None
    failure: str | None = None  # why it failed: "provider_unavailable", "malformed_output", ...
    flags: tuple[str, ...] = ()  # e.g. "citation_removed"


@dataclass(frozen=True)
class AiJob:
    """A queue message asking for one result to be made."""

    workspace_id: str
    ticket_id: str
    kind: ResultKind
    key: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "workspace_id": self.workspace_id,
                "ticket_id": self.ticket_id,
                "kind": self.kind.value,
                "key": self.key,
            }
        )

    @classmethod
    def from_json(cls, body: str) -> AiJob:
        data = json.loads(body)
        return cls(
            workspace_id=data["workspace_id"],
            ticket_id=data["ticket_id"],
            kind=ResultKind(data["kind"]),
            key=data.get("key", ""),
        )

    @classmethod
    def for_result(cls, result: AiResult) -> AiJob:
        return cls(result.workspace_id, result.ticket_id, result.kind, result.key)


class CallOutcome(StrEnum):
    OK = "ok"
    MALFORMED = "malformed_output"
    UNAVAILABLE = "provider_unavailable"
    REJECTED = "provider_rejected"


@dataclass(frozen=True)
class ProviderCall:
    """One request to an AI provider, without any content."""

    id: str
    workspace_id: str
    feature: str
    provider: str
    model: str
    at: datetime
    duration_ms: int
    outcome: CallOutcome
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class MonthlyUsage:
    month: str  # "2026-11"
    feature: str
    provider: str
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
