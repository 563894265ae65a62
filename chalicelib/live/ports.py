"""What live pushes need from the outside world (adapters in store/ and providers/)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from chalicelib.live.model import LiveConnection


class LiveConnections(Protocol):
    """Connections kept with a TTL: one item per connection (by id, for disconnect) and one
    per topic subscription (in the topic's workspace partition, for pushes)."""

    def add(self, connection: LiveConnection) -> None: ...

    def get(self, connection_id: str) -> LiveConnection | None: ...

    def subscribe(self, connection: LiveConnection, topic: str) -> LiveConnection: ...

    def unsubscribe(self, connection: LiveConnection, topic: str) -> LiveConnection: ...

    def refresh(self, connection: LiveConnection, expires_at: int) -> LiveConnection: ...

    def remove(self, connection_id: str) -> None: ...

    def listening(self, workspace_id: str, topic: str, now: int, limit: int) -> list[str]:
        """Ids of the unexpired connections subscribed to the topic (at most `limit`)."""
        ...


class Delivery(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"  # the client went away: forget the connection
    FAILED = "failed"  # anything else: the client still polls


class PushChannel(Protocol):
    """Sends data down one connection (the API Gateway management API)."""

    def post(self, connection_id: str, data: bytes) -> Delivery: ...


class LivePush(Protocol):
    """Best effort: never raises into the caller (clients also poll)."""

    def push(self, workspace_id: str, topic: str, event: dict[str, Any]) -> None: ...


class VisitorTokens(Protocol):
    """Checks a widget's visitor token: (workspace id, ticket id) of its conversation."""

    def verify(self, public_key: str, token: str) -> tuple[str, str] | None: ...


class AgentSessions(Protocol):
    """Resolves an agent's session token (cookie) or API token to (workspace, user id)."""

    def agent(
        self, token: str | None, session_cookie: str | None
    ) -> tuple[str, str | None] | None: ...


class Tickets(Protocol):
    def exists(self, workspace_id: str, ticket_id: str) -> bool: ...
