"""Where a contact's data lives: one port per class of data a data-subject export reads
(adapters: chalicelib/store/privacy_export_repo.py).  Every read is a GetItem or a Query of
one bounded page; nothing here lists a table.

- contact record (ContactRecords): `WS#<ws>` / `CONTACTEMAIL#<address>`, then `CONTACT#<id>`
- tickets and chats (ContactTickets; a chat is a ticket of channel `chat`): GSI4
  `WS#<ws>#TICKETS#REQUESTER#<contact>`
- other people's tickets they were copied on or wrote to (ContactTickets): the search
  postings of their whole address, `WS#<ws>#TERM#<address>` (the indexer posts the
  addresses of a ticket's CC and of its messages' From, To and CC)
- messages (ContactTickets): `WS#<ws>#T#<ticket>` / `MSG#…`
- chat feedback (ContactTickets): `WS#<ws>#T#<ticket>` / `ACT#…`, `bot_feedback` by them
- attachments (StoredFiles): S3 `ws/<ws>/attachments/…`, named by their message
- raw mail (StoredFiles): S3 `inbound/…`, named by the message it became
- bookings (ContactBookings): `WS#<ws>#CONTACTBK#<contact>`, then `WS#<ws>` / `BOOKING#<id>`
- AI results (TicketAiResults): `WS#<ws>#T#<ticket>` / `AI#…`
- help-centre feedback (HelpCentreFeedback, the workspace export): the articles (GSI1
  `WS#<ws>#ARTICLES`), then GetItem `WS#<ws>#KB#<article>` / `FEEDBACK` per article; not
  attributable to a contact (a vote keeps only a hash of the visitor, and the
  article's counters), so no port"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.accounts.model import Page
from chalicelib.ai.model import AiResult
from chalicelib.booking.model import Booking
from chalicelib.tickets.model import Activity, Contact, Message, Ticket


class ContactRecords(Protocol):
    def contact_by_email(self, workspace_id: str, email: str) -> Contact | None:
        """The contact with this (normalised) address; GetItem."""

    def contacts(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Contact]:
        """Every contact of the workspace, one Query page."""


class ContactTickets(Protocol):
    def tickets_of_contact(
        self, workspace_id: str, contact_id: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """The tickets (chats included) the contact is the requester of, one Query page."""

    def tickets(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Ticket]:
        """Every ticket of the workspace, one Query page."""

    def tickets_naming(
        self, workspace_id: str, address: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """Tickets whose search postings hold the address (their whole address's term; all
        of its words for one too long to be a term), newest first, one page: those it was
        copied on, wrote or was written to, or merely named (the caller tells them apart)."""

    def messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        """The ticket's messages, oldest first (at most `limit`)."""

    def activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]:
        """The ticket's activity entries, oldest first (at most `limit`)."""


class ContactBookings(Protocol):
    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        """The bookings the contact is the invitee of, newest first."""

    def bookings(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Booking]:
        """Every booking of the workspace, one Query page."""


class TicketAiResults(Protocol):
    def results_of_ticket(self, workspace_id: str, ticket_id: str, limit: int) -> list[AiResult]:
        """Every AI result made on the ticket (triage, drafts, summaries, translations, the
        chat's answers), one Query."""


@dataclass(frozen=True)
class ArticleVotes:
    """A help-centre article's feedback: counters only (a vote keeps no visitor)."""

    article_id: str
    locale: str
    title: str
    helpful: int
    not_helpful: int


class HelpCentreFeedback(Protocol):
    def article_votes(
        self, workspace_id: str, cursor: str | None, limit: int
    ) -> Page[ArticleVotes]:
        """Every article of the workspace with its feedback counters, one page."""


class StoredFiles(Protocol):
    def read(self, key: str) -> bytes | None:
        """The stored object's bytes (attachments, raw mail); None when it is gone."""


@dataclass(frozen=True)
class ContactData:
    """The inventory: every store an export reads."""

    contacts: ContactRecords
    tickets: ContactTickets
    bookings: ContactBookings
    ai_results: TicketAiResults
    files: StoredFiles
    feedback: HelpCentreFeedback | None = None  # the workspace export's help-centre votes
