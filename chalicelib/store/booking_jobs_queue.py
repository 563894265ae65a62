"""The booking jobs queue (SQS): `BookingJobs` for the booking core, read back by the
booking-jobs worker (chalicelib/workers/booking_jobs.py)."""

from __future__ import annotations

import json
from dataclasses import asdict

from chalicelib.booking.ports import BookingJob
from chalicelib.store.queues import SqsQueue


def job_json(job: BookingJob) -> str:
    return json.dumps(asdict(job), separators=(",", ":"))


def job_from_json(raw: str) -> BookingJob:
    data = json.loads(raw)
    return BookingJob(
        workspace_id=str(data["workspace_id"]),
        booking_id=str(data["booking_id"]),
        change=str(data["change"]),
        sequence=int(data["sequence"]),
        previous_start=data.get("previous_start"),
        actor=str(data.get("actor", "invitee")),
        extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
    )


class SqsBookingJobs:
    """Raises ServiceUnavailable when SQS does not take the job."""

    def __init__(self, queue: SqsQueue) -> None:
        self.queue = queue

    def enqueue(self, job: BookingJob) -> None:
        self.queue.send(job_json(job))
