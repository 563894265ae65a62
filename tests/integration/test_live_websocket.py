"""The live WebSocket API's handlers against the emulator, and pushes through the real boto3
management client to a local management API: API Gateway's event shapes in, posts out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.live.model import conversation_moved, ticket_topic
from chalicelib.settings import reload_settings
from chalicelib.store import keys
from tests.fixtures.fake_apigw_management import FakeApiGatewayManagement

APP_ORIGIN = "https://app.helptal.test"
API_ID = "abc123ws"
_LIVE_FACTORIES = ("live_connections", "live_push", "live_channel", "live_deps")


@pytest.fixture(scope="module")
def management_server() -> Iterator[FakeApiGatewayManagement]:
    server = FakeApiGatewayManagement().start()
    yield server
    server.stop()


@pytest.fixture()
def management(
    management_server: FakeApiGatewayManagement, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeApiGatewayManagement]:
    """The real adapter pointed at the local management API (`LIVE_CALLBACK_URL`)."""
    management_server.reset()
    monkeypatch.setenv("LIVE_CALLBACK_URL", management_server.callback_url)
    reload_settings()
    _forget_live_services()
    yield management_server
    monkeypatch.undo()
    reload_settings()
    _forget_live_services()


def _forget_live_services() -> None:
    for name in _LIVE_FACTORIES:
        getattr(bootstrap, name).cache_clear()


def _event(route_key: str, connection_id: str, **extra: Any) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event, as the Lambda integration receives it."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    return {
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": "api",
            "connectedAt": 1764504000000,
            "requestTimeEpoch": 1764504000123,
            "requestId": "req-1",
            "identity": {"sourceIp": "203.0.113.9"},
            "domainName": f"{API_ID}.execute-api.ap-southeast-1.amazonaws.com",
            "connectionId": connection_id,
            "apiId": API_ID,
        },
        "isBase64Encoded": False,
        **extra,
    }


def _connect(api, connection_id: str, *, headers=None, query=None) -> dict[str, Any]:
    event = _event(
        "$connect",
        connection_id,
        headers={"Host": f"{API_ID}.execute-api.ap-southeast-1.amazonaws.com", **(headers or {})},
        queryStringParameters=query,
    )
    return api.client.lambda_.invoke("websocket_connect", event).payload


def _say(api, management, connection_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Sends a message on the connection; returns the reply the handler posted back."""
    before = len(management.received(connection_id))
    event = _event("$default", connection_id, body=json.dumps(message))
    assert api.client.lambda_.invoke("websocket_message", event).payload["statusCode"] == 200
    replies = management.received(connection_id)
    assert len(replies) == before + 1
    return replies[-1]


def _open_ticket(api, token: str) -> str:
    status, body, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "carla@customer.test"}, "subject": "Hi", "body": "Help."},
        token=token,
    )
    assert status == 201, body
    return body["id"]


def _stored(aws, connection_id: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(
        TableName=aws.table_name,
        Key={"PK": {"S": keys.live_connection_pk(connection_id)}, "SK": {"S": "CONNECTION"}},
    )
    return item.get("Item")


def _listening(aws, workspace_id: str, topic: str) -> list[str]:
    found = aws.client("dynamodb").query(
        TableName=aws.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.live_topic_pk(workspace_id, topic)}},
    )["Items"]
    return [item["connection_id"]["S"] for item in found]


@pytest.fixture()
def acme(api, management) -> dict[str, Any]:
    owner = api.sign_up()
    return {
        "token": owner["token"],
        "workspace_id": owner["workspace"]["id"],
        "ticket_id": _open_ticket(api, owner["token"]),
    }


def test_an_agent_connects_with_the_session_cookie_subscribes_and_is_pushed_the_event(
    api, management, acme, clean_aws, aws_calls
):
    connection_id = "L0SM9cOFvHcCIhw="
    management.open(connection_id)
    cookie = f"theme=dark; __Host-helptal_session={acme['token']}"

    answer = _connect(api, connection_id, headers={"Origin": APP_ORIGIN, "Cookie": cookie})
    assert answer["statusCode"] == 200, answer
    topic = ticket_topic(acme["ticket_id"])
    reply = _say(api, management, connection_id, {"action": "subscribe", "topic": topic})
    assert reply == {"type": "subscribed", "topic": topic}
    assert _listening(clean_aws, acme["workspace_id"], topic) == [connection_id]

    aws_calls.clear()
    bootstrap.live_push().push(
        acme["workspace_id"], topic, conversation_moved(acme["ticket_id"], 4)
    )

    assert management.received(connection_id)[-1] == {
        "type": "conversation.moved",
        "ticket_id": acme["ticket_id"],
        "version": 4,
    }
    assert aws_calls == ["Query", "PostToConnection"]


def test_the_session_cookie_from_another_sites_page_is_refused_and_nothing_is_kept(
    api, management, acme, clean_aws
):
    cookie = f"__Host-helptal_session={acme['token']}"

    answer = _connect(api, "evil1", headers={"Origin": "https://evil.example", "Cookie": cookie})

    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["error"]["code"] == "csrf_failed"
    assert _stored(clean_aws, "evil1") is None


def test_a_connection_without_a_valid_session_or_token_is_refused(api, management, clean_aws):
    for query in (None, {"token": "hts_not-a-session"}, {"token": "htk_forged"}):
        answer = _connect(api, "anon1", query=query)
        assert answer["statusCode"] == 401, query
        assert set(json.loads(answer["body"])["error"]) == {"code", "message"}
    assert _stored(clean_aws, "anon1") is None


def test_an_agent_of_another_workspace_can_neither_subscribe_to_nor_hear_a_ticket(
    api, management, acme, clean_aws
):
    other = api.sign_up(workspace="Globex", email="gus@globex.test", name="Gus")
    management.open("globex1")
    assert _connect(api, "globex1", query={"token": other["token"]})["statusCode"] == 200
    topic = ticket_topic(acme["ticket_id"])

    reply = _say(api, management, "globex1", {"action": "subscribe", "topic": topic})

    assert reply["type"] == "error" and reply["error"]["code"] == "ticket_not_found"
    assert _listening(clean_aws, other["workspace"]["id"], topic) == []
    bootstrap.live_push().push(
        acme["workspace_id"], topic, conversation_moved(acme["ticket_id"], 1)
    )
    assert management.received("globex1") == [reply]


def test_a_visitor_hears_their_own_conversation_and_may_not_subscribe_to_another(
    api, management, acme, clean_aws, monkeypatch
):
    other_ticket = _open_ticket(api, acme["token"])

    class Tokens:
        def verify(self, public_key: str, token: str) -> tuple[str, str] | None:
            valid = (public_key, token) == ("pk_acme", "vt_carla")
            return (acme["workspace_id"], acme["ticket_id"]) if valid else None

    monkeypatch.setattr(bootstrap, "live_visitor_tokens", lambda: Tokens())
    bootstrap.live_deps.cache_clear()
    management.open("visitor1")
    forged = _connect(api, "visitor2", query={"public_key": "pk_acme", "visitor_token": "vt_x"})
    assert forged["statusCode"] == 401

    query = {"public_key": "pk_acme", "visitor_token": "vt_carla"}
    assert (
        _connect(api, "visitor1", query=query, headers={"Origin": "https://shop.example"})[
            "statusCode"
        ]
        == 200
    )
    reply = _say(
        api, management, "visitor1", {"action": "subscribe", "topic": ticket_topic(other_ticket)}
    )
    bootstrap.live_push().push(
        acme["workspace_id"],
        ticket_topic(acme["ticket_id"]),
        conversation_moved(acme["ticket_id"], 2),
    )

    assert reply["error"]["code"] == "topic_not_allowed"
    assert management.received("visitor1")[-1]["version"] == 2
    assert _listening(clean_aws, acme["workspace_id"], ticket_topic(other_ticket)) == []
    assert _stored(clean_aws, "visitor2") is None


def test_a_gone_connection_is_deleted_when_a_push_finds_it_gone(api, management, acme, clean_aws):
    for connection_id in ("stay1", "left1"):
        management.open(connection_id)
        assert _connect(api, connection_id, query={"token": acme["token"]})["statusCode"] == 200
        _say(api, management, connection_id, {"action": "subscribe", "topic": "inbox"})
    management.close("left1")

    bootstrap.live_push().push(acme["workspace_id"], "inbox", {"type": "ticket.changed"})

    assert _stored(clean_aws, "left1") is None
    assert _listening(clean_aws, acme["workspace_id"], "inbox") == ["stay1"]
    assert management.received("stay1")[-1] == {"type": "ticket.changed"}


def test_a_ping_is_answered_and_disconnect_forgets_the_connection(api, management, acme, clean_aws):
    management.open("c1")
    assert _connect(api, "c1", query={"token": acme["token"]})["statusCode"] == 200
    _say(api, management, "c1", {"action": "subscribe", "topic": "inbox"})
    expires_before = int(_stored(clean_aws, "c1")["expires_at"]["N"])

    assert _say(api, management, "c1", {"action": "ping"}) == {"type": "pong"}
    assert int(_stored(clean_aws, "c1")["expires_at"]["N"]) >= expires_before
    assert (
        api.client.lambda_.invoke("websocket_disconnect", _event("$disconnect", "c1")).payload[
            "statusCode"
        ]
        == 200
    )

    assert _stored(clean_aws, "c1") is None
    assert _listening(clean_aws, acme["workspace_id"], "inbox") == []


def test_without_a_websocket_api_pushes_are_skipped(api, clean_aws, monkeypatch, aws_calls):
    monkeypatch.delenv("LIVE_CALLBACK_URL", raising=False)
    reload_settings()
    _forget_live_services()

    bootstrap.live_push().push("ws-1", "inbox", {"type": "ticket.changed"})

    assert aws_calls == []
    _forget_live_services()
