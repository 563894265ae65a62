"""Bookings: an invitee takes a slot; the invitee (by their manage link) or a host moves or
cancels it; a host confirms or declines one that waits for confirmation.

Every change is one transaction of the store (the booking, the hosts' ledger days it touches
under the versions read, the event type's counters under its caps).  A lost race reads
again and re-checks, a bounded number of times; a slot really taken meanwhile is 409
`slot_taken`.  Once committed, a `BookingJob` is queued to bring calendars, the meeting and
the mails up to date; the same transaction writes it as due, so that a job whose queueing is
lost is queued again (chalicelib/booking/job_outbox.py)."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.accounts.model import MANAGERS, Page, Principal, Workspace
from chalicelib.booking import manage_links, slots
from chalicelib.booking.availability import (
    Bookable,
    bookable,
    discounted,
    fixed_mode,
    host_state,
    read_ledger,
    utc_days,
)
from chalicelib.booking.deps import BookingDeps
from chalicelib.booking.job_outbox import with_due
from chalicelib.booking.model import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    EventType,
    HostMode,
    Invitee,
    QuestionKind,
)
from chalicelib.booking.ports import BookingJob, Interval
from chalicelib.booking.store_port import (
    BookingCommit,
    BookingFilter,
    BookingRaced,
    CapChange,
    HeldSpan,
    LedgerDay,
    LedgerWrite,
)
from chalicelib.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from chalicelib.ids import new_id
from chalicelib.observability import logger

MAX_ANSWER_CHARS = {QuestionKind.LONG_TEXT: 5000, QuestionKind.PHONE: 40}
DEFAULT_ANSWER_CHARS = 500
JITTER_SECONDS = 0.01
MAX_JITTER_SECONDS = 0.25
RATE_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class BookingRequest:
    start: datetime
    time_zone: str  # the invitee's IANA zone
    name: str
    email: str
    answers: dict[str, str]
    duration: int | None = None
    locale: str = "en"


# -- errors ----------------------------------------------------------------------------------


def slot_taken() -> Conflict:
    return Conflict("This time is no longer available; pick another.", code="slot_taken")


def booking_not_found() -> NotFound:
    return NotFound("No booking has this id.", code="booking_not_found")


def _not_active() -> Conflict:
    return Conflict("This booking was cancelled or declined.", code="booking_not_active")


# -- starts ------------------------------------------------------------------------------------


def _start_problem(start: datetime) -> str | None:
    """Why `start` cannot be a meeting's start at all: no offset, or outside the years 1 to
    9999 once in UTC."""
    if start.tzinfo is None:
        return "a time with its offset (or Z)"
    try:
        start.astimezone(UTC)
    except OverflowError:
        return "a time in the years 1 to 9999"
    return None


def _checked_start(start: datetime) -> datetime:
    """`start` in UTC; 422 naming `start` when it has no offset or is out of range."""
    problem = _start_problem(start)
    if problem is not None:
        raise ValidationFailed(
            f"Invalid start: {problem}.", details=[{"field": "start", "message": problem}]
        )
    return start.astimezone(UTC)


def _reachable(event_type: EventType, start: datetime, now: datetime) -> bool:
    """`start` lies where the event type takes bookings at all, [now, now + horizon) (the
    slot engine checks the rest; this keeps absurd times out of the arithmetic)."""
    return now <= start < now + timedelta(days=event_type.horizon_days)


# -- answers -----------------------------------------------------------------------------------


def check_answers(event_type: EventType, answers: dict[str, str]) -> dict[str, str]:
    """The answers, trimmed, for the event type's questions: 422 naming each unknown
    question, missing required answer, choice not offered or answer too long."""
    problems: list[dict[str, str]] = []
    questions = {q.id: q for q in event_type.questions}
    for key in answers:
        if key not in questions:
            problems.append({"field": f"answers.{key}", "message": "no such question"})
    kept: dict[str, str] = {}
    for question in event_type.questions:
        answer = (answers.get(question.id) or "").strip()
        where = f"answers.{question.id}"
        if not answer:
            if question.required:
                problems.append({"field": where, "message": "an answer is required"})
            continue
        limit = MAX_ANSWER_CHARS.get(question.kind, DEFAULT_ANSWER_CHARS)
        if len(answer) > limit:
            problems.append({"field": where, "message": f"at most {limit} characters"})
        if question.kind is QuestionKind.CHOICE and answer not in question.options:
            problems.append({"field": where, "message": "not one of the options"})
        kept[question.id] = answer
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise ValidationFailed(f"Invalid answers: {summary}", details=problems)
    return kept


# -- the transaction's parts ------------------------------------------------------------------


def _span_of(booking: Booking) -> HeldSpan:
    return HeldSpan(
        int(booking.held_start.timestamp()), int(booking.held_end.timestamp()), booking.id
    )


def _touched(booking: Booking | None) -> set[tuple[str, date]]:
    if booking is None or booking.status not in ACTIVE_STATUSES:
        return set()
    return {
        (host_id, day)
        for host_id in booking.host_ids
        for day in utc_days(booking.held_start, booking.held_end)
    }


def ledger_writes(
    ledger: dict[tuple[str, date], LedgerDay], before: Booking | None, after: Booking
) -> list[LedgerWrite]:
    """The ledger days to rewrite so that they hold `after`'s span (when active) instead of
    `before`'s."""
    if (
        before is not None
        and _touched(before)
        and _touched(after)
        and before.host_ids == after.host_ids
        and _span_of(before) == _span_of(after)
    ):
        return []  # the same time held (a confirmation)
    held = _touched(after)
    writes = []
    for host_id, day in sorted(_touched(before) | held):
        current = ledger.get((host_id, day)) or LedgerDay(host_id, day)
        spans = [s for s in current.spans if s.booking_id != after.id]
        if (host_id, day) in held:
            spans.append(_span_of(after))
        writes.append(LedgerWrite(host_id, day, current.version, tuple(spans)))
    return writes


def _cap_keys(booking: Booking, zone: str) -> tuple[date, tuple[int, int]]:
    return slots.cap_day(booking.start, zone), slots.cap_week(booking.start, zone)


def cap_changes(event_type: EventType, before: Booking | None, after: Booking) -> list[CapChange]:
    """The counters to move: +1 where `after` counts (under the caps), -1 where `before`
    counted.  Counted for every event type, so that caps set later find true counts."""
    zone = event_type.time_zone
    days: dict[date, int] = {}
    weeks: dict[tuple[int, int], int] = {}
    for booking, delta in ((before, -1), (after, 1)):
        if booking is not None and booking.status in ACTIVE_STATUSES:
            day, week = _cap_keys(booking, zone)
            days[day] = days.get(day, 0) + delta
            weeks[week] = weeks.get(week, 0) + delta
    return [
        CapChange(day=day, delta=delta, limit=event_type.daily_cap)
        for day, delta in days.items()
        if delta
    ] + [
        CapChange(week=week, delta=delta, limit=event_type.weekly_cap)
        for week, delta in weeks.items()
        if delta
    ]


def _pause(deps: BookingDeps, attempt: int) -> None:
    """A little random wait after a lost race, growing with each attempt (capped), so that
    the bookings racing on one host-day spread out instead of colliding again."""
    deps.sleep(random.uniform(0, min(MAX_JITTER_SECONDS, JITTER_SECONDS * 2**attempt)))


def _landed(deps: BookingDeps, written: Booking, expected_version: int | None) -> Booking | None:
    """The booking as stored when a transaction reported lost did in fact apply (an SDK
    retry of a transaction whose answer was lost is refused by its own writes)."""
    found = deps.store.get_booking(written.workspace_id, written.id)
    if (
        found is not None
        and found.version == (expected_version or 0) + 1
        and found.updated_at == written.updated_at
    ):
        return found
    return None


def _enqueue(deps: BookingDeps, job: BookingJob) -> None:
    """Queues the job; a failure is logged, never undoes the committed booking: the job's
    due item, written with the change, has the sweep queue it again (job_outbox.py)."""
    try:
        deps.jobs.enqueue(job)
    except Exception:
        logger.exception("booking job not queued", extra={"booking_id": job.booking_id})


def manage_url(deps: BookingDeps, booking: Booking) -> str:
    token = manage_links.issue(
        deps.policy.token_secret, manage_links.ManageGrant(booking.workspace_id, booking.id)
    )
    domain = deps.site(booking.workspace_id).custom_domain
    base = f"https://{domain}" if domain else deps.policy.public_base_url
    return manage_links.manage_url(base, token)


# -- booking ------------------------------------------------------------------------------------


def _check_person(request: BookingRequest) -> None:
    problems = []
    name = request.name
    if not name.strip() or len(name) > 120 or any(unicodedata.category(c) == "Cc" for c in name):
        message = "1 to 120 characters, without line breaks or control characters"
        problems.append({"field": "name", "message": message})
    from chalicelib.booking.event_types import known_zone

    if not known_zone(request.time_zone):
        problems.append({"field": "time_zone", "message": "unknown time zone (IANA name)"})
    start_problem = _start_problem(request.start)
    if start_problem is not None:
        problems.append({"field": "start", "message": start_problem})
    if problems:
        raise ValidationFailed("Invalid booking.", details=problems)


def book(
    deps: BookingDeps,
    workspace_slug: str,
    event_type_slug: str,
    request: BookingRequest,
    *,
    visitor_ip: str,
    human_token: str | None,
) -> tuple[Booking, str]:
    """Books `request.start` with the event type's host(s) and answers the booking and its
    manage link.  Checks: the human check when configured (403 `human_check_failed`), the
    hourly limit per address and workspace (429), the answers and the duration (422), then
    the slot against fresh calendar busy times and the ledger (409 `slot_taken`).  Round
    robin takes the least recently booked free host.  Writes one transaction (retried on a
    lost race), then queues a `created` job."""
    found = bookable(deps, workspace_slug, event_type_slug)
    event_type = found.event_type
    if deps.human_check is not None and not (
        human_token and deps.human_check.verify(human_token, visitor_ip)
    ):
        raise Forbidden("The human check failed; try again.", code="human_check_failed")
    _check_person(request)
    answers = check_answers(event_type, request.answers)
    rules = slots.rules_for(event_type, request.duration)
    now_epoch = int(deps.clock.now().timestamp())
    if not deps.attempts.allow_contact(
        found.workspace.id, f"booking:{visitor_ip}", now_epoch, deps.policy.bookings_per_ip_hour
    ):
        raise TooManyRequests(
            "Too many bookings from this address; try again later.",
            retry_after_seconds=RATE_WINDOW_SECONDS - now_epoch % RATE_WINDOW_SECONDS,
            code="too_many_bookings",
        )
    start = request.start.astimezone(UTC)
    now = deps.clock.now()
    if not _reachable(event_type, start, now):
        raise slot_taken()
    end = start + timedelta(minutes=rules.duration)
    draft = Booking(
        workspace_id=found.workspace.id,
        id=new_id(),
        event_type_id=event_type.id,
        event_type_slug=event_type.slug,
        title=event_type.title,
        host_ids=[],
        start=start,
        end=end,
        buffer_before=event_type.buffer_before,
        buffer_after=event_type.buffer_after,
        invitee=Invitee(
            name=request.name.strip(),
            email=request.email,
            time_zone=request.time_zone,
            locale=request.locale if request.locale in ("en", "fr") else "en",
        ),
        answers=answers,
        status=(
            BookingStatus.PENDING if event_type.requires_confirmation else BookingStatus.CONFIRMED
        ),
        location=event_type.location,
        created_at=now,
        updated_at=now,
    )
    # Calendars are read fresh once: they do not change between the attempts' milliseconds.
    busy = deps.busy.busy(
        found.workspace.id,
        list(event_type.host_ids),
        Interval(draft.held_start, draft.held_end),
        True,
    )
    last_booked = (
        deps.store.last_booked(found.workspace.id, event_type.id)
        if event_type.host_mode is HostMode.ROUND_ROBIN
        else {}
    )
    for attempt in range(deps.policy.max_attempts):
        state = host_state(
            deps,
            found,
            list(event_type.host_ids),
            Interval(start, start + timedelta(microseconds=1)),
            longest=rules.duration,
            fresh=True,
            busy=busy,
            consistent=True,
        )
        slot = slots.slot_at(
            rules,
            event_type.host_mode,
            state.hosts,
            start,
            deps.clock.now(),
            state.counts.per_day,
            state.counts.per_week,
        )
        if slot is None or not slot.host_ids:
            raise slot_taken()
        if event_type.host_mode is HostMode.ROUND_ROBIN:
            never = datetime.min.replace(tzinfo=UTC)
            chosen = min(
                slot.host_ids,
                key=lambda h: (last_booked.get(h, never), event_type.host_ids.index(h)),
            )
            host_ids = [chosen]
        else:
            host_ids = list(slot.host_ids)
        booking = replace(draft, host_ids=host_ids)
        job = with_due(
            deps.outbox,
            BookingJob(booking.workspace_id, booking.id, "created", booking.sequence),
            now,
        )
        try:
            committed = deps.store.commit_booking(
                BookingCommit(
                    booking=booking,
                    expected_version=None,
                    ledger=ledger_writes(state.ledger, None, booking),
                    caps=cap_changes(event_type, None, booking),
                    booked_host=host_ids[0]
                    if event_type.host_mode is HostMode.ROUND_ROBIN
                    else None,
                    job=job,
                )
            )
        except BookingRaced:
            landed = _landed(deps, booking, None)
            if landed is None:
                _pause(deps, attempt)
                continue
            committed = landed
        stored = committed
        _enqueue(deps, job)
        return stored, manage_url(deps, stored)
    raise slot_taken()


# -- finding a booking -------------------------------------------------------------------------


def get_booking(deps: BookingDeps, workspace_id: str, booking_id: str) -> Booking:
    found = deps.store.get_booking(workspace_id, booking_id)
    if found is None:
        raise booking_not_found()
    return found


def booking_of_link(deps: BookingDeps, token: str) -> Booking | None:
    """The booking a manage link names, ended or not (the manage page shows it); None for a
    forged, altered or unknown link."""
    grant = manage_links.read(deps.policy.token_secret, token)
    return deps.store.get_booking(grant.workspace_id, grant.booking_id) if grant else None


def booking_of_token(deps: BookingDeps, token: str) -> Booking:
    """The booking a manage link names: 404 `manage_link_invalid` for a forged, altered or
    unknown link, 410 `booking_ended` once the booking's end has passed."""
    grant = manage_links.read(deps.policy.token_secret, token)
    found = deps.store.get_booking(grant.workspace_id, grant.booking_id) if grant else None
    if found is None:
        raise NotFound("This link is not valid.", code="manage_link_invalid")
    if found.end <= deps.clock.now():
        raise Gone("This booking has ended.", code="booking_ended")
    return found


def may_host_change(principal: Principal, booking: Booking) -> bool:
    return principal.role in MANAGERS or (
        principal.user_id is not None and principal.user_id in booking.host_ids
    )


def _check_host(principal: Principal, booking: Booking) -> None:
    if not may_host_change(principal, booking):
        raise Forbidden("Only the booking's hosts, owners and admins change it.", code="not_a_host")


def invitee_may_change(deps: BookingDeps, booking: Booking, event_type: EventType | None) -> bool:
    notice = timedelta(minutes=event_type.cancel_notice if event_type else 0)
    return booking.status in ACTIVE_STATUSES and deps.clock.now() + notice < booking.start


def _check_invitee_in_time(deps: BookingDeps, booking: Booking) -> None:
    event_type = deps.store.get_event_type(booking.workspace_id, booking.event_type_id)
    if booking.status not in ACTIVE_STATUSES:
        raise _not_active()
    if not invitee_may_change(deps, booking, event_type):
        raise Conflict(
            "It is too late to change this booking; contact the host.",
            code="too_late_to_change",
        )


# -- changes -------------------------------------------------------------------------------------


type MakeChange = Callable[
    [Booking, EventType | None], tuple[Booking, dict[tuple[str, date], LedgerDay] | None]
]


def read_for(
    deps: BookingDeps, before: Booking, after: Booking
) -> dict[tuple[str, date], LedgerDay]:
    """The ledger days `before` and `after` touch (consistent reads, a Query per host and
    stretch of days)."""
    ledger: dict[tuple[str, date], LedgerDay] = {}
    for booking in (before, after):
        if booking.status not in ACTIVE_STATUSES:
            continue
        days = utc_days(booking.held_start, booking.held_end)
        ledger.update(read_ledger(deps, booking.workspace_id, booking.host_ids, days[0], days[-1]))
    return ledger


def _commit_change(
    deps: BookingDeps,
    workspace_id: str,
    booking_id: str,
    make: MakeChange,
    change: str,
    actor: str,
) -> Booking:
    """Reads the booking, makes its new state with `make(current, event_type)` (which may
    answer the ledger days it read; None: read those the change touches), and commits it
    with the ledger and counter moves; a lost race reads again."""
    for attempt in range(deps.policy.max_attempts):
        current = get_booking(deps, workspace_id, booking_id)
        event_type = deps.store.get_event_type(workspace_id, current.event_type_id)
        after, ledger = make(current, event_type)
        after = replace(after, updated_at=deps.clock.now())
        if ledger is None:
            ledger = read_for(deps, current, after)
        caps = cap_changes(event_type, current, after) if event_type is not None else []
        job = BookingJob(
            workspace_id,
            booking_id,
            change,
            after.sequence,
            previous_start=(
                current.start.astimezone(UTC).isoformat() if change == "rescheduled" else None
            ),
            actor=actor,
        )
        job = with_due(deps.outbox, job, after.updated_at or deps.clock.now())
        try:
            committed = deps.store.commit_booking(
                BookingCommit(
                    booking=after,
                    expected_version=current.version,
                    ledger=ledger_writes(ledger, current, after),
                    caps=caps,
                    job=job,
                )
            )
        except BookingRaced:
            landed = _landed(deps, after, current.version)
            if landed is None:
                _pause(deps, attempt)
                continue
            committed = landed
        _enqueue(deps, job)
        return committed
    raise Conflict("The booking is being changed; try again.", code="booking_changed")


def _cancelled(current: Booking, reason: str, by: str, status: BookingStatus) -> Booking:
    if current.status not in ACTIVE_STATUSES:
        raise _not_active()
    return replace(
        current,
        status=status,
        sequence=current.sequence + 1,
        cancel_reason=reason.strip()[:1000],
        cancelled_by=by,
    )


def cancel(
    deps: BookingDeps, workspace_id: str, booking_id: str, reason: str, actor: str
) -> Booking:
    """Cancels an active booking (its time is freed, its counters go down); queues
    `cancelled`.  409 `booking_not_active`."""

    def make(
        current: Booking, event_type: EventType | None
    ) -> tuple[Booking, dict[tuple[str, date], LedgerDay] | None]:
        return _cancelled(current, reason, actor, BookingStatus.CANCELLED), None

    return _commit_change(deps, workspace_id, booking_id, make, "cancelled", actor)


def host_cancel(deps: BookingDeps, principal: Principal, booking_id: str, reason: str) -> Booking:
    _check_host(principal, get_booking(deps, principal.workspace_id, booking_id))
    return cancel(deps, principal.workspace_id, booking_id, reason, principal.actor)


def invitee_cancel(deps: BookingDeps, token: str, reason: str) -> Booking:
    booking = booking_of_token(deps, token)
    _check_invitee_in_time(deps, booking)
    return cancel(deps, booking.workspace_id, booking.id, reason, "invitee")


def confirm(deps: BookingDeps, principal: Principal, booking_id: str) -> Booking:
    """A host confirms a pending booking; queues `confirmed`.  409 `booking_not_pending`."""
    _check_host(principal, get_booking(deps, principal.workspace_id, booking_id))

    def make(
        current: Booking, event_type: EventType | None
    ) -> tuple[Booking, dict[tuple[str, date], LedgerDay] | None]:
        if current.status is not BookingStatus.PENDING:
            raise Conflict(
                "This booking is not waiting for confirmation.", code="booking_not_pending"
            )
        return replace(current, status=BookingStatus.CONFIRMED), {}

    return _commit_change(
        deps, principal.workspace_id, booking_id, make, "confirmed", principal.actor
    )


def decline(deps: BookingDeps, principal: Principal, booking_id: str, reason: str) -> Booking:
    """A host declines a pending booking (its time is freed); queues `declined`."""
    _check_host(principal, get_booking(deps, principal.workspace_id, booking_id))

    def make(
        current: Booking, event_type: EventType | None
    ) -> tuple[Booking, dict[tuple[str, date], LedgerDay] | None]:
        if current.status is not BookingStatus.PENDING:
            raise Conflict(
                "This booking is not waiting for confirmation.", code="booking_not_pending"
            )
        return _cancelled(current, reason, principal.actor, BookingStatus.DECLINED), None

    return _commit_change(
        deps, principal.workspace_id, booking_id, make, "declined", principal.actor
    )


def reschedule(
    deps: BookingDeps,
    workspace_id: str,
    booking_id: str,
    start: datetime,
    actor: str,
    time_zone: str | None = None,
) -> Booking:
    """Moves an active booking to `start` (same hosts, same duration), which must be a slot
    of its event type counting the booking's own time as free (409 `slot_taken`); the
    sequence moves; queues `rescheduled`.  422 for a start without offset, 409
    `same_time` for the time it already has."""
    start = _checked_start(start)

    def make(
        current: Booking, event_type: EventType | None
    ) -> tuple[Booking, dict[tuple[str, date], LedgerDay] | None]:
        if current.status not in ACTIVE_STATUSES:
            raise _not_active()
        if event_type is None or not event_type.active:
            raise Conflict("This event type is no longer offered.", code="event_type_inactive")
        if start == current.start:
            raise Conflict("The booking is already at this time.", code="same_time")
        if not _reachable(event_type, start, deps.clock.now()):
            raise slot_taken()
        workspace = deps.accounts.get_workspace(workspace_id)
        if workspace is None:
            raise booking_not_found()
        minutes = int((current.end - current.start).total_seconds() // 60)
        moved = replace(
            current,
            start=start,
            end=start + timedelta(minutes=minutes),
            sequence=current.sequence + 1,
            rescheduled_from=current.start,
            invitee=replace(current.invitee, time_zone=time_zone or current.invitee.time_zone),
        )
        found = Bookable(workspace, event_type)
        state = host_state(
            deps,
            found,
            list(current.host_ids),
            Interval(start, start + timedelta(microseconds=1)),
            longest=minutes,
            fresh=True,
            ignore_booking=current.id,
            consistent=True,
        )
        rules = replace(
            slots.rules_for(event_type),
            duration=minutes,
            buffer_before=current.buffer_before,
            buffer_after=current.buffer_after,
        )
        per_day, per_week = discounted(state.counts, _cap_keys(current, event_type.time_zone))
        slot = slots.slot_at(
            rules,
            fixed_mode(current.host_ids),
            state.hosts,
            start,
            deps.clock.now(),
            per_day,
            per_week,
        )
        if slot is None:
            raise slot_taken()
        ledger = dict(state.ledger)
        ledger.update(read_for(deps, current, replace(current, status=BookingStatus.CANCELLED)))
        return moved, ledger

    return _commit_change(deps, workspace_id, booking_id, make, "rescheduled", actor)


def host_reschedule(
    deps: BookingDeps, principal: Principal, booking_id: str, start: datetime
) -> Booking:
    _check_host(principal, get_booking(deps, principal.workspace_id, booking_id))
    return reschedule(deps, principal.workspace_id, booking_id, start, principal.actor)


def invitee_reschedule(deps: BookingDeps, token: str, start: datetime, time_zone: str) -> Booking:
    booking = booking_of_token(deps, token)
    _check_invitee_in_time(deps, booking)
    return reschedule(deps, booking.workspace_id, booking.id, start, "invitee", time_zone)


def slots_to_move(deps: BookingDeps, booking: Booking, window: Interval) -> list[slots.Slot]:
    """Where an invitee may move their booking: its event type's slots for the same hosts
    and duration, its own held time and counts taken as free (but not its own start: that
    is no move).  409 when it cannot move."""
    event_type = deps.store.get_event_type(booking.workspace_id, booking.event_type_id)
    workspace = deps.accounts.get_workspace(booking.workspace_id)
    if booking.status not in ACTIVE_STATUSES:
        raise _not_active()
    if event_type is None or workspace is None or not event_type.active:
        raise Conflict("This event type is no longer offered.", code="event_type_inactive")
    from chalicelib.booking.availability import offered_slots

    minutes = int((booking.end - booking.start).total_seconds() // 60)
    moving = replace(
        event_type,
        durations=[minutes],
        slot_step=event_type.step,
        buffer_before=booking.buffer_before,
        buffer_after=booking.buffer_after,
    )
    offered = offered_slots(
        deps,
        Bookable(workspace, moving),
        window,
        None,
        host_ids=list(booking.host_ids),
        ignore_booking=booking.id,
        discount=_cap_keys(booking, event_type.time_zone),
    )
    return [slot for slot in offered if slot.start != booking.start]


def list_bookings(
    deps: BookingDeps,
    principal: Principal,
    wanted: BookingFilter,
    cursor: str | None,
    limit: int,
) -> Page[Booking]:
    """The workspace's bookings by start (`host_id` `me`: the caller's): one Query."""
    if wanted.host_id == "me":
        wanted = replace(wanted, host_id=principal.user_id or "")
    return deps.store.list_bookings(principal.workspace_id, wanted, cursor, limit)


@dataclass(frozen=True)
class ManageView:
    """What the invitee's manage page shows beside the booking."""

    booking: Booking
    workspace: Workspace
    can_change: bool
    cancel_notice: int
    event_type: EventType | None = None  # None once deleted


def manage_view(deps: BookingDeps, booking: Booking) -> ManageView:
    workspace = deps.accounts.get_workspace(booking.workspace_id)
    if workspace is None:
        raise NotFound("This link is not valid.", code="manage_link_invalid")
    event_type = deps.store.get_event_type(booking.workspace_id, booking.event_type_id)
    return ManageView(
        booking=booking,
        workspace=workspace,
        can_change=invitee_may_change(deps, booking, event_type),
        cancel_notice=event_type.cancel_notice if event_type else 0,
        event_type=event_type,
    )
