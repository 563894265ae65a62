"""The billing-events queue (SQS): verified webhook deliveries (`BillingEvents`), applied by
the billing-events worker (chalicelib/workers/billing_events.py)."""

from __future__ import annotations

import json
from datetime import datetime

from chalicelib.billing.model import Processor
from chalicelib.billing.ports import WebhookEvent
from chalicelib.store.queues import SqsQueue


def event_json(event: WebhookEvent) -> str:
    return json.dumps(
        {
            "processor": event.processor.value,
            "id": event.id,
            "type": event.type,
            "object_id": event.object_id,
            "created": event.created.isoformat(),
        },
        separators=(",", ":"),
    )


def event_from_json(raw: str) -> WebhookEvent:
    data = json.loads(raw)
    return WebhookEvent(
        processor=Processor(data["processor"]),
        id=str(data["id"]),
        type=str(data["type"]),
        object_id=str(data["object_id"]),
        created=datetime.fromisoformat(data["created"]),
    )


class SqsBillingEvents:
    """Raises ServiceUnavailable when SQS does not take the event (the webhook answers 503
    and the processor delivers it again)."""

    def __init__(self, queue: SqsQueue) -> None:
        self.queue = queue

    def enqueue(self, event: WebhookEvent) -> None:
        self.queue.send(event_json(event))
