"""Who is told of what: the rules, apart from storage.  Nobody is told of their own action."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.notifications.mentions import Teammate
from chalicelib.notifications.model import NotificationKind

# The events of the events queue that tell someone something.
TOLD_EVENTS = ("ticket.created", "ticket.updated", "message.received", "note.added")


@dataclass(frozen=True)
class TicketEvent:
    """A product event as queued (chalicelib/store/events.py), as these rules read it."""

    id: str
    type: str
    workspace_id: str
    ticket_id: str
    at: datetime
    actor: str | None = None  # "user:<id>", "api_key:<id>", "contact:<id>", "system"
    changes: tuple[str, ...] = ()  # ticket.updated: the fields that changed
    message_id: str | None = None
    mentions: tuple[str, ...] = ()  # note.added: member ids, resolved when it was written
    # ticket.created / ticket.updated: the assignee the event left (None: nobody), when the
    # event says so (`assignee_given`); older events did not, and the ticket is read instead.
    assignee_id: str | None = None
    assignee_given: bool = False


@dataclass(frozen=True)
class TicketFacts:
    """What the rules need of the ticket, as it is now."""

    assignee_id: str | None
    merged: bool
    # Never changed since it opened: its assignee is the one it opened with (events carry no
    # assignee, and the worker reads the ticket as it is when the event arrives).
    as_opened: bool = True
    # A chat conversation the answer bot still handles (pending, nobody's): the team hears
    # of it when it is handed over, not of each question the bot answers.
    with_bot: bool = False


# `ticket.updated` of a conversation handed from the answer bot (or the visitor's asking)
# to the team.
HANDOFF_CHANGE = "handoff"


def acting_member(event: TicketEvent, team: Iterable[Teammate], sender: str | None) -> str | None:
    """The member behind the event: the actor's user id, or the member whose address sent
    the mail (a member writing in from their mailbox is not told of their own mail)."""
    if event.actor and event.actor.startswith("user:"):
        return event.actor.removeprefix("user:")
    if sender:
        address = sender.strip().lower()
        return next((m.user_id for m in team if m.email.lower() == address), None)
    return None


def who_is_told(
    event: TicketEvent, ticket: TicketFacts, team: list[Teammate], sender: str | None = None
) -> dict[str, NotificationKind]:
    """Member id -> what they are told of `event` (one thing each; the most personal wins):
    - a new ticket: its assignee that it is theirs, everyone else that it opened;
      (a ticket changed since it opened: everyone that it opened);
    - the customer wrote: the assignee, or everyone while nobody is;
    - an assignment: the new assignee;
    - a chat handed to the team: its assignee, or everyone while nobody is;
    - a note: the members it mentions.
    Never the member who acted, nobody outside `team`, nothing for a merged ticket, nothing
    of a chat's opening or questions while the answer bot still handles it."""
    if ticket.merged or event.type not in TOLD_EVENTS:
        return {}
    if ticket.with_bot and event.type in ("ticket.created", "message.received"):
        return {}
    members = {m.user_id for m in team}
    told: dict[str, NotificationKind] = {}
    assignee = ticket.assignee_id if ticket.assignee_id in members else None
    if event.assignee_given and event.type in ("ticket.created", "ticket.updated"):
        # What the event did, not what the ticket became since (two quick reassignments
        # tell each of their assignees).
        assignee = event.assignee_id if event.assignee_id in members else None
    if event.type == "ticket.created":
        told = dict.fromkeys(members, NotificationKind.NEW_TICKET)
        if assignee and (event.assignee_given or ticket.as_opened):
            told[assignee] = NotificationKind.ASSIGNED
    elif event.type == "message.received":
        readers = {assignee} if assignee else members  # nobody's (or a former member's)
        told = dict.fromkeys(readers, NotificationKind.CUSTOMER_REPLY)
    elif event.type == "ticket.updated":
        if "assignee" in event.changes and assignee:
            told = {assignee: NotificationKind.ASSIGNED}
        elif HANDOFF_CHANGE in event.changes:
            told = dict.fromkeys({assignee} if assignee else members, NotificationKind.NEW_TICKET)
    elif event.type == "note.added":
        told = dict.fromkeys((m for m in event.mentions if m in members), NotificationKind.MENTION)
    actor = acting_member(event, team, sender)
    told.pop(actor or "", None)
    return told
