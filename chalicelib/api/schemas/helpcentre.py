"""Help-centre and knowledge-base search schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing, QueryParams


class ArticleFeedbackForm(QueryParams):
    helpful: Literal["yes", "no"]


class HelpCentreContactForm(QueryParams):
    """The help centre's contact form (`application/x-www-form-urlencoded`)."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Zoé Martin",
                    "email": "zoe@example.com",
                    "subject": "Where is my invoice?",
                    "message": "I cannot find my March invoice.",
                    "token": "the value of the form's hidden field",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    subject: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=10_000)
    token: str = Field(
        max_length=100, description="The form's anti-forgery token (the same as its cookie)."
    )
    turnstile: str = Field(
        default="",
        max_length=4096,
        alias="cf-turnstile-response",
        description="Cloudflare Turnstile's token, when the help centre asks for one.",
    )


# What help-centre pages read of their query (documented; the pages ignore the rest).
class HelpCentrePageQuery(QueryParams):
    lang: str | None = None


class HelpCentreArticleQuery(QueryParams):
    thanks: str | None = None


class HelpCentreSearchQuery(QueryParams):
    q: str = ""
    lang: str | None = None


class HelpCentreSearchApiQuery(QueryParams):
    q: str = ""
    locale: str | None = None


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


class DomainDnsRecordOut(Outgoing):
    purpose: Literal[
        "routing", "domain_ownership", "cloudflare_ownership", "certificate_validation"
    ] = Field(
        description="`routing`: the CNAME that sends the domain's visitors to Helptal; "
        "`domain_ownership`: the TXT record verify-domain looks for; "
        "`cloudflare_ownership` and `certificate_validation`: records Cloudflare asks for "
        "to prove ownership or validate the certificate (publishing them does no harm)."
    )
    name: str = Field(description="The record's full name.")
    type: str = Field(description="`CNAME` or `TXT`.")
    value: str


HttpsStatusName = Literal[
    "not_configured",
    "no_domain",
    "awaiting_verification",
    "not_requested",
    "provisioning",
    "pending",
    "active",
    "retrying",
    "error",
]


class HttpsOut(Outgoing):
    status: HttpsStatusName = Field(
        description="`not_configured`: this deployment issues no certificates (no Cloudflare "
        "for SaaS); `no_domain`; `awaiting_verification`: create the DNS records, then "
        "verify the domain; `not_requested`: verify the domain again to request one; "
        "`provisioning`: being requested from Cloudflare; `pending`: Cloudflare is "
        "validating the domain or issuing the certificate; `active`: served over HTTPS; "
        "`retrying`: Cloudflare could not be reached, retried automatically; `error`: "
        "Cloudflare refused the hostname (see `explanation`)."
    )
    explanation: str = Field(description="What is happening and what to do next, for people.")
    hostname_status: str | None = Field(
        description="Cloudflare's status of the custom hostname (`pending`, `active`, "
        "`moved`, `blocked`, ...); null before it exists."
    )
    certificate_status: str | None = Field(
        description="Cloudflare's status of the certificate (`initializing`, "
        "`pending_validation`, `pending_issuance`, `pending_deployment`, `active`, ...)."
    )
    checked_at: datetime | None = Field(
        description="When Cloudflare was last asked. Reading the settings asks again at "
        "most once a minute while the certificate is pending."
    )


class HelpCentreSettingsOut(Outgoing):
    name: str
    brand_color: str
    logo_url: str | None
    default_locale: str
    custom_domain: str | None
    domain_verified: bool
    dns_record: DnsRecordOut | None = Field(
        description="Publish this TXT record, then call verify-domain (also in `dns_records`)."
    )
    dns_records: list[DomainDnsRecordOut] = Field(
        description="Every DNS record to create for the custom domain: the CNAME to "
        "Helptal, the ownership TXT record, then any record Cloudflare asks for."
    )
    https: HttpsOut = Field(description="HTTPS on the custom domain (Cloudflare for SaaS).")
    url: str = Field(description="Where the help centre is served.")


class KbSearchQuery(QueryParams):
    q: str = Field(min_length=1, max_length=200)
    locale: Literal["en", "fr"] | None = None
    limit: int = Field(default=10, ge=1, le=50)


class KbHitOut(Outgoing):
    article_id: str
    title: str
    url: str = Field(
        description="The article on the help centre; an internal article (no public page) "
        "links to the article in the agents' app (`APP_BASE_URL/kb/articles/{id}`) instead."
    )
    internal: bool = Field(default=False, description="Only agents can read it.")
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
