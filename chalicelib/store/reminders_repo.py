"""pynamodb implementation of `ReminderStore` (chalicelib/booking/reminders.py).

One item per reminder, in the partition of the UTC hour it is due (`BKREMIND#<hour>`),
sorted by due time: the schedule reads the few hours it looks back over with one Query
each.  Items carry ids only; holding and finishing are conditional updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.booking.reminders import DueReminder
from chalicelib.store import keys
from chalicelib.store.models import BookingReminderItem, Item

KEEP_SECONDS = 2 * 24 * 3600  # after the due time
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _key(reminder: DueReminder) -> tuple[str, str]:
    return (
        keys.booking_reminders_due_pk(_hour(reminder.due)),
        keys.booking_reminder_sk(
            _iso(reminder.due),
            reminder.workspace_id,
            reminder.booking_id,
            reminder.minutes,
            reminder.sequence,
        ),
    )


def _reminder(item: BookingReminderItem) -> DueReminder:
    return DueReminder(
        workspace_id=item.workspace_id,
        booking_id=item.booking_id,
        minutes=int(item.minutes),
        sequence=int(item.sequence),
        start=item.start,
        due=item.due,
    )


class DynamoReminderStore:
    def schedule(self, reminders: list[DueReminder]) -> None:
        for reminder in reminders:
            pk, sk = _key(reminder)
            item = BookingReminderItem(
                pk,
                sk,
                workspace_id=reminder.workspace_id,
                booking_id=reminder.booking_id,
                minutes=reminder.minutes,
                sequence=reminder.sequence,
                start=reminder.start,
                due=reminder.due,
                expires_at=int(reminder.due.timestamp()) + KEEP_SECONDS,
            )
            try:
                item.save(condition=Item.pk.does_not_exist())
            except PutError as e:  # written by an earlier run of the job: keep its state
                if e.cause_response_code != _CONDITION_FAILED:
                    raise

    def due(self, since: datetime, until: datetime, limit: int) -> list[DueReminder]:
        found: list[DueReminder] = []
        hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        low, high = _iso(since), _iso(until)
        while hour <= until and len(found) < limit:
            for item in BookingReminderItem.query(
                keys.booking_reminders_due_pk(_hour(hour)),
                BookingReminderItem.sk.between(low, f"{high}#~"),
                filter_condition=BookingReminderItem.outcome.does_not_exist(),
                consistent_read=True,
                limit=limit - len(found),
            ):
                if item.sk > low:  # (since, until]
                    found.append(_reminder(item))
            hour += timedelta(hours=1)
        return found[:limit]

    def claim(self, reminder: DueReminder, now: datetime, hold_seconds: int) -> bool:
        pk, sk = _key(reminder)
        now_epoch = int(now.timestamp())
        held = BookingReminderItem.held_until
        try:
            BookingReminderItem(pk, sk).update(
                actions=[held.set(now_epoch + hold_seconds)],
                condition=Item.pk.exists()
                & BookingReminderItem.outcome.does_not_exist()
                & (held.does_not_exist() | (held <= now_epoch)),
            )
        except UpdateError as e:
            if e.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def finish(self, reminder: DueReminder, outcome: str, now: datetime) -> None:
        pk, sk = _key(reminder)
        try:
            BookingReminderItem(pk, sk).update(
                actions=[
                    BookingReminderItem.outcome.set(outcome[:200]),
                    BookingReminderItem.done_at.set(now),
                ],
                condition=Item.pk.exists() & BookingReminderItem.outcome.does_not_exist(),
            )
        except UpdateError as e:
            if e.cause_response_code != _CONDITION_FAILED:
                raise
