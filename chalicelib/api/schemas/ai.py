"""AI settings schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas.common import Incoming, Outgoing

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


class AiSettingsIn(Incoming):
    enabled: bool | None = Field(
        default=None, description="Off by default: nothing reaches an AI provider while off."
    )
    features: AiFeaturesIn | None = None
    tone: ToneIn | None = None


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
    changes: list[AiSettingsChangeOut] = Field(description="Who changed what, newest first.")
