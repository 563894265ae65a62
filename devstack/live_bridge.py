"""`python -m devstack.live_bridge`: the live WebSocket API on the local stack.

API Gateway is not there locally, so this bridge plays its two parts around the very
handlers it would call (docs/decisions/0028-websocket-pushes.md):

- **The WebSocket API** (`ws://127.0.0.1:8001`, `LIVE_WEBSOCKET_URL`): each upgrade becomes
  a `$connect` event (headers and query as API Gateway passes them) for
  `app.websocket_connect`, refused with the handler's status and JSON error when it refuses;
  each message a `$default` event for `app.websocket_message`; each close a `$disconnect`
  event for `app.websocket_disconnect`.  The handlers run in-process, in worker threads.
- **The management API** (`LIVE_CALLBACK_URL`, on its own port): `POST
  /<stage>/@connections/{id}` sends the body down that socket (410 `GoneException` when it is
  gone, as API Gateway answers), `DELETE` closes it, `GET` describes it.  The API, the event
  pump and the message handler push through the real boto3 client pointed here, so the
  production code path runs locally.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

log = logging.getLogger("devstack.live_bridge")

DEFAULT_PORT = 8001
STAGE = "local"
API_ID = "local"
# A push waits this long for its socket before the management API answers it failed.
SEND_TIMEOUT_SECONDS = 2.0
_CONNECTION_PATH = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<connection>[^/]+)$")

# (event, context) -> the handler's answer, as Lambda calls a function.
Handler = Callable[[dict[str, Any], Any], Any]


class LiveBridge:
    """A WebSocket server and its management API around the three live handlers."""

    def __init__(
        self,
        connect: Handler,
        message: Handler,
        disconnect: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        callback_port: int = 0,
        context: Callable[[str], Any] = lambda name: None,
    ) -> None:
        self._handlers = {"$connect": connect, "$default": message, "$disconnect": disconnect}
        self._host = host
        self._port = port
        self._callback_port = callback_port
        self._context = context
        self._sockets: dict[str, ServerConnection] = {}
        self._connected_at: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self._stopped = asyncio.Event()

    # -- the two addresses ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What clients connect to (`LIVE_WEBSOCKET_URL`)."""
        return f"ws://{self._host}:{self._port}"

    @property
    def callback_url(self) -> str:
        """What pushers post to (`LIVE_CALLBACK_URL`)."""
        return f"http://{self._host}:{self._callback_port}/{STAGE}"

    # -- running ----------------------------------------------------------------------------

    async def serve_forever(self, ready: Callable[[], None] = lambda: None) -> None:
        self._loop = asyncio.get_running_loop()
        self._start_management()
        async with serve(
            self._serve,
            self._host,
            self._port,
            process_request=self._on_upgrade,
            ping_interval=None,  # API Gateway pings nobody: clients ping
            max_size=32 * 1024,  # API Gateway's frame limit is 32 KB
        ) as server:
            self._server = server
            self._port = server.sockets[0].getsockname()[1]
            ready()
            await self._stopped.wait()
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)

    # -- the WebSocket side -----------------------------------------------------------------

    async def _on_upgrade(self, connection: ServerConnection, request: Request) -> Response | None:
        connection_id = secrets.token_urlsafe(12)
        with self._lock:
            self._sockets[connection_id] = connection
            self._connected_at[connection_id] = int(time.time() * 1000)
        connection.live_connection_id = connection_id  # type: ignore[attr-defined]
        split = urlsplit(request.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {name: value for name, value in request.headers.raw_items()}
        event = self._event(
            "$connect", connection_id, headers=headers, queryStringParameters=query or None
        )
        answer = await asyncio.to_thread(self._invoke, "$connect", event)
        status = int((answer or {}).get("statusCode", 500))
        if status == 200:
            return None
        with self._lock:
            self._sockets.pop(connection_id, None)
            self._connected_at.pop(connection_id, None)
        response = connection.respond(status, (answer or {}).get("body") or "")
        response.headers["Content-Type"] = "application/json"
        return response

    async def _serve(self, connection: ServerConnection) -> None:
        connection_id: str = connection.live_connection_id  # type: ignore[attr-defined]
        try:
            async for message in connection:
                body = message if isinstance(message, str) else message.decode("utf-8", "replace")
                event = self._event("$default", connection_id, body=body)
                await asyncio.to_thread(self._invoke, "$default", event)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._sockets.pop(connection_id, None)
                self._connected_at.pop(connection_id, None)
            event = self._event("$disconnect", connection_id)
            await asyncio.to_thread(self._invoke, "$disconnect", event)

    def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        name = {"$connect": "websocket_connect", "$default": "websocket_message"}.get(
            route_key, "websocket_disconnect"
        )
        try:
            return self._handlers[route_key](event, self._context(name))
        except Exception:  # a handler's crash is a 500, as Lambda's would be
            log.exception("live handler failed", extra={"route": route_key})
            return {"statusCode": 500, "body": json.dumps({"message": "Internal server error"})}

    def _event(self, route_key: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        """An API Gateway WebSocket proxy event, as the Lambda integration receives it."""
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
        now = int(time.time() * 1000)
        return {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "messageDirection": "IN",
                "stage": STAGE,
                "connectedAt": self._connected_at.get(connection_id, now),
                "requestTimeEpoch": now,
                "requestId": secrets.token_hex(8),
                "identity": {"sourceIp": self._host},
                "domainName": f"{self._host}:{self._port}",
                "connectionId": connection_id,
                "apiId": API_ID,
            },
            "isBase64Encoded": False,
            **extra,
        }

    # -- the management side ----------------------------------------------------------------

    def _start_management(self) -> None:
        bridge = self

        class ManagementApi(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                connection_id = self._connection_id()
                if connection_id is None:
                    return
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                if bridge.send(connection_id, data):
                    self._answer(200, b"")
                else:
                    self._gone()

            def do_DELETE(self) -> None:
                connection_id = self._connection_id()
                if connection_id is None:
                    return
                if bridge.close(connection_id):
                    self._answer(204, b"")
                else:
                    self._gone()

            def do_GET(self) -> None:
                connection_id = self._connection_id()
                if connection_id is None:
                    return
                connected_at = bridge.connected_at(connection_id)
                if connected_at is None:
                    self._gone()
                    return
                since = datetime.fromtimestamp(connected_at / 1000, UTC).isoformat()
                body = {
                    "ConnectedAt": since,
                    "LastActiveAt": since,
                    "Identity": {"SourceIp": bridge._host},
                }
                self._answer(200, json.dumps(body).encode(), "application/json")

            def _connection_id(self) -> str | None:
                match = _CONNECTION_PATH.match(unquote(urlsplit(self.path).path))
                if match is None or match["stage"] != STAGE:
                    self._answer(
                        404,
                        json.dumps({"message": "No such route."}).encode(),
                        "application/json",
                        "NotFoundException",
                    )
                    return None
                return match["connection"]

            def _gone(self) -> None:
                body = json.dumps({"message": "The connection is gone."}).encode()
                self._answer(410, body, "application/json", "GoneException")

            def _answer(
                self,
                status: int,
                body: bytes,
                content_type: str = "text/plain",
                error_type: str | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("management %s", format % args)

        self._management = ThreadingHTTPServer((self._host, self._callback_port), ManagementApi)
        self._management.daemon_threads = True
        self._callback_port = self._management.server_address[1]
        threading.Thread(
            target=self._management.serve_forever, name="live-management", daemon=True
        ).start()

    def _socket(self, connection_id: str) -> ServerConnection | None:
        with self._lock:
            return self._sockets.get(connection_id)

    def connected_at(self, connection_id: str) -> int | None:
        with self._lock:
            return self._connected_at.get(connection_id)

    def send(self, connection_id: str, data: bytes) -> bool:
        """Sends `data` down the connection as a text frame; False when it is gone."""
        socket = self._socket(connection_id)
        if socket is None or self._loop is None:
            return False
        text = data.decode("utf-8", "replace")
        future = asyncio.run_coroutine_threadsafe(socket.send(text), self._loop)
        try:
            future.result(SEND_TIMEOUT_SECONDS)
        except (ConnectionClosed, TimeoutError):
            return False
        return True

    def close(self, connection_id: str) -> bool:
        socket = self._socket(connection_id)
        if socket is None or self._loop is None:
            return False
        asyncio.run_coroutine_threadsafe(socket.close(), self._loop)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--callback-port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    import importlib

    from devstack.pump import lambda_context
    from infra.describe import load_app

    load_app()
    app_module = importlib.import_module("app")
    # What the first connection would otherwise wait for (a Lambda's cold start).
    from chalicelib import bootstrap

    bootstrap.live_deps()
    bridge = LiveBridge(
        app_module.websocket_connect,
        app_module.websocket_message,
        app_module.websocket_disconnect,
        host=args.host,
        port=args.port,
        callback_port=args.callback_port,
        context=lambda name: lambda_context(name),
    )

    def _stop(signum: int, frame: Any) -> None:
        bridge.stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    def ready() -> None:
        print(f"live bridge on {bridge.url} (management API {bridge.callback_url})", flush=True)

    asyncio.run(bridge.serve_forever(ready))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
