"""What time an event type offers: its hosts' schedules, the time their bookings hold (the
ledger), their calendars' busy times and the event type's caps, given to the slot engine.

A slots page costs a bounded number of calls whatever its window: one BatchGetItem of the
schedules, one ledger Query per host, one Query of the counters (only with caps), and the
calendars' busy times (`BusyTimes`, cached for page views)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from chalicelib.accounts.model import Workspace
from chalicelib.booking import event_types, slots
from chalicelib.booking.deps import BookingDeps
from chalicelib.booking.model import EventType, HostMode
from chalicelib.booking.ports import Interval
from chalicelib.booking.schedules import schedules_of
from chalicelib.booking.store_port import CapCounts, LedgerDay
from chalicelib.errors import NotFound, ValidationFailed


class NoCalendars:
    """Busy times when no calendar can be read (no connections in this deployment)."""

    def busy(
        self, workspace_id: str, user_ids: list[str], window: Interval, fresh: bool
    ) -> dict[str, list[Interval]]:
        return {}


@dataclass(frozen=True)
class Bookable:
    workspace: Workspace
    event_type: EventType


@dataclass(frozen=True)
class HostState:
    """The hosts' time around a window, as the slot engine takes it, and what was read to
    get it (the ledger days, for the booking's conditional writes)."""

    hosts: list[slots.HostTime]
    counts: CapCounts
    ledger: dict[tuple[str, date], LedgerDay] = field(default_factory=dict)


def page_not_found() -> NotFound:
    return NotFound("No booking page has this address.", code="booking_page_not_found")


def bookable_workspace(deps: BookingDeps, workspace_slug: str) -> Workspace:
    workspace = deps.accounts.find_workspace_by_slug(workspace_slug)
    if workspace is None:
        raise page_not_found()
    return workspace


def bookable(deps: BookingDeps, workspace_slug: str, event_type_slug: str) -> Bookable:
    """The workspace and active event type a public booking address names; 404
    `booking_page_not_found` otherwise (the same for another workspace's slug)."""
    workspace = bookable_workspace(deps, workspace_slug)
    event_type = event_types.bookable_event_type(deps, workspace.id, event_type_slug)
    if event_type is None:
        raise page_not_found()
    return Bookable(workspace, event_type)


def public_event_types(deps: BookingDeps, workspace_slug: str) -> tuple[Workspace, list[EventType]]:
    """A workspace's booking page: its public, active event types by title; 404
    `booking_page_not_found` for an unknown slug."""
    workspace = bookable_workspace(deps, workspace_slug)
    return workspace, event_types.listed_event_types(deps, workspace.id)


def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def utc_days(start: datetime, end: datetime) -> list[date]:
    """The UTC dates [start, end) touches."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def read_ledger(
    deps: BookingDeps, workspace_id: str, host_ids: list[str], first: date, last: date
) -> dict[tuple[str, date], LedgerDay]:
    """The hosts' ledger days first..last (consistent reads: one Query per host)."""
    found: dict[tuple[str, date], LedgerDay] = {}
    for host_id in host_ids:
        for day in deps.store.ledger(workspace_id, host_id, first, last, consistent=True):
            found[(host_id, day.day)] = day
    return found


def host_state(
    deps: BookingDeps,
    bookable: Bookable,
    host_ids: list[str],
    window: Interval,
    *,
    longest: int,
    fresh: bool,
    busy: dict[str, list[Interval]] | None = None,
    ignore_booking: str | None = None,
    consistent: bool = False,
) -> HostState:
    """The hosts' time for starts in `window` (meetings up to `longest` minutes): schedules
    (one BatchGet), held spans (one Query per host; `ignore_booking`'s own count as free),
    busy times (`busy` when given, else BusyTimes), and the counters when the event type
    has caps (one Query)."""
    event_type = bookable.event_type
    workspace_id = bookable.workspace.id
    reach_start = window.start - timedelta(minutes=event_type.buffer_before)
    reach_end = window.end + timedelta(minutes=longest + event_type.buffer_after)
    schedules = schedules_of(deps, workspace_id, host_ids, bookable.workspace.timezone)
    if busy is None:
        busy = deps.busy.busy(workspace_id, host_ids, Interval(reach_start, reach_end), fresh)
    days = utc_days(reach_start, reach_end)
    ledger: dict[tuple[str, date], LedgerDay] = {}
    hosts = []
    for host_id in host_ids:
        held: dict[str, Interval] = {}
        for day in deps.store.ledger(
            workspace_id, host_id, days[0], days[-1], consistent=consistent
        ):
            ledger[(host_id, day.day)] = day
            for span in day.spans:
                if span.booking_id != ignore_booking:
                    held[span.booking_id] = Interval(
                        datetime.fromtimestamp(span.start, UTC),
                        datetime.fromtimestamp(span.end, UTC),
                    )
        hosts.append(
            slots.HostTime(
                host_id=host_id,
                schedule=schedules[host_id],
                busy=list(busy.get(host_id, [])),
                held=sorted(held.values(), key=lambda i: i.start),
            )
        )
    counts = CapCounts()
    if event_type.daily_cap is not None or event_type.weekly_cap is not None:
        counts = deps.store.cap_counts(
            workspace_id,
            event_type.id,
            slots.cap_day(window.start, event_type.time_zone),
            slots.cap_day(window.end, event_type.time_zone),
        )
    return HostState(hosts=hosts, counts=counts, ledger=ledger)


# -- the window a slots request asks about ---------------------------------------------------


def _moment(text: str, where: str, local: tzinfo, *, end: bool) -> datetime:
    """`text` as a UTC moment; 422 naming `where` when it is no ISO 8601 date or time, or
    one that falls outside the years 1 to 9999 once in UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            moment = datetime.combine(day, time(), tzinfo=local)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=local)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise _bad_moment(where) from e


def _bad_moment(where: str) -> ValidationFailed:
    message = "an ISO 8601 date (2025-03-14) or date and time, in the years 1 to 9999"
    return ValidationFailed(
        f"Invalid {where}: {message}.", details=[{"field": where, "message": message}]
    )


def slots_window(
    start_text: str | None, end_text: str | None, time_zone: str, now: datetime, max_days: int
) -> Interval:
    """[from, to) in UTC: dates are whole local days in `time_zone` (`to` included), times
    without an offset are local there.  Default: from now, for 7 days.  422 when `to` is not
    after `from` or the window is longer than `max_days`."""
    local = zone(time_zone)
    start = _moment(start_text, "from", local, end=False) if start_text else now
    if end_text:
        end = _moment(end_text, "to", local, end=True)
    else:
        try:
            end = start + timedelta(days=7)
        except OverflowError as e:
            raise _bad_moment("from") from e
    if end <= start:
        message = "`to` must be after `from`"
        raise ValidationFailed(message, details=[{"field": "to", "message": message}])
    if end - start > timedelta(days=max_days):
        message = f"a window is at most {max_days} days"
        raise ValidationFailed(message, details=[{"field": "to", "message": message}])
    return Interval(start, end)


def bookable_part(window: Interval, now: datetime, horizon_days: int) -> Interval | None:
    """The part of `window` where starts may be booked at all, [now, now + horizon); None
    when there is none (a window in the past or beyond the horizon: no reads)."""
    start = max(window.start, now)
    end = min(window.end, now + timedelta(days=horizon_days))
    return Interval(start, end) if start < end else None


def offered_slots(
    deps: BookingDeps,
    bookable: Bookable,
    window: Interval,
    duration: int | None,
    *,
    host_ids: list[str] | None = None,
    ignore_booking: str | None = None,
    discount: tuple[date, tuple[int, int]] | None = None,
) -> list[slots.Slot]:
    """The slots the event type offers in `window` (a page view: busy times may come from
    the short cache).  `host_ids` fixes the hosts (a booking being moved keeps its own, all
    of whom must be free); `ignore_booking`'s held time counts as free and `discount` (its
    cap day and week) takes it out of the counters."""
    event_type = bookable.event_type
    rules = slots.rules_for(event_type, duration)
    reachable = bookable_part(window, deps.clock.now(), event_type.horizon_days)
    if reachable is None:
        return []
    window = reachable
    mode = event_type.host_mode
    hosts = list(event_type.host_ids)
    if host_ids is not None:
        hosts = list(host_ids)
        mode = fixed_mode(hosts)
    state = host_state(
        deps,
        bookable,
        hosts,
        window,
        longest=rules.duration,
        fresh=False,
        ignore_booking=ignore_booking,
    )
    per_day, per_week = discounted(state.counts, discount)
    return slots.find_slots(rules, mode, state.hosts, window, deps.clock.now(), per_day, per_week)


def fixed_mode(host_ids: list[str]) -> HostMode:
    """How a booking's own hosts are checked when it moves: all of them must be free."""
    return HostMode.ONE if len(host_ids) == 1 else HostMode.COLLECTIVE


def discounted(
    counts: CapCounts, discount: tuple[date, tuple[int, int]] | None
) -> tuple[dict[date, int], dict[tuple[int, int], int]]:
    per_day, per_week = dict(counts.per_day), dict(counts.per_week)
    if discount is not None:
        day, week = discount
        if per_day.get(day):
            per_day[day] -= 1
        if per_week.get(week):
            per_week[week] -= 1
    return per_day, per_week


def local_rendering(slot: slots.Slot, time_zone: str) -> tuple[str, str, str]:
    """The slot's start in `time_zone`: ISO 8601 with offset, its date and HH:MM."""
    local = slot.start.astimezone(zone(time_zone))
    return local.isoformat(), local.date().isoformat(), local.strftime("%H:%M")
