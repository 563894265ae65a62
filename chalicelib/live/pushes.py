"""Where changes become pushes: which topics hear of which change.

- Every ticket event published from a request or a worker (a visitor's message, an agent's
  reply or note, a hand-off, a new address) tells the ticket's listeners at once:
  `conversation.moved` to `ticket:<id>`, straight from the code that made the change (no
  queue in the way).
- The events consumer then tells the workspace's inbox (`ticket.changed` to `inbox`) and the
  ticket's listeners again (at least once: a client only ever reads again).
- The chat's signals without an event (typing, seen, rating, end) and the answer bot's
  answers tell the ticket's listeners through `conversation_moved`.

Every push is best effort (`LivePush` never raises): clients also poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from chalicelib.live.model import INBOX_TOPIC, conversation_moved, ticket_changed, ticket_topic
from chalicelib.live.ports import LivePush
from chalicelib.tickets.deps import EventPublisher


def tell_conversation_moved(live: LivePush, workspace_id: str, ticket_id: str) -> None:
    """`conversation.moved` to the ticket's listeners (one Query, one post each)."""
    live.push(workspace_id, ticket_topic(ticket_id), conversation_moved(ticket_id))


def tell_ticket_event(live: LivePush, event: Mapping[str, object]) -> None:
    """For a ticket event of the events queue: `ticket.changed` to the workspace's inbox and
    `conversation.moved` to the ticket's listeners (two Queries, one post per listener)."""
    workspace_id, ticket_id = event.get("workspace_id"), event.get("ticket_id")
    if not isinstance(workspace_id, str) or not isinstance(ticket_id, str):
        return
    live.push(workspace_id, INBOX_TOPIC, ticket_changed(ticket_id))
    tell_conversation_moved(live, workspace_id, ticket_id)


class PushingEvents:
    """An `EventPublisher` that also tells the ticket's listeners of the event at once, after
    putting it on the queue.  `live` is read at each publish (the push may be turned on or
    off after the publisher was built, as in tests)."""

    def __init__(self, events: EventPublisher, live: Callable[[], LivePush]) -> None:
        self._events = events
        self._live = live

    def publish(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> None:
        self._events.publish(event_type, workspace_id, payload)
        ticket_id = payload.get("ticket_id")
        if isinstance(ticket_id, str):
            tell_conversation_moved(self._live(), workspace_id, ticket_id)

    def publish_later(
        self,
        event_type: str,
        workspace_id: str,
        payload: dict[str, object],
        delay_seconds: int,
    ) -> None:
        # A delayed event reports no change yet: nothing to tell now.
        self._events.publish_later(event_type, workspace_id, payload, delay_seconds)
