"""Billing-events worker: applies each verified processor delivery (chalicelib/billing/
sync.py reads the subscription, invoice or sale back from the processor and applies the
newest state, then takes the dunning steps it calls for: mails, the backup card).  A
processor that fails fails the record, so SQS retries it and finally moves it to the
dead-letter queue; applying an event twice changes nothing more."""

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

billing_events_bp = Blueprint(__name__)


def _apply_one(record: SQSRecord) -> None:
    from chalicelib.billing.sync import apply_event
    from chalicelib.store.billing_events_queue import event_from_json

    event = event_from_json(record.body)
    logger.append_keys(correlation_id=record.message_id, billing_event=event.id)
    try:
        outcome = apply_event(bootstrap.billing_deps(), event)
        logger.info(
            "billing event applied",
            extra={"processor": event.processor.value, "type": event.type, "outcome": outcome},
        )
    finally:
        logger.remove_keys(["billing_event"])


@billing_events_bp.on_sqs_message(
    queue=get_settings().queues.billing_events, batch_size=1, name="billing_events_worker"
)
def billing_events_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _apply_one)
