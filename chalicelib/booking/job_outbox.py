"""Booking jobs that cannot be lost: a transactional outbox beside the booking-jobs queue.

A booking change writes, in its own transaction, a "job due" item holding its `BookingJob`
(chalicelib/store/booking_repo.py, `BookingCommit.job`).  The job is then queued with the
item's reference in `extra["due"]`; the worker deletes the item once the job has run (done,
superseded or gone: `run_job`).  A job whose queueing was lost (the process died, SQS
refused) keeps its item, and the sweep of the reminders schedule queues it again once it is
`GRACE` old (`requeue_lost_jobs`).  Each item is queued again at most once: a conditional
write marks it first, so overlapping or repeated sweeps queue it once, and a job that fails
again after that is left to the queue's retries and dead-letter queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.booking.ports import BookingJob, BookingJobs
from chalicelib.observability import logger

DUE = "due"  # the key of the due item's reference in `BookingJob.extra`
GRACE = timedelta(minutes=10)  # a job still due this long after its commit was lost
LOOKBACK = timedelta(hours=24)  # the sweep reads the due items of the last day
MAX_PER_SWEEP = 500


@dataclass(frozen=True)
class DueJob:
    """A job written with its booking change and not run yet."""

    ref: str  # the item's reference (`extra["due"]` of the queued job)
    job: BookingJob  # as queued: its extra names `ref`
    committed_at: datetime


class JobOutbox(Protocol):
    """The due items of booking jobs (chalicelib/store/booking_job_outbox_repo.py)."""

    def ref(self, job: BookingJob, committed_at: datetime) -> str:
        """The reference of the item the job's commit writes (its key: no I/O)."""

    def due(self, since: datetime, until: datetime, limit: int) -> list[DueJob]:
        """Items committed in [since, until) and not queued again yet, oldest first (one
        bounded Query per UTC hour)."""

    def mark_requeued(self, due: DueJob, now: datetime) -> bool:
        """Marks the item queued again, unless it was already (or is gone): False then."""

    def unmark(self, due: DueJob) -> None:
        """The queue refused it: the next sweep tries again."""

    def done(self, ref: str) -> None:
        """Deletes the item (gone already is fine; a reference of anything else is ignored)."""


def with_due(outbox: JobOutbox | None, job: BookingJob, committed_at: datetime) -> BookingJob:
    """The job naming the due item its commit writes (unchanged without an outbox)."""
    if outbox is None:
        return job
    return replace(job, extra={**job.extra, DUE: outbox.ref(job, committed_at)})


def run_job[T](outbox: JobOutbox, job: BookingJob, bring: Callable[[BookingJob], T]) -> T:
    """Runs the job (`bring`: sync.bring_up_to_date) and, once it returned, deletes its due
    item; a job that raises keeps it."""
    outcome = bring(job)
    ref = job.extra.get(DUE)
    if ref:
        outbox.done(ref)
    return outcome


@dataclass
class SweepRun:
    found: int = 0  # due items older than GRACE not queued again before
    requeued: int = 0
    held_elsewhere: int = 0  # another sweep queued it first
    failed: int = 0  # the queue refused it (tried again next sweep)


def requeue_lost_jobs(
    outbox: JobOutbox,
    jobs: BookingJobs,
    now: datetime,
    keep_going: Callable[[], bool] = lambda: True,
) -> SweepRun:
    """Queues again, once each, the jobs committed in the last LOOKBACK up to now - GRACE
    whose item is still there (their first queueing was lost, or their run failed)."""
    run = SweepRun()
    found = outbox.due(now - LOOKBACK, now - GRACE, MAX_PER_SWEEP)
    run.found = len(found)
    for due in found:
        if not keep_going():
            break
        if not outbox.mark_requeued(due, now):
            run.held_elsewhere += 1
            continue
        try:
            jobs.enqueue(due.job)
        except Exception:
            logger.exception(
                "booking job not queued again",
                extra={"booking_id": due.job.booking_id, "due": due.ref},
            )
            outbox.unmark(due)
            run.failed += 1
            continue
        run.requeued += 1
        logger.warning(
            "booking job queued again",
            extra={
                "workspace_id": due.job.workspace_id,
                "booking_id": due.job.booking_id,
                "change": due.job.change,
                "sequence": due.job.sequence,
                "committed_at": due.committed_at.isoformat(),
            },
        )
    return run
