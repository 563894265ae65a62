"""Outbound mail records (DynamoDB) and the mail-out queue (SQS)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.clock import Clock
from chalicelib.errors import ServiceUnavailable
from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.store import keys
from chalicelib.store.models import Item, OutboundMailItem


class DynamoMailLog:
    """One item per outbound mail: its status as the worker and the provider report it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _item(self, workspace_id: str, mail_id: str) -> OutboundMailItem:
        return OutboundMailItem(keys.workspace_pk(workspace_id), keys.outbound_mail_sk(mail_id))

    def record_queued(self, mail: OutboundMail) -> None:
        now = self._clock.now()
        OutboundMailItem(
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
        ).save(condition=Item.pk.does_not_exist())

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

    def __init__(self, log: DynamoMailLog, sqs: Any, queue_name: str) -> None:
        self._log = log
        self._sqs = sqs
        self._queue_name = queue_name
        self._queue_url: str | None = None

    def _url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def enqueue(self, mail: OutboundMail) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._log.record_queued(mail)
        try:
            self._sqs.send_message(QueueUrl=self._url(), MessageBody=mail.to_json())
        except (BotoCoreError, ClientError) as e:
            raise ServiceUnavailable(
                "Could not queue the e-mail; try again.", code="queue_unavailable"
            ) from e
