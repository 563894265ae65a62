"""Live chat as the rest of the product sees it: a workspace's widget settings and one
conversation's live state (what each side is doing and has seen)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FieldRule(StrEnum):
    """Whether the widget asks for a pre-chat field before the first message."""

    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Position(StrEnum):
    RIGHT = "right"
    LEFT = "left"


class Rating(StrEnum):
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True)
class OpeningSpan:
    """One span of a day when the team answers, `HH:MM` to `HH:MM` (end after start)."""

    start: str
    end: str


@dataclass(frozen=True)
class OfficeHours:
    # Weekday ("mon".."sun") -> spans, in the workspace's time zone; a day not named: closed.
    weekly: dict[str, list[OpeningSpan]] = field(default_factory=dict)
    always_open: bool = True


@dataclass(frozen=True)
class PreChatFields:
    name: FieldRule = FieldRule.OFF
    email: FieldRule = FieldRule.OPTIONAL


@dataclass(frozen=True)
class ChatSettings:
    """A workspace's widget.  `identity_secret` signs its visitors' identities (None: never
    created); it is shown once, when created or rotated."""

    public_key: str
    enabled: bool = False
    colour: str = "#0b7a75"
    position: Position = Position.RIGHT
    greeting: dict[str, str] = field(default_factory=dict)  # locale -> text; empty: catalogs'
    team_name: str = ""
    team_photo_url: str | None = None
    office_hours: OfficeHours = field(default_factory=OfficeHours)
    allowed_origins: tuple[str, ...] = ()
    pre_chat_fields: PreChatFields = field(default_factory=PreChatFields)
    ai_answers: bool = False
    identity_required: bool = False
    identity_secret: str | None = None


@dataclass(frozen=True)
class VisitorIdentity:
    """A visitor the customer's site vouched for (its HMAC checked)."""

    user_id: str
    email: str
    name: str = ""


@dataclass(frozen=True)
class ChatState:
    """The live state of one conversation (the item both sides wait on).  `version` moves on
    every signal; times are epoch seconds."""

    workspace_id: str
    ticket_id: str
    visitor_id: str
    language: str = "en"
    user_id: str | None = None  # the verified identity's user id
    version: int = 0
    agent_typing_until: int = 0
    visitor_typing_until: int = 0
    agent_seen_message_id: str | None = None
    visitor_seen_message_id: str | None = None
    visitor_polled_at: int = 0
    rating: Rating | None = None
    rating_comment: str | None = None
    handed_off: bool = False
    ended: bool = False
    bot_unhelpful: int = 0  # the answer bot's answers the visitor said did not help


@dataclass(frozen=True)
class LiveMark:
    """What a waiting client compares: the conversation's version (the ticket's revision,
    moved by every message, plus the live state's, moved by every signal) and the state."""

    version: int
    state: ChatState
    ticket_status: str
    merged_into: str | None = None  # the ticket's: the conversation goes on there
