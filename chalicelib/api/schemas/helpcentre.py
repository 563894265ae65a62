"""Help-centre and knowledge-base search schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Incoming, Outgoing, QueryParams


class ArticleFeedbackForm(QueryParams):
    helpful: Literal["yes", "no"]


class HelpCentreSettingsIn(Incoming):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    brand_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")
    default_locale: Literal["en", "fr"] | None = None
    custom_domain: str | None = Field(
        default=None, max_length=253, description="Empty string removes the custom domain."
    )


class DnsRecordOut(Outgoing):
    name: str
    type: str
    value: str


class HelpCentreSettingsOut(Outgoing):
    name: str
    brand_color: str
    logo_url: str | None
    default_locale: str
    custom_domain: str | None
    domain_verified: bool
    dns_record: DnsRecordOut | None = Field(
        description="Publish this TXT record, then call verify-domain."
    )
    url: str = Field(description="Where the help centre is served.")


class KbSearchQuery(QueryParams):
    q: str = Field(min_length=1, max_length=200)
    locale: Literal["en", "fr"] | None = None
    limit: int = Field(default=10, ge=1, le=50)


class KbHitOut(Outgoing):
    article_id: str
    title: str
    url: str
    passage: str = Field(description="The best passage, query words in <mark>; safe HTML.")
    score: float


class KbSearchOut(Outgoing):
    hits: list[KbHitOut]


class SearchGapOut(Outgoing):
    query: str
    searches: int
    last_searched_at: datetime | None


class SearchInsightsOut(Outgoing):
    failed_queries: list[SearchGapOut]
