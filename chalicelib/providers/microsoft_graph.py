"""Microsoft 365 calendars adapter (`ports.CalendarProvider`): the Microsoft identity
platform's authorization code flow with PKCE (v2.0 endpoints of `tenant`), and Microsoft
Graph v1.0 (getSchedule, calendarView, events, change subscriptions).

Bases are configurable (the local stand-in is fakes/microsoft.py): `login_base` serves
`/{tenant}/oauth2/v2.0/authorize|token`, `graph_base` is Graph with its version
(`https://graph.microsoft.com/v1.0`).  Graph answers wall-clock times in the zone asked in
`Prefer: outlook.timezone`: this asks for UTC.  A refresh answers a new refresh token (store
it).  Events carry our id as `transactionId`, which Graph uses to drop a repeated create.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
    failure,
    merged,
    new_session,
    parse_moment,
    secret_reader,
    send,
    token_grant,
)

PROVIDER = "microsoft"
SCOPES = ("offline_access", "User.Read", "Calendars.ReadWrite")
PREFER_UTC = 'outlook.timezone="UTC"'
BUSY_STATUSES = frozenset({"busy", "oof", "tentative"})
# Outlook event subscriptions live at most 4230 minutes by the older documentation (10080 by
# the newer): ask for a little less than the smaller; the hourly job renews them.
SUBSCRIPTION_MINUTES = 4200
PAGES_MAX = 10
SCHEDULE_INTERVAL_MINUTES = 15


class MicrosoftCalendar:
    """Microsoft Graph calendars for one app registration of the deployment."""

    name = "microsoft"

    def __init__(
        self,
        *,
        graph_base: str,
        login_base: str,
        tenant: str,
        client_id: str,
        client_secret: str | Callable[[], str],
        session: Any | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`client_secret`: the secret, or how to read it at each call (it can rotate);
        `session`: a `requests.Session`-like (one is made on first use); `now`: the clock
        subscriptions' expiries count from."""
        self._graph = graph_base.rstrip("/")
        self._login = f"{login_base.rstrip('/')}/{quote(tenant or 'common', safe='')}"
        self._client_id = client_id
        self._client_secret = secret_reader(client_secret)
        self._session = session
        self._timeout = timeout
        self._now = now or (lambda: datetime.now(UTC))
        # The default calendar's id per account (getSchedule answers for it): asked once.
        self._default_calendars: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- OAuth ------------------------------------------------------------------------------

    def authorization_url(self, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        return f"{self._login}/oauth2/v2.0/authorize?{urlencode(query)}"

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
        """A new access token and a new refresh token (store it in place of the old)."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> None:
        """Nothing to call: the identity platform revokes no single refresh token (its only
        revocation signs the user out of every app); dropping the token ends our access."""

    def _token(self, form: dict[str, str]) -> TokenGrant:
        response = send(
            self._http(),
            PROVIDER,
            "POST",
            f"{self._login}/oauth2/v2.0/token",
            self._timeout,
            data={
                **form,
                "client_id": self._client_id,
                "client_secret": self._client_secret(),
                "scope": " ".join(SCOPES),
            },
        )
        return token_grant(PROVIDER, response)

    # -- calendars --------------------------------------------------------------------------

    def account_email(self, access_token: str) -> str:
        me = self._call("GET", "/me", access_token, params={"$select": "mail,userPrincipalName"})
        email = me.get("mail") or me.get("userPrincipalName")
        if not isinstance(email, str) or not email:
            raise CalendarProviderFailed("microsoft described the account without an address")
        return email

    def list_calendars(self, access_token: str) -> list[CalendarInfo]:
        listed = self._pages(
            "/me/calendars",
            access_token,
            {"$select": "id,name,isDefaultCalendar,canEdit", "$top": "100"},
        )
        return [
            CalendarInfo(
                id=str(entry["id"]),
                name=str(entry.get("name") or entry["id"]),
                primary=bool(entry.get("isDefaultCalendar")),
                writable=bool(entry.get("canEdit", True)),
            )
            for entry in listed
            if entry.get("id")
        ]

    def busy(
        self, access_token: str, account_email: str, calendar_ids: list[str], window: Interval
    ) -> list[Interval]:
        """The default calendar through getSchedule of the account's address, each other
        chosen calendar through its calendarView (busy, tentative and away count): one call
        per calendar, plus one per account (once per process) to know its default calendar."""
        if not calendar_ids:
            return []
        default_id = self._default_calendar(access_token, account_email)
        found: list[Interval] = []
        if default_id in calendar_ids:
            found += self._schedule(access_token, account_email, window)
        for calendar_id in dict.fromkeys(calendar_ids):
            if calendar_id != default_id:
                found += self._calendar_view(access_token, calendar_id, window)
        return merged(found, window)

    def _default_calendar(self, access_token: str, account_email: str) -> str:
        key = account_email.lower()
        with self._lock:
            known = self._default_calendars.get(key)
        if known is None:
            answer = self._call("GET", "/me/calendar", access_token, params={"$select": "id"})
            known = str(answer.get("id") or "")
            if not known:
                raise CalendarProviderFailed("microsoft described the calendar without its id")
            with self._lock:
                self._default_calendars[key] = known
        return known

    def _schedule(self, access_token: str, account_email: str, window: Interval) -> list[Interval]:
        answer = self._call(
            "POST",
            "/me/calendar/getSchedule",
            access_token,
            headers={"Prefer": PREFER_UTC},
            json={
                "schedules": [account_email],
                "startTime": {"dateTime": _wall_clock(window.start), "timeZone": "UTC"},
                "endTime": {"dateTime": _wall_clock(window.end), "timeZone": "UTC"},
                "availabilityViewInterval": SCHEDULE_INTERVAL_MINUTES,
            },
        )
        schedules = answer.get("value")
        if not isinstance(schedules, list):
            raise CalendarProviderFailed("microsoft answered getSchedule without schedules")
        found: list[Interval] = []
        for schedule in schedules:
            if not isinstance(schedule, dict):
                continue
            error = schedule.get("error")
            if error:
                code = error.get("responseCode", "") if isinstance(error, dict) else ""
                raise CalendarProviderFailed(f"microsoft could not tell the schedule: {code}")
            for item in schedule.get("scheduleItems") or []:
                if isinstance(item, dict) and str(item.get("status", "")).lower() in BUSY_STATUSES:
                    found.append(_interval(item))
        return found

    def _calendar_view(
        self, access_token: str, calendar_id: str, window: Interval
    ) -> list[Interval]:
        events = self._pages(
            f"/me/calendars/{quote(calendar_id, safe='')}/calendarView",
            access_token,
            {
                "startDateTime": _wall_clock(window.start) + "Z",
                "endDateTime": _wall_clock(window.end) + "Z",
                "$select": "start,end,showAs,isCancelled",
                "$top": "200",
            },
        )
        return [
            _interval(event)
            for event in events
            if str(event.get("showAs", "")).lower() in BUSY_STATUSES
            and not event.get("isCancelled")
        ]

    # -- events -----------------------------------------------------------------------------

    def create_event(
        self, access_token: str, calendar_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        """Creates the event with `transactionId` = `draft.event_id`: Graph answers a repeat
        with the event made the first time (a 409 is looked up by that id)."""
        path = f"{_calendar_path(calendar_id)}/events"
        body = {**_event_body(draft), "transactionId": draft.event_id}
        response = self._send("POST", path, access_token, json=body)
        if response.status_code == 409:
            event = self._by_transaction(access_token, path, draft.event_id)
        else:
            event = self._answer(response)
        return self._written(access_token, event, draft)

    def update_event(
        self, access_token: str, calendar_id: str, event_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        """Patches the event; one deleted on the calendar meanwhile is made again (its new
        id is in the answer)."""
        response = self._send(
            "PATCH", f"/me/events/{quote(event_id, safe='')}", access_token, json=_event_body(draft)
        )
        if response.status_code == 404:
            return self.create_event(access_token, calendar_id, draft)
        return self._written(access_token, self._answer(response), draft)

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        response = self._send("DELETE", f"/me/events/{quote(event_id, safe='')}", access_token)
        if response.status_code not in (404, 410):  # gone already: fine
            self._answer(response)

    def _by_transaction(self, access_token: str, path: str, transaction_id: str) -> dict[str, Any]:
        quoted = transaction_id.replace("'", "''")
        answer = self._call(
            "GET",
            path,
            access_token,
            params={"$filter": f"transactionId eq '{quoted}'", "$select": "id,onlineMeeting"},
        )
        found = [event for event in answer.get("value") or [] if isinstance(event, dict)]
        if not found:
            raise CalendarProviderFailed("microsoft refused a repeated event it cannot find")
        return found[0]

    def _written(
        self, access_token: str, event: dict[str, Any], draft: CalendarEventDraft
    ) -> WrittenEvent:
        event_id = event.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise CalendarProviderFailed("microsoft answered an event without its id")
        join_url = _join_url(event)
        if draft.teams_meeting and not join_url:
            # The online meeting can be filled in just after the create: read it once.
            again = self._call(
                "GET",
                f"/me/events/{quote(event_id, safe='')}",
                access_token,
                params={"$select": "id,onlineMeeting"},
            )
            join_url = _join_url(again)
        return WrittenEvent(event_id=event_id, teams_join_url=join_url)

    # -- change subscriptions ---------------------------------------------------------------

    def watch(
        self, access_token: str, calendar_id: str, channel_id: str, address: str, token: str
    ) -> WatchChannel:
        """A subscription to the calendar's event changes, posted to `address` with
        `clientState` = `token`.  Graph first posts `?validationToken=` to `address`, which
        must echo it (text/plain) within 10 s, or the subscription is refused."""
        answer = self._call(
            "POST",
            "/subscriptions",
            access_token,
            json={
                "changeType": "created,updated,deleted",
                "notificationUrl": address,
                "resource": f"/me/calendars/{calendar_id}/events",
                "expirationDateTime": self._expiry(),
                "clientState": token,
            },
        )
        return self._channel(answer, channel_id, calendar_id)

    def renew(
        self, access_token: str, channel: WatchChannel, address: str, token: str
    ) -> WatchChannel:
        """Extends the subscription; one Graph dropped meanwhile is made again."""
        response = self._send(
            "PATCH",
            f"/subscriptions/{quote(channel.resource_id, safe='')}",
            access_token,
            json={"expirationDateTime": self._expiry()},
        )
        if response.status_code == 404 and channel.calendar_id:
            return self.watch(access_token, channel.calendar_id, channel.channel_id, address, token)
        return self._channel(self._answer(response), channel.channel_id, channel.calendar_id)

    def stop(self, access_token: str, channel: WatchChannel) -> None:
        response = self._send(
            "DELETE", f"/subscriptions/{quote(channel.resource_id, safe='')}", access_token
        )
        if response.status_code != 404:  # gone already: fine
            self._answer(response)

    def _expiry(self) -> str:
        moment = self._now().astimezone(UTC) + timedelta(minutes=SUBSCRIPTION_MINUTES)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    @staticmethod
    def _channel(answer: dict[str, Any], channel_id: str, calendar_id: str) -> WatchChannel:
        subscription_id = answer.get("id")
        if not isinstance(subscription_id, str) or not subscription_id:
            raise CalendarProviderFailed("microsoft answered a subscription without its id")
        return WatchChannel(
            channel_id=channel_id,
            resource_id=subscription_id,
            expires_at=parse_moment(PROVIDER, answer.get("expirationDateTime")),
            calendar_id=calendar_id,
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _http(self) -> Any:
        if self._session is None:
            self._session = new_session()
        return self._session

    def _send(
        self,
        method: str,
        path_or_url: str,
        access_token: str,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        url = (
            path_or_url if path_or_url.startswith(self._graph + "/") else self._graph + path_or_url
        )
        if not path_or_url.startswith("/") and url != path_or_url:
            # A next link elsewhere than Graph gets no token.
            raise CalendarProviderFailed("microsoft answered a link outside Graph")
        return send(
            self._http(),
            PROVIDER,
            method,
            url,
            self._timeout,
            headers={"Authorization": f"Bearer {access_token}", **(headers or {})},
            **kwargs,
        )

    def _call(self, method: str, path: str, access_token: str, **kwargs: Any) -> dict[str, Any]:
        return self._answer(self._send(method, path, access_token, **kwargs))

    def _pages(self, path: str, access_token: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """The `value`s of a listing, following `@odata.nextLink` (at most PAGES_MAX pages)."""
        found: list[dict[str, Any]] = []
        url, query = path, dict(params)
        for _ in range(PAGES_MAX):
            page = self._call(
                "GET", url, access_token, params=query or None, headers={"Prefer": PREFER_UTC}
            )
            found += [entry for entry in page.get("value") or [] if isinstance(entry, dict)]
            next_link = page.get("@odata.nextLink")
            if not isinstance(next_link, str) or not next_link:
                break
            url, query = next_link, {}  # the link carries its query
        return found

    @staticmethod
    def _answer(response: Any) -> dict[str, Any]:
        if not 200 <= response.status_code < 300:
            raise failure(PROVIDER, response)
        return body_of(response)


def _calendar_path(calendar_id: str) -> str:
    return f"/me/calendars/{quote(calendar_id, safe='')}" if calendar_id else "/me/calendar"


def _wall_clock(moment: datetime) -> str:
    """A moment as Graph's `dateTime` in UTC (`2026-03-01T09:30:00`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _interval(item: dict[str, Any]) -> Interval:
    """An event's or schedule item's [start, end) from its dateTimeTimeZone pair."""
    start, end = item.get("start") or {}, item.get("end") or {}
    return Interval(
        parse_moment(PROVIDER, start.get("dateTime"), str(start.get("timeZone") or "UTC")),
        parse_moment(PROVIDER, end.get("dateTime"), str(end.get("timeZone") or "UTC")),
    )


def _join_url(event: dict[str, Any]) -> str:
    meeting = event.get("onlineMeeting")
    if isinstance(meeting, dict) and isinstance(meeting.get("joinUrl"), str):
        return str(meeting["joinUrl"])
    return ""


def _event_body(draft: CalendarEventDraft) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": draft.summary,
        "body": {"contentType": "text", "content": draft.description},
        "start": {"dateTime": _wall_clock(draft.start), "timeZone": "UTC"},
        "end": {"dateTime": _wall_clock(draft.end), "timeZone": "UTC"},
        "attendees": [
            {"emailAddress": {"address": email, "name": name}, "type": "required"}
            for email, name in draft.attendees
        ],
        "showAs": "busy",
        "allowNewTimeProposals": False,
    }
    if draft.location:
        body["location"] = {"displayName": draft.location}
    if draft.teams_meeting:
        body["isOnlineMeeting"] = True
        body["onlineMeetingProvider"] = "teamsForBusiness"
    return body
