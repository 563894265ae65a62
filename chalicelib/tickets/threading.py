"""Which ticket an incoming e-mail belongs to.

Two proofs let a mail join an existing ticket:
- the signed per-ticket reply address it was sent to (a secret only the ticket's mail
  carries), when the From address is the ticket's requester or a CC participant, or a
  member's address that SPF/DKIM proved;
- its In-Reply-To and References against the Message-IDs stored for the workspace, only when
  SPF/DKIM proved the From address (`sender_verified`, see mail/inbound/sender_auth.py) and
  that address belongs to the conversation (requester, CC participant or a member).

A mail from a conversation's address that cites it without that proof does not join it: it
comes back as `Thread(..., joins=False)` so that a new ticket, marked "sender not verified",
can point at it.  A stranger who cites someone else's Message-ID starts a ticket of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.mail.inbound.model import InboundMail
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import Ticket
from chalicelib.tickets.reply_address import ticket_of_token

MAX_MERGE_HOPS = 5
MAX_REFERENCES_CHECKED = 20


@dataclass(frozen=True)
class Thread:
    """The ticket a mail continues.  `sender_is_member`: the From address is a member's
    (the mail still stays customer-side).  `joins` False: the mail cites this ticket but
    its sender is not proven, so it must not be added to it."""

    ticket: Ticket
    sender_is_member: bool
    member_user_id: str | None
    joins: bool = True


def _follow_merges(deps: TicketDeps, ticket: Ticket) -> Ticket:
    for _ in range(MAX_MERGE_HOPS):
        if not ticket.merged_into:
            return ticket
        target = deps.store.get_ticket(ticket.workspace_id, ticket.merged_into)
        if target is None:
            return ticket
        ticket = target
    return ticket


def member_user_id_of(deps: TicketDeps, workspace_id: str, address: str) -> str | None:
    user = deps.accounts.find_user_by_email(address)
    if user is None or deps.accounts.get_member(workspace_id, user.id) is None:
        return None
    return user.id


def cited_message_ids(mail: InboundMail) -> list[str]:
    """The Message-IDs `mail` answers, nearest first (at most MAX_REFERENCES_CHECKED)."""
    cited = [*reversed(mail.in_reply_to), *reversed(mail.references)]
    return list(dict.fromkeys(cited))[:MAX_REFERENCES_CHECKED]


def find_thread(
    deps: TicketDeps,
    workspace_id: str,
    mail: InboundMail,
    reply_token: str | None,
    *,
    sender_verified: bool = False,
    cited_tickets: dict[str, str] | None = None,
    member_of_workspace: Callable[[], str | None] | None = None,
) -> Thread | None:
    """The conversation `mail` continues, or None for a new one.  `sender_verified`: SPF or
    DKIM proved the From address.  `cited_tickets`: the tickets of `cited_message_ids(mail)`,
    already read (else each is looked up); `member_of_workspace`: the sender's user id if a
    member (else looked up).  Reads only (tickets, message-id lookups, members)."""
    candidates: list[tuple[str, bool]] = []  # (ticket id, cited through the reply address)
    token_ticket = ticket_of_token(deps.policy.reply_address_secret, workspace_id, reply_token)
    if token_ticket:
        candidates.append((token_ticket, True))
    for message_id in cited_message_ids(mail):
        ticket_id = (
            cited_tickets.get(message_id)
            if cited_tickets is not None
            else deps.store.find_ticket_by_message_id(workspace_id, message_id)
        )
        if ticket_id and all(ticket_id != known for known, _ in candidates):
            candidates.append((ticket_id, False))
    member_id: str | None = None
    member_checked = False
    unproven: Thread | None = None
    for ticket_id, by_reply_address in candidates:
        ticket = deps.store.get_ticket(workspace_id, ticket_id)
        if ticket is None:
            continue
        ticket = _follow_merges(deps, ticket)
        if mail.from_address in ticket.participants:
            # The reply address is a secret sent to the participants: proof enough for them.
            joins = sender_verified or by_reply_address
            thread = Thread(ticket, sender_is_member=False, member_user_id=None, joins=joins)
        else:
            if not member_checked:
                member_id = (
                    member_of_workspace()
                    if member_of_workspace is not None
                    else member_user_id_of(deps, workspace_id, mail.from_address)
                )
                member_checked = True
            if not member_id:
                continue
            thread = Thread(
                ticket, sender_is_member=True, member_user_id=member_id, joins=sender_verified
            )
        if thread.joins:
            return thread
        unproven = unproven or thread
    return unproven
