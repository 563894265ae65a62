"""Turning ticket events into notifications, one per member told (chalicelib/notifications/
rules.py decides who), in each member's channels."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.notifications.deps import NotificationDeps
from chalicelib.notifications.mentions import Teammate
from chalicelib.notifications.model import Notification, NotificationKind
from chalicelib.notifications.rules import (
    HANDOFF_CHANGE,
    TOLD_EVENTS,
    TicketEvent,
    TicketFacts,
    acting_member,
    who_is_told,
)
from chalicelib.tickets.model import Channel, TicketStatus

MEMBER_PAGES = 10  # 1,000 members at most are told of one event
MEMBER_PAGE = 100
EXCERPT_CHARS = 200


def team_of(deps: NotificationDeps, workspace_id: str) -> list[Teammate]:
    """The workspace's members (at most MEMBER_PAGES Queries)."""
    team: list[Teammate] = []
    cursor: str | None = None
    for _ in range(MEMBER_PAGES):
        page = deps.accounts.list_members(workspace_id, cursor, MEMBER_PAGE)
        team.extend(Teammate(m.user_id, m.name, m.email) for m in page.entries)
        cursor = page.next_cursor
        if not cursor:
            break
    return team


def event_of(body: dict[str, Any]) -> TicketEvent | None:
    """The event as the rules read it; None for an event that tells no one."""
    if body.get("type") not in TOLD_EVENTS or not isinstance(body.get("ticket_id"), str):
        return None
    return TicketEvent(
        id=str(body["id"]),
        type=str(body["type"]),
        workspace_id=str(body["workspace_id"]),
        ticket_id=str(body["ticket_id"]),
        at=datetime.fromisoformat(str(body["at"])),
        actor=body.get("actor"),
        changes=tuple(str(c) for c in body.get("changes") or ()),
        message_id=body.get("message_id"),
        mentions=tuple(str(m) for m in body.get("mentions") or ()),
        assignee_id=body.get("assignee_id"),
        assignee_given="assignee_id" in body,
    )


def record_event(deps: NotificationDeps, event: TicketEvent) -> int:
    """Writes what `event` tells each member, in the channels they chose; returns how many
    notifications it wrote.  Idempotent: a notification's id is the event's, written only
    if absent.  Reads the ticket, the message, the members and their preferences."""
    telling_changes = {"assignee", HANDOFF_CHANGE} & set(event.changes)
    if (event.type == "ticket.updated" and not telling_changes) or (
        event.type == "note.added" and not event.mentions
    ):
        return 0  # tells no one: nothing read
    ws = event.workspace_id
    ticket = deps.tickets.get_ticket(ws, event.ticket_id)
    if ticket is None:
        return 0
    facts = TicketFacts(
        assignee_id=ticket.assignee_id,
        merged=bool(ticket.merged_into),
        as_opened=ticket.revision == 0,
        with_bot=(
            ticket.channel is Channel.CHAT
            and ticket.status is TicketStatus.PENDING
            and ticket.assignee_id is None
        ),
    )
    message = (
        deps.tickets.get_message(ws, ticket.id, event.message_id)
        if event.message_id and event.type in ("message.received", "note.added")
        else None
    )
    team = team_of(deps, ws)
    sender = message.from_address if message is not None else None
    told = who_is_told(event, facts, team, sender)
    if not told:
        return 0
    names = {m.user_id: m.name for m in team}
    actor_id = acting_member(event, team, sender)
    if actor_id:
        actor_name: str | None = names.get(actor_id)
    elif event.type == "message.received":
        actor_name = ticket.requester_name or ticket.requester_email
    else:
        actor_name = None
    excerpt = " ".join(message.text.split())[:EXCERPT_CHARS] if message is not None else None
    preferences = deps.store.preferences(ws, sorted(told))
    mail_due = event.at + timedelta(minutes=deps.policy.digest_delay_minutes)
    written = 0
    for user_id, kind in told.items():
        channels = preferences[user_id].of(kind)
        if not channels.any:
            continue
        notification = Notification(
            id=event.id,
            workspace_id=ws,
            user_id=user_id,
            kind=kind,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            ticket_subject=ticket.subject,
            created_at=event.at,
            actor_id=actor_id,
            actor_name=actor_name,
            excerpt=excerpt if kind in _WITH_EXCERPT else None,
            message_id=message.id if message is not None else None,
        )
        written += deps.store.add(notification, channels, mail_due)
    return written


_WITH_EXCERPT = (NotificationKind.CUSTOMER_REPLY, NotificationKind.MENTION)
