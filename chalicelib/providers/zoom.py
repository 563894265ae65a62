"""Zoom meetings adapter (`ports.MeetingProvider`) for the deployment's Server-to-Server
OAuth app: `POST {oauth_base}/oauth/token?grant_type=account_credentials&account_id=` with
Basic client credentials gives an access token (no refresh token), kept in memory until a
minute before it expires; a 401 from the API fetches a new one once.

Meetings are scheduled ones (type 2) on the host's Zoom user (their e-mail address); a host
who is no user of the Zoom account gets the meeting on the app owner's user (`me`) instead,
so the booking still has its link.  The local stand-in is fakes/zoom.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from chalicelib.booking.model import Meeting
from chalicelib.booking.ports import CalendarProviderFailed
from chalicelib.providers.calendar_http import (
    TIMEOUT,
    body_of,
    error_text,
    new_session,
    rfc3339,
    secret_reader,
    send,
)

PROVIDER = "zoom"
# A token is taken for expired this long before Zoom says it expires.
TOKEN_MARGIN_SECONDS = 60
USER_NOT_FOUND = 1001
# Zoom's meeting passwords: at most 10 characters of [a-zA-Z0-9@-_*].
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class MeetingNotFound(CalendarProviderFailed):
    """Zoom knows no such meeting (deleted in Zoom): make a new one."""


class ZoomMeetings:
    """Zoom meetings for bookings (MeetingProvider)."""

    def __init__(
        self,
        *,
        api_base: str,
        oauth_base: str,
        account_id: str,
        client_id: str | Callable[[], str],
        client_secret: str | Callable[[], str],
        session: Any | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`client_id`/`client_secret`: values, or how to read them at each token request
        (secrets rotate); `session`: a `requests.Session`-like (one is made on first use)."""
        self._api = api_base.rstrip("/")
        self._oauth = oauth_base.rstrip("/")
        self._account_id = account_id
        self._client_id = secret_reader(client_id)
        self._client_secret = secret_reader(client_secret)
        self._session = session
        self._timeout = timeout
        self._monotonic = monotonic
        self._token: tuple[str, float] | None = None  # (access token, usable until)
        self._lock = threading.Lock()

    def create_meeting(
        self, topic: str, start: datetime, minutes: int, time_zone: str, host_email: str
    ) -> Meeting:
        """A scheduled meeting on the host's Zoom user (or the app owner's, see above)."""
        import secrets

        body = {
            "topic": topic[:200],
            "type": 2,
            "start_time": rfc3339(start),
            "duration": minutes,
            "timezone": time_zone,
            "password": "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10)),
            "settings": {"join_before_host": False, "waiting_room": True},
        }
        users = [host_email, "me"] if host_email else ["me"]
        for user in users:
            response = self._call("POST", f"/users/{quote(user, safe='@')}/meetings", json=body)
            if response.status_code == 404 and _code(response) == USER_NOT_FOUND and user != "me":
                continue  # the host is no user of this Zoom account
            answer = self._answer(response)
            if not answer.get("id") or not answer.get("join_url"):
                raise CalendarProviderFailed("zoom answered a meeting without its id or link")
            return Meeting(
                provider="zoom",
                meeting_id=str(answer["id"]),
                join_url=str(answer["join_url"]),
                password=str(answer.get("password") or ""),
            )
        raise CalendarProviderFailed("zoom made no meeting")  # pragma: no cover

    def update_meeting(
        self, meeting_id: str, topic: str, start: datetime, minutes: int, time_zone: str
    ) -> None:
        """Moves the meeting; MeetingNotFound when Zoom no longer has it."""
        response = self._call(
            "PATCH",
            f"/meetings/{quote(meeting_id, safe='')}",
            json={
                "topic": topic[:200],
                "start_time": rfc3339(start),
                "duration": minutes,
                "timezone": time_zone,
            },
        )
        if response.status_code == 404:
            raise MeetingNotFound(error_text(PROVIDER, response))
        self._answer(response)

    def delete_meeting(self, meeting_id: str) -> None:
        response = self._call(
            "DELETE",
            f"/meetings/{quote(meeting_id, safe='')}",
            params={"schedule_for_reminder": "false"},
        )
        if response.status_code != 404:  # gone already: fine
            self._answer(response)

    # -- HTTP -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The API's answer; on a 401 the token is fetched again and the call made once more."""
        response = None
        for attempt in range(2):
            token = self._access_token(renew=attempt > 0)
            response = send(
                self._http(),
                PROVIDER,
                method,
                self._api + path,
                self._timeout,
                headers={"Authorization": f"Bearer {token}"},
                **kwargs,
            )
            if response.status_code != 401:
                break
        return response

    def _access_token(self, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token and self._monotonic() < self._token[1]:
                return self._token[0]
            self._token = None
        response = send(
            self._http(),
            PROVIDER,
            "POST",
            f"{self._oauth}/oauth/token",
            self._timeout,
            params={"grant_type": "account_credentials", "account_id": self._account_id},
            auth=(self._client_id(), self._client_secret()),
        )
        answer = self._answer(response)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise CalendarProviderFailed("zoom answered a token without access_token")
        try:
            lifetime = int(answer.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        with self._lock:
            self._token = (token, self._monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0))
        return token

    def _http(self) -> Any:
        if self._session is None:
            self._session = new_session()
        return self._session

    @staticmethod
    def _answer(response: Any) -> dict[str, Any]:
        if not 200 <= response.status_code < 300:
            raise CalendarProviderFailed(error_text(PROVIDER, response))
        return body_of(response)


def _code(response: Any) -> int | None:
    code = body_of(response).get("code")
    return code if isinstance(code, int) else None
