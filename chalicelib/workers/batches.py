"""Running an SQS batch record by record, reporting each failure (ReportBatchItemFailures):
the queue retries exactly the records that failed, even when all of them did."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice.app import SQSEvent

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def each_record(event: SQSEvent, handle: Callable[[SQSRecord], None]) -> PartialItemFailureResponse:
    """Runs `handle` on each record. A deployment missing required settings handles none: the
    whole batch fails and returns to the queue (then its dead-letter queue), never lost."""
    from chalicelib.readiness import ensure_configured

    ensure_configured()
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=handle, processor=processor
    )
