"""The help centre's contact form: a visitor's message becomes a ticket in the workspace's
inbox, at most `CONTACTS_PER_HOUR` an hour from one visitor, after a human check when one
is configured (Cloudflare Turnstile)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.kb.helpcentre_site import Site
from chalicelib.tickets import conversation
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import NewTicket, open_ticket
from chalicelib.tickets.model import Channel, Message, Ticket

CONTACTS_PER_HOUR = 5
CONTACT_WINDOW_SECONDS = 3600


class ContactAttempts(Protocol):
    def allow_contact(self, workspace_id: str, visitor: str, now: int, limit: int) -> bool:
        """Counts one message from `visitor` in the current hour; False (not counted) when
        `limit` were already sent."""


class HumanCheck(Protocol):
    def verify(self, token: str, visitor_ip: str) -> bool:
        """Whether the check's token proves a human filled in the form."""


class TooManyContacts(Exception):
    """The visitor sent `CONTACTS_PER_HOUR` messages this hour."""


class NotHuman(Exception):
    """The human check refused the form (or its token was missing)."""


@dataclass(frozen=True)
class ContactMessage:
    name: str
    email: str
    subject: str
    message: str
    locale: str  # the page's: kept as the requester's language


def send_contact_message(
    tickets: TicketDeps,
    attempts: ContactAttempts,
    human_check: HumanCheck | None,
    site: Site,
    contact: ContactMessage,
    *,
    visitor_ip: str,
    human_token: str,
    now: int,
) -> Ticket:
    """Opens a ticket (channel `web`, status new) in the site's workspace with the visitor's
    message as its first message.  The address was typed, not proven: the ticket says
    `sender_verified: false`.  Raises NotHuman when a human check is configured and refuses,
    TooManyContacts past the hourly limit.  Writes: the attempt counter, then the ticket
    (one transaction, `ticket.created` queued).  Calls Turnstile when configured."""
    if human_check is not None and not (
        human_token and human_check.verify(human_token, visitor_ip)
    ):
        raise NotHuman()
    if not attempts.allow_contact(site.workspace_id, visitor_ip, now, CONTACTS_PER_HOUR):
        raise TooManyContacts()
    new = NewTicket(
        requester_email=contact.email,
        requester_name=contact.name,
        subject=contact.subject,
        channel=Channel.WEB,
        cc=[],
        tags=[],
        sender_verified=False,
        requester_language=contact.locale,
    )

    def first_message(ticket: Ticket) -> Message:
        return conversation.typed_message(
            ticket,
            contact.message,
            contact_id=ticket.requester_id,
            from_address=contact.email,
            created_at=ticket.created_at,
        )

    return open_ticket(tickets, site.workspace_id, "system:help_centre", new, first_message)
