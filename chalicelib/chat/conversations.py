"""Visitors' conversations: starting one (a ticket with channel `chat`), writing in it,
leaving an address, asking for a person, rating and ending it, and a verified visitor's
history.  Every function here answers one visitor request with a bounded number of calls."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace

from chalicelib.accounts.model import Workspace
from chalicelib.chat import visitor_tokens
from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.identity import IdentityNotVerified, verified_identity
from chalicelib.chat.model import ChatSettings, ChatState, FieldRule, VisitorIdentity
from chalicelib.chat.office_hours import is_open
from chalicelib.chat.ports import ClientIdTaken
from chalicelib.chat.visitor_tokens import VisitorGrant
from chalicelib.errors import Conflict, Forbidden, HelptalError, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.tickets import conversation
from chalicelib.tickets.agent_attachments import (
    UploadPermit,
    attachments_for_message,
    start_upload,
)
from chalicelib.tickets.lifecycle import NewTicket, activity, open_ticket, retrying
from chalicelib.tickets.model import (
    AttachmentRef,
    Channel,
    ChatContext,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import UploadAlreadyUsed

ANONYMOUS_DOMAIN = "anonymous.invalid"
SUBJECT_CHARS = 80
VISITOR_WINDOW_SECONDS = 60
LOCALES = ("en", "fr")
MAX_MERGE_HOPS = 5  # a merged conversation continues on the ticket it was merged into
UPLOAD_WINDOW_SECONDS = 600
# What a visitor may see and download: never the team's notes (or their files).
VISITOR_KINDS = (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.BOT)
DOWNLOAD_URL_SECONDS = 300


class RateLimited(HelptalError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def conversation_not_found() -> NotFound:
    return NotFound("No such conversation.", code="conversation_not_found")


def anonymous_address(visitor_id: str) -> str:
    """Where no mail ever goes (RFC 2606 `.invalid`): a visitor who gave no address."""
    return f"visitor-{visitor_id.lower()}@{ANONYMOUS_DOMAIN}"


def is_anonymous(address: str) -> bool:
    return address.lower().endswith(".invalid")


def visitor_locale(asked: str | None, workspace_locale: str) -> str:
    """`en` or `fr`: the language the visitor's browser asked for, else the workspace's."""
    language = (asked or "").strip().lower()[:2]
    if language in LOCALES:
        return language
    return workspace_locale if workspace_locale in LOCALES else "en"


def subject_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:SUBJECT_CHARS] or "(chat)"


@dataclass(frozen=True)
class IdentityClaim:
    user_id: str
    email: str
    name: str
    user_hash: str


@dataclass(frozen=True)
class NewConversation:
    message: str
    name: str = ""
    email: str = ""
    page_url: str | None = None
    language: str | None = None
    local_time: str | None = None
    client_id: str | None = None
    turnstile_token: str = ""
    identity: IdentityClaim | None = None


@dataclass(frozen=True)
class StartedConversation:
    ticket: Ticket
    state: ChatState
    message: Message
    token: str
    online: bool


def verify_identity(settings: ChatSettings, claim: IdentityClaim | None) -> VisitorIdentity | None:
    """The vouched-for visitor (None when no identity was given and none is required);
    403 `identity_not_verified` for a wrong hash, or none where the workspace requires it."""
    if claim is None:
        if settings.identity_required:
            raise Forbidden(
                "This chat is for signed-in users of the site.", code="identity_not_verified"
            )
        return None
    try:
        return verified_identity(
            settings.identity_secret, claim.user_id, claim.email, claim.name, claim.user_hash
        )
    except IdentityNotVerified as e:
        raise Forbidden("The identity could not be verified.", code="identity_not_verified") from e


def _chat_context(
    page_url: str | None, language: str | None, local_time: str | None, client_id: str | None
) -> ChatContext:
    return ChatContext(
        page_url=page_url, language=language, local_time=local_time, client_id=client_id
    )


def bot_answers(deps: ChatDeps, workspace_id: str, settings: ChatSettings) -> bool:
    """Whether the answer bot answers this workspace's visitors first."""
    return (
        settings.ai_answers
        and deps.ai_enabled(workspace_id)
        and deps.bot.wants_to_answer(workspace_id)
    )


def start_conversation(
    deps: ChatDeps,
    workspace: Workspace,
    settings: ChatSettings,
    new: NewConversation,
    *,
    visitor_ip: str,
) -> StartedConversation:
    """Opens a chat ticket with the visitor's first message (kind customer, with its chat
    context) and its live state, and returns the visitor's token.  Refuses, changing
    nothing: 403 `identity_not_verified`, 403 `human_check_failed` (Turnstile, when
    configured), 422 when the pre-chat fields require an e-mail, 429 `rate_limited` past
    the conversations an IP may open in an hour.  Status `pending` while the answer bot
    answers, else `new`.  Writes: the IP counter, the ticket (one transaction), the live
    state; calls Turnstile when configured and the bot's hooks."""
    identity = verify_identity(settings, new.identity)
    if deps.human_check is not None and not (
        new.turnstile_token and deps.human_check.verify(new.turnstile_token, visitor_ip)
    ):
        raise Forbidden("The human check failed; try again.", code="human_check_failed")
    email = identity.email if identity else new.email.strip().lower()
    if settings.pre_chat_fields.email is FieldRule.REQUIRED and not email:
        raise ValidationFailed(
            "An e-mail address is required to start a chat.",
            details=[{"field": "email", "message": "required"}],
        )
    if settings.pre_chat_fields.name is FieldRule.REQUIRED and not (
        new.name.strip() or (identity and identity.name)
    ):
        raise ValidationFailed(
            "A name is required to start a chat.",
            details=[{"field": "name", "message": "required"}],
        )
    now = deps.tickets.clock.now()
    if not deps.attempts.allow_contact(
        workspace.id,
        f"chat:{visitor_ip}",
        int(now.timestamp()),
        deps.policy.conversations_per_ip_hour,
    ):
        raise RateLimited("Too many conversations from this address; try later.", 600)
    visitor_id = new_id()
    locale = visitor_locale(new.language, workspace.locale)
    bot = bot_answers(deps, workspace.id, settings)
    name = (identity.name if identity and identity.name else new.name.strip())[:120]
    address = email or anonymous_address(visitor_id)
    opened = NewTicket(
        requester_email=address,
        requester_name=name or ("Visitor" if not email else ""),
        subject=subject_of(new.message),
        channel=Channel.CHAT,
        cc=[],
        tags=[],
        status=TicketStatus.PENDING if bot else TicketStatus.NEW,
        # A typed address is not proven (as on the contact form); a vouched one is.
        sender_verified=not (email and identity is None),
        requester_language=locale,
    )

    def first_message(ticket: Ticket) -> Message:
        return conversation.typed_message(
            ticket,
            new.message,
            contact_id=ticket.requester_id,
            from_address=ticket.requester_email,
            created_at=ticket.created_at,
            sender_verified=identity is not None if email else None,
            chat=_chat_context(new.page_url, new.language, new.local_time, new.client_id),
        )

    ticket = open_ticket(deps.tickets, workspace.id, "system:chat", opened, first_message)
    state = ChatState(
        workspace_id=workspace.id,
        ticket_id=ticket.id,
        visitor_id=visitor_id,
        language=locale,
        user_id=identity.user_id if identity else None,
    )
    deps.store.create_state(state, identity.user_id if identity else None, ticket.subject)
    message = deps.tickets.store.get_message(
        workspace.id, ticket.id, ticket.last_customer_message_id or ""
    )
    if message is None:  # written in the ticket's transaction: never missing
        raise conversation_not_found()
    deps.bot.on_conversation_started(workspace.id, now)
    if bot:
        deps.bot.on_visitor_message(workspace.id, ticket.id, message.id)
    token = visitor_tokens.issue(
        deps.policy.token_secret, VisitorGrant(workspace.id, ticket.id, visitor_id)
    )
    online = is_open(settings.office_hours, workspace.timezone, now)
    return StartedConversation(ticket, state, message, token, online)


def grant_for(deps: ChatDeps, workspace_id: str, ticket_id: str, token: str) -> VisitorGrant:
    """The token's grant when it names this workspace and conversation; 404 otherwise.
    No call: the token is signed."""
    grant = visitor_tokens.read(deps.policy.token_secret, token)
    if grant is None or grant.workspace_id != workspace_id or grant.ticket_id != ticket_id:
        raise conversation_not_found()
    return grant


def visitor_ticket(deps: ChatDeps, grant: VisitorGrant) -> Ticket:
    """The ticket the conversation continues on: its own, or the one it was merged into
    (following at most MAX_MERGE_HOPS merges, one GetItem each).  404
    `conversation_not_found` when gone or not a chat."""
    return follow_merges(deps, _visitor_ticket(deps, grant))


def follow_merges(deps: ChatDeps, ticket: Ticket) -> Ticket:
    """Where a merged ticket's conversation goes on (itself when not merged)."""
    for _ in range(MAX_MERGE_HOPS):
        if not ticket.merged_into:
            return ticket
        target = deps.tickets.store.get_ticket(ticket.workspace_id, ticket.merged_into)
        if target is None:
            return ticket
        ticket = target
    return ticket


def visitor_state(deps: ChatDeps, grant: VisitorGrant) -> ChatState:
    """The conversation's live state, when it is this visitor's (404 otherwise)."""
    state = deps.store.get_state(grant.workspace_id, grant.ticket_id)
    if state is None or state.visitor_id != grant.visitor_id:
        raise conversation_not_found()
    return state


def chat_workspace(deps: ChatDeps, workspace_id: str) -> Workspace:
    """The widget's workspace (404 `chat_not_found` when it was deleted)."""
    workspace = deps.tickets.accounts.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("No chat has this key.", code="chat_not_found")
    return workspace


def member_name(deps: ChatDeps, workspace_id: str, user_id: str) -> str | None:
    member = deps.tickets.accounts.get_member(workspace_id, user_id)
    return member.name if member is not None else None


def assigned_agent(
    deps: ChatDeps, workspace_id: str, user_id: str
) -> tuple[str, str | None] | None:
    """The assigned agent's name and avatar link (a public link), as the visitor sees them;
    None for someone no longer in the workspace.  Two GetItems."""
    from chalicelib.accounts.profile import avatar_url

    member = deps.tickets.accounts.get_member(workspace_id, user_id)
    if member is None:
        return None
    user = deps.tickets.accounts.get_user(user_id)
    avatar = avatar_url(deps.policy.public_base_url, user) if user is not None else None
    return member.name, avatar


def _visitor_ticket(deps: ChatDeps, grant: VisitorGrant) -> Ticket:
    ticket = deps.tickets.store.get_ticket(grant.workspace_id, grant.ticket_id)
    if ticket is None or ticket.channel is not Channel.CHAT:
        raise conversation_not_found()
    return ticket


def post_visitor_message(
    deps: ChatDeps,
    settings: ChatSettings,
    grant: VisitorGrant,
    text: str,
    *,
    client_id: str | None = None,
    page_url: str | None = None,
    local_time: str | None = None,
    language: str | None = None,
    attachment_ids: tuple[str, ...] = (),
) -> tuple[Message, bool]:
    """Adds the visitor's message (kind customer) and returns it with True; a `client_id`
    sent before returns the first message with False (never two).  A solved or closed
    conversation opens again.  429 `rate_limited` past the visitor's messages a minute.
    `attachment_ids` are the visitor's uploads (`start_visitor_upload`), checked as agents'
    (422 `attachment_not_usable`, `attachment_type_refused`; 409 `attachment_already_used`;
    413 `attachments_too_large`: nothing written) and claimed in the message's transaction.
    In a conversation whose ticket was merged into another, the message is written on that
    other ticket (the team works there), and the answer bot is not asked.
    Writes: the visitor's counter, the client id's claim, the ticket with the message (one
    transaction); emits `message.received` (channel chat); tells the answer bot."""
    now = deps.tickets.clock.now()
    if client_id:
        earlier = _earlier_message(deps, grant, client_id)
        if earlier is not None:
            return earlier, False
    if not deps.store.allow(
        grant.workspace_id,
        f"visitor:{grant.visitor_id}",
        VISITOR_WINDOW_SECONDS,
        deps.policy.messages_per_visitor_minute,
        int(now.timestamp()),
    ):
        raise RateLimited("Too many messages; wait a moment.", VISITOR_WINDOW_SECONDS)
    source = _visitor_ticket(deps, grant)
    target = follow_merges(deps, source)
    attachments = attachments_for_message(
        deps.tickets.uploads,
        deps.tickets.files,
        deps.tickets.policy.attachments,
        now,
        grant.workspace_id,
        target.id,
        attachment_ids,
    )
    if not text.strip() and not attachments:
        raise ValidationFailed(
            "Write a message or attach a file.",
            details=[{"field": "text", "message": "empty"}],
        )
    if client_id:
        try:
            deps.store.claim_client_id(
                grant.workspace_id, grant.ticket_id, client_id, new_id(), int(now.timestamp())
            )
        except ClientIdTaken as taken:
            first = (
                deps.tickets.store.get_message(
                    grant.workspace_id, grant.ticket_id, taken.message_id
                )
                if taken.message_id
                else None
            )
            if first is None:
                raise Conflict(
                    "This message is being sent; try again.", code="message_in_flight"
                ) from taken
            return first, False
    state = deps.store.get_state(grant.workspace_id, grant.ticket_id)
    bot = (
        state is not None
        and not state.handed_off
        and target.id == source.id
        and bot_answers(deps, grant.workspace_id, settings)
    )

    def write() -> Message:
        own = _visitor_ticket(deps, grant)
        current = follow_merges(deps, own)
        at = deps.tickets.clock.now()
        # Made after the ticket is read, in each attempt: a message stored after another has
        # a later id, so a reader's cursor never passes one not yet written.
        posted = conversation.typed_message(
            current,
            text,
            contact_id=own.requester_id,
            from_address=own.requester_email,
            created_at=at,
            attachments=attachments,
            chat=_chat_context(page_url, language, local_time, client_id),
        )
        status = current.status
        entries = []
        if not status.is_active or (status is TicketStatus.PENDING and not bot):
            status = TicketStatus.OPEN
            entries.append(activity(current, "system:chat", "status", current.status, status, at))
        updated = replace(
            current,
            status=status,
            updated_at=at,
            last_activity_at=at,
            message_count=current.message_count + 1,
            last_customer_message_id=posted.id,
            revision=current.revision + 1,
        )
        try:
            deps.tickets.store.save_ticket(
                current,
                updated,
                entries,
                message=posted,
                claim_uploads=[a.id for a in attachments],
            )
        except UploadAlreadyUsed as e:
            raise Conflict(
                "A file was used by another message meanwhile; attach it again.",
                code="attachment_already_used",
            ) from e
        return posted

    try:
        posted = retrying(write)
    except Exception:
        if client_id:
            deps.store.release_client_id(grant.workspace_id, grant.ticket_id, client_id)
        raise
    if client_id:
        deps.store.bind_client_id(grant.workspace_id, grant.ticket_id, client_id, posted.id)
    deps.tickets.events.publish(
        "message.received",
        grant.workspace_id,
        {
            "ticket_id": posted.ticket_id,
            "message_id": posted.id,
            "channel": Channel.CHAT.value,
            "actor": "system:chat",
        },
    )
    if bot:
        deps.bot.on_visitor_message(grant.workspace_id, grant.ticket_id, posted.id)
    return posted, True


def _earlier_message(deps: ChatDeps, grant: VisitorGrant, client_id: str) -> Message | None:
    """The message a resent `client_id` named (one GetItem, one more when it exists)."""
    message_id = deps.store.client_message(grant.workspace_id, grant.ticket_id, client_id)
    if not message_id:
        return None
    return deps.tickets.store.get_message(grant.workspace_id, grant.ticket_id, message_id)


def start_visitor_upload(
    deps: ChatDeps,
    grant: VisitorGrant,
    filename: str,
    content_type: str,
    size: int,
) -> UploadPermit:
    """A presigned upload of one file for the visitor's next message, with agents' limits
    and types (`agent_attachments.start_upload`: 413 `attachment_too_large`, 422
    `attachment_type_refused`); 429 `rate_limited` past the visitor's uploads in ten
    minutes.  Reads the ticket, writes the visitor's counter and the pending upload."""
    now = deps.tickets.clock.now()
    ticket = visitor_ticket(deps, grant)
    if not deps.store.allow(
        grant.workspace_id,
        f"upload:{grant.visitor_id}",
        UPLOAD_WINDOW_SECONDS,
        deps.policy.uploads_per_visitor_window,
        int(now.timestamp()),
    ):
        raise RateLimited("Too many files; wait a few minutes.", UPLOAD_WINDOW_SECONDS)
    return start_upload(
        deps.tickets.uploads,
        deps.tickets.files,
        deps.tickets.policy.attachments,
        now,
        grant.workspace_id,
        ticket.id,
        f"visitor:{grant.visitor_id}",
        filename,
        content_type,
        size,
    )


def attachment_not_found() -> NotFound:
    return NotFound("No such file in this conversation.", code="attachment_not_found")


def visitor_attachment_url(deps: ChatDeps, grant: VisitorGrant, attachment_id: str) -> str:
    """A short-lived link to a file of a message the visitor can see (their own, the team's
    replies, the bot's; never a note's): 404 `attachment_not_found` otherwise.  A mail's
    file is `<message id>-<n>`; an upload's is a bare id whose record names its message.
    At most two GetItems and the ticket's reads; presigning makes no call."""
    ticket = visitor_ticket(deps, grant)
    message_id = attachment_id.rpartition("-")[0]
    if not message_id and len(attachment_id) == 26:
        upload = deps.tickets.uploads.get_upload(grant.workspace_id, attachment_id)
        message_id = (upload.message_id if upload else None) or ""
    message = (
        deps.tickets.store.get_message(grant.workspace_id, ticket.id, message_id)
        if len(message_id) == 26
        else None
    )
    if message is None or message.kind not in VISITOR_KINDS:
        raise attachment_not_found()
    found: AttachmentRef | None = next(
        (a for a in message.attachments if a.id == attachment_id), None
    )
    if found is None:
        raise attachment_not_found()
    return deps.tickets.blobs.download_url(found.s3_key, found.filename, DOWNLOAD_URL_SECONDS)


_LINK_PURPOSE = b"helptal chat attachment link v1"


def _link_signature(secret: str, grant: VisitorGrant, attachment_id: str, expires: int) -> str:
    key = hmac.new(secret.encode(), _LINK_PURPOSE, hashlib.sha256).digest()
    payload = "|".join(
        (grant.workspace_id, grant.ticket_id, grant.visitor_id, attachment_id, str(expires))
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def attachment_link(deps: ChatDeps, grant: VisitorGrant, attachment_id: str) -> tuple[int, str]:
    """The expiry (epoch seconds) and signature of a link to one file of the visitor's
    conversation, for what cannot send the visitor token (an image, a link the visitor
    opens).  Expiries are rounded to the hour, so a page of messages signs the same link
    for an hour.  No call."""
    now = int(deps.tickets.clock.now().timestamp())
    expires = (now + deps.policy.attachment_link_seconds) // 3600 * 3600 + 3600
    return expires, _link_signature(deps.policy.token_secret, grant, attachment_id, expires)


def link_grant(
    deps: ChatDeps,
    workspace_id: str,
    ticket_id: str,
    visitor_id: str,
    attachment_id: str,
    expires: int,
    signature: str,
) -> VisitorGrant:
    """The grant a file link was signed for; 404 `attachment_not_found` for a forged,
    altered or expired one (as for a file that is not there)."""
    grant = VisitorGrant(workspace_id, ticket_id, visitor_id)
    expected = _link_signature(deps.policy.token_secret, grant, attachment_id, expires)
    now = int(deps.tickets.clock.now().timestamp())
    if expires < now or not hmac.compare_digest(expected, signature):
        raise attachment_not_found()
    return grant
