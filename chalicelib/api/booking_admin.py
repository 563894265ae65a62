"""Booking for members: event types (owners and admins write, members read), schedules
(each member their own; owners and admins anyone's) and bookings (hosts, owners and admins
cancel, move, confirm or decline them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        BookingOut,
        BookingsOut,
        CancelIn,
        EventTypeIn,
        EventTypeOut,
        EventTypesOut,
        HostRescheduleIn,
        ScheduleIn,
        ScheduleOut,
        SchedulesOut,
    )
    from chalicelib.booking.model import Booking, EventType, Hours, Schedule

schemas = lazy_module("chalicelib.api.schemas")
event_types = lazy_module("chalicelib.booking.event_types")
schedules = lazy_module("chalicelib.booking.schedules")
bookings = lazy_module("chalicelib.booking.bookings")
model = lazy_module("chalicelib.booking.model")
store_port = lazy_module("chalicelib.booking.store_port")
bp = Blueprint(__name__)

TAG = "booking"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- event types ---------------------------------------------------------------------------------


def event_type_out(event_type: EventType, workspace_slug: str) -> EventTypeOut:
    base = bootstrap.booking_deps().policy.public_base_url.rstrip("/")
    return schemas.EventTypeOut(
        id=event_type.id,
        slug=event_type.slug,
        title=event_type.title,
        description=event_type.description,
        description_html=event_type.description_html,
        durations=event_type.durations,
        location={"kind": event_type.location.kind.value, "value": event_type.location.value},
        host_mode=event_type.host_mode.value,
        host_ids=event_type.host_ids,
        time_zone=event_type.time_zone,
        buffer_before=event_type.buffer_before,
        buffer_after=event_type.buffer_after,
        minimum_notice=event_type.minimum_notice,
        horizon_days=event_type.horizon_days,
        slot_step=event_type.slot_step,
        daily_cap=event_type.daily_cap,
        weekly_cap=event_type.weekly_cap,
        questions=[
            {
                "id": q.id,
                "label": q.label,
                "kind": q.kind.value,
                "required": q.required,
                "options": q.options,
            }
            for q in event_type.questions
        ],
        requires_confirmation=event_type.requires_confirmation,
        public=event_type.public,
        active=event_type.active,
        reminders=event_type.reminders,
        opens_ticket=event_type.opens_ticket,
        cancel_notice=event_type.cancel_notice,
        booking_url=f"{base}/book/{workspace_slug}/{event_type.slug}",
        created_at=event_type.created_at,
        updated_at=event_type.updated_at,
        version=event_type.version,
    )


def _domain_values(sent: dict[str, Any]) -> dict[str, Any]:
    """A body's fields as the domain's values (enums, Location, Question)."""
    values = dict(sent)
    if values.get("location") is not None:
        location = values["location"]
        values["location"] = model.Location(model.LocationKind(location["kind"]), location["value"])
    if values.get("host_mode") is not None:
        values["host_mode"] = model.HostMode(values["host_mode"])
    if values.get("questions") is not None:
        values["questions"] = [
            model.Question(
                id=q["id"],
                label=q["label"].strip(),
                kind=model.QuestionKind(q["kind"]),
                required=q["required"],
                options=[o.strip() for o in q["options"]],
            )
            for q in values["questions"]
        ]
    return values


def _workspace_slug(call: Call) -> str:
    return call.workspace(bootstrap.account_deps().store).slug


@operation(
    bp,
    "GET",
    "/v1/booking/event-types",
    summary="The workspace's booking event types",
    tag=TAG,
    response="EventTypesOut",
    errors=(401,),
)
def list_event_types(call: Call) -> EventTypesOut:
    deps = bootstrap.booking_deps()
    slug = _workspace_slug(call)
    found = event_types.list_event_types(deps, call.member.workspace_id)
    return schemas.EventTypesOut(event_types=[event_type_out(e, slug) for e in found])


@operation(
    bp,
    "POST",
    "/v1/booking/event-types",
    gate=Feature.BOOKING,
    summary="Create a booking event type",
    tag=TAG,
    body="EventTypeIn",
    response="EventTypeOut",
    status=201,
    roles=MANAGERS,
    errors=(400, 401, 403, 409, 422),
    description="Durations, buffers, notice and step are multiples of 5 minutes; hosts are "
    "members (one for `one`); 409 `slug_taken` when another event type has the slug.",
)
def create_event_type(call: Call) -> EventTypeOut:
    body: EventTypeIn = call.body
    values = _domain_values(body.model_dump())
    draft = event_types.EventTypeDraft(**values)
    created = event_types.create_event_type(
        bootstrap.booking_deps(), call.member.workspace_id, draft
    )
    return event_type_out(created, _workspace_slug(call))


@operation(
    bp,
    "GET",
    "/v1/booking/event-types/{event_type_id}",
    summary="A booking event type",
    tag=TAG,
    response="EventTypeOut",
    errors=(401, 404),
)
def get_event_type(call: Call) -> EventTypeOut:
    found = event_types.get_event_type(
        bootstrap.booking_deps(), call.member.workspace_id, call.params["event_type_id"]
    )
    return event_type_out(found, _workspace_slug(call))


@operation(
    bp,
    "PATCH",
    "/v1/booking/event-types/{event_type_id}",
    gate=Feature.BOOKING,
    summary="Change a booking event type (the fields sent)",
    tag=TAG,
    body="EventTypePatchIn",
    response="EventTypeOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 404, 409, 422),
)
def patch_event_type(call: Call) -> EventTypeOut:
    # Whole values of the fields sent: a question or location sent without its optional
    # fields gets their defaults, as on create.
    sent = {k: v for k, v in call.body.model_dump().items() if k in call.body.model_fields_set}
    nullable = {"daily_cap", "weekly_cap"}
    changes = {k: v for k, v in sent.items() if v is not None or k in nullable}
    updated = event_types.update_event_type(
        bootstrap.booking_deps(),
        call.member.workspace_id,
        call.params["event_type_id"],
        _domain_values(changes),
    )
    return event_type_out(updated, _workspace_slug(call))


@operation(
    bp,
    "DELETE",
    "/v1/booking/event-types/{event_type_id}",
    summary="Delete a booking event type (its bookings stay)",
    tag=TAG,
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404, 409),
)
def delete_event_type(call: Call) -> None:
    event_types.delete_event_type(
        bootstrap.booking_deps(), call.member.workspace_id, call.params["event_type_id"]
    )


# -- schedules -----------------------------------------------------------------------------------


def _clock(moment: time, *, end: bool) -> str:
    return "24:00" if end and moment == time(0, 0) else moment.strftime("%H:%M")


def _hours_out(hours: list[Hours]) -> list[dict[str, str]]:
    return [{"start": _clock(h.start, end=False), "end": _clock(h.end, end=True)} for h in hours]


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return schemas.ScheduleOut(
        user_id=schedule.user_id,
        time_zone=schedule.time_zone,
        weekly={WEEKDAYS[day]: _hours_out(h) for day, h in sorted(schedule.weekly.items())},
        overrides={d.isoformat(): _hours_out(h) for d, h in sorted(schedule.overrides.items())},
        saved=schedule.updated_at is not None,
        updated_at=schedule.updated_at,
    )


def _hours_in(spans: list[Any], where: str) -> list[Hours]:
    """Spans as the domain's hours: `24:00` ends a day (midnight), it starts none."""
    from chalicelib.errors import ValidationFailed

    def parsed(text: str) -> time:
        return time(0, 0) if text == "24:00" else time.fromisoformat(text)

    starting = [i for i, s in enumerate(spans) if s.start == "24:00"]
    if starting:
        raise ValidationFailed(
            "A span cannot start at 24:00.",
            details=[
                {"field": f"{where}.{i}.start", "message": "00:00 to 23:55"} for i in starting
            ],
        )
    return [model.Hours(parsed(s.start), parsed(s.end)) for s in spans]


def _override_date(text: str) -> date:
    """A date written `YYYY-MM-DD` (only: `20250101` or `2025-W01-1` would name the same
    day twice)."""
    import re

    from chalicelib.errors import ValidationFailed

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValidationFailed(
            f"Invalid override date {text[:40]!r}.",
            details=[{"field": f"overrides.{text[:40]}", "message": "a date, YYYY-MM-DD"}],
        ) from e


@operation(
    bp,
    "GET",
    "/v1/booking/schedules",
    summary="The availability schedules members saved",
    tag=TAG,
    response="SchedulesOut",
    errors=(401,),
)
def list_schedules(call: Call) -> SchedulesOut:
    found = schedules.list_schedules(bootstrap.booking_deps(), call.member.workspace_id)
    return schemas.SchedulesOut(schedules=[schedule_out(s) for s in found])


@operation(
    bp,
    "GET",
    "/v1/booking/schedules/{user_id}",
    summary="A member's availability schedule (`me`: yours); the default when none is saved",
    tag=TAG,
    response="ScheduleOut",
    errors=(401, 404),
)
def get_schedule(call: Call) -> ScheduleOut:
    return schedule_out(
        schedules.get_schedule(bootstrap.booking_deps(), call.member, call.params["user_id"])
    )


@operation(
    bp,
    "PUT",
    "/v1/booking/schedules/{user_id}",
    gate=Feature.BOOKING,
    summary="Replace a member's availability schedule (`me`: yours)",
    tag=TAG,
    body="ScheduleIn",
    response="ScheduleOut",
    errors=(400, 401, 403, 404, 422),
    description="Members change their own; owners and admins anyone's (403 otherwise). "
    "Times are `HH:MM` in 5-minute steps, in the schedule's zone.",
)
def put_schedule(call: Call) -> ScheduleOut:
    body: ScheduleIn = call.body
    overrides: dict[date, list[Hours]] = {}
    for text, spans in body.overrides.items():
        overrides[_override_date(text)] = _hours_in(spans, f"overrides.{text}")
    saved = schedules.save_schedule(
        bootstrap.booking_deps(),
        call.member,
        call.params["user_id"],
        body.time_zone,
        {
            WEEKDAYS.index(day): _hours_in(spans, f"weekly.{day}")
            for day, spans in body.weekly.items()
        },
        overrides,
    )
    return schedule_out(saved)


# -- bookings --------------------------------------------------------------------------------------


def booking_out(booking: Booking) -> BookingOut:
    return schemas.BookingOut(
        id=booking.id,
        event_type_id=booking.event_type_id,
        event_type_slug=booking.event_type_slug,
        title=booking.title,
        host_ids=booking.host_ids,
        start=booking.start,
        end=booking.end,
        buffer_before=booking.buffer_before,
        buffer_after=booking.buffer_after,
        invitee={
            "name": booking.invitee.name,
            "email": booking.invitee.email,
            "time_zone": booking.invitee.time_zone,
            "locale": booking.invitee.locale,
        },
        answers=booking.answers,
        status=booking.status.value,
        location={"kind": booking.location.kind.value, "value": booking.location.value},
        meeting=(
            {"provider": booking.meeting.provider, "join_url": booking.meeting.join_url}
            if booking.meeting
            else None
        ),
        sequence=booking.sequence,
        contact_id=booking.contact_id,
        ticket_id=booking.ticket_id,
        cancel_reason=booking.cancel_reason,
        cancelled_by=booking.cancelled_by,
        rescheduled_from=booking.rescheduled_from,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
    )


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """A filter's time in UTC (without an offset: UTC); 422 for one UTC cannot hold."""
    from chalicelib.errors import ValidationFailed

    if moment is None:
        return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as e:
        raise ValidationFailed(
            f"Invalid {name}.",
            details=[{"field": name, "message": "a time between years 1 and 9999"}],
        ) from e


@operation(
    bp,
    "GET",
    "/v1/booking/bookings",
    summary="Bookings by start time, with filters",
    tag=TAG,
    query="BookingQuery",
    response="BookingsOut",
    errors=(400, 401, 422),
)
def list_bookings(call: Call) -> BookingsOut:
    query = call.query
    wanted = store_port.BookingFilter(
        starts_from=_utc(getattr(query, "from"), "from"),
        starts_before=_utc(query.to, "to"),
        host_id=query.host_id,
        status=model.BookingStatus(query.status) if query.status else None,
    )
    page = bookings.list_bookings(
        bootstrap.booking_deps(), call.member, wanted, query.cursor, query.limit
    )
    return schemas.BookingsOut(
        bookings=[booking_out(b) for b in page.entries], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "GET",
    "/v1/booking/bookings/{booking_id}",
    summary="A booking",
    tag=TAG,
    response="BookingOut",
    errors=(401, 404),
)
def get_booking(call: Call) -> BookingOut:
    return booking_out(
        bookings.get_booking(
            bootstrap.booking_deps(), call.member.workspace_id, call.params["booking_id"]
        )
    )


@operation(
    bp,
    "POST",
    "/v1/booking/bookings/{booking_id}/cancel",
    summary="Cancel a booking (its hosts, owners and admins)",
    tag=TAG,
    body="CancelIn",
    response="BookingOut",
    errors=(400, 401, 403, 404, 409, 422),
)
def cancel_booking(call: Call) -> BookingOut:
    body: CancelIn = call.body
    return booking_out(
        bookings.host_cancel(
            bootstrap.booking_deps(), call.member, call.params["booking_id"], body.reason
        )
    )


@operation(
    bp,
    "POST",
    "/v1/booking/bookings/{booking_id}/reschedule",
    summary="Move a booking to another free time (its hosts, owners and admins)",
    tag=TAG,
    body="HostRescheduleIn",
    response="BookingOut",
    errors=(400, 401, 403, 404, 409, 422),
    description="The new start must be a slot of its event type (the booking's own time "
    "counts as free); 409 `slot_taken` otherwise.",
)
def reschedule_booking(call: Call) -> BookingOut:
    body: HostRescheduleIn = call.body
    return booking_out(
        bookings.host_reschedule(
            bootstrap.booking_deps(), call.member, call.params["booking_id"], body.start
        )
    )


@operation(
    bp,
    "POST",
    "/v1/booking/bookings/{booking_id}/confirm",
    summary="Confirm a booking waiting for confirmation",
    tag=TAG,
    response="BookingOut",
    errors=(401, 403, 404, 409),
)
def confirm_booking(call: Call) -> BookingOut:
    return booking_out(
        bookings.confirm(bootstrap.booking_deps(), call.member, call.params["booking_id"])
    )


@operation(
    bp,
    "POST",
    "/v1/booking/bookings/{booking_id}/decline",
    summary="Decline a booking waiting for confirmation (its time is freed)",
    tag=TAG,
    body="CancelIn",
    response="BookingOut",
    errors=(400, 401, 403, 404, 409, 422),
)
def decline_booking(call: Call) -> BookingOut:
    body: CancelIn = call.body
    return booking_out(
        bookings.decline(
            bootstrap.booking_deps(), call.member, call.params["booking_id"], body.reason
        )
    )
