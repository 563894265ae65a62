"""`BookingMail` over the mail log and the mail-out queue: a booking mail is queued once per
mail id (its record is written under `attribute_not_exists`).  When the record exists and
still says queued (a run cut short between the record and the queue), it is queued again:
the mail-out worker sends a mail id at most once as far as the log can tell."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.store.outbox import DynamoMailLog, SqsMailOutbox


class OnceMailOutbox:
    def __init__(self, log: DynamoMailLog, outbox: SqsMailOutbox) -> None:
        self._log = log
        self._outbox = outbox

    def send_once(self, mail: OutboundMail) -> bool:
        try:
            self._outbox.enqueue(mail)
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
            if self._log.status(mail.workspace_id, mail.mail_id) is MailStatus.QUEUED:
                self._outbox.send_recorded(mail)
            return False
        return True
