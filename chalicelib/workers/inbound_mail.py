"""Inbound-mail worker: parses each queued delivery and files it into the inbox.

A queued stored-message notification is first fetched from Mailgun (up to 25 MB).
Idempotent (keyed by Message-ID); a failure leaves the record on the queue for a retry and,
after the queue's maxReceiveCount, in the dead-letter queue: no mail is lost."""

from __future__ import annotations

import functools
import json
import time
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

    from chalicelib.tickets.mail_intake import IntakeReads

inbound_mail_bp = Blueprint(__name__)


# A stored message is fetched (up to 25 MB) only with this much of the invocation left; later
# records of the batch go back to the queue instead of running into the function's timeout.
# The download may take 60 s (mailgun_storage.TOTAL_SECONDS); storing and parsing the rest.
STORED_FETCH_SECONDS = 75


class OutOfTime(Exception):
    """Too little of the invocation is left to fetch a stored message: retried later."""


def _file_one(
    record: SQSRecord, fetch_deadline: float | None = None, reads: IntakeReads | None = None
) -> None:
    """Files one queued delivery.  `reads`: the batch's IntakeReads (workspaces and mailbox
    settings read once per invocation)."""
    from chalicelib.mail.intake_queue import (
        STORED,
        fetch_stored_delivery,
        load_inbound_delivery,
    )
    from chalicelib.tickets.mail_intake import receive_mail

    queued = json.loads(record.body)
    deps = bootstrap.ticket_deps()
    if queued.get("kind") == STORED:
        logger.append_keys(correlation_id=record.message_id, raw_key=queued["notification_key"])
        if fetch_deadline is not None and time.monotonic() > fetch_deadline:
            raise OutOfTime("left for the next invocation")
        fetched = fetch_stored_delivery(
            deps.blobs, bootstrap.stored_messages(), queued, deps.clock.now()
        )
        if fetched is None:  # refused for good, and recorded
            return
        mail, raw_key, content_type = fetched.mail, fetched.raw_key, fetched.content_type
    else:
        logger.append_keys(correlation_id=record.message_id, raw_key=queued["raw_key"])
        raw_key, content_type = queued["raw_key"], queued.get("content_type")
        mail = load_inbound_delivery(deps.blobs, queued)
    intake = receive_mail(deps, mail, raw_key, content_type=content_type, reads=reads)
    logger.info(
        "inbound mail filed",
        extra={"outcome": intake.outcome, "ticket_id": intake.ticket_id, "reason": intake.reason},
    )


@inbound_mail_bp.on_sqs_message(
    queue=get_settings().queues.inbound_mail, batch_size=5, name="inbound_mail_worker"
)
def inbound_mail_worker(event: SQSEvent) -> PartialItemFailureResponse:
    from chalicelib.tickets.mail_intake import IntakeReads

    reads = IntakeReads()
    remaining_ms = getattr(event.context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return each_record(event, functools.partial(_file_one, reads=reads))
    deadline = time.monotonic() + remaining_ms() / 1000 - STORED_FETCH_SECONDS
    return each_record(event, functools.partial(_file_one, fetch_deadline=deadline, reads=reads))
