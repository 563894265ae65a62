"""Tickets, their messages and the people on them, as the rest of the product sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """Still needs the team (counts in the inbox)."""
        return self not in (TicketStatus.SOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    EMAIL = "email"
    API = "api"
    CHAT = "chat"
    BOOKING = "booking"
    WEB = "web"  # the help centre's contact form


class MessageKind(StrEnum):
    CUSTOMER = "customer"  # from the requester or a CC participant
    REPLY = "reply"  # an agent's public reply (sent by e-mail)
    NOTE = "note"  # internal, never sent
    BOT = "bot"  # the chat's answer bot, shown to the visitor (never mailed as the team's)


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # inbound
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    NOT_SENT = "not_sent"  # notes


@dataclass(frozen=True)
class Contact:
    id: str
    workspace_id: str
    email: str
    name: str
    created_at: datetime
    # ISO 639-1, of the latest of their mail that said enough to tell; None: not known.
    language: str | None = None


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment stored in S3 (served through short-lived presigned URLs)."""

    id: str
    filename: str
    content_type: str
    size: int
    s3_key: str
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class ChatContext:
    """Where a chat message was written: what the widget saw in the visitor's browser."""

    page_url: str | None = None
    language: str | None = None  # the browser's language (BCP 47), as the widget read it
    local_time: str | None = None  # the visitor's clock: ISO 8601 with its UTC offset
    client_id: str | None = None  # the widget's id for the message: a resend is the same one


@dataclass(frozen=True)
class Citation:
    """An article an answer cites, as `[number]` in its text."""

    number: int
    article_id: str
    title: str
    url: str


@dataclass(frozen=True)
class Message:
    id: str
    ticket_id: str
    workspace_id: str
    kind: MessageKind
    author: str  # "contact:<id>", "user:<id>", "api_key:<id>" or "system"
    from_address: str | None
    to: list[str]
    cc: list[str]
    subject: str
    text: str  # what people see: the new text (quoted history folded away)
    html: str | None  # sanitised
    quoted_text: str | None
    message_id: str | None  # RFC 5322 Message-ID, without angle brackets
    in_reply_to: list[str]
    references: list[str]
    attachments: list[AttachmentRef]
    delivery: DeliveryStatus
    created_at: datetime
    raw_s3_key: str | None = None
    delivery_detail: str | None = None
    # A reply sent translated: what the agent wrote, in their language (never sent).
    original_text: str | None = None
    original_language: str | None = None
    # Mail in: whether SPF/DKIM proved the From address (None: not an e-mail), and whether
    # that address is a member's (still a customer-side message: mail never speaks for a member).
    sender_verified: bool | None = None
    from_member: bool = False
    # A note: the members it mentions, resolved when it was written (a rename changes nothing).
    mentions: list[str] = field(default_factory=list)
    # Chat: the visitor's page, language and clock (customer messages); None: not chat.
    chat: ChatContext | None = None
    # The answer bot's articles, in the order of their numbers (kind BOT).
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class Ticket:
    id: str
    workspace_id: str
    number: int
    subject: str
    requester_id: str
    requester_email: str
    requester_name: str
    cc: list[str]
    status: TicketStatus
    priority: Priority
    assignee_id: str | None
    tags: list[str]
    channel: Channel
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    last_customer_message_id: str | None = None
    merged_into: str | None = None
    # The numbers of the tickets merged into this one (the newest MAX_MERGED_FROM kept).
    merged_from: tuple[int, ...] = ()
    follow_up_of: str | None = None
    # Opened by mail whose From address SPF/DKIM did not prove; `unverified_reply_to` is the
    # ticket that mail claimed to continue (not joined: an agent merges it if it is genuine).
    sender_verified: bool = True
    unverified_reply_to: str | None = None
    message_count: int = 0
    revision: int = 0  # optimistic lock: every write checks and bumps it

    @property
    def participants(self) -> set[str]:
        """E-mail addresses that belong to this conversation (besides the team)."""
        return {self.requester_email, *self.cc}


@dataclass(frozen=True)
class Activity:
    id: str
    ticket_id: str
    actor: str
    action: str  # "created", "status", "priority", "assignee", "tags", "subject", "merged", ...
    before: str | None
    after: str | None
    at: datetime


@dataclass(frozen=True)
class TicketFilter:
    status: TicketStatus | None = None
    assignee: str | None = None  # a user id, or "none"
    tag: str | None = None
    requester_id: str | None = None


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    next_cursor: str | None
