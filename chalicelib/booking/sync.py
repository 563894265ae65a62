"""The booking job: brings a booking's outside world up to date after a change.

Steps, each safe to run again: the Zoom meeting (created, moved or deleted), the hosts'
calendar events (written or removed; a Teams link comes back from the host's event), the
invitee's contact (found or created) and, when the event type asks, a ticket in the inbox;
what they made is recorded on the booking under its sequence (`record_outside`).  Then the
mails of the change (each queued once, by a deterministic id) and the reminders' due items.

A job for a sequence the booking has moved past does nothing (the newer job does it all);
a provider that fails raises, so the queue retries the job and finally dead-letters it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from chalicelib.accounts.model import Member, User, Workspace
from chalicelib.booking import notices
from chalicelib.booking.model import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    CalendarEventRef,
    EventType,
    LocationKind,
    Meeting,
    Schedule,
)
from chalicelib.booking.notices import BookingMail, Host, Notice, WorkspaceInfo
from chalicelib.booking.ports import BookingJob, HostCalendars, MeetingProvider
from chalicelib.booking.reminders import ReminderRun, ReminderStore, reminders_for, run_due
from chalicelib.clock import Clock
from chalicelib.observability import logger


class JobBookings(Protocol):
    """What the job reads and writes of the booking store (chalicelib/booking/store_port.py)."""

    def get_booking(self, workspace_id: str, booking_id: str) -> Booking | None: ...

    def get_event_type(self, workspace_id: str, event_type_id: str) -> EventType | None: ...

    def get_schedules(self, workspace_id: str, user_ids: list[str]) -> dict[str, Schedule]: ...

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
    ) -> bool: ...


class JobAccounts(Protocol):
    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def get_member(self, workspace_id: str, user_id: str) -> Member | None: ...

    def get_user(self, user_id: str) -> User | None: ...


class ContactBook(Protocol):
    def contact_for(self, workspace_id: str, email: str, name: str, language: str) -> str:
        """The id of the workspace's contact for `email`, created (and stored) if new."""


@dataclass(frozen=True)
class OpenedTicket:
    ticket_id: str
    contact_id: str


class BookingTickets(Protocol):
    def open_for(self, booking: Booking, subject: str, text: str) -> OpenedTicket:
        """Opens a ticket (channel booking, status new) with `text` as the invitee's first
        message; its requester is the invitee's contact (created if new)."""


class NoCalendars:
    """HostCalendars while no calendar can be connected: nothing is written anywhere."""

    def write_booking(self, booking: Booking, host_id: str) -> tuple[CalendarEventRef | None, str]:
        return None, ""

    def remove_booking(self, booking: Booking) -> None:
        return None


@dataclass(frozen=True)
class BookingMailDeps:
    """What mails and reminders need (the reminders schedule holds only these)."""

    store: JobBookings
    accounts: JobAccounts
    mail: BookingMail
    reminders: ReminderStore
    manage_url: Callable[[Booking], str]
    clock: Clock


@dataclass(frozen=True)
class SyncDeps:
    mails: BookingMailDeps
    calendars: HostCalendars
    contacts: ContactBook
    tickets: BookingTickets
    meetings: MeetingProvider | None = None  # None: this deployment has no Zoom app


@dataclass
class SyncOutcome:
    status: str  # "done" | "superseded" | "gone"
    steps: list[str] = field(default_factory=list)


class BookingNotCaughtUp(Exception):
    """The booking read is older than the job (a read before the change landed): retry."""


# -- who reads the mails --------------------------------------------------------------------


def workspace_info(accounts: JobAccounts, workspace_id: str) -> WorkspaceInfo:
    workspace = accounts.get_workspace(workspace_id)
    if workspace is None:
        return WorkspaceInfo(name="Helptal", customer_mail_enabled=False)
    return WorkspaceInfo(
        name=workspace.name,
        locale=workspace.locale,
        time_zone=workspace.timezone or "UTC",
        formality=workspace.formality,
        customer_mail_enabled=workspace.customer_mail_enabled,
    )


def hosts_of(deps: BookingMailDeps, booking: Booking, workspace: WorkspaceInfo) -> list[Host]:
    """The booking's hosts still in the workspace, each in their language and their
    schedule's zone (the workspace's when they saved none)."""
    schedules = deps.store.get_schedules(booking.workspace_id, list(booking.host_ids))
    hosts = []
    for user_id in booking.host_ids:
        member = deps.accounts.get_member(booking.workspace_id, user_id)
        if member is None:
            continue
        user = deps.accounts.get_user(user_id)
        schedule = schedules.get(user_id)
        hosts.append(
            Host(
                user_id=user_id,
                name=member.name,
                email=member.email,
                locale=(user.locale if user and user.locale else workspace.locale),
                time_zone=schedule.time_zone if schedule else workspace.time_zone,
            )
        )
    return hosts


def notice_of(
    deps: BookingMailDeps,
    booking: Booking,
    event_type: EventType | None,
    previous_start: datetime | None = None,
) -> Notice:
    workspace = workspace_info(deps.accounts, booking.workspace_id)
    return Notice(
        booking=booking,
        hosts=hosts_of(deps, booking, workspace),
        workspace=workspace,
        manage_url=deps.manage_url(booking),
        questions=list(event_type.questions) if event_type else [],
        previous_start=previous_start,
        reason=booking.cancel_reason,
    )


# -- the job --------------------------------------------------------------------------------


def mail_change(job: BookingJob, booking: Booking) -> str | None:
    """Which mails this job sends for the booking as it is now; None when the booking's
    state no longer matches the change (a later job of the same sequence tells it)."""
    status = booking.status
    if job.change == "created":
        if status is BookingStatus.PENDING:
            return "pending"
        return "created" if status is BookingStatus.CONFIRMED else None
    if job.change in ("confirmed", "rescheduled"):
        return job.change if status in ACTIVE_STATUSES else None
    if job.change == "cancelled":
        return "cancelled" if status is BookingStatus.CANCELLED else None
    if job.change == "declined":
        return "declined" if status is BookingStatus.DECLINED else None
    return None


@dataclass
class _Outside:
    meeting: Meeting | None
    calendar_events: list[CalendarEventRef]
    contact_id: str | None
    ticket_id: str | None


class _Superseded(Exception):
    pass


def _record(deps: SyncDeps, booking: Booking, outside: _Outside) -> Booking:
    recorded = deps.mails.store.record_outside(
        booking.workspace_id,
        booking.id,
        sequence=booking.sequence,
        meeting=outside.meeting,
        calendar_events=list(outside.calendar_events),
        contact_id=outside.contact_id,
        ticket_id=outside.ticket_id,
    )
    if not recorded:
        raise _Superseded()
    return replace(
        booking,
        meeting=outside.meeting,
        calendar_events=list(outside.calendar_events),
        contact_id=outside.contact_id,
        ticket_id=outside.ticket_id,
    )


def _minutes(booking: Booking) -> int:
    return int((booking.end - booking.start).total_seconds() // 60)


def _meeting_time_zone(notice: Notice) -> str:
    return notice.hosts[0].time_zone if notice.hosts else notice.workspace.time_zone


def _bring_meeting(
    deps: SyncDeps, booking: Booking, change: str, notice: Notice, steps: list[str]
) -> Meeting | None:
    """The Zoom meeting as the booking needs it now (other locations: as recorded)."""
    meeting = booking.meeting
    zoom = booking.location.kind is LocationKind.ZOOM and deps.meetings is not None
    if not zoom or deps.meetings is None:
        return meeting
    if booking.status is not BookingStatus.CONFIRMED:
        if meeting is not None and meeting.provider == "zoom":
            deps.meetings.delete_meeting(meeting.meeting_id)
            steps.append("meeting deleted")
            return None
        return meeting
    zone = _meeting_time_zone(notice)
    if meeting is None:
        host_email = notice.hosts[0].email if notice.hosts else ""
        steps.append("meeting created")
        return deps.meetings.create_meeting(
            booking.title, booking.start, _minutes(booking), zone, host_email
        )
    if change == "rescheduled":
        deps.meetings.update_meeting(
            meeting.meeting_id, booking.title, booking.start, _minutes(booking), zone
        )
        steps.append("meeting moved")
    return meeting


def _bring_calendars(
    deps: SyncDeps, booking: Booking, change: str, steps: list[str]
) -> tuple[list[CalendarEventRef], str]:
    """The hosts' calendar events as the booking needs them now, and a Teams join URL."""
    if booking.status is not BookingStatus.CONFIRMED:
        if booking.calendar_events:
            deps.calendars.remove_booking(booking)
            steps.append("calendar events removed")
        return [], ""
    if booking.calendar_events and change not in ("rescheduled",):
        return list(booking.calendar_events), ""  # written for this sequence already
    refs: list[CalendarEventRef] = []
    teams_url = ""
    for host_id in booking.host_ids:
        ref, join_url = deps.calendars.write_booking(booking, host_id)
        if ref is not None:
            refs.append(ref)
        teams_url = teams_url or join_url
    if refs:
        steps.append("calendar events written")
    return refs, teams_url


def bring_up_to_date(deps: SyncDeps, job: BookingJob) -> SyncOutcome:
    """Runs the job (see the module's docstring).  Writes: the booking's outside record,
    maybe a contact and a ticket, queued mails, reminder items; calls Zoom and the hosts'
    calendars.  Raises what a provider raises (the queue retries)."""
    store = deps.mails.store
    booking = store.get_booking(job.workspace_id, job.booking_id)
    if booking is None:
        return SyncOutcome("gone")
    if booking.sequence > job.sequence:
        return SyncOutcome("superseded")
    if booking.sequence < job.sequence:
        raise BookingNotCaughtUp(f"booking at sequence {booking.sequence}, job {job.sequence}")
    event_type = store.get_event_type(booking.workspace_id, booking.event_type_id)
    previous = datetime.fromisoformat(job.previous_start) if job.previous_start else None
    outcome = SyncOutcome("done")
    try:
        booking = _bring_outside(deps, booking, event_type, job.change, outcome.steps)
    except _Superseded:
        return SyncOutcome("superseded", outcome.steps)
    notice = notice_of(deps.mails, booking, event_type, previous)
    change = mail_change(job, booking)
    now = deps.mails.clock.now()
    if change is not None:
        for mail in notices.change_mails(notice, change, now):
            if deps.mails.mail.send_once(mail):
                outcome.steps.append(f"mail {mail.mail_id}")
    if event_type is not None:
        due = reminders_for(booking, event_type, now)
        if due:
            deps.mails.reminders.schedule(due)
            outcome.steps.append(f"{len(due)} reminders")
    return outcome


def _bring_outside(
    deps: SyncDeps, booking: Booking, event_type: EventType | None, change: str, steps: list[str]
) -> Booking:
    workspace = workspace_info(deps.mails.accounts, booking.workspace_id)
    notice = Notice(
        booking=booking,
        hosts=hosts_of(deps.mails, booking, workspace),
        workspace=workspace,
        manage_url="",
    )
    outside = _Outside(
        booking.meeting, list(booking.calendar_events), booking.contact_id, booking.ticket_id
    )
    # The meeting first: its join URL goes into the calendar events.
    meeting = _bring_meeting(deps, booking, change, notice, steps)
    if meeting != outside.meeting:
        outside.meeting = meeting
        booking = _record(deps, booking, outside)
    refs, teams_url = _bring_calendars(deps, booking, change, steps)
    teams = (
        Meeting(provider="teams", meeting_id=refs[0].event_id if refs else "", join_url=teams_url)
        if teams_url and booking.location.kind is LocationKind.TEAMS
        else None
    )
    if booking.status is not BookingStatus.CONFIRMED and (
        outside.meeting is not None and outside.meeting.provider == "teams"
    ):
        outside.meeting = None  # the Teams meeting went with the host's event
    if teams is not None:
        outside.meeting = teams
    if refs != outside.calendar_events or outside.meeting != booking.meeting:
        outside.calendar_events = refs
        booking = _record(deps, booking, outside)
    # The invitee's contact, and the ticket the event type asks for.
    if (
        event_type is not None
        and event_type.opens_ticket
        and outside.ticket_id is None
        and booking.status in ACTIVE_STATUSES
    ):
        text_notice = replace(notice, booking=booking, questions=list(event_type.questions))
        opened = deps.tickets.open_for(
            booking,
            notices.ticket_subject(text_notice, workspace.locale),
            notices.answers_text(text_notice, workspace.locale),
        )
        outside.ticket_id, outside.contact_id = opened.ticket_id, opened.contact_id
        steps.append("ticket opened")
        booking = _record(deps, booking, outside)
    if outside.contact_id is None:
        invitee = booking.invitee
        outside.contact_id = deps.contacts.contact_for(
            booking.workspace_id, invitee.email, invitee.name, invitee.locale
        )
        steps.append("contact linked")
        booking = _record(deps, booking, outside)
    if steps:
        logger.info("booking brought up to date", extra={"steps": steps})
    return booking


# -- the reminders schedule -----------------------------------------------------------------


def send_due_reminders(
    deps: BookingMailDeps, now: datetime, keep_going: Callable[[], bool] = lambda: True
) -> ReminderRun:
    """Mails every reminder due in the last hours up to `now`, once (reminders.run_due)."""

    def booking_of(workspace_id: str, booking_id: str) -> Booking | None:
        return deps.store.get_booking(workspace_id, booking_id)

    def send(booking: Booking, minutes: int, at: datetime) -> None:
        event_type = deps.store.get_event_type(booking.workspace_id, booking.event_type_id)
        for mail in notices.reminder_mails(notice_of(deps, booking, event_type), minutes, at):
            deps.mail.send_once(mail)

    return run_due(deps.reminders, booking_of, send, now, keep_going)
