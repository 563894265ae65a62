"""AI results as a ticket shows them (triage suggestions), apart from the rest of the AI
schemas: a ticket page loads these few, not every AI request and settings schema."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Outgoing

ResultStatusName = Literal["pending", "ready", "failed"]


class AiResultBase(Outgoing):
    status: ResultStatusName = Field(
        description="pending: queued for the model; ready; failed (see `failure`)."
    )
    failure: str | None = Field(
        default=None,
        description=(
            "Why it failed: ai_disabled, ai_not_configured, provider_unavailable (after "
            "retries), provider_rejected, malformed_output, no_sent_replies, ...  A failed "
            "result stays failed (reading it never asks the model again) until it is asked "
            "for again with POST, at most once a minute."
        ),
    )
    flags: list[str] = Field(
        default_factory=list,
        description="e.g. citation_removed (a reference to an article not given was removed), "
        "needs_handoff (the articles do not answer the question).",
    )
    requested_at: datetime
    completed_at: datetime | None = None


class TriageOut(AiResultBase):
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    sentiment_score: float | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    priority_reason: str | None = None
    summary: str | None = None
    applied: bool = Field(
        default=False, description="Tags and priority were applied (auto_apply_triage)."
    )


class TicketAiOut(Outgoing):
    triage: TriageOut | None = Field(
        default=None, description="Suggestions; not applied unless said."
    )
