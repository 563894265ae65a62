"""Full-text search over a workspace's tickets: subject, requester, the addresses a ticket
or its messages copy (CC, To, From) and message text.

An inverted index in the table: one posting item per (term, ticket), written by the search
indexer from ticket events.  A search reads, for each of its (at most five) terms, one page of
postings below the cursor, newest ticket first, and intersects them; only tickets above the
point where every term's page is complete are returned, so pages are exact and each costs at
most five Queries and one BatchGetItem whatever the workspace's size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.tickets.model import Activity, Message, Ticket
from chalicelib.tickets.search_terms import _fold as fold
from chalicelib.tickets.search_terms import query_terms, terms

POSTINGS_PER_QUERY = 200


class SearchIndex(Protocol):
    def add(self, workspace_id: str, ticket_id: str, words: list[str]) -> None:
        """Posts `ticket_id` under each word (idempotent)."""

    def postings(
        self, workspace_id: str, word: str, below: str | None, limit: int
    ) -> tuple[list[str], bool]:
        """Ticket ids under `word` below `below`, newest first; and whether more remain."""


def ticket_terms(ticket: Ticket, messages: list[Message]) -> list[str]:
    """The terms the indexer posts for `ticket` and `messages` (each address list is a text
    of its own, so a long message never crowds out who was copied)."""
    words = terms(
        f"{ticket.subject} {ticket.requester_email} {ticket.requester_name} "
        f"#{ticket.number} {ticket.number}"
    )
    words += terms(" ".join(ticket.cc))
    for message in messages:
        words += terms(f"{message.subject} {message.text} {message.from_address or ''}")
        words += terms(" ".join([*message.to, *message.cc]))
    return list(dict.fromkeys(words))


def terms_ever_posted(
    ticket: Ticket, messages: list[Message], activity: list[Activity]
) -> list[str]:
    """Every term the indexer may have posted for the ticket over its life: its terms now,
    and those of each subject it had before (postings are never rewritten when a subject
    changes; the activity keeps the old ones)."""
    words = ticket_terms(ticket, messages)
    for entry in activity:
        if entry.action == "subject":
            words += terms(f"{entry.before or ''} {entry.after or ''}")
    return list(dict.fromkeys(words))


def address_term(address: str) -> str | None:
    """The one term the index holds for a whole e-mail address (`carla@customer.test`), or
    None when the address is not kept whole (longer than a term, or not one word)."""
    found = terms(address, limit=1)
    return found[0] if found and found[0] == fold(address.strip()) else None


def index_ticket(index: SearchIndex, ticket: Ticket, messages: list[Message]) -> int:
    words = ticket_terms(ticket, messages)
    index.add(ticket.workspace_id, ticket.id, words)
    return len(words)


@dataclass(frozen=True)
class SearchPage:
    ticket_ids: list[str]  # newest first
    next_cursor: str | None


def search(
    index: SearchIndex, workspace_id: str, query: str, cursor: str | None, limit: int
) -> SearchPage:
    words = query_terms(query)
    if not words:
        return SearchPage([], None)
    windows: list[set[str]] = []
    boundary = ""  # ids above this are complete in every term's window
    more = False
    for word in words:
        ids, has_more = index.postings(workspace_id, word, cursor, POSTINGS_PER_QUERY)
        windows.append(set(ids))
        if has_more and ids:
            more = True
            boundary = max(boundary, min(ids))
    matches = sorted(set.intersection(*windows), reverse=True)
    complete = [ticket_id for ticket_id in matches if ticket_id >= boundary]
    page = complete[:limit]
    if len(complete) > limit:
        return SearchPage(page, page[-1])
    return SearchPage(page, boundary if more else None)


def tickets_naming(
    index: SearchIndex, workspace_id: str, address: str, cursor: str | None, limit: int
) -> SearchPage:
    """Tickets whose postings hold an e-mail address, newest first, a page at a time: the
    postings of its whole term (one Query); for an address too long to be one term, the
    tickets holding all of its longest words (`search`; the caller checks the text)."""
    term = address_term(address)
    if term is None:
        return search(index, workspace_id, address, cursor, limit)
    ids, more = index.postings(workspace_id, term, cursor, limit)
    return SearchPage(ids, ids[-1] if more and ids else None)
