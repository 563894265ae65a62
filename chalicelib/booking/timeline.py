"""A booking in the helpdesk: the invitee as a contact (found by address, created if new),
the booking on the contact's page, and the ticket an event type may open for each booking
(channel `booking`, the questions and answers as its first message)."""

from __future__ import annotations

from typing import Protocol

from chalicelib.booking.model import Booking
from chalicelib.booking.sync import OpenedTicket
from chalicelib.errors import Conflict
from chalicelib.ids import derived_id
from chalicelib.tickets import contacts, conversation
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import NewTicket, open_ticket
from chalicelib.tickets.model import (
    Channel,
    Contact,
    Message,
    Ticket,
)
from chalicelib.tickets.ports import ContactExists

CONTACT_ATTEMPTS = 3
BOOKINGS_ON_CONTACT = 20


class ContactWriter(Protocol):
    def create_contact(self, contact: Contact) -> None:
        """Stores a new contact (its e-mail lookup and search entries with it); raises
        ContactExists when another request created one for the address first."""


class ContactBookings(Protocol):
    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        """Newest first."""


class TicketContacts:
    """`ContactBook` over the tickets' contacts: the same contact a mail from the invitee
    would file under."""

    def __init__(self, tickets: TicketDeps, writer: ContactWriter) -> None:
        self._tickets = tickets
        self._writer = writer

    def contact_for(self, workspace_id: str, email: str, name: str, language: str) -> str:
        for _ in range(CONTACT_ATTEMPTS):
            contact, is_new = contacts.contact_for(
                self._tickets, workspace_id, email, name, language=language
            )
            if not is_new:
                return contact.id
            try:
                self._writer.create_contact(contact)
            except ContactExists:
                continue  # created meanwhile: read it
            return contact.id
        raise Conflict("The contact is being created elsewhere; try again.", code="contact_busy")


class InboxTickets:
    """`BookingTickets`: a booking's ticket, opened as the help centre's contact form opens
    one (the address was typed, not proven)."""

    def __init__(self, tickets: TicketDeps) -> None:
        self._tickets = tickets

    def open_for(self, booking: Booking, subject: str, text: str) -> OpenedTicket:
        invitee = booking.invitee
        new = NewTicket(
            requester_email=invitee.email,
            requester_name=invitee.name,
            subject=subject,
            channel=Channel.BOOKING,
            cc=[],
            tags=["booking"],
            sender_verified=False,
            requester_language=invitee.locale,
        )

        def first_message(ticket: Ticket) -> Message:
            return conversation.typed_message(
                ticket,
                text,
                contact_id=ticket.requester_id,
                from_address=invitee.email,
                created_at=ticket.created_at,
            )

        # The same id on every attempt: a job retried after opening it, before recording it,
        # finds this ticket instead of opening a second one.
        ticket = open_ticket(
            self._tickets,
            booking.workspace_id,
            "system:booking",
            new,
            first_message,
            ticket_id=derived_id(booking.id, "booking-ticket"),
        )
        return OpenedTicket(ticket_id=ticket.id, contact_id=ticket.requester_id)


def contact_bookings(
    store: ContactBookings, workspace_id: str, contact_id: str, limit: int = BOOKINGS_ON_CONTACT
) -> list[Booking]:
    """The contact's recent bookings, newest first (the contact's page shows them)."""
    return store.bookings_of_contact(workspace_id, contact_id, limit)
