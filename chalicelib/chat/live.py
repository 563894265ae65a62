"""Waiting for news in a conversation (long polling), and the signals both sides send:
typing, seen.  A wait reads the conversation's mark (one BatchGetItem) every
`poll_interval_seconds` until its version passes the one the client knew, then reads the
messages after the client's cursor (one Query): the calls do not grow with the
conversation."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.model import ChatState, LiveMark
from chalicelib.errors import NotFound
from chalicelib.tickets.model import Message, MessageKind

PAGE_SIZE = 100
# What a visitor sees of the conversation: never the team's notes.
VISITOR_KINDS = (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.BOT)


@dataclass(frozen=True)
class News:
    mark: LiveMark
    messages: list[Message]  # oldest first
    cursor: str | None  # the last message read (pass it back as `after`)


def _mark(deps: ChatDeps, workspace_id: str, ticket_id: str) -> LiveMark:
    mark = deps.store.mark(workspace_id, ticket_id)
    if mark is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return mark


def wait_for_news(
    deps: ChatDeps,
    workspace_id: str,
    ticket_id: str,
    *,
    after: str | None,
    known_version: int | None,
    wait_seconds: int,
    for_visitor: bool,
) -> News:
    """The messages after `after` (a visitor's: customer, reply and bot only), waiting up
    to `wait_seconds` for the version to pass `known_version` first.  Without a known
    version, messages already there are answered at once; otherwise the wait starts from
    the current version.  At most one GetItem-sized read per interval and two Queries."""
    kinds = VISITOR_KINDS if for_visitor else tuple(MessageKind)
    mark = _mark(deps, workspace_id, ticket_id)
    if for_visitor:
        deps.store.note_poll(
            workspace_id,
            ticket_id,
            int(deps.tickets.clock.now().timestamp()),
            deps.policy.poll_note_every_seconds,
        )
    wait = max(0, min(wait_seconds, deps.policy.max_wait_seconds))
    if wait and known_version is None:
        news = _read(deps, mark, workspace_id, ticket_id, after, kinds)
        if news.messages:
            return news
        after, known_version = news.cursor, mark.version
    if wait and known_version is not None:
        for _ in range(int(wait / deps.policy.poll_interval_seconds)):
            if mark.version > known_version:
                break
            deps.sleep(deps.policy.poll_interval_seconds)
            mark = _mark(deps, workspace_id, ticket_id)
    return _read(deps, mark, workspace_id, ticket_id, after, kinds)


def _read(
    deps: ChatDeps,
    mark: LiveMark,
    workspace_id: str,
    ticket_id: str,
    after: str | None,
    kinds: tuple[MessageKind, ...],
) -> News:
    found = deps.store.messages_after(workspace_id, ticket_id, after, PAGE_SIZE)
    cursor = found[-1].id if found else after
    return News(mark, [m for m in found if m.kind in kinds], cursor)


def _now(deps: ChatDeps) -> int:
    return int(deps.tickets.clock.now().timestamp())


def typing(deps: ChatDeps, state: ChatState, *, visitor: bool, is_typing: bool) -> None:
    """Shows the other side that one is typing (for `typing_seconds`, unless repeated) or
    stopped.  One UpdateItem."""
    until = _now(deps) + deps.policy.typing_seconds if is_typing else 0
    field = "visitor_typing_until" if visitor else "agent_typing_until"
    deps.store.signal(state.workspace_id, state.ticket_id, {field: until})


def seen(deps: ChatDeps, state: ChatState, message_id: str, *, visitor: bool) -> None:
    """Records the newest message one side has seen (an older one changes nothing)."""
    current = state.visitor_seen_message_id if visitor else state.agent_seen_message_id
    if current is not None and current >= message_id:
        return
    field = "visitor_seen_message_id" if visitor else "agent_seen_message_id"
    deps.store.signal(state.workspace_id, state.ticket_id, {field: message_id})


def is_typing(until: int, deps: ChatDeps) -> bool:
    return until > _now(deps)


def visitor_online(state: ChatState, deps: ChatDeps) -> bool:
    return _now(deps) - state.visitor_polled_at <= deps.policy.online_seconds


def agent_state(deps: ChatDeps, workspace_id: str, ticket_ref: str) -> ChatState:
    """A chat ticket's live state for a member (404 for a ticket outside the workspace or
    not a chat)."""
    from chalicelib.tickets.lifecycle import get_ticket

    ticket = get_ticket(deps.tickets, workspace_id, ticket_ref)
    state = deps.store.get_state(ticket.workspace_id, ticket.id)
    if state is None:
        raise NotFound("This ticket is not a chat conversation.", code="conversation_not_found")
    return state
