"""The inbox's changes feed: what the web client polls to show new tickets and replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import etags
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import TicketChangesQuery

schemas = lazy_module("chalicelib.api.schemas")
inbox = lazy_module("chalicelib.tickets.inbox")
tickets_api = lazy_module("chalicelib.api.tickets")
bp = Blueprint(__name__)

POLLING = (
    "How to poll: call once without `since` to get a cursor at the newest activity; then "
    "every 10 to 30 seconds while the inbox is on screen (every few minutes while the tab "
    "is hidden), call again with `since` set to the last `next_cursor` and `If-None-Match` "
    "set to the last `ETag`. Nothing changed: 304 with no body (one read, whatever the "
    "inbox's size); keep your cursor. Otherwise the tickets active since (new tickets, "
    "replies, notes, any change to a ticket), newest first, each at most once, to merge "
    "into the lists on screen by id (a ticket may come again: the later copy wins). "
    "`more: true`: ask again at once with `next_cursor`. On 429 or 503 wait `Retry-After`, "
    "then back off (double the interval, at most 5 minutes) until an answer succeeds. "
    "Errors: 400 `invalid_cursor` (start again without `since`)."
)


@operation(
    bp,
    "GET",
    "/v1/tickets/changes",
    summary="Tickets active since a cursor: poll it to keep the inbox current",
    description=POLLING,
    tag="tickets",
    query="TicketChangesQuery",
    response="TicketChangesOut",
    also=(304,),
    errors=(400, 401),
)
def ticket_changes(call: Call) -> Response:
    query: TicketChangesQuery = call.query
    changes = inbox.ticket_changes(
        bootstrap.inbox_feed(), call.member.workspace_id, query.since, query.limit
    )
    if etags.matches(call.request, changes.etag):
        return etags.not_modified(changes.etag)
    return etags.tagged(
        schemas.TicketChangesOut(
            tickets=[tickets_api.ticket_out(t) for t in changes.tickets],
            next_cursor=changes.next_cursor,
            more=changes.more,
        ),
        changes.etag,
    )
