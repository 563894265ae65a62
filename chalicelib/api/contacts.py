"""The contact directory: requesters, searchable, each with their tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.api.tickets import ticket_out
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ContactDetailOut,
        ContactOut,
        ContactQuery,
        ContactsOut,
        ContactTicketsQuery,
    )
    from chalicelib.tickets.model import Contact

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
contacts = lazy_module("chalicelib.tickets.contacts")
booking_timeline = lazy_module("chalicelib.booking.timeline")
bp = Blueprint(__name__)


def contact_out(contact: Contact) -> ContactOut:
    return schemas.ContactOut(
        id=contact.id, email=contact.email, name=contact.name, created_at=contact.created_at
    )


@operation(
    bp,
    "GET",
    "/v1/contacts",
    summary="Contacts, newest first; `q` finds them by e-mail or name prefix",
    tag="contacts",
    query="ContactQuery",
    response="ContactsOut",
    errors=(400, 401, 422),
)
def list_contacts(call: Call) -> ContactsOut:
    query: ContactQuery = call.query
    page = contacts.find_contacts(
        bootstrap.contact_directory(),
        call.member.workspace_id,
        query.q,
        query.cursor,
        query.limit,
    )
    return schemas.ContactsOut(
        contacts=[contact_out(c) for c in page.contacts], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "GET",
    "/v1/contacts/{contact_id}",
    summary="A contact with their tickets (newest activity first, paged) and recent bookings",
    tag="contacts",
    query="ContactTicketsQuery",
    response="ContactDetailOut",
    errors=(400, 401, 404, 422),
)
def get_contact(call: Call) -> ContactDetailOut:
    query: ContactTicketsQuery = call.query
    view = contacts.contact_view(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        call.params["contact_id"],
        query.cursor,
        query.limit,
    )
    bookings = booking_timeline.contact_bookings(
        bootstrap.booking_deps().store, call.member.workspace_id, view.contact.id
    )
    return schemas.ContactDetailOut(
        **contact_out(view.contact).model_dump(),
        tickets=[ticket_out(t) for t in view.tickets.tickets],
        next_cursor=view.tickets.next_cursor,
        bookings=[
            schemas.ContactBookingOut(
                id=b.id, title=b.title, start=b.start, end=b.end, status=b.status.value
            )
            for b in bookings
        ],
    )
