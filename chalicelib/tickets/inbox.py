"""Reading the inbox: ticket lists and one ticket with its conversation."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.model import Principal
from chalicelib.errors import NotFound
from chalicelib.tickets.counts import InboxCounts, inbox_counts
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import get_ticket
from chalicelib.tickets.model import (
    Activity,
    AttachmentRef,
    Message,
    Ticket,
    TicketFilter,
    TicketPage,
)
from chalicelib.tickets.search import SearchIndex, search

MAX_MESSAGES_SHOWN = 500
MAX_ACTIVITY_SHOWN = 500
DOWNLOAD_URL_SECONDS = 300


def list_tickets(
    deps: TicketDeps, workspace_id: str, filters: TicketFilter, cursor: str | None, limit: int
) -> TicketPage:
    """Newest activity first; one Query (and one BatchGetItem for a tag) per page, whatever
    the inbox size.  Filters no view serves read one bounded slice, so a page may be short
    or empty and still carry a `next_cursor`."""
    return deps.store.list_tickets(workspace_id, filters, cursor, limit)


def _matches(ticket: Ticket, filters: TicketFilter) -> bool:
    return (
        (filters.status is None or ticket.status is filters.status)
        and (filters.assignee is None or (ticket.assignee_id or "none") == filters.assignee)
        and (filters.tag is None or filters.tag in ticket.tags)
        and (filters.requester_id is None or ticket.requester_id == filters.requester_id)
    )


def search_tickets(
    deps: TicketDeps,
    index: SearchIndex,
    workspace_id: str,
    query: str,
    filters: TicketFilter,
    cursor: str | None,
    limit: int,
) -> TicketPage:
    """Tickets whose subject, requester or messages contain every word of `query`, newest
    first, narrowed by the other filters.  At most five Queries and one BatchGetItem."""
    page = search(index, workspace_id, query, cursor, limit)
    tickets = deps.store.get_tickets(workspace_id, page.ticket_ids)
    return TicketPage([t for t in tickets if _matches(t, filters)], page.next_cursor)


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    messages: list[Message]
    activity: list[Activity]


def ticket_view(deps: TicketDeps, workspace_id: str, ticket_ref: str) -> TicketView:
    ticket = get_ticket(deps, workspace_id, ticket_ref)
    return TicketView(
        ticket,
        deps.store.list_messages(workspace_id, ticket.id, MAX_MESSAGES_SHOWN),
        deps.store.list_activity(workspace_id, ticket.id, MAX_ACTIVITY_SHOWN),
    )


def attachment_download_url(
    deps: TicketDeps, workspace_id: str, ticket_ref: str, attachment_id: str
) -> str:
    """A short-lived S3 link for a member; 404 unless the attachment is on this ticket.
    Mail's attachments are `<message id>-<position>`: one GetItem finds the message; an
    agent's upload is a bare id: its record names the message (one GetItem more)."""
    ticket = get_ticket(deps, workspace_id, ticket_ref)
    message_id = attachment_id.rpartition("-")[0]
    if not message_id and len(attachment_id) == 26:
        upload = deps.uploads.get_upload(workspace_id, attachment_id)
        message_id = (upload.message_id if upload else None) or ""
    message = (
        deps.store.get_message(workspace_id, ticket.id, message_id)
        if len(message_id) == 26
        else None
    )
    found: AttachmentRef | None = next(
        (a for a in (message.attachments if message else []) if a.id == attachment_id), None
    )
    if found is None:
        raise NotFound("No such attachment on this ticket.", code="attachment_not_found")
    return deps.blobs.download_url(found.s3_key, found.filename, DOWNLOAD_URL_SECONDS)


def counts_for(deps: TicketDeps, principal: Principal) -> InboxCounts:
    """Ticket counts of the caller's workspace per status, theirs and unassigned."""
    return inbox_counts(deps.store.inbox_counts(principal.workspace_id), principal.user_id)
