"""Outbound mail records (DynamoDB) and the mail-out queue (SQS)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.clock import Clock
from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.store import keys
from chalicelib.store.models import Item, OutboundMailItem
from chalicelib.store.queues import SqsQueue


def queued_mail_item(mail: OutboundMail, now: datetime) -> OutboundMailItem:
    """The record of a mail about to be queued (written under `attribute_not_exists`)."""
    return OutboundMailItem(
        keys.workspace_pk(mail.workspace_id),
        keys.outbound_mail_sk(mail.mail_id),
        mail_id=mail.mail_id,
        workspace_id=mail.workspace_id,
        purpose=mail.purpose,
        to=mail.to,
        subject=mail.subject,
        status=MailStatus.QUEUED.value,
        created_at=now,
        updated_at=now,
    )


class DynamoMailLog:
    """One item per outbound mail: its status as the worker and the provider report it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _item(self, workspace_id: str, mail_id: str) -> OutboundMailItem:
        return OutboundMailItem(keys.workspace_pk(workspace_id), keys.outbound_mail_sk(mail_id))

    def record_queued(self, mail: OutboundMail) -> None:
        queued_mail_item(mail, self._clock.now()).save(condition=Item.pk.does_not_exist())

    def status(self, workspace_id: str, mail_id: str) -> MailStatus | None:
        try:
            item = OutboundMailItem.get(
                keys.workspace_pk(workspace_id),
                keys.outbound_mail_sk(mail_id),
                consistent_read=True,
            )
        except OutboundMailItem.DoesNotExist:
            return None
        return MailStatus(item.status)

    def mark_sent(self, workspace_id: str, mail_id: str, provider_message_id: str) -> None:
        self._item(workspace_id, mail_id).update(
            actions=[
                OutboundMailItem.status.set(MailStatus.SENT.value),
                OutboundMailItem.provider_message_id.set(provider_message_id),
                OutboundMailItem.attempts.add(1),
                OutboundMailItem.updated_at.set(self._clock.now()),
            ]
        )

    def mark_failed(self, workspace_id: str, mail_id: str, reason: str) -> None:
        self._item(workspace_id, mail_id).update(
            actions=[
                OutboundMailItem.status.set(MailStatus.FAILED.value),
                OutboundMailItem.last_error.set(reason),
                OutboundMailItem.attempts.add(1),
                OutboundMailItem.updated_at.set(self._clock.now()),
            ]
        )

    def record_attempt(self, workspace_id: str, mail_id: str, error: str) -> None:
        try:
            self._item(workspace_id, mail_id).update(
                actions=[
                    OutboundMailItem.last_error.set(error),
                    OutboundMailItem.attempts.add(1),
                    OutboundMailItem.updated_at.set(self._clock.now()),
                ],
                condition=Item.pk.exists(),
            )
        except UpdateError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise


class SqsMailOutbox:
    """Records the mail as queued, then puts it on the mail-out queue."""

    def __init__(self, log: DynamoMailLog, queue: SqsQueue) -> None:
        self._log = log
        self._queue = queue

    def enqueue(self, mail: OutboundMail) -> None:
        self._log.record_queued(mail)
        self._queue.send(mail.to_json())

    def send_recorded(self, mail: OutboundMail) -> None:
        self._queue.send(mail.to_json())
