"""The public booking API (no login): a workspace's booking page, an event type's free
slots, booking one, and the invitee's manage link (see, move, cancel).  Answers show hosts
by name and avatar only: never a member's e-mail or id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.model import Workspace
    from chalicelib.api.schemas import (
        BookedOut,
        BookingIn,
        BookingPageOut,
        CancelIn,
        ManageOut,
        ManageRescheduleIn,
        PublicBookingOut,
        PublicEventTypeOut,
        PublicHostOut,
        PublicWorkspaceOut,
        SlotsOut,
    )
    from chalicelib.booking.deps import BookingDeps
    from chalicelib.booking.model import Booking, EventType
    from chalicelib.booking.slots import Slot

schemas = lazy_module("chalicelib.api.schemas")
availability = lazy_module("chalicelib.booking.availability")
bookings = lazy_module("chalicelib.booking.bookings")
bp = Blueprint(__name__)

TAG = "booking-public"
PAGE = "/v1/booking/{workspace_slug}"
EVENT_TYPE = PAGE + "/{event_type_slug}"
MANAGE = "/v1/booking/manage/{manage_token}"


def _visitor_ip(call: Call) -> str:
    identity = (call.request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hosts_out(deps: BookingDeps, workspace_id: str, host_ids: list[str]) -> list[PublicHostOut]:
    """Names and avatars of the hosts still in the workspace (two GetItems each)."""
    from chalicelib.accounts.profile import avatar_url

    found = []
    for host_id in host_ids:
        member = deps.accounts.get_member(workspace_id, host_id)
        if member is None:
            continue
        user = deps.accounts.get_user(host_id)
        avatar = avatar_url(deps.policy.public_base_url, user) if user is not None else None
        found.append(schemas.PublicHostOut(name=member.name, avatar_url=avatar))
    return found


def public_event_type_out(deps: BookingDeps, event_type: EventType) -> PublicEventTypeOut:
    return schemas.PublicEventTypeOut(
        slug=event_type.slug,
        title=event_type.title,
        description_html=event_type.description_html,
        durations=event_type.durations,
        location_kind=event_type.location.kind.value,
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
        hosts=hosts_out(deps, event_type.workspace_id, event_type.host_ids),
        requires_confirmation=event_type.requires_confirmation,
        minimum_notice=event_type.minimum_notice,
        horizon_days=event_type.horizon_days,
        turnstile_site_key=deps.policy.turnstile_site_key or None,
    )


def workspace_out(deps: BookingDeps, workspace: Workspace) -> PublicWorkspaceOut:
    return schemas.PublicWorkspaceOut(
        name=workspace.name, slug=workspace.slug, logo_url=deps.site(workspace.id).logo_url
    )


def public_booking_out(deps: BookingDeps, booking: Booking) -> PublicBookingOut:
    local_start, _, _ = availability.local_rendering(_as_slot(booking), booking.invitee.time_zone)
    shown_location = booking.location.value if booking.location.kind.value != "zoom" else ""
    return schemas.PublicBookingOut(
        id=booking.id,
        status=booking.status.value,
        title=booking.title,
        event_type_slug=booking.event_type_slug,
        start=_utc(booking.start),
        end=_utc(booking.end),
        time_zone=booking.invitee.time_zone,
        local_start=local_start,
        duration=int((booking.end - booking.start).total_seconds() // 60),
        invitee_name=booking.invitee.name,
        invitee_email=booking.invitee.email,
        location_kind=booking.location.kind.value,
        location_value=shown_location,
        join_url=booking.meeting.join_url if booking.meeting else None,
        hosts=hosts_out(deps, booking.workspace_id, booking.host_ids),
        cancel_reason=booking.cancel_reason,
    )


def _as_slot(booking: Booking) -> Slot:
    from chalicelib.booking.slots import Slot

    return Slot(booking.start, booking.end, tuple(booking.host_ids))


def slots_out(found: list[Slot], time_zone: str) -> SlotsOut:
    shown = []
    for slot in found:
        local_start, local_date, local_time = availability.local_rendering(slot, time_zone)
        shown.append(
            {
                "start": _utc(slot.start),
                "end": _utc(slot.end),
                "local_start": local_start,
                "local_date": local_date,
                "local_time": local_time,
            }
        )
    return schemas.SlotsOut(time_zone=time_zone, slots=shown)


# -- the booking page ------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    PAGE,
    summary="A workspace's booking page: its public, active event types",
    tag=TAG,
    response="BookingPageOut",
    auth=False,
    errors=(404,),
)
def booking_page(call: Call) -> BookingPageOut:
    deps = bootstrap.booking_deps()
    workspace, listed = availability.public_event_types(deps, call.params["workspace_slug"])
    return schemas.BookingPageOut(
        workspace=workspace_out(deps, workspace),
        locale=workspace.locale,
        event_types=[public_event_type_out(deps, e) for e in listed],
    )


@operation(
    bp,
    "GET",
    EVENT_TYPE,
    summary="An event type's booking page (public or unlisted, active)",
    tag=TAG,
    response="PublicEventTypeOut",
    auth=False,
    errors=(404,),
)
def public_event_type(call: Call) -> PublicEventTypeOut:
    deps = bootstrap.booking_deps()
    found = availability.bookable(
        deps, call.params["workspace_slug"], call.params["event_type_slug"]
    )
    return public_event_type_out(deps, found.event_type)


@operation(
    bp,
    "GET",
    EVENT_TYPE + "/slots",
    summary="An event type's free slots in a window (at most 42 days)",
    tag=TAG,
    query="SlotsQuery",
    response="SlotsOut",
    auth=False,
    errors=(404, 422),
    description="Starts and ends in UTC (`Z`), each with its rendering in `time_zone`. "
    "A bounded number of reads whatever the window: the hosts' schedules (one batch), one "
    "ledger query per host, the caps' counters (one query) and the hosts' calendars.",
)
def public_slots(call: Call) -> SlotsOut:
    deps = bootstrap.booking_deps()
    query = call.query
    found = availability.bookable(
        deps, call.params["workspace_slug"], call.params["event_type_slug"]
    )
    window = availability.slots_window(
        getattr(query, "from"),
        query.to,
        query.time_zone,
        deps.clock.now(),
        deps.policy.max_window_days,
    )
    offered = availability.offered_slots(deps, found, window, query.duration)
    return slots_out(offered, query.time_zone)


@operation(
    bp,
    "POST",
    EVENT_TYPE + "/bookings",
    summary="Book a slot",
    tag=TAG,
    body="BookingIn",
    response="BookedOut",
    status=201,
    auth=False,
    errors=(400, 403, 404, 409, 422, 429),
    description="409 `slot_taken` when the time was taken meanwhile (or is no slot); 422 "
    "for answers that do not fit the questions; 429 past 10 bookings an hour from one "
    "address; 403 `human_check_failed` when Turnstile is on and refuses `human_token`.",
)
def create_booking(call: Call) -> BookedOut:
    deps = bootstrap.booking_deps()
    body: BookingIn = call.body
    workspace_slug = call.params["workspace_slug"]
    request = bookings.BookingRequest(
        start=body.start,
        time_zone=body.time_zone,
        name=body.name,
        email=body.email,
        answers=dict(body.answers),
        duration=body.duration,
        locale=body.locale or _workspace_locale(deps, workspace_slug),
    )
    booking, manage_url = bookings.book(
        deps,
        workspace_slug,
        call.params["event_type_slug"],
        request,
        visitor_ip=_visitor_ip(call),
        human_token=body.human_token,
    )
    return schemas.BookedOut(booking=public_booking_out(deps, booking), manage_url=manage_url)


def _workspace_locale(deps: BookingDeps, workspace_slug: str) -> str:
    workspace = deps.accounts.find_workspace_by_slug(workspace_slug)
    return workspace.locale if workspace is not None else "en"


# -- the invitee's manage link ----------------------------------------------------------------


def _manage_out(deps: BookingDeps, booking: Booking) -> ManageOut:
    view = bookings.manage_view(deps, booking)
    return schemas.ManageOut(
        booking=public_booking_out(deps, view.booking),
        workspace=workspace_out(deps, view.workspace),
        can_change=view.can_change,
        cancel_notice=view.cancel_notice,
    )


@operation(
    bp,
    "GET",
    MANAGE,
    summary="The booking a manage link names",
    tag=TAG,
    response="ManageOut",
    auth=False,
    errors=(404, 410),
    description="404 `manage_link_invalid` for a forged or unknown link; 410 "
    "`booking_ended` once the booking has ended.",
)
def manage_booking(call: Call) -> ManageOut:
    deps = bootstrap.booking_deps()
    return _manage_out(deps, bookings.booking_of_token(deps, call.params["manage_token"]))


@operation(
    bp,
    "GET",
    MANAGE + "/slots",
    summary="Free slots to move the booking to (its own time counts as free)",
    tag=TAG,
    query="ManageSlotsQuery",
    response="SlotsOut",
    auth=False,
    errors=(404, 409, 410, 422),
)
def manage_slots(call: Call) -> SlotsOut:
    deps = bootstrap.booking_deps()
    query = call.query
    booking = bookings.booking_of_token(deps, call.params["manage_token"])
    window = availability.slots_window(
        getattr(query, "from"),
        query.to,
        query.time_zone,
        deps.clock.now(),
        deps.policy.max_window_days,
    )
    offered = bookings.slots_to_move(deps, booking, window)
    return slots_out(offered, query.time_zone)


@operation(
    bp,
    "POST",
    MANAGE + "/reschedule",
    summary="Move the booking to another slot",
    tag=TAG,
    body="ManageRescheduleIn",
    response="ManageOut",
    auth=False,
    errors=(400, 404, 409, 410, 422),
    description="409 `slot_taken` when the time is not free, `too_late_to_change` inside "
    "the event type's cancellation notice, `booking_not_active` once cancelled.",
)
def manage_reschedule(call: Call) -> ManageOut:
    deps = bootstrap.booking_deps()
    body: ManageRescheduleIn = call.body
    moved = bookings.invitee_reschedule(
        deps, call.params["manage_token"], body.start, body.time_zone
    )
    return _manage_out(deps, moved)


@operation(
    bp,
    "POST",
    MANAGE + "/cancel",
    summary="Cancel the booking",
    tag=TAG,
    body="CancelIn",
    response="ManageOut",
    auth=False,
    errors=(400, 404, 409, 410, 422),
    description="409 `too_late_to_change` inside the event type's cancellation notice, "
    "`booking_not_active` once cancelled.",
)
def manage_cancel(call: Call) -> ManageOut:
    deps = bootstrap.booking_deps()
    body: CancelIn = call.body
    cancelled = bookings.invitee_cancel(deps, call.params["manage_token"], body.reason)
    return _manage_out(deps, cancelled)
