"""Sending to one SQS queue by name (its URL looked up once per container), and holding back
a message that failed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ServiceUnavailable

# Deliveries of a message before SQS moves it to its dead-letter queue (every queue).
MAX_RECEIVE_COUNT = 5


class SqsQueue:
    """`client` makes (or returns the cached) SQS client: it is called on first use, so a
    request that sends nothing never builds one."""

    def __init__(self, client: Callable[[], Any], queue_name: str) -> None:
        self._client = client
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def _sqs(self) -> Any:
        return self._client()

    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def send(self, body: str, delay_seconds: int = 0) -> None:
        """Queues `body`, hidden from receivers for `delay_seconds` (SQS allows up to 900).
        Raises ServiceUnavailable when SQS does not take it."""
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"DelaySeconds": delay_seconds} if delay_seconds else {}
        try:
            self._sqs.send_message(QueueUrl=self.url(), MessageBody=body, **extra)
        except (BotoCoreError, ClientError) as e:
            raise ServiceUnavailable(
                "The queue is unavailable; try again.", code="queue_unavailable"
            ) from e

    def delay(self, receipt_handle: str, seconds: int) -> None:
        """Keeps a message that failed invisible for `seconds` before its next delivery
        (backoff; best effort: without it the queue's visibility timeout applies)."""
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(BotoCoreError, ClientError):
            self._sqs.change_message_visibility(
                QueueUrl=self.url(),
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=max(0, min(seconds, 43_200)),
            )


class SqsAiJobQueue:
    """The AI teammate's jobs, as JSON on their own queue."""

    def __init__(self, queue: SqsQueue) -> None:
        self.queue = queue

    def send(self, job: Any) -> None:
        self.queue.send(job.to_json())
