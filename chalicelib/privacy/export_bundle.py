"""The export bundle: a ZIP of JSON files (and the stored files) of everything held about
one contact, or a whole workspace's export.  Pure: reads through the
ports of `contact_data`, writes into a file it is given; the same export read from the same
data gives the same bytes (entries dated at the request), so a retried job rebuilds it as it
was.

A contact's bundle:
  manifest.json            what classes, their counts, when, who asked, what is left out
  contact.json             the contact record
  tickets/<number>.json    each ticket and chat they opened, with its customer-visible
                           messages (their own, the team's replies, the chat's answers);
                           internal notes are the team's and are left out
  cc_tickets/<number>.json each ticket of someone else they were copied on, wrote to or
                           were written to (found through the search postings of their
                           address), with its customer-visible messages; its files are
                           its requester's and stay out
  attachments/<number>/<attachment id>-<name>   the files of those messages
  raw_mail/<number>/<message id>.eml            their mail as it arrived
  bookings.json            the bookings they are the invitee of
  ai_results.json          AI output made on their tickets
  feedback.json            their verdicts on the chat's answers; help-centre votes are
                           anonymous (not attributable to anyone) and said so

A workspace's bundle: manifest.json, contacts.json, tickets/<number>.json (every message,
notes included: the workspace's own), attachments/, raw_mail/, ai_results.json,
bookings.json, feedback.json (the chat answers' verdicts and each help-centre article's
vote counters)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import IO, Any

from chalicelib.booking.model import Booking
from chalicelib.chat.bot_rules import FEEDBACK_ACTION
from chalicelib.privacy.contact_data import ContactData
from chalicelib.privacy.mentions import takes_part
from chalicelib.tickets.model import Activity, Channel, Contact, Message, MessageKind, Ticket

PAGE = 100  # items per Query page
MAX_TICKETS = 2000  # per export; more: the manifest says it was cut
MAX_MESSAGES = 1000  # per ticket
MAX_ACTIVITY = 1000  # per ticket (the chat feedback)
MAX_BOOKINGS = 1000
MAX_CONTACTS = 20000  # workspace scope
MAX_AI_RESULTS = 200  # per ticket
PROGRESS_EVERY = 10  # tickets between two progress records
_UNSAFE = re.compile(r"[^\w.\- ]")


@dataclass(frozen=True)
class BundleRequest:
    """Who asked for what, as the manifest tells it."""

    export_id: str
    workspace_id: str
    requested_by: str
    requested_at: datetime
    kept_days: int  # the bundle is deleted this many days after it was built


@dataclass
class Progress:
    """How far a bundle is: the phase it is in and what it has written."""

    phase: str = "queued"
    tickets: int = 0
    files: int = 0


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, how_many: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + how_many


OnProgress = Callable[[Progress], None]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(value: Any) -> bytes:
    return json.dumps(value, default=_plain, ensure_ascii=False, indent=2, sort_keys=True).encode()


def safe_name(filename: str) -> str:
    """A file name that stays inside its folder of the ZIP (no path, no odd characters)."""
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = _UNSAFE.sub("_", base).strip().lstrip(".")[:100]
    return cleaned or "file"


class _Zip:
    def __init__(self, target: IO[bytes], dated: datetime) -> None:
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED)
        # ZIP dates start in 1980; the request's moment makes a rebuild byte for byte the same.
        self._stamp = (dated.year, dated.month, dated.day, dated.hour, dated.minute, dated.second)

    def add(self, name: str, content: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, content)

    def close(self) -> None:
        self._zip.close()


def _paged(fetch: Callable[[str | None], Any], most: int) -> Iterator[Any]:
    """Every entry of a paged read, at most `most`; one page per call of `fetch`."""
    cursor: str | None = None
    given = 0
    while True:
        page = fetch(cursor)
        for entry in page.entries:
            if given >= most:
                return
            given += 1
            yield entry
        cursor = page.next_cursor
        if not cursor:
            return


def contact_record(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "email": contact.email,
        "name": contact.name,
        "language": contact.language,
        "created_at": contact.created_at,
    }


def _ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": ticket.priority,
        "tags": ticket.tags,
        "requester": {"email": ticket.requester_email, "name": ticket.requester_name},
        "cc": ticket.cc,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "solved_at": ticket.solved_at,
    }


def _message_record(
    message: Message, attachment_paths: list[str], raw_path: str | None
) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "author": message.author,
        "from": message.from_address,
        "to": message.to,
        "cc": message.cc,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "quoted_text": message.quoted_text,
        "created_at": message.created_at,
        "delivery": message.delivery,
        "chat": message.chat,
        "citations": message.citations,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "file": path or None,
            }
            for a, path in zip(message.attachments, attachment_paths, strict=True)
        ],
        "raw_mail": raw_path,
    }


def _booking_record(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "title": booking.title,
        "event_type": booking.event_type_slug,
        "start": booking.start,
        "end": booking.end,
        "status": booking.status,
        "invitee": booking.invitee,
        "answers": booking.answers,
        "location": booking.location,
        "meeting": booking.meeting,
        "cancel_reason": booking.cancel_reason,
        "cancelled_by": booking.cancelled_by,
        "rescheduled_from": booking.rescheduled_from,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }


class _Writer:
    def __init__(
        self, data: ContactData, workspace_id: str, bundle: _Zip, on_progress: OnProgress
    ) -> None:
        self.data = data
        self.workspace_id = workspace_id
        self.bundle = bundle
        self.on_progress = on_progress
        self.progress = Progress()
        self.counts = Counts()
        self.notes: list[str] = []

    def phase(self, name: str) -> None:
        self.progress.phase = name
        self.on_progress(self.progress)

    def ticket_written(self) -> None:
        self.progress.tickets += 1
        if self.progress.tickets % PROGRESS_EVERY == 0:
            self.on_progress(self.progress)

    def stored_file(self, key: str, path: str, what: str) -> str | None:
        content = self.data.files.read(key)
        if content is None:
            self.notes.append(f"{path}: the stored {what} is gone; listed, not included.")
            return None
        self.bundle.add(path, content)
        self.progress.files += 1
        return path

    def ticket(
        self,
        ticket: Ticket,
        *,
        customer_visible_only: bool,
        files: bool,
        folder: str = "tickets",
        messages: list[Message] | None = None,
    ) -> None:
        """Writes `<folder>/<number>.json` (the ticket and its messages, read unless given),
        counted under `folder`'s class."""
        ws = self.workspace_id
        shown: list[dict[str, Any]] = []
        if messages is None:
            messages = self.data.tickets.messages(ws, ticket.id, MAX_MESSAGES)
        if len(messages) >= MAX_MESSAGES:
            self.notes.append(f"{folder}/{ticket.number}.json: its first {MAX_MESSAGES} messages.")
        for message in messages:
            if customer_visible_only and message.kind is MessageKind.NOTE:
                continue
            paths: list[str] = []
            for attachment in message.attachments:
                if not files:
                    paths.append("")
                    continue
                name = f"{attachment.id}-{safe_name(attachment.filename)}"
                stored = self.stored_file(
                    attachment.s3_key, f"attachments/{ticket.number}/{name}", "attachment"
                )
                paths.append(stored or "")
                self.counts.add("attachments", 1 if stored else 0)
            raw_path = None
            if files and message.raw_s3_key:
                raw_path = self.stored_file(
                    message.raw_s3_key, f"raw_mail/{ticket.number}/{message.id}.eml", "mail"
                )
                self.counts.add("raw_mail", 1 if raw_path else 0)
            shown.append(_message_record(message, paths, raw_path))
        self.counts.add("messages", len(shown))
        self.counts.add(folder)
        if ticket.channel is Channel.CHAT and folder == "tickets":
            self.counts.add("chats")
        self.bundle.add(
            f"{folder}/{ticket.number}.json",
            _json({"ticket": _ticket_record(ticket), "messages": shown}),
        )
        self.ticket_written()


def _chat_feedback(ticket: Ticket, activity: list[Activity], contact: Contact) -> list[Any]:
    return [
        {
            "ticket": ticket.number,
            "answer_message_id": entry.before,
            "verdict": entry.after,
            "at": entry.at,
        }
        for entry in activity
        if entry.action == FEEDBACK_ACTION and entry.actor == f"contact:{contact.id}"
    ]


CONTACT_NOTES = (
    "tickets/ holds the tickets and chats the contact opened (is the requester of); "
    "cc_tickets/ the tickets of others they were copied on (CC), wrote to or were written "
    "to, found through the search index's entries for their address, without those "
    "tickets' attachments and raw mail (their requester's).",
    "Messages are those the contact could see: their own, the team's replies and the chat's "
    "answers. Internal notes are the team's and are left out.",
    "Help-centre feedback (article votes) is anonymous: only a hash of the visitor and the "
    "article's counters are kept, so no vote can be attributed to the contact.",
)
WORKSPACE_NOTES = (
    "The whole workspace: every contact; every ticket and chat with all its messages "
    "(internal notes included) in tickets/, their attachments in attachments/ and the mail "
    "as received in raw_mail/; the AI results made on them; the bookings; the chat answers' "
    "feedback and the help-centre articles' votes in feedback.json.",
    "Help-centre votes are counters per article: a vote keeps only a hash of the visitor, "
    "so none can be attributed to a person.",
)


def _manifest(
    request: BundleRequest,
    scope: str,
    subject: dict[str, Any] | None,
    writer: _Writer,
    notes: tuple[str, ...],
) -> bytes:
    return _json(
        {
            "export_id": request.export_id,
            "workspace_id": request.workspace_id,
            "scope": scope,
            "subject": subject,
            "requested_by": request.requested_by,
            "requested_at": request.requested_at,
            "kept_days": request.kept_days,
            "counts": writer.counts.values,
            "notes": [*notes, *writer.notes],
        }
    )


CONTACT_CLASSES = (
    "contact",
    "tickets",
    "cc_tickets",
    "chats",
    "messages",
    "attachments",
    "raw_mail",
    "bookings",
    "ai_results",
    "feedback",
)


def _copied_tickets(data: ContactData, writer: _Writer, contact: Contact, own: set[str]) -> None:
    """Others' tickets the contact took part in (`cc_tickets/`): those the postings of their
    address name, but for their own, where they are in the CC or on a message people outside
    the team could see (a ticket that merely names them is not theirs)."""
    ws = writer.workspace_id
    writer.phase("cc_tickets")
    named = _paged(
        lambda cursor: data.tickets.tickets_naming(ws, contact.email, cursor, PAGE), MAX_TICKETS
    )
    taken = []
    for ticket in named:
        if ticket.id in own or ticket.requester_id == contact.id:
            continue
        messages = data.tickets.messages(ws, ticket.id, MAX_MESSAGES)
        if takes_part(ticket, messages, contact.email):
            taken.append((ticket, messages))
    for ticket, messages in sorted(taken, key=lambda t: t[0].number):
        writer.ticket(
            ticket,
            customer_visible_only=True,
            files=False,
            folder="cc_tickets",
            messages=messages,
        )


def write_contact_bundle(
    data: ContactData,
    request: BundleRequest,
    contact: Contact,
    target: IO[bytes],
    on_progress: OnProgress,
) -> dict[str, int]:
    """Writes the contact's bundle into `target`; returns the count of each class."""
    ws = request.workspace_id
    bundle = _Zip(target, request.requested_at)
    writer = _Writer(data, ws, bundle, on_progress)
    for name in CONTACT_CLASSES:
        writer.counts.add(name, 0)
    writer.phase("contact")
    bundle.add("contact.json", _json(contact_record(contact)))
    writer.counts.add("contact")
    writer.phase("tickets")
    tickets = list(
        _paged(
            lambda cursor: data.tickets.tickets_of_contact(ws, contact.id, cursor, PAGE),
            MAX_TICKETS,
        )
    )
    if len(tickets) >= MAX_TICKETS:
        writer.notes.append(f"Only the newest {MAX_TICKETS} tickets are included.")
    feedback: list[Any] = []
    ai_results: list[Any] = []
    for ticket in sorted(tickets, key=lambda t: t.number):
        writer.ticket(ticket, customer_visible_only=True, files=True)
        if ticket.channel is Channel.CHAT:
            activity = data.tickets.activity(ws, ticket.id, MAX_ACTIVITY)
            feedback.extend(_chat_feedback(ticket, activity, contact))
        for result in data.ai_results.results_of_ticket(ws, ticket.id, MAX_AI_RESULTS):
            ai_results.append(
                {
                    "ticket": ticket.number,
                    "kind": result.kind,
                    "key": result.key,
                    "status": result.status,
                    "requested_at": result.requested_at,
                    "completed_at": result.completed_at,
                    "output": result.payload,
                }
            )
    _copied_tickets(data, writer, contact, {t.id for t in tickets})
    writer.phase("bookings")
    bookings = data.bookings.bookings_of_contact(ws, contact.id, MAX_BOOKINGS)
    bundle.add("bookings.json", _json([_booking_record(b) for b in bookings]))
    writer.counts.add("bookings", len(bookings))
    writer.phase("ai_results")
    bundle.add("ai_results.json", _json(ai_results))
    writer.counts.add("ai_results", len(ai_results))
    bundle.add(
        "feedback.json",
        _json(
            {
                "chat_answers": feedback,
                "help_centre": {"attributable": False, "note": CONTACT_NOTES[2]},
            }
        ),
    )
    writer.counts.add("feedback", len(feedback))
    writer.phase("manifest")
    subject = {"contact_id": contact.id, "email": contact.email}
    bundle.add("manifest.json", _manifest(request, "contact", subject, writer, CONTACT_NOTES))
    bundle.close()
    return dict(writer.counts.values)


WORKSPACE_CLASSES = (
    "contacts",
    "tickets",
    "chats",
    "messages",
    "attachments",
    "raw_mail",
    "bookings",
    "ai_results",
    "feedback",
    "help_centre_articles",
)
MAX_ARTICLES = 5000


def _ai_records(data: ContactData, ws: str, ticket: Ticket) -> list[dict[str, Any]]:
    return [
        {
            "ticket": ticket.number,
            "kind": result.kind,
            "key": result.key,
            "status": result.status,
            "requested_at": result.requested_at,
            "completed_at": result.completed_at,
            "output": result.payload,
        }
        for result in data.ai_results.results_of_ticket(ws, ticket.id, MAX_AI_RESULTS)
    ]


def write_workspace_bundle(
    data: ContactData, request: BundleRequest, target: IO[bytes], on_progress: OnProgress
) -> dict[str, int]:
    """Writes the whole workspace's bundle into `target`; returns the counts: every contact,
    every ticket and chat with all its messages (internal notes included), their
    attachments and raw mail, the AI results, the chat answers' feedback, the bookings and
    the help centre's article votes (counters)."""
    ws = request.workspace_id
    bundle = _Zip(target, request.requested_at)
    writer = _Writer(data, ws, bundle, on_progress)
    for name in WORKSPACE_CLASSES:
        writer.counts.add(name, 0)
    writer.phase("contacts")
    contacts = list(_paged(lambda cursor: data.contacts.contacts(ws, cursor, PAGE), MAX_CONTACTS))
    bundle.add("contacts.json", _json([contact_record(c) for c in contacts]))
    writer.counts.add("contacts", len(contacts))
    writer.phase("tickets")
    tickets = list(_paged(lambda cursor: data.tickets.tickets(ws, cursor, PAGE), MAX_TICKETS))
    if len(tickets) >= MAX_TICKETS:
        writer.notes.append(f"Only the {MAX_TICKETS} most recently active tickets are included.")
    ai_results: list[Any] = []
    feedback: list[Any] = []
    for ticket in sorted(tickets, key=lambda t: t.number):
        writer.ticket(ticket, customer_visible_only=False, files=True)
        ai_results.extend(_ai_records(data, ws, ticket))
        if ticket.channel is Channel.CHAT:
            activity = data.tickets.activity(ws, ticket.id, MAX_ACTIVITY)
            feedback.extend(
                {
                    "ticket": ticket.number,
                    "answer_message_id": entry.before,
                    "verdict": entry.after,
                    "by": entry.actor,
                    "at": entry.at,
                }
                for entry in activity
                if entry.action == FEEDBACK_ACTION
            )
    writer.phase("bookings")
    bookings = list(_paged(lambda cursor: data.bookings.bookings(ws, cursor, PAGE), MAX_BOOKINGS))
    bundle.add("bookings.json", _json([_booking_record(b) for b in bookings]))
    writer.counts.add("bookings", len(bookings))
    writer.phase("ai_results")
    bundle.add("ai_results.json", _json(ai_results))
    writer.counts.add("ai_results", len(ai_results))
    articles: list[Any] = []
    if data.feedback is not None:
        source = data.feedback
        articles = [
            {
                "article_id": votes.article_id,
                "locale": votes.locale,
                "title": votes.title,
                "helpful": votes.helpful,
                "not_helpful": votes.not_helpful,
            }
            for votes in _paged(lambda cursor: source.article_votes(ws, cursor, PAGE), MAX_ARTICLES)
        ]
    bundle.add(
        "feedback.json",
        _json({"chat_answers": feedback, "help_centre_articles": articles}),
    )
    writer.counts.add("feedback", len(feedback))
    writer.counts.add("help_centre_articles", len(articles))
    writer.phase("manifest")
    bundle.add("manifest.json", _manifest(request, "workspace", None, writer, WORKSPACE_NOTES))
    bundle.close()
    return dict(writer.counts.values)
