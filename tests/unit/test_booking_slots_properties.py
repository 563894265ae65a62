"""Whatever the hosts' zones, hours, overrides, busy and held time, buffers and caps, every
slot offered keeps to the rules, and `slot_at` (the booking's final check) agrees with the
list the booking page showed."""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.booking.model import HostMode, Hours, Schedule
from chalicelib.booking.ports import Interval
from chalicelib.booking.slots import (
    HostTime,
    Slot,
    SlotRules,
    cap_day,
    cap_week,
    find_slots,
    slot_at,
)

ZONES = [
    "America/New_York",
    "Europe/Paris",
    "Australia/Lord_Howe",
    "Asia/Singapore",
    "UTC",
    "Asia/Kathmandu",
]
# Days around 2026's daylight-saving changes (New York, Paris, Lord Howe), and a quiet one.
AROUND = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 6, 17, tzinfo=UTC),
]
FIVE = timedelta(minutes=5)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@dataclass(frozen=True)
class Case:
    rules: SlotRules
    mode: HostMode
    hosts: list[HostTime]
    window: Interval
    now: datetime
    per_day: dict[date, int]
    per_week: dict[tuple[int, int], int]

    def slots(self) -> list[Slot]:
        return find_slots(
            self.rules, self.mode, self.hosts, self.window, self.now, self.per_day, self.per_week
        )

    def slot_at(self, start: datetime) -> Slot | None:
        return slot_at(
            self.rules, self.mode, self.hosts, start, self.now, self.per_day, self.per_week
        )


def _hours(start: int, length: int) -> Hours:
    end = min(start + length, 288) * 5
    start *= 5
    return Hours(time(start // 60, start % 60), time(end // 60 % 24, end % 60))


# 0 to 2 spans a day on the 5-minute granule (one ending at 24:00 ends at time(0)), or the
# whole day, so that some hosts are open around the clock for days on end.
HOURS_OF_DAY = st.one_of(
    st.lists(st.builds(_hours, st.integers(0, 287), st.integers(1, 288)), max_size=2),
    st.just([Hours(time(0), time(0))]),
)
INTERVALS = st.lists(st.tuples(st.integers(0, 8640), st.integers(1, 300)), max_size=8)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    now = draw(st.sampled_from(AROUND)) + timedelta(minutes=draw(st.integers(-4000, 4000)))
    window_start = now + timedelta(minutes=draw(st.integers(-1440, 2880)))
    window = Interval(window_start, window_start + timedelta(hours=draw(st.integers(1, 96))))
    mode = draw(st.sampled_from(list(HostMode)))
    host_count = 1 if mode == HostMode.ONE else draw(st.integers(1, 3))
    first_day = (window.start - timedelta(days=2)).date()

    def some_intervals() -> list[Interval]:
        since = window.start - timedelta(days=1)
        return [
            Interval(since + timedelta(minutes=at), since + timedelta(minutes=at + length))
            for at, length in draw(INTERVALS)
        ]

    hosts = []
    for index in range(host_count):
        overrides = {
            first_day + timedelta(days=offset): hours
            for offset, hours in draw(
                st.lists(st.tuples(st.integers(0, 7), HOURS_OF_DAY), max_size=3)
            )
        }
        schedule = Schedule(
            workspace_id="ws1",
            user_id=f"h{index}",
            time_zone=draw(st.sampled_from(ZONES)),
            weekly=dict(enumerate(draw(st.lists(HOURS_OF_DAY, min_size=7, max_size=7)))),
            overrides=overrides,
        )
        hosts.append(HostTime(f"h{index}", schedule, some_intervals(), some_intervals()))

    rules = SlotRules(
        duration=draw(st.sampled_from([15, 30, 45, 60, 90])),
        step=draw(st.sampled_from([5, 10, 15, 20, 30, 35, 45, 60])),
        buffer_before=draw(st.sampled_from([0, 5, 15, 30])),
        buffer_after=draw(st.sampled_from([0, 5, 15, 30])),
        minimum_notice=draw(st.sampled_from([0, 60, 240])),
        horizon_days=draw(st.integers(1, 5)),
        daily_cap=draw(st.none() | st.integers(0, 3)),
        weekly_cap=draw(st.none() | st.integers(0, 5)),
        cap_time_zone=draw(st.sampled_from(ZONES)),
    )
    days = [first_day + timedelta(days=offset) for offset in range(8)]
    per_day = dict(
        zip(days, draw(st.lists(st.integers(0, 4), min_size=8, max_size=8)), strict=True)
    )
    weeks = sorted({day.isocalendar()[:2] for day in days})
    counts = draw(st.lists(st.integers(0, 6), min_size=len(weeks), max_size=len(weeks)))
    per_week = dict(zip(weeks, counts, strict=True))
    return Case(rules, mode, hosts, window, now, per_day, per_week)


def opens_at(schedule: Schedule, moment: datetime) -> bool | None:
    """Whether the host's wall clock at `moment` reads a time inside that local date's
    hours; None for a moment in a repeated (ambiguous) local hour."""
    zone = ZoneInfo(schedule.time_zone)
    local = moment.astimezone(zone)
    twin = local.replace(fold=1 - local.fold).astimezone(UTC)
    if twin != moment:
        return None
    day, clock = local.date(), local.time().replace(tzinfo=None)
    hours = schedule.overrides.get(day, schedule.weekly.get(day.weekday(), []))
    return any(span.start <= clock and (clock < span.end or span.end == time(0)) for span in hours)


def overlaps(start: datetime, end: datetime, intervals: list[Interval]) -> bool:
    return any(other.start < end and start < other.end for other in intervals)


@PROPERTY_SETTINGS
@given(cases())
def test_every_slot_keeps_to_hours_free_time_notice_horizon_and_caps(case: Case) -> None:
    found = case.slots()
    rules = case.rules
    duration = timedelta(minutes=rules.duration)
    earliest = case.now + timedelta(minutes=rules.minimum_notice)
    horizon = case.now + timedelta(days=rules.horizon_days)
    hosts = {host.host_id: host for host in case.hosts}

    assert [slot.start for slot in found] == sorted({slot.start for slot in found})
    for slot in found:
        assert slot.start.utcoffset() == timedelta(0)
        assert slot.end == slot.start + duration
        assert case.window.start <= slot.start < case.window.end
        assert earliest <= slot.start < horizon
        if rules.daily_cap is not None:
            day = cap_day(slot.start, rules.cap_time_zone)
            assert case.per_day.get(day, 0) < rules.daily_cap
        if rules.weekly_cap is not None:
            week = cap_week(slot.start, rules.cap_time_zone)
            assert case.per_week.get(week, 0) < rules.weekly_cap
        if case.mode == HostMode.ROUND_ROBIN:
            assert slot.host_ids
            assert list(slot.host_ids) == [h for h in hosts if h in slot.host_ids]
        else:
            assert slot.host_ids == tuple(hosts)
        held_start = slot.start - timedelta(minutes=rules.buffer_before)
        held_end = slot.end + timedelta(minutes=rules.buffer_after)
        for host_id in slot.host_ids:
            host = hosts[host_id]
            assert not overlaps(held_start, held_end, [*host.busy, *host.held])
            moment = slot.start
            while moment < slot.end:
                assert opens_at(host.schedule, moment) in (True, None)
                moment += FIVE


@PROPERTY_SETTINGS
@given(cases(), st.lists(st.integers(0, 96 * 12), max_size=12))
def test_slot_at_offers_a_start_exactly_when_the_list_does(case: Case, probes: list[int]) -> None:
    found = {slot.start: slot for slot in case.slots()}
    for slot in found.values():
        assert case.slot_at(slot.start) == slot

    aligned = case.window.start.replace(second=0, microsecond=0)
    aligned -= timedelta(minutes=aligned.minute % 5)
    for probe in probes:
        start = aligned + probe * FIVE
        if case.window.start <= start < case.window.end:
            assert case.slot_at(start) == found.get(start)


@PROPERTY_SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_of_busy_and_held_intervals_changes_nothing(
    case: Case, rng: random.Random
) -> None:
    shuffled_hosts = []
    for host in case.hosts:
        busy, held = list(host.busy), list(host.held)
        rng.shuffle(busy)
        rng.shuffle(held)
        shuffled_hosts.append(HostTime(host.host_id, host.schedule, busy, held))
    shuffled = Case(
        case.rules,
        case.mode,
        shuffled_hosts,
        case.window,
        case.now,
        case.per_day,
        case.per_week,
    )

    assert shuffled.slots() == case.slots()
