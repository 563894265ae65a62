"""What the calendar stand-ins (fakes/google.py, fakes/microsoft.py) and the Zoom stand-in
share: a werkzeug server with a call log, scripted failures and stalls and the common
`/_fake/...` controls; OAuth grants with PKCE (codes, access and refresh tokens, revocation);
the consent page a browser can use; accounts with calendars and events, and busy times
computed from those events.

Common controls (JSON in, JSON out):
- `GET  /_fake/calls[?path=<prefix>&method=]` -> `{count, calls: [{method, path, query}]}`
- `POST /_fake/fail {status?: 503, times?: 1}`: the next API calls answer `status`
- `POST /_fake/stall {seconds, times?: 1}`: the next API calls answer that much later
- `POST /_fake/reset`: forgets everything
And for the calendar stand-ins:
- `POST /_fake/busy {email, start, end, calendar_id?, summary?, status?}` -> the event
  (`status`: Google `opaque|transparent`, Graph `busy|tentative|oof|free|...`)
- `POST /_fake/calendars {email, id?, name, writable?}` -> the calendar
- `GET  /_fake/events?email=` -> the account's events
- `POST /_fake/revoke {email}`: the account withdraws its grants (refresh -> invalid_grant)
- `POST /_fake/expire_tokens`: every access token expires (API calls answer 401)
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class SeenCall:
    method: str
    path: str
    query: dict[str, str]
    body: Any


class FakeServer:
    """A threaded local HTTP server with a call log, scripted failures and controls."""

    label = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, echo: bool = False) -> None:
        self.echo = echo
        self.requests: list[SeenCall] = []
        self._failures: list[int] = []
        self._stalls: list[float] = []
        self._lock = threading.RLock()
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    # -- controls ---------------------------------------------------------------------------

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        """The next `times` API or token calls answer `status` and change nothing."""
        with self._lock:
            self._failures.extend([status] * times)

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` API or token calls answer `seconds` late (a timeout, for a
        client with a shorter read timeout)."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def calls(self, path: str = "", method: str | None = None) -> list[SeenCall]:
        """API and token calls received, oldest first, whose path starts with `path`."""
        with self._lock:
            return [
                call
                for call in self.requests
                if call.path.startswith(path) and method in (None, call.method)
            ]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self._stalls.clear()

    # -- HTTP -------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_fake/"):
            response = self._common_control(request) or self.control(request)
        elif self.is_page(request):
            response = self.page(request)
        else:
            response = self._api_call(request)
        return response(environ, start_response)

    def _api_call(self, request: Request) -> Response:
        body: Any = None
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
        elif request.form:
            body = request.form.to_dict()
        with self._lock:
            self.requests.append(SeenCall(request.method, request.path, dict(request.args), body))
            failure = self._failures.pop(0) if self._failures else None
            stall = self._stalls.pop(0) if self._stalls else 0.0
        if stall:
            time.sleep(stall)
        if failure is not None:
            return self.failure_response(failure)
        response = self.api(request, body)
        if self.echo and request.method != "GET":
            print(f"[{self.label}] {request.method} {request.path} -> {response.status_code}")
        return response

    def _common_control(self, request: Request) -> Response | None:
        path, method = request.path, request.method
        payload = request.get_json(silent=True) or {}
        if method == "GET" and path == "/_fake/calls":
            found = self.calls(request.args.get("path", ""), request.args.get("method"))
            listed = [{"method": c.method, "path": c.path, "query": c.query} for c in found]
            return json_response({"count": len(listed), "calls": listed})
        if method == "POST" and path == "/_fake/fail":
            self.fail_next(int(payload.get("status", 503)), int(payload.get("times", 1)))
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/stall":
            self.stall_next(float(payload.get("seconds", 1)), int(payload.get("times", 1)))
            return json_response({"ok": True})
        if method == "POST" and path == "/_fake/reset":
            self.reset()
            return json_response({"ok": True})
        return None

    # Hooks for each stand-in.

    def is_page(self, request: Request) -> bool:
        """A page for a browser (the consent page): no failures scripted, not logged."""
        return False

    def page(self, request: Request) -> Response:
        return Response("not found", status=404)

    def api(self, request: Request, body: Any) -> Response:
        return Response("not found", status=404)

    def control(self, request: Request) -> Response:
        return json_response({"error": "no such control"}, 404)

    def failure_response(self, status: int) -> Response:
        return json_response({"error": {"code": status, "message": "Service unavailable"}}, status)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers
    )


# -- OAuth grants --------------------------------------------------------------------------


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthorizationCode:
    email: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    used: bool = False


@dataclass
class Grant:
    email: str
    client_id: str
    scope: str
    revoked: bool = False


class OAuthGrants:
    """Codes, access tokens and refresh tokens of one authorization server (not
    thread-safe by itself: the server's lock guards it)."""

    def __init__(self, clock: Callable[[], float], access_lifetime: int = 3599) -> None:
        self.clock = clock
        self.access_lifetime = access_lifetime
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, tuple[Grant, float]] = {}
        self.refresh: dict[str, Grant] = {}
        self.refreshes = 0  # refresh_token grants answered with a token

    def issue_code(self, code: AuthorizationCode) -> str:
        value = "code-" + secrets.token_urlsafe(24)
        self.codes[value] = code
        return value

    def redeem_code(
        self, value: str, client_id: str, redirect_uri: str, verifier: str
    ) -> tuple[Grant | None, str]:
        """The grant for a code, or None and why (the code is spent either way)."""
        code = self.codes.get(value)
        if code is None or code.used:
            return None, "the code is unknown or was used already"
        code.used = True
        if code.client_id != client_id:
            return None, "the code was issued to another client"
        if code.redirect_uri != redirect_uri:
            return None, "redirect_uri differs from the authorization request's"
        if not verifier:
            return None, "missing code verifier"
        if pkce_challenge(verifier) != code.challenge:
            return None, "the code verifier does not match the code challenge"
        return Grant(code.email, client_id, code.scope), ""

    def tokens_for(self, grant: Grant, with_refresh: bool) -> dict[str, Any]:
        access_token = "at-" + secrets.token_urlsafe(24)
        self.access[access_token] = (grant, self.clock() + self.access_lifetime)
        answer: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": self.access_lifetime,
            "scope": grant.scope,
            "token_type": "Bearer",
        }
        if with_refresh:
            refresh_token = "rt-" + secrets.token_urlsafe(32)
            self.refresh[refresh_token] = grant
            answer["refresh_token"] = refresh_token
        return answer

    def grant_of_access(self, authorization: str) -> Grant | None:
        """The live grant behind an `Authorization: Bearer` header."""
        if not authorization.startswith("Bearer "):
            return None
        found = self.access.get(authorization.removeprefix("Bearer "))
        if found is None or found[0].revoked or found[1] <= self.clock():
            return None
        return found[0]

    def revoke_email(self, email: str) -> int:
        """The account withdraws every grant it gave; how many there were."""
        count = 0
        for grant in {id(g): g for g in self.refresh.values()}.values():
            if grant.email.lower() == email.lower() and not grant.revoked:
                grant.revoked = True
                count += 1
        for grant, _ in self.access.values():
            if grant.email.lower() == email.lower():
                grant.revoked = True
        return count

    def revoke_token(self, token: str) -> bool:
        grant = self.refresh.get(token) or (self.access.get(token) or (None, 0.0))[0]
        if grant is None or grant.revoked:
            return False
        grant.revoked = True
        return True

    def expire_access(self) -> None:
        self.access = {token: (grant, 0.0) for token, (grant, _) in self.access.items()}


def consent_page(
    provider: str,
    client_id: str,
    scope: str,
    email: str,
    action: str,
    hidden: dict[str, str],
) -> Response:
    """The stand-in's consent page: the account's address (editable) and Allow / Deny."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in hidden.items()
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(provider)} (local stand-in)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}
input[type=email]{{font-size:1rem;width:100%;padding:.4rem;margin:.3rem 0 1rem}}</style>
</head><body>
<h1>{html.escape(provider)}</h1>
<p>Local stand-in: nothing leaves this machine.</p>
<p>The app <code>{html.escape(client_id)}</code> asks to:</p>
<ul>{"".join(f"<li>{html.escape(s)}</li>" for s in scope.split())}</ul>
<form method="post" action="{html.escape(action)}">{fields}
<label for="email">Account</label>
<input type="email" id="email" name="email" value="{html.escape(email)}" required>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>"""
    return Response(body, content_type="text/html; charset=utf-8")


def redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return Response(
        status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"}
    )


# -- accounts, calendars, events -----------------------------------------------------------


@dataclass
class FakeCalendar:
    id: str
    name: str
    owner: str  # the account's address
    primary: bool = False
    writable: bool = True


@dataclass
class FakeEvent:
    id: str
    calendar_id: str
    start: datetime  # UTC
    end: datetime
    summary: str = ""
    status: str = "busy"  # Google: opaque|transparent; Graph: showAs
    cancelled: bool = False
    body: dict[str, Any] = field(default_factory=dict)  # as last written by the client
    transaction_id: str = ""
    join_url: str = ""


@dataclass
class CalendarBook:
    """Every account's calendars and events (not thread-safe by itself)."""

    calendars: dict[str, FakeCalendar] = field(default_factory=dict)
    events: dict[str, FakeEvent] = field(default_factory=dict)

    def of(self, email: str) -> list[FakeCalendar]:
        return [c for c in self.calendars.values() if c.owner.lower() == email.lower()]

    def primary(self, email: str) -> FakeCalendar | None:
        return next((c for c in self.of(email) if c.primary), None)

    def owned(self, email: str, calendar_id: str) -> FakeCalendar | None:
        calendar = self.calendars.get(calendar_id)
        return calendar if calendar and calendar.owner.lower() == email.lower() else None

    def in_window(self, calendar_id: str, start: datetime, end: datetime) -> list[FakeEvent]:
        return sorted(
            (
                e
                for e in self.events.values()
                if e.calendar_id == calendar_id
                and not e.cancelled
                and e.start < end
                and e.end > start
            ),
            key=lambda e: e.start,
        )


def parse_time(text: Any, zone: str = "UTC") -> datetime:
    """An ISO 8601 time with `Z` or an offset, or a wall-clock time in `zone`, in UTC."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        if zone.upper() in ("UTC", "ETC/UTC", "GMT"):
            moment = moment.replace(tzinfo=UTC)
        else:
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def in_zone(moment: datetime, zone: str | None) -> datetime:
    if not zone or zone.upper() in ("UTC", "ETC/UTC", "GMT"):
        return moment.astimezone(UTC)
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone))


def post_quietly(
    url: str, *, headers: dict[str, str], body: bytes = b"", timeout: float = 10.0
) -> tuple[int, str, str]:
    """POSTs and returns (status, content type, text); status 0 when nothing answered."""
    import requests

    try:
        response = requests.post(url, headers=headers, data=body, timeout=timeout)
    except requests.RequestException as e:
        return 0, "", type(e).__name__
    return response.status_code, response.headers.get("Content-Type", ""), response.text
