"""A local stand-in for Google's OAuth 2.0 and Calendar API v3, over HTTP (one server plays
the accounts, oauth2 and www.googleapis.com bases).

- Consent page `GET /o/oauth2/v2/auth` (client id, `response_type=code`, redirect URI,
  scope, state, `code_challenge` + `code_challenge_method=S256` required): an Allow button
  (the account's address prefilled from `login_hint`) that redirects to
  `redirect_uri?code=&state=`; with `auto=1` it redirects at once (API-level tests).
- `POST /token`: `authorization_code` (redirect URI and PKCE verifier checked, a code works
  once) and `refresh_token` (no new refresh token, as Google); `invalid_grant` for a bad
  code or verifier, or a revoked grant; `invalid_client` for a wrong client secret.
- `POST /revoke?token=`: revokes the grant of an access or refresh token (400 for unknown).
- Calendar API (Bearer access token): `GET users/me/calendarList`, `POST freeBusy`
  (computed from the stored events), events insert (client ids, 409 `duplicate` for a
  known id, deleted ones included) / get / patch / delete (410 once deleted), `events/watch`
  (pushes `sync`, then `exists` on each change, to the channel's address) and
  `channels/stop`.
- Controls: those of fakes/calendar_common.py, plus `GET /_fake/channels`.

Every account that consents gets a primary calendar (its address) and a writable "Team"
calendar.  `answer_time_zone` (IANA) makes freeBusy answer with that zone's offsets.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from werkzeug.wrappers import Request, Response

from fakes.calendar_common import (
    AuthorizationCode,
    CalendarBook,
    FakeCalendar,
    FakeEvent,
    FakeServer,
    Grant,
    OAuthGrants,
    consent_page,
    in_zone,
    json_response,
    parse_time,
    post_quietly,
    redirect,
)

CLIENT_ID = "helptal-dev.apps.googleusercontent.com"
CLIENT_SECRET = "google-dev-secret"  # the stand-in's own
DEFAULT_EMAIL = "host@gmail.test"
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
CHANNEL_LIFETIME = timedelta(days=7)
API = "/calendar/v3"


@dataclass
class FakeChannel:
    id: str
    resource_id: str
    calendar_id: str
    address: str
    token: str
    expiration_ms: int
    stopped: bool = False
    messages: int = 0


@dataclass
class Delivered:
    channel_id: str
    state: str
    status: int  # what the address answered (0: nothing)


class FakeGoogle(FakeServer):
    label = "google"

    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
        default_email: str = DEFAULT_EMAIL,
    ) -> None:
        super().__init__(host, port, echo)
        self.client_id = client_id
        self.client_secret = client_secret
        self.default_email = default_email
        self.clock = clock
        self.grants = OAuthGrants(clock)
        self.book = CalendarBook()
        self.channels: dict[str, FakeChannel] = {}
        self.notifications: list[Delivered] = []
        self.answer_time_zone: str | None = None
        self.deliver_notifications = True

    # -- controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.grants = OAuthGrants(self.clock)
            self.book = CalendarBook()
            self.channels.clear()
            self.notifications.clear()
            self.answer_time_zone = None

    def ensure_account(self, email: str) -> FakeCalendar:
        """The account's primary calendar (made with a "Team" calendar the first time)."""
        with self._lock:
            primary = self.book.primary(email)
            if primary is None:
                primary = FakeCalendar(email, email, email, primary=True)
                self.book.calendars[email] = primary
                team = f"team.{secrets.token_hex(6)}@group.calendar.google.test"
                self.book.calendars[team] = FakeCalendar(team, "Team", email)
            return primary

    def add_calendar(
        self, email: str, name: str, calendar_id: str = "", writable: bool = True
    ) -> FakeCalendar:
        self.ensure_account(email)
        calendar_id = calendar_id or f"{secrets.token_hex(8)}@group.calendar.google.test"
        with self._lock:
            calendar = FakeCalendar(calendar_id, name, email, writable=writable)
            self.book.calendars[calendar_id] = calendar
            return calendar

    def add_busy(
        self,
        email: str,
        start: datetime | str,
        end: datetime | str,
        calendar_id: str = "",
        summary: str = "Busy",
        transparency: str = "opaque",
    ) -> FakeEvent:
        """An event the account has on a calendar (its primary one by default)."""
        primary = self.ensure_account(email)
        with self._lock:
            event = FakeEvent(
                id=secrets.token_hex(10),
                calendar_id=calendar_id or primary.id,
                start=_moment(start),
                end=_moment(end),
                summary=summary,
                status=transparency,
            )
            self.book.events[event.id] = event
        self._changed(event.calendar_id)
        return event

    def revoke_account(self, email: str) -> int:
        """The account removes the app's access (its refresh tokens answer invalid_grant)."""
        with self._lock:
            return self.grants.revoke_email(email)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.grants.expire_access()

    def events_of(self, email: str) -> list[FakeEvent]:
        with self._lock:
            calendars = {c.id for c in self.book.of(email)}
            return [e for e in self.book.events.values() if e.calendar_id in calendars]

    def consent(self, authorization_url: str, email: str = "") -> tuple[str, str]:
        """Approves an authorization URL as a browser would: (code, state)."""
        response = requests.get(
            authorization_url,
            params={"auto": "1", **({"login_hint": email} if email else {})},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            raise AssertionError(f"consent refused: {response.status_code} {response.text}")
        query = parse_qs(urlparse(response.headers["Location"]).query)
        return query["code"][0], query.get("state", [""])[0]

    def control(self, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        path, method = request.path, request.method
        if method == "POST" and path == "/_fake/busy":
            event = self.add_busy(
                payload["email"],
                payload["start"],
                payload["end"],
                payload.get("calendar_id", ""),
                payload.get("summary", "Busy"),
                payload.get("status", "opaque"),
            )
            return json_response(_describe(event), 201)
        if method == "POST" and path == "/_fake/calendars":
            calendar = self.add_calendar(
                payload["email"],
                payload["name"],
                payload.get("id", ""),
                payload.get("writable", True),
            )
            return json_response(calendar.__dict__, 201)
        if method == "GET" and path == "/_fake/events":
            return json_response([_describe(e) for e in self.events_of(request.args["email"])])
        if method == "POST" and path == "/_fake/revoke":
            return json_response({"revoked": self.revoke_account(payload["email"])})
        if method == "POST" and path == "/_fake/expire_tokens":
            self.expire_access_tokens()
            return json_response({"ok": True})
        if method == "GET" and path == "/_fake/channels":
            with self._lock:
                return json_response([c.__dict__ for c in self.channels.values()])
        return json_response({"error": "no such control"}, 404)

    # -- consent page -----------------------------------------------------------------------

    def is_page(self, request: Request) -> bool:
        return request.path == "/o/oauth2/v2/auth"

    def page(self, request: Request) -> Response:
        params = request.args.to_dict() if request.method == "GET" else request.form.to_dict()
        problem = self._authorization_problem(params)
        if problem:
            return Response(f"Error 400: invalid_request\n{problem}", status=400)
        email = params.get("email") or params.get("login_hint") or self.default_email
        decision = params.pop("decision", "")
        params.pop("email", None)
        if request.method == "GET" and params.get("auto") != "1":
            return consent_page(
                "Google (sign in)",
                params["client_id"],
                params["scope"],
                email,
                request.path,
                params,
            )
        if decision == "deny":
            return redirect(
                params["redirect_uri"], {"error": "access_denied", "state": params.get("state", "")}
            )
        self.ensure_account(email)
        with self._lock:
            code = self.grants.issue_code(
                AuthorizationCode(
                    email,
                    params["client_id"],
                    params["redirect_uri"],
                    params["code_challenge"],
                    params["code_challenge_method"],
                    params["scope"],
                )
            )
        answer = {"code": code, "scope": params["scope"]}
        if "state" in params:
            answer["state"] = params["state"]
        return redirect(params["redirect_uri"], answer)

    def _authorization_problem(self, params: dict[str, str]) -> str:
        if params.get("client_id") != self.client_id:
            return "The OAuth client was not found."
        if params.get("response_type") != "code":
            return "response_type must be code"
        if not params.get("redirect_uri", "").startswith(("http://", "https://")):
            return "Missing or invalid redirect_uri"
        if not params.get("scope"):
            return "Missing required parameter: scope"
        if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            return "code_challenge with code_challenge_method=S256 is required here"
        return ""

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return _error(status, "backendError", "Backend Error")

    def api(self, request: Request, body: Any) -> Response:
        path, method = request.path, request.method
        if path == "/token" and method == "POST":
            return self._token(request.form.to_dict())
        if path == "/revoke" and method == "POST":
            token = request.args.get("token") or request.form.get("token", "")
            with self._lock:
                revoked = self.grants.revoke_token(token)
            if not revoked:
                return json_response(
                    {"error": "invalid_token", "error_description": "Token expired or revoked"},
                    400,
                )
            return json_response({})
        if not path.startswith(API + "/"):
            return _error(404, "notFound", "Not Found")
        with self._lock:
            grant = self.grants.grant_of_access(request.headers.get("Authorization", ""))
        if grant is None:
            return _error(401, "authError", "Request had invalid authentication credentials.")
        route = path.removeprefix(API)
        with self._lock:
            return self._calendar_api(method, route, request, body, grant)

    def _token(self, form: dict[str, str]) -> Response:
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "Unauthorized"}, 401
            )
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant, why = self.grants.redeem_code(
                    form.get("code", ""),
                    form["client_id"],
                    form.get("redirect_uri", ""),
                    form.get("code_verifier", ""),
                )
                if grant is None:
                    return _invalid_grant(why)
                return json_response(self.grants.tokens_for(grant, with_refresh=True))
            if form.get("grant_type") == "refresh_token":
                refreshed = self.grants.refresh.get(form.get("refresh_token", ""))
                if refreshed is None or refreshed.revoked:
                    return _invalid_grant("Token has been expired or revoked.")
                self.grants.refreshes += 1
                return json_response(self.grants.tokens_for(refreshed, with_refresh=False))
        return json_response({"error": "unsupported_grant_type"}, 400)

    def _calendar_api(
        self, method: str, route: str, request: Request, body: Any, grant: Grant
    ) -> Response:
        email = grant.email
        if method == "GET" and route == "/users/me/calendarList":
            return self._calendar_list(email, request.args)
        if method == "POST" and route == "/freeBusy":
            return self._free_busy(email, body or {})
        if method == "POST" and route == "/channels/stop":
            channel = self.channels.get((body or {}).get("id", ""))
            if channel is None or channel.resource_id != (body or {}).get("resourceId"):
                return _error(404, "notFound", "Channel not found")
            channel.stopped = True
            return Response(status=204)
        match = re.fullmatch(r"/calendars/([^/]+)/events(?:/([^/]+))?", route)
        if match is None:
            return _error(404, "notFound", "Not Found")
        calendar_id = match.group(1)
        calendar = (
            self.book.primary(email)
            if calendar_id == "primary"
            else self.book.owned(email, calendar_id)
        )
        if calendar is None:
            return _error(404, "notFound", "Not Found")
        event_part = match.group(2)
        if event_part == "watch" and method == "POST":
            return self._watch(calendar, body or {})
        if event_part is None and method == "POST":
            return self._insert(calendar, body or {})
        if event_part is None:
            return _error(405, "methodNotAllowed", "Method not allowed")
        event = self.book.events.get(event_part)
        if event is None or event.calendar_id != calendar.id:
            return _error(404, "notFound", "Not Found")
        if method == "GET":
            return json_response(_describe(event))
        if not calendar.writable:
            return _error(
                403, "requiredAccessLevel", "You need to have writer access to this calendar."
            )
        if method in ("PATCH", "PUT"):
            return self._patch(event, body or {})
        if method == "DELETE":
            if event.cancelled:
                return _error(410, "deleted", "Resource has been deleted")
            event.cancelled = True
            self._changed(calendar.id)
            return Response(status=204)
        return _error(405, "methodNotAllowed", "Method not allowed")

    def _calendar_list(self, email: str, args: Any) -> Response:
        calendars = self.book.of(email)
        size = max(1, min(int(args.get("maxResults", 100)), 250))
        first = int(args.get("pageToken", 0) or 0)
        page = calendars[first : first + size]
        answer: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "items": [
                {
                    "kind": "calendar#calendarListEntry",
                    "id": c.id,
                    "summary": c.name,
                    "timeZone": "UTC",
                    "accessRole": "owner" if c.writable else "reader",
                    **({"primary": True} if c.primary else {}),
                }
                for c in page
            ],
        }
        if first + size < len(calendars):
            answer["nextPageToken"] = str(first + size)
        return json_response(answer)

    def _free_busy(self, email: str, body: dict[str, Any]) -> Response:
        try:
            start, end = parse_time(body["timeMin"]), parse_time(body["timeMax"])
        except (KeyError, ValueError):
            return _error(400, "badRequest", "Bad Request")
        if end <= start:
            return _error(400, "timeRangeEmpty", "The specified time range is empty.")
        calendars: dict[str, Any] = {}
        for item in body.get("items") or []:
            wanted = str(item.get("id", ""))
            calendar = (
                self.book.primary(email) if wanted == "primary" else self.book.owned(email, wanted)
            )
            if calendar is None:
                calendars[wanted] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            spans: list[list[datetime]] = []
            for event in self.book.in_window(calendar.id, start, end):
                if event.status == "transparent":
                    continue
                span = [max(event.start, start), min(event.end, end)]
                if spans and span[0] <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], span[1])
                else:
                    spans.append(span)
            calendars[wanted] = {
                "busy": [{"start": self._time(s), "end": self._time(e)} for s, e in spans]
            }
        return json_response(
            {
                "kind": "calendar#freeBusy",
                "timeMin": self._time(start),
                "timeMax": self._time(end),
                "calendars": calendars,
            }
        )

    def _time(self, moment: datetime) -> str:
        local = in_zone(moment, self.answer_time_zone)
        if local.utcoffset() == timedelta(0):
            return local.strftime("%Y-%m-%dT%H:%M:%SZ")
        return local.isoformat(timespec="seconds")

    def _insert(self, calendar: FakeCalendar, body: dict[str, Any]) -> Response:
        if not calendar.writable:
            return _error(
                403, "requiredAccessLevel", "You need to have writer access to this calendar."
            )
        event_id = str(body.get("id") or secrets.token_hex(13))
        if not EVENT_ID.fullmatch(event_id):
            return _error(400, "invalid", "Invalid resource id value.")
        if event_id in self.book.events:
            return _error(409, "duplicate", "The requested identifier already exists.")
        try:
            start, end = _event_time(body.get("start")), _event_time(body.get("end"))
        except (KeyError, TypeError, ValueError):
            return _error(400, "required", "Missing start or end time.")
        if end <= start:
            return _error(400, "timeRangeEmpty", "The specified time range is empty.")
        event = FakeEvent(
            id=event_id,
            calendar_id=calendar.id,
            start=start,
            end=end,
            summary=str(body.get("summary", "")),
            status=str(body.get("transparency", "opaque")),
            cancelled=body.get("status") == "cancelled",
            body={k: v for k, v in body.items() if k != "id"},
        )
        self.book.events[event_id] = event
        self._changed(calendar.id)
        return json_response(_describe(event))

    def _patch(self, event: FakeEvent, body: dict[str, Any]) -> Response:
        try:
            start = _event_time(body["start"]) if "start" in body else event.start
            end = _event_time(body["end"]) if "end" in body else event.end
        except (KeyError, TypeError, ValueError):
            return _error(400, "invalid", "Invalid start or end time.")
        event.start, event.end = start, end
        event.summary = str(body.get("summary", event.summary))
        event.status = str(body.get("transparency", event.status))
        if "status" in body:
            event.cancelled = body["status"] == "cancelled"
        event.body.update({k: v for k, v in body.items() if k != "id"})
        self._changed(event.calendar_id)
        return json_response(_describe(event))

    def _watch(self, calendar: FakeCalendar, body: dict[str, Any]) -> Response:
        channel_id = str(body.get("id", ""))
        if not re.fullmatch(r"[A-Za-z0-9\-_+/=]{1,64}", channel_id):
            return _error(400, "invalid", "Invalid channel id.")
        if channel_id in self.channels:
            return _error(400, "channelIdNotUnique", f"Channel id {channel_id} not unique")
        if body.get("type") != "web_hook" or not str(body.get("address", "")).startswith("http"):
            return _error(
                400, "push.webhookUrlUnauthorized", "Unauthorized WebHook callback channel"
            )
        expiration = int((self.clock() + CHANNEL_LIFETIME.total_seconds()) * 1000)
        if body.get("expiration"):
            expiration = min(expiration, int(body["expiration"]))
        channel = FakeChannel(
            id=channel_id,
            resource_id=secrets.token_urlsafe(18),
            calendar_id=calendar.id,
            address=str(body["address"]),
            token=str(body.get("token", "")),
            expiration_ms=expiration,
        )
        self.channels[channel_id] = channel
        self._deliver([channel], "sync")
        return json_response(
            {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": f"{self.url}{API}/calendars/{calendar.id}/events?alt=json",
                "token": channel.token,
                "expiration": str(channel.expiration_ms),
            }
        )

    # -- push notifications -----------------------------------------------------------------

    def _changed(self, calendar_id: str) -> None:
        with self._lock:
            now_ms = self.clock() * 1000
            live = [
                c
                for c in self.channels.values()
                if c.calendar_id == calendar_id and not c.stopped and c.expiration_ms > now_ms
            ]
        self._deliver(live, "exists")

    def _deliver(self, channels: list[FakeChannel], state: str) -> None:
        if not self.deliver_notifications or not channels:
            return
        with self._lock:
            messages = []
            for channel in channels:
                channel.messages += 1
                messages.append((channel, channel.messages))

        def send() -> None:
            for channel, number in messages:
                status, _, _ = post_quietly(
                    channel.address,
                    headers={
                        "X-Goog-Channel-ID": channel.id,
                        "X-Goog-Channel-Token": channel.token,
                        "X-Goog-Channel-Expiration": datetime.fromtimestamp(
                            channel.expiration_ms / 1000, UTC
                        ).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                        "X-Goog-Resource-ID": channel.resource_id,
                        "X-Goog-Resource-URI": f"{self.url}{API}/calendars/"
                        f"{channel.calendar_id}/events?alt=json",
                        "X-Goog-Resource-State": state,
                        "X-Goog-Message-Number": str(number),
                    },
                )
                with self._lock:
                    self.notifications.append(Delivered(channel.id, state, status))

        threading.Thread(target=send, daemon=True).start()


def _error(status: int, reason: str, message: str) -> Response:
    return json_response(
        {
            "error": {
                "errors": [{"domain": "global", "reason": reason, "message": message}],
                "code": status,
                "message": message,
            }
        },
        status,
    )


def _invalid_grant(why: str) -> Response:
    return json_response({"error": "invalid_grant", "error_description": why}, 400)


def _moment(value: datetime | str) -> datetime:
    return value.astimezone(UTC) if isinstance(value, datetime) else parse_time(value)


def _event_time(value: Any) -> datetime:
    if "dateTime" in value:
        return parse_time(value["dateTime"], value.get("timeZone") or "UTC")
    return parse_time(value["date"] + "T00:00:00", value.get("timeZone") or "UTC")


def _describe(event: FakeEvent) -> dict[str, Any]:
    return {
        **event.body,
        "kind": "calendar#event",
        "id": event.id,
        "status": "cancelled" if event.cancelled else "confirmed",
        "summary": event.summary,
        "transparency": event.status,
        "start": {"dateTime": event.start.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "end": {"dateTime": event.end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "calendarId": event.calendar_id,
    }
