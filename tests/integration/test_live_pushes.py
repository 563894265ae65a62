"""Every change a live client cares about is pushed to the connections listening for it,
through the real management client to a local management API: a visitor's and an agent's
messages and signals straight from the request, the events consumer to the inbox, the answer
bot's callback; never to another workspace, and never failing the request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from tests.integration.chat_helpers import enable_chat, start, visitor
from tests.integration.test_live_websocket import (  # noqa: F401  (fixtures)
    _connect,
    _forget_live_services,
    _say,
    management,
    management_server,
)

MOVED = "conversation.moved"


class Listener:
    """One open connection of the fake management API, and what it heard since last asked."""

    def __init__(self, server: Any, connection_id: str) -> None:
        self.management = server
        self.connection_id = connection_id
        self.read = 0
        server.open(connection_id)

    def heard(self) -> list[dict[str, Any]]:
        received = self.management.received(self.connection_id)
        new, self.read = received[self.read :], len(received)
        return [event for event in new if event["type"] in (MOVED, "ticket.changed")]


@pytest.fixture()
def owner(api, clean_aws, management):  # noqa: F811
    return api.sign_up(workspace="Acme Support")


@pytest.fixture()
def key(api, owner):
    return enable_chat(api, owner)["public_key"]


@pytest.fixture()
def chat(api, owner, key, management):  # noqa: F811
    """A started conversation with the visitor, an agent on the ticket and one on the inbox
    connected and subscribed."""
    started = start(api, key)
    ticket_id = started["conversation"]["id"]
    listeners = {
        "visitor": Listener(management, "visitor1"),
        "agent": Listener(management, "agent1"),
        "inbox": Listener(management, "inbox1"),
    }
    query = {"public_key": key, "visitor_token": started["visitor_token"]}
    assert _connect(api, "visitor1", query=query)["statusCode"] == 200
    for connection_id, topic in (("agent1", f"ticket:{ticket_id}"), ("inbox1", "inbox")):
        assert _connect(api, connection_id, query={"token": owner["token"]})["statusCode"] == 200
        reply = _say(api, management, connection_id, {"action": "subscribe", "topic": topic})
        assert reply["type"] == "subscribed"
    for listener in listeners.values():
        listener.heard()
    return {"ticket_id": ticket_id, "token": started["visitor_token"], **listeners}


def _visitor_call(api, key, chat, path, body):
    status, answer, _ = visitor(
        api,
        "POST",
        f"/v1/chat/{key}/conversations/{chat['ticket_id']}{path}",
        body,
        chat["token"],
    )
    assert status in (200, 201, 204), answer
    return answer


def _moved(chat) -> dict[str, Any]:
    return {"type": MOVED, "ticket_id": chat["ticket_id"]}


def _deliver_event(api, body: dict[str, Any]) -> None:
    """Hands the events queue's consumer one event, as SQS would."""
    event = api.client.events.generate_sqs_event(
        message_bodies=[json.dumps(body)], queue_name="events"
    )
    api.client.lambda_.invoke("search_indexer", event)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/messages", {"text": "Are you there?"}),
        ("/typing", {"typing": True}),
        ("/rating", {"rating": "good"}),
        ("/end", {}),
    ],
)
def test_a_visitors_message_or_signal_reaches_the_agent_and_the_widget_from_the_request(
    api, key, chat, path, body
):
    _visitor_call(api, key, chat, path, body)

    assert _moved(chat) in chat["agent"].heard()
    assert _moved(chat) in chat["visitor"].heard()
    # The inbox hears of the ticket from the events consumer, not from the request.
    assert chat["inbox"].heard() == []


def test_the_visitor_seeing_the_agents_reply_reaches_the_agent(api, owner, key, chat):
    status, reply, _ = api.request(
        "POST",
        f"/v1/tickets/{chat['ticket_id']}/messages",
        {"body": "Hello!", "kind": "reply"},
        token=owner["token"],
    )
    assert status == 201, reply
    chat["agent"].heard()

    _visitor_call(api, key, chat, "/seen", {"message_id": reply["id"]})

    assert chat["agent"].heard() == [_moved(chat)]


def test_an_agents_reply_and_typing_reach_the_widget_from_the_request(api, owner, key, chat):
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{chat['ticket_id']}/typing",
        {"typing": True},
        token=owner["token"],
    )
    assert status == 204, body
    assert chat["visitor"].heard() == [_moved(chat)]

    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{chat['ticket_id']}/messages",
        {"body": "Yes, how can I help?", "kind": "reply"},
        token=owner["token"],
    )
    assert status == 201, body
    assert chat["visitor"].heard() == [_moved(chat)]
    assert chat["agent"].heard() == [_moved(chat), _moved(chat)]


def test_the_events_consumer_tells_the_inbox_and_the_tickets_listeners(api, chat, owner):
    for event_type in ("ticket.created", "ticket.updated", "message.received", "message.sent"):
        _deliver_event(
            api,
            {
                "type": event_type,
                "workspace_id": owner["workspace"]["id"],
                "ticket_id": chat["ticket_id"],
            },
        )

        assert chat["inbox"].heard() == [{"type": "ticket.changed", "ticket_id": chat["ticket_id"]}]
        assert chat["visitor"].heard() == [_moved(chat)]
        assert chat["agent"].heard() == [_moved(chat)]


def test_a_new_conversation_reaches_the_inbox_through_the_events_consumer(api, key, owner, chat):
    started = start(api, key, message="A second visitor")
    new_id = started["conversation"]["id"]

    _deliver_event(
        api,
        {"type": "ticket.created", "workspace_id": owner["workspace"]["id"], "ticket_id": new_id},
    )

    assert chat["inbox"].heard() == [{"type": "ticket.changed", "ticket_id": new_id}]
    assert chat["visitor"].heard() == []


def test_the_answer_bots_answer_reaches_the_widget(chat, owner):
    bot = bootstrap.chat_answer_bot()

    bot.deps.conversation_moved(
        owner["workspace"]["id"], chat["ticket_id"], "01J0000000000000000000000M"
    )

    assert chat["visitor"].heard() == [_moved(chat)]


def test_another_workspaces_inbox_hears_nothing_of_this_workspaces_tickets(
    api,
    key,
    owner,
    chat,
    management,  # noqa: F811
):
    other = api.sign_up(workspace="Globex", email="gus@globex.test", name="Gus")
    globex = Listener(management, "globex1")
    assert _connect(api, "globex1", query={"token": other["token"]})["statusCode"] == 200
    _say(api, management, "globex1", {"action": "subscribe", "topic": "inbox"})
    globex.heard()

    _visitor_call(api, key, chat, "/messages", {"text": "Hello?"})
    _deliver_event(
        api,
        {
            "type": "message.received",
            "workspace_id": owner["workspace"]["id"],
            "ticket_id": chat["ticket_id"],
        },
    )

    assert chat["inbox"].heard() == [{"type": "ticket.changed", "ticket_id": chat["ticket_id"]}]
    assert globex.heard() == []


def test_a_push_that_cannot_be_delivered_never_fails_the_request(
    api,
    key,
    chat,
    monkeypatch,
    management,  # noqa: F811
):
    management.close("agent1")  # the agent left: forgotten on the next push
    _visitor_call(api, key, chat, "/messages", {"text": "Still there?"})
    assert chat["visitor"].heard() == [_moved(chat)]

    # The management API itself unreachable: the change is made all the same.
    monkeypatch.setenv("LIVE_CALLBACK_URL", "http://127.0.0.1:9/api")
    reload_settings()
    _forget_live_services()
    answer = _visitor_call(api, key, chat, "/messages", {"text": "Hello again"})
    status, news, _ = visitor(
        api,
        "GET",
        f"/v1/chat/{key}/conversations/{chat['ticket_id']}/messages",
        None,
        chat["token"],
    )

    assert status == 200
    assert answer["id"] in [message["id"] for message in news["messages"]]
