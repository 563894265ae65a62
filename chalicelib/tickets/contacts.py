"""Contacts (requesters and CC participants, one per e-mail address and workspace): the
contact for an address, finding a workspace's contacts by e-mail or name, and one contact
with their tickets.

Search is by prefix of a *term*: the contact's e-mail address, or one word of their name.
Terms are folded (case and accents ignored) and written as small index entries when the
contact is created, so a search is one bounded Query whatever the number of contacts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import Contact, TicketFilter, TicketPage

# The e-mail and up to five name words: the entries are written in the ticket's transaction.
MAX_TERMS = 6
MAX_TERM_CHARS = 254
_WORD_BREAK = re.compile(r"[\s\-]+")


def contact_for(
    deps: TicketDeps, workspace_id: str, email: str, name: str, *, language: str | None = None
) -> tuple[Contact, bool]:
    """The workspace's contact for `email`, or a new one (not stored yet: it is written in
    the same transaction as the ticket that needs it).  Returns (contact, is_new)."""
    found = deps.store.find_contact_by_email(workspace_id, email.strip().lower())
    if found is not None:
        return found, False
    return new_contact(workspace_id, email, name, deps.clock.now(), language=language), True


def new_contact(
    workspace_id: str, email: str, name: str, now: datetime, *, language: str | None = None
) -> Contact:
    """A contact for an address the workspace has none for (not stored yet); `language`:
    the one its first mail was detected in."""
    address = email.strip().lower()
    display = name.strip() or address.split("@")[0]
    return Contact(
        id=new_id(),
        workspace_id=workspace_id,
        email=address,
        name=display[:120],
        created_at=now,
        language=language,
    )


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (`Élodie` and `elodie` are the same)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(email: str, name: str) -> list[str]:
    """The terms a contact is found by: the e-mail address, then the words of the name.

    A word that is a prefix of another term adds nothing to a prefix search (and would list
    the contact twice), so it is left out; at most MAX_TERMS terms."""
    candidates = [fold(email.strip())] + [fold(w) for w in _WORD_BREAK.split(name.strip()) if w]
    terms: list[str] = []
    for term in candidates:
        term = term[:MAX_TERM_CHARS]
        if not term or term in terms:
            continue
        if any(other.startswith(term) for other in candidates if other != term):
            continue
        terms.append(term)
    return terms[:MAX_TERMS]


def query_words(q: str | None) -> list[str]:
    """The folded words of a search; empty when there is nothing to search for."""
    return [fold(w) for w in _WORD_BREAK.split((q or "").strip()) if w]


def matches(contact: Contact, words: list[str]) -> bool:
    """True when every word is a prefix of one of the contact's terms."""
    terms = search_terms(contact.email, contact.name)
    return all(any(term.startswith(word) for term in terms) for word in words)


@dataclass(frozen=True)
class ContactPage:
    contacts: list[Contact]
    next_cursor: str | None


class ContactDirectory(Protocol):
    """Reads of a workspace's contacts; one Query per page."""

    def list_contacts(self, workspace_id: str, cursor: str | None, limit: int) -> ContactPage:
        """Newest first."""

    def search(self, workspace_id: str, prefix: str, cursor: str | None, limit: int) -> ContactPage:
        """Contacts with a term starting with `prefix` (folded), in term order; a contact is
        listed once per page."""


def find_contacts(
    directory: ContactDirectory, workspace_id: str, q: str | None, cursor: str | None, limit: int
) -> ContactPage:
    """Every contact (newest first) without `q`; else those whose e-mail or a name word
    starts with each word of `q`.  A search for several words queries by the longest one and
    keeps the contacts that match the others too, so a page may hold fewer than `limit`."""
    words = query_words(q)
    if not words:
        return directory.list_contacts(workspace_id, cursor, limit)
    longest = max(words, key=len)
    page = directory.search(workspace_id, longest[:MAX_TERM_CHARS], cursor, limit)
    if len(words) == 1:
        return page
    return ContactPage([c for c in page.contacts if matches(c, words)], page.next_cursor)


@dataclass(frozen=True)
class ContactView:
    contact: Contact
    tickets: TicketPage


def contact_view(
    deps: TicketDeps, workspace_id: str, contact_id: str, cursor: str | None, limit: int
) -> ContactView:
    """The contact and a page of their tickets (newest activity first); 404 for a contact
    of another workspace."""
    contact = deps.store.get_contact(workspace_id, contact_id) if len(contact_id) == 26 else None
    if contact is None:
        raise NotFound("No such contact.", code="contact_not_found")
    tickets = deps.store.list_tickets(
        workspace_id, TicketFilter(requester_id=contact.id), cursor, limit
    )
    return ContactView(contact, tickets)
