"""Ticket request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.schemas.ai_results import TicketAiOut
from chalicelib.api.schemas.common import (
    CitationOut,
    EmailStr,
    Incoming,
    Outgoing,
    QueryParams,
    utf8_at_most,
)

# -- tickets -------------------------------------------------------------------------------

TicketStatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# A message item (text and its HTML form) must fit DynamoDB's 400 KB.
MESSAGE_BODY_MAX_BYTES = 100_000
MessageBody = Annotated[str, StringConstraints(min_length=1), utf8_at_most(MESSAGE_BODY_MAX_BYTES)]


class RequesterIn(Incoming):
    email: EmailStr
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class TicketIn(Incoming):
    requester: RequesterIn
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
    body: MessageBody
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    priority: PriorityName = "normal"
    status: TicketStatusName = "new"
    assignee_id: str | None = Field(default=None, max_length=26)


class TicketPatchIn(Incoming):
    status: TicketStatusName | None = None
    priority: PriorityName | None = None
    assignee_id: str | None = Field(
        default=None, max_length=26, description="A member's user id; `null` unassigns."
    )
    tags: list[Tag] | None = Field(default=None, max_length=20)
    subject: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
        | None
    ) = None


UploadId = Annotated[str, StringConstraints(min_length=26, max_length=26)]
ATTACHMENT_TYPE_NAMES = (
    "application/pdf, image/png, image/jpeg, image/gif, image/webp, text/plain, text/csv, "
    "and the Word (.docx), Excel (.xlsx) and PowerPoint (.pptx) types"
)


class AttachmentUploadIn(Incoming):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description=f"One of {ATTACHMENT_TYPE_NAMES}; the file's first bytes must match it."
    )
    size: int = Field(ge=1, description="Bytes; at most 15 MB. S3 refuses a larger file.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"filename": "invoice.pdf", "content_type": "application/pdf", "size": 48213}
            ]
        }
    )


class AttachmentUploadOut(Outgoing):
    id: str = Field(description="Give it in `attachment_ids` of a reply or note on this ticket.")
    filename: str
    content_type: str
    size: int
    method: Literal["POST"] = "POST"
    upload_url: str = Field(
        description="POST a multipart form here: every entry of `fields`, then the file "
        "as `file`. S3 refuses another type or more than `max_bytes`."
    )
    fields: dict[str, str]
    max_bytes: int
    upload_expires_at: datetime = Field(description="The presigned POST works until then.")
    attach_before: datetime = Field(description="A reply or note must use it by then.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JDQ3M5V7X8Y9Z0A1B2C3D4E5",
                    "filename": "invoice.pdf",
                    "content_type": "application/pdf",
                    "size": 48213,
                    "method": "POST",
                    "upload_url": "https://helptal-prod-content.s3.amazonaws.com/",
                    "fields": {
                        "key": "ws/01JDQ2.../attachments/01JDQ3M5V7X8Y9Z0A1B2C3D4E5",
                        "Content-Type": "application/pdf",
                        "policy": "eyJleHBpcmF0aW9uIjoi...",
                        "x-amz-algorithm": "AWS4-HMAC-SHA256",
                        "x-amz-credential": "...",
                        "x-amz-date": "20261130T140000Z",
                        "x-amz-signature": "...",
                    },
                    "max_bytes": 48213,
                    "upload_expires_at": "2026-11-30T14:15:00Z",
                    "attach_before": "2026-12-01T14:00:00Z",
                }
            ]
        }
    )


class MessageIn(Incoming):
    body: MessageBody
    kind: Literal["reply", "note"] = "reply"
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)
    last_seen_message_id: str | None = Field(
        default=None,
        max_length=26,
        description="The newest message you saw; 409 if the customer wrote since.",
    )
    translation_id: str | None = Field(
        default=None,
        max_length=26,
        description=(
            "Send a reply translated by the AI (POST .../reply-translations): `body` is the "
            "translated text as sent, the agent's original is kept on the message."
        ),
    )
    attachment_ids: list[UploadId] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "Files uploaded for this ticket (`POST /v1/tickets/{id}/attachments`, then the "
            "presigned POST). A reply mails them; a note only shows them. Each is checked: "
            "uploaded, this ticket's, not on another message, of its declared type by its "
            "first bytes; at most 10 files and 18 MB together."
        ),
        examples=[["01JDQ3M5V7X8Y9Z0A1B2C3D4E5"]],
    )


class TicketQuery(QueryParams):
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words that must all appear in the subject, requester or messages.",
    )
    status: TicketStatusName | None = None
    assignee: str | None = Field(
        default=None, max_length=26, description="`me`, `none` or a user id"
    )
    tag: str | None = Field(default=None, max_length=50)
    requester: str | None = Field(default=None, max_length=26, description="a contact id")
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=100)


class AttachmentOut(Outgoing):
    id: str
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str = Field(description="Members only: redirects to a short-lived download link.")


class MessageOriginalOut(Outgoing):
    text: str
    language: str | None


class ChatContextOut(Outgoing):
    page_url: str | None = Field(description="The page the visitor was on when they wrote.")
    language: str | None = Field(description="The visitor's browser language (BCP 47).")
    local_time: str | None = Field(
        description="The visitor's clock when they wrote: ISO 8601 with their UTC offset."
    )


class MessageOut(Outgoing):
    id: str
    kind: Literal["customer", "reply", "note", "bot"] = Field(
        description="`bot`: the chat's answer bot (shown to the visitor, marked as the bot's)."
    )
    author: str
    from_address: str | None
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str | None = Field(description="Sanitised HTML, safe to render.")
    quoted_text: str | None
    attachments: list[AttachmentOut]
    delivery: str
    delivery_detail: str | None
    created_at: datetime
    original: MessageOriginalOut | None = Field(
        default=None,
        description="A reply sent translated: the agent's text before translation (not sent).",
    )
    sender_verified: bool | None = Field(
        default=None,
        description="Mail in: whether SPF or DKIM proved the From address (null: not e-mail).",
    )
    from_member: bool = Field(
        default=False,
        description="Mail in from a member's address: shown as a customer-side message.",
    )
    mentions: list[str] = Field(
        default_factory=list,
        description="A note: the user ids of the members it mentions (`@Ana`, `@[Ana Lima]`, "
        "`@ana.lima`, `@<member id>`), resolved when it was written.",
    )
    chat: ChatContextOut | None = Field(
        default=None, description="A chat message: the visitor's page, language and clock."
    )
    citations: list[CitationOut] = Field(
        default_factory=list, description="The answer bot's: the articles its text cites."
    )


class ActivityOut(Outgoing):
    id: str
    actor: str
    action: str
    before: str | None
    after: str | None
    at: datetime


class TicketOut(Outgoing):
    id: str
    number: int
    subject: str
    requester: dict[str, str]
    cc: list[str]
    status: TicketStatusName
    priority: PriorityName
    assignee_id: str | None
    tags: list[str]
    channel: str
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    message_count: int
    last_customer_message_id: str | None
    merged_into: str | None
    merged_from: list[int] = Field(
        default_factory=list,
        description="The numbers of the tickets merged into this one, oldest first (the "
        "newest 50).",
    )
    follow_up_of: str | None
    sender_verified: bool = Field(
        default=True,
        description="False: opened by mail whose From address SPF/DKIM did not prove.",
    )
    unverified_reply_to: str | None = Field(
        default=None,
        description="The ticket an unverified mail claimed to continue (merge it if genuine).",
    )


class TicketListOut(Outgoing):
    tickets: list[TicketOut]
    next_cursor: str | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    activity: list[ActivityOut]
    ai: TicketAiOut | None = Field(
        default=None, description="The AI teammate's suggestions (workspaces with AI on)."
    )


class TicketBulkChangesIn(Incoming):
    status: TicketStatusName | None = None
    priority: PriorityName | None = None
    assignee_id: str | None = Field(
        default=None, max_length=26, description="A member's user id; `null` unassigns."
    )
    add_tags: list[Tag] = Field(default_factory=list, max_length=20)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=20)


class TicketsBulkIn(Incoming):
    ticket_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=26)]] = Field(
        min_length=1, max_length=50
    )
    changes: TicketBulkChangesIn


class BulkErrorOut(Outgoing):
    code: str
    message: str


class TicketBulkResultOut(Outgoing):
    ticket_id: str
    ticket: TicketOut | None
    error: BulkErrorOut | None


class TicketsBulkOut(Outgoing):
    results: list[TicketBulkResultOut]
    changed: int
    failed: int


class MergeIn(Incoming):
    into: Annotated[str, StringConstraints(min_length=1, max_length=26)] = Field(
        description="The ticket (id or number) that absorbs this one."
    )


class ViewerOut(Outgoing):
    user_id: str
    name: str
    until: datetime


class ViewersOut(Outgoing):
    viewers: list[ViewerOut] = Field(description="Teammates who also have the ticket open.")


class InboxCountsOut(Outgoing):
    by_status: dict[str, int]
    mine: int = Field(description="Your active (not solved or closed) tickets.")
    unassigned: int = Field(description="Active tickets with no assignee.")
