"""Which change tells which live topic, and the web client's connect tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.chat import visitor_tokens
from chalicelib.errors import Unauthenticated
from chalicelib.live import connect_tokens
from chalicelib.live.connections import Handshake, LiveDeps, TopicPush, connect
from chalicelib.live.pushes import PushingEvents, tell_conversation_moved, tell_ticket_event
from tests.unit.test_live_rules import (
    APP,
    NOW,
    TICKET_A,
    TICKET_B,
    RecordingChannel,
    _agent,
    _say,
    _visitor,
)
from tests.unit.test_live_rules import deps as live_deps  # noqa: F401  (fixture)

SECRET = "s" * 64
EPOCH_NOW = int(NOW.timestamp())


@pytest.fixture
def deps(live_deps: LiveDeps) -> LiveDeps:  # noqa: F811
    return replace(live_deps, connect_token_secret=lambda: SECRET)


class RecordingPush:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, str, dict[str, Any]]] = []

    def push(self, workspace_id: str, topic: str, event: dict[str, Any]) -> None:
        self.pushed.append((workspace_id, topic, event))


class RecordingEvents:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def publish(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> None:
        self.log.append(f"queued {event_type}")

    def publish_later(
        self, event_type: str, workspace_id: str, payload: dict[str, object], delay_seconds: int
    ) -> None:
        self.log.append(f"queued later {event_type}")


# --- where changes are told -------------------------------------------------------------------


def test_a_ticket_event_from_a_request_tells_the_tickets_listeners_after_it_is_queued():
    log: list[str] = []

    class LoggingPush(RecordingPush):
        def push(self, workspace_id: str, topic: str, event: dict[str, Any]) -> None:
            log.append(f"pushed {topic}")
            super().push(workspace_id, topic, event)

    live = LoggingPush()
    events = PushingEvents(RecordingEvents(log), lambda: live)

    events.publish("message.sent", "ws-a", {"ticket_id": TICKET_A, "message_id": "m1"})

    assert log == ["queued message.sent", f"pushed ticket:{TICKET_A}"]
    assert live.pushed == [
        ("ws-a", f"ticket:{TICKET_A}", {"type": "conversation.moved", "ticket_id": TICKET_A})
    ]


def test_a_delayed_event_or_one_without_a_ticket_tells_no_one_yet():
    log: list[str] = []
    live = RecordingPush()
    events = PushingEvents(RecordingEvents(log), lambda: live)

    events.publish_later("chat.reply_unseen", "ws-a", {"ticket_id": TICKET_A}, 60)
    events.publish("kb.article_published", "ws-a", {"article_id": "a1"})

    assert log == ["queued later chat.reply_unseen", "queued kb.article_published"]
    assert live.pushed == []


def test_the_events_consumer_tells_the_workspaces_inbox_and_the_tickets_listeners(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _agent(deps, "ann-inbox")
    _say(deps, "ann-inbox", action="subscribe", topic="inbox")
    _visitor(deps, "visitor")
    _agent(deps, "bob-inbox", token="hts_bob")
    _say(deps, "bob-inbox", action="subscribe", topic="inbox")

    tell_ticket_event(
        live, {"type": "message.received", "workspace_id": "ws-a", "ticket_id": TICKET_A}
    )

    assert channel.sent == {
        "ann-inbox": [{"type": "ticket.changed", "ticket_id": TICKET_A}],
        "visitor": [{"type": "conversation.moved", "ticket_id": TICKET_A}],
    }


def test_a_conversation_moved_push_names_the_ticket_and_no_content(deps):
    channel = RecordingChannel()
    live = TopicPush(deps.connections, channel, deps.clock)
    _visitor(deps, "visitor")

    tell_conversation_moved(live, "ws-a", TICKET_A)
    tell_conversation_moved(live, "ws-b", TICKET_B)

    assert channel.sent == {"visitor": [{"type": "conversation.moved", "ticket_id": TICKET_A}]}


# --- connect tokens ---------------------------------------------------------------------------


def test_an_agent_connects_with_a_connect_token_from_any_origin(deps):
    token = connect_tokens.issue(SECRET, "ws-a", "ann", EPOCH_NOW)

    connection = connect(deps, Handshake("c1", {"connect_token": token}, None, ""))

    assert (connection.workspace_id, connection.user_id, connection.kind.value) == (
        "ws-a",
        "ann",
        "agent",
    )
    _say(deps, "c1", action="subscribe", topic="inbox")
    assert deps.connections.get("c1").topics == ("inbox",)


def test_a_connect_token_is_refused_after_sixty_seconds_and_nothing_is_recorded(deps):
    token = connect_tokens.issue(SECRET, "ws-a", "ann", EPOCH_NOW)
    deps.clock.moment = NOW + timedelta(seconds=connect_tokens.LIFETIME_SECONDS)

    with pytest.raises(Unauthenticated) as refused:
        connect(deps, Handshake("c1", {"connect_token": token}, None, APP))

    assert refused.value.code == "invalid_connect_token"
    assert deps.connections.get("c1") is None


def test_a_forged_altered_or_other_kind_of_token_is_not_a_connect_token(deps):
    genuine = connect_tokens.issue(SECRET, "ws-a", "ann", EPOCH_NOW)
    payload, signature = genuine.removeprefix("lct_").split(".")
    other_workspace = connect_tokens.issue(SECRET, "ws-b", "ann", EPOCH_NOW).split(".")[0]
    visitor = visitor_tokens.issue(SECRET, visitor_tokens.VisitorGrant("ws-a", TICKET_A, "v1"))
    for token in (
        connect_tokens.issue("another secret" * 4, "ws-a", "ann", EPOCH_NOW),
        f"{other_workspace}.{signature}",  # another workspace's payload, this signature
        f"lct_{payload}.{signature[:-2]}",
        f"lct_{visitor}",
        visitor,
        "",
        "lct_" + "x" * 500,
    ):
        with pytest.raises(Unauthenticated):
            connect(deps, Handshake("c1", {"connect_token": token}, None, APP))
    assert deps.connections.get("c1") is None


def test_without_a_connect_token_key_every_connect_token_is_refused(live_deps):  # noqa: F811
    token = connect_tokens.issue(SECRET, "ws-a", "ann", EPOCH_NOW)

    with pytest.raises(Unauthenticated):
        connect(live_deps, Handshake("c1", {"connect_token": token}, None, APP))
