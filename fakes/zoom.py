"""A local stand-in for Zoom's Server-to-Server OAuth and meetings API, over HTTP (one
server plays zoom.us and api.zoom.us: the API is under `/v2`).

- `POST /oauth/token?grant_type=account_credentials&account_id=` with Basic
  `client_id:client_secret`: `{access_token, token_type: "bearer", expires_in: 3599}` (no
  refresh token); 400 `invalid_client` or `invalid_request` otherwise.
- API (Bearer; 401 code 124 for an unknown or expired token): `POST
  /v2/users/{me|email}/meetings` (201; 404 code 1001 for an e-mail that is no user of the
  account, when `users` is set), `GET|PATCH|DELETE /v2/meetings/{id}` (204 for PATCH and
  DELETE; 404 code 3001 for an unknown meeting).
- `GET /j/{id}`: the page a join link leads to (for trying the local stack).
- Controls: those of fakes/calendar_common.py, plus `GET /_fake/meetings` and
  `POST /_fake/expire_tokens`; `tokens_issued` counts the tokens given.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes.calendar_common import FakeServer, json_response

ACCOUNT_ID = "zoom-dev-account"
CLIENT_ID = "zoom-dev-client"
CLIENT_SECRET = "zoom-dev-secret"  # the stand-in's own
OWNER_EMAIL = "owner@zoom.test"
TOKEN_LIFETIME = 3599


class FakeZoom(FakeServer):
    label = "zoom"

    def __init__(
        self,
        account_id: str = ACCOUNT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
        users: set[str] | None = None,
    ) -> None:
        """`users`: the account's users' addresses (None: every address is one)."""
        super().__init__(host, port, echo)
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.users = users
        self.tokens: dict[str, float] = {}  # access token -> expiry
        self.tokens_issued = 0
        self.meetings: dict[str, dict[str, Any]] = {}

    # -- controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.tokens.clear()
            self.tokens_issued = 0
            self.meetings.clear()
            self.users = None

    def expire_tokens(self) -> None:
        """Every access token stops working (as when the app is deactivated and back)."""
        with self._lock:
            self.tokens.clear()

    def control(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_fake/meetings":
            with self._lock:
                return json_response(list(self.meetings.values()))
        if request.method == "POST" and request.path == "/_fake/expire_tokens":
            self.expire_tokens()
            return json_response({"ok": True})
        return json_response({"error": "no such control"}, 404)

    # -- join page --------------------------------------------------------------------------

    def is_page(self, request: Request) -> bool:
        return request.path.startswith("/j/")

    def page(self, request: Request) -> Response:
        return Response(
            "<!doctype html><title>Zoom meeting</title><h1>Zoom meeting (local stand-in)</h1>"
            "<p>In a real deployment this link opens the Zoom meeting.</p>",
            content_type="text/html; charset=utf-8",
        )

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return json_response({"code": status, "message": "Service unavailable"}, status)

    def api(self, request: Request, body: Any) -> Response:
        if request.path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if not request.path.startswith("/v2/"):
            return _error(404, 404, "Not found")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            expiry = self.tokens.get(token)
            if expiry is None or expiry <= self.clock():
                return _error(401, 124, "Invalid access token.")
            return self._meetings_api(request.method, request.path.removeprefix("/v2"), body)

    def _token(self, request: Request) -> Response:
        supplied = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if supplied != f"Basic {expected}":
            return json_response(
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, 400
            )
        if request.args.get("grant_type") != "account_credentials":
            return json_response(
                {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, 400
            )
        if request.args.get("account_id") != self.account_id:
            return json_response({"reason": "Invalid account_id", "error": "invalid_request"}, 400)
        token = "zat-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = self.clock() + TOKEN_LIFETIME
            self.tokens_issued += 1
        return json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "scope": "meeting:write:admin meeting:read:admin",
                "api_url": "https://api.zoom.us",
            }
        )

    def _meetings_api(self, method: str, route: str, body: Any) -> Response:
        match = re.fullmatch(r"/users/([^/]+)/meetings", route)
        if match and method == "POST":
            return self._create(match.group(1), body or {})
        match = re.fullmatch(r"/meetings/(\d+)", route)
        if match is None:
            return _error(404, 404, "Not found")
        meeting = self.meetings.get(match.group(1))
        if meeting is None:
            return _error(404, 3001, f"Meeting does not exist: {match.group(1)}.")
        if method == "GET":
            return json_response(meeting)
        if method == "DELETE":
            del self.meetings[match.group(1)]
            return Response(status=204)
        if method == "PATCH":
            for name in ("topic", "start_time", "duration", "timezone", "agenda"):
                if name in (body or {}):
                    meeting[name] = body[name]
            return Response(status=204)
        return _error(405, 405, "Method not allowed")

    def _create(self, user: str, body: dict[str, Any]) -> Response:
        if user != "me" and self.users is not None and user.lower() not in self.users:
            return _error(404, 1001, f"User does not exist: {user}.")
        if not body.get("topic") or body.get("type") not in (1, 2, 3, 8):
            return _error(400, 300, "Invalid meeting: topic and type are required.")
        password = str(body.get("password") or secrets.token_hex(4))
        if len(password) > 10 or not re.fullmatch(r"[a-zA-Z0-9@\-_*]+", password):
            return _error(400, 300, "Invalid password.")
        meeting_id = str(random.randint(10**10, 10**11 - 1))
        meeting = {
            "id": int(meeting_id),
            "uuid": secrets.token_urlsafe(16),
            "host_id": secrets.token_hex(8),
            "host_email": OWNER_EMAIL if user == "me" else user,
            "topic": body["topic"],
            "type": body["type"],
            "status": "waiting",
            "start_time": body.get("start_time"),
            "duration": body.get("duration"),
            "timezone": body.get("timezone", "UTC"),
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_url": f"{self.url}/s/{meeting_id}?zak={secrets.token_urlsafe(16)}",
            "join_url": f"{self.url}/j/{meeting_id}?pwd={secrets.token_urlsafe(12)}",
            "password": password,
            "settings": body.get("settings") or {},
        }
        self.meetings[meeting_id] = meeting
        return json_response(meeting, 201)


def _error(status: int, code: int, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)
