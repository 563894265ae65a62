"""The slot engine: which starts a booking page offers, from hosts' local hours, overrides,
busy and held time, notice, horizon, buffers and caps."""

import random
import time as clock
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.booking.model import EventType, HostMode, Hours, Location, LocationKind, Schedule
from chalicelib.booking.ports import Interval
from chalicelib.booking.slots import (
    HostTime,
    Slot,
    SlotRules,
    cap_day,
    cap_week,
    find_slots,
    open_hours,
    rules_for,
    slot_at,
)
from chalicelib.errors import ValidationFailed

NINE_TO_FIVE = [Hours(time(9), time(17))]
EVERY_DAY = range(7)
WEEKDAYS = range(5)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule(
    zone: str = "UTC",
    hours: list[Hours] = NINE_TO_FIVE,
    days: range = EVERY_DAY,
    overrides: dict[date, list[Hours]] | None = None,
) -> Schedule:
    return Schedule(
        workspace_id="ws1",
        user_id="u1",
        time_zone=zone,
        weekly={day: list(hours) for day in days},
        overrides=overrides or {},
    )


def host(
    sched: Schedule,
    host_id: str = "h1",
    busy: list[Interval] | None = None,
    held: list[Interval] | None = None,
) -> HostTime:
    return HostTime(host_id=host_id, schedule=sched, busy=busy or [], held=held or [])


def rules(**changes: object) -> SlotRules:
    values: dict[str, object] = {
        "duration": 30,
        "step": 30,
        "buffer_before": 0,
        "buffer_after": 0,
        "minimum_notice": 0,
        "horizon_days": 3650,
        "daily_cap": None,
        "weekly_cap": None,
        "cap_time_zone": "UTC",
    }
    values.update(changes)
    return SlotRules(**values)  # type: ignore[arg-type]


def slots(
    hosts: list[HostTime],
    start: datetime,
    end: datetime,
    *,
    mode: HostMode = HostMode.ONE,
    now: datetime = LONG_AGO,
    per_day: Mapping[date, int] | None = None,
    per_week: Mapping[tuple[int, int], int] | None = None,
    **rule_changes: object,
) -> list[Slot]:
    return find_slots(
        rules(**rule_changes),
        mode,
        hosts,
        Interval(start, end),
        now,
        per_day or {},
        per_week or {},
    )


def local_day(zone: str, day: date) -> Interval:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return Interval(start, end)


def local_clock(moments: list[datetime], zone: str) -> list[str]:
    return [moment.astimezone(ZoneInfo(zone)).strftime("%H:%M") for moment in moments]


def starts(found: list[Slot]) -> list[datetime]:
    return [slot.start for slot in found]


# --- daylight-saving changes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        ("America/New_York", date(2026, 3, 7), date(2026, 3, 9)),  # spring forward 03-08
        ("America/New_York", date(2026, 10, 31), date(2026, 11, 2)),  # fall back 11-01
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),  # the change days
        ("Europe/Paris", date(2026, 3, 28), date(2026, 3, 30)),
        ("Europe/Paris", date(2026, 10, 24), date(2026, 10, 26)),
        ("Australia/Lord_Howe", date(2026, 4, 4), date(2026, 4, 6)),  # +11 -> +10:30
        ("Australia/Lord_Howe", date(2026, 10, 3), date(2026, 10, 5)),  # +10:30 -> +11
    ],
)
def test_nine_to_five_host_keeps_local_hours_on_both_sides_of_a_dst_change(
    zone: str, before: date, after: date
) -> None:
    hosts = [host(schedule(zone))]
    offsets = set()
    for day in (before, after):
        window = local_day(zone, day)
        found = slots(hosts, window.start, window.end)
        assert len(found) == 16
        assert local_clock([found[0].start], zone) == ["09:00"]
        assert local_clock([found[-1].end], zone) == ["17:00"]
        assert open_hours(hosts[0].schedule, window) == [Interval(found[0].start, found[-1].end)]
        offsets.add(found[0].start.astimezone(ZoneInfo(zone)).utcoffset())
    if before.month == after.month:
        assert len(offsets) == 2  # the UTC times moved, the local ones did not


def test_hours_in_the_skipped_spring_hour_open_at_the_moment_after_the_gap() -> None:
    zone = "America/New_York"
    spring = date(2026, 3, 8)  # 02:00 -> 03:00
    sched = schedule(zone, overrides={spring: [Hours(time(2), time(4))]})

    window = local_day(zone, spring)
    assert open_hours(sched, window) == [Interval(utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))]
    found = slots([host(sched)], window.start, window.end)
    assert local_clock(starts(found), zone) == ["03:00", "03:30"]


def test_hours_ending_inside_the_skipped_hour_end_at_the_moment_after_the_gap() -> None:
    zone = "America/New_York"
    spring = date(2026, 3, 8)
    sched = schedule(zone, overrides={spring: [Hours(time(1), time(2, 30))]})

    # 01:00 EST to 03:00 EDT: one real hour.
    assert open_hours(sched, local_day(zone, spring)) == [
        Interval(utc(2026, 3, 8, 6), utc(2026, 3, 8, 7))
    ]


def test_hours_starting_in_the_repeated_autumn_hour_start_at_its_first_occurrence() -> None:
    zone = "America/New_York"
    autumn = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
    sched = schedule(zone, overrides={autumn: [Hours(time(1, 30), time(3))]})

    # 01:30 EDT (05:30Z) to 03:00 EST (08:00Z).
    assert open_hours(sched, local_day(zone, autumn)) == [
        Interval(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))
    ]


def test_hours_ending_in_the_repeated_autumn_hour_end_at_its_second_occurrence() -> None:
    zone = "America/New_York"
    autumn = date(2026, 11, 1)
    sched = schedule(zone, overrides={autumn: [Hours(time(0), time(1, 30))]})

    # 00:00 EDT (04:00Z) to the second 01:30, EST (06:30Z).
    assert open_hours(sched, local_day(zone, autumn)) == [
        Interval(utc(2026, 11, 1, 4), utc(2026, 11, 1, 6, 30))
    ]
    found = slots([host(sched)], utc(2026, 11, 1), utc(2026, 11, 2), duration=60, step=60)
    assert starts(found) == [utc(2026, 11, 1, 4), utc(2026, 11, 1, 5)]


@pytest.mark.parametrize(
    ("zone", "nine_utc"),
    [
        ("Asia/Singapore", time(1, 0)),
        ("Asia/Kolkata", time(3, 30)),
        ("Asia/Kathmandu", time(3, 15)),
    ],
)
def test_zones_without_dst_open_at_the_same_utc_time_all_year(zone: str, nine_utc: time) -> None:
    hosts = [host(schedule(zone))]
    for day in (date(2026, 1, 14), date(2026, 3, 29), date(2026, 7, 15), date(2026, 11, 1)):
        window = local_day(zone, day)
        found = slots(hosts, window.start, window.end)
        assert found[0].start == datetime.combine(day, nine_utc, UTC)
        assert found[-1].end == found[0].start + timedelta(hours=8)


def test_slots_are_utc_whatever_zone_the_visitor_asks_in() -> None:
    hosts = [host(schedule("Europe/Paris"))]
    in_utc = slots(hosts, utc(2026, 6, 10), utc(2026, 6, 11))
    tokyo = ZoneInfo("Asia/Tokyo")
    in_tokyo = slots(hosts, utc(2026, 6, 10).astimezone(tokyo), utc(2026, 6, 11).astimezone(tokyo))

    assert in_tokyo == in_utc
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in in_utc)
    assert local_clock([in_utc[0].start], "Europe/Paris") == ["09:00"]


# --- notice, horizon, window ------------------------------------------------------------


def test_minimum_notice_hides_starts_too_close_to_now() -> None:
    hosts = [host(schedule())]
    found = slots(
        hosts, utc(2026, 6, 10), utc(2026, 6, 11), now=utc(2026, 6, 10, 10, 7), minimum_notice=60
    )

    assert found[0].start == utc(2026, 6, 10, 11, 30)  # the first grid start >= 11:07


def test_horizon_hides_starts_past_it() -> None:
    hosts = [host(schedule())]
    now = utc(2026, 6, 10, 12)
    found = slots(hosts, utc(2026, 6, 1), utc(2026, 7, 1), now=now, horizon_days=2)

    assert found[0].start == utc(2026, 6, 10, 12)
    assert found[-1].start == utc(2026, 6, 12, 11, 30)  # before now + 2 days
    assert all(now <= slot.start < now + timedelta(days=2) for slot in found)


def test_slots_start_inside_the_window_only() -> None:
    hosts = [host(schedule())]
    found = slots(hosts, utc(2026, 6, 10, 10, 10), utc(2026, 6, 10, 12))

    assert starts(found) == [
        utc(2026, 6, 10, 10, 30),
        utc(2026, 6, 10, 11),
        utc(2026, 6, 10, 11, 30),
    ]


# --- busy, held, buffers ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["busy", "held"])
def test_buffers_keep_time_free_around_busy_and_held_time(kind: str) -> None:
    taken = [Interval(utc(2026, 6, 10, 12), utc(2026, 6, 10, 13))]
    hosts = [host(schedule(), **{kind: taken})]  # type: ignore[arg-type]
    found = slots(
        hosts, utc(2026, 6, 10, 10), utc(2026, 6, 10, 15), buffer_before=15, buffer_after=15
    )

    # 11:00 holds 10:45-11:45; 11:30 would hold until 12:15; 13:00 from 12:45.
    assert starts(found) == [
        utc(2026, 6, 10, 10),
        utc(2026, 6, 10, 10, 30),
        utc(2026, 6, 10, 11),
        utc(2026, 6, 10, 13, 30),
        utc(2026, 6, 10, 14),
        utc(2026, 6, 10, 14, 30),
    ]


def test_busy_time_touching_a_meeting_leaves_it_free() -> None:
    taken = [Interval(utc(2026, 6, 10, 9), utc(2026, 6, 10, 10))]
    found = slots([host(schedule(), busy=taken)], utc(2026, 6, 10, 9), utc(2026, 6, 10, 11))

    assert starts(found) == [utc(2026, 6, 10, 10), utc(2026, 6, 10, 10, 30)]


# --- overrides --------------------------------------------------------------------------


def test_a_date_override_opens_extra_hours_on_a_saturday() -> None:
    saturday = date(2026, 6, 13)
    sched = schedule(days=WEEKDAYS, overrides={saturday: [Hours(time(10), time(12))]})
    found = slots([host(sched)], utc(2026, 6, 13), utc(2026, 6, 15))

    assert local_clock(starts(found), "UTC") == ["10:00", "10:30", "11:00", "11:30"]
    assert all(slot.start.date() == saturday for slot in found)  # Sunday stays closed


def test_an_empty_date_override_is_a_holiday() -> None:
    holiday = date(2026, 6, 10)
    sched = schedule(days=WEEKDAYS, overrides={holiday: []})
    found = slots([host(sched)], utc(2026, 6, 9), utc(2026, 6, 12))

    assert {slot.start.date() for slot in found} == {date(2026, 6, 9), date(2026, 6, 11)}


# --- caps -------------------------------------------------------------------------------


def test_a_full_day_is_counted_in_the_caps_time_zone() -> None:
    around_the_clock = schedule(hours=[Hours(time(0), time(0))])
    found = slots(
        [host(around_the_clock)],
        utc(2026, 6, 10),
        utc(2026, 6, 12),
        duration=60,
        step=60,
        daily_cap=2,
        cap_time_zone="America/Los_Angeles",
        per_day={date(2026, 6, 10): 2},
    )

    # 10 June in Los Angeles runs from 07:00Z on the 10th to 07:00Z on the 11th.
    assert utc(2026, 6, 10, 6) in starts(found)
    assert utc(2026, 6, 10, 7) not in starts(found)
    assert utc(2026, 6, 11, 6) not in starts(found)
    assert utc(2026, 6, 11, 7) in starts(found)


def test_a_full_iso_week_is_counted_in_the_caps_time_zone() -> None:
    around_the_clock = schedule(hours=[Hours(time(0), time(0))])
    # Week 24 of 2026 runs Monday 8 June to Sunday 14 June in Tokyo (+09:00).
    found = slots(
        [host(around_the_clock)],
        utc(2026, 6, 7),
        utc(2026, 6, 16),
        duration=60,
        step=60,
        weekly_cap=5,
        cap_time_zone="Asia/Tokyo",
        per_week={(2026, 24): 5, (2026, 23): 4},
    )

    assert utc(2026, 6, 7, 14) in starts(found)  # Sunday 23:00 in Tokyo, week 23
    assert utc(2026, 6, 7, 15) not in starts(found)  # Monday 00:00 in Tokyo
    assert utc(2026, 6, 14, 14) not in starts(found)
    assert utc(2026, 6, 14, 15) in starts(found)  # week 25


def test_cap_day_and_week_read_the_local_date() -> None:
    new_year_utc = utc(2026, 1, 1, 3)
    assert cap_day(new_year_utc, "America/New_York") == date(2025, 12, 31)
    assert cap_week(new_year_utc, "America/New_York") == (2026, 1)  # ISO week of 31 Dec 2025
    assert cap_day(new_year_utc, "UTC") == date(2026, 1, 1)
    assert cap_week(utc(2027, 1, 1, 12), "Asia/Tokyo") == (2026, 53)


# --- several hosts ----------------------------------------------------------------------


def test_collective_slots_need_every_host_free() -> None:
    alice = host(schedule(), "alice", busy=[Interval(utc(2026, 6, 10, 10), utc(2026, 6, 10, 11))])
    bob = host(schedule(), "bob", held=[Interval(utc(2026, 6, 10, 14), utc(2026, 6, 10, 15))])
    found = slots(
        [alice, bob],
        utc(2026, 6, 10),
        utc(2026, 6, 11),
        mode=HostMode.COLLECTIVE,
        duration=60,
        step=60,
    )

    assert local_clock(starts(found), "UTC") == [
        "09:00",
        "11:00",
        "12:00",
        "13:00",
        "15:00",
        "16:00",
    ]
    assert all(slot.host_ids == ("alice", "bob") for slot in found)


def test_collective_slots_lie_in_the_hours_every_host_shares() -> None:
    paris = host(schedule("Europe/Paris"), "paris")
    new_york = host(schedule("America/New_York"), "new_york")
    found = slots(
        [paris, new_york],
        utc(2026, 1, 14),
        utc(2026, 1, 15),
        mode=HostMode.COLLECTIVE,
        duration=60,
        step=60,
    )

    # 09:00-17:00 in New York is 15:00-23:00 in Paris: they share 15:00-17:00 Paris time.
    assert local_clock(starts(found), "Europe/Paris") == ["15:00", "16:00"]


def test_round_robin_lists_the_hosts_free_for_each_start() -> None:
    alice = host(schedule(), "alice", busy=[Interval(utc(2026, 6, 10, 10), utc(2026, 6, 10, 11))])
    bob = host(schedule(hours=[Hours(time(10), time(12))]), "bob")
    found = slots(
        [alice, bob],
        utc(2026, 6, 10, 9),
        utc(2026, 6, 10, 12),
        mode=HostMode.ROUND_ROBIN,
        duration=60,
        step=60,
    )

    assert [(slot.start.hour, slot.host_ids) for slot in found] == [
        (9, ("alice",)),
        (10, ("bob",)),
        (11, ("alice", "bob")),
    ]


def test_round_robin_offers_no_slot_when_no_host_is_free() -> None:
    busy_all_day = [Interval(utc(2026, 6, 10), utc(2026, 6, 11))]
    hosts = [
        host(schedule(), "alice", busy=busy_all_day),
        host(schedule(), "bob", held=busy_all_day),
    ]

    assert slots(hosts, utc(2026, 6, 10), utc(2026, 6, 11), mode=HostMode.ROUND_ROBIN) == []


# --- midnight, grid ---------------------------------------------------------------------


def test_hours_ending_at_midnight_run_to_the_end_of_the_day() -> None:
    sched = schedule(hours=[Hours(time(22), time(0))])
    found = slots([host(sched)], utc(2026, 6, 10), utc(2026, 6, 11))

    assert found[-1] == Slot(utc(2026, 6, 10, 23, 30), utc(2026, 6, 11), ("h1",))


def test_hours_to_midnight_and_from_the_next_midnight_merge_into_one_span() -> None:
    late, early = date(2026, 6, 10), date(2026, 6, 11)
    sched = schedule(
        days=range(0),
        overrides={late: [Hours(time(22), time(0))], early: [Hours(time(0), time(2))]},
    )
    assert open_hours(sched, Interval(utc(2026, 6, 9), utc(2026, 6, 13))) == [
        Interval(utc(2026, 6, 10, 22), utc(2026, 6, 11, 2))
    ]
    found = slots([host(sched)], utc(2026, 6, 10), utc(2026, 6, 12), duration=90, step=45)

    # One grid from 22:00; a meeting may run across midnight.
    assert local_clock(starts(found), "UTC") == ["22:00", "22:45", "23:30", "00:15"]


def test_a_step_smaller_than_the_duration_offers_overlapping_starts() -> None:
    sched = schedule(hours=[Hours(time(9), time(11))])
    found = slots([host(sched)], utc(2026, 6, 10), utc(2026, 6, 11), duration=60, step=15)

    assert local_clock(starts(found), "UTC") == ["09:00", "09:15", "09:30", "09:45", "10:00"]


def test_open_hours_are_clipped_to_the_window() -> None:
    found = open_hours(schedule(), Interval(utc(2026, 6, 10, 12), utc(2026, 6, 11, 10)))

    assert found == [
        Interval(utc(2026, 6, 10, 12), utc(2026, 6, 10, 17)),
        Interval(utc(2026, 6, 11, 9), utc(2026, 6, 11, 10)),
    ]


# --- slot_at ----------------------------------------------------------------------------


def test_slot_at_answers_a_listed_start_and_refuses_others() -> None:
    hosts = [host(schedule(), busy=[Interval(utc(2026, 6, 10, 12), utc(2026, 6, 10, 13))])]
    r, now = rules(), utc(2026, 6, 1)

    assert slot_at(r, HostMode.ONE, hosts, utc(2026, 6, 10, 9, 30), now, {}, {}) == Slot(
        utc(2026, 6, 10, 9, 30), utc(2026, 6, 10, 10), ("h1",)
    )
    for refused in (
        utc(2026, 6, 10, 9, 15),  # off the grid
        utc(2026, 6, 10, 12),  # busy
        utc(2026, 6, 10, 16, 45),  # would end after 17:00
        utc(2026, 6, 10, 8, 30),  # before the hours
        utc(2026, 5, 31, 10),  # in the past
    ):
        assert slot_at(r, HostMode.ONE, hosts, refused, now, {}, {}) is None


def test_an_around_the_clock_host_has_one_grid_whatever_the_window() -> None:
    hosts = [host(schedule(hours=[Hours(time(0), time(0))]))]
    r = rules(duration=25, step=25)

    def listed(since: datetime) -> list[Slot]:
        window = Interval(since, utc(2026, 6, 11))
        return find_slots(r, HostMode.ONE, hosts, window, LONG_AGO, {}, {})

    wednesday = listed(utc(2026, 6, 10))
    assert listed(utc(2026, 6, 10, 13)) == [
        slot for slot in wednesday if slot.start >= utc(2026, 6, 10, 13)
    ]
    a_week_before = listed(utc(2026, 6, 2))  # a window starting in the week before
    assert [slot for slot in a_week_before if slot.start >= utc(2026, 6, 10)] == wednesday
    assert all(
        slot_at(r, HostMode.ONE, hosts, slot.start, LONG_AGO, {}, {}) == slot for slot in wednesday
    )


# --- rules from the event type ----------------------------------------------------------


def event_type(**changes: object) -> EventType:
    values: dict[str, object] = {
        "workspace_id": "ws1",
        "id": "et1",
        "slug": "intro",
        "title": "Intro",
        "description": "",
        "description_html": "",
        "durations": [30, 60],
        "location": Location(LocationKind.LINK, "https://example.com/meet"),
        "host_mode": HostMode.ONE,
        "host_ids": ["u1"],
        "time_zone": "Europe/Paris",
    }
    values.update(changes)
    return EventType(**values)  # type: ignore[arg-type]


def test_rules_take_the_default_duration_and_step_from_the_event_type() -> None:
    found = rules_for(event_type(buffer_before=10, daily_cap=3))

    assert found == SlotRules(
        duration=30,
        step=30,
        buffer_before=10,
        buffer_after=0,
        minimum_notice=240,
        horizon_days=60,
        daily_cap=3,
        weekly_cap=None,
        cap_time_zone="Europe/Paris",
    )
    assert rules_for(event_type(slot_step=15), 60).duration == 60
    assert rules_for(event_type(slot_step=15), 60).step == 15


def test_rules_refuse_a_duration_the_event_type_does_not_offer() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules_for(event_type(), 45)

    assert refused.value.details[0]["field"] == "duration"


# --- speed ------------------------------------------------------------------------------


def test_sixty_days_with_500_busy_intervals_take_well_under_a_second() -> None:
    rng = random.Random(7)
    now = utc(2026, 6, 1)

    def taken(count: int) -> list[Interval]:
        found = []
        for _ in range(count):
            start = now + timedelta(minutes=5 * rng.randrange(60 * 24 * 12))
            found.append(Interval(start, start + timedelta(minutes=5 * rng.randint(1, 24))))
        return found

    hosts = [
        host(schedule("America/New_York", days=WEEKDAYS), "alice", taken(500), taken(100)),
        host(schedule("Europe/Paris"), "bob", taken(500), taken(100)),
    ]
    for mode in (HostMode.ROUND_ROBIN, HostMode.COLLECTIVE):
        began = clock.perf_counter()
        found = slots(
            hosts,
            now,
            now + timedelta(days=60),
            mode=mode,
            now=now,
            duration=30,
            step=15,
            buffer_before=10,
            buffer_after=10,
        )
        assert clock.perf_counter() - began < 0.5
        assert found
