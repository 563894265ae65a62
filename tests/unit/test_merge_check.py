"""A merge cut short is finished by the system: a delayed merge check is queued before the
merge begins, and the check finishes a pending merge (and does nothing once it is done or
when none began).  Against in-memory fakes of the ticket store and the events queue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.ids import new_id
from chalicelib.tickets import merging
from chalicelib.tickets.deps import TicketDeps, TicketPolicy
from chalicelib.tickets.merge_record import MergeRecord, MergeStatus
from chalicelib.tickets.model import (
    Activity,
    Channel,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)
from chalicelib.tickets.ports import StaleTicket

WS = new_id()
ACTOR = "user:ann"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Crash(Exception):
    """Stands for the process dying (a Lambda timing out) between two steps of a merge."""


class FixedClock:
    def now(self) -> datetime:
        return NOW


class InMemoryTicketStore:
    """The merge part of the TicketStore port, with its conditions; `journal` is shared with
    the events fake so tests can see what happened in which order."""

    def __init__(self, journal: list[tuple[Any, ...]]) -> None:
        self.journal = journal
        self.tickets: dict[str, Ticket] = {}
        self.messages: dict[str, dict[str, Message]] = {}
        self.merges: dict[str, MergeRecord] = {}
        self.incoming: dict[str, int] = {}
        self.crash_in: set[str] = set()  # steps that raise Crash (once) before writing
        self.meanwhile: list[Any] = []  # changes made by others just before a begin (once)

    def _step(self, name: str) -> None:
        if name in self.crash_in:
            self.crash_in.discard(name)
            raise Crash(name)
        self.journal.append(("store", name))

    def get_ticket(self, workspace_id: str, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def list_messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        return sorted(self.messages.get(ticket_id, {}).values(), key=lambda m: m.id)[:limit]

    def get_merge(self, workspace_id: str, source_id: str) -> MergeRecord | None:
        return self.merges.get(source_id)

    def incoming_merges(self, workspace_id: str, ticket_id: str) -> int:
        return self.incoming.get(ticket_id, 0)

    def begin_merge(
        self,
        source_before: Ticket,
        source_after: Ticket,
        activity: list[Activity],
        target: Ticket,
        record: MergeRecord,
    ) -> None:
        while self.meanwhile:
            self.meanwhile.pop()()
        if (
            record.source_id in self.merges
            or self.tickets[source_before.id].revision != source_before.revision
            or self.incoming.get(source_before.id, 0)
            or self.tickets[target.id].merged_into
        ):
            raise StaleTicket()
        self._step("begin_merge")
        self.merges[record.source_id] = record
        self.tickets[source_after.id] = source_after
        self.incoming[target.id] = self.incoming.get(target.id, 0) + 1

    def merge_messages(self, source: Ticket, target: Ticket, messages: list[Message]) -> None:
        self._step("merge_messages")
        onto = self.messages.setdefault(target.id, {})
        for message in messages:
            onto[message.id] = dataclasses.replace(message, ticket_id=target.id)

    def finish_merge(
        self,
        target_before: Ticket,
        target_after: Ticket,
        activity: list[Activity],
        record: MergeRecord,
    ) -> None:
        if (
            self.tickets[target_before.id].revision != target_before.revision
            or self.merges[record.source_id].status is not MergeStatus.PENDING
        ):
            raise StaleTicket()
        self._step("finish_merge")
        self.tickets[target_after.id] = target_after
        self.merges[record.source_id] = record
        self.incoming[target_after.id] -= 1


class InMemoryEvents:
    """The events queue: what was published now, and what later (with its delay)."""

    def __init__(self, journal: list[tuple[Any, ...]]) -> None:
        self.journal = journal
        self.unavailable = False

    def publish(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> None:
        self.journal.append(("event", event_type, workspace_id, payload))

    def publish_later(
        self,
        event_type: str,
        workspace_id: str,
        payload: dict[str, object],
        delay_seconds: int,
    ) -> None:
        if self.unavailable:
            raise ServiceUnavailable("The queue is unavailable; try again.")
        self.journal.append(("delayed event", event_type, workspace_id, payload, delay_seconds))


@dataclasses.dataclass
class Helpdesk:
    deps: TicketDeps
    store: InMemoryTicketStore
    events: InMemoryEvents
    journal: list[tuple[Any, ...]]

    def open_ticket(self, email: str, messages: int) -> Ticket:
        ticket_id = new_id()
        ticket = Ticket(
            id=ticket_id,
            workspace_id=WS,
            number=len(self.store.tickets) + 1,
            subject="Help",
            requester_id=new_id(),
            requester_email=email,
            requester_name=email,
            cc=[],
            status=TicketStatus.OPEN,
            priority=Priority.NORMAL,
            assignee_id=None,
            tags=[],
            channel=Channel.EMAIL,
            created_at=NOW,
            updated_at=NOW,
            last_activity_at=NOW,
            message_count=messages,
        )
        self.store.tickets[ticket_id] = ticket
        self.store.messages[ticket_id] = {}
        for n in range(messages):
            message = Message(
                id=new_id(),
                ticket_id=ticket_id,
                workspace_id=WS,
                kind=MessageKind.CUSTOMER,
                author="contact:1",
                from_address=email,
                to=[],
                cc=[],
                subject="Help",
                text=f"message {n}",
                html=None,
                quoted_text=None,
                message_id=None,
                in_reply_to=[],
                references=[],
                attachments=[],
                delivery=DeliveryStatus.RECEIVED,
                created_at=NOW,
            )
            self.store.messages[ticket_id][message.id] = message
        return ticket

    def ticket(self, ticket_id: str) -> Ticket:
        return self.store.tickets[ticket_id]

    def message_ids(self, ticket_id: str) -> list[str]:
        return sorted(self.store.messages[ticket_id])

    def merge_checks(self) -> list[tuple[Any, ...]]:
        return [e for e in self.journal if e[0] == "delayed event"]


@pytest.fixture()
def helpdesk() -> Helpdesk:
    journal: list[tuple[Any, ...]] = []
    store = InMemoryTicketStore(journal)
    events = InMemoryEvents(journal)
    deps = TicketDeps(
        store=store,  # type: ignore[arg-type]  # the merge part of the port
        accounts=None,  # type: ignore[arg-type]
        clock=FixedClock(),
        outbox=None,  # type: ignore[arg-type]
        events=events,
        blobs=None,  # type: ignore[arg-type]
        policy=TicketPolicy(
            inbound_mail_domain="in.helptal.test",
            mail_domain="mg.helptal.test",
            reply_address_secret="secret",
        ),
        mailbox=None,  # type: ignore[arg-type]
        uploads=None,  # type: ignore[arg-type]
        files=None,  # type: ignore[arg-type]
    )
    return Helpdesk(deps, store, events, journal)


def _cut_short(helpdesk: Helpdesk, source: Ticket, target: Ticket, step: str) -> None:
    helpdesk.store.crash_in.add(step)
    with pytest.raises(Crash):
        merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)
    assert helpdesk.store.merges[source.id].status is MergeStatus.PENDING


def test_beginning_a_merge_queues_a_delayed_check_before_the_begin_transaction(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    helpdesk.store.crash_in.add("begin_merge")  # dies at the transaction: the check is out

    with pytest.raises(Crash):
        merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)

    [check] = helpdesk.merge_checks()
    _, event_type, workspace_id, payload, delay = check
    assert (event_type, workspace_id, payload["ticket_id"]) == ("ticket.merge_check", WS, source.id)
    assert delay == helpdesk.deps.policy.merge_check_delay_seconds == 300
    assert 29 < delay <= 900  # after any request that merges is over; within SQS's limit

    merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)
    steps = [e[0] if e[0] != "store" else e[1] for e in helpdesk.journal]
    assert steps.index("delayed event") < steps.index("begin_merge")


def test_a_merge_whose_check_cannot_be_queued_does_not_begin(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    helpdesk.events.unavailable = True

    with pytest.raises(ServiceUnavailable):
        merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)

    assert helpdesk.ticket(source.id).merged_into is None
    assert helpdesk.ticket(source.id).status is TicketStatus.OPEN
    assert source.id not in helpdesk.store.merges
    assert helpdesk.store.incoming_merges(WS, target.id) == 0


@pytest.mark.parametrize("step", ["merge_messages", "finish_merge"])
def test_the_check_finishes_a_merge_cut_short(helpdesk, step):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    both = sorted(helpdesk.message_ids(source.id) + helpdesk.message_ids(target.id))
    _cut_short(helpdesk, source, target, step)

    assert merging.check_merge(helpdesk.deps, WS, source.id) is True

    assert helpdesk.message_ids(target.id) == both
    merged = helpdesk.ticket(target.id)
    assert merged.message_count == 3
    assert "dan@customer.test" in merged.cc
    assert helpdesk.store.merges[source.id].status is MergeStatus.DONE
    assert helpdesk.store.incoming_merges(WS, target.id) == 0
    assert helpdesk.ticket(source.id).merged_into == target.id
    updated = {e[3]["ticket_id"] for e in helpdesk.journal if e[:2] == ("event", "ticket.updated")}
    assert updated == {source.id, target.id}


def test_a_check_delivered_again_after_the_merge_finished_does_nothing(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    _cut_short(helpdesk, source, target, "merge_messages")
    assert merging.check_merge(helpdesk.deps, WS, source.id) is True
    after_first = (helpdesk.ticket(target.id), helpdesk.message_ids(target.id))
    journal_length = len(helpdesk.journal)

    assert merging.check_merge(helpdesk.deps, WS, source.id) is False  # redelivered

    assert (helpdesk.ticket(target.id), helpdesk.message_ids(target.id)) == after_first
    assert len(helpdesk.journal) == journal_length  # no writes, no events


def test_the_check_of_a_merge_that_finished_on_its_own_does_nothing(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)
    merged = helpdesk.ticket(target.id)
    journal_length = len(helpdesk.journal)

    assert merging.check_merge(helpdesk.deps, WS, source.id) is False

    assert helpdesk.ticket(target.id) == merged and merged.message_count == 3
    assert len(helpdesk.journal) == journal_length


def test_the_check_of_a_merge_that_was_refused_does_nothing(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    # The check is queued, then the begin transaction is refused: the target got merged.
    merged_away = dataclasses.replace(target, merged_into=new_id(), revision=1)
    helpdesk.store.meanwhile.append(lambda: helpdesk.store.tickets.update({target.id: merged_away}))
    with pytest.raises(Conflict) as refused:
        merging.merge_tickets(helpdesk.deps, WS, source.id, target.id, ACTOR)
    assert refused.value.code == "target_merged"
    assert len(helpdesk.merge_checks()) == 1
    journal_length = len(helpdesk.journal)

    assert merging.check_merge(helpdesk.deps, WS, source.id) is False

    assert helpdesk.ticket(source.id) == source
    assert helpdesk.message_ids(target.id) == sorted(helpdesk.store.messages[target.id])
    assert len(helpdesk.journal) == journal_length


def test_a_check_that_fails_raises_and_a_later_delivery_finishes_the_merge(helpdesk):
    source = helpdesk.open_ticket("dan@customer.test", messages=2)
    target = helpdesk.open_ticket("carla@customer.test", messages=1)
    _cut_short(helpdesk, source, target, "merge_messages")
    helpdesk.store.crash_in.add("finish_merge")

    with pytest.raises(Crash):  # the worker's record fails: the queue delivers it again
        merging.check_merge(helpdesk.deps, WS, source.id)
    assert helpdesk.store.merges[source.id].status is MergeStatus.PENDING

    assert merging.check_merge(helpdesk.deps, WS, source.id) is True
    assert helpdesk.ticket(target.id).message_count == 3
    assert len(helpdesk.message_ids(target.id)) == 3
    assert helpdesk.store.incoming_merges(WS, target.id) == 0
