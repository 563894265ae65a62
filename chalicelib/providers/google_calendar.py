"""Google Calendar adapter (`ports.CalendarProvider`): OAuth 2.0 for web server apps with
PKCE, and Calendar API v3 (freeBusy, events, push channels).

Bases are configurable (the local stand-in is fakes/google.py): `accounts_base` serves the
consent page (`/o/oauth2/v2/auth`), `oauth_base` the token and revoke endpoints, `api_base`
the API under `/calendar/v3`.  Events carry the id we choose (base32hex), so a repeated
insert answers 409 and the event made the first time is brought in line with the draft.
Google sends no invitations of its own (`sendUpdates=none`): booking mails its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from chalicelib.booking.model import CalendarInfo
from chalicelib.booking.ports import (
    CalendarEventDraft,
    CalendarProviderFailed,
    Interval,
    TokenGrant,
    WatchChannel,
    WrittenEvent,
)
from chalicelib.providers.calendar_http import (
    TIMEOUT,
    body_of,
    error_text,
    failure,
    merged,
    new_session,
    parse_moment,
    rfc3339,
    secret_reader,
    send,
    token_grant,
)

PROVIDER = "google"
# Read every calendar's busy times and the calendar list; write events.
SCOPES = (
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
)
# freeBusy takes at most this many calendars per query.
FREEBUSY_CALENDARS_MAX = 50
CALENDAR_LIST_PAGES_MAX = 10
WRITABLE_ROLES = ("owner", "writer")


class GoogleCalendar:
    """Google Calendar for one OAuth client of the deployment."""

    name = "google"

    def __init__(
        self,
        *,
        api_base: str,
        oauth_base: str,
        accounts_base: str,
        client_id: str,
        client_secret: str | Callable[[], str],
        session: Any | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        """`client_secret`: the secret, or how to read it at each call (it can rotate);
        `session`: a `requests.Session`-like (one is made on first use)."""
        self._api = f"{api_base.rstrip('/')}/calendar/v3"
        self._oauth = oauth_base.rstrip("/")
        self._accounts = accounts_base.rstrip("/")
        self._client_id = client_id
        self._client_secret = secret_reader(client_secret)
        self._session = session
        self._timeout = timeout

    # -- OAuth ------------------------------------------------------------------------------

    def authorization_url(self, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "access_type": "offline",  # a refresh token
            "prompt": "consent",  # a refresh token again when the member reconnects
            "include_granted_scopes": "true",
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._accounts}/o/oauth2/v2/auth?{urlencode(query)}"

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenGrant:
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
            }
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> None:
        """Revokes the grant the token belongs to; an already invalid token (400) is fine."""
        response = send(
            self._http(),
            PROVIDER,
            "POST",
            f"{self._oauth}/revoke",
            self._timeout,
            params={"token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code not in (200, 400):
            raise CalendarProviderFailed(error_text(PROVIDER, response))

    def _token(self, form: dict[str, str]) -> TokenGrant:
        response = send(
            self._http(),
            PROVIDER,
            "POST",
            f"{self._oauth}/token",
            self._timeout,
            data={**form, "client_id": self._client_id, "client_secret": self._client_secret()},
        )
        return token_grant(PROVIDER, response)

    # -- calendars --------------------------------------------------------------------------

    def account_email(self, access_token: str) -> str:
        """The primary calendar's id, which is the account's address."""
        for entry in self._calendar_list(access_token):
            if entry.get("primary") and entry.get("id"):
                return str(entry["id"])
        raise CalendarProviderFailed("google listed no primary calendar")

    def list_calendars(self, access_token: str) -> list[CalendarInfo]:
        return [
            CalendarInfo(
                id=str(entry["id"]),
                name=str(entry.get("summaryOverride") or entry.get("summary") or entry["id"]),
                primary=bool(entry.get("primary")),
                writable=entry.get("accessRole") in WRITABLE_ROLES,
            )
            for entry in self._calendar_list(access_token)
            if entry.get("id") and not entry.get("deleted")
        ]

    def _calendar_list(self, access_token: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        params: dict[str, str] = {"maxResults": "250"}
        for _ in range(CALENDAR_LIST_PAGES_MAX):
            page = self._call("GET", "/users/me/calendarList", access_token, params=params)
            entries += [item for item in page.get("items") or [] if isinstance(item, dict)]
            if not page.get("nextPageToken"):
                break
            params = {**params, "pageToken": str(page["nextPageToken"])}
        return entries

    def busy(
        self, access_token: str, account_email: str, calendar_ids: list[str], window: Interval
    ) -> list[Interval]:
        """freeBusy of the calendars (one call per 50); a calendar Google no longer finds
        (deleted, unshared) adds nothing, any other per-calendar error fails the call."""
        found: list[Interval] = []
        for first in range(0, len(calendar_ids), FREEBUSY_CALENDARS_MAX):
            chunk = calendar_ids[first : first + FREEBUSY_CALENDARS_MAX]
            answer = self._call(
                "POST",
                "/freeBusy",
                access_token,
                json={
                    "timeMin": rfc3339(window.start),
                    "timeMax": rfc3339(window.end),
                    "timeZone": "UTC",
                    "items": [{"id": calendar_id} for calendar_id in chunk],
                },
            )
            calendars = answer.get("calendars")
            if not isinstance(calendars, dict):
                raise CalendarProviderFailed("google answered freeBusy without calendars")
            for calendar_id in chunk:
                entry = calendars.get(calendar_id) or {}
                reasons = {
                    str(error.get("reason"))
                    for error in entry.get("errors") or []
                    if isinstance(error, dict)
                }
                if reasons - {"notFound"}:
                    raise CalendarProviderFailed(
                        f"google could not tell a calendar's busy times: {', '.join(reasons)}"
                    )
                for span in entry.get("busy") or []:
                    found.append(
                        Interval(
                            parse_moment(PROVIDER, span.get("start")),
                            parse_moment(PROVIDER, span.get("end")),
                        )
                    )
        return merged(found, window)

    # -- events -----------------------------------------------------------------------------

    def create_event(
        self, access_token: str, calendar_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        """Inserts the event under `draft.event_id`; when that id exists already (a repeat,
        or an event deleted since), the event is patched back to the draft."""
        path = f"{_calendar_path(calendar_id)}/events"
        response = self._send(
            "POST",
            path,
            access_token,
            params={"sendUpdates": "none"},
            json={**_event_body(draft), "id": draft.event_id},
        )
        if response.status_code == 409:
            return self._patch(access_token, calendar_id, draft.event_id, draft)
        return WrittenEvent(event_id=str(self._answer(response).get("id") or draft.event_id))

    def update_event(
        self, access_token: str, calendar_id: str, event_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        """Patches the event (restoring it if it was deleted); inserts it under `event_id`
        when the calendar never had it."""
        try:
            return self._patch(access_token, calendar_id, event_id, draft)
        except _Missing:
            return self.create_event(access_token, calendar_id, replace(draft, event_id=event_id))

    def _patch(
        self, access_token: str, calendar_id: str, event_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        response = self._send(
            "PATCH",
            f"{_calendar_path(calendar_id)}/events/{quote(event_id, safe='')}",
            access_token,
            params={"sendUpdates": "none"},
            json=_event_body(draft),
        )
        if response.status_code == 404:
            raise _Missing(event_id)
        return WrittenEvent(event_id=str(self._answer(response).get("id") or event_id))

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        response = self._send(
            "DELETE",
            f"{_calendar_path(calendar_id)}/events/{quote(event_id, safe='')}",
            access_token,
            params={"sendUpdates": "none"},
        )
        if response.status_code not in (404, 410):  # gone already: fine
            self._answer(response)

    # -- push channels ----------------------------------------------------------------------

    def watch(
        self, access_token: str, calendar_id: str, channel_id: str, address: str, token: str
    ) -> WatchChannel:
        """A channel on the calendar's events: Google POSTs to `address` (with the channel
        id and `token` in headers) whenever they change."""
        answer = self._call(
            "POST",
            f"{_calendar_path(calendar_id)}/events/watch",
            access_token,
            json={"id": channel_id, "type": "web_hook", "address": address, "token": token},
        )
        try:
            expires_at = datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC)
            resource_id = str(answer["resourceId"])
        except (KeyError, TypeError, ValueError) as e:
            raise CalendarProviderFailed("google answered a channel without its expiry") from e
        return WatchChannel(
            channel_id=str(answer.get("id") or channel_id),
            resource_id=resource_id,
            expires_at=expires_at,
            calendar_id=calendar_id,
        )

    def renew(
        self, access_token: str, channel: WatchChannel, address: str, token: str
    ) -> WatchChannel:
        """A new channel on the same calendar (Google channels cannot be extended), then
        the old one stopped; the new channel's id is the old one's with a new suffix (ids
        are at most 64 of [A-Za-z0-9-_+/=])."""
        if not channel.calendar_id:
            raise CalendarProviderFailed("a google channel cannot be renewed without its calendar")
        import secrets

        base = channel.channel_id.rsplit("_", 1)[0][:51]
        renewed = self.watch(
            access_token, channel.calendar_id, f"{base}_{secrets.token_hex(6)}", address, token
        )
        self.stop(access_token, channel)
        return renewed

    def stop(self, access_token: str, channel: WatchChannel) -> None:
        """Stops the channel; one Google no longer knows (expired) is fine."""
        response = self._send(
            "POST",
            "/channels/stop",
            access_token,
            json={"id": channel.channel_id, "resourceId": channel.resource_id},
        )
        if response.status_code != 404:
            self._answer(response)

    # -- HTTP -------------------------------------------------------------------------------

    def _http(self) -> Any:
        if self._session is None:
            self._session = new_session()
        return self._session

    def _send(self, method: str, path: str, access_token: str, **kwargs: Any) -> Any:
        return send(
            self._http(),
            PROVIDER,
            method,
            self._api + path,
            self._timeout,
            headers={"Authorization": f"Bearer {access_token}"},
            **kwargs,
        )

    def _call(self, method: str, path: str, access_token: str, **kwargs: Any) -> dict[str, Any]:
        return self._answer(self._send(method, path, access_token, **kwargs))

    @staticmethod
    def _answer(response: Any) -> dict[str, Any]:
        if not 200 <= response.status_code < 300:
            raise failure(PROVIDER, response)
        return body_of(response)


class _Missing(Exception):
    """The event is not on the calendar (404)."""


def _calendar_path(calendar_id: str) -> str:
    return f"/calendars/{quote(calendar_id or 'primary', safe='')}"


def _event_body(draft: CalendarEventDraft) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": draft.summary,
        "description": draft.description,
        "start": {"dateTime": rfc3339(draft.start), "timeZone": draft.time_zone},
        "end": {"dateTime": rfc3339(draft.end), "timeZone": draft.time_zone},
        "attendees": [
            {"email": email, "displayName": name} if name else {"email": email}
            for email, name in draft.attendees
        ],
        "status": "confirmed",  # also brings back an event deleted on the calendar
        "transparency": "opaque",
    }
    if draft.location:
        body["location"] = draft.location
    return body
