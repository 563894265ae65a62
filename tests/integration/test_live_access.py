"""How clients find the live WebSocket API: the web client's `GET /v1/live` (a URL and a
connect token that opens a connection once, within a minute) and the widget's config."""

from __future__ import annotations

import json

import pytest

from chalicelib.settings import reload_settings
from tests.integration.chat_helpers import enable_chat, visitor
from tests.integration.test_live_websocket import (  # noqa: F401  (fixtures)
    _connect,
    _say,
    _stored,
    management,
    management_server,
)

WSS = "wss://abc123ws.execute-api.ap-southeast-1.amazonaws.com/api"


@pytest.fixture()
def websocket_url(monkeypatch):
    monkeypatch.setenv("LIVE_WEBSOCKET_URL", WSS)
    reload_settings()
    yield WSS
    monkeypatch.undo()
    reload_settings()


def test_without_a_websocket_api_clients_are_told_to_poll(api, clean_aws):
    owner = api.sign_up()
    key = enable_chat(api, owner)["public_key"]

    status, live, _ = api.request("GET", "/v1/live", token=owner["token"])
    config = visitor(api, "GET", f"/v1/chat/{key}/config")[1]

    assert (status, live) == (200, {"url": None, "connect_token": None, "expires_in": None})
    assert config["live_url"] is None


def test_a_member_gets_a_connect_token_that_opens_a_connection_to_their_workspace(
    api,
    clean_aws,
    websocket_url,
    management,  # noqa: F811
):
    owner = api.sign_up()
    status, live, _ = api.request("GET", "/v1/live", token=owner["token"])
    assert status == 200, live
    assert (live["url"], live["expires_in"]) == (WSS, 60)
    management.open("web1")

    answer = _connect(
        api,
        "web1",
        query={"connect_token": live["connect_token"]},
        headers={"Origin": "https://x.test"},
    )

    assert answer["statusCode"] == 200, answer
    stored = _stored(clean_aws, "web1")
    assert stored["workspace_id"]["S"] == owner["workspace"]["id"]
    assert stored["user_id"]["S"] == owner["user"]["id"]
    reply = _say(api, management, "web1", {"action": "subscribe", "topic": "inbox"})
    assert reply == {"type": "subscribed", "topic": "inbox"}


def test_a_session_token_or_a_forged_token_is_not_a_connect_token(
    api,
    clean_aws,
    websocket_url,
    management,  # noqa: F811
):
    owner = api.sign_up()
    live = api.request("GET", "/v1/live", token=owner["token"])[1]
    for token in (owner["token"], live["connect_token"][:-3] + "AAA", "lct_x.y"):
        answer = _connect(api, "web2", query={"connect_token": token})
        assert answer["statusCode"] == 401, token
        assert json.loads(answer["body"])["error"]["code"] == "invalid_connect_token"
    assert _stored(clean_aws, "web2") is None


def test_only_members_get_a_connect_token(api, clean_aws, websocket_url):
    status, body, _ = api.request("GET", "/v1/live")

    assert status == 401
    assert set(body["error"]) == {"code", "message"}


def test_the_widget_is_told_where_to_connect(api, clean_aws, websocket_url):
    owner = api.sign_up()
    key = enable_chat(api, owner)["public_key"]

    status, config, _ = visitor(api, "GET", f"/v1/chat/{key}/config")

    assert status == 200
    assert config["live_url"] == WSS
