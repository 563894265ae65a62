"""Which ticket an incoming e-mail belongs to.

In order: the signed reply address it was sent to; then its In-Reply-To and References
against the Message-IDs stored for the workspace.  A match only counts when the sender
belongs to that conversation (requester, CC participant or a member of the team): mail from
a stranger who cites someone else's Message-ID starts a ticket of its own."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.mail.inbound.model import InboundMail
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import Ticket
from chalicelib.tickets.reply_address import ticket_of_token

MAX_MERGE_HOPS = 5
MAX_REFERENCES_CHECKED = 20


@dataclass(frozen=True)
class Thread:
    ticket: Ticket
    sender_is_member: bool
    member_user_id: str | None


def _follow_merges(deps: TicketDeps, ticket: Ticket) -> Ticket:
    for _ in range(MAX_MERGE_HOPS):
        if not ticket.merged_into:
            return ticket
        target = deps.store.get_ticket(ticket.workspace_id, ticket.merged_into)
        if target is None:
            return ticket
        ticket = target
    return ticket


def _member_id(deps: TicketDeps, workspace_id: str, address: str) -> str | None:
    user = deps.accounts.find_user_by_email(address)
    if user is None or deps.accounts.get_member(workspace_id, user.id) is None:
        return None
    return user.id


def find_thread(
    deps: TicketDeps, workspace_id: str, mail: InboundMail, reply_token: str | None
) -> Thread | None:
    """The conversation `mail` continues, or None for a new one."""
    candidates: list[str] = []
    token_ticket = ticket_of_token(deps.policy.reply_address_secret, workspace_id, reply_token)
    if token_ticket:
        candidates.append(token_ticket)
    cited = [*reversed(mail.in_reply_to), *reversed(mail.references)]
    for message_id in list(dict.fromkeys(cited))[:MAX_REFERENCES_CHECKED]:
        ticket_id = deps.store.find_ticket_by_message_id(workspace_id, message_id)
        if ticket_id and ticket_id not in candidates:
            candidates.append(ticket_id)
    member_id: str | None = None
    member_checked = False
    for ticket_id in candidates:
        ticket = deps.store.get_ticket(workspace_id, ticket_id)
        if ticket is None:
            continue
        ticket = _follow_merges(deps, ticket)
        if mail.from_address in ticket.participants:
            return Thread(ticket, sender_is_member=False, member_user_id=None)
        if not member_checked:
            member_id = _member_id(deps, workspace_id, mail.from_address)
            member_checked = True
        if member_id:
            return Thread(ticket, sender_is_member=True, member_user_id=member_id)
    return None
