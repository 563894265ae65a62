"""Canned response (saved reply) request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.api.schemas.common import Incoming, Locale, Outgoing, QueryParams
from chalicelib.api.schemas.tickets import MessageOut, Tag, TicketOut, TicketStatusName


def _has_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


CannedName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
CannedBody = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_has_text)
]
PLACEHOLDER_HELP = (
    "Plain text. Placeholders: {{requester.first_name}}, {{requester.name}}, "
    "{{requester.email}}, {{ticket.number}}, {{ticket.subject}}, {{agent.first_name}}, "
    "{{agent.name}}, {{workspace.name}}; any other is refused (422)."
)


class CannedResponseIn(Incoming):
    name: CannedName = Field(description="Unique in the workspace, whatever its case.")
    body: CannedBody = Field(description=PLACEHOLDER_HELP)
    locale: Locale | None = Field(
        default=None, description="Language of the body; default: the workspace's."
    )
    set_status: TicketStatusName | None = Field(
        default=None, description="Status the ticket takes when the response is sent."
    )
    add_tags: list[Tag] = Field(
        default_factory=list, max_length=20, description="Tags added when it is sent."
    )


class CannedResponsePatchIn(Incoming):
    name: CannedName | None = None
    body: CannedBody | None = Field(default=None, description=PLACEHOLDER_HELP)
    locale: Locale | None = None
    set_status: TicketStatusName | None = Field(default=None, description="`null` clears it.")
    add_tags: list[Tag] | None = Field(default=None, max_length=20)


class CannedResponseQuery(QueryParams):
    q: str | None = Field(
        default=None, max_length=120, description="Names starting with this (any case)."
    )
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=50, ge=1, le=100)


class CannedApplyIn(Incoming):
    send: bool = Field(
        default=False,
        description="Also send it as a reply and apply its status and tags; "
        "otherwise only render it.",
    )
    last_seen_message_id: str | None = Field(
        default=None,
        max_length=26,
        description="When sending: the newest message you saw; 409 if the customer wrote since.",
    )


class CannedResponseOut(Outgoing):
    id: str
    name: str
    body: str
    locale: Locale
    set_status: TicketStatusName | None
    add_tags: list[str]
    placeholders: list[str] = Field(description="The placeholders the body uses.")
    created_by: str
    created_at: datetime
    updated_at: datetime


class CannedResponsesOut(Outgoing):
    canned_responses: list[CannedResponseOut]
    next_cursor: str | None


class CannedApplyOut(Outgoing):
    body: str = Field(description="The body rendered for this ticket and agent.")
    set_status: TicketStatusName | None
    add_tags: list[str]
    sent: bool
    ticket: TicketOut | None = Field(description="When sent: the ticket afterwards.")
    message: MessageOut | None = Field(description="When sent: the reply.")
