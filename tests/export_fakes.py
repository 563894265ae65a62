"""In-memory fakes of the data-subject export ports (chalicelib/privacy/contact_data.py,
chalicelib/privacy/exports.py) and a small world of two workspaces for the unit tests:

    world = ExportWorld()
    carol = world.contact(WS, "carol@customer.test", "Carol")
    ticket = world.ticket(WS, carol, channel=Channel.EMAIL)
    world.message(ticket, "Hello", attachment=("invoice.pdf", b"%PDF..."), raw=b"From: ...")
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import IO

from chalicelib.accounts.model import Page
from chalicelib.ai.model import AiResult, ResultKind, ResultStatus
from chalicelib.booking.model import Booking, BookingStatus, Invitee, Location, LocationKind
from chalicelib.privacy.contact_data import ArticleVotes, ContactData
from chalicelib.privacy.exports import Export, ExportDeps
from chalicelib.tickets.model import (
    Activity,
    AttachmentRef,
    Channel,
    Contact,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.search import ticket_terms, tickets_naming

WS = "01HWORKSPACE0000000000000A"
OTHER_WS = "01HWORKSPACE0000000000000B"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.moment = NOW

    def now(self) -> datetime:
        return self.moment


def _page(entries: list, cursor: str | None, limit: int) -> Page:  # type: ignore[type-arg]
    start = int(cursor or 0)
    chunk = entries[start : start + limit]
    after = start + limit
    return Page(chunk, str(after) if after < len(entries) else None)


@dataclass
class ExportWorld:
    contacts: list[Contact] = field(default_factory=list)
    article_votes: list[tuple[str, ArticleVotes]] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    activity: dict[str, list[Activity]] = field(default_factory=dict)
    bookings: list[Booking] = field(default_factory=list)
    results: dict[str, list[AiResult]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    exports: dict[tuple[str, str], Export] = field(default_factory=dict)
    queued: list[tuple[str, str]] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)
    clock: FakeClock = field(default_factory=FakeClock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):08d}"

    # -- building the world ----------------------------------------------------------

    def contact(self, workspace_id: str, email: str, name: str) -> Contact:
        found = Contact(self._id("C"), workspace_id, email, name, NOW - timedelta(days=30))
        self.contacts.append(found)
        return found

    def ticket(
        self, workspace_id: str, contact: Contact, channel: Channel, cc: list[str] | None = None
    ) -> Ticket:
        number = 1 + sum(1 for t in self.tickets if t.workspace_id == workspace_id)
        found = Ticket(
            id=self._id("T"),
            workspace_id=workspace_id,
            number=number,
            subject=f"Question {number} from {contact.name}",
            requester_id=contact.id,
            requester_email=contact.email,
            requester_name=contact.name,
            cc=list(cc or []),
            status=TicketStatus.OPEN,
            priority=Priority.NORMAL,
            assignee_id=None,
            tags=[],
            channel=channel,
            created_at=NOW,
            updated_at=NOW,
            last_activity_at=NOW,
        )
        self.tickets.append(found)
        return found

    def message(
        self,
        ticket: Ticket,
        text: str,
        kind: MessageKind = MessageKind.CUSTOMER,
        attachment: tuple[str, bytes] | None = None,
        raw: bytes | None = None,
        cc: list[str] | None = None,
    ) -> Message:
        message_id = self._id("M")
        attachments = []
        if attachment is not None:
            key = f"ws/{ticket.workspace_id}/attachments/{message_id}-1"
            self.files[key] = attachment[1]
            attachments.append(
                AttachmentRef(message_id + "a", attachment[0], "application/pdf", 3, key)
            )
        raw_key = None
        if raw is not None:
            raw_key = f"inbound/2026/11/30/{message_id}.eml"
            self.files[raw_key] = raw
        found = Message(
            id=message_id,
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            kind=kind,
            author=f"contact:{ticket.requester_id}" if kind is MessageKind.CUSTOMER else "user:U1",
            from_address=ticket.requester_email if kind is MessageKind.CUSTOMER else None,
            to=[],
            cc=list(cc or []),
            subject=ticket.subject,
            text=text,
            html=None,
            quoted_text=None,
            message_id=None,
            in_reply_to=[],
            references=[],
            attachments=attachments,
            delivery=DeliveryStatus.RECEIVED,
            created_at=NOW,
            raw_s3_key=raw_key,
        )
        self.messages.setdefault(ticket.id, []).append(found)
        return found

    def feedback(self, ticket: Ticket, answer: Message, verdict: str) -> None:
        self.activity.setdefault(ticket.id, []).append(
            Activity(
                self._id("A"),
                ticket.id,
                f"contact:{ticket.requester_id}",
                "bot_feedback",
                answer.id,
                verdict,
                NOW,
            )
        )

    def booking(self, workspace_id: str, contact: Contact, title: str) -> Booking:
        found = Booking(
            workspace_id=workspace_id,
            id=self._id("B"),
            event_type_id="E1",
            event_type_slug="demo",
            title=title,
            host_ids=["U1"],
            start=NOW + timedelta(days=2),
            end=NOW + timedelta(days=2, minutes=30),
            buffer_before=0,
            buffer_after=0,
            invitee=Invitee(contact.name, contact.email, "Europe/Paris", "fr"),
            answers={"company": f"{contact.name} & Co"},
            status=BookingStatus.CONFIRMED,
            location=Location(LocationKind.ZOOM),
            contact_id=contact.id,
        )
        self.bookings.append(found)
        return found

    def triage(self, ticket: Ticket, category: str) -> None:
        self.results.setdefault(ticket.id, []).append(
            AiResult(
                workspace_id=ticket.workspace_id,
                ticket_id=ticket.id,
                kind=ResultKind.TRIAGE,
                key="",
                status=ResultStatus.READY,
                requested_by="system",
                requested_at=NOW,
                payload={"category": category},
                completed_at=NOW,
            )
        )

    # -- the ports -------------------------------------------------------------------

    def contact_by_email(self, workspace_id: str, email: str) -> Contact | None:
        return next(
            (c for c in self.contacts if c.workspace_id == workspace_id and c.email == email),
            None,
        )

    def list_contacts(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Contact]:
        mine = [c for c in self.contacts if c.workspace_id == workspace_id]
        return _page(mine, cursor, limit)

    def tickets_of_contact(
        self, workspace_id: str, contact_id: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        mine = [
            t
            for t in self.tickets
            if t.workspace_id == workspace_id and t.requester_id == contact_id
        ]
        return _page(mine, cursor, limit)

    def all_tickets(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Ticket]:
        return _page([t for t in self.tickets if t.workspace_id == workspace_id], cursor, limit)

    def ticket_messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        found = self.messages.get(ticket_id, [])
        return [m for m in found if m.workspace_id == workspace_id][:limit]

    def ticket_activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]:
        return self.activity.get(ticket_id, [])[:limit]

    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        return [
            b
            for b in self.bookings
            if b.workspace_id == workspace_id and b.contact_id == contact_id
        ][:limit]

    def all_bookings(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Booking]:
        mine = [b for b in self.bookings if b.workspace_id == workspace_id]
        return _page(mine, cursor, limit)

    def results_of_ticket(self, workspace_id: str, ticket_id: str, limit: int) -> list[AiResult]:
        found = self.results.get(ticket_id, [])
        return [r for r in found if r.workspace_id == workspace_id][:limit]

    def read(self, key: str) -> bytes | None:
        return self.files.get(key)

    def data(self) -> ContactData:
        return ContactData(
            contacts=_Contacts(self),
            tickets=_Tickets(self),
            bookings=_Bookings(self),
            ai_results=self,
            files=self,
            feedback=_Votes(self),
        )

    # -- the export ports --------------------------------------------------------------

    def deps(self) -> ExportDeps:
        return ExportDeps(
            data=self.data(),
            exports=_Exports(self),
            jobs=_Jobs(self),
            files=_Files(self),
            clock=self.clock,
        )


class _Votes:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def article_votes(
        self, workspace_id: str, cursor: str | None, limit: int
    ) -> Page[ArticleVotes]:
        mine = [v for ws, v in self.world.article_votes if ws == workspace_id]
        return _page(mine, cursor, limit)


class _Contacts:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def contact_by_email(self, workspace_id: str, email: str) -> Contact | None:
        return self.world.contact_by_email(workspace_id, email)

    def contacts(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Contact]:
        return self.world.list_contacts(workspace_id, cursor, limit)


class _Tickets:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def tickets_of_contact(
        self, workspace_id: str, contact_id: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        return self.world.tickets_of_contact(workspace_id, contact_id, cursor, limit)

    def tickets(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Ticket]:
        return self.world.all_tickets(workspace_id, cursor, limit)

    def tickets_naming(
        self, workspace_id: str, address: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """The search index's answer, over the terms the indexer would have posted."""
        index = _Postings()
        for ticket in self.world.tickets:
            if ticket.workspace_id == workspace_id:
                messages = self.world.messages.get(ticket.id, [])
                index.add(workspace_id, ticket.id, ticket_terms(ticket, messages))
        page = tickets_naming(index, workspace_id, address, cursor, limit)
        by_id = {t.id: t for t in self.world.tickets}
        return Page([by_id[i] for i in page.ticket_ids], page.next_cursor)

    def messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        return self.world.ticket_messages(workspace_id, ticket_id, limit)

    def activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]:
        return self.world.ticket_activity(workspace_id, ticket_id, limit)


class _Postings:
    """An in-memory search index (chalicelib/tickets/search.py's `SearchIndex`)."""

    def __init__(self) -> None:
        self.by_word: dict[tuple[str, str], set[str]] = {}

    def add(self, workspace_id: str, ticket_id: str, words: list[str]) -> None:
        for word in words:
            self.by_word.setdefault((workspace_id, word), set()).add(ticket_id)

    def postings(
        self, workspace_id: str, word: str, below: str | None, limit: int
    ) -> tuple[list[str], bool]:
        found = sorted(
            (t for t in self.by_word.get((workspace_id, word), ()) if below is None or t < below),
            reverse=True,
        )
        return found[:limit], len(found) > limit


class _Bookings:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        return self.world.bookings_of_contact(workspace_id, contact_id, limit)

    def bookings(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Booking]:
        return self.world.all_bookings(workspace_id, cursor, limit)


class _Exports:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def add(self, export: Export) -> None:
        assert (export.workspace_id, export.id) not in self.world.exports
        self.world.exports[(export.workspace_id, export.id)] = export

    def save(self, export: Export) -> None:
        self.world.exports[(export.workspace_id, export.id)] = replace(export)

    def get(self, workspace_id: str, export_id: str) -> Export | None:
        return self.world.exports.get((workspace_id, export_id))

    def newest(self, workspace_id: str, limit: int) -> list[Export]:
        mine = [e for (ws, _), e in self.world.exports.items() if ws == workspace_id]
        return sorted(mine, key=lambda e: e.id, reverse=True)[:limit]


class _Jobs:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def send(self, workspace_id: str, export_id: str) -> None:
        self.world.queued.append((workspace_id, export_id))


class _Files:
    def __init__(self, world: ExportWorld) -> None:
        self.world = world

    def store(self, key: str, bundle: IO[bytes]) -> None:
        self.world.stored[key] = bundle.read()

    def link(self, key: str, filename: str, expires_seconds: int) -> str:
        return f"https://bucket.test/{key}?expires={expires_seconds}&n={next(self.world.ids)}"
