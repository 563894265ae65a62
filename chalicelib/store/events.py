"""Product events (`ticket.created`, `message.received`, ...) onto the events queue."""

from __future__ import annotations

import json

from chalicelib.clock import Clock
from chalicelib.errors import ServiceUnavailable
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.store.queues import SqsQueue


class SqsEventPublisher:
    def __init__(self, queue: SqsQueue, clock: Clock) -> None:
        self._queue = queue
        self._clock = clock

    def publish(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> None:
        """Best effort after the change is stored: a failure is logged, never undoes it."""
        event = {
            "id": new_id(),
            "type": event_type,
            "workspace_id": workspace_id,
            "at": self._clock.now().isoformat(),
            **payload,
        }
        try:
            self._queue.send(json.dumps(event))
        except ServiceUnavailable:
            logger.exception("event not published", extra={"event_type": event_type})
