"""The ports booking works with, between its parts: provider adapters (chalicelib/providers/
google_calendar.py, microsoft_graph.py, zoom.py), calendar connections (booking/calendars.py),
the booking store (chalicelib/store/booking_repo.py) and the booking jobs queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chalicelib.booking.model import (
    Booking,
    CalendarConnection,
    CalendarEventRef,
    CalendarInfo,
    Meeting,
)


@dataclass(frozen=True)
class Interval:
    """[start, end) in UTC."""

    start: datetime
    end: datetime


# --- provider adapters (one per vendor) -------------------------------------------------


class GrantRevoked(Exception):
    """The provider refused the refresh token (revoked, expired): the member reconnects."""


class CalendarProviderFailed(Exception):
    """The provider could not answer now (network, 5xx, 429, a malformed answer): retry."""


class AccessTokenRejected(CalendarProviderFailed):
    """The provider answered 401 to an access token (expired or revoked early): refresh it
    and try again; a refresh that fails says GrantRevoked."""


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int  # seconds
    refresh_token: str | None  # Microsoft returns a new one on each refresh: store it
    scope: str = ""


@dataclass(frozen=True)
class CalendarEventDraft:
    """What a booking writes on a host's calendar."""

    event_id: str  # our id for it (Google: a client-chosen id, base32hex; Graph: transactionId)
    summary: str
    description: str  # plain text
    start: datetime
    end: datetime
    time_zone: str  # IANA zone shown on the calendar (the host's)
    attendees: list[tuple[str, str]]  # (email, name)
    location: str = ""
    teams_meeting: bool = False  # Graph only: isOnlineMeeting with teamsForBusiness


@dataclass(frozen=True)
class WrittenEvent:
    event_id: str  # the provider's id
    teams_join_url: str = ""  # Graph's onlineMeeting.joinUrl when a Teams meeting was asked


@dataclass(frozen=True)
class WatchChannel:
    """A push channel (Google) or change subscription (Graph) on a calendar."""

    channel_id: str
    resource_id: str  # Google's resourceId; Graph: the subscription id
    expires_at: datetime
    calendar_id: str = ""  # the watched calendar (Google's renewal watches it again): store it


class CalendarProvider(Protocol):
    """One calendar vendor's OAuth and API (Google Calendar v3, Microsoft Graph)."""

    name: str  # "google" | "microsoft"

    def authorization_url(self, state: str, code_challenge: str, redirect_uri: str) -> str:
        """The consent page (authorization code flow with PKCE S256, offline access)."""

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenGrant:
        """Raises GrantRevoked on invalid_grant, CalendarProviderFailed otherwise."""

    def refresh(self, refresh_token: str) -> TokenGrant: ...

    def revoke(self, token: str) -> None:
        """Best effort: a token that is already invalid is fine."""

    def account_email(self, access_token: str) -> str: ...

    def list_calendars(self, access_token: str) -> list[CalendarInfo]: ...

    def busy(
        self, access_token: str, account_email: str, calendar_ids: list[str], window: Interval
    ) -> list[Interval]:
        """Busy intervals of those calendars in the window (one provider call)."""

    def create_event(
        self, access_token: str, calendar_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent:
        """Idempotent on `draft.event_id`: a repeat returns the event made the first time."""

    def update_event(
        self, access_token: str, calendar_id: str, event_id: str, draft: CalendarEventDraft
    ) -> WrittenEvent: ...

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        """An event already gone is fine."""

    def watch(
        self, access_token: str, calendar_id: str, channel_id: str, address: str, token: str
    ) -> WatchChannel: ...

    def renew(
        self, access_token: str, channel: WatchChannel, address: str, token: str
    ) -> WatchChannel:
        """Google: a new channel (the old one is stopped); Graph: PATCH the expiry."""

    def stop(self, access_token: str, channel: WatchChannel) -> None: ...


class MeetingProvider(Protocol):
    """Zoom meetings (Server-to-Server OAuth app of the deployment)."""

    def create_meeting(
        self, topic: str, start: datetime, minutes: int, time_zone: str, host_email: str
    ) -> Meeting: ...

    def update_meeting(
        self, meeting_id: str, topic: str, start: datetime, minutes: int, time_zone: str
    ) -> None: ...

    def delete_meeting(self, meeting_id: str) -> None:
        """A meeting already gone is fine."""


# --- calendar connections, as the rest of booking sees them (booking/calendars.py) ------


class BusyTimes(Protocol):
    def busy(
        self, workspace_id: str, user_ids: list[str], window: Interval, fresh: bool
    ) -> dict[str, list[Interval]]:
        """Busy intervals per member from their connected calendars.  `fresh=False` may
        answer from a short cache (page views); `fresh=True` asks the providers now
        (booking time).  A connection that fails adds nothing and is marked for its owner
        to see; this never raises for a provider's failure."""


class HostCalendars(Protocol):
    def write_booking(self, booking: Booking, host_id: str) -> tuple[CalendarEventRef | None, str]:
        """Creates or updates the booking's event on the host's chosen calendar (the
        invitee as attendee); returns the event's reference (None: no calendar connected)
        and the Teams join URL when the booking's location is Teams.  Raises
        CalendarProviderFailed to be retried; marks the connection on GrantRevoked and
        returns (None, "")."""

    def remove_booking(self, booking: Booking) -> None:
        """Deletes the booking's events from the hosts' calendars (those still connected)."""


# --- the booking jobs queue (worker: chalicelib/workers/booking_jobs.py) ----------------


@dataclass(frozen=True)
class BookingJob:
    """Brings a booking's outside world up to date after a change: calendar events, the
    meeting, mails (with .ics), reminders, the contact and the ticket."""

    workspace_id: str
    booking_id: str
    change: str  # "created" | "rescheduled" | "cancelled" | "confirmed" | "declined"
    sequence: int  # the booking's sequence after the change
    previous_start: str | None = None  # ISO 8601, for "rescheduled" mails
    actor: str = "invitee"  # "invitee" | "user:<id>"
    extra: dict[str, str] = field(default_factory=dict)


class BookingJobs(Protocol):
    def enqueue(self, job: BookingJob) -> None: ...


__all__ = [
    "AccessTokenRejected",
    "BookingJob",
    "BookingJobs",
    "BusyTimes",
    "CalendarConnection",
    "CalendarEventDraft",
    "CalendarEventRef",
    "CalendarProvider",
    "CalendarProviderFailed",
    "GrantRevoked",
    "HostCalendars",
    "Interval",
    "Meeting",
    "MeetingProvider",
    "TokenGrant",
    "WatchChannel",
    "WrittenEvent",
]
