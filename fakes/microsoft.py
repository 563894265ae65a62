"""A local stand-in for the Microsoft identity platform (v2.0) and Microsoft Graph v1.0
calendars, over HTTP (one server plays login.microsoftonline.com and graph.microsoft.com:
Graph is under `/v1.0`).

- Consent page `GET /{tenant}/oauth2/v2.0/authorize` (PKCE S256 required): an Allow button
  (address from `login_hint`) redirecting to `redirect_uri?code=&state=`; `auto=1`
  redirects at once.
- `POST /{tenant}/oauth2/v2.0/token`: `authorization_code` (redirect URI and verifier
  checked) and `refresh_token`, each answering a NEW refresh token (when `offline_access`
  was asked); `invalid_grant` (AADSTS codes) for a bad code, verifier or revoked grant.
- Graph (Bearer): `GET /me`, `/me/calendar`, `/me/calendars` (paged), `POST
  /me/calendar/getSchedule` and `GET /me/calendars/{id}/calendarView` (paged) computed from
  the stored events, answered in the zone of `Prefer: outlook.timezone` (UTC otherwise);
  events create (`transactionId`: a repeat answers the first event), get, patch, delete,
  `$filter=transactionId eq '...'`; Teams join URLs for `isOnlineMeeting`; subscriptions
  create (after the validation handshake: `POST notificationUrl?validationToken=`, which
  must answer 200 text/plain with the token within 10 s), renew (PATCH), delete; change
  notifications are posted to the subscriptions' URLs.
- Controls: those of fakes/calendar_common.py, plus `GET /_fake/subscriptions`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlparse

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

CLIENT_ID = "00000000-0000-4000-8000-0000000d0e0f"
CLIENT_SECRET = "ms-dev-secret"  # the stand-in's own
DEFAULT_EMAIL = "host@contoso.test"
GRAPH = "/v1.0"
SUBSCRIPTION_MAX = timedelta(minutes=10080)
VALIDATION_TIMEOUT = 10.0
STATUS_DIGITS = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingelsewhere": "4"}


@dataclass
class FakeSubscription:
    id: str
    calendar_id: str
    owner: str
    notification_url: str
    client_state: str
    change_types: str
    expires_at: datetime


@dataclass
class Notified:
    subscription_id: str
    change_type: str
    status: int  # what the URL answered (0: nothing)


class FakeMicrosoft(FakeServer):
    label = "microsoft"

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
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.notifications: list[Notified] = []
        self.deliver_notifications = True
        self.validation_timeout = VALIDATION_TIMEOUT  # seconds the handshake may take

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.grants = OAuthGrants(self.clock)
            self.book = CalendarBook()
            self.subscriptions.clear()
            self.notifications.clear()
            self.validation_timeout = VALIDATION_TIMEOUT

    def ensure_account(self, email: str) -> FakeCalendar:
        """The account's default calendar (made with a "Team" calendar the first time)."""
        with self._lock:
            default = self.book.primary(email)
            if default is None:
                default = FakeCalendar(_graph_id(), "Calendar", email, primary=True)
                self.book.calendars[default.id] = default
                team = FakeCalendar(_graph_id(), "Team", email)
                self.book.calendars[team.id] = team
            return default

    def add_calendar(
        self, email: str, name: str, calendar_id: str = "", writable: bool = True
    ) -> FakeCalendar:
        self.ensure_account(email)
        with self._lock:
            calendar = FakeCalendar(calendar_id or _graph_id(), name, email, writable=writable)
            self.book.calendars[calendar.id] = calendar
            return calendar

    def add_busy(
        self,
        email: str,
        start: datetime | str,
        end: datetime | str,
        calendar_id: str = "",
        summary: str = "Busy",
        show_as: str = "busy",
    ) -> FakeEvent:
        """An event the account has (on its default calendar unless told)."""
        default = self.ensure_account(email)
        with self._lock:
            event = FakeEvent(
                id=_graph_id(),
                calendar_id=calendar_id or default.id,
                start=_moment(start),
                end=_moment(end),
                summary=summary,
                status=show_as,
            )
            self.book.events[event.id] = event
            self._changed(event, "created")
        return event

    def revoke_account(self, email: str) -> int:
        """The account (or its admin) withdraws the app's consent."""
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
                payload.get("status", "busy"),
            )
            return json_response(self._describe(event, None), 201)
        if method == "POST" and path == "/_fake/calendars":
            calendar = self.add_calendar(
                payload["email"],
                payload["name"],
                payload.get("id", ""),
                payload.get("writable", True),
            )
            return json_response(calendar.__dict__, 201)
        if method == "GET" and path == "/_fake/events":
            events = self.events_of(request.args["email"])
            return json_response([self._describe(e, None) for e in events])
        if method == "POST" and path == "/_fake/revoke":
            return json_response({"revoked": self.revoke_account(payload["email"])})
        if method == "POST" and path == "/_fake/expire_tokens":
            self.expire_access_tokens()
            return json_response({"ok": True})
        if method == "GET" and path == "/_fake/subscriptions":
            with self._lock:
                listed = [
                    {**s.__dict__, "expires_at": s.expires_at.isoformat()}
                    for s in self.subscriptions.values()
                ]
            return json_response(listed)
        return json_response({"error": "no such control"}, 404)

    # -- pages: consent, and where Teams join links lead ------------------------------------

    def is_page(self, request: Request) -> bool:
        return request.path.endswith("/oauth2/v2.0/authorize") or request.path.startswith("/teams/")

    def page(self, request: Request) -> Response:
        if request.path.startswith("/teams/"):
            return Response(
                "<!doctype html><title>Teams meeting</title><h1>Teams meeting (local stand-in)"
                "</h1><p>In a real deployment this link opens the Teams meeting.</p>",
                content_type="text/html; charset=utf-8",
            )
        params = request.args.to_dict() if request.method == "GET" else request.form.to_dict()
        problem = self._authorization_problem(params)
        if problem:
            return Response(f"AADSTS900144: {problem}", status=400)
        email = params.get("email") or params.get("login_hint") or self.default_email
        decision = params.pop("decision", "")
        params.pop("email", None)
        if request.method == "GET" and params.get("auto") != "1":
            return consent_page(
                "Microsoft (sign in)",
                params["client_id"],
                params["scope"],
                email,
                request.path,
                params,
            )
        if decision == "deny":
            return redirect(
                params["redirect_uri"],
                {
                    "error": "access_denied",
                    "error_description": "AADSTS65004: User declined to consent.",
                    "state": params.get("state", ""),
                },
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
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        return redirect(params["redirect_uri"], answer)

    def _authorization_problem(self, params: dict[str, str]) -> str:
        if params.get("client_id") != self.client_id:
            return "The application was not found in the directory."
        if params.get("response_type") != "code":
            return "response_type must be code"
        if not params.get("redirect_uri", "").startswith(("http://", "https://")):
            return "The request must contain a valid redirect_uri."
        if not params.get("scope"):
            return "The request must contain a scope."
        if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            return "code_challenge with code_challenge_method S256 is required."
        return ""

    # -- API --------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return _error(status, "ServiceNotAvailable", "The service is temporarily unavailable.")

    def api(self, request: Request, body: Any) -> Response:
        path, method = request.path, request.method
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            return self._token(request.form.to_dict())
        if not path.startswith(GRAPH + "/"):
            return _error(404, "UnknownError", "Not found")
        with self._lock:
            grant = self.grants.grant_of_access(request.headers.get("Authorization", ""))
        if grant is None:
            return _error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        route = path.removeprefix(GRAPH)
        if route == "/subscriptions" and method == "POST":
            return self._subscribe(grant.email, body or {})  # handshake outside the lock
        zone = _preferred_zone(request.headers.get("Prefer", ""))
        with self._lock:
            return self._graph(method, route, request, body or {}, grant, zone)

    def _token(self, form: dict[str, str]) -> Response:
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return _oauth_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        scope = form.get("scope", "")
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant, why = self.grants.redeem_code(
                    form.get("code", ""),
                    form["client_id"],
                    form.get("redirect_uri", ""),
                    form.get("code_verifier", ""),
                )
                if grant is None:
                    code = 501481 if "verifier" in why else 70000
                    return _oauth_error(400, "invalid_grant", code, why)
                offline = "offline_access" in (scope or grant.scope).split()
                return json_response(self.grants.tokens_for(grant, with_refresh=offline))
            if form.get("grant_type") == "refresh_token":
                refreshed = self.grants.refresh.get(form.get("refresh_token", ""))
                if refreshed is None or refreshed.revoked:
                    return _oauth_error(
                        400,
                        "invalid_grant",
                        700082,
                        "The refresh token has expired or was revoked.",
                    )
                self.grants.refreshes += 1
                return json_response(self.grants.tokens_for(refreshed, with_refresh=True))
        return _oauth_error(400, "unsupported_grant_type", 70003, "Unsupported grant type.")

    def _graph(
        self,
        method: str,
        route: str,
        request: Request,
        body: dict[str, Any],
        grant: Grant,
        zone: str,
    ) -> Response:
        email = grant.email
        if method == "GET" and route == "/me":
            return json_response(
                {
                    "id": f"user-{abs(hash(email.lower())) % 10**8}",
                    "displayName": email.split("@")[0].title(),
                    "mail": email,
                    "userPrincipalName": email,
                }
            )
        if method == "GET" and route == "/me/calendars":
            calendars = [_calendar(c) for c in self.book.of(email)]
            return self._page(calendars, request, route)
        if route == "/me/calendar/getSchedule" and method == "POST":
            return self._schedule(body, zone)
        if route == "/me/calendar" and method == "GET":
            default = self.book.primary(email)
            return json_response(_calendar(default)) if default else _not_found()
        match = re.fullmatch(r"/me/calendars/([^/]+)/(calendarView|events)", route)
        if match or route == "/me/calendar/events":
            calendar = self.book.owned(email, match.group(1)) if match else self.book.primary(email)
            if calendar is None:
                return _not_found()
            if match and match.group(2) == "calendarView":
                return self._calendar_view(calendar, request, route, zone)
            if method == "POST":
                return self._create(calendar, body, zone)
            return self._events(calendar, request, zone)
        match = re.fullmatch(r"/me/events/([^/]+)", route)
        if match:
            event = self.book.events.get(match.group(1))
            owner = self.book.calendars.get(event.calendar_id) if event else None
            if event is None or event.cancelled or owner is None or owner.owner != email:
                return _not_found()
            if method == "GET":
                return json_response(self._describe(event, zone))
            if method == "PATCH":
                return self._patch(event, body, zone)
            if method == "DELETE":
                event.cancelled = True
                self._changed(event, "deleted")
                return Response(status=204)
        match = re.fullmatch(r"/subscriptions/([^/]+)", route)
        if match:
            return self._subscription(method, match.group(1), email, body)
        return _error(400, "BadRequest", f"Unsupported request: {method} {route}")

    def _page(self, entries: list[dict[str, Any]], request: Request, route: str) -> Response:
        top = max(1, min(int(request.args.get("$top", 10)), 1000))
        skip = int(request.args.get("$skip", 0))
        answer: dict[str, Any] = {"value": entries[skip : skip + top]}
        if skip + top < len(entries):
            query = {**request.args.to_dict(), "$top": str(top), "$skip": str(skip + top)}
            answer["@odata.nextLink"] = f"{self.url}{GRAPH}{route}?{urlencode(query)}"
        return json_response(answer)

    def _schedule(self, body: dict[str, Any], zone: str) -> Response:
        try:
            start = _dt(body["startTime"])
            end = _dt(body["endTime"])
            interval = int(body.get("availabilityViewInterval", 30))
        except (KeyError, TypeError, ValueError):
            return _error(400, "ErrorInvalidRequest", "startTime and endTime are required.")
        if end <= start or not 5 <= interval <= 1440:
            return _error(400, "ErrorInvalidParameter", "The time window is not valid.")
        answers = []
        for address in body.get("schedules") or []:
            default = self.book.primary(str(address))
            if default is None:
                answers.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "scheduleItems": [],
                        "error": {
                            "message": "The recipient isn't found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            events = self.book.in_window(default.id, start, end)
            view = ""
            slot = start
            while slot < end:
                slot_end = slot + timedelta(minutes=interval)
                digits = [
                    STATUS_DIGITS.get(e.status.lower(), "2")
                    for e in events
                    if e.start < slot_end and e.end > slot
                ]
                view += max(digits, default="0")
                slot = slot_end
            answers.append(
                {
                    "scheduleId": address,
                    "availabilityView": view,
                    "scheduleItems": [
                        {
                            "isPrivate": False,
                            "status": e.status,
                            "subject": e.summary,
                            "start": _dtz(e.start, zone),
                            "end": _dtz(e.end, zone),
                        }
                        for e in events
                    ],
                    "workingHours": {},
                }
            )
        return json_response({"value": answers})

    def _calendar_view(
        self, calendar: FakeCalendar, request: Request, route: str, zone: str
    ) -> Response:
        try:
            start = parse_time(request.args["startDateTime"])
            end = parse_time(request.args["endDateTime"])
        except (KeyError, ValueError):
            return _error(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        events = [self._describe(e, zone) for e in self.book.in_window(calendar.id, start, end)]
        return self._page(events, request, route)

    def _events(self, calendar: FakeCalendar, request: Request, zone: str) -> Response:
        wanted = re.fullmatch(r"transactionId eq '(.*)'", request.args.get("$filter", ""))
        events = [
            e
            for e in self.book.events.values()
            if e.calendar_id == calendar.id
            and not e.cancelled
            and (wanted is None or e.transaction_id == wanted.group(1).replace("''", "'"))
        ]
        return json_response({"value": [self._describe(e, zone) for e in events]})

    def _create(self, calendar: FakeCalendar, body: dict[str, Any], zone: str) -> Response:
        if not calendar.writable:
            return _error(403, "ErrorAccessDenied", "Access is denied.")
        transaction_id = str(body.get("transactionId") or "")
        if transaction_id:
            for known in self.book.events.values():
                if known.transaction_id == transaction_id and not known.cancelled:
                    return json_response(self._describe(known, zone), 201)
        try:
            start, end = _dt(body["start"]), _dt(body["end"])
        except (KeyError, TypeError, ValueError):
            return _error(400, "ErrorInvalidRequest", "start and end are required.")
        event = FakeEvent(
            id=_graph_id(),
            calendar_id=calendar.id,
            start=start,
            end=end,
            summary=str(body.get("subject", "")),
            status=str(body.get("showAs", "busy")),
            body={k: v for k, v in body.items() if k not in ("start", "end")},
            transaction_id=transaction_id,
        )
        self._meeting(event, body)
        self.book.events[event.id] = event
        self._changed(event, "created")
        return json_response(self._describe(event, zone), 201)

    def _patch(self, event: FakeEvent, body: dict[str, Any], zone: str) -> Response:
        try:
            event.start = _dt(body["start"]) if "start" in body else event.start
            event.end = _dt(body["end"]) if "end" in body else event.end
        except (TypeError, ValueError):
            return _error(400, "ErrorInvalidRequest", "start or end is not valid.")
        event.summary = str(body.get("subject", event.summary))
        event.status = str(body.get("showAs", event.status))
        event.body.update({k: v for k, v in body.items() if k not in ("start", "end")})
        self._meeting(event, body)
        self._changed(event, "updated")
        return json_response(self._describe(event, zone))

    def _meeting(self, event: FakeEvent, body: dict[str, Any]) -> None:
        if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == (
            "teamsForBusiness"
        ):
            event.join_url = event.join_url or (
                f"{self.url}/teams/l/meetup-join/{secrets.token_urlsafe(12)}"
            )
        elif body.get("isOnlineMeeting") is False:
            event.join_url = ""

    def _describe(self, event: FakeEvent, zone: str | None) -> dict[str, Any]:
        return {
            **event.body,
            "id": event.id,
            "subject": event.summary,
            "showAs": event.status,
            "isCancelled": event.cancelled,
            "start": _dtz(event.start, zone or "UTC"),
            "end": _dtz(event.end, zone or "UTC"),
            "transactionId": event.transaction_id or None,
            "isOnlineMeeting": bool(event.join_url),
            "onlineMeeting": {"joinUrl": event.join_url} if event.join_url else None,
            "calendarId": event.calendar_id,
        }

    # -- subscriptions ----------------------------------------------------------------------

    def _subscribe(self, email: str, body: dict[str, Any]) -> Response:
        url = str(body.get("notificationUrl", ""))
        match = re.fullmatch(r"/?me/calendars/([^/]+)/events", str(body.get("resource", "")))
        with self._lock:
            calendar = self.book.owned(email, match.group(1)) if match else None
            problem = self._subscription_problem(body, url)
        if calendar is None:
            return _error(400, "ExtensionError", "The resource is not valid for this user.")
        if problem:
            return _error(400, "InvalidRequest", problem)
        token = f"Validation: Testing client application reachability {secrets.token_hex(8)}"
        status, content_type, text = post_quietly(
            f"{url}{'&' if '?' in url else '?'}validationToken={quote(token)}",
            headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=self.validation_timeout,
        )
        if status != 200 or not content_type.startswith("text/plain") or text != token:
            return _error(
                400,
                "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond "
                "with 200 OK to validation request.",
            )
        with self._lock:
            subscription = FakeSubscription(
                id=str(secrets.token_hex(16)),
                calendar_id=calendar.id,
                owner=email,
                notification_url=url,
                client_state=str(body.get("clientState", "")),
                change_types=str(body["changeType"]),
                expires_at=parse_time(body["expirationDateTime"]),
            )
            self.subscriptions[subscription.id] = subscription
        return json_response(_subscription(subscription), 201)

    def _subscription_problem(self, body: dict[str, Any], url: str) -> str:
        if not url.startswith(("http://", "https://")):
            return "notificationUrl must be an https URL."
        if not body.get("changeType"):
            return "changeType is required."
        if len(str(body.get("clientState", ""))) > 128:
            return "clientState is longer than 128 characters."
        return self._expiry_problem(body.get("expirationDateTime"))

    def _expiry_problem(self, value: Any) -> str:
        try:
            expires = parse_time(value)
        except ValueError:
            return "expirationDateTime is not valid."
        now = self._now()
        if expires <= now:
            return "Subscription expiration can only be in the future."
        if expires > now + SUBSCRIPTION_MAX:
            return "Subscription expiration exceeds the maximum allowed for this resource."
        return ""

    def _subscription(
        self, method: str, subscription_id: str, email: str, body: dict[str, Any]
    ) -> Response:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription.owner != email:
            return _error(404, "ResourceNotFound", "The object was not found.")
        if method == "GET":
            return json_response(_subscription(subscription))
        if method == "DELETE":
            del self.subscriptions[subscription_id]
            return Response(status=204)
        if method == "PATCH":
            problem = self._expiry_problem(body.get("expirationDateTime"))
            if problem:
                return _error(400, "InvalidRequest", problem)
            subscription.expires_at = parse_time(body["expirationDateTime"])
            return json_response(_subscription(subscription))
        return _error(405, "BadRequest", "Method not allowed")

    def _changed(self, event: FakeEvent, change: str) -> None:
        if not self.deliver_notifications:
            return
        now = self._now()
        targets = [
            s
            for s in self.subscriptions.values()
            if s.calendar_id == event.calendar_id
            and s.expires_at > now
            and change in s.change_types.split(",")
        ]
        if not targets:
            return

        def send() -> None:
            for subscription in targets:
                payload = {
                    "value": [
                        {
                            "subscriptionId": subscription.id,
                            "subscriptionExpirationDateTime": _iso(subscription.expires_at),
                            "changeType": change,
                            "resource": f"Users/{subscription.owner}/Events/{event.id}",
                            "resourceData": {
                                "@odata.type": "#Microsoft.Graph.Event",
                                "@odata.id": f"Users/{subscription.owner}/Events/{event.id}",
                                "id": event.id,
                            },
                            "clientState": subscription.client_state,
                            "tenantId": "00000000-0000-0000-0000-000000000000",
                        }
                    ]
                }
                status, _, _ = post_quietly(
                    subscription.notification_url,
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(payload).encode(),
                )
                with self._lock:
                    self.notifications.append(Notified(subscription.id, change, status))

        threading.Thread(target=send, daemon=True).start()


def _graph_id() -> str:
    return "AAMk" + secrets.token_urlsafe(30)


def _calendar(calendar: FakeCalendar) -> dict[str, Any]:
    return {
        "id": calendar.id,
        "name": calendar.name,
        "isDefaultCalendar": calendar.primary,
        "canEdit": calendar.writable,
        "owner": {"address": calendar.owner},
    }


def _subscription(subscription: FakeSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "resource": f"/me/calendars/{subscription.calendar_id}/events",
        "changeType": subscription.change_types,
        "notificationUrl": subscription.notification_url,
        "clientState": subscription.client_state,
        "expirationDateTime": _iso(subscription.expires_at),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _preferred_zone(prefer: str) -> str:
    match = re.search(r'outlook\.timezone="([^"]+)"', prefer)
    return match.group(1) if match else "UTC"


def _dt(value: Any) -> datetime:
    """A dateTimeTimeZone in UTC."""
    return parse_time(value["dateTime"], value.get("timeZone") or "UTC")


def _dtz(moment: datetime, zone: str) -> dict[str, str]:
    """A dateTimeTimeZone as Graph answers it: wall-clock time (7 fraction digits), no offset."""
    local = in_zone(moment, zone)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone}


def _moment(value: datetime | str) -> datetime:
    return value.astimezone(UTC) if isinstance(value, datetime) else parse_time(value)


def _error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


def _not_found() -> Response:
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _oauth_error(status: int, error: str, code: int, description: str) -> Response:
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}",
            "error_codes": [code],
        },
        status,
    )
