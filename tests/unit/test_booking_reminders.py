"""Booking reminders: each reminder of each booking is mailed exactly once, whether the
schedule fires twice, late, or while another run is still going; reminders of a booking
that moved, was cancelled or has started are never sent."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

from chalicelib.booking import sync
from chalicelib.booking.model import BookingStatus
from chalicelib.booking.ports import BookingJob
from chalicelib.booking.reminders import reminders_for
from chalicelib.booking.sync import bring_up_to_date, send_due_reminders
from tests.fixtures.booking_jobs_fakes import (
    HOST,
    NOW,
    START,
    WS,
    World,
    booking,
    event_type,
)

SECOND = "01HBOOKING0000000000000002"


def _world() -> World:
    world = World()
    world.store.add(event_type(), booking(), booking(id=SECOND, start=START + timedelta(hours=2)))
    for booking_id in (booking().id, SECOND):
        bring_up_to_date(world.sync_deps(), BookingJob(WS, booking_id, "created", 0))
    world.mail.deliver()
    return world


def _reminder_mails(world: World) -> Counter[str]:
    return Counter(m.mail_id for m in world.mail.deliver() if ":reminder:" in m.mail_id)


def test_fired_twice_at_the_same_time_and_once_late_each_reminder_is_mailed_once():
    world = _world()
    tick = START - timedelta(minutes=58)  # the 1-hour reminder of the first booking is due

    late = START + timedelta(minutes=75)  # the second booking's is 15 minutes late
    for at in (tick, tick, late, late - timedelta(minutes=60), late):
        send_due_reminders(world.mail_deps(), at)

    sent = _reminder_mails(world)
    assert set(sent.values()) == {1}
    assert sorted(sent) == sorted(
        f"booking:{b}:0:reminder:{m}:{who}"
        for b, m in [(booking().id, 60), (SECOND, 60)]
        for who in ("invitee", f"host-{HOST}")
    )


def test_the_day_before_and_the_hour_before_are_each_sent_once_over_a_day_of_ticks():
    world = _world()
    at = START - timedelta(days=1, minutes=30)
    while at < START + timedelta(hours=3):
        send_due_reminders(world.mail_deps(), at)
        at += timedelta(minutes=5)

    sent = _reminder_mails(world)
    assert len(sent) == 8 and set(sent.values()) == {1}  # 2 bookings x 2 reminders x 2 readers


def test_a_reminder_whose_meeting_has_started_is_skipped():
    world = _world()  # the first booking's hour-before reminder was due at START - 60 min

    run = send_due_reminders(world.mail_deps(), START + timedelta(minutes=1))
    again = send_due_reminders(world.mail_deps(), START + timedelta(minutes=6))

    assert _reminder_mails(world) == Counter()
    assert (run.skipped, again.due) == (1, 0)


def test_a_rescheduled_bookings_old_reminder_is_not_sent_but_its_new_one_is():
    world = _world()
    later = START + timedelta(days=1)
    world.store.change(WS, booking().id, start=later, end=later + timedelta(minutes=30), sequence=1)
    bring_up_to_date(world.sync_deps(), BookingJob(WS, booking().id, "rescheduled", 1))
    world.mail.deliver()

    send_due_reminders(world.mail_deps(), START - timedelta(minutes=59))
    send_due_reminders(world.mail_deps(), later - timedelta(minutes=59))

    sent = _reminder_mails(world)
    mine = sorted(m for m in sent if booking().id in m)
    assert mine == [
        f"booking:{booking().id}:1:reminder:60:host-{HOST}",
        f"booking:{booking().id}:1:reminder:60:invitee",
    ]


def test_a_cancelled_bookings_reminders_are_not_sent():
    world = _world()
    world.store.change(WS, booking().id, status=BookingStatus.CANCELLED, sequence=1)

    send_due_reminders(world.mail_deps(), START - timedelta(minutes=59))

    assert not any(booking().id in m for m in _reminder_mails(world))


def test_two_overlapping_runs_send_each_reminder_once():
    world = _world()
    deps = world.mail_deps()
    tick = START - timedelta(minutes=59)
    inner_runs = []
    original = sync.notices.reminder_mails

    def reminder_mails_while_another_run_starts(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not inner_runs:
            inner_runs.append(send_due_reminders(deps, tick + timedelta(minutes=5)))
        return original(*args, **kwargs)

    sync.notices.reminder_mails = reminder_mails_while_another_run_starts  # type: ignore[assignment]
    try:
        send_due_reminders(deps, tick)
    finally:
        sync.notices.reminder_mails = original  # type: ignore[assignment]

    assert inner_runs[0].held_elsewhere == 1
    sent = _reminder_mails(world)
    assert len(sent) == 2 and set(sent.values()) == {1}  # the hour-before one, two readers


def test_a_run_cut_short_after_queueing_is_finished_by_a_later_run_without_a_second_mail():
    world = _world()
    deps = world.mail_deps()
    tick = START - timedelta(minutes=59)
    original = world.reminders.finish

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the function timed out")

    world.reminders.finish = crash  # type: ignore[method-assign]
    with contextlib.suppress(RuntimeError):
        send_due_reminders(deps, tick)
    world.reminders.finish = original  # type: ignore[method-assign]
    first = _reminder_mails(world)

    held = send_due_reminders(deps, tick + timedelta(minutes=5))
    finished = send_due_reminders(deps, tick + timedelta(minutes=15))  # the hold ran out

    assert len(first) == 2  # queued before the crash
    assert (held.held_elsewhere, finished.sent) == (1, 1)
    assert _reminder_mails(world) == Counter()  # the same mail ids: nothing new
    assert send_due_reminders(deps, tick + timedelta(minutes=20)).due == 0


def test_a_booking_made_an_hour_before_gets_no_day_before_reminder():
    soon = booking(start=NOW + timedelta(minutes=90))
    assert [r.minutes for r in reminders_for(soon, event_type(), NOW)] == [60]
    pending = booking(status=BookingStatus.PENDING)
    assert reminders_for(pending, event_type(), NOW) == []
