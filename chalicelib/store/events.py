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
        try:
            self._queue.send(self._body(event_type, workspace_id, payload))
        except ServiceUnavailable:
            logger.exception("event not published", extra={"event_type": event_type})

    def publish_later(
        self,
        event_type: str,
        workspace_id: str,
        payload: dict[str, object],
        delay_seconds: int,
    ) -> None:
        """Queued now, delivered no sooner than `delay_seconds` from now (SQS DelaySeconds,
        at most 900).  Raises ServiceUnavailable when it could not be queued."""
        self._queue.send(self._body(event_type, workspace_id, payload), delay_seconds)

    def _body(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> str:
        return json.dumps(
            {
                "id": new_id(),
                "type": event_type,
                "workspace_id": workspace_id,
                "at": self._clock.now().isoformat(),
                **payload,
            }
        )
