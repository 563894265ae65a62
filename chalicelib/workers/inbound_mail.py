"""Inbound-mail worker: parses each queued delivery and files it into the inbox.

Idempotent (keyed by Message-ID); a failure leaves the record on the queue for a retry and,
after the queue's maxReceiveCount, in the dead-letter queue: no mail is lost."""

from __future__ import annotations

import json
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

inbound_mail_bp = Blueprint(__name__)


def _file_one(record: SQSRecord) -> None:
    from chalicelib.mail.intake_queue import load_inbound_delivery
    from chalicelib.tickets.mail_intake import receive_mail

    queued = json.loads(record.body)
    logger.append_keys(correlation_id=record.message_id, raw_key=queued["raw_key"])
    deps = bootstrap.ticket_deps()
    mail = load_inbound_delivery(deps.blobs, queued)
    intake = receive_mail(deps, mail, queued["raw_key"], content_type=queued.get("content_type"))
    logger.info(
        "inbound mail filed",
        extra={"outcome": intake.outcome, "ticket_id": intake.ticket_id, "reason": intake.reason},
    )


@inbound_mail_bp.on_sqs_message(
    queue=get_settings().queues.inbound_mail, batch_size=5, name="inbound_mail_worker"
)
def inbound_mail_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _file_one)
