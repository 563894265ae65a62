"""Live connections, their topics and the events pushed on them.

A topic names what a connection wants to hear about, always inside one workspace:
`inbox` (any change to the workspace's tickets, for its agents) and `ticket:<id>` (one
ticket or chat conversation: the agents viewing it and the visitor of that conversation).
Events are tiny and never carry content: the client re-reads through the HTTP API, which
answers the authorisation question once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

INBOX_TOPIC = "inbox"
TICKET_TOPIC_PREFIX = "ticket:"
# Ticket ids are ULIDs (Crockford base 32, 26 characters).
_TICKET_TOPIC = re.compile(r"ticket:([0-9A-HJKMNP-TV-Z]{26})")


class ConnectionKind(StrEnum):
    AGENT = "agent"
    VISITOR = "visitor"


@dataclass(frozen=True)
class LiveConnection:
    """One open WebSocket connection: whose it is, in which workspace, what it hears."""

    connection_id: str
    workspace_id: str
    kind: ConnectionKind
    expires_at: int  # epoch seconds; pings move it forward
    user_id: str | None = None  # an agent's user (None for an API key)
    ticket_id: str | None = None  # a visitor's own conversation
    topics: tuple[str, ...] = field(default_factory=tuple)


def ticket_topic(ticket_id: str) -> str:
    return f"{TICKET_TOPIC_PREFIX}{ticket_id}"


def ticket_of_topic(topic: str) -> str | None:
    """The ticket id a `ticket:<id>` topic names; None for any other text."""
    match = _TICKET_TOPIC.fullmatch(topic)
    return match.group(1) if match else None


def is_topic(topic: str) -> bool:
    return topic == INBOX_TOPIC or ticket_of_topic(topic) is not None


def conversation_moved(ticket_id: str, version: int | None = None) -> dict[str, Any]:
    """The event of a conversation (or any ticket's thread) that moved: a message, a
    signal.  `version` when the pusher knows it cheaply (it is never read for the push);
    the client reads what changed through the HTTP API either way."""
    event: dict[str, Any] = {"type": "conversation.moved", "ticket_id": ticket_id}
    if version is not None:
        event["version"] = version
    return event


def ticket_changed(ticket_id: str) -> dict[str, Any]:
    """The event of a ticket that changed (for the inbox topic and its viewers)."""
    return {"type": "ticket.changed", "ticket_id": ticket_id}
