"""Booking jobs cannot be lost: each booking change writes its job as due in its own
transaction, the worker deletes it once the job ran, and the reminders schedule's sweep
queues again, once, a job still due ten minutes after its commit (against in-memory fakes of
the store, the outbox and the queue)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

import pytest

from chalicelib.booking import bookings
from chalicelib.booking.deps import BookingDeps, BookingPolicy
from chalicelib.booking.event_types import create_event_type
from chalicelib.booking.job_outbox import DUE, DueJob, requeue_lost_jobs, run_job
from chalicelib.booking.model import Hours, Schedule
from chalicelib.booking.ports import BookingJob
from chalicelib.booking.store_port import BookingCommit
from chalicelib.booking.sync import SyncOutcome
from chalicelib.store.booking_job_outbox_repo import due_item, due_ref, parse_ref
from tests.unit.test_booking_rules import (
    HOSTS,
    SECRET,
    WS,
    Attempts,
    FakeAccounts,
    FakeCalendars,
    FakeStore,
    FixedClock,
    at,
    book,
    draft,
    host,
)


@dataclass
class _Due:
    due: DueJob
    requeued_at: datetime | None = None


class FakeOutbox:
    """The due items in memory, with the DynamoDB ones' conditions."""

    def __init__(self) -> None:
        self.items: dict[str, _Due] = {}

    def ref(self, job: BookingJob, committed_at: datetime) -> str:
        return due_ref(job, committed_at)

    def write(self, job: BookingJob, committed_at: datetime) -> None:
        """What the booking transaction writes (booking_repo.commit_booking)."""
        ref = job.extra[DUE]
        self.items[ref] = _Due(DueJob(ref, job, committed_at))

    def due(self, since: datetime, until: datetime, limit: int) -> list[DueJob]:
        found = [
            d.due
            for d in self.items.values()
            if d.requeued_at is None and since <= d.due.committed_at < until
        ]
        return sorted(found, key=lambda d: d.committed_at)[:limit]

    def mark_requeued(self, due: DueJob, now: datetime) -> bool:
        found = self.items.get(due.ref)
        if found is None or found.requeued_at is not None:
            return False
        found.requeued_at = now
        return True

    def unmark(self, due: DueJob) -> None:
        if due.ref in self.items:
            self.items[due.ref].requeued_at = None

    def done(self, ref: str) -> None:
        self.items.pop(ref, None)


class OutboxStore(FakeStore):
    """The booking store whose transaction also writes the change's job as due."""

    def __init__(self, outbox: FakeOutbox) -> None:
        super().__init__()
        self.outbox = outbox

    def commit_booking(self, commit: BookingCommit):
        stored = super().commit_booking(commit)
        if commit.job is not None:
            self.outbox.write(commit.job, stored.updated_at)
        return stored


class Queue:
    """The booking-jobs queue; `down` refuses every job (SQS failing, or the process dying
    between the commit and the send)."""

    def __init__(self) -> None:
        self.jobs: list[BookingJob] = []
        self.down = False

    def enqueue(self, job: BookingJob) -> None:
        if self.down:
            raise RuntimeError("SQS refused the message")
        self.jobs.append(job)


@pytest.fixture()
def deps() -> BookingDeps:
    outbox = FakeOutbox()
    store = OutboxStore(outbox)
    all_day = Schedule(WS, "", "UTC", {d: [Hours(time(9), time(17))] for d in range(7)})
    for user_id in HOSTS:
        store.schedules[user_id] = replace(all_day, user_id=user_id)
    return BookingDeps(
        store=store,
        busy=FakeCalendars(),
        jobs=Queue(),
        clock=FixedClock(),
        policy=BookingPolicy(public_base_url="https://api.helptal.test", token_secret=SECRET),
        accounts=FakeAccounts(HOSTS),
        attempts=Attempts(),
        human_check=None,
        sleep=lambda seconds: None,
        outbox=outbox,
    )


def _outbox(deps: BookingDeps) -> FakeOutbox:
    assert isinstance(deps.outbox, FakeOutbox)
    return deps.outbox


def _queue(deps: BookingDeps) -> Queue:
    assert isinstance(deps.jobs, Queue)
    return deps.jobs


def _sweep(deps: BookingDeps, after: timedelta):
    return requeue_lost_jobs(_outbox(deps), deps.jobs, deps.clock.now() + after)


def test_a_booking_whose_job_was_not_queued_is_queued_by_the_next_sweep(deps):
    create_event_type(deps, WS, draft())
    _queue(deps).down = True
    booking, _ = book(deps, at(10))
    assert _queue(deps).jobs == []
    [due] = _outbox(deps).items.values()
    assert (due.due.job.booking_id, due.due.job.change) == (booking.id, "created")

    _queue(deps).down = False
    run = _sweep(deps, timedelta(minutes=15))

    assert (run.found, run.requeued) == (1, 1)
    [job] = _queue(deps).jobs
    assert (job.workspace_id, job.booking_id, job.change, job.sequence, job.actor) == (
        WS,
        booking.id,
        "created",
        0,
        "invitee",
    )
    assert job.extra[DUE] == due.due.ref  # the worker deletes the item once it ran


def test_a_queued_job_names_the_due_item_its_commit_wrote(deps):
    create_event_type(deps, WS, draft())
    booking, _ = book(deps, at(10))
    [job] = _queue(deps).jobs
    assert list(_outbox(deps).items) == [job.extra[DUE]]
    assert parse_ref(job.extra[DUE]) == (
        f"BKJOBDUE#{deps.clock.now():%Y-%m-%dT%H}",
        f"{deps.clock.now():%Y-%m-%dT%H:%M:%S.%fZ}#{WS}#{booking.id}#0",
    )


def test_every_change_writes_its_own_job_as_due_and_a_lost_cancel_is_queued_again(deps):
    create_event_type(deps, WS, draft())
    booking, _ = book(deps, at(10))
    deps.clock.moment += timedelta(minutes=1)
    bookings.host_reschedule(deps, host("ann"), booking.id, at(11))
    deps.clock.moment += timedelta(minutes=1)
    _queue(deps).down = True
    bookings.host_cancel(deps, host("ann"), booking.id, "Ill")
    assert [(j.change, j.sequence) for j in _queue(deps).jobs] == [
        ("created", 0),
        ("rescheduled", 1),
    ]
    for job in list(_queue(deps).jobs):  # the worker ran the two queued jobs
        run_job(_outbox(deps), job, lambda j: SyncOutcome("done"))
    [left] = _outbox(deps).items.values()
    assert (left.due.job.change, left.due.job.sequence) == ("cancelled", 2)

    _queue(deps).down = False
    _sweep(deps, timedelta(minutes=12))

    [*_, requeued] = _queue(deps).jobs
    assert (requeued.change, requeued.sequence, requeued.actor) == ("cancelled", 2, "user:ann")


@pytest.mark.parametrize("status", ["done", "superseded", "gone"])
def test_a_job_that_ran_deletes_its_due_item(deps, status):
    create_event_type(deps, WS, draft())
    book(deps, at(10))
    [job] = _queue(deps).jobs

    outcome = run_job(_outbox(deps), job, lambda j: SyncOutcome(status))

    assert outcome.status == status
    assert _outbox(deps).items == {}
    assert _sweep(deps, timedelta(minutes=15)).requeued == 0


def test_a_job_that_fails_keeps_its_due_item(deps):
    create_event_type(deps, WS, draft())
    book(deps, at(10))
    [job] = _queue(deps).jobs

    def failing(job: BookingJob) -> SyncOutcome:
        raise RuntimeError("Zoom is down")

    with pytest.raises(RuntimeError):
        run_job(_outbox(deps), job, failing)
    assert len(_outbox(deps).items) == 1


def test_two_sweeps_queue_a_lost_job_once(deps):
    create_event_type(deps, WS, draft())
    _queue(deps).down = True
    book(deps, at(10))
    _queue(deps).down = False

    first = _sweep(deps, timedelta(minutes=15))
    second = _sweep(deps, timedelta(minutes=20))
    again = _sweep(deps, timedelta(minutes=15))  # the same tick fired twice

    assert (first.requeued, second.requeued, again.requeued) == (1, 0, 0)
    assert len(_queue(deps).jobs) == 1
    assert len(_outbox(deps).items) == 1  # its run deletes it; a failed run leaves it


def test_a_sweep_the_queue_refuses_leaves_the_job_for_the_next_sweep(deps):
    create_event_type(deps, WS, draft())
    _queue(deps).down = True
    book(deps, at(10))

    refused = _sweep(deps, timedelta(minutes=15))
    _queue(deps).down = False
    later = _sweep(deps, timedelta(minutes=20))

    assert (refused.requeued, refused.failed, later.requeued) == (0, 1, 1)
    assert len(_queue(deps).jobs) == 1


def test_a_due_item_younger_than_ten_minutes_or_older_than_a_day_is_left(deps):
    create_event_type(deps, WS, draft())
    _queue(deps).down = True
    book(deps, at(10))
    _queue(deps).down = False

    assert _sweep(deps, timedelta(minutes=9, seconds=59)).found == 0
    assert _sweep(deps, timedelta(hours=24, minutes=1)).found == 0
    assert _queue(deps).jobs == []
    assert _sweep(deps, timedelta(minutes=10, seconds=1)).requeued == 1


def test_a_reference_to_anything_but_a_due_item_deletes_nothing():
    job = BookingJob(WS, "B1", "created", 0)
    moment = datetime.fromisoformat("2030-03-04T08:00:00+00:00")
    assert parse_ref(due_ref(job, moment)) is not None
    for forged in ("WS#WS1|BOOKING#B1", "BKJOBDUE#2030|", "no bar", "BKJOBDUE#x|a|b"):
        assert parse_ref(forged) is None
    with pytest.raises(ValueError):
        due_item(replace(job, extra={DUE: "WS#WS1|BOOKING#B1"}), moment)
