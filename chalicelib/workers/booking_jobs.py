"""Booking-jobs worker: brings each changed booking's outside world up to date (Zoom,
the hosts' calendars, the contact, the ticket, the mails with their .ics, the reminders):
chalicelib/booking/sync.py.  A provider that fails fails the record, so SQS retries it and
finally moves it to the dead-letter queue; every step is safe to run again.  A job that ran
deletes its due item (chalicelib/booking/job_outbox.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.workers.batches import each_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

booking_jobs_bp = Blueprint(__name__)


def _run_one(record: SQSRecord) -> None:
    from chalicelib.booking.job_outbox import run_job
    from chalicelib.booking.sync import bring_up_to_date
    from chalicelib.store.booking_jobs_queue import job_from_json

    job = job_from_json(record.body)
    logger.append_keys(
        workspace_id=job.workspace_id, correlation_id=record.message_id, booking_id=job.booking_id
    )
    try:
        deps = bootstrap.booking_sync_deps()
        # Once it ran (done, superseded or gone), the job's due item goes: the sweep leaves it.
        outcome = run_job(
            bootstrap.booking_job_outbox(), job, lambda due: bring_up_to_date(deps, due)
        )
        logger.info(
            "booking job finished",
            extra={"change": job.change, "status": outcome.status, "steps": len(outcome.steps)},
        )
    finally:
        logger.remove_keys(["booking_id"])


@booking_jobs_bp.on_sqs_message(
    queue=get_settings().queues.booking_jobs, batch_size=1, name="booking_jobs_worker"
)
def booking_jobs_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _run_one)
