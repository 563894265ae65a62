"""Who else has a ticket open (a heartbeat every few seconds from the web client)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.clock import epoch
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import get_ticket

VIEW_SECONDS = 30  # one missed heartbeat later, a viewer drops off the list


@dataclass(frozen=True)
class Viewer:
    user_id: str
    name: str
    until: datetime


def viewing(
    deps: TicketDeps, workspace_id: str, ticket_ref: str, user_id: str, name: str
) -> list[Viewer]:
    """Records that `user_id` is looking at the ticket; returns the others who are."""
    ticket = get_ticket(deps, workspace_id, ticket_ref)
    now = epoch(deps.clock.now())
    viewers = deps.store.record_viewer(
        workspace_id, ticket.id, user_id, name, now, now + VIEW_SECONDS
    )
    return [
        Viewer(uid, viewer_name, datetime.fromtimestamp(until, UTC))
        for uid, viewer_name, until in viewers
        if uid != user_id
    ]


def stop_viewing(deps: TicketDeps, workspace_id: str, ticket_ref: str, user_id: str) -> None:
    """`user_id` closed the ticket: teammates stop seeing them there at their next heartbeat
    rather than when the view expires."""
    ticket = get_ticket(deps, workspace_id, ticket_ref)
    deps.store.forget_viewer(workspace_id, ticket.id, user_id)
