"""Booking reminders: due items written by the booking job for a confirmed booking (one per
reminder of its event type, e.g. 24 h and 1 h before), and the schedule that sends them.

The schedule takes "now" from its event and reads what fell due in the last
`LOOKBACK_HOURS` (a few hour buckets, one Query each, no Scan).  Each item is held by a
conditional write before its mail is queued and marked done after, so a run that overlaps
another, a tick fired twice and a late tick send it once; the mail's id is deterministic
(`booking:<id>:<sequence>:reminder:<minutes>:<reader>`), so even a run cut short between
queueing and marking queues it once.  An item whose booking moved on (another sequence or
start, cancelled, declined) or whose meeting has started is marked skipped, never sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.booking.model import Booking, BookingStatus, EventType

LOOKBACK_HOURS = 3
CLAIM_SECONDS = 600  # a run that took an item and died frees it after this
MAX_PER_RUN = 500


@dataclass(frozen=True)
class DueReminder:
    workspace_id: str
    booking_id: str
    minutes: int  # before the start
    sequence: int  # the booking's when the item was written
    start: datetime  # the booking's start then
    due: datetime  # start - minutes

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.workspace_id, self.booking_id, self.minutes, self.sequence)


class ReminderStore(Protocol):
    def schedule(self, reminders: list[DueReminder]) -> None:
        """Writes the due items (again: an item written already is left as it is)."""

    def due(self, since: datetime, until: datetime, limit: int) -> list[DueReminder]:
        """Items due in (since, until] not done yet, earliest first."""

    def claim(self, reminder: DueReminder, now: datetime, hold_seconds: int) -> bool:
        """Holds the item until now + hold_seconds unless it is done or held by another run
        at `now`; False when it could not be held."""

    def finish(self, reminder: DueReminder, outcome: str, now: datetime) -> None:
        """Marks the item done ("sent" or "skipped: ...")."""


def reminders_for(booking: Booking, event_type: EventType, now: datetime) -> list[DueReminder]:
    """The due items of a confirmed booking: one per reminder of its event type still ahead
    of `now` (a booking made an hour before its start gets no 24-hour reminder)."""
    if booking.status is not BookingStatus.CONFIRMED:
        return []
    found = []
    for minutes in sorted(set(event_type.reminders)):
        if minutes <= 0:
            continue
        due = booking.start - timedelta(minutes=minutes)
        if due > now:
            found.append(
                DueReminder(
                    booking.workspace_id, booking.id, minutes, booking.sequence, booking.start, due
                )
            )
    return found


def still_wanted(reminder: DueReminder, booking: Booking | None, now: datetime) -> str:
    """ "" when the reminder is to be sent now; else why it is skipped."""
    if booking is None:
        return "booking gone"
    if booking.status is not BookingStatus.CONFIRMED:
        return f"booking {booking.status.value}"
    if booking.sequence != reminder.sequence or booking.start != reminder.start:
        return "booking moved"
    if now >= booking.start:
        return "meeting started"
    return ""


@dataclass
class ReminderRun:
    due: int = 0
    sent: int = 0
    skipped: int = 0
    held_elsewhere: int = 0


def run_due(
    reminders: ReminderStore,
    booking_of: Callable[[str, str], Booking | None],
    send: Callable[[Booking, int, datetime], None],
    now: datetime,
    keep_going: Callable[[], bool] = lambda: True,
) -> ReminderRun:
    """Sends every reminder due in the last LOOKBACK_HOURS up to `now`, once.  `send` queues
    the reminder's mails (idempotent by mail id); `booking_of(workspace, booking)` reads the
    booking as it is now."""
    run = ReminderRun()
    items = reminders.due(now - timedelta(hours=LOOKBACK_HOURS), now, MAX_PER_RUN)
    run.due = len(items)
    for reminder in items:
        if not keep_going():
            break
        if not reminders.claim(reminder, now, CLAIM_SECONDS):
            run.held_elsewhere += 1
            continue
        booking = booking_of(reminder.workspace_id, reminder.booking_id)
        why_not = still_wanted(reminder, booking, now)
        if why_not or booking is None:
            reminders.finish(reminder, f"skipped: {why_not}", now)
            run.skipped += 1
            continue
        send(booking, reminder.minutes, now)
        reminders.finish(reminder, "sent", now)
        run.sent += 1
    return run
