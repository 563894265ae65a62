"""The search index's terms of a ticket: copied addresses are searchable, every subject a
ticket ever had is known for its removal, and the term of a whole address."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

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
from chalicelib.tickets.search import address_term, terms_ever_posted, ticket_terms

NOW = datetime(2026, 11, 30, tzinfo=UTC)
TICKET = Ticket(
    id="T1",
    workspace_id="W1",
    number=42,
    subject="Broken printer",
    requester_id="C1",
    requester_email="bob@partner.test",
    requester_name="Bob Stone",
    cc=["cleo@agency.test"],
    status=TicketStatus.OPEN,
    priority=Priority.NORMAL,
    assignee_id=None,
    tags=[],
    channel=Channel.EMAIL,
    created_at=NOW,
    updated_at=NOW,
    last_activity_at=NOW,
)
MESSAGE = Message(
    id="M1",
    ticket_id="T1",
    workspace_id="W1",
    kind=MessageKind.CUSTOMER,
    author="contact:C1",
    from_address="bob@partner.test",
    to=["acme@in.helptal.test"],
    cc=["dora@partner.test"],
    subject="Broken printer",
    text="The toner leaks",
    html=None,
    quoted_text=None,
    message_id=None,
    in_reply_to=[],
    references=[],
    attachments=[],
    delivery=DeliveryStatus.RECEIVED,
    created_at=NOW,
)


def test_a_ticket_is_found_by_the_addresses_it_and_its_messages_copy():
    found = ticket_terms(TICKET, [MESSAGE])

    assert {"cleo@agency.test", "dora@partner.test", "acme@in.helptal.test"} <= set(found)
    assert {"printer", "toner", "bob@partner.test", "bob", "stone", "42"} <= set(found)


def test_a_long_message_does_not_crowd_its_copied_addresses_out_of_the_index():
    wordy = replace(MESSAGE, text=" ".join(f"word{i}" for i in range(400)))

    assert "dora@partner.test" in ticket_terms(TICKET, [wordy])


def test_the_terms_ever_posted_include_each_subject_the_ticket_had():
    renamed = Activity("A1", "T1", "user:U1", "subject", "Printer on fire", "Broken printer", NOW)
    status = Activity("A2", "T1", "user:U1", "status", "new", "open", NOW)

    found = terms_ever_posted(TICKET, [MESSAGE], [renamed, status])

    assert {"fire", "printer", "toner"} <= set(found) and "new" not in found
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("address", "term"),
    [
        ("carla@customer.test", "carla@customer.test"),
        ("Carla@Customer.TEST", "carla@customer.test"),
        (" josé@café.test ", "jose@cafe.test"),
        ("someone.with.a.rather.long.name@subdomain.example-customer.test", None),
        ("o'brien@customer.test", None),  # not one word: its words are searched instead
    ],
)
def test_a_whole_address_is_one_term_unless_too_long_or_not_one_word(address, term):
    assert address_term(address) == term
