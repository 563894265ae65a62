"""Waiting for news in a conversation (long polling), and the signals both sides send:
typing, seen.  A wait reads the conversation's mark (one BatchGetItem) every
`poll_interval_seconds` until its version passes the one the client knew, then reads the
messages after the client's cursor (one Query): the calls do not grow with the
conversation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.chat.bot_rules import BOT_AUTHOR
from chalicelib.chat.deps import ChatDeps
from chalicelib.chat.model import ChatState, LiveMark
from chalicelib.chat.shared_marks import MarkKey
from chalicelib.errors import Conflict, NotFound
from chalicelib.tickets.model import Message, MessageKind

PAGE_SIZE = 100
# What a visitor sees of the conversation: never the team's notes.
VISITOR_KINDS = (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.BOT)


@dataclass(frozen=True)
class News:
    mark: LiveMark
    messages: list[Message]  # oldest first
    cursor: str | None  # the last message read (pass it back as `after`)
    # The team has the conversation: the visitor asked, or the answer bot handed it off.
    handed_off: bool = False


MAX_MERGE_HOPS = 5


def _mark(
    deps: ChatDeps, workspace_id: str, ticket_id: str, state_of: str | None = None
) -> LiveMark:
    mark = deps.store.mark(workspace_id, ticket_id, state_of)
    if mark is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return mark


def _merged_target(deps: ChatDeps, workspace_id: str, mark: LiveMark) -> str | None:
    """The ticket a merged conversation goes on in (one GetItem a hop), None if not merged."""
    target = mark.merged_into
    for _ in range(MAX_MERGE_HOPS - 1):
        ticket = deps.tickets.store.get_ticket(workspace_id, target) if target else None
        if ticket is None or not ticket.merged_into:
            break
        target = ticket.merged_into
    return target


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
    state_of: str | None = None
    if for_visitor and mark.merged_into:
        # The team goes on in the ticket this one was merged into: wait on that one (with
        # this conversation's live state) and read its messages.
        target = _merged_target(deps, workspace_id, mark)
        if target:
            state_of, ticket_id = ticket_id, target
            mark = _mark(deps, workspace_id, ticket_id, state_of)
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
        mark = _wait_for_version(
            deps, mark, known_version, wait, (workspace_id, ticket_id, state_of)
        )
    news = _read(deps, mark, workspace_id, ticket_id, after, kinds)
    if for_visitor and news.handed_off and not mark.state.handed_off:
        # The answer bot handed off (its note, read here): kept on the live state, so the
        # conversation says so from now on.  Moves the version once: answered moved too.
        deps.store.signal(workspace_id, state_of or ticket_id, {"handed_off": True})
        mark = replace(mark, version=mark.version + 1)
        news = replace(news, mark=mark)
    return news


def _wait_for_version(
    deps: ChatDeps, mark: LiveMark, known_version: int, wait: int, key: MarkKey
) -> LiveMark:
    """The mark once its version passes `known_version`, or as it is after `wait` seconds;
    read every interval, with the process's other waiters when they are shared."""
    shared = deps.marks
    if shared is not None:
        shared.watch(key)
    try:
        last = shared.now() if shared is not None else 0.0
        interval = deps.policy.poll_interval_seconds
        for _ in range(int(wait / interval)):
            if mark.version > known_version:
                break
            deps.sleep(interval)
            if shared is None:
                mark = _mark(deps, *key)
                continue
            asked = shared.now()
            # Another waiter's batch serves if it was read since this one's last read and
            # at most half an interval ago (a reply is never more than that late for it).
            found = shared.read(key, max(last, asked - interval / 2))
            last = asked
            if found is None:
                raise NotFound("No such conversation.", code="conversation_not_found")
            mark = found
    finally:
        if shared is not None:
            shared.unwatch(key)
    return mark


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
    bot_handoff = any(m.kind is MessageKind.NOTE and m.author == BOT_AUTHOR for m in found)
    return News(
        mark,
        [m for m in found if m.kind in kinds],
        cursor,
        handed_off=mark.state.handed_off or bot_handoff,
    )


def _now(deps: ChatDeps) -> int:
    return int(deps.tickets.clock.now().timestamp())


def typing(deps: ChatDeps, state: ChatState, *, visitor: bool, is_typing: bool) -> None:
    """Shows the other side that one is typing (for `typing_seconds`, unless repeated) or
    stopped.  One UpdateItem."""
    until = _now(deps) + deps.policy.typing_seconds if is_typing else 0
    field = "visitor_typing_until" if visitor else "agent_typing_until"
    deps.store.signal(state.workspace_id, state.ticket_id, {field: until})
    tell_moved(deps, state.workspace_id, state.ticket_id)


def seen(deps: ChatDeps, state: ChatState, message_id: str, *, visitor: bool) -> None:
    """Records the newest message one side has seen (an older one changes nothing)."""
    current = state.visitor_seen_message_id if visitor else state.agent_seen_message_id
    if current is not None and current >= message_id:
        return
    field = "visitor_seen_message_id" if visitor else "agent_seen_message_id"
    deps.store.signal(state.workspace_id, state.ticket_id, {field: message_id})
    tell_moved(deps, state.workspace_id, state.ticket_id)


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


def tell_moved(deps: ChatDeps, workspace_id: str, ticket_id: str) -> None:
    """Tells the conversation's WebSocket listeners it moved (a signal without a ticket
    event: typing, seen, rating, end); best effort, they also poll."""
    from chalicelib.live.pushes import tell_conversation_moved

    tell_conversation_moved(deps.live, workspace_id, ticket_id)


def agent_seen(deps: ChatDeps, workspace_id: str, ticket_ref: str, message_id: str) -> ChatState:
    """A member has seen the visitor's messages up to `message_id` (the widget shows
    "Seen"): 404 for a ticket outside the workspace or not a chat, or a message not on it;
    409 `not_a_visitor_message` for the team's own messages.  An older message than the one
    recorded changes nothing.  Reads the ticket, its state and the message; at most one
    UpdateItem."""
    from chalicelib.tickets.lifecycle import get_ticket

    ticket = get_ticket(deps.tickets, workspace_id, ticket_ref)
    state = deps.store.get_state(ticket.workspace_id, ticket.id)
    if state is None:
        raise NotFound("This ticket is not a chat conversation.", code="conversation_not_found")
    message = deps.tickets.store.get_message(ticket.workspace_id, ticket.id, message_id)
    if message is None:
        raise NotFound("No such message on this ticket.", code="message_not_found")
    if message.kind is not MessageKind.CUSTOMER:
        raise Conflict(
            "Only the visitor's messages are marked as seen.", code="not_a_visitor_message"
        )
    seen(deps, state, message_id, visitor=False)
    return state
