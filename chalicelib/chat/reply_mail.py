"""Mail for a visitor who left: an agent's reply they did not see (`chat.reply_unseen`,
checked a minute after the reply) and the transcript they asked for at the end.  Both go
through the mail-out outbox, never to an `.invalid` address, with the ticket's reply
address as Reply-To so that an answer by e-mail threads into the same conversation."""

from __future__ import annotations

from chalicelib.accounts.model import Workspace
from chalicelib.chat.conversations import is_anonymous
from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.model import ChatState
from chalicelib.ids import new_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.observability import logger
from chalicelib.tickets import conversation
from chalicelib.tickets.model import DeliveryStatus, Message, MessageKind, Ticket
from chalicelib.tickets.reply_address import reply_address
from chalicelib.translations import words

REPLY_UNSEEN = "chat.reply_unseen"
TRANSCRIPT_MESSAGES = 500


def _reply_to(deps: ChatDeps, workspace: Workspace, ticket: Ticket) -> str:
    policy = deps.tickets.policy
    return reply_address(
        policy.reply_address_secret,
        policy.inbound_mail_domain,
        workspace.slug,
        workspace.id,
        ticket.id,
    )


def _author_name(deps: ChatDeps, workspace_id: str, author: str, fallback: str) -> str:
    kind, _, user_id = author.partition(":")
    if kind == "user" and user_id:
        member = deps.tickets.accounts.get_member(workspace_id, user_id)
        if member is not None:
            return member.name
    return fallback


def mail_unseen_reply(deps: ChatDeps, workspace_id: str, ticket_id: str, message_id: str) -> bool:
    """Mails the agent's reply `message_id` to the visitor when they have not seen it, an
    address is known and it was not mailed yet; its delivery then follows the mail
    (`queued`, then what the provider says).  False when nothing was sent.  Safe to run
    twice: the reply moves from `sent` to `queued` once (a conditional update)."""
    state = deps.store.get_state(workspace_id, ticket_id)
    seen = state.visitor_seen_message_id if state else None
    if seen is not None and seen >= message_id:
        return False
    ticket = deps.tickets.store.get_ticket(workspace_id, ticket_id)
    if ticket is None or is_anonymous(ticket.requester_email):
        return False
    reply = deps.tickets.store.get_message(workspace_id, ticket_id, message_id)
    if reply is None or reply.kind is not MessageKind.REPLY:
        return False
    if reply.delivery is not DeliveryStatus.SENT:
        return False
    workspace = deps.tickets.accounts.get_workspace(workspace_id)
    if workspace is None or not workspace.customer_mail_enabled:
        return False
    if not deps.tickets.store.update_message_delivery(
        workspace_id,
        ticket_id,
        message_id,
        DeliveryStatus.QUEUED.value,
        None,
        only_from=(DeliveryStatus.SENT.value,),
    ):
        return False
    author = _author_name(deps, workspace_id, reply.author, workspace.name)
    headers = {"Message-Id": f"<{reply.message_id}>"} if reply.message_id else {}
    if reply.in_reply_to:
        headers["In-Reply-To"] = f"<{reply.in_reply_to[0]}>"
    if reply.references:
        headers["References"] = " ".join(f"<{r}>" for r in reply.references)
    mail = OutboundMail(
        mail_id=reply.id,
        workspace_id=workspace_id,
        purpose="ticket_reply",
        from_name=f"{author} via {workspace.name}",
        from_address=f"{workspace.slug}@{deps.tickets.policy.inbound_mail_domain}",
        to=[ticket.requester_email],
        subject=reply.subject,
        text=reply.text,
        html=reply.html or conversation.text_to_html(reply.text),
        reply_to=_reply_to(deps, workspace, ticket),
        headers=headers,
        tags=["ticket-reply", "chat"],
        ticket_id=ticket.id,
        ticket_message_id=reply.id,
    )
    deps.tickets.outbox.enqueue(mail)
    logger.info("unseen chat reply mailed", extra={"ticket_id": ticket_id})
    return True


def _transcript_text(
    deps: ChatDeps, workspace: Workspace, state: ChatState, messages: list[Message], team: str
) -> str:
    t = words(state.language, workspace.formality)
    lines = [t["chat.transcript.intro"].format(team=team), ""]
    names: dict[str, str] = {}
    for message in messages:
        if message.kind is MessageKind.CUSTOMER:
            who = t["chat.transcript.you"]
        elif message.kind is MessageKind.BOT:
            who = team
        else:
            if message.author not in names and len(names) < 5:
                names[message.author] = _author_name(deps, workspace.id, message.author, team)
            who = names.get(message.author, team)
        stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines += [f"{who} ({stamp}):", message.text.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def mail_transcript(
    deps: ChatDeps, workspace: Workspace, ticket: Ticket, state: ChatState, team_name: str
) -> bool:
    """Queues the conversation's transcript (text only, in the visitor's language) to the
    known address; False when there is none.  One Query, the outbox's writes."""
    if is_anonymous(ticket.requester_email) or not workspace.customer_mail_enabled:
        return False
    found = deps.store.messages_after(workspace.id, ticket.id, None, TRANSCRIPT_MESSAGES)
    visible = [
        m for m in found if m.kind in (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.BOT)
    ]
    team = team_name or workspace.name
    t = words(state.language, workspace.formality)
    deps.tickets.outbox.enqueue(
        OutboundMail(
            mail_id=new_id(),
            workspace_id=workspace.id,
            purpose="chat_transcript",
            from_name=team,
            from_address=f"{workspace.slug}@{deps.tickets.policy.inbound_mail_domain}",
            to=[ticket.requester_email],
            subject=t["chat.transcript.subject"].format(team=team),
            text=_transcript_text(deps, workspace, state, visible, team),
            html="",
            reply_to=_reply_to(deps, workspace, ticket),
            tags=["chat-transcript"],
        )
    )
    return True
