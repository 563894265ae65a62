"""The slot engine: which meeting starts an event type offers, from its hosts' weekly hours,
date overrides, calendar busy times and the time existing bookings hold.

Pure: no I/O.  Every instant it takes and returns is an aware datetime, answered in UTC.
A schedule's wall-clock hours are read in its own IANA zone date by date, so a host's 09:00
stays 09:00 on both sides of a daylight-saving change.  A local time that does not exist (the
hour skipped in spring) becomes the moment after the gap; a repeated local time (autumn) is
its first occurrence when it starts hours and its second when it ends them, so open hours
never shrink around a change.

Candidate starts of an open interval are its start + k * step.  An interval open for more
than a week (a host open around the clock) restarts its grid at the Monday 00:00 UTC one
week before the start's week, so every start has one grid whatever window asks about it and
`slot_at` agrees with `find_slots`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.booking.model import EventType, HostMode, Schedule
from chalicelib.booking.ports import Interval
from chalicelib.errors import ValidationFailed

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MIDNIGHT = time(0, 0)
# 2024-01-01 was a Monday: the origin of the weekly grid restarts.
_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SlotRules:
    duration: int  # minutes
    step: int  # minutes between candidate starts
    buffer_before: int
    buffer_after: int
    minimum_notice: int  # minutes
    horizon_days: int
    daily_cap: int | None
    weekly_cap: int | None
    cap_time_zone: str  # IANA; caps count local days / ISO weeks of the slot's start here


@dataclass(frozen=True)
class HostTime:
    host_id: str
    schedule: Schedule
    busy: list[Interval]  # calendar busy times
    held: list[Interval]  # time held by existing active bookings (their buffers included)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC aware
    end: datetime
    host_ids: tuple[str, ...]  # hosts free for it (ONE/COLLECTIVE: all of them)


def rules_for(event_type: EventType, duration: int | None = None) -> SlotRules:
    """The event type's slot rules for `duration` (None: its default duration); 422 when the
    event type does not offer that duration."""
    if duration is None:
        duration = event_type.durations[0]
    elif duration not in event_type.durations:
        offered = ", ".join(str(minutes) for minutes in event_type.durations)
        message = f"this event type lasts {offered} minutes"
        raise ValidationFailed(message, details=[{"field": "duration", "message": message}])
    return SlotRules(
        duration=duration,
        step=event_type.step,
        buffer_before=event_type.buffer_before,
        buffer_after=event_type.buffer_after,
        minimum_notice=event_type.minimum_notice,
        horizon_days=event_type.horizon_days,
        daily_cap=event_type.daily_cap,
        weekly_cap=event_type.weekly_cap,
        cap_time_zone=event_type.time_zone,
    )


def cap_day(moment: datetime, zone: str) -> date:
    """The local date of `moment` in `zone`: the day a daily cap counts it in."""
    return moment.astimezone(_zone(zone)).date()


def cap_week(moment: datetime, zone: str) -> tuple[int, int]:
    """The ISO (year, week) of `moment`'s local date in `zone`: the week a weekly cap counts."""
    iso = cap_day(moment, zone).isocalendar()
    return iso.year, iso.week


def open_hours(schedule: Schedule, window: Interval) -> list[Interval]:
    """The schedule's open hours inside `window`, in UTC, sorted, touching spans merged."""
    spans = _open_spans(schedule, window.start, window.end)
    clipped = []
    for start, end in spans:
        start, end = max(start, window.start), min(end, window.end)
        if start < end:
            clipped.append(Interval(start.astimezone(UTC), end.astimezone(UTC)))
    return clipped


def find_slots(
    rules: SlotRules,
    mode: HostMode,
    hosts: list[HostTime],
    window: Interval,
    now: datetime,
    booked_per_day: Mapping[date, int],
    booked_per_week: Mapping[tuple[int, int], int],
) -> list[Slot]:
    """The slots starting in [window.start, window.end), sorted by start.

    A host is free for a start s when the meeting [s, s + duration) lies inside one of its
    merged open intervals, s is on that interval's grid, and the held span [s - buffer_before,
    s + duration + buffer_after) meets none of its busy or held intervals.  ONE and COLLECTIVE
    need every host free on the grid of their common open hours; ROUND_ROBIN lists, for each
    start on some host's grid, the hosts free for it (in the order of `hosts`).  Starts lie in
    [now + minimum_notice, now + horizon_days) and on days/weeks whose bookings are under
    the caps."""
    if not hosts or rules.duration <= 0 or rules.step <= 0:
        return []
    earliest = max(_utc(window.start), _utc(now) + timedelta(minutes=rules.minimum_notice))
    latest = min(_utc(window.end), _utc(now) + timedelta(days=rules.horizon_days))
    if earliest >= latest:
        return []
    duration = timedelta(minutes=rules.duration)
    step = timedelta(minutes=rules.step)
    before = timedelta(minutes=rules.buffer_before)
    after = timedelta(minutes=rules.buffer_after)
    # Spans from before the earliest grid origin any start can use, to the latest meeting end.
    spans_from, spans_to = _grid_origin(earliest) - _DAY, latest + duration
    opens = [_open_spans(host.schedule, spans_from, spans_to) for host in hosts]
    blocks = [_Blocked([*host.busy, *host.held]) for host in hosts]

    def free(index: int, start: datetime) -> bool:
        return not blocks[index].meets(start - before, start + duration + after)

    host_ids_at: dict[datetime, list[str]] = {}
    if mode == HostMode.ROUND_ROBIN:
        for index, host in enumerate(hosts):
            for start in _grid(opens[index], earliest, latest, duration, step):
                if free(index, start):
                    host_ids_at.setdefault(start, []).append(host.host_id)
    else:
        common = opens[0]
        for spans in opens[1:]:
            common = _intersection(common, spans)
        every_host = [host.host_id for host in hosts]
        for start in _grid(common, earliest, latest, duration, step):
            if all(free(index, start) for index in range(len(hosts))):
                host_ids_at[start] = every_host

    return [
        Slot(start=start, end=start + duration, host_ids=tuple(host_ids_at[start]))
        for start in sorted(host_ids_at)
        if _under_caps(rules, start, booked_per_day, booked_per_week)
    ]


def slot_at(
    rules: SlotRules,
    mode: HostMode,
    hosts: list[HostTime],
    start: datetime,
    now: datetime,
    booked_per_day: Mapping[date, int],
    booked_per_week: Mapping[tuple[int, int], int],
) -> Slot | None:
    """The slot starting exactly at `start` when `find_slots` would offer it, else None
    (booking time's final check)."""
    start = _utc(start)
    window = Interval(start, start + timedelta(microseconds=1))
    slots = find_slots(rules, mode, hosts, window, now, booked_per_day, booked_per_week)
    return slots[0] if slots and slots[0].start == start else None


# --- open hours -------------------------------------------------------------------------

type _Span = tuple[datetime, datetime]


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    """The IANA zone; an unknown name is read as UTC (zones are checked where they are saved)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _open_spans(schedule: Schedule, since: datetime, until: datetime) -> list[_Span]:
    """Merged UTC spans of the schedule's hours on every local date that can touch
    [since, until) (one date more on each side)."""
    zone = _zone(schedule.time_zone)
    day = since.astimezone(zone).date() - _DAY
    last = until.astimezone(zone).date() + _DAY
    spans: list[_Span] = []
    while day <= last:
        hours = schedule.overrides.get(day)
        if hours is None:
            hours = schedule.weekly.get(day.weekday(), [])
        for span in hours:
            if span.end == _MIDNIGHT:
                end_day = day + _DAY  # 00:00 as an end: midnight at the end of the day
            elif span.end > span.start:
                end_day = day
            else:
                continue
            start = _to_utc(datetime.combine(day, span.start), zone, ends=False)
            end = _to_utc(datetime.combine(end_day, span.end), zone, ends=True)
            if start < end:
                spans.append((start, end))
        day += _DAY
    return _merged(spans)


def _to_utc(local: datetime, zone: tzinfo, *, ends: bool) -> datetime:
    """A naive wall-clock time in `zone` as a UTC instant: a repeated time is its first
    occurrence (its second when `ends`); a time in a gap is the moment after the gap."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first.astimezone(zone).replace(tzinfo=None) == local:  # repeated: first < second
        return second if ends else first
    # In a gap fold=0 reads the offset before the change: the change lies in (second, first].
    low, high = int(second.timestamp()), int(first.timestamp())
    after = _offset(high, zone)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, zone) == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _offset(timestamp: int, zone: tzinfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()


def _merged(spans: Iterable[_Span]) -> list[_Span]:
    merged: list[_Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _intersection(left: list[_Span], right: list[_Span]) -> list[_Span]:
    """Where both sorted, merged span lists are open."""
    both: list[_Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            both.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return both


# --- candidate starts -------------------------------------------------------------------


def _grid_origin(moment: datetime) -> datetime:
    """The Monday 00:00 UTC one week before `moment`'s week: no grid starts earlier."""
    weeks = (moment - _MONDAY) // _WEEK
    return _MONDAY + (weeks - 1) * _WEEK


def _grid(
    spans: list[_Span],
    earliest: datetime,
    latest: datetime,
    duration: timedelta,
    step: timedelta,
) -> Iterator[datetime]:
    """Starts s in [earliest, latest) with [s, s + duration) inside one span and s on that
    span's grid: span start + k * step, restarted weekly for spans open more than a week."""
    for span_start, span_end in spans:
        low = max(span_start, earliest)
        high = min(latest, span_end - duration + timedelta(microseconds=1))
        if low >= high:
            continue
        week = _grid_origin(low) + _WEEK  # the Monday 00:00 UTC of `low`'s week
        while week < high:
            anchor = max(span_start, week - _WEEK)
            first = max(low, week)
            start = anchor + -((anchor - first) // step) * step  # first grid point >= first
            week_end = min(high, week + _WEEK)
            while start < week_end:
                yield start
                start += step
            week += _WEEK


# --- busy and held time -----------------------------------------------------------------


class _Blocked:
    """A host's busy and held time, merged, for O(log n) overlap questions."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged = _merged(
            (_utc(interval.start), _utc(interval.end))
            for interval in intervals
            if interval.start < interval.end
        )
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def meets(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) overlaps any blocked interval."""
        index = bisect_right(self._ends, start)  # the first interval ending after `start`
        return index < len(self._starts) and self._starts[index] < end


def _under_caps(
    rules: SlotRules,
    start: datetime,
    booked_per_day: Mapping[date, int],
    booked_per_week: Mapping[tuple[int, int], int],
) -> bool:
    zone = rules.cap_time_zone
    day_full = (
        rules.daily_cap is not None
        and booked_per_day.get(cap_day(start, zone), 0) >= rules.daily_cap
    )
    week_full = (
        rules.weekly_cap is not None
        and booked_per_week.get(cap_week(start, zone), 0) >= rules.weekly_cap
    )
    return not (day_full or week_full)


__all__ = [
    "HostTime",
    "Slot",
    "SlotRules",
    "cap_day",
    "cap_week",
    "find_slots",
    "open_hours",
    "rules_for",
    "slot_at",
]
