"""Schemas of the public sub-processor list and changelog (`/v1/public/subprocessors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Outgoing, QueryParams


class LegalPageQuery(QueryParams):
    """What the legal pages read of their query (documented; the pages ignore the rest)."""

    lang: str | None = Field(
        default=None,
        description="`en` or `fr`; without it, the browser's Accept-Language (else English).",
    )


class BilingualOut(Outgoing):
    en: str = Field(description="The English text (authoritative).")
    fr: str = Field(description="The French translation (for information).")


class SubprocessorOut(Outgoing):
    id: str = Field(description="The provider's stable id (a slug), e.g. `mailgun`.")
    name: str = Field(description="The provider's name as shown on the page.")
    legal_entity: str = Field(
        description="The provider's legal entity as the DPA names it (a placeholder until it "
        "is copied in)."
    )
    location: BilingualOut = Field(description="Where the provider processes the data.")
    purpose: BilingualOut = Field(description="What the provider does for Helptal.")
    category: Literal["hosting", "edge", "email", "payments", "ai"] = Field(
        description="The category the page lists it under."
    )
    processes_workspace_content: bool = Field(
        description="Whether it processes Workspace content (tickets, chats, articles, "
        "attachments, end-user data): adding or replacing such a provider is announced at "
        "least 30 days before it takes effect."
    )


class LeavingSubprocessorOut(Outgoing):
    id: str = Field(description="The id of a provider that leaves the list.")
    name: str = Field(description="Its name.")


class SubprocessorChangeOut(Outgoing):
    id: str = Field(description="The change's id (a ULID).")
    kind: Literal["add", "replace", "remove"] = Field(
        description="`add`: a new provider; `replace`: `subprocessor` takes the place of "
        "`replaces`; `remove`: `replaces` leave the list."
    )
    announced_at: datetime = Field(description="When the change was announced.")
    effective_at: datetime = Field(description="When the change takes (or took) effect.")
    summary: BilingualOut = Field(description="What changes and why.")
    subprocessor: SubprocessorOut | None = Field(
        description="The newcomer (additions and replacements); null for a removal."
    )
    replaces: list[LeavingSubprocessorOut] = Field(
        description="The providers that leave the list (replacements and removals)."
    )
    processes_workspace_content: bool = Field(
        description="Whether the newcomer processes Workspace content (then announced at "
        "least 30 days ahead, and owners may object during that time)."
    )


class SubprocessorCategoryOut(Outgoing):
    id: Literal["hosting", "edge", "email", "payments", "ai"] = Field(
        description="The category's id, as in a provider's `category`."
    )
    title: BilingualOut = Field(description="The category's heading on the page.")
    note: BilingualOut = Field(description="What the page says about the category (may be empty).")


class CustomerIntegrationOut(Outgoing):
    id: str = Field(description="The integration's stable id.")
    name: str = Field(description="The provider and product.")
    location: BilingualOut = Field(description="Where the provider is.")
    purpose: BilingualOut = Field(description="What the integration does.")


class SubprocessorListOut(Outgoing):
    """The list as it stands now; the same as the page `/legal/subprocessors`."""

    at: datetime = Field(description="The moment this answer describes (now).")
    last_updated: datetime = Field(
        description="When the list last changed: the newest change in force, else the date "
        "it was published."
    )
    notice_days: int = Field(
        description="How many days ahead a change that processes Workspace content is announced."
    )
    categories: list[SubprocessorCategoryOut] = Field(
        description="The categories, in the page's order."
    )
    subprocessors: list[SubprocessorOut] = Field(description="The providers in force now.")
    upcoming: list[SubprocessorChangeOut] = Field(
        description="Changes announced and not yet in force, soonest first."
    )
    integrations: list[CustomerIntegrationOut] = Field(
        description="Integrations a workspace admin may enable: not sub-processors (the data "
        "flows under the provider's own terms, the customer remains its controller)."
    )
    page_url: str = Field(description="The HTML page of the list.")
    changelog_url: str = Field(description="The HTML page of the changelog.")


class SubprocessorChangelogOut(Outgoing):
    """Additions, replacements and removals; the same as `/legal/subprocessors/changelog`."""

    at: datetime = Field(description="The moment this answer describes (now).")
    since: datetime = Field(
        description="The changelog covers changes in force from this moment on (24 months)."
    )
    published_at: datetime = Field(description="When the list was first published.")
    changes: list[SubprocessorChangeOut] = Field(
        description="Changes in force since `since`, newest first."
    )
    upcoming: list[SubprocessorChangeOut] = Field(
        description="Changes announced and not yet in force, soonest first."
    )
