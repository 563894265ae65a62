"""What booking keeps, as the rest of booking sees it: the `BookingStore` port (implemented by
chalicelib/store/booking_repo.py) and the values it reads and writes.

A host's time is kept in a ledger: one entry per (workspace, host, UTC day) listing the held
spans of the host's active bookings (their buffers included) under a version.  A booking is
made, moved or cancelled in one transaction that writes the booking, every ledger day it
touches (conditioned on the version read) and the event type's day and week counters (the
caps); a lost race raises `BookingRaced` and the caller reads again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from chalicelib.accounts.model import Page
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    CalendarEventRef,
    EventType,
    Meeting,
    Schedule,
)
from chalicelib.booking.ports import BookingJob


class SlugTaken(Exception):
    """Another event type of the workspace has this slug."""


class EventTypeChanged(Exception):
    """The event type changed (or went) since it was read."""


class BookingRaced(Exception):
    """The booking transaction lost a race (a ledger day, a counter or the booking changed
    since it was read): read again and re-check."""


@dataclass(frozen=True)
class HeldSpan:
    """Time a booking holds on a host's calendar, in epoch seconds, [start, end)."""

    start: int
    end: int
    booking_id: str


@dataclass(frozen=True)
class LedgerDay:
    """The held spans of one host on one UTC day (a span crossing midnight is listed on
    both days).  `version` 0: nothing was ever written for that day."""

    host_id: str
    day: date
    spans: tuple[HeldSpan, ...] = ()
    version: int = 0


@dataclass(frozen=True)
class LedgerWrite:
    """Replaces one ledger day's spans, if its version is still `expected_version`."""

    host_id: str
    day: date
    expected_version: int
    spans: tuple[HeldSpan, ...]


@dataclass(frozen=True)
class CapCounts:
    """Active bookings of an event type per local day and ISO week (of its caps' zone)."""

    per_day: dict[date, int] = field(default_factory=dict)
    per_week: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass(frozen=True)
class CapChange:
    """Moves one counter by `delta`; with `limit`, only while it is below the limit."""

    day: date | None = None
    week: tuple[int, int] | None = None
    delta: int = 1
    limit: int | None = None


@dataclass(frozen=True)
class BookingCommit:
    """One booking change, written in one transaction.  `expected_version` None: a new
    booking (refused if its id exists)."""

    booking: Booking
    expected_version: int | None
    ledger: list[LedgerWrite] = field(default_factory=list)
    caps: list[CapChange] = field(default_factory=list)
    booked_host: str | None = None  # round robin: the host now most recently booked
    # The job to queue once committed: written in the same transaction as a due item (at the
    # reference its `extra["due"]` names), so that a job whose queueing is lost is queued
    # again (chalicelib/booking/job_outbox.py).
    job: BookingJob | None = None


@dataclass(frozen=True)
class BookingFilter:
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    host_id: str | None = None
    status: BookingStatus | None = None


class BookingStore(Protocol):
    # -- event types --------------------------------------------------------------------
    def create_event_type(self, event_type: EventType) -> None:
        """Writes the event type and claims its slug; SlugTaken."""

    def save_event_type(self, before: EventType, after: EventType) -> None:
        """Replaces `before` (version checked; `after.version` = before's + 1), moving the
        slug claim when the slug changed; SlugTaken, EventTypeChanged."""

    def delete_event_type(self, event_type: EventType) -> None:
        """Deletes it and frees its slug; EventTypeChanged."""

    def get_event_type(self, workspace_id: str, event_type_id: str) -> EventType | None: ...

    def event_type_by_slug(self, workspace_id: str, slug: str) -> EventType | None: ...

    def list_event_types(self, workspace_id: str) -> list[EventType]: ...

    # -- schedules ----------------------------------------------------------------------
    def get_schedules(self, workspace_id: str, user_ids: list[str]) -> dict[str, Schedule]:
        """The saved schedules of those members (one BatchGetItem); absent: none saved."""

    def list_schedules(self, workspace_id: str) -> list[Schedule]: ...

    def save_schedule(self, schedule: Schedule) -> None: ...

    # -- host time ----------------------------------------------------------------------
    def ledger(
        self, workspace_id: str, host_id: str, first: date, last: date, *, consistent: bool
    ) -> list[LedgerDay]:
        """The host's ledger days from `first` to `last` (UTC, inclusive): one Query."""

    def cap_counts(
        self, workspace_id: str, event_type_id: str, first: date, last: date
    ) -> CapCounts:
        """The event type's counters of the days `first`..`last` and of the ISO weeks that
        contain them: one Query."""

    def last_booked(self, workspace_id: str, event_type_id: str) -> dict[str, datetime]:
        """Round robin: when each host of the event type was last booked (one Query)."""

    # -- bookings -----------------------------------------------------------------------
    def commit_booking(self, commit: BookingCommit) -> Booking:
        """Writes the booking change in one transaction (with its job's due item, when it has
        a job); BookingRaced when any condition failed.  Answers the booking as stored (its
        version moved)."""

    def get_booking(self, workspace_id: str, booking_id: str) -> Booking | None: ...

    def list_bookings(
        self, workspace_id: str, wanted: BookingFilter, cursor: str | None, limit: int
    ) -> Page[Booking]:
        """Bookings by start time, earliest first."""

    # -- for the booking jobs (part E) --------------------------------------------------
    def record_outside(
        self,
        workspace_id: str,
        booking_id: str,
        *,
        sequence: int,
        meeting: Meeting | None,
        calendar_events: list[CalendarEventRef],
        contact_id: str | None,
        ticket_id: str | None,
    ) -> bool:
        """Writes what the booking's job made outside (meeting, calendar events, contact,
        ticket) if the booking's sequence is still `sequence`; False when it moved on.
        With a contact, also files the booking under the contact (bookings_of_contact)."""

    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        """The contact's bookings, newest first."""


__all__ = [
    "BookingCommit",
    "BookingFilter",
    "BookingRaced",
    "BookingStore",
    "CapChange",
    "CapCounts",
    "EventTypeChanged",
    "HeldSpan",
    "LedgerDay",
    "LedgerWrite",
    "SlugTaken",
]
