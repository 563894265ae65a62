"""The chat widget's API (no login): a workspace's widget is named by its public key, its
requests must come from an allowed `Origin`, and everything but the configuration, a start
and the history needs the conversation's visitor token (`Authorization: Bearer`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import cors, routing
from chalicelib.api.routing import Call, operation
from chalicelib.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.model import Workspace
    from chalicelib.api.schemas import (
        ChatConfigOut,
        ChatHistoryOut,
        ChatMessagesOut,
        ChatStartOut,
        ConversationOut,
        VisitorMessageOut,
    )
    from chalicelib.chat.deps import ChatDeps
    from chalicelib.chat.model import ChatSettings, ChatState
    from chalicelib.chat.visitor_tokens import VisitorGrant
    from chalicelib.tickets.model import Message, Ticket

schemas = lazy_module("chalicelib.api.schemas")
chat_settings = lazy_module("chalicelib.chat.settings")
conversations = lazy_module("chalicelib.chat.conversations")
live = lazy_module("chalicelib.chat.live")
visitor_requests = lazy_module("chalicelib.chat.visitor_requests")
office_hours = lazy_module("chalicelib.chat.office_hours")
chat_model = lazy_module("chalicelib.chat.model")
visitor_tokens = lazy_module("chalicelib.chat.visitor_tokens")
bp = Blueprint(__name__)

PREFIX = "/v1/chat/{public_key}"
CONVERSATION = PREFIX + "/conversations/{conversation_id}"
VISITOR_ERRORS = (400, 401, 403, 404, 413, 422, 429)
NAMED_AGENTS_PER_PAGE = 5


@dataclass
class Widget:
    """A visitor request's workspace, as its public key names it."""

    deps: ChatDeps
    workspace_id: str
    settings: ChatSettings
    _workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = conversations.chat_workspace(self.deps, self.workspace_id)
        return self._workspace

    def team_name(self) -> str:
        return self.settings.team_name or self.workspace().name


def _chat_not_found() -> NotFound:
    return NotFound("No chat has this key.", code="chat_not_found")


def _allowed_origin(call: Call, settings: ChatSettings) -> str | None:
    origin = call.request.headers.get("origin") or ""
    normalised = chat_settings.normalise_origin(origin) if origin else None
    return normalised if normalised and normalised in settings.allowed_origins else None


def _widget(call: Call) -> Widget:
    """404 `chat_not_found`, 403 `origin_not_allowed` (no CORS headers), 403
    `chat_disabled`.  Two GetItems."""
    deps = bootstrap.chat_deps()
    found = chat_settings.widget_of_key(deps, call.params["public_key"])
    if found is None:
        raise _chat_not_found()
    workspace_id, settings = found
    origin = _allowed_origin(call, settings)
    if origin is None:
        raise Forbidden("This site may not use this chat.", code="origin_not_allowed")
    cors.allow_chat_origin(call.request, call.request.headers.get("origin") or origin)
    if not settings.enabled:
        raise Forbidden("This chat is turned off.", code="chat_disabled")
    return Widget(deps, workspace_id, settings)


def _token(call: Call) -> str:
    header = call.request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Send the conversation's visitor token.", code="invalid_visitor_token"
        )
    return token.strip()


def _grant(call: Call, widget: Widget) -> VisitorGrant:
    """401 `invalid_visitor_token` for a missing or forged token; 404
    `conversation_not_found` for another conversation's or workspace's."""
    token = _token(call)
    grant = visitor_tokens.read(widget.deps.policy.token_secret, token)
    if grant is None:
        raise Unauthenticated("The visitor token is not valid.", code="invalid_visitor_token")
    return conversations.grant_for(
        widget.deps, widget.workspace_id, call.params["conversation_id"], token
    )


def _state(widget: Widget, grant: VisitorGrant) -> ChatState:
    return conversations.visitor_state(widget.deps, grant)


def _ticket(widget: Widget, grant: VisitorGrant) -> Ticket:
    return conversations.visitor_ticket(widget.deps, grant)


def _visitor_ip(call: Call) -> str:
    identity = (call.request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


class _Names:
    """Agents' names for a page of messages (a few member reads at most)."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self.names: dict[str, str] = {}

    def of(self, message: Message) -> tuple[str, str]:
        kind = message.kind.value
        if kind == "customer":
            return "visitor", ""
        if kind == "bot":
            return "bot", self.widget.team_name()
        author = message.author
        if author not in self.names and len(self.names) < NAMED_AGENTS_PER_PAGE:
            _, _, user_id = author.partition(":")
            name = (
                conversations.member_name(self.widget.deps, self.widget.workspace_id, user_id)
                if author.startswith("user:")
                else None
            )
            self.names[author] = name or self.widget.team_name()
        return "agent", self.names.get(author) or self.widget.team_name()


def _attachments_out(
    widget: Widget, grant: VisitorGrant | None, message: Message
) -> list[dict[str, Any]]:
    """A message's files, each with a link signed for this visitor (no call)."""
    if grant is None or not message.attachments:
        return []
    base = f"/v1/chat/{widget.settings.public_key}/conversations/{grant.ticket_id}/attachments/"
    found = []
    for a in message.attachments:
        expires, signature = conversations.attachment_link(widget.deps, grant, a.id)
        found.append(
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"{base}{a.id}?visitor={grant.visitor_id}&expires={expires}"
                f"&signature={signature}",
            }
        )
    return found


def message_out(
    message: Message, names: _Names, grant: VisitorGrant | None = None
) -> VisitorMessageOut:
    author, name = names.of(message)
    return schemas.VisitorMessageOut(
        id=message.id,
        author=author,
        author_name=name,
        text=message.text,
        created_at=message.created_at,
        client_id=message.chat.client_id if message.chat else None,
        citations=[{"number": c.number, "title": c.title, "url": c.url} for c in message.citations],
        attachments=_attachments_out(names.widget, grant, message),
    )


def conversation_out(widget: Widget, ticket: Ticket, state: ChatState) -> ConversationOut:
    workspace = widget.workspace()
    agent = None
    if ticket.assignee_id:
        found = conversations.assigned_agent(widget.deps, widget.workspace_id, ticket.assignee_id)
        if found is not None:
            agent = {"name": found[0], "avatar_url": found[1]}
    return schemas.ConversationOut(
        # The widget's conversation keeps its id when its ticket is merged into another.
        id=state.ticket_id,
        status=ticket.status.value,
        online=office_hours.is_open(
            widget.settings.office_hours, workspace.timezone, widget.deps.tickets.clock.now()
        ),
        agent=agent,
        rating=state.rating.value if state.rating else None,
        email_known=not conversations.is_anonymous(ticket.requester_email),
        ended=state.ended,
        handed_off=state.handed_off,
        created_at=ticket.created_at,
    )


# -- preflights: answered for the workspace's allowed origins only ----------------------------


def _register_preflight(path: str, methods: list[str]) -> None:
    routing.PREFLIGHT_PATHS.add(path)

    def preflight(**params: str) -> Response:
        request = bp.current_request
        found = chat_settings.widget_of_key(bootstrap.chat_deps(), params.get("public_key", ""))
        allowed = False
        if found is not None:
            origin = request.headers.get("origin") or ""
            normalised = chat_settings.normalise_origin(origin) if origin else None
            if normalised and normalised in found[1].allowed_origins:
                cors.allow_chat_origin(request, origin)
                allowed = True
        return cors.chat_preflight(request, methods, allowed)

    preflight.__name__ = "chat_preflight" + path.replace("/", "_").replace("{", "").replace("}", "")
    bp.route(path, methods=["OPTIONS"], content_types=[])(preflight)


for _path, _methods in (
    (PREFIX + "/config", ["GET"]),
    (PREFIX + "/conversations", ["POST"]),
    (PREFIX + "/history", ["POST"]),
    (CONVERSATION, ["GET"]),
    (CONVERSATION + "/messages", ["GET", "POST"]),
    (CONVERSATION + "/typing", ["POST"]),
    (CONVERSATION + "/seen", ["POST"]),
    (CONVERSATION + "/rating", ["POST"]),
    (CONVERSATION + "/email", ["POST"]),
    (CONVERSATION + "/handoff", ["POST"]),
    (CONVERSATION + "/feedback", ["POST"]),
    (CONVERSATION + "/end", ["POST"]),
    (CONVERSATION + "/attachments", ["POST"]),
    (CONVERSATION + "/attachments/{attachment_id}", ["GET"]),
):
    _register_preflight(_path, _methods)


# -- operations --------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    PREFIX + "/config",
    summary="The widget's configuration for a visitor (look, greeting, online now)",
    tag="chat-widget",
    query="ChatConfigQuery",
    response="ChatConfigOut",
    auth=False,
    errors=(403, 404, 422),
)
def chat_config(call: Call) -> ChatConfigOut:
    widget = _widget(call)
    workspace = widget.workspace()
    locale = conversations.visitor_locale(call.query.locale, workspace.locale)
    settings = widget.settings
    ai = conversations.bot_answers(widget.deps, widget.workspace_id, settings)
    site_key = get_settings().turnstile_site_key
    return schemas.ChatConfigOut(
        public_key=settings.public_key,
        locale=locale,
        colour=settings.colour,
        position=settings.position.value,
        greeting=chat_settings.greeting_in(settings, locale),
        team_name=widget.team_name(),
        team_photo_url=settings.team_photo_url,
        online=office_hours.is_open(
            settings.office_hours, workspace.timezone, widget.deps.tickets.clock.now()
        ),
        pre_chat_fields={
            "name": settings.pre_chat_fields.name.value,
            "email": settings.pre_chat_fields.email.value,
        },
        ai_answers=ai,
        turnstile_site_key=site_key if widget.deps.human_check is not None else None,
        identity_required=settings.identity_required,
        live_url=get_settings().live_websocket_url or None,
    )


def _identity_claim(given: Any) -> Any:
    if given is None:
        return None
    return conversations.IdentityClaim(
        user_id=given.user_id, email=given.email, name=given.name or "", user_hash=given.user_hash
    )


@operation(
    bp,
    "POST",
    PREFIX + "/conversations",
    summary="Start a conversation: opens a chat ticket with the visitor's first message",
    tag="chat-widget",
    body="ChatStartIn",
    response="ChatStartOut",
    status=201,
    auth=False,
    errors=VISITOR_ERRORS,
    description="Answers the visitor token for this conversation. 403 `human_check_failed` "
    "(Turnstile, when configured), `identity_not_verified`, `origin_not_allowed`, "
    "`chat_disabled`; 404 `chat_not_found`; 422 when a required pre-chat field is "
    "missing; 429 `rate_limited` (10 conversations an hour per address, `Retry-After`).",
)
def start_conversation(call: Call) -> ChatStartOut:
    body = call.body
    widget = _widget(call)
    started = conversations.start_conversation(
        widget.deps,
        widget.workspace(),
        widget.settings,
        conversations.NewConversation(
            message=body.message,
            name=body.name or "",
            email=body.email or "",
            page_url=body.page_url,
            language=body.language,
            local_time=body.local_time,
            client_id=body.client_id,
            turnstile_token=body.turnstile_token or "",
            identity=_identity_claim(body.identity),
        ),
        visitor_ip=_visitor_ip(call),
    )
    return schemas.ChatStartOut(
        conversation=conversation_out(widget, started.ticket, started.state),
        visitor_token=started.token,
        messages=[message_out(started.message, _Names(widget), None)],
        cursor=started.message.id,
    )


@operation(
    bp,
    "POST",
    PREFIX + "/history",
    summary="A verified visitor's earlier conversations (newest first, at most 20)",
    tag="chat-widget",
    body="ChatHistoryIn",
    response="ChatHistoryOut",
    auth=False,
    errors=(400, 403, 404, 422),
    description="Each with a visitor token. 403 `identity_not_verified` for a wrong hash.",
)
def history(call: Call) -> ChatHistoryOut:
    widget = _widget(call)
    identity = conversations.verify_identity(widget.settings, _identity_claim(call.body.identity))
    if identity is None:  # the schema requires one
        raise Forbidden("The identity could not be verified.", code="identity_not_verified")
    past = visitor_requests.history(widget.deps, widget.workspace_id, identity)
    return schemas.ChatHistoryOut(
        conversations=[
            {
                "id": entry.ticket_id,
                "subject": entry.subject,
                "created_at": entry.created_at,
                "visitor_token": token,
            }
            for entry, token in past
        ]
    )


@operation(
    bp,
    "GET",
    CONVERSATION,
    summary="The conversation: status, team online, assigned agent, rating",
    tag="chat-widget",
    response="ConversationOut",
    auth=False,
    errors=(401, 403, 404),
)
def get_conversation(call: Call) -> ConversationOut:
    widget = _widget(call)
    grant = _grant(call, widget)
    state = _state(widget, grant)
    return conversation_out(widget, _ticket(widget, grant), state)


@operation(
    bp,
    "POST",
    CONVERSATION + "/messages",
    summary="Send a message (the same `client_id` twice returns the first message)",
    tag="chat-widget",
    body="ChatMessageIn",
    response="VisitorMessageOut",
    status=201,
    also=(200,),
    auth=False,
    errors=(*VISITOR_ERRORS, 409),
    description="201 with the new message; 200 with the earlier one when its `client_id` "
    "was sent before. A text, files (`attachment_ids`, uploaded first with `POST "
    ".../attachments`) or both. 429 `rate_limited` past 30 messages a minute. Files as "
    "for agents: 422 `attachment_not_usable`, `attachment_type_refused`, "
    "`too_many_attachments`; 409 `attachment_already_used`; 413 `attachments_too_large`. "
    "In a conversation whose ticket was merged into another, the message goes to that "
    "ticket and the conversation goes on as before.",
)
def send_message(call: Call) -> Response:
    body = call.body
    widget = _widget(call)
    grant = _grant(call, widget)
    posted, created = conversations.post_visitor_message(
        widget.deps,
        widget.settings,
        grant,
        body.text,
        client_id=body.client_id,
        page_url=body.page_url,
        local_time=body.local_time,
        attachment_ids=tuple(body.attachment_ids),
    )
    return routing.to_response(message_out(posted, _Names(widget), grant), 201 if created else 200)


@operation(
    bp,
    "GET",
    CONVERSATION + "/messages",
    summary="Messages after a cursor; with `wait`, waits up to that many seconds for news",
    tag="chat-widget",
    query="ChatMessagesQuery",
    response="ChatMessagesOut",
    auth=False,
    errors=(401, 403, 404, 422),
    description="Oldest first: the visitor's, the team's replies and the bot's (never notes). "
    "Pass the last answer's `cursor` as `after` and its `version` as `version`; `wait` "
    "(0-20 s) returns as soon as anything changes.",
)
def list_messages(call: Call) -> ChatMessagesOut:
    query = call.query
    widget = _widget(call)
    grant = _grant(call, widget)
    news = live.wait_for_news(
        widget.deps,
        widget.workspace_id,
        grant.ticket_id,
        after=query.after,
        known_version=query.version,
        wait_seconds=query.wait,
        for_visitor=True,
    )
    state = news.mark.state
    if state.visitor_id != grant.visitor_id:
        raise conversations.conversation_not_found()
    names = _Names(widget)
    return schemas.ChatMessagesOut(
        messages=[message_out(m, names, grant) for m in news.messages],
        cursor=news.cursor,
        agent_typing=live.is_typing(state.agent_typing_until, widget.deps),
        agent_seen_message_id=state.agent_seen_message_id,
        status=news.mark.ticket_status,
        handed_off=news.handed_off,
        version=news.mark.version,
    )


def _signal_operation(
    suffix: str, summary: str, body: str, response: str | None, errors: tuple[int, ...] = ()
) -> Any:
    return operation(
        bp,
        "POST",
        CONVERSATION + suffix,
        summary=summary,
        tag="chat-widget",
        body=body,
        response=response,
        status=200 if response else 204,
        auth=False,
        errors=(400, 401, 403, 404, 413, 422, *errors),
    )


@_signal_operation("/typing", "The visitor is typing (or stopped)", "ChatTypingIn", None)
def visitor_typing(call: Call) -> None:
    widget = _widget(call)
    state = _state(widget, _grant(call, widget))
    live.typing(widget.deps, state, visitor=True, is_typing=call.body.typing)


@_signal_operation("/seen", "The newest message the visitor has seen", "ChatSeenIn", None)
def visitor_seen(call: Call) -> None:
    widget = _widget(call)
    state = _state(widget, _grant(call, widget))
    live.seen(widget.deps, state, call.body.message_id, visitor=True)


@_signal_operation("/rating", "Rate the conversation", "ChatRatingIn", "ConversationOut")
def rate_conversation(call: Call) -> ConversationOut:
    widget = _widget(call)
    grant = _grant(call, widget)
    _state(widget, grant)
    visitor_requests.rate(
        widget.deps, grant, chat_model.Rating(call.body.rating), call.body.comment
    )
    return conversation_out(widget, _ticket(widget, grant), _state(widget, grant))


@_signal_operation(
    "/email",
    "Leave an e-mail address (replies then also reach it)",
    "ChatEmailIn",
    "ConversationOut",
)
def leave_email(call: Call) -> ConversationOut:
    widget = _widget(call)
    grant = _grant(call, widget)
    state = _state(widget, grant)
    ticket = visitor_requests.leave_address(
        widget.deps, grant, state, call.body.email, call.body.name or ""
    )
    return conversation_out(widget, ticket, state)


@operation(
    bp,
    "POST",
    CONVERSATION + "/handoff",
    summary="Ask for a person: the conversation goes to the team as open",
    tag="chat-widget",
    response="ConversationOut",
    auth=False,
    errors=(401, 403, 404),
)
def hand_off(call: Call) -> ConversationOut:
    from chalicelib.translations import words

    widget = _widget(call)
    grant = _grant(call, widget)
    state = _state(widget, grant)
    workspace = widget.workspace()
    ticket = visitor_requests.hand_off(
        widget.deps, grant, state, words(workspace.locale)["chat.note.handoff"]
    )
    return conversation_out(widget, ticket, _state(widget, grant))


@_signal_operation(
    "/feedback", "Whether an answer of the bot helped", "ChatFeedbackIn", None, errors=()
)
def bot_feedback(call: Call) -> None:
    widget = _widget(call)
    grant = _grant(call, widget)
    _state(widget, grant)
    visitor_requests.give_feedback(widget.deps, grant, call.body.message_id, call.body.helped)


@_signal_operation(
    "/end",
    "End the conversation (and have its transcript e-mailed)",
    "ChatEndIn",
    "ConversationOut",
)
def end_conversation(call: Call) -> ConversationOut:
    widget = _widget(call)
    grant = _grant(call, widget)
    _state(widget, grant)
    ticket = _ticket(widget, grant)
    state = visitor_requests.end_conversation(
        widget.deps, widget.workspace(), grant, ticket, call.body.transcript, widget.team_name()
    )
    return conversation_out(widget, ticket, state)


@operation(
    bp,
    "POST",
    CONVERSATION + "/attachments",
    summary="Start a file upload for the visitor's next message: a presigned S3 POST",
    tag="chat-widget",
    body="ChatAttachmentIn",
    response="AttachmentUploadOut",
    status=201,
    auth=False,
    errors=(400, 401, 403, 404, 413, 422, 429),
    description="Name the file; POST it (multipart form: every entry of `fields`, then the "
    "file as `file`) to `upload_url` within 15 minutes, then send a message listing its "
    "`id` in `attachment_ids` within a day. The same types and limits as agents' files "
    "(images, PDF, text, office documents; 15 MB a file, 10 and 18 MB a message). 413 "
    "`attachment_too_large`; 422 `attachment_type_refused`; 429 `rate_limited` past 20 "
    "files in 10 minutes (`Retry-After`).",
)
def start_visitor_attachment_upload(call: Call) -> Any:
    body = call.body
    widget = _widget(call)
    grant = _grant(call, widget)
    _state(widget, grant)
    permit = conversations.start_visitor_upload(
        widget.deps, grant, body.filename, body.content_type, body.size
    )
    upload = permit.upload
    return schemas.AttachmentUploadOut(
        id=upload.id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        upload_url=permit.upload_url,
        fields=permit.fields,
        max_bytes=permit.max_bytes,
        upload_expires_at=permit.upload_expires_at,
        attach_before=upload.expires_at,
    )


@operation(
    bp,
    "GET",
    CONVERSATION + "/attachments/{attachment_id}",
    summary="Download a file of the conversation (redirects to a link valid for 5 minutes)",
    tag="chat-widget",
    query="ChatAttachmentQuery",
    status=302,
    auth=False,
    errors=(401, 403, 404, 422),
    description="The visitor's own files, the team's replies' and the bot's; never a note's. "
    "With the visitor token (`Authorization: Bearer`), or as linked in a message "
    "(`visitor`, `expires` and `signature`, for an image or a link that cannot send the "
    "token; no `Origin` needed). 404 `attachment_not_found` for anything else, a forged or "
    "an expired link.",
)
def download_visitor_attachment(call: Call) -> Response:
    query = call.query
    attachment_id = call.params["attachment_id"]
    deps = bootstrap.chat_deps()
    found = chat_settings.widget_of_key(deps, call.params["public_key"])
    if found is None:
        raise _chat_not_found()
    workspace_id, settings = found
    if call.request.headers.get("origin"):
        widget = _widget(call)  # a script's request: from an allowed site only
    elif not settings.enabled:
        raise Forbidden("This chat is turned off.", code="chat_disabled")
    else:
        widget = Widget(deps, workspace_id, settings)
    if query.signature and query.visitor and query.expires is not None:
        grant = conversations.link_grant(
            deps,
            workspace_id,
            call.params["conversation_id"],
            query.visitor,
            attachment_id,
            query.expires,
            query.signature,
        )
    else:
        grant = _grant(call, widget)
    _state(widget, grant)
    url = conversations.visitor_attachment_url(deps, grant, attachment_id)
    return Response(body="", status_code=302, headers={"Location": url})
