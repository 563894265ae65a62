"""Mail-out worker: sends each queued e-mail through Mailgun.

Transient provider failures leave the record on the queue (partial batch failure), so SQS
retries it and, after the queue's maxReceiveCount, moves it to the dead-letter queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.mail.delivery import deliver
from chalicelib.mail.outbound import OutboundMail
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.workers.batches import each_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

mail_out_bp = Blueprint(__name__)


def _send_one(record: SQSRecord) -> None:
    # An unreadable message raises here too: it is retried, then kept in the dead-letter queue.
    mail = OutboundMail.from_json(record.body)
    logger.append_keys(
        workspace_id=mail.workspace_id, mail_id=mail.mail_id, correlation_id=record.message_id
    )
    status = deliver(mail, bootstrap.mail_log(), bootstrap.mail_sender())
    if mail.ticket_id and mail.ticket_message_id:
        from chalicelib.tickets.conversation import record_delivery
        from chalicelib.tickets.model import DeliveryStatus

        record_delivery(
            bootstrap.ticket_deps(),
            mail.workspace_id,
            mail.ticket_id,
            mail.ticket_message_id,
            DeliveryStatus(status.value),
            sending_outcome=True,
        )
    logger.info("mail delivery finished", extra={"status": status.value, "purpose": mail.purpose})


@mail_out_bp.on_sqs_message(
    queue=get_settings().queues.mail_out, batch_size=10, name="mail_out_worker"
)
def mail_out_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _send_one)
