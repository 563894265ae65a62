"""Who may listen to what, and the fan-out of a push to a topic's connections.

Rules (each tested in tests/unit/test_live_rules.py):
- An agent connects with their session (the cookie, from the web client's origin only), a
  token, or a connect token from `GET /v1/live` (60 s, signed, kept nowhere); a visitor
  with the widget's visitor token, which names their one conversation.
- A visitor hears only their own conversation (subscribed on connect); an agent may
  subscribe to `inbox` and to a ticket of their own workspace, never another's.
- A push reads one topic's connections (one Query, at most `max_per_topic`) and posts to
  each; a connection the API says is gone is forgotten; nothing is ever raised to the
  caller, whose clients also poll.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock, epoch
from chalicelib.errors import BadRequest, Forbidden, HelptalError, NotFound, Unauthenticated
from chalicelib.live import connect_tokens
from chalicelib.live.model import (
    INBOX_TOPIC,
    ConnectionKind,
    LiveConnection,
    is_topic,
    ticket_of_topic,
    ticket_topic,
)
from chalicelib.live.ports import (
    AgentSessions,
    Delivery,
    LiveConnections,
    PushChannel,
    Tickets,
    VisitorTokens,
)

if TYPE_CHECKING:
    from chalicelib.accounts.deps import AccountDeps
    from chalicelib.tickets.ports import TicketStore

CONNECTION_TTL_SECONDS = 2 * 3600
MAX_PER_TOPIC = 200
# A connection's topics fit one BatchWriteItem with the connection itself (25 items).
MAX_TOPICS_PER_CONNECTION = 20
MAX_MESSAGE_BYTES = 2048


@dataclass(frozen=True)
class LivePolicy:
    # Origins whose WebSocket upgrade may be authenticated by the session cookie.
    app_origins: frozenset[str]
    connection_ttl_seconds: int = CONNECTION_TTL_SECONDS
    max_per_topic: int = MAX_PER_TOPIC
    max_topics_per_connection: int = MAX_TOPICS_PER_CONNECTION


@dataclass(frozen=True)
class LiveDeps:
    connections: LiveConnections
    agents: AgentSessions
    # None until the chat capability can verify visitor tokens: visitors are refused.
    visitor_tokens: VisitorTokens | None
    tickets: Tickets
    clock: Clock
    policy: LivePolicy
    # The key material of the web client's connect tokens (read at use); None: refused.
    connect_token_secret: Callable[[], str] | None = None


@dataclass(frozen=True)
class Handshake:
    """What a WebSocket upgrade carries: its query, the session cookie, its Origin
    (normalised to `scheme://host[:port]`, "" when absent)."""

    connection_id: str
    query: Mapping[str, str]
    session_cookie: str | None
    origin: str


def connect(deps: LiveDeps, handshake: Handshake) -> LiveConnection:
    """Authenticates the upgrade and records the connection (one BatchWriteItem, after the
    session's reads or the visitor token's check). Raises Unauthenticated or Forbidden:
    nothing is written then."""
    expires_at = epoch(deps.clock.now()) + deps.policy.connection_ttl_seconds
    query = handshake.query
    if "visitor_token" in query or "public_key" in query:
        verified = None
        if deps.visitor_tokens is not None:
            verified = deps.visitor_tokens.verify(
                query.get("public_key", ""), query.get("visitor_token", "")
            )
        if verified is None:
            raise Unauthenticated("The visitor token is not valid.", code="invalid_visitor_token")
        workspace_id, ticket_id = verified
        connection = LiveConnection(
            connection_id=handshake.connection_id,
            workspace_id=workspace_id,
            kind=ConnectionKind.VISITOR,
            expires_at=expires_at,
            ticket_id=ticket_id,
            topics=(ticket_topic(ticket_id),),
        )
    elif "connect_token" in query:
        grant = None
        if deps.connect_token_secret is not None:
            grant = connect_tokens.read(
                deps.connect_token_secret(), query.get("connect_token", ""), epoch(deps.clock.now())
            )
        if grant is None:
            raise Unauthenticated(
                "The connect token is not valid or expired; ask GET /v1/live for another.",
                code="invalid_connect_token",
            )
        connection = LiveConnection(
            connection_id=handshake.connection_id,
            workspace_id=grant.workspace_id,
            kind=ConnectionKind.AGENT,
            expires_at=expires_at,
            user_id=grant.user_id or None,
        )
    else:
        token = query.get("token") or None
        cookie = None if token else handshake.session_cookie
        if cookie is not None and handshake.origin not in deps.policy.app_origins:
            # Cross-site WebSocket hijacking: another site's page would carry the cookie too.
            raise Forbidden(
                "This connection comes from a site that may not use it.", code="csrf_failed"
            )
        agent = deps.agents.agent(token, cookie)
        if agent is None:
            raise Unauthenticated("Send a valid session or `?token=`.", code="invalid_token")
        workspace_id, user_id = agent
        connection = LiveConnection(
            connection_id=handshake.connection_id,
            workspace_id=workspace_id,
            kind=ConnectionKind.AGENT,
            expires_at=expires_at,
            user_id=user_id,
        )
    deps.connections.add(connection)
    return connection


def receive(deps: LiveDeps, connection_id: str, body: str) -> dict[str, Any]:
    """Handles one message of a connection (`subscribe`, `unsubscribe`, `ping`) and returns
    the reply to send it. Raises a HelptalError (the reply is then that error); a message
    refused changes nothing."""
    connection = deps.connections.get(connection_id)
    if connection is None or connection.expires_at <= epoch(deps.clock.now()):
        raise Unauthenticated(
            "This connection is not known; connect again.", code="connection_unknown"
        )
    message = _parse(body)
    action = message.get("action")
    if action == "ping":
        expires_at = epoch(deps.clock.now()) + deps.policy.connection_ttl_seconds
        deps.connections.refresh(connection, expires_at)
        return {"type": "pong"}
    if action in ("subscribe", "unsubscribe"):
        topic = message.get("topic")
        if not isinstance(topic, str) or not is_topic(topic):
            raise BadRequest("`topic` is `inbox` or `ticket:<id>`.", code="invalid_topic")
        if action == "subscribe":
            subscribe(deps, connection, topic)
            return {"type": "subscribed", "topic": topic}
        deps.connections.unsubscribe(connection, topic)
        return {"type": "unsubscribed", "topic": topic}
    raise BadRequest("`action` is `subscribe`, `unsubscribe` or `ping`.", code="unknown_action")


def subscribe(deps: LiveDeps, connection: LiveConnection, topic: str) -> LiveConnection:
    """Adds the topic to the connection if its rules allow (one GetItem of the ticket for
    an agent's ticket topic, then one BatchWriteItem)."""
    if topic in connection.topics:
        return connection
    if connection.kind is ConnectionKind.VISITOR:
        # A visitor token authorises its own conversation, which connect subscribed already.
        raise Forbidden("A visitor hears only their own conversation.", code="topic_not_allowed")
    ticket_id = ticket_of_topic(topic)
    if ticket_id is not None and not deps.tickets.exists(connection.workspace_id, ticket_id):
        # The same answer for another workspace's ticket as for none at all.
        raise NotFound("No such ticket.", code="ticket_not_found")
    if ticket_id is None and topic != INBOX_TOPIC:
        raise BadRequest("`topic` is `inbox` or `ticket:<id>`.", code="invalid_topic")
    if len(connection.topics) >= deps.policy.max_topics_per_connection:
        raise BadRequest(
            f"A connection listens to at most {deps.policy.max_topics_per_connection} topics.",
            code="too_many_topics",
        )
    return deps.connections.subscribe(connection, topic)


def disconnect(deps: LiveDeps, connection_id: str) -> None:
    """Forgets the connection and its subscriptions (idempotent)."""
    deps.connections.remove(connection_id)


def error_reply(error: HelptalError) -> dict[str, Any]:
    return {"type": "error", "error": {"code": error.code, "message": error.message}}


def _parse(body: str) -> dict[str, Any]:
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise BadRequest(
            f"A message is at most {MAX_MESSAGE_BYTES} bytes.", code="message_too_large"
        )
    try:
        message = json.loads(body)
    except ValueError as e:
        raise BadRequest("A message is a JSON object.", code="invalid_json") from e
    if not isinstance(message, dict):
        raise BadRequest("A message is a JSON object.", code="invalid_json")
    return message


# --- pushes --------------------------------------------------------------------------------


class TopicPush:
    """`LivePush` over the WebSocket API: one Query of the topic, one post per connection."""

    def __init__(
        self,
        connections: LiveConnections,
        channel: PushChannel,
        clock: Clock,
        max_per_topic: int = MAX_PER_TOPIC,
    ) -> None:
        self._connections = connections
        self._channel = channel
        self._clock = clock
        self._max_per_topic = max_per_topic

    def push(self, workspace_id: str, topic: str, event: dict[str, Any]) -> None:
        """Posts `event` to every connection of the topic; forgets those gone. Never raises."""
        from chalicelib.observability import logger

        data = json.dumps(event, separators=(",", ":")).encode()
        try:
            listening = self._connections.listening(
                workspace_id, topic, epoch(self._clock.now()), self._max_per_topic
            )
            for connection_id in listening:
                if self._channel.post(connection_id, data) is Delivery.GONE:
                    self._connections.remove(connection_id)
        except Exception as e:  # best effort: a push never fails the change it reports
            logger.warning("live push failed", extra={"topic": topic, "error": type(e).__name__})


class NoLivePush:
    """Where there is no WebSocket API (the local stack): clients learn by polling."""

    def push(self, workspace_id: str, topic: str, event: dict[str, Any]) -> None:
        return None


# --- adapters onto other capabilities -------------------------------------------------------


class AccountAgentSessions:
    """`AgentSessions` through the accounts' own authentication (sessions and API keys)."""

    def __init__(self, accounts: AccountDeps) -> None:
        self._accounts = accounts

    def agent(self, token: str | None, session_cookie: str | None) -> tuple[str, str | None] | None:
        from chalicelib.accounts.sessions import authenticate

        try:
            principal = authenticate(
                self._accounts, f"Bearer {token}" if token else None, None, session_cookie
            )
        except HelptalError:
            return None
        return principal.workspace_id, principal.user_id


class StoredTickets:
    """`Tickets` read from the ticket store (one GetItem)."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    def exists(self, workspace_id: str, ticket_id: str) -> bool:
        return self._store.get_ticket(workspace_id, ticket_id) is not None


class SignedVisitorTokens:
    """`VisitorTokens` through the chat's signed visitor tokens: a genuine token (no call)
    whose workspace is the one of the widget's public key (one GetItem)."""

    def __init__(
        self, secret: Callable[[], str], workspace_of_key: Callable[[str], str | None]
    ) -> None:
        self._secret = secret  # read at each use: a rotation needs no restart
        self._workspace_of_key = workspace_of_key

    def verify(self, public_key: str, token: str) -> tuple[str, str] | None:
        from chalicelib.chat import visitor_tokens

        grant = visitor_tokens.read(self._secret(), token)
        if grant is None or not public_key:
            return None
        if self._workspace_of_key(public_key) != grant.workspace_id:
            return None
        return grant.workspace_id, grant.ticket_id
