"""Turning an incoming e-mail into a ticket, or a message on the ticket it answers.

Idempotent: each e-mail is keyed by its Message-ID (or, when it has none, by the delivery
it came in), so a redelivered webhook or queue message never adds it twice."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chalicelib.accounts.model import Workspace
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.mail.inbound.model import InboundAttachment, InboundMail
from chalicelib.mail.outbound import OutboundMail
from chalicelib.observability import logger
from chalicelib.tickets.acknowledgements import AcknowledgementToSend
from chalicelib.tickets.contacts import contact_for, new_contact
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import (
    KnownBeforeOpening,
    NewTicket,
    activity,
    open_ticket,
    retrying,
)
from chalicelib.tickets.mailbox import HeldMail, MailboxSettings, MailReads
from chalicelib.tickets.message_size import (
    MESSAGE_ITEM_MAX_BYTES,
    cut_html_to_bytes,
    cut_to_bytes,
    stored_size,
)
from chalicelib.tickets.model import (
    AttachmentRef,
    Channel,
    Contact,
    DeliveryStatus,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import DuplicateMessage
from chalicelib.tickets.reply_address import parse_recipient
from chalicelib.tickets.threading import Thread, cited_message_ids, find_thread


@dataclass(frozen=True)
class Intake:
    """What happened to one e-mail."""

    outcome: str  # created | appended | follow_up | duplicate | ignored | unrouted
    workspace_id: str | None = None
    ticket_id: str | None = None
    reason: str | None = None


@dataclass
class IntakeReads:
    """What filing a batch of e-mails reads once per workspace rather than once per mail:
    the workspace behind each address, the workspace and its mailbox settings.  Lives for
    one worker invocation (a few seconds), so a change made meanwhile applies from the next
    batch; nothing is kept between invocations."""

    workspace_ids: dict[str, str | None] = field(default_factory=dict)
    workspaces: dict[str, Workspace | None] = field(default_factory=dict)
    settings: dict[str, MailboxSettings] = field(default_factory=dict)

    def workspace_of_slug(self, deps: TicketDeps, slug: str) -> str | None:
        key = "slug:" + slug
        if key not in self.workspace_ids:
            self.workspace_ids[key] = deps.mailbox.workspace_of_slug(slug)
        return self.workspace_ids[key]

    def workspace_of_address(self, deps: TicketDeps, address: str) -> str | None:
        key = "address:" + address
        if key not in self.workspace_ids:
            self.workspace_ids[key] = deps.mailbox.workspace_of_address(address)
        return self.workspace_ids[key]

    def for_mail(
        self, deps: TicketDeps, workspace_id: str, message_key: str, mail: InboundMail
    ) -> MailReads:
        """Everything filing `mail` reads, in one batch with the workspace and its settings
        when this batch has not read them yet."""
        found = deps.mailbox.read_for_mail(
            workspace_id,
            message_key,
            mail.from_address,
            cited_message_ids(mail),
            with_workspace=workspace_id not in self.workspaces,
            with_settings=workspace_id not in self.settings,
        )
        if workspace_id not in self.workspaces:
            self.workspaces[workspace_id] = found.workspace
        if found.settings is not None:
            self.settings[workspace_id] = found.settings
        return found

    def mailbox_settings(self, deps: TicketDeps, workspace_id: str) -> MailboxSettings:
        if workspace_id not in self.settings:
            self.settings[workspace_id] = deps.mailbox.get_settings(workspace_id)
        return self.settings[workspace_id]


def _route(
    deps: TicketDeps, mail: InboundMail, reads: IntakeReads
) -> tuple[str, str | None] | None:
    """(workspace id, reply token) for the first recipient that is one of our addresses:
    `<slug>[+token]@<inbound domain>`, or a forwarding address a workspace registered."""
    for address in dict.fromkeys([mail.recipient, *mail.to, *mail.cc]):
        parsed = parse_recipient(address, deps.policy.inbound_mail_domain)
        if parsed is None:
            workspace_id = reads.workspace_of_address(deps, address.strip().lower())
            if workspace_id is not None:
                return workspace_id, None
            continue
        workspace_id = reads.workspace_of_slug(deps, parsed[0])
        if workspace_id is not None:
            return workspace_id, parsed[1]
    return None


def _from_us(deps: TicketDeps, mail: InboundMail) -> bool:
    """Mail we sent ourselves (a forwarding loop): never ticketed again."""
    domain = mail.from_address.rpartition("@")[2]
    return domain in (deps.policy.inbound_mail_domain.lower(), deps.policy.mail_domain.lower())


def _loops_back(deps: TicketDeps, mail: InboundMail) -> bool:
    """An X-Loop header naming one of our domains: mail that went round through us once."""
    ours = ("@" + deps.policy.inbound_mail_domain.lower(), "@" + deps.policy.mail_domain.lower())
    return any(
        domain in value.lower()
        for name, value in mail.headers
        if name.strip().lower() == "x-loop"
        for domain in ours
    )


def _message_key(mail: InboundMail, raw_key: str) -> str:
    if mail.message_id:
        return mail.message_id
    # No Message-ID: key on the delivery, so a redelivery of the same post is still one mail.
    return hashlib.sha256(raw_key.encode()).hexdigest() + "@no-message-id.helptal"


def _store_attachments(
    deps: TicketDeps,
    workspace_id: str,
    message_item_id: str,
    attachments: list[InboundAttachment],
) -> tuple[list[AttachmentRef], list[str]]:
    stored: list[AttachmentRef] = []
    skipped: list[str] = []
    total = 0
    for position, attachment in enumerate(attachments, start=1):
        size = len(attachment.content)
        total += size
        if size > deps.policy.max_attachment_bytes or total > deps.policy.max_message_bytes:
            skipped.append(attachment.filename)
            continue
        attachment_id = f"{message_item_id}-{position}"
        key = f"ws/{workspace_id}/attachments/{attachment_id}"
        deps.blobs.put(key, attachment.content, attachment.content_type)
        stored.append(
            AttachmentRef(
                id=attachment_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=size,
                s3_key=key,
                content_id=attachment.content_id,
                inline=attachment.inline,
            )
        )
    return stored, skipped


MAX_ADDRESSES_KEPT = 100
# Enough words to tell a language; the detector's time grows with the text.
MAX_DETECTED_CHARS = 2000


def _fitted(message: Message) -> tuple[Message, bool]:
    """The message cut to fit one item (its text, quoted text and HTML each to a share of
    the room its addresses and attachments leave), and whether anything was cut."""
    # Headers are capped in characters (64K each, 500 addresses): cap them here in bytes too.
    bare = replace(
        message,
        subject=cut_to_bytes(message.subject, 2_000),
        to=message.to[:MAX_ADDRESSES_KEPT],
        cc=message.cc[:MAX_ADDRESSES_KEPT],
        references=message.references[-MAX_ADDRESSES_KEPT:],
        in_reply_to=message.in_reply_to[:MAX_ADDRESSES_KEPT],
        text="",
        html=None,
        quoted_text=None,
    )
    # Room for the note on shortening, added after this.
    room = max(0, MESSAGE_ITEM_MAX_BYTES - stored_size(bare) - 1_000)
    text = cut_to_bytes(message.text, room * 3 // 10)
    quoted = message.quoted_text and cut_to_bytes(message.quoted_text, room * 2 // 10)
    html = message.html and cut_html_to_bytes(message.html, room * 5 // 10)
    fitted = replace(bare, text=text, quoted_text=quoted, html=html)
    return fitted, fitted != message


def _customer_message(
    deps: TicketDeps,
    mail: InboundMail,
    workspace_id: str,
    ticket_id: str,
    message_key: str,
    raw_key: str,
    author: str,
    kind: MessageKind,
    *,
    sender_verified: bool = False,
    from_member: bool = False,
) -> Message:
    from chalicelib.mail.replies import visible_reply
    from chalicelib.mail.sanitize import sanitize_html

    message_item_id = new_id()
    attachments, skipped = _store_attachments(deps, workspace_id, message_item_id, mail.attachments)
    cid_urls = {
        a.content_id: f"/v1/tickets/{ticket_id}/attachments/{a.id}"
        for a in attachments
        if a.content_id
    }
    visible = visible_reply(mail.text, mail.html)
    html = sanitize_html(mail.html, cid_urls=cid_urls) if mail.html else None
    notes = []
    if skipped:
        notes.append(f"attachments over the size limit were not kept: {', '.join(skipped)}")
    if mail.dropped_attachments:
        # The raw delivery (raw_s3_key) still holds every file.
        notes.append(
            f"{len(mail.dropped_attachments)} attachments over the limit of "
            f"{len(mail.attachments)} per e-mail were not kept: "
            f"{', '.join(mail.dropped_attachments)}"
        )
    message = Message(
        id=message_item_id,
        ticket_id=ticket_id,
        workspace_id=workspace_id,
        kind=kind,
        author=author,
        from_address=mail.from_address,
        to=mail.to,
        cc=mail.cc,
        subject=mail.subject,
        text=visible.text,
        html=html,
        quoted_text=visible.quoted or None,
        message_id=message_key,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        attachments=attachments,
        delivery=DeliveryStatus.RECEIVED,
        created_at=deps.clock.now(),
        raw_s3_key=raw_key,
        sender_verified=sender_verified,
        from_member=from_member,
    )
    message, shortened = _fitted(message)
    if shortened:
        # The raw delivery (raw_s3_key) still holds the whole message.
        notes.append("the message was too long to keep whole and was shortened")
    return replace(message, delivery_detail="; ".join(notes) or None)


def _our_addresses(deps: TicketDeps, addresses: list[str]) -> set[str]:
    domain = "@" + deps.policy.inbound_mail_domain.lower()
    return {a for a in addresses if a.lower().endswith(domain)}


def _append(
    deps: TicketDeps,
    thread: Thread,
    mail: InboundMail,
    message_key: str,
    raw_key: str,
    sender_verified: bool,
    sender_contact: Contact | None,
) -> tuple[Ticket, str]:
    """Adds the mail to the thread's ticket as a customer-side message (a member's mail too:
    mail never speaks for a member); returns the ticket and the new message's id.
    `sender_contact`: the sender's contact as read with the mail (None: none yet)."""
    ticket_id = thread.ticket.id
    workspace_id = thread.ticket.workspace_id
    author, kind = "", MessageKind.CUSTOMER
    message = _customer_message(
        deps,
        mail,
        workspace_id,
        ticket_id,
        message_key,
        raw_key,
        author,
        kind,
        sender_verified=sender_verified,
        from_member=thread.sender_is_member,
    )

    attempts = 0

    def write() -> Ticket:
        nonlocal attempts
        attempts += 1
        # find_thread has just read the ticket (consistently): re-read only on a retry.
        current = thread.ticket if attempts == 1 else deps.store.get_ticket(workspace_id, ticket_id)
        if current is None:
            raise NotFound(
                "The ticket this mail replies to no longer exists.", code="ticket_not_found"
            )
        now = deps.clock.now()
        added_contact = None
        if mail.from_address.strip().lower() == current.requester_email:
            contact_id = current.requester_id  # the requester's contact: nothing to look up
        else:
            # Read with the mail for the first attempt; a retry looks again.
            if attempts > 1:
                contact, is_new = contact_for(deps, workspace_id, mail.from_address, mail.from_name)
            elif sender_contact is not None:
                contact, is_new = sender_contact, False
            else:
                contact = new_contact(workspace_id, mail.from_address, mail.from_name, now)
                is_new = True
            contact_id, added_contact = contact.id, contact if is_new else None
        posted = replace(message, author=author or f"contact:{contact_id}")
        new_cc = [
            a
            for a in mail.cc + mail.to
            if a not in _our_addresses(deps, mail.cc + mail.to) and a != current.requester_email
        ]
        updated = replace(
            current,
            updated_at=now,
            last_activity_at=now,
            message_count=current.message_count + 1,
            revision=current.revision + 1,
            cc=list(dict.fromkeys(current.cc + new_cc)),
        )
        entries = []
        if kind is MessageKind.CUSTOMER:
            updated = replace(updated, last_customer_message_id=posted.id)
            if current.status in (TicketStatus.SOLVED, TicketStatus.PENDING, TicketStatus.ON_HOLD):
                # The customer answered: the ticket needs the team again.
                updated = replace(updated, status=TicketStatus.OPEN)
                entries.append(
                    activity(
                        current, posted.author, "status", current.status, TicketStatus.OPEN, now
                    )
                )
        deps.store.save_ticket(
            current,
            updated,
            entries,
            message=posted,
            new_contact=added_contact,
        )
        return updated

    return retrying(write), message.id


def receive_mail(
    deps: TicketDeps,
    mail: InboundMail,
    raw_key: str,
    *,
    released: bool = False,
    content_type: str | None = None,
    reads: IntakeReads | None = None,
) -> Intake:
    """Routes, threads and stores one e-mail.  Writes: ticket/message/contact/activity items
    (a new ticket with its acknowledgement's claim and record, in one transaction),
    attachments in S3; queues the acknowledgement of a new ticket; emits `ticket.created` or
    `message.received`.  `released`: a held mail let through by the team (no rate check).
    `reads`: workspaces and mailbox settings already read for earlier mails of the batch."""
    now = deps.clock.now()
    reads = reads if reads is not None else IntakeReads()
    routed = _route(deps, mail, reads)
    message_key = _message_key(mail, raw_key)
    found = None if routed is None else reads.for_mail(deps, routed[0], message_key, mail)
    if routed is None or found is None or reads.workspaces.get(routed[0]) is None:
        logger.warning("inbound mail for no workspace", extra={"raw_key": raw_key})
        deps.mailbox.record_unrouted(mail.recipient, mail.from_address, raw_key, now)
        return Intake("unrouted", reason="no workspace has this address")
    workspace_id, reply_token = routed
    logger.append_keys(workspace_id=workspace_id)
    from chalicelib.tickets.forwarding import confirm_from_mail

    if confirm_from_mail(deps, workspace_id, mail):  # our confirmation mail, forwarded back
        return Intake("ignored", workspace_id, reason="forwarding address confirmation")
    machine_reason = (
        mail.machine_reason
        or ("sent by us" if _from_us(deps, mail) else None)
        or ("x-loop" if _loops_back(deps, mail) else None)
    )
    if machine_reason:
        logger.info("machine-generated mail not ticketed", extra={"reason": machine_reason})
        return Intake("ignored", workspace_id, reason=machine_reason)
    if found.filed_ticket_id:
        return Intake("duplicate", workspace_id, found.filed_ticket_id)
    from chalicelib.mail.inbound.sender_auth import authenticate_headers

    authentication = authenticate_headers(
        mail.headers, from_address=mail.from_address, envelope_sender=mail.sender
    )
    verified = authentication.verified
    settings = reads.mailbox_settings(deps, workspace_id)
    if not released:
        hour = int(now.timestamp()) // 3600
        # An unproven From is free text: count the envelope sender that really sent it.
        rate_key = mail.from_address if verified else (mail.sender or mail.from_address)
        if deps.mailbox.count_sender(workspace_id, rate_key, hour) > settings.sender_rate_per_hour:
            deps.mailbox.hold(
                HeldMail(
                    id=hashlib.sha256(message_key.encode()).hexdigest()[:26],
                    workspace_id=workspace_id,
                    sender=mail.from_address,
                    subject=mail.subject,
                    raw_key=raw_key,
                    reason="sender_rate",
                    held_at=now,
                    content_type=content_type,
                )
            )
            return Intake("held", workspace_id, reason="sender over the hourly rate")

    @functools.cache
    def sender_member_id() -> str | None:
        user_id = found.sender_user_id
        if user_id is None or deps.accounts.get_member(workspace_id, user_id) is None:
            return None
        return user_id

    thread = find_thread(
        deps,
        workspace_id,
        mail,
        reply_token,
        sender_verified=verified,
        cited_tickets=found.cited_tickets,
        member_of_workspace=sender_member_id,
    )
    if thread is not None and not thread.joins:
        logger.info(
            "unverified sender cites a ticket: opened apart",
            extra={"cited_ticket_id": thread.ticket.id, "reason": authentication.reason},
        )
    try:
        if thread is not None and thread.joins and thread.ticket.status is not TicketStatus.CLOSED:
            ticket, message_id = _append(
                deps, thread, mail, message_key, raw_key, verified, found.sender_contact
            )
            deps.events.publish(
                "message.received",
                workspace_id,
                {"ticket_id": ticket.id, "message_id": message_id, "from": mail.from_address},
            )
            return Intake("appended", workspace_id, ticket.id)
        follow_up_of = thread.ticket.id if thread is not None and thread.joins else None
        unverified_reply_to = thread.ticket.id if thread is not None and not thread.joins else None
        from_member = (
            thread.sender_is_member if thread is not None else sender_member_id() is not None
        )
        workspace = reads.workspaces[workspace_id]
        from chalicelib.ai.language import customer_locale, detect_language
        from chalicelib.mail.templates import SUPPORTED_LOCALES

        # Kept on the contact, so that a later mail too short to tell is answered alike.
        language = detect_language(mail.text[:MAX_DETECTED_CHARS])
        kept = found.sender_contact.language if found.sender_contact else None
        acknowledge = (
            # Only to a proven sender: an acknowledgement to a forged From is backscatter.
            functools.partial(
                _acknowledgement,
                deps,
                message_key,
                settings,
                workspace,
                customer_locale(language, kept, workspace.locale, SUPPORTED_LOCALES),
            )
            if settings.acknowledgement.enabled
            and verified
            and workspace is not None
            # No mail to customers before the owner confirmed the address they signed up with.
            and workspace.customer_mail_enabled
            else None
        )
        ticket = _open_from_mail(
            deps,
            workspace_id,
            mail,
            message_key,
            raw_key,
            follow_up_of,
            sender_verified=verified,
            unverified_reply_to=unverified_reply_to,
            from_member=from_member,
            known=KnownBeforeOpening(found.last_ticket_number, found.sender_contact),
            acknowledge=acknowledge,
            language=language,
        )
    except DuplicateMessage:
        return Intake(
            "duplicate",
            workspace_id,
            deps.store.find_ticket_by_message_id(workspace_id, message_key),
        )
    return Intake("follow_up" if follow_up_of else "created", workspace_id, ticket.id)


def _acknowledgement(
    deps: TicketDeps,
    message_key: str,
    settings: MailboxSettings,
    workspace: Workspace,
    locale: str,
    ticket: Ticket,
) -> AcknowledgementToSend:
    """The "we received your request" auto-reply (marked Auto-Submitted and X-Loop so it
    loops nowhere), to a sender already proven by SPF/DKIM; see tickets/acknowledgements.py
    for the caps, the suppressed addresses and what of the sender's words it repeats.

    Claimed and recorded in the ticket's transaction (a suppressed recipient or a full cap
    leaves it out) and queued after it; should queueing fail, the delivery is retried, finds
    the ticket already there and does not acknowledge twice (a missed acknowledgement is the
    lesser harm)."""
    from chalicelib.tickets.acknowledgements import (
        ACKS_PER_RECIPIENT_PER_HOUR,
        ACKS_PER_WORKSPACE_PER_HOUR,
        safe_name,
        safe_subject,
    )
    from chalicelib.tickets.conversation import text_to_html
    from chalicelib.tickets.mailbox import acknowledgement_text
    from chalicelib.tickets.reply_address import reply_address

    now = deps.clock.now()
    subject, body = acknowledgement_text(
        settings,
        locale,  # the customer's (see receive_mail), not necessarily the workspace's
        {
            "{{ticket.number}}": str(ticket.number),
            "{{ticket.subject}}": safe_subject(ticket.subject),
            "{{requester.name}}": safe_name(ticket.requester_name, locale, workspace.formality),
            "{{workspace.name}}": workspace.name,
        },
        workspace.formality,
    )
    our_address = f"{workspace.slug}@{deps.policy.inbound_mail_domain}"
    mail = OutboundMail(
        mail_id=new_id(),
        workspace_id=workspace.id,
        purpose="acknowledgement",
        from_name=workspace.name,
        from_address=our_address,
        to=[ticket.requester_email],
        subject=subject,
        text=body,
        html=text_to_html(body),
        reply_to=reply_address(
            deps.policy.reply_address_secret,
            deps.policy.inbound_mail_domain,
            workspace.slug,
            workspace.id,
            ticket.id,
        ),
        headers={
            "In-Reply-To": f"<{message_key}>",
            "References": f"<{message_key}>",
            "Auto-Submitted": "auto-replied",
            "X-Loop": our_address,
        },
        tags=["acknowledgement"],
        # Delivery events then name the workspace: a bounce suppresses the address.
        ticket_id=ticket.id,
    )
    return AcknowledgementToSend(
        mail=mail,
        recipient=ticket.requester_email,
        hour=int(now.timestamp()) // 3600,
        recorded_at=now,
        per_recipient=ACKS_PER_RECIPIENT_PER_HOUR,
        per_workspace=ACKS_PER_WORKSPACE_PER_HOUR,
    )


def _open_from_mail(
    deps: TicketDeps,
    workspace_id: str,
    mail: InboundMail,
    message_key: str,
    raw_key: str,
    follow_up_of: str | None,
    *,
    sender_verified: bool,
    unverified_reply_to: str | None,
    from_member: bool,
    known: KnownBeforeOpening,
    acknowledge: Callable[[Ticket], AcknowledgementToSend] | None,
    language: str | None,
) -> Ticket:
    ours = _our_addresses(deps, mail.to + mail.cc)
    cc = [a for a in mail.cc + mail.to if a not in ours and a != mail.from_address]
    new = NewTicket(
        requester_email=mail.from_address,
        requester_name=mail.from_name,
        subject=mail.subject,
        channel=Channel.EMAIL,
        cc=cc,
        tags=[],
        follow_up_of=follow_up_of,
        sender_verified=sender_verified,
        unverified_reply_to=unverified_reply_to,
        requester_language=language,
    )
    prepared: dict[str, Message] = {}

    def first_message(ticket: Ticket) -> Message:
        if "message" not in prepared:  # attachments are uploaded once, even on a retry
            prepared["message"] = _customer_message(
                deps,
                mail,
                workspace_id,
                ticket.id,
                message_key,
                raw_key,
                f"contact:{ticket.requester_id}",
                MessageKind.CUSTOMER,
                sender_verified=sender_verified,
                from_member=from_member,
            )
        return replace(prepared["message"], author=f"contact:{ticket.requester_id}")

    return open_ticket(
        deps,
        workspace_id,
        "system:mail",
        new,
        first_message,
        known=known,
        acknowledgement=acknowledge,
    )
