"""Schemas of booking: event types, schedules and bookings (members), and the public booking
pages' JSON (no login; never a member's e-mail or id, only names and avatars)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing, QueryParams, TimeZone

# Query schemas name a field `from` (a keyword): built with pydantic's create_model.
_model: Any = cast(Any, create_model)
Minutes = Annotated[int, Field(ge=0, le=60 * 24 * 60)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LocationKindName = Literal["zoom", "teams", "phone", "in_person", "link"]
HostModeName = Literal["one", "round_robin", "collective"]
QuestionKindName = Literal["text", "long_text", "phone", "choice"]
BookingStatusName = Literal["pending", "confirmed", "cancelled", "declined"]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
MemberId = Annotated[str, Field(min_length=1, max_length=64)]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Reason = Annotated[str, Field(max_length=1000)]

EVENT_TYPE_EXAMPLE: dict[str, Any] = {
    "slug": "intro-call",
    "title": "Introduction call",
    "description": "A **30-minute** call to see how we can help.",
    "durations": [30, 60],
    "location": {"kind": "zoom", "value": ""},
    "host_mode": "round_robin",
    "host_ids": ["01JD3XZ2A4C6E8G0J2M4P6R8TV"],
    "time_zone": "Europe/Paris",
    "buffer_after": 10,
    "minimum_notice": 240,
    "questions": [
        {"id": "company", "label": "Your company", "kind": "text", "required": True},
    ],
}


# -- event types -----------------------------------------------------------------------------


class LocationIO(Incoming):
    kind: LocationKindName = Field(
        description="`zoom` (a meeting per booking), `teams` (a Teams link from the host's "
        "Microsoft 365 calendar), `phone`, `in_person` or `link`."
    )
    value: str = Field(
        default="",
        max_length=500,
        description="phone: the number (empty: the host calls the invitee); in_person: the "
        "address; link: an https URL; zoom and teams: empty.",
    )


class QuestionIO(Incoming):
    id: str = Field(
        pattern=r"^[a-z0-9_]{1,40}$", description="The answer's key ([a-z0-9_], at most 40)."
    )
    label: str = Field(min_length=1, max_length=200, description="What the form asks.")
    kind: QuestionKindName = Field(default="text", description="The kind of answer.")
    required: bool = Field(default=False, description="The form cannot be sent without it.")
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=30, description="The choices of a `choice` question."
    )


class EventTypeIn(Incoming):
    slug: Slug = Field(description="Unique in the workspace: /book/<workspace>/<slug>.")
    title: str = Field(min_length=1, max_length=120, description="What invitees book.")
    description: str = Field(default="", max_length=10_000, description="Markdown.")
    durations: list[int] = Field(
        min_length=1, max_length=6, description="Minutes (multiples of 5); the first is default."
    )
    location: LocationIO = Field(description="Where the meeting takes place.")
    host_mode: HostModeName = Field(
        default="one",
        description="`one` host, `round_robin` (the least recently booked free host) or "
        "`collective` (every host attends; all must be free).",
    )
    host_ids: list[MemberId] = Field(
        min_length=1, max_length=10, description="Members hosting it (one for `one`)."
    )
    time_zone: TimeZone = Field(description="IANA zone in which the caps count days and weeks.")
    buffer_before: Minutes = Field(default=0, description="Minutes kept free before.")
    buffer_after: Minutes = Field(default=0, description="Minutes kept free after.")
    minimum_notice: Minutes = Field(default=240, description="Minutes between now and a start.")
    horizon_days: int = Field(default=60, ge=1, le=365, description="Days ahead one may book.")
    slot_step: Minutes = Field(
        default=0, description="Minutes between slot starts; 0: the default duration."
    )
    daily_cap: int | None = Field(default=None, ge=1, description="Bookings a day at most.")
    weekly_cap: int | None = Field(default=None, ge=1, description="Bookings an ISO week.")
    questions: list[QuestionIO] = Field(
        default_factory=list, max_length=20, description="Asked beyond name and e-mail."
    )
    requires_confirmation: bool = Field(
        default=False, description="A host confirms each booking (pending until then)."
    )
    public: bool = Field(default=True, description="Listed on the workspace's booking page.")
    active: bool = Field(default=True, description="Inactive: no slots, no new bookings.")
    reminders: list[Minutes] = Field(
        default_factory=lambda: [1440, 60], max_length=5, description="Minutes before start."
    )
    opens_ticket: bool = Field(default=False, description="A booking opens a ticket.")
    cancel_notice: Minutes = Field(
        default=0, description="Minutes before start after which invitees cannot change it."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_TYPE_EXAMPLE]})


def _optional(model: type[Incoming], name: str, doc: str) -> Any:
    """`model` with every field optional (a PATCH body): only the fields sent change."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        # The field's constraints and validators apply to a value sent, never to null.
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        optional = FieldInfo(default=None, description=info.description)
        fields[field_name] = (annotation | None, optional)
    patch = _model(name, __base__=Incoming, __doc__=doc, **fields)
    patch.model_config["json_schema_extra"] = {
        "examples": [{"title": "Intro call (30 min)", "active": False}]
    }
    return patch


EventTypePatchIn = _optional(
    EventTypeIn, "EventTypePatchIn", "Changes to an event type: the fields sent change."
)


class LocationOut(Outgoing):
    kind: LocationKindName = Field(description="Where the meeting takes place.")
    value: str = Field(description="The number, address or link (empty for zoom and teams).")


class QuestionOut(Outgoing):
    id: str = Field(description="The answer's key.")
    label: str = Field(description="What the form asks.")
    kind: QuestionKindName = Field(description="The kind of answer.")
    required: bool = Field(description="An answer is required.")
    options: list[str] = Field(description="The choices of a `choice` question.")


class EventTypeOut(Outgoing):
    id: str = Field(description="The event type's id.")
    slug: str = Field(description="Its slug in the workspace.")
    title: str = Field(description="Its title.")
    description: str = Field(description="Markdown as written.")
    description_html: str = Field(description="The description rendered and sanitised.")
    durations: list[int] = Field(description="Minutes; the first is the default.")
    location: LocationOut = Field(description="Where the meeting takes place.")
    host_mode: HostModeName = Field(description="How hosts are chosen.")
    host_ids: list[str] = Field(description="The hosts' user ids.")
    time_zone: str = Field(description="IANA zone of the caps' days and weeks.")
    buffer_before: int = Field(description="Minutes kept free before.")
    buffer_after: int = Field(description="Minutes kept free after.")
    minimum_notice: int = Field(description="Minutes between now and the earliest start.")
    horizon_days: int = Field(description="Days ahead one may book.")
    slot_step: int = Field(description="Minutes between slot starts; 0: the default duration.")
    daily_cap: int | None = Field(description="Bookings a day at most.")
    weekly_cap: int | None = Field(description="Bookings an ISO week at most.")
    questions: list[QuestionOut] = Field(description="Asked beyond name and e-mail.")
    requires_confirmation: bool = Field(description="A host confirms each booking.")
    public: bool = Field(description="Listed on the workspace's booking page.")
    active: bool = Field(description="Offered for booking.")
    reminders: list[int] = Field(description="Reminder mails, minutes before start.")
    opens_ticket: bool = Field(description="A booking opens a ticket.")
    cancel_notice: int = Field(description="Minutes before start invitees may still change.")
    booking_url: str = Field(description="The public booking page's address.")
    created_at: datetime | None = Field(description="When it was created.")
    updated_at: datetime | None = Field(description="When it last changed.")
    version: int = Field(description="Moves with every change.")


class EventTypesOut(Outgoing):
    event_types: list[EventTypeOut] = Field(description="The workspace's event types.")


# -- schedules ---------------------------------------------------------------------------------


class HoursIO(Incoming):
    start: ClockTime = Field(description="`HH:MM` in the schedule's zone (5-minute steps).")
    end: ClockTime = Field(description="`HH:MM` after `start`; `24:00` for midnight.")


class ScheduleIn(Incoming):
    time_zone: TimeZone = Field(description="The host's IANA zone.")
    weekly: dict[Weekday, list[HoursIO]] = Field(
        description="Open hours per weekday (`mon` … `sun`); a day left out is closed."
    )
    overrides: dict[str, list[HoursIO]] = Field(
        default_factory=dict,
        max_length=200,
        description="Dates (`YYYY-MM-DD`) with other hours; an empty list: closed that day.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "time_zone": "Europe/Paris",
                    "weekly": {
                        "mon": [
                            {"start": "09:00", "end": "12:00"},
                            {"start": "14:00", "end": "17:00"},
                        ],
                        "tue": [{"start": "09:00", "end": "17:00"}],
                    },
                    "overrides": {"2025-12-25": []},
                }
            ]
        }
    )


class HoursOut(Outgoing):
    start: str = Field(description="`HH:MM`.")
    end: str = Field(description="`HH:MM` (`24:00`: midnight).")


class ScheduleOut(Outgoing):
    user_id: str = Field(description="The member's user id.")
    time_zone: str = Field(description="The host's IANA zone.")
    weekly: dict[str, list[HoursOut]] = Field(description="Open hours per weekday.")
    overrides: dict[str, list[HoursOut]] = Field(description="Dates with other hours.")
    saved: bool = Field(description="False: the default (weekdays 09:00-17:00).")
    updated_at: datetime | None = Field(description="When it was saved.")


class SchedulesOut(Outgoing):
    schedules: list[ScheduleOut] = Field(description="The schedules members saved.")


# -- bookings (members) ------------------------------------------------------------------------

BookingQuery = _model(
    "BookingQuery",
    __base__=QueryParams,
    __doc__="Filters of the bookings list.",
    **{
        "from": (
            datetime | None,
            Field(default=None, description="Bookings starting at or after this (ISO 8601)."),
        ),
        "to": (
            datetime | None,
            Field(default=None, description="Bookings starting before this (ISO 8601)."),
        ),
        "host_id": (
            str | None,
            Field(default=None, max_length=64, description="Only this host's (`me`: yours)."),
        ),
        "status": (
            BookingStatusName | None,
            Field(default=None, description="Only bookings with this status."),
        ),
        "cursor": (
            str | None,
            Field(default=None, max_length=4096, description="The previous page's cursor."),
        ),
        "limit": (int, Field(default=50, ge=1, le=100, description="Most bookings.")),
    },
)


class InviteeOut(Outgoing):
    name: str = Field(description="The invitee's name.")
    email: str = Field(description="The invitee's e-mail address.")
    time_zone: str = Field(description="The zone they booked in.")
    locale: str = Field(description="Their language (`en`, `fr`).")


class MeetingOut(Outgoing):
    provider: str = Field(description="`zoom` or `teams`.")
    join_url: str = Field(description="Where to join.")


class BookingOut(Outgoing):
    id: str = Field(description="The booking's id.")
    event_type_id: str = Field(description="Its event type's id.")
    event_type_slug: str = Field(description="Its event type's slug when booked.")
    title: str = Field(description="Its event type's title when booked.")
    host_ids: list[str] = Field(description="The attending hosts' user ids.")
    start: datetime = Field(description="Start (UTC).")
    end: datetime = Field(description="End (UTC).")
    buffer_before: int = Field(description="Minutes held before.")
    buffer_after: int = Field(description="Minutes held after.")
    invitee: InviteeOut = Field(description="Who booked.")
    answers: dict[str, str] = Field(description="Answers by question id.")
    status: BookingStatusName = Field(description="Its status.")
    location: LocationOut = Field(description="Where it takes place.")
    meeting: MeetingOut | None = Field(description="The online meeting, once made.")
    sequence: int = Field(description="Moves with every reschedule or cancellation.")
    contact_id: str | None = Field(description="The invitee's contact, once linked.")
    ticket_id: str | None = Field(description="The ticket it opened, if any.")
    cancel_reason: str = Field(description="Why it was cancelled or declined.")
    cancelled_by: str = Field(description="`invitee` or `user:<id>`.")
    rescheduled_from: datetime | None = Field(description="The start before the last move.")
    created_at: datetime | None = Field(description="When it was booked.")
    updated_at: datetime | None = Field(description="When it last changed.")


class BookingsOut(Outgoing):
    bookings: list[BookingOut] = Field(description="Bookings by start, earliest first.")
    next_cursor: str | None = Field(description="The next page's cursor, if any.")


class CancelIn(Incoming):
    reason: Reason = Field(default="", description="Told to the other side.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "I am ill, sorry."}]})


class HostRescheduleIn(Incoming):
    start: datetime = Field(description="The new start (ISO 8601 with offset): a free slot.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"start": "2025-03-14T09:30:00Z"}]})


# -- public ----------------------------------------------------------------------------------------


class PublicHostOut(Outgoing):
    name: str = Field(description="The host's name.")
    avatar_url: str | None = Field(description="The host's avatar, if any.")


class PublicEventTypeOut(Outgoing):
    slug: str = Field(description="The event type's slug.")
    title: str = Field(description="Its title.")
    description_html: str = Field(description="Its description, sanitised HTML.")
    durations: list[int] = Field(description="Minutes; the first is the default.")
    location_kind: LocationKindName = Field(description="Where the meeting takes place.")
    questions: list[QuestionOut] = Field(description="Asked beyond name and e-mail.")
    hosts: list[PublicHostOut] = Field(description="Who the invitee may meet.")
    requires_confirmation: bool = Field(description="A host confirms the booking.")
    minimum_notice: int = Field(description="Minutes between now and the earliest start.")
    horizon_days: int = Field(description="Days ahead one may book.")
    turnstile_site_key: str | None = Field(
        description="Cloudflare Turnstile's site key when bookings need a human check."
    )


class PublicWorkspaceOut(Outgoing):
    name: str = Field(description="The workspace's name.")
    slug: str = Field(description="Its slug.")
    logo_url: str | None = Field(description="Its help centre's logo, if any.")


class BookingPageOut(Outgoing):
    workspace: PublicWorkspaceOut = Field(description="Whose booking page it is.")
    locale: str = Field(description="The workspace's language.")
    event_types: list[PublicEventTypeOut] = Field(description="Its public, active event types.")


SlotsQuery = _model(
    "SlotsQuery",
    __base__=QueryParams,
    __doc__="The window of a slots request.",
    **{
        "from": (
            str | None,
            Field(
                default=None,
                max_length=40,
                description="Start: a date (local midnight in `time_zone`) or date and time; "
                "default: now.",
            ),
        ),
        "to": (
            str | None,
            Field(
                default=None,
                max_length=40,
                description="End: a date (included) or date and time; default: 7 days after "
                "`from`; at most 42 days after it.",
            ),
        ),
        "time_zone": (
            TimeZone,
            Field(default="UTC", description="The visitor's IANA zone (local rendering)."),
        ),
        "duration": (
            int | None,
            Field(default=None, ge=5, le=720, description="Minutes; default: the first one."),
        ),
    },
)


class SlotOut(Outgoing):
    start: str = Field(description="Start, UTC ISO 8601 (`Z`).")
    end: str = Field(description="End, UTC ISO 8601 (`Z`).")
    local_start: str = Field(description="Start in `time_zone`, ISO 8601 with offset.")
    local_date: str = Field(description="Its local date (`YYYY-MM-DD`).")
    local_time: str = Field(description="Its local time (`HH:MM`).")


class SlotsOut(Outgoing):
    time_zone: str = Field(description="The zone of the local renderings.")
    slots: list[SlotOut] = Field(description="Free slots, earliest first.")


class BookingIn(Incoming):
    start: datetime = Field(description="A slot's start (ISO 8601 with offset, e.g. `Z`).")
    time_zone: TimeZone = Field(description="The invitee's IANA zone.")
    name: str = Field(min_length=1, max_length=120, description="The invitee's name.")
    email: EmailStr = Field(description="The invitee's e-mail address.")
    answers: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=5000)]] = (
        Field(default_factory=dict, max_length=20, description="Answers by question id.")
    )
    duration: int | None = Field(
        default=None, ge=5, le=720, description="Minutes, one of the event type's."
    )
    locale: Literal["en", "fr"] | None = Field(
        default=None, description="The invitee's language; default: the workspace's."
    )
    human_token: str | None = Field(
        default=None, max_length=4096, description="Cloudflare Turnstile's token, when asked."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2025-03-14T09:30:00Z",
                    "time_zone": "Europe/Paris",
                    "name": "Carol Martin",
                    "email": "carol@customer.example",
                    "answers": {"company": "Globex"},
                    "locale": "fr",
                }
            ]
        }
    )


class PublicBookingOut(Outgoing):
    id: str = Field(description="The booking's id.")
    status: BookingStatusName = Field(description="Its status.")
    title: str = Field(description="What was booked.")
    event_type_slug: str = Field(description="The event type's slug.")
    start: str = Field(description="Start, UTC ISO 8601 (`Z`).")
    end: str = Field(description="End, UTC ISO 8601 (`Z`).")
    time_zone: str = Field(description="The invitee's zone.")
    local_start: str = Field(description="Start in the invitee's zone, with offset.")
    duration: int = Field(description="Minutes.")
    invitee_name: str = Field(description="The invitee's name.")
    invitee_email: str = Field(description="The invitee's e-mail address.")
    location_kind: LocationKindName = Field(description="Where the meeting takes place.")
    location_value: str = Field(description="The number, address or link, when set.")
    join_url: str | None = Field(description="The online meeting's link, once made.")
    hosts: list[PublicHostOut] = Field(description="Who the invitee meets.")
    cancel_reason: str = Field(description="Why it was cancelled or declined.")


class BookedOut(Outgoing):
    booking: PublicBookingOut = Field(description="The booking.")
    manage_url: str = Field(description="The invitee's link to reschedule or cancel.")


class ManageOut(Outgoing):
    booking: PublicBookingOut = Field(description="The booking.")
    workspace: PublicWorkspaceOut = Field(description="Whose booking it is.")
    can_change: bool = Field(description="The invitee may still reschedule or cancel it.")
    cancel_notice: int = Field(description="Minutes before start after which it cannot change.")


class ManageRescheduleIn(Incoming):
    start: datetime = Field(description="The new start: a slot's start.")
    time_zone: TimeZone = Field(description="The invitee's IANA zone.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start": "2025-03-14T10:30:00Z", "time_zone": "Europe/Paris"}]
        }
    )


ManageSlotsQuery = _model(
    "ManageSlotsQuery",
    __base__=QueryParams,
    __doc__="The window of a manage page's slots request.",
    **{
        name: (info.annotation, info)
        for name, info in SlotsQuery.model_fields.items()
        if name != "duration"
    },
)
