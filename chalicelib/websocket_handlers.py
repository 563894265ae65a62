"""The live WebSocket API's handlers (API Gateway `$connect`, `$default`, `$disconnect`).

Thin: each reads the event and calls one function of `chalicelib.live.connections`. Chalice
deploys each as its own function (`websocket_connect`, `websocket_message`,
`websocket_disconnect`); their handler strings name `app.<handler>`, so `app.py` keeps the
three wrapped handlers under these names (`register_websocket_handlers` returns them).
Nothing heavy is imported until an event arrives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import WebsocketEvent

Handler = Callable[..., Any]


def register_websocket_handlers(app: Chalice) -> tuple[Handler, Handler, Handler]:
    """Registers the three handlers on `app`; returns them wrapped, for `app.py` to keep
    as `websocket_connect, websocket_message, websocket_disconnect`."""
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    return (
        app.on_ws_connect()(websocket_connect),
        app.on_ws_message()(websocket_message),
        app.on_ws_disconnect()(websocket_disconnect),
    )


def websocket_connect(event: WebsocketEvent) -> Response:
    """Accepts the upgrade of an agent (session or token) or a visitor (visitor token);
    401/403 with a JSON error otherwise (nothing recorded)."""
    from chalicelib import bootstrap
    from chalicelib.api.browser_session import SESSION_COOKIE, origin_of
    from chalicelib.errors import HelptalError
    from chalicelib.live.connections import Handshake, connect

    raw = event.to_dict()
    headers = {name.lower(): value for name, value in (raw.get("headers") or {}).items()}
    handshake = Handshake(
        connection_id=event.connection_id,
        query=dict(raw.get("queryStringParameters") or {}),
        session_cookie=_cookie(headers.get("cookie", ""), SESSION_COOKIE),
        origin=origin_of(headers.get("origin", "")),
    )
    try:
        connect(bootstrap.live_deps(), handshake)
    except HelptalError as e:
        return _error(e.status, e.code, e.message)
    return Response(body="", status_code=200)


def websocket_message(event: WebsocketEvent) -> Response:
    """Handles `subscribe`, `unsubscribe` and `ping`; the reply (or the error) is posted
    back on the connection."""
    from chalicelib import bootstrap
    from chalicelib.errors import HelptalError
    from chalicelib.live.connections import error_reply, receive

    try:
        reply = receive(bootstrap.live_deps(), event.connection_id, event.body)
    except HelptalError as e:
        reply = error_reply(e)
    channel = bootstrap.live_channel(event.domain_name, event.stage)
    channel.post(event.connection_id, json.dumps(reply, separators=(",", ":")).encode())
    return Response(body="", status_code=200)


def websocket_disconnect(event: WebsocketEvent) -> Response:
    """Forgets the connection and its subscriptions."""
    from chalicelib import bootstrap
    from chalicelib.live.connections import disconnect

    disconnect(bootstrap.live_deps(), event.connection_id)
    return Response(body="", status_code=200)


def _cookie(header: str, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel and morsel.value else None


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        body=json.dumps({"error": {"code": code, "message": message}}),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )
