"""Messages on a ticket: the customer's (from mail or the API) and the team's (replies,
which go out by e-mail, and internal notes, which never do)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

from chalicelib.accounts.model import Workspace
from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.ids import new_id
from chalicelib.mail.outbound import MailAttachment, OutboundMail
from chalicelib.observability import logger
from chalicelib.tickets.agent_attachments import (
    UploadPermit,
    attachments_for_message,
    start_upload,
)
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import activity, get_ticket, retrying
from chalicelib.tickets.message_size import require_storable
from chalicelib.tickets.model import (
    AttachmentRef,
    Channel,
    ChatContext,
    DeliveryStatus,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import UploadAlreadyUsed
from chalicelib.tickets.reply_address import reply_address

MAX_REFERENCES = 20


def text_to_html(text: str) -> str:
    """Plain text as safe HTML paragraphs (agents write plain text)."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def typed_message(
    ticket: Ticket,
    text: str,
    *,
    contact_id: str,
    from_address: str,
    created_at: datetime,
    attachments: list[AttachmentRef] | None = None,
    sender_verified: bool | None = None,
    chat: ChatContext | None = None,
) -> Message:
    """A customer's message typed on one of our pages (the help centre's contact form, the
    chat widget, a booking's answers): plain text, received, with no mail headers."""
    return Message(
        id=new_id(),
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        kind=MessageKind.CUSTOMER,
        author=f"contact:{contact_id}",
        from_address=from_address,
        to=[],
        cc=[],
        subject=ticket.subject,
        text=text,
        html=text_to_html(text),
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=attachments or [],
        delivery=DeliveryStatus.RECEIVED,
        created_at=created_at,
        sender_verified=sender_verified,
        chat=chat,
    )


@dataclass(frozen=True)
class AgentMessage:
    kind: MessageKind  # REPLY or NOTE
    body: str
    cc: list[str]
    last_seen_message_id: str | None = None
    original_text: str | None = None  # sent translated: the agent's own text, kept
    original_language: str | None = None
    attachment_ids: tuple[str, ...] = ()  # uploads (agent_attachments.start_upload)


def _customer_messages_since(ticket: Ticket, last_seen: str | None) -> bool:
    """True when a customer message newer than `last_seen` is on the ticket (ULIDs sort by
    time, so a later id is a newer message)."""
    latest = ticket.last_customer_message_id
    return bool(last_seen and latest and latest > last_seen)


def _threading_headers(deps: TicketDeps, ticket: Ticket) -> tuple[list[str], list[str]]:
    """In-Reply-To and References for our next mail: chained to the customer's last message
    (one GetItem); without one that came by mail, to our own last mail."""
    if ticket.last_customer_message_id:
        last_customer = deps.store.get_message(
            ticket.workspace_id, ticket.id, ticket.last_customer_message_id
        )
        if last_customer is not None and last_customer.message_id:
            references = [*last_customer.references, last_customer.message_id]
            return [last_customer.message_id], list(dict.fromkeys(references))[-MAX_REFERENCES:]
    messages = deps.store.list_messages(ticket.workspace_id, ticket.id, limit=200)
    customer = [
        (m, m.message_id) for m in messages if m.kind is MessageKind.CUSTOMER and m.message_id
    ]
    if not customer:
        ours = [m.message_id for m in messages if m.message_id]
        return ours[-1:], ours[-MAX_REFERENCES:]
    last, last_id = customer[-1]
    references = [*last.references, last_id]
    return [last_id], list(dict.fromkeys(references))[-MAX_REFERENCES:]


MENTIONABLE_PAGES = 10  # members read to resolve a note's mentions (100 a page)


def _mentions(deps: TicketDeps, workspace_id: str, text: str) -> list[str]:
    """The member ids a note mentions, resolved now so that a later rename changes nothing
    (no read at all when nothing in it looks like a mention)."""
    from chalicelib.notifications.mentions import Teammate, mentioned, might_mention

    if not might_mention(text):
        return []
    team: list[Teammate] = []
    cursor: str | None = None
    for _ in range(MENTIONABLE_PAGES):
        page = deps.accounts.list_members(workspace_id, cursor, 100)
        team.extend(Teammate(m.user_id, m.name, m.email) for m in page.entries)
        cursor = page.next_cursor
        if not cursor:
            break
    return mentioned(text, team)


def post_agent_message(
    deps: TicketDeps,
    workspace: Workspace,
    ticket_ref: str,
    actor: str,
    author_name: str,
    author_user_id: str | None,
    message: AgentMessage,
) -> tuple[Ticket, Message]:
    """Adds a reply (queued for e-mail to the requester and CCs, with its attachments) or
    an internal note (never mailed).  `attachment_ids` are checked first (see
    `agent_attachments.attachments_for_message`: a refused one changes nothing) and claimed
    in the message's transaction.

    409 `email_not_confirmed` for a reply by e-mail while the workspace's owner has not
    confirmed their address.  409 `new_customer_message` when the customer wrote after
    `last_seen_message_id`, so no one replies blind.  The first reply sets first-response
    time, opens a new ticket and assigns an unassigned ticket to its author.  A note's
    mentions (chalicelib/notifications/mentions.py) are resolved to member ids and sent with
    `note.added`.  Writes: the ticket, the message, activity; queues the e-mail and emits
    `message.sent` or `note.added`."""
    opened = get_ticket(deps, workspace.id, ticket_ref)
    ticket_id = opened.id
    is_reply = message.kind is MessageKind.REPLY
    # A chat reply is shown in the widget (mailed later only if unseen, and only once the
    # address is confirmed: chalicelib/chat/reply_mail.py).
    if is_reply and not workspace.customer_mail_enabled and opened.channel is not Channel.CHAT:
        raise Conflict(
            "Confirm your e-mail address first (use the link we sent when you signed up, or "
            "POST /v1/auth/email-confirmation/resend): until then no mail goes to customers.",
            code="email_not_confirmed",
        )
    mentions = [] if is_reply else _mentions(deps, workspace.id, message.body)
    attachments = attachments_for_message(
        deps.uploads,
        deps.files,
        deps.policy.attachments,
        deps.clock.now(),
        workspace.id,
        ticket_id,
        message.attachment_ids,
    )

    def write() -> tuple[Ticket, Message, OutboundMail | None]:
        current = get_ticket(deps, workspace.id, ticket_id)
        if current.merged_into:
            raise Conflict("This ticket was merged into another one.", code="ticket_merged")
        if _customer_messages_since(current, message.last_seen_message_id):
            raise Conflict(
                "The customer wrote again since you opened the ticket; read it first.",
                code="new_customer_message",
            )
        now = deps.clock.now()
        message_item_id = new_id()
        cc = [c for c in dict.fromkeys(current.cc + message.cc) if c != current.requester_email]
        rfc_id = f"{message_item_id.lower()}.{current.id.lower()}@{deps.policy.mail_domain}"
        in_reply_to, references = _threading_headers(deps, current) if is_reply else ([], [])
        posted = Message(
            id=message_item_id,
            ticket_id=current.id,
            workspace_id=workspace.id,
            kind=message.kind,
            author=actor,
            from_address=None,
            to=[current.requester_email] if is_reply else [],
            cc=cc if is_reply else [],
            subject=f"Re: {current.subject}" if is_reply else current.subject,
            text=message.body,
            html=text_to_html(message.body),
            quoted_text=None,
            message_id=rfc_id if is_reply else None,
            in_reply_to=in_reply_to,
            references=references,
            attachments=attachments,
            delivery=(
                DeliveryStatus.NOT_SENT
                if not is_reply
                else DeliveryStatus.SENT
                if current.channel is Channel.CHAT  # shown in the widget, mailed if unseen
                else DeliveryStatus.QUEUED
            ),
            created_at=now,
            original_text=message.original_text,
            original_language=message.original_language,
            mentions=mentions,
        )
        require_storable(posted)
        entries = []
        updated = replace(
            current,
            updated_at=now,
            last_activity_at=now,
            message_count=current.message_count + 1,
            revision=current.revision + 1,
        )
        if is_reply:
            updated = replace(updated, cc=cc)
            if current.first_response_at is None:
                updated = replace(updated, first_response_at=now)
            if current.status is TicketStatus.NEW:
                updated = replace(updated, status=TicketStatus.OPEN)
                entries.append(
                    activity(current, actor, "status", current.status, TicketStatus.OPEN, now)
                )
            if current.assignee_id is None and author_user_id:
                updated = replace(updated, assignee_id=author_user_id)
                entries.append(activity(current, actor, "assignee", None, author_user_id, now))
        try:
            deps.store.save_ticket(
                current,
                updated,
                entries,
                message=posted,
                claim_uploads=[a.id for a in attachments],
            )
        except UploadAlreadyUsed as e:
            raise Conflict(
                "An attachment was used by another message meanwhile; upload it again.",
                code="attachment_already_used",
            ) from e
        mail = None
        if is_reply and current.channel is not Channel.CHAT:
            mail = OutboundMail(
                mail_id=message_item_id,
                workspace_id=workspace.id,
                purpose="ticket_reply",
                from_name=f"{author_name} via {workspace.name}",
                from_address=f"{workspace.slug}@{deps.policy.inbound_mail_domain}",
                to=[current.requester_email],
                cc=cc,
                subject=posted.subject,
                text=message.body,
                html=posted.html or "",
                reply_to=reply_address(
                    deps.policy.reply_address_secret,
                    deps.policy.inbound_mail_domain,
                    workspace.slug,
                    workspace.id,
                    current.id,
                ),
                headers={
                    "Message-Id": f"<{rfc_id}>",
                    **({"In-Reply-To": f"<{in_reply_to[0]}>"} if in_reply_to else {}),
                    **(
                        {"References": " ".join(f"<{r}>" for r in references)} if references else {}
                    ),
                },
                tags=["ticket-reply"],
                ticket_id=current.id,
                ticket_message_id=message_item_id,
                attachments=[
                    MailAttachment(a.filename, a.content_type, a.size, a.s3_key)
                    for a in attachments
                ],
            )
        return updated, posted, mail

    updated, posted, mail = retrying(write)
    if mail is not None:
        try:
            deps.outbox.enqueue(mail)
        except ServiceUnavailable:
            # Never left "queued" with nothing queued: the agent sees it failed and resends.
            record_delivery(
                deps,
                workspace.id,
                updated.id,
                posted.id,
                DeliveryStatus.FAILED,
                "could not be queued for sending; send it again",
                sending_outcome=True,
            )
            raise
    if is_reply and updated.channel is Channel.CHAT:
        _check_chat_reply_later(deps, workspace.id, updated.id, posted.id)
    deps.events.publish(
        "message.sent" if is_reply else "note.added",
        workspace.id,
        {
            "ticket_id": updated.id,
            "message_id": posted.id,
            "actor": actor,
            **({"mentions": mentions} if mentions else {}),
        },
    )
    return updated, posted


# A chat reply the visitor has not seen this long after it was posted is mailed to them.
CHAT_REPLY_UNSEEN = "chat.reply_unseen"
CHAT_REPLY_UNSEEN_DELAY_SECONDS = 60


def _check_chat_reply_later(
    deps: TicketDeps, workspace_id: str, ticket_id: str, message_id: str
) -> None:
    """Queues the check that mails a chat reply the visitor did not see (chalicelib/chat/
    reply_mail.py).  Not queued (an outage): the reply stays in the widget only."""
    try:
        deps.events.publish_later(
            CHAT_REPLY_UNSEEN,
            workspace_id,
            {"ticket_id": ticket_id, "message_id": message_id},
            CHAT_REPLY_UNSEEN_DELAY_SECONDS,
        )
    except ServiceUnavailable:
        logger.warning("chat reply check not queued", extra={"ticket_id": ticket_id})


def start_attachment_upload(
    deps: TicketDeps,
    workspace_id: str,
    ticket_ref: str,
    actor: str,
    filename: str,
    content_type: str,
    size: int,
) -> UploadPermit:
    """A presigned upload of one file for a reply or note on this ticket (404 for a ticket
    not in the workspace; limits in `agent_attachments.start_upload`).  Reads the ticket,
    writes the pending upload."""
    ticket = get_ticket(deps, workspace_id, ticket_ref)
    return start_upload(
        deps.uploads,
        deps.files,
        deps.policy.attachments,
        deps.clock.now(),
        ticket.workspace_id,
        ticket.id,
        actor,
        filename,
        content_type,
        size,
    )


def record_delivery(
    deps: TicketDeps,
    workspace_id: str,
    ticket_id: str,
    message_id: str,
    delivery: DeliveryStatus,
    detail: str | None = None,
    *,
    sending_outcome: bool = False,
) -> bool:
    """Marks a reply sent / delivered / failed / bounced, as the provider reported it.  The
    outcome of sending (`sending_outcome`) only moves a reply on from `queued`, so a
    redelivered queue message never undoes a later delivery report.  False when nothing
    changed (no such message, or a later status already recorded).  One UpdateItem."""
    return deps.store.update_message_delivery(
        workspace_id,
        ticket_id,
        message_id,
        delivery.value,
        detail,
        only_from=(DeliveryStatus.QUEUED.value,) if sending_outcome else (),
    )
