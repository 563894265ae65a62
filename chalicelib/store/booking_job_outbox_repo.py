"""pynamodb implementation of `JobOutbox` (chalicelib/booking/job_outbox.py).

One item per booking job, written in the booking change's transaction (`due_item`, used by
booking_repo.commit_booking) in the partition of the UTC hour of the commit
(`BKJOBDUE#<hour>`), sorted by commit time: the sweep reads the last day's hours with one
bounded Query each.  The worker deletes the item once the job ran; the sweep marks it
(`requeued_at`, a conditional update) before queueing it again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.booking.job_outbox import DUE, DueJob
from chalicelib.booking.ports import BookingJob
from chalicelib.observability import logger
from chalicelib.store import keys
from chalicelib.store.booking_jobs_queue import job_from_json, job_json
from chalicelib.store.models import BookingJobDueItem, Item

KEEP_SECONDS = 3 * 24 * 3600  # after the commit: the sweep looks back one day
_CONDITION_FAILED = "ConditionalCheckFailedException"
_PK_PREFIX = keys.booking_jobs_due_pk("")


def _iso(moment: datetime) -> str:
    # Microseconds: two changes of one booking in the same second keep two items.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def due_ref(job: BookingJob, committed_at: datetime) -> str:
    pk = keys.booking_jobs_due_pk(_hour(committed_at))
    sk = keys.booking_job_due_sk(_iso(committed_at), job.workspace_id, job.booking_id, job.sequence)
    return f"{pk}|{sk}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """(PK, SK) of a due item's reference; None for anything that does not name one."""
    pk, bar, sk = ref.partition("|")
    if not bar or not pk.startswith(_PK_PREFIX) or not sk or "|" in sk:
        return None
    return pk, sk


def due_item(job: BookingJob, committed_at: datetime) -> BookingJobDueItem:
    """The item a booking change's transaction writes for its job: at the reference the job
    names (`extra["due"]`), else at the one of its commit time."""
    ref = job.extra.get(DUE) or due_ref(job, committed_at)
    key = parse_ref(ref)
    if key is None:
        raise ValueError(f"not a booking job due reference: {ref!r}")
    named = replace(job, extra={**job.extra, DUE: ref})
    return BookingJobDueItem(
        key[0],
        key[1],
        workspace_id=job.workspace_id,
        booking_id=job.booking_id,
        job=job_json(named),
        committed_at=committed_at,
        expires_at=int(committed_at.timestamp()) + KEEP_SECONDS,
    )


def _due(item: BookingJobDueItem) -> DueJob:
    return DueJob(
        ref=f"{item.pk}|{item.sk}", job=job_from_json(item.job), committed_at=item.committed_at
    )


class DynamoJobOutbox:
    def ref(self, job: BookingJob, committed_at: datetime) -> str:
        return due_ref(job, committed_at)

    def due(self, since: datetime, until: datetime, limit: int) -> list[DueJob]:
        found: list[DueJob] = []
        hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        low, high = _iso(since), _iso(until)
        while hour <= until and len(found) < limit:
            for item in BookingJobDueItem.query(
                keys.booking_jobs_due_pk(_hour(hour)),
                BookingJobDueItem.sk.between(low, high),  # "<time>#..." sorts after "<time>"
                filter_condition=BookingJobDueItem.requeued_at.does_not_exist(),
                consistent_read=True,
                limit=limit - len(found),
            ):
                if isinstance(item, BookingJobDueItem):
                    found.append(_due(item))
            hour += timedelta(hours=1)
        return found[:limit]

    def mark_requeued(self, due: DueJob, now: datetime) -> bool:
        key = parse_ref(due.ref)
        if key is None:
            return False
        try:
            BookingJobDueItem(*key).update(
                actions=[BookingJobDueItem.requeued_at.set(now)],
                condition=Item.pk.exists() & BookingJobDueItem.requeued_at.does_not_exist(),
            )
        except UpdateError as e:
            if e.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def unmark(self, due: DueJob) -> None:
        key = parse_ref(due.ref)
        if key is None:
            return
        try:
            BookingJobDueItem(*key).update(
                actions=[BookingJobDueItem.requeued_at.remove()], condition=Item.pk.exists()
            )
        except UpdateError as e:
            if e.cause_response_code != _CONDITION_FAILED:
                raise

    def done(self, ref: str) -> None:
        key = parse_ref(ref)
        if key is None:
            logger.warning("booking job names no due item", extra={"due": ref[:200]})
            return
        BookingJobDueItem(*key).delete()
