"""Who may listen to what over the live WebSocket API, and where a push goes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from chalicelib.live.connections import (
    Handshake,
    LiveDeps,
    LivePolicy,
    NoLivePush,
    TopicPush,
    connect,
    disconnect,
    receive,
)
from chalicelib.live.model import LiveConnection, conversation_moved
from chalicelib.live.ports import Delivery

APP = "https://app.helptal.test"
TICKET_A = "01HZZZZZZZZZZZZZZZZZZZZZZA"
TICKET_A2 = "01HZZZZZZZZZZZZZZZZZZZZZZC"
TICKET_B = "01HZZZZZZZZZZZZZZZZZZZZZZB"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self) -> None:
        self.moment = NOW

    def now(self) -> datetime:
        return self.moment


class MemoryConnections:
    """`LiveConnections` in memory: connections by id, topics as (workspace, topic) sets."""

    def __init__(self) -> None:
        self.connections: dict[str, LiveConnection] = {}
        self.topics: dict[tuple[str, str], dict[str, int]] = {}

    def _write(self, connection: LiveConnection) -> None:
        self.connections[connection.connection_id] = connection
        for topic in connection.topics:
            key = (connection.workspace_id, topic)
            self.topics.setdefault(key, {})[connection.connection_id] = connection.expires_at

    def add(self, connection: LiveConnection) -> None:
        self._write(connection)

    def get(self, connection_id: str) -> LiveConnection | None:
        return self.connections.get(connection_id)

    def subscribe(self, connection: LiveConnection, topic: str) -> LiveConnection:
        changed = replace(connection, topics=(*connection.topics, topic))
        self._write(changed)
        return changed

    def unsubscribe(self, connection: LiveConnection, topic: str) -> LiveConnection:
        changed = replace(connection, topics=tuple(t for t in connection.topics if t != topic))
        self.topics.get((connection.workspace_id, topic), {}).pop(connection.connection_id, None)
        self._write(changed)
        return changed

    def refresh(self, connection: LiveConnection, expires_at: int) -> LiveConnection:
        changed = replace(connection, expires_at=expires_at)
        self._write(changed)
        return changed

    def remove(self, connection_id: str) -> None:
        connection = self.connections.pop(connection_id, None)
        if connection is not None:
            for topic in connection.topics:
                self.topics[(connection.workspace_id, topic)].pop(connection_id, None)

    def listening(self, workspace_id: str, topic: str, now: int, limit: int) -> list[str]:
        found = self.topics.get((workspace_id, topic), {})
        return [cid for cid, until in sorted(found.items()) if until > now][:limit]


class RecordingChannel:
    def __init__(self, gone: set[str] | None = None, failing: set[str] | None = None) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = {}
        self.gone = gone or set()
        self.failing = failing or set()

    def post(self, connection_id: str, data: bytes) -> Delivery:
        if connection_id in self.gone:
            return Delivery.GONE
        if connection_id in self.failing:
            return Delivery.FAILED
        self.sent.setdefault(connection_id, []).append(json.loads(data))
        return Delivery.DELIVERED


class Agents:
    """Sessions: token or cookie -> (workspace, user)."""

    def __init__(self) -> None:
        self.sessions = {"hts_ann": ("ws-a", "ann"), "hts_bob": ("ws-b", "bob")}

    def agent(self, token: str | None, session_cookie: str | None) -> tuple[str, str | None] | None:
        return self.sessions.get(token or session_cookie or "")


class VisitorTokens:
    def verify(self, public_key: str, token: str) -> tuple[str, str] | None:
        return {("pk_a", "vt_a"): ("ws-a", TICKET_A)}.get((public_key, token))


class Tickets:
    def __init__(self) -> None:
        self.known = {("ws-a", TICKET_A), ("ws-a", TICKET_A2), ("ws-b", TICKET_B)}

    def exists(self, workspace_id: str, ticket_id: str) -> bool:
        return (workspace_id, ticket_id) in self.known


@pytest.fixture
def deps() -> LiveDeps:
    return LiveDeps(
        connections=MemoryConnections(),
        agents=Agents(),
        visitor_tokens=VisitorTokens(),
        tickets=Tickets(),
        clock=FixedClock(),
        policy=LivePolicy(app_origins=frozenset({APP})),
    )


def _agent(deps: LiveDeps, connection_id: str, token: str = "hts_ann") -> LiveConnection:
    return connect(deps, Handshake(connection_id, {"token": token}, None, ""))


def _visitor(deps: LiveDeps, connection_id: str) -> LiveConnection:
    query = {"public_key": "pk_a", "visitor_token": "vt_a"}
    return connect(deps, Handshake(connection_id, query, None, "https://shop.example"))


def _say(deps: LiveDeps, connection_id: str, **message: Any) -> dict[str, Any]:
    return receive(deps, connection_id, json.dumps(message))


# --- connecting -------------------------------------------------------------------------------


def test_an_agent_connects_with_their_session_cookie_from_the_web_clients_origin(deps):
    connection = connect(deps, Handshake("c1", {}, "hts_ann", APP))

    assert (connection.workspace_id, connection.user_id, connection.topics) == ("ws-a", "ann", ())
    assert deps.connections.get("c1") == connection


def test_a_session_cookie_sent_from_another_site_is_refused_and_nothing_recorded(deps):
    for origin in ("https://evil.example", ""):
        with pytest.raises(Forbidden) as refused:
            connect(deps, Handshake("c1", {}, "hts_ann", origin))
        assert refused.value.code == "csrf_failed"
    assert deps.connections.get("c1") is None


def test_an_api_client_connects_with_a_token_from_anywhere(deps):
    connection = connect(deps, Handshake("c1", {"token": "hts_bob"}, None, ""))

    assert connection.workspace_id == "ws-b"


def test_an_unknown_session_or_no_credential_is_refused(deps):
    for query, cookie in (({"token": "hts_nobody"}, None), ({}, None), ({}, "hts_nobody")):
        with pytest.raises(Unauthenticated):
            connect(deps, Handshake("c1", query, cookie, APP))
    assert deps.connections.get("c1") is None


def test_a_visitor_connects_listening_to_their_own_conversation(deps):
    connection = _visitor(deps, "v1")

    assert connection.workspace_id == "ws-a"
    assert connection.topics == (f"ticket:{TICKET_A}",)


def test_a_forged_visitor_token_is_refused(deps):
    with pytest.raises(Unauthenticated) as refused:
        connect(deps, Handshake("v1", {"public_key": "pk_a", "visitor_token": "vt_x"}, None, ""))

    assert refused.value.code == "invalid_visitor_token"
    assert deps.connections.get("v1") is None


def test_visitors_are_refused_while_visitor_tokens_cannot_be_checked(deps):
    deps = replace(deps, visitor_tokens=None)

    with pytest.raises(Unauthenticated):
        _visitor(deps, "v1")


# --- subscribing ------------------------------------------------------------------------------


def test_an_agent_subscribes_to_the_inbox_and_a_ticket_of_their_workspace(deps):
    _agent(deps, "c1")

    assert _say(deps, "c1", action="subscribe", topic="inbox")["type"] == "subscribed"
    assert _say(deps, "c1", action="subscribe", topic=f"ticket:{TICKET_A}")["type"] == "subscribed"
    assert deps.connections.get("c1").topics == ("inbox", f"ticket:{TICKET_A}")


def test_an_agent_of_workspace_a_cannot_subscribe_to_a_ticket_of_workspace_b(deps):
    _agent(deps, "c1")

    with pytest.raises(NotFound) as refused:
        _say(deps, "c1", action="subscribe", topic=f"ticket:{TICKET_B}")

    assert refused.value.code == "ticket_not_found"
    assert deps.connections.get("c1").topics == ()
    assert ("ws-a", f"ticket:{TICKET_B}") not in deps.connections.topics
    assert ("ws-b", f"ticket:{TICKET_B}") not in deps.connections.topics


def test_a_visitor_cannot_subscribe_to_another_conversation_nor_the_inbox(deps):
    _visitor(deps, "v1")

    for topic in (f"ticket:{TICKET_A2}", "inbox"):
        with pytest.raises(Forbidden) as refused:
            _say(deps, "v1", action="subscribe", topic=topic)
        assert refused.value.code == "topic_not_allowed"
    assert deps.connections.get("v1").topics == (f"ticket:{TICKET_A}",)
    # Their own conversation: already heard, still fine to ask.
    assert _say(deps, "v1", action="subscribe", topic=f"ticket:{TICKET_A}")["type"] == "subscribed"


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        json.dumps({"action": "subscribe", "topic": "ticket:../../x"}),
        json.dumps({"action": "subscribe", "topic": 7}),
        json.dumps({"action": "subscribe"}),
        json.dumps({"action": "shout"}),
        json.dumps({"action": "subscribe", "topic": "inbox", "pad": "x" * 3000}),
    ],
)
def test_a_bad_message_is_answered_with_an_error_and_changes_nothing(deps, message):
    _agent(deps, "c1")

    with pytest.raises(BadRequest):
        receive(deps, "c1", message)

    assert deps.connections.get("c1").topics == ()


def test_a_connection_hears_a_bounded_number_of_topics(deps):
    deps = replace(deps, policy=replace(deps.policy, max_topics_per_connection=1))
    _agent(deps, "c1")
    _say(deps, "c1", action="subscribe", topic="inbox")

    with pytest.raises(BadRequest) as refused:
        _say(deps, "c1", action="subscribe", topic=f"ticket:{TICKET_A}")

    assert refused.value.code == "too_many_topics"


def test_a_message_on_an_unknown_connection_is_refused(deps):
    with pytest.raises(Unauthenticated):
        _say(deps, "nobody", action="ping")


def test_a_ping_keeps_the_connection_and_its_topics_for_two_more_hours(deps):
    _agent(deps, "c1")
    _say(deps, "c1", action="subscribe", topic="inbox")
    deps.clock.moment = NOW.replace(hour=13, minute=30)

    assert _say(deps, "c1", action="ping") == {"type": "pong"}

    expected = int(deps.clock.moment.timestamp()) + 2 * 3600
    assert deps.connections.get("c1").expires_at == expected
    assert deps.connections.topics[("ws-a", "inbox")]["c1"] == expected


def test_unsubscribing_and_disconnecting_stop_the_pushes(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _agent(deps, "c1")
    _agent(deps, "c2")
    for connection_id in ("c1", "c2"):
        _say(deps, connection_id, action="subscribe", topic="inbox")

    _say(deps, "c1", action="unsubscribe", topic="inbox")
    disconnect(deps, "c2")
    live.push("ws-a", "inbox", {"type": "ticket.changed", "ticket_id": TICKET_A})

    assert channel.sent == {}
    assert deps.connections.get("c2") is None


# --- pushing ----------------------------------------------------------------------------------


def test_a_push_reaches_the_topics_connections_only(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _visitor(deps, "visitor")
    _agent(deps, "viewing")
    _say(deps, "viewing", action="subscribe", topic=f"ticket:{TICKET_A}")
    _agent(deps, "elsewhere")
    _say(deps, "elsewhere", action="subscribe", topic=f"ticket:{TICKET_A2}")
    _agent(deps, "inbox")
    _say(deps, "inbox", action="subscribe", topic="inbox")
    _agent(deps, "other-workspace", token="hts_bob")
    _say(deps, "other-workspace", action="subscribe", topic="inbox")

    live.push("ws-a", f"ticket:{TICKET_A}", conversation_moved(TICKET_A, 7))

    event = {"type": "conversation.moved", "ticket_id": TICKET_A, "version": 7}
    assert channel.sent == {"visitor": [event], "viewing": [event]}


def test_a_push_to_a_workspaces_inbox_never_reaches_another_workspace(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _agent(deps, "ann")
    _agent(deps, "bob", token="hts_bob")
    for connection_id in ("ann", "bob"):
        _say(deps, connection_id, action="subscribe", topic="inbox")

    live.push("ws-b", "inbox", {"type": "ticket.changed", "ticket_id": TICKET_B})

    assert list(channel.sent) == ["bob"]


def test_a_gone_connection_is_forgotten_and_the_others_still_get_the_push(deps):
    channel = RecordingChannel(gone={"c1"}, failing={"c2"})
    live = TopicPush(deps.connections, channel, deps.clock)
    for connection_id in ("c1", "c2", "c3"):
        _agent(deps, connection_id)
        _say(deps, connection_id, action="subscribe", topic="inbox")

    live.push("ws-a", "inbox", {"type": "ticket.changed", "ticket_id": TICKET_A})

    assert list(channel.sent) == ["c3"]
    assert deps.connections.get("c1") is None
    assert deps.connections.get("c2") is not None  # a failure is not a goodbye


def test_a_push_reaches_at_most_the_topics_limit_of_connections(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock, max_per_topic=3)
    for number in range(5):
        _agent(deps, f"c{number}")
        _say(deps, f"c{number}", action="subscribe", topic="inbox")

    live.push("ws-a", "inbox", {"type": "ticket.changed", "ticket_id": TICKET_A})

    assert len(channel.sent) == 3


def test_an_expired_connection_gets_no_push(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _agent(deps, "c1")
    _say(deps, "c1", action="subscribe", topic="inbox")
    deps.clock.moment = NOW.replace(hour=14, minute=1)

    live.push("ws-a", "inbox", {"type": "ticket.changed", "ticket_id": TICKET_A})

    assert channel.sent == {}


def test_a_push_never_raises_into_the_change_it_reports(deps):
    class Broken(MemoryConnections):
        def listening(self, *args: Any) -> list[str]:
            raise RuntimeError("table unreachable")

    TopicPush(Broken(), RecordingChannel(), deps.clock).push("ws-a", "inbox", {"type": "x"})
    NoLivePush().push("ws-a", "inbox", {"type": "x"})


# --- the chat's visitor tokens ----------------------------------------------------------------


def test_a_visitor_token_counts_only_with_its_own_workspaces_public_key():
    from chalicelib.chat.visitor_tokens import VisitorGrant, issue
    from chalicelib.live.connections import SignedVisitorTokens

    keys = {"pk_a": "ws-a", "pk_b": "ws-b"}
    tokens = SignedVisitorTokens(lambda: "secret", keys.get)
    token = issue("secret", VisitorGrant("ws-a", TICKET_A, "visitor-1"))

    assert tokens.verify("pk_a", token) == ("ws-a", TICKET_A)
    assert tokens.verify("pk_b", token) is None
    assert tokens.verify("pk_unknown", token) is None
    assert tokens.verify("pk_a", issue("other secret", VisitorGrant("ws-a", TICKET_A, "v"))) is None
    assert tokens.verify("pk_a", token[:-2]) is None
