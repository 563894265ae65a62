"""What a notification is, and what each agent wants to be told, where."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class NotificationKind(StrEnum):
    NEW_TICKET = "new_ticket"  # a ticket opened in the workspace
    CUSTOMER_REPLY = "customer_reply"  # the customer wrote on a ticket of theirs (or nobody's)
    ASSIGNED = "assigned"  # a ticket was assigned to them
    MENTION = "mention"  # a teammate mentioned them in a note


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool

    @property
    def any(self) -> bool:
        return self.in_app or self.email


# A new ticket reaches everyone, so it is not mailed unless asked for; what is about the
# agent personally is.
DEFAULT_CHANNELS: dict[NotificationKind, Channels] = {
    NotificationKind.NEW_TICKET: Channels(in_app=True, email=False),
    NotificationKind.CUSTOMER_REPLY: Channels(in_app=True, email=True),
    NotificationKind.ASSIGNED: Channels(in_app=True, email=True),
    NotificationKind.MENTION: Channels(in_app=True, email=True),
}


@dataclass(frozen=True)
class Preferences:
    """Per kind, whether the agent is told in the app and by e-mail (defaults for the rest)."""

    channels: dict[NotificationKind, Channels] = field(default_factory=dict)

    def of(self, kind: NotificationKind) -> Channels:
        return self.channels.get(kind, DEFAULT_CHANNELS[kind])

    def with_changes(self, changes: dict[NotificationKind, Channels]) -> Preferences:
        return Preferences({kind: changes.get(kind, self.of(kind)) for kind in NotificationKind})


@dataclass(frozen=True)
class Notification:
    """One thing told to one member.  Its id is the id of the event that caused it, so a
    redelivered event writes nothing new."""

    id: str
    workspace_id: str
    user_id: str
    kind: NotificationKind
    ticket_id: str
    ticket_number: int
    ticket_subject: str
    created_at: datetime
    actor_id: str | None = None  # the member who acted (None: a customer, the system)
    actor_name: str | None = None  # as they were named then
    excerpt: str | None = None  # the start of the reply or note
    message_id: str | None = None
    read: bool = False


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]  # newest first
    next_cursor: str | None
    unread_count: int  # at most UNREAD_COUNT_CAP


@dataclass(frozen=True)
class ReadState:
    """A member's notifications as a whole: `revision` moves with every new notification and
    every read; everything up to `read_through` (an id) is read."""

    revision: int = 0
    read_through: str | None = None
