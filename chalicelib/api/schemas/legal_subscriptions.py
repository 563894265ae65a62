"""Schemas of the sub-processor change notice subscription pages (forms and page queries)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.api.schemas.common import EmailStr, QueryParams


class SubprocessorSubscribeForm(QueryParams):
    """The subscription form of the sub-processor page (`application/x-www-form-urlencoded`);
    other fields (a submit button's) are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        defer_build=True,
        json_schema_extra={"examples": [{"email": "dpo@example.com", "lang": "fr"}]},
    )

    email: EmailStr = Field(description="The address to send the notices to (after it confirms).")
    lang: str = Field(
        default="",
        max_length=16,
        description="The notices' language, `en` or `fr` (else the browser's, else English).",
    )


class SubscriptionPageQuery(QueryParams):
    """What the subscription pages read of their query (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    lang: str | None = Field(default=None, description="The page's language, `en` or `fr`.")
