"""Reading the inbox: ticket lists and one ticket with its conversation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.accounts.model import Principal
from chalicelib.errors import InvalidCursor, NotFound
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


# -- changes feed --------------------------------------------------------------------------

CHANGES_PAGE = 100
# A ticket written by a request that began earlier may be stored with a last-activity time a
# little before the newest one already seen: each poll reads this far back again.
CHANGES_OVERLAP_SECONDS = 10
_POSITION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9A-Z]{26}$")
_START = "0"  # sorts before every `<ISO time>#<id>`: a workspace with no ticket yet


class InboxFeed(Protocol):
    """The newest-activity view of a workspace's tickets (each ticket once, at the place
    `<last activity>#<ticket id>`)."""

    def tickets_after(
        self, workspace_id: str, position: str, limit: int
    ) -> list[tuple[str, Ticket]]:
        """Tickets placed after `position`, oldest first, at most `limit` (one Query)."""

    def newest_position(self, workspace_id: str) -> str | None:
        """The place of the most recently active ticket (one Query of one item)."""


@dataclass(frozen=True)
class InboxChanges:
    tickets: list[Ticket]  # newest activity first
    next_cursor: str
    more: bool  # a full page: ask again at once with `next_cursor`
    etag: str  # the same for the same answer: a poll that sends it back gets 304


def _encode(position: str, exact: bool) -> str:
    raw = json.dumps({"p": position, "x": exact}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, bool]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, exact = raw["p"], raw["x"]
        if not isinstance(exact, bool) or not (
            position == _START or (isinstance(position, str) and _POSITION.match(position))
        ):
            raise ValueError("not a changes cursor")
        return position, exact
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise InvalidCursor("The cursor is not a cursor of the changes feed.") from e


def _read_from(position: str) -> str:
    """`position` moved back by the overlap (all tickets active since that moment)."""
    if position == _START:
        return _START
    at = datetime.strptime(position[:27], "%Y-%m-%dT%H:%M:%S.%fZ")
    return (at - timedelta(seconds=CHANGES_OVERLAP_SECONDS)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _etag(*parts: str) -> str:
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def ticket_changes(
    feed: InboxFeed, workspace_id: str, since: str | None, limit: int = CHANGES_PAGE
) -> InboxChanges:
    """The tickets active after the cursor `since` (new tickets, replies, notes, any change),
    newest first, with the cursor to ask with next.  Without `since`: no tickets and a
    cursor at the newest activity, where polling starts.  One Query on the newest-activity
    view whatever the workspace's size.  Each poll reads `CHANGES_OVERLAP_SECONDS` back
    again, so a ticket stored late is still told; the same answer keeps its ETag."""
    if since is None:
        position = feed.newest_position(workspace_id) or _START
        cursor = _encode(position, exact=False)
        return InboxChanges([], cursor, False, _etag(cursor))
    position, exact = _decode(since)
    found = feed.tickets_after(workspace_id, position if exact else _read_from(position), limit)
    more = len(found) >= limit
    last = found[-1][0] if found else position
    # A full page continues exactly where it stopped; otherwise polling goes on from the
    # newest place seen (read again, with the overlap, next time).
    next_position = last if more else max(position, last)
    cursor = _encode(next_position, exact=more)
    places = [place for place, _ in found]
    return InboxChanges(
        [ticket for _, ticket in reversed(found)], cursor, more, _etag(cursor, *places)
    )


def counts_etag(counts: InboxCounts) -> str:
    """The ETag of an answer of inbox counts (equal counts, equal tag)."""
    return _etag(json.dumps([counts.by_status, counts.mine, counts.unassigned], sort_keys=True))
