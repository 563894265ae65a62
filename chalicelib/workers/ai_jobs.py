"""AI-jobs worker: makes triage, drafts, summaries, translations and tone guides.

One job per invocation (a model call can take many seconds).  When the provider cannot
answer (429, 529, 5xx, timeouts) the job goes back on the queue, invisible for the provider's
`retry-after` or an exponential backoff; on the queue's last delivery the result is marked
failed and the message moves on to the dead-letter queue.  Every other outcome, failures
included, is stored on the result and the message is done."""

from __future__ import annotations

import random
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

    from chalicelib.ai.model import AiJob

ai_jobs_bp = Blueprint(__name__)
BASE_BACKOFF_SECONDS = 20
MAX_BACKOFF_SECONDS = 900


def backoff_seconds(attempt: int, retry_after: float | None) -> int:
    """The provider's hint when it gave one, else 20 s doubling per attempt, with jitter."""
    if retry_after is not None:
        return int(min(MAX_BACKOFF_SECONDS, max(1.0, retry_after)))
    ceiling = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, attempt - 1))
    return int(random.uniform(ceiling / 2, ceiling))


def _run_one(record: SQSRecord) -> None:
    from chalicelib.ai.model import AiJob

    job = AiJob.from_json(record.body)
    attempt = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(
        workspace_id=job.workspace_id, correlation_id=record.message_id, ai_job=job.kind.value
    )
    try:
        _run(job, attempt, record)
    finally:
        logger.remove_keys(["ai_job"])


def _run(job: AiJob, attempt: int, record: SQSRecord) -> None:
    from chalicelib.ai.jobs import run_job
    from chalicelib.ai.ports import LlmUnavailable
    from chalicelib.store.queues import MAX_RECEIVE_COUNT

    try:
        result = run_job(bootstrap.ai_deps(), job, last_attempt=attempt >= MAX_RECEIVE_COUNT)
    except LlmUnavailable as e:
        delay = backoff_seconds(attempt, e.retry_after)
        logger.warning(
            "AI provider unavailable; job retried", extra={"attempt": attempt, "delay": delay}
        )
        if attempt < MAX_RECEIVE_COUNT:
            bootstrap.ai_job_queue().queue.delay(record.receipt_handle, delay)
        raise
    logger.info(
        "AI job finished",
        extra={"status": result.status.value if result else None, "attempt": attempt},
    )


@ai_jobs_bp.on_sqs_message(queue=get_settings().queues.ai_jobs, batch_size=1, name="ai_jobs_worker")
def ai_jobs_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _run_one)
