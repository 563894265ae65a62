"""The agent's live view of a chat ticket: waiting for the visitor's messages and signals
(long polling), and telling the visitor the agent is typing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import TicketLiveOut

schemas = lazy_module("chalicelib.api.schemas")
lifecycle = lazy_module("chalicelib.tickets.lifecycle")
live = lazy_module("chalicelib.chat.live")
tickets_api = lazy_module("chalicelib.api.tickets")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/live",
    summary="A chat ticket's messages after a cursor, waiting up to `wait` seconds for news",
    tag="chat",
    query="TicketLiveQuery",
    response="TicketLiveOut",
    errors=(401, 404, 422),
    description="Every kind of message (notes too), the visitor typing, the newest message "
    "they saw and whether they are on the page (polled in the last 30 s). Pass the last "
    "answer's `cursor` as `after` and `version` as `version`. Reading changes nothing (the "
    "visitor is told what was seen through `POST .../seen`). 404 `conversation_not_found` "
    "for a ticket that is not a chat.",
)
def ticket_live(call: Call) -> TicketLiveOut:
    deps = bootstrap.chat_deps()
    ticket = lifecycle.get_ticket(deps.tickets, call.member.workspace_id, call.params["ticket_id"])
    query = call.query
    news = live.wait_for_news(
        deps,
        ticket.workspace_id,
        ticket.id,
        after=query.after,
        known_version=query.version,
        wait_seconds=query.wait,
        for_visitor=False,
    )
    state = news.mark.state
    return schemas.TicketLiveOut(
        messages=[tickets_api.message_out(m) for m in news.messages],
        cursor=news.cursor,
        visitor_typing=live.is_typing(state.visitor_typing_until, deps),
        visitor_seen_message_id=state.visitor_seen_message_id,
        visitor_online=live.visitor_online(state, deps),
        status=news.mark.ticket_status,
        version=news.mark.version,
    )


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/typing",
    summary="Show the chat visitor that you are typing (or stopped)",
    tag="chat",
    body="TicketTypingIn",
    status=204,
    errors=(400, 401, 404, 422),
)
def agent_typing(call: Call) -> None:
    deps = bootstrap.chat_deps()
    state = live.agent_state(deps, call.member.workspace_id, call.params["ticket_id"])
    live.typing(deps, state, visitor=False, is_typing=call.body.typing)


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/seen",
    summary="Tell the chat visitor you have seen their messages up to this one",
    tag="chat",
    body="TicketSeenIn",
    status=204,
    errors=(400, 401, 404, 409, 422),
    description='The widget shows "Seen" under the visitor\'s message. An older message than '
    "the one recorded changes nothing. 404 `conversation_not_found` for a ticket that is not "
    "a chat, `message_not_found` for a message not on it; 409 `not_a_visitor_message` for "
    "the team's own messages.",
)
def agent_seen(call: Call) -> None:
    deps = bootstrap.chat_deps()
    live.agent_seen(deps, call.member.workspace_id, call.params["ticket_id"], call.body.message_id)
