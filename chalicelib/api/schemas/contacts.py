"""Contact (requester) directory schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from chalicelib.api.schemas.common import Outgoing, QueryParams
from chalicelib.api.schemas.tickets import TicketOut


class ContactQuery(QueryParams):
    q: str | None = Field(
        default=None,
        max_length=254,
        description="Start of the e-mail address or of a word of the name (any case, "
        "accents ignored); several words must all match.",
    )
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=100)


class ContactTicketsQuery(QueryParams):
    cursor: str | None = Field(default=None, max_length=4096, description="The tickets' cursor.")
    limit: int = Field(default=25, ge=1, le=100)


class ContactOut(Outgoing):
    id: str
    email: str
    name: str
    created_at: datetime


class ContactsOut(Outgoing):
    contacts: list[ContactOut]
    next_cursor: str | None


class ContactBookingOut(Outgoing):
    id: str
    title: str
    start: datetime = Field(description="When the meeting starts (UTC).")
    end: datetime = Field(description="When it ends (UTC).")
    status: str = Field(description="pending, confirmed, cancelled or declined.")


class ContactDetailOut(ContactOut):
    tickets: list[TicketOut] = Field(description="Their tickets, newest activity first.")
    next_cursor: str | None = Field(description="Next page of their tickets.")
    bookings: list[ContactBookingOut] = Field(
        default_factory=list, description="Their recent bookings, newest first."
    )
