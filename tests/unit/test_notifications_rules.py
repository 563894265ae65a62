"""Who is told of what, and how mentions in notes are read: the pure rules, and the recording
service against in-memory fakes of the members, tickets and notification store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.accounts.model import Member, Page, Role
from chalicelib.ids import new_id
from chalicelib.notifications.deps import NotificationDeps, NotificationPolicy
from chalicelib.notifications.mentions import Teammate, mentioned, might_mention
from chalicelib.notifications.model import Channels, NotificationKind, Preferences
from chalicelib.notifications.recording import event_of, record_event
from chalicelib.notifications.rules import TicketEvent, TicketFacts, who_is_told
from chalicelib.tickets.model import (
    Channel,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Fixed ids: they name parametrised tests, which must be the same in every test process.
ANN = Teammate("01JD3ZQ5V4W2Y8K7M6N5P4Q0A1", "Ann Owner", "ann@acme.test")
BOB = Teammate("01JD3ZQ5V4W2Y8K7M6N5P4Q0B2", "Bob Martin", "bob@acme.test")
CARL = Teammate("01JD3ZQ5V4W2Y8K7M6N5P4Q0C3", "Carl Bobson", "carl.b@acme.test")
TEAM = [ANN, BOB, CARL]
NEW, REPLY, ASSIGNED, MENTION = (
    NotificationKind.NEW_TICKET,
    NotificationKind.CUSTOMER_REPLY,
    NotificationKind.ASSIGNED,
    NotificationKind.MENTION,
)


def _event(kind, actor=None, **extra):
    return TicketEvent(new_id(), kind, "ws", "t", NOW, actor=actor, **extra)


# -- who is told ----------------------------------------------------------------------------


def test_a_new_ticket_tells_everyone_but_its_opener_and_its_assignee_that_it_is_theirs():
    told = who_is_told(
        _event("ticket.created", f"user:{ANN.user_id}"), TicketFacts(BOB.user_id, False), TEAM
    )
    assert told == {BOB.user_id: ASSIGNED, CARL.user_id: NEW}


def test_a_ticket_changed_before_its_event_arrived_is_new_to_all_its_assignment_told_apart():
    facts = TicketFacts(BOB.user_id, merged=False, as_opened=False)
    told = who_is_told(_event("ticket.created", "contact:c1"), facts, TEAM)
    assert set(told.values()) == {NEW} and len(told) == 3


def test_a_customer_reply_tells_the_assignee_or_everyone_when_nobody_has_the_ticket():
    reply = _event("message.received", "contact:c1")
    assert who_is_told(reply, TicketFacts(BOB.user_id, False), TEAM) == {BOB.user_id: REPLY}
    assert who_is_told(reply, TicketFacts(None, False), TEAM) == dict.fromkeys(
        [ANN.user_id, BOB.user_id, CARL.user_id], REPLY
    )


def test_mail_a_member_sends_from_their_own_address_does_not_tell_them():
    reply = _event("message.received")
    told = who_is_told(reply, TicketFacts(None, False), TEAM, sender="BOB@acme.test")
    assert BOB.user_id not in told and len(told) == 2


def test_an_assignment_tells_the_new_assignee_unless_they_took_it_themselves():
    change = _event("ticket.updated", f"user:{ANN.user_id}", changes=("assignee", "status"))
    assert who_is_told(change, TicketFacts(BOB.user_id, False), TEAM) == {BOB.user_id: ASSIGNED}
    taken = _event("ticket.updated", f"user:{BOB.user_id}", changes=("assignee",))
    assert who_is_told(taken, TicketFacts(BOB.user_id, False), TEAM) == {}
    other = _event("ticket.updated", f"user:{ANN.user_id}", changes=("status",))
    assert who_is_told(other, TicketFacts(BOB.user_id, False), TEAM) == {}


def test_quick_reassignments_tell_each_assignee_what_their_event_did():
    to_bob = _event(
        "ticket.updated",
        f"user:{ANN.user_id}",
        changes=("assignee",),
        assignee_id=BOB.user_id,
        assignee_given=True,
    )
    # By the time the event is read, the ticket went on to Carl: Bob is still told.
    assert who_is_told(to_bob, TicketFacts(CARL.user_id, False), TEAM) == {BOB.user_id: ASSIGNED}
    unassigned = _event(
        "ticket.updated", f"user:{ANN.user_id}", changes=("assignee",), assignee_given=True
    )
    assert who_is_told(unassigned, TicketFacts(CARL.user_id, False), TEAM) == {}
    opened = _event("ticket.created", "contact:c1", assignee_id=BOB.user_id, assignee_given=True)
    facts = TicketFacts(CARL.user_id, merged=False, as_opened=False)
    assert who_is_told(opened, facts, TEAM) == {
        ANN.user_id: NEW,
        BOB.user_id: ASSIGNED,
        CARL.user_id: NEW,
    }


def test_a_note_tells_the_members_it_mentions_but_not_its_writer_nor_strangers():
    note = _event(
        "note.added", f"user:{ANN.user_id}", mentions=(BOB.user_id, ANN.user_id, "gone-member")
    )
    assert who_is_told(note, TicketFacts(None, False), TEAM) == {BOB.user_id: MENTION}


def test_a_merged_ticket_and_other_events_tell_no_one():
    assert who_is_told(_event("message.received"), TicketFacts(None, True), TEAM) == {}
    assert who_is_told(_event("message.sent"), TicketFacts(None, False), TEAM) == {}


# -- mentions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Bob can you look?", [BOB]),
        ("thanks @bob.", [BOB]),
        ("@[Carl Bobson] and @BobMartin", [CARL, BOB]),
        ("ask @carl.b", [CARL]),
        (f"@{ANN.user_id} please", [ANN]),
        ("@bob @Bob @[Bob Martin]", [BOB]),
        ("mail bob@acme.test or ann@acme.test", []),
        ("@Bobby and @nobody", []),
        ("@[Someone Else]", []),
    ],
)
def test_mentions_are_read_as_names_first_names_addresses_or_member_ids(text, expected):
    assert mentioned(text, TEAM) == [m.user_id for m in expected]


def test_a_first_name_two_members_share_mentions_neither():
    twins = [*TEAM, Teammate(new_id(), "Bob Stone", "stone@acme.test")]
    assert mentioned("@Bob look", twins) == []
    assert mentioned("@[Bob Stone] look", twins) == [twins[-1].user_id]


def test_only_text_with_a_mention_needs_the_member_list():
    assert might_mention("hi @Ann")
    assert not might_mention("write to ann@acme.test")


# -- recording, against fakes ------------------------------------------------------------------


class FakeAccounts:
    def list_members(self, workspace_id, cursor, limit):
        members = [Member(workspace_id, m.user_id, Role.AGENT, m.email, m.name, NOW) for m in TEAM]
        return Page(members, None)


class FakeTickets:
    def __init__(self, ticket, message=None):
        self.ticket, self.message = ticket, message

    def get_ticket(self, workspace_id, ticket_id):
        return self.ticket if ticket_id == self.ticket.id else None

    def get_message(self, workspace_id, ticket_id, message_id):
        return self.message


class FakeNotifications:
    def __init__(self, preferences=None):
        self.written = {}
        self.mail_due = {}
        self.prefs = preferences or {}

    def add(self, notification, channels, mail_due):
        key = (notification.workspace_id, notification.user_id, notification.id)
        if key in self.written:
            return False
        self.written[key] = (notification, channels)
        if channels.email:
            self.mail_due[key] = mail_due
        return True

    def preferences(self, workspace_id, user_ids):
        return {u: self.prefs.get(u, Preferences()) for u in user_ids}


def _ticket(**changes):
    ticket = Ticket(
        id=new_id(),
        workspace_id="ws",
        number=7,
        subject="Printer on fire",
        requester_id="c1",
        requester_email="carla@customer.test",
        requester_name="Carla",
        cc=[],
        status=TicketStatus.OPEN,
        priority=Priority.NORMAL,
        assignee_id=None,
        tags=[],
        channel=Channel.EMAIL,
        created_at=NOW,
        updated_at=NOW,
        last_activity_at=NOW,
    )
    return dataclasses.replace(ticket, **changes)


def _deps(tickets, store):
    return NotificationDeps(
        store=store,
        accounts=FakeAccounts(),
        tickets=tickets,
        outbox=None,
        clock=None,
        policy=NotificationPolicy(app_base_url="https://app.helptal.test"),
    )


def _body(kind, ticket, **extra):
    return {
        "id": new_id(),
        "type": kind,
        "workspace_id": "ws",
        "ticket_id": ticket.id,
        "at": NOW.isoformat(),
        **extra,
    }


def test_recording_writes_one_notification_per_member_told_once_however_often_it_runs():
    ticket = _ticket()
    store = FakeNotifications()
    deps = _deps(FakeTickets(ticket), store)
    event = event_of(_body("ticket.created", ticket, actor=f"user:{ANN.user_id}"))
    assert record_event(deps, event) == 2
    assert record_event(deps, event) == 0
    told = {user: n.kind for (_, user, _), (n, _) in store.written.items()}
    assert told == {BOB.user_id: NEW, CARL.user_id: NEW}
    # New tickets are not mailed unless asked for: nothing waits for the digest.
    assert store.mail_due == {}


def test_recording_a_customer_reply_names_the_customer_and_quotes_the_message():
    ticket = _ticket(assignee_id=BOB.user_id, revision=3)
    message = Message(
        id=new_id(),
        ticket_id=ticket.id,
        workspace_id="ws",
        kind=MessageKind.CUSTOMER,
        author="contact:c1",
        from_address="carla@customer.test",
        to=[],
        cc=[],
        subject="Re: Printer on fire",
        text="Still   smoking,\nplease hurry",
        html=None,
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=[],
        delivery=DeliveryStatus.RECEIVED,
        created_at=NOW,
    )
    store = FakeNotifications()
    event = event_of(_body("message.received", ticket, message_id=message.id))
    assert record_event(_deps(FakeTickets(ticket, message), store), event) == 1
    [(notification, channels)] = store.written.values()
    assert (notification.user_id, notification.kind) == (BOB.user_id, REPLY)
    assert (notification.actor_name, notification.excerpt) == (
        "Carla",
        "Still smoking, please hurry",
    )
    assert channels == Channels(in_app=True, email=True)
    assert list(store.mail_due.values()) == [datetime(2026, 11, 30, 9, 5, tzinfo=UTC)]


def test_a_member_who_turned_a_kind_off_everywhere_gets_nothing_of_it():
    ticket = _ticket()
    off = Preferences({NEW: Channels(in_app=False, email=False)})
    store = FakeNotifications({BOB.user_id: off})
    event = event_of(_body("ticket.created", ticket, actor=f"user:{ANN.user_id}"))
    assert record_event(_deps(FakeTickets(ticket), store), event) == 1
    assert [user for (_, user, _) in store.written] == [CARL.user_id]


# -- live chat: the answer bot first, then the team ------------------------------------------


@pytest.mark.parametrize("kind", ["ticket.created", "message.received"])
def test_a_chat_the_answer_bot_still_handles_tells_no_one_of_its_questions(kind):
    facts = TicketFacts(None, merged=False, with_bot=True)
    assert who_is_told(_event(kind, "system:chat"), facts, TEAM) == {}


def test_a_chat_handed_to_the_team_tells_everyone_while_it_is_nobodys():
    event = _event("ticket.updated", "bot", changes=("handoff", "status"))
    told = who_is_told(event, TicketFacts(None, merged=False), TEAM)
    assert told == dict.fromkeys((ANN.user_id, BOB.user_id, CARL.user_id), NEW)


def test_a_chat_handed_to_the_team_tells_only_its_assignee_when_it_has_one():
    event = _event("ticket.updated", "system:chat", changes=("handoff",))
    told = who_is_told(event, TicketFacts(CARL.user_id, merged=False), TEAM)
    assert told == {CARL.user_id: NEW}


def test_a_chat_with_the_team_tells_of_the_visitors_messages_like_mail():
    facts = TicketFacts(None, merged=False, with_bot=False)
    told = who_is_told(_event("message.received", "system:chat"), facts, TEAM)
    assert set(told.values()) == {REPLY} and len(told) == 3


def test_recording_tells_no_one_of_a_chat_with_the_bot_then_everyone_of_its_hand_off():
    with_bot = _ticket(channel=Channel.CHAT, status=TicketStatus.PENDING)
    store = FakeNotifications()
    opened = event_of(_body("ticket.created", with_bot, actor="system:chat"))
    assert record_event(_deps(FakeTickets(with_bot), store), opened) == 0
    handed = dataclasses.replace(with_bot, status=TicketStatus.OPEN, revision=2)
    event = event_of(_body("ticket.updated", handed, actor="bot", changes=["handoff", "status"]))
    assert record_event(_deps(FakeTickets(handed), store), event) == 3
    assert {n.kind for (n, _) in store.written.values()} == {NEW}
