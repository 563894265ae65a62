"""AI settings schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas.ai_results import (  # noqa: F401 (reachable here too)
    AiResultBase,
    ResultStatusName,
    TicketAiOut,
    TriageOut,
)
from chalicelib.api.schemas.common import (
    CitationOut,
    Incoming,
    Outgoing,
    QueryParams,
)

Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class AiFeaturesIn(Incoming):
    triage: bool | None = None
    drafts: bool | None = None
    translation: bool | None = None
    summaries: bool | None = None
    auto_apply_triage: bool | None = None


class ToneIn(Incoming):
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    sign_off: Line = ""
    avoid: list[Line] = Field(default_factory=list, max_length=30)


class RedactionIn(Incoming):
    emails: bool | None = None
    phones: bool | None = None


class RedactionOut(Outgoing):
    emails: bool
    phones: bool


class AiSettingsIn(Incoming):
    enabled: bool | None = Field(
        default=None, description="Off by default: nothing reaches an AI provider while off."
    )
    features: AiFeaturesIn | None = None
    tone: ToneIn | None = None
    redaction: RedactionIn | None = Field(
        default=None,
        description="Card numbers are always redacted; e-mail addresses and phone numbers "
        "when asked.",
    )


class ToneOut(Outgoing):
    description: str
    sign_off: str
    avoid: list[str]


class AiSettingsChangeOut(Outgoing):
    actor: str
    at: datetime
    enabled_before: bool
    enabled_after: bool
    changed: list[str]


class AiSettingsOut(Outgoing):
    enabled: bool
    features: dict[str, bool]
    tone: ToneOut
    redaction: RedactionOut
    configured: bool = Field(description="This deployment has an AI provider key.")
    changes: list[AiSettingsChangeOut] = Field(description="Who changed what, newest first.")


class DraftIn(Incoming):
    instruction: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field(
        default="",
        description='e.g. "shorter", "more formal", "apologise for the delay": rewrites the '
        "latest draft.",
    )


class DraftOut(AiResultBase):
    id: str
    instruction: str = ""
    body: str | None = None
    citations: list[CitationOut] = Field(default_factory=list)
    language: str | None = None
    answered: bool | None = Field(
        default=None, description="False: the knowledge base does not answer; hand off."
    )
    missing: str | None = Field(default=None, description="What the articles do not cover.")


class SummaryOut(AiResultBase):
    summary: str | None = None
    next_step: str | None = None
    message_count: int = Field(description="Messages summarised; a new message makes a new one.")


class TranslateIn(Incoming):
    to: Annotated[str, StringConstraints(min_length=2, max_length=5)] = Field(
        description="ISO 639-1 language code (en, fr, de, es, it, nl, pt, ja)."
    )


class ReplyTranslationIn(Incoming):
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    to: Annotated[str, StringConstraints(min_length=2, max_length=5)] | None = Field(
        default=None, description="Default: the language the customer wrote in."
    )


class MessageTranslationOut(AiResultBase):
    id: str
    text: str | None = Field(default=None, description="The translation.")
    source_language: str | None = None
    to: str
    original: str | None = None


class ToneLearnIn(Incoming):
    sample_size: int = Field(default=20, ge=1, le=50, description="Latest sent replies to read.")


class ToneGuideOut(AiResultBase):
    guide: str | None = None
    learned_from: int | None = Field(default=None, description="Replies the guide was made from.")


class AiCallOut(Outgoing):
    id: str
    feature: str
    provider: str
    model: str
    at: datetime
    duration_ms: int
    outcome: Literal["ok", "malformed_output", "provider_unavailable", "provider_rejected"]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class AiLogOut(Outgoing):
    calls: list[AiCallOut] = Field(description="Newest first; no content is ever logged.")
    next_cursor: str | None


class AiLogQuery(QueryParams):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class AiUsageRowOut(Outgoing):
    feature: str
    provider: str
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class AiUsageOut(Outgoing):
    month: str
    features: list[AiUsageRowOut]
    total_calls: int
    total_input_tokens: int
    total_output_tokens: int


class AiUsageQuery(QueryParams):
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = Field(
        default=None, description="YYYY-MM; default: this month (UTC)."
    )
