"""Opening tickets and changing them (status, priority, assignee, tags, subject)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from chalicelib.concurrency import retry_stale
from chalicelib.errors import Conflict, HelptalError, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.tickets.acknowledgements import AcknowledgementToSend
from chalicelib.tickets.contacts import contact_for, new_contact
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.message_size import require_storable
from chalicelib.tickets.model import (
    Activity,
    Channel,
    Contact,
    Message,
    Priority,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import (
    AcknowledgementRefused,
    ContactExists,
    NumberTaken,
    StaleTicket,
)

T = TypeVar("T")
MAX_TAGS = 20
WRITE_ATTEMPTS = 30
# Opening a ticket races every other ticket opened in the workspace for the next number; a
# lost race means another ticket was filed (progress), so a burst gets a larger budget and a
# short backoff.
OPEN_ATTEMPTS = 100
OPEN_MAX_BACKOFF_SECONDS = 0.05


def retrying(write: Callable[[], T]) -> T:
    """A ticket's read-modify-write, retried while other writes get in between."""
    return retry_stale(
        write,
        (StaleTicket, ContactExists),
        Conflict(
            "The ticket is being changed by many requests at once; try again.", code="ticket_busy"
        ),
        WRITE_ATTEMPTS,
    )


def normalise_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        value = tag.strip().lower().replace(" ", "_")
        if not value:
            continue
        if len(value) > 50 or not all(ch.isalnum() or ch in "-_:." for ch in value):
            raise ValidationFailed(
                f"tag {tag!r}: use up to 50 letters, digits, '-', '_', ':' or '.'",
                details=[{"field": "tags", "message": f"invalid tag {tag!r}"}],
            )
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed(
            f"at most {MAX_TAGS} tags", details=[{"field": "tags", "message": "too many tags"}]
        )
    return cleaned


def activity(
    ticket: Ticket, actor: str, action: str, before: object, after: object, at: datetime
) -> Activity:
    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return str(getattr(value, "value", value))

    return Activity(
        id=new_id(),
        ticket_id=ticket.id,
        actor=actor,
        action=action,
        before=text(before),
        after=text(after),
        at=at,
    )


@dataclass(frozen=True)
class NewTicket:
    requester_email: str
    requester_name: str
    subject: str
    channel: Channel
    cc: list[str]
    tags: list[str]
    priority: Priority = Priority.NORMAL
    status: TicketStatus = TicketStatus.NEW
    assignee_id: str | None = None
    follow_up_of: str | None = None
    sender_verified: bool = True  # False: mail whose From SPF/DKIM did not prove
    unverified_reply_to: str | None = None
    # Detected from the first message: kept on the requester's contact.
    requester_language: str | None = None


@dataclass(frozen=True)
class KnownBeforeOpening:
    """What the caller already read for a new ticket (mail intake reads it in one batch):
    the workspace's last ticket number and the requester's contact (None: there is none).
    A retry reads the counter again, and the contact when another request created it
    meanwhile."""

    last_number: int
    contact: Contact | None


def open_ticket(
    deps: TicketDeps,
    workspace_id: str,
    actor: str,
    new: NewTicket,
    first_message: Callable[[Ticket], Message | None],
    *,
    known: KnownBeforeOpening | None = None,
    acknowledgement: Callable[[Ticket], AcknowledgementToSend | None] | None = None,
    ticket_id: str | None = None,
) -> Ticket:
    """Creates the ticket with the workspace's next number, its requester (a contact,
    created if new) and its first message, in one transaction; retried when another ticket
    took the number meanwhile.  `acknowledgement`: the auto-reply for the new ticket, claimed
    and recorded in that transaction (left out when its caps or suppressions refuse it) and
    queued afterwards.  `ticket_id`: the id to give it (a caller that may repeat the opening
    names the same id each time: the second attempt returns the first's ticket).  Emits
    `ticket.created`."""
    if new.assignee_id is not None:
        require_assignable(deps, workspace_id, new.assignee_id)
    tags = normalise_tags(new.tags)
    ticket_id = ticket_id or new_id()
    acknowledging = acknowledgement is not None
    recorded: list[AcknowledgementToSend] = []
    # What the next attempt builds on; None: read it (again).
    last_number = None if known is None else known.last_number
    requester: tuple[Contact, bool] | None = None
    if known is not None:
        requester = (
            (known.contact, False)
            if known.contact is not None
            else (
                new_contact(
                    workspace_id,
                    new.requester_email,
                    new.requester_name,
                    deps.clock.now(),
                    language=new.requester_language,
                ),
                True,
            )
        )

    def write() -> Ticket:
        nonlocal acknowledging, last_number, requester
        now = deps.clock.now()
        if last_number is None:
            last_number = deps.store.last_ticket_number(workspace_id)
        if requester is None:
            requester = contact_for(
                deps,
                workspace_id,
                new.requester_email,
                new.requester_name,
                language=new.requester_language,
            )
        contact, is_new = requester
        number, last_number = last_number + 1, None  # a retry reads the counter again
        ticket = Ticket(
            id=ticket_id,
            workspace_id=workspace_id,
            number=number,
            subject=(new.subject.strip() or "(no subject)")[:250],
            requester_id=contact.id,
            requester_email=contact.email,
            requester_name=contact.name,
            cc=[c for c in dict.fromkeys(new.cc) if c != contact.email],
            status=new.status,
            priority=new.priority,
            assignee_id=new.assignee_id,
            tags=tags,
            channel=new.channel,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
            follow_up_of=new.follow_up_of,
            sender_verified=new.sender_verified,
            unverified_reply_to=new.unverified_reply_to,
        )
        message = first_message(ticket)
        if message is not None:
            require_storable(message)
            ticket = replace(ticket, message_count=1, last_customer_message_id=message.id)
        entries = [activity(ticket, actor, "created", None, ticket.number, now)]
        if not new.sender_verified:
            entries.append(
                activity(ticket, actor, "sender_not_verified", None, new.unverified_reply_to, now)
            )
        added = contact if is_new else None
        # Written with the ticket only when it changed: the common case adds nothing.
        language = (
            new.requester_language
            if not is_new and new.requester_language not in (None, contact.language)
            else None
        )
        ack = acknowledgement(ticket) if acknowledgement is not None and acknowledging else None
        try:
            try:
                deps.store.create_ticket(
                    ticket, message, entries, added, ack, requester_language=language
                )
            except AcknowledgementRefused:
                logger.info("acknowledgement not sent: suppressed or over the hourly cap")
                acknowledging, ack = False, None
                deps.store.create_ticket(
                    ticket, message, entries, added, requester_language=language
                )
        except ContactExists:
            requester = None  # created meanwhile by another mail: read it
            raise
        except StaleTicket:
            # Our own earlier attempt went through (its answer was lost): it is the ticket.
            # Its acknowledgement, if it had one, stays unsent (the lesser harm).
            created = deps.store.get_ticket(workspace_id, ticket_id)
            if created is None:
                raise
            return created
        recorded[:] = [ack] if ack is not None else []
        return ticket

    ticket = retry_stale(
        write,
        (StaleTicket, ContactExists, NumberTaken),
        Conflict(
            "Too many tickets are being opened in this workspace at once; try again.",
            code="workspace_busy",
        ),
        OPEN_ATTEMPTS,
        OPEN_MAX_BACKOFF_SECONDS,
    )
    deps.events.publish(
        "ticket.created",
        workspace_id,
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "actor": actor,
            "assignee_id": ticket.assignee_id,
        },
    )
    for ack in recorded:
        deps.outbox.send_recorded(ack.mail)
    return ticket


def require_assignable(deps: TicketDeps, workspace_id: str, user_id: str) -> None:
    if deps.accounts.get_member(workspace_id, user_id) is None:
        raise ValidationFailed(
            "The assignee is not a member of this workspace.",
            code="invalid_assignee",
            details=[{"field": "assignee_id", "message": "not a member of this workspace"}],
        )


def get_ticket(deps: TicketDeps, workspace_id: str, ticket_ref: str) -> Ticket:
    """By id, or by number (`123` or `#123`); 404 for anything outside the workspace."""
    reference = ticket_ref.lstrip("#")
    ticket = (
        deps.store.get_ticket_by_number(workspace_id, int(reference))
        if reference.isascii() and reference.isdigit() and len(reference) < 11
        else deps.store.get_ticket(workspace_id, ticket_ref)
        if len(ticket_ref) == 26
        else None
    )
    if ticket is None:
        raise NotFound("No such ticket.", code="ticket_not_found")
    return ticket


@dataclass(frozen=True)
class TicketChanges:
    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: str | None = None
    unassign: bool = False
    tags: list[str] | None = None
    subject: str | None = None
    # Applied to the tags the ticket has when it is written (never a stale copy's).
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None


def apply_changes(
    ticket: Ticket, changes: TicketChanges, actor: str, now: datetime
) -> tuple[Ticket, list[Activity]]:
    """The changed ticket and one activity entry per field that really changed."""
    updated = ticket
    entries: list[Activity] = []

    def change(field: str, value: object) -> None:
        nonlocal updated
        before = getattr(updated, field)
        if before != value:
            entries.append(activity(ticket, actor, field.removesuffix("_id"), before, value, now))
            updated = replace(updated, **{field: value})  # type: ignore[arg-type]

    if changes.status is not None:
        change("status", changes.status)
        if changes.status is TicketStatus.SOLVED and ticket.status is not TicketStatus.SOLVED:
            updated = replace(updated, solved_at=now)
    if changes.priority is not None:
        change("priority", changes.priority)
    if changes.unassign:
        change("assignee_id", None)
    elif changes.assignee_id is not None:
        change("assignee_id", changes.assignee_id)
    if changes.tags is not None:
        change("tags", normalise_tags(changes.tags))
    if changes.add_tags or changes.remove_tags:
        removed = set(normalise_tags(changes.remove_tags or []))
        kept = [tag for tag in updated.tags if tag not in removed]
        change("tags", normalise_tags(kept + list(changes.add_tags or [])))
    if changes.subject is not None:
        change("subject", changes.subject.strip()[:250] or ticket.subject)
    if entries:
        updated = replace(
            updated, updated_at=now, last_activity_at=now, revision=ticket.revision + 1
        )
    return updated, entries


def change_ticket(
    deps: TicketDeps, workspace_id: str, ticket_ref: str, actor: str, changes: TicketChanges
) -> Ticket:
    """Writes the changes (and their activity) if the ticket did not change meanwhile;
    retries on a concurrent change.  Emits `ticket.updated` when anything changed."""
    if changes.assignee_id is not None:
        require_assignable(deps, workspace_id, changes.assignee_id)
    ticket_id = get_ticket(deps, workspace_id, ticket_ref).id

    def write() -> tuple[Ticket, list[Activity]]:
        current = get_ticket(deps, workspace_id, ticket_id)
        if current.merged_into:
            raise Conflict("This ticket was merged into another one.", code="ticket_merged")
        updated, entries = apply_changes(current, changes, actor, deps.clock.now())
        if entries:
            deps.store.save_ticket(current, updated, entries)
        return updated, entries

    updated, entries = retrying(write)
    if entries:
        deps.events.publish(
            "ticket.updated",
            workspace_id,
            {
                "ticket_id": updated.id,
                "actor": actor,
                "changes": [e.action for e in entries],
                # Who it was assigned to by this change (the notifications tell them).
                **(
                    {"assignee_id": updated.assignee_id}
                    if any(e.action == "assignee" for e in entries)
                    else {}
                ),
            },
        )
    return updated


MAX_BULK_TICKETS = 50


@dataclass(frozen=True)
class BulkOutcome:
    ticket_ref: str
    ticket: Ticket | None = None
    error: HelptalError | None = None


def change_tickets(
    deps: TicketDeps,
    workspace_id: str,
    ticket_refs: list[str],
    actor: str,
    changes: TicketChanges,
) -> list[BulkOutcome]:
    """The same changes on each ticket, one at a time (each as `change_ticket`: its own
    write and event), in the order given, duplicates once.  A ticket refused (not found,
    merged, ...) is reported and does not stop the others; changes invalid for every
    ticket (an unknown assignee, a bad tag) refuse the whole request before any write.
    At most MAX_BULK_TICKETS."""
    if len(ticket_refs) > MAX_BULK_TICKETS:
        raise ValidationFailed(
            f"at most {MAX_BULK_TICKETS} tickets at once",
            details=[{"field": "ticket_ids", "message": "too many tickets"}],
        )
    if changes.assignee_id is not None:
        require_assignable(deps, workspace_id, changes.assignee_id)
    normalise_tags(list(changes.add_tags or []) + list(changes.remove_tags or []))
    outcomes = []
    for ref in dict.fromkeys(ticket_refs):
        try:
            outcomes.append(
                BulkOutcome(ref, ticket=change_ticket(deps, workspace_id, ref, actor, changes))
            )
        except HelptalError as error:
            outcomes.append(BulkOutcome(ref, error=error))
    return outcomes
