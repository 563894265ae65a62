"""What the ticket services need from storage (a port; pynamodb implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.tickets.acknowledgements import AcknowledgementToSend
from chalicelib.tickets.merge_record import MergeRecord
from chalicelib.tickets.model import (
    Activity,
    Contact,
    Message,
    Ticket,
    TicketFilter,
    TicketPage,
)


class DuplicateMessage(Exception):
    """A message with this RFC Message-ID is already on a ticket of the workspace."""

    def __init__(self, ticket_id: str | None = None) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


class StaleTicket(Exception):
    """The ticket changed since it was read (optimistic lock): read it again and retry."""


class ContactExists(Exception):
    """Another request created a contact for this e-mail first."""


class UploadAlreadyUsed(Exception):
    """An upload the message claims is on another message already (or not this ticket's)."""


class NumberTaken(Exception):
    """Another ticket took the number after the last one read: read the counter again."""


class AcknowledgementRefused(Exception):
    """The acknowledgement written with a ticket was refused (its recipient is suppressed,
    or an hourly cap is reached): nothing was written."""


class TicketStore(Protocol):
    """Persistence of tickets.  Every method makes a bounded number of calls."""

    def last_ticket_number(self, workspace_id: str) -> int:
        """The number of the workspace's latest ticket (0 before the first); consistent."""

    def create_ticket(
        self,
        ticket: Ticket,
        first_message: Message | None,
        activity: list[Activity],
        new_contact: Contact | None,
        acknowledgement: AcknowledgementToSend | None = None,
        requester_language: str | None = None,
    ) -> None:
        """Atomically: ticket, its number (the workspace's counter moves from
        `ticket.number - 1` to it), tag entries, first message (+ its Message-ID), activity,
        the requester's contact if new (else `requester_language`, when given, set on the
        existing one), and the acknowledgement's hourly claim and outbound mail record.
        Raises NumberTaken, DuplicateMessage, ContactExists (also: the contact whose language
        is set is gone), StaleTicket (a ticket with this id exists) or AcknowledgementRefused."""

    def save_ticket(
        self,
        before: Ticket,
        after: Ticket,
        activity: list[Activity],
        message: Message | None = None,
        new_contact: Contact | None = None,
        claim_uploads: Sequence[str] = (),
    ) -> None:
        """Atomically writes `after` if the ticket is still at `before.revision`, with its
        tag entries, activity and an optional new message, and marks the `claim_uploads`
        (agent uploads for this ticket) as used by that message.  Raises StaleTicket,
        DuplicateMessage, ContactExists or UploadAlreadyUsed."""

    def get_ticket(self, workspace_id: str, ticket_id: str) -> Ticket | None: ...
    def get_ticket_by_number(self, workspace_id: str, number: int) -> Ticket | None: ...
    def get_tickets(self, workspace_id: str, ticket_ids: list[str]) -> list[Ticket]:
        """In the order asked; missing ones left out (one BatchGetItem, at most 100)."""

    def find_ticket_by_message_id(self, workspace_id: str, message_id: str) -> str | None: ...
    def list_tickets(
        self, workspace_id: str, filters: TicketFilter, cursor: str | None, limit: int
    ) -> TicketPage: ...
    def get_message(self, workspace_id: str, ticket_id: str, message_id: str) -> Message | None: ...
    def list_messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]: ...
    def list_activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]: ...
    def update_message_delivery(
        self,
        workspace_id: str,
        ticket_id: str,
        message_id: str,
        delivery: str,
        detail: str | None,
        only_from: tuple[str, ...] = (),
    ) -> bool:
        """Sets a message's delivery status (one conditional UpdateItem); False when the
        message does not exist or, with `only_from`, its status is not one of those."""

    def inbox_counts(self, workspace_id: str) -> dict[str, int]:
        """Raw counters by bucket (see chalicelib/tickets/counts.py)."""

    def merge_messages(self, source: Ticket, target: Ticket, messages: list[Message]) -> None:
        """Copies `messages` onto `target` and points their Message-IDs at it (idempotent)."""

    def begin_merge(
        self,
        source_before: Ticket,
        source_after: Ticket,
        activity: list[Activity],
        target: Ticket,
        record: MergeRecord,
    ) -> None:
        """Atomically: writes the merge record (if the source has none), `source_after` (if
        the source is still at `source_before.revision` and nothing is being merged into
        it) and counts one more unfinished merge into `target` (if the target is not
        merged).  Raises StaleTicket when any of these no longer holds."""

    def get_merge(self, workspace_id: str, source_id: str) -> MergeRecord | None: ...
    def incoming_merges(self, workspace_id: str, ticket_id: str) -> int:
        """How many merges into this ticket began and have not finished."""

    def finish_merge(
        self,
        target_before: Ticket,
        target_after: Ticket,
        activity: list[Activity],
        record: MergeRecord,
    ) -> None:
        """Atomically: writes `target_after` (if still at `target_before.revision`), marks
        the record done (if still pending) and counts one merge into the target fewer.
        Raises StaleTicket when either no longer holds."""

    def record_viewer(
        self, workspace_id: str, ticket_id: str, user_id: str, name: str, now: int, until: int
    ) -> list[tuple[str, str, int]]:
        """Notes that `user_id` has the ticket open until `until` (epoch seconds); returns
        everyone whose view has not expired at `now`: (user id, name, until)."""

    def forget_viewer(self, workspace_id: str, ticket_id: str, user_id: str) -> None:
        """`user_id` closed the ticket: off the viewers at once (idempotent)."""

    def get_contact(self, workspace_id: str, contact_id: str) -> Contact | None: ...
    def find_contact_by_email(self, workspace_id: str, email: str) -> Contact | None: ...
