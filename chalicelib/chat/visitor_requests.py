"""What a visitor asks of an open conversation besides writing: leaving an address, asking
for a person, rating it, saying whether a bot answer helped, ending it (with a transcript),
and a verified visitor's earlier conversations."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.accounts.model import Workspace
from chalicelib.chat import visitor_tokens
from chalicelib.chat.conversations import conversation_not_found, visitor_ticket
from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.live import tell_moved
from chalicelib.chat.model import ChatState, Rating, VisitorIdentity
from chalicelib.chat.ports import PastConversation
from chalicelib.chat.visitor_tokens import VisitorGrant
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.tickets import conversation
from chalicelib.tickets.contacts import contact_for
from chalicelib.tickets.lifecycle import activity, retrying
from chalicelib.tickets.model import DeliveryStatus, Message, MessageKind, Ticket, TicketStatus

HISTORY_LIMIT = 20


def leave_address(
    deps: ChatDeps, grant: VisitorGrant, state: ChatState, email: str, name: str
) -> Ticket:
    """The visitor leaves an e-mail address: the ticket's requester becomes that address's
    contact (created if new), `sender_verified: false` unless the visitor's identity was
    verified with that address.  Writes the ticket (and the contact) in one transaction."""
    address = email.strip().lower()

    def write() -> Ticket:
        current = visitor_ticket(deps, grant)
        if current.requester_email == address:
            return current
        contact, is_new = contact_for(
            deps.tickets,
            grant.workspace_id,
            address,
            name or current.requester_name,
            language=state.language,
        )
        at = deps.tickets.clock.now()
        updated = replace(
            current,
            requester_id=contact.id,
            requester_email=contact.email,
            requester_name=contact.name,
            sender_verified=current.sender_verified and state.user_id is not None,
            updated_at=at,
            revision=current.revision + 1,
        )
        entry = activity(
            current, "system:chat", "requester", current.requester_email, contact.email, at
        )
        deps.tickets.store.save_ticket(
            current, updated, [entry], new_contact=contact if is_new else None
        )
        return updated

    ticket = retrying(write)
    deps.tickets.events.publish(
        "ticket.updated", grant.workspace_id, {"ticket_id": ticket.id, "actor": "system:chat"}
    )
    return ticket


# A conversation's activity read for an earlier hand-off (one Query; a chat has few).
HANDOFF_LOOKBACK = 500


def hand_off(deps: ChatDeps, grant: VisitorGrant, state: ChatState, note_text: str) -> Ticket:
    """The visitor asks for a person: the conversation is `open` for the team, with an
    activity entry and a system note; the answer bot is not called.  Writes the ticket,
    the note and the live state; asked again, changes nothing."""
    if state.handed_off:
        return visitor_ticket(deps, grant)
    if any(
        entry.action == "handoff"
        for entry in deps.tickets.store.list_activity(
            grant.workspace_id, grant.ticket_id, HANDOFF_LOOKBACK
        )
    ):
        # The answer bot handed it off already (the widget had not heard yet): remember it.
        deps.store.signal(grant.workspace_id, grant.ticket_id, {"handed_off": True})
        return visitor_ticket(deps, grant)

    def write() -> Ticket:
        current = visitor_ticket(deps, grant)
        at = deps.tickets.clock.now()
        note = Message(
            id=new_id(),
            ticket_id=current.id,
            workspace_id=current.workspace_id,
            kind=MessageKind.NOTE,
            author="system",
            from_address=None,
            to=[],
            cc=[],
            subject=current.subject,
            text=note_text,
            html=conversation.text_to_html(note_text),
            quoted_text=None,
            message_id=None,
            in_reply_to=[],
            references=[],
            attachments=[],
            delivery=DeliveryStatus.NOT_SENT,
            created_at=at,
        )
        entries = [activity(current, "system:chat", "handoff", None, "visitor", at)]
        if current.status is not TicketStatus.OPEN:
            entries.append(
                activity(current, "system:chat", "status", current.status, TicketStatus.OPEN, at)
            )
        updated = replace(
            current,
            status=TicketStatus.OPEN,
            updated_at=at,
            last_activity_at=at,
            message_count=current.message_count + 1,
            revision=current.revision + 1,
        )
        deps.tickets.store.save_ticket(current, updated, entries, message=note)
        return updated

    ticket = retrying(write)
    deps.store.signal(grant.workspace_id, grant.ticket_id, {"handed_off": True})
    deps.tickets.events.publish(
        "ticket.updated",
        grant.workspace_id,
        # The hand-off is named among the changes: the team is told of it (notifications).
        {"ticket_id": ticket.id, "actor": "system:chat", "changes": ["handoff", "status"]},
    )
    deps.bot.on_handoff(grant.workspace_id, ticket.id)  # counted in the chat's insights
    return ticket


def rate(deps: ChatDeps, grant: VisitorGrant, rating: Rating, comment: str | None) -> None:
    deps.store.signal(
        grant.workspace_id,
        grant.ticket_id,
        {"rating": rating.value, "rating_comment": (comment or "").strip() or None},
    )
    tell_moved(deps, grant.workspace_id, grant.ticket_id)


def give_feedback(deps: ChatDeps, grant: VisitorGrant, message_id: str, helped: bool) -> None:
    """The visitor says whether a bot answer helped (404 `message_not_found` for anything
    but this conversation's bot message); the answer bot records it."""
    message = deps.tickets.store.get_message(grant.workspace_id, grant.ticket_id, message_id)
    if message is None or message.kind is not MessageKind.BOT:
        raise NotFound("No such answer in this conversation.", code="message_not_found")
    deps.bot.on_feedback(grant.workspace_id, grant.ticket_id, message_id, helped)


def history(
    deps: ChatDeps, workspace_id: str, identity: VisitorIdentity
) -> list[tuple[PastConversation, str]]:
    """A verified visitor's conversations, newest first (at most HISTORY_LIMIT), each with
    a visitor token.  One Query."""
    past = deps.store.conversations_of(workspace_id, identity.user_id, HISTORY_LIMIT)
    return [
        (
            entry,
            visitor_tokens.issue(
                deps.policy.token_secret,
                VisitorGrant(workspace_id, entry.ticket_id, entry.visitor_id),
            ),
        )
        for entry in past
    ]


def end_conversation(
    deps: ChatDeps,
    workspace: Workspace,
    grant: VisitorGrant,
    ticket: Ticket,
    transcript: bool,
    team_name: str,
) -> ChatState:
    """Marks the conversation ended and, when asked and an address is known, queues its
    transcript by e-mail (text only, in the visitor's language)."""
    from chalicelib.chat.reply_mail import mail_transcript

    deps.store.signal(grant.workspace_id, grant.ticket_id, {"ended": True})
    tell_moved(deps, grant.workspace_id, grant.ticket_id)
    state = deps.store.get_state(grant.workspace_id, grant.ticket_id)
    if state is None:
        raise conversation_not_found()
    if transcript:
        mail_transcript(deps, workspace, ticket, state, team_name)
    return state
