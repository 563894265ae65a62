"""The local stack's WebSocket bridge runs the production handlers: real sockets in, API
Gateway events to the app's handlers, and pushes through the real management client back
down the right socket."""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.live_bridge import LiveBridge
from tests.integration.chat_helpers import enable_chat, start
from tests.integration.test_live_websocket import _forget_live_services, _stored


@pytest.fixture()
def bridge(api, clean_aws, monkeypatch) -> Iterator[LiveBridge]:
    """The bridge around the app's own handlers, the app pushing through it."""
    app_module = importlib.import_module("app")
    live = LiveBridge(
        app_module.websocket_connect,
        app_module.websocket_message,
        app_module.websocket_disconnect,
        port=0,
    )
    ready = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(live.serve_forever(ready.set)), daemon=True
    )
    thread.start()
    assert ready.wait(10)
    monkeypatch.setenv("LIVE_CALLBACK_URL", live.callback_url)
    monkeypatch.setenv("LIVE_WEBSOCKET_URL", live.url)
    reload_settings()
    _forget_live_services()
    yield live
    live.stop()
    thread.join(10)
    monkeypatch.undo()
    reload_settings()
    _forget_live_services()


def _next(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=5))


def test_an_agent_connects_subscribes_and_hears_a_new_visitor_message(api, bridge):
    owner = api.sign_up()
    key = enable_chat(api, owner)["public_key"]
    started = start(api, key)
    ticket_id = started["conversation"]["id"]
    live = api.request("GET", "/v1/live", token=owner["token"])[1]
    assert live["url"] == bridge.url

    with connect(f"{live['url']}/?connect_token={live['connect_token']}") as agent:
        agent.send(json.dumps({"action": "subscribe", "topic": f"ticket:{ticket_id}"}))
        assert _next(agent) == {"type": "subscribed", "topic": f"ticket:{ticket_id}"}

        status, body, _ = api.request(
            "POST",
            f"/v1/chat/{key}/conversations/{ticket_id}/messages",
            {"text": "Anyone?"},
            token=started["visitor_token"],
            headers={"Origin": "https://www.acme.example"},
        )
        assert status == 201, body

        assert _next(agent) == {"type": "conversation.moved", "ticket_id": ticket_id}
        agent.send(json.dumps({"action": "ping"}))
        assert _next(agent) == {"type": "pong"}


def test_a_visitor_hears_the_agents_reply_through_the_bridge(api, bridge):
    owner = api.sign_up()
    key = enable_chat(api, owner)["public_key"]
    started = start(api, key)
    ticket_id = started["conversation"]["id"]
    url = f"{bridge.url}/?visitor_token={started['visitor_token']}&public_key={key}"

    with connect(url, origin="https://www.acme.example") as widget:
        status, body, _ = api.request(
            "POST",
            f"/v1/tickets/{ticket_id}/messages",
            {"body": "Hello from the team", "kind": "reply"},
            token=owner["token"],
        )
        assert status == 201, body

        assert _next(widget) == {"type": "conversation.moved", "ticket_id": ticket_id}


def test_a_refused_upgrade_gets_the_handlers_status_and_error_and_nothing_is_kept(api, bridge):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{bridge.url}/?connect_token=lct_forged.token")

    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_connect_token"


def test_a_closed_socket_is_forgotten_and_a_push_to_it_is_gone(api, bridge, clean_aws):
    owner = api.sign_up()
    live = api.request("GET", "/v1/live", token=owner["token"])[1]
    with connect(f"{live['url']}/?connect_token={live['connect_token']}") as agent:
        agent.send(json.dumps({"action": "subscribe", "topic": "inbox"}))
        _next(agent)
        (connection_id,) = list(bridge._sockets)
        assert _stored(clean_aws, connection_id) is not None

    for _ in range(50):
        if _stored(clean_aws, connection_id) is None:
            break
        threading.Event().wait(0.1)
    assert _stored(clean_aws, connection_id) is None
    assert bridge.send(connection_id, b"{}") is False
    bootstrap.live_push().push(owner["workspace"]["id"], "inbox", {"type": "ticket.changed"})
