"""What booking is made of: event types, hosts' schedules, bookings and calendar connections.

Times are aware datetimes in UTC unless a field says it is local; wall-clock hours of a
schedule are local to the schedule's IANA zone.  Durations, buffers, steps and the minutes of
weekly hours are multiples of `GRANULE_MINUTES`, so a booking's held time always starts and
ends on a granule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

GRANULE_MINUTES = 5


class LocationKind(StrEnum):
    ZOOM = "zoom"  # a Zoom meeting made per booking
    TEAMS = "teams"  # a Teams link from Microsoft Graph's online meeting on the host's event
    PHONE = "phone"  # `value`: the number to call, or "" when the host calls the invitee
    IN_PERSON = "in_person"  # `value`: the address
    LINK = "link"  # `value`: a fixed https URL


@dataclass(frozen=True)
class Location:
    kind: LocationKind
    value: str = ""


class HostMode(StrEnum):
    ONE = "one"  # a single host
    ROUND_ROBIN = "round_robin"  # the least recently booked free host
    COLLECTIVE = "collective"  # every host attends: all must be free


class QuestionKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    PHONE = "phone"
    CHOICE = "choice"


@dataclass(frozen=True)
class Question:
    """A question the booking form asks beyond name and e-mail (always asked)."""

    id: str  # stable key of the answer, [a-z0-9_]{1,40}
    label: str
    kind: QuestionKind = QuestionKind.TEXT
    required: bool = False
    options: list[str] = field(default_factory=list)  # for CHOICE


@dataclass(frozen=True)
class EventType:
    workspace_id: str
    id: str
    slug: str  # unique in the workspace: /book/<workspace slug>/<slug>
    title: str
    description: str  # Markdown as written
    description_html: str  # rendered and sanitised
    durations: list[int]  # minutes; the first is the default
    location: Location
    host_mode: HostMode
    host_ids: list[str]  # user ids of members; one for HostMode.ONE
    time_zone: str  # IANA zone in which daily and weekly caps count days (and weeks, ISO)
    buffer_before: int = 0  # minutes kept free before a meeting
    buffer_after: int = 0
    minimum_notice: int = 240  # minutes between now and the earliest start
    horizon_days: int = 60  # how far ahead invitees may book
    slot_step: int = 0  # minutes between slot starts; 0: the default duration
    daily_cap: int | None = None  # bookings of this event type per day
    weekly_cap: int | None = None
    questions: list[Question] = field(default_factory=list)
    requires_confirmation: bool = False  # the host confirms each booking (status pending)
    public: bool = True  # listed on /book/<workspace slug>; unlisted ones open by link
    active: bool = True  # inactive: no slots, no bookings (existing ones stay)
    reminders: list[int] = field(default_factory=lambda: [1440, 60])  # minutes before start
    opens_ticket: bool = False  # a booking opens a ticket in the inbox
    cancel_notice: int = 0  # minutes before start after which invitees can no longer change it
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def step(self) -> int:
        return self.slot_step or self.durations[0]


@dataclass(frozen=True)
class Hours:
    """A span of wall-clock time in the schedule's zone; `end` 00:00 means midnight at the
    end of the day."""

    start: time
    end: time


@dataclass(frozen=True)
class Schedule:
    """A host's availability: weekly hours (0 Monday .. 6 Sunday) and date overrides (an
    empty list: unavailable that day, e.g. a holiday), all in `time_zone`."""

    workspace_id: str
    user_id: str
    time_zone: str
    weekly: dict[int, list[Hours]]
    overrides: dict[date, list[Hours]] = field(default_factory=dict)
    updated_at: datetime | None = None


class BookingStatus(StrEnum):
    PENDING = "pending"  # waits for the host's confirmation
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # by the invitee or the host
    DECLINED = "declined"  # a pending booking the host refused


ACTIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})


@dataclass(frozen=True)
class Invitee:
    name: str
    email: str
    time_zone: str  # IANA zone the invitee booked in (their mails show times in it)
    locale: str  # "en" or "fr": the language of their mails and pages


@dataclass(frozen=True)
class CalendarEventRef:
    """Where the meeting was written on one host's calendar."""

    connection_id: str
    provider: str  # "google" | "microsoft"
    calendar_id: str
    event_id: str


@dataclass(frozen=True)
class Meeting:
    """The online meeting of a booking (Zoom, or Teams through the host's Graph event)."""

    provider: str  # "zoom" | "teams"
    meeting_id: str
    join_url: str
    password: str = ""


@dataclass(frozen=True)
class Booking:
    workspace_id: str
    id: str
    event_type_id: str
    event_type_slug: str
    title: str  # the event type's title when booked
    host_ids: list[str]  # the attending host(s): one, or every host of a collective type
    start: datetime
    end: datetime
    buffer_before: int
    buffer_after: int
    invitee: Invitee
    answers: dict[str, str]
    status: BookingStatus
    location: Location
    sequence: int = 0  # iCalendar SEQUENCE: +1 on every reschedule or cancellation
    meeting: Meeting | None = None
    calendar_events: list[CalendarEventRef] = field(default_factory=list)
    contact_id: str | None = None
    ticket_id: str | None = None
    cancel_reason: str = ""
    cancelled_by: str = ""  # "invitee" | "user:<id>"
    rescheduled_from: datetime | None = None  # the start before the latest reschedule
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def held_start(self) -> datetime:
        """The start of the host's time this booking holds (its buffer before included)."""
        from datetime import timedelta

        return self.start - timedelta(minutes=self.buffer_before)

    @property
    def held_end(self) -> datetime:
        from datetime import timedelta

        return self.end + timedelta(minutes=self.buffer_after)

    @property
    def uid(self) -> str:
        """The iCalendar UID: stable across reschedules."""
        return f"{self.id}@helptal"


class CalendarProviderName(StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the grant was revoked or expired: the agent reconnects
    ERROR = "error"  # the provider failed lately (shown with `last_error`); retried


@dataclass(frozen=True)
class CalendarInfo:
    id: str
    name: str
    primary: bool = False
    writable: bool = True


@dataclass(frozen=True)
class CalendarConnection:
    """A member's authorised calendar account.  The refresh token is stored sealed (KMS
    envelope) and never leaves the store opened except to the provider adapter."""

    workspace_id: str
    id: str
    user_id: str
    provider: CalendarProviderName
    account_email: str
    status: ConnectionStatus
    busy_calendar_ids: list[str]  # calendars whose events make the member busy
    write_calendar_id: str  # where bookings are written
    calendars: list[CalendarInfo] = field(default_factory=list)
    last_error: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
