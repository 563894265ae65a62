"""Someone's address erased from other people's tickets (chalicelib/privacy/mentions.py)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.privacy.erasure import ERASED
from chalicelib.privacy.mentions import (
    erased_activity,
    erased_json,
    erased_message,
    erased_ticket,
    takes_part,
    without_address,
)
from chalicelib.tickets.model import (
    Activity,
    Channel,
    ChatContext,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)

CARLA = "carla@customer.test"
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _ticket(**fields: object) -> Ticket:
    base = Ticket(
        id="T1",
        workspace_id="W1",
        number=7,
        subject="Invoice question",
        requester_id="C-BOB",
        requester_email="bob@partner.test",
        requester_name="Bob",
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
    return replace(base, **fields)  # type: ignore[arg-type]


def _message(**fields: object) -> Message:
    base = Message(
        id="M1",
        ticket_id="T1",
        workspace_id="W1",
        kind=MessageKind.CUSTOMER,
        author="contact:C-BOB",
        from_address="bob@partner.test",
        to=["acme@in.helptal.test"],
        cc=[],
        subject="Invoice question",
        text="Hello",
        html=None,
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=[],
        delivery=DeliveryStatus.RECEIVED,
        created_at=NOW,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Ask {CARLA}.", f"Ask {ERASED}."),
        ("Ask Carla@Customer.TEST, please", f"Ask {ERASED}, please"),
        (f'<a href="mailto:{CARLA}">{CARLA}</a>', f'<a href="mailto:{ERASED}">{ERASED}</a>'),
        (f"&lt;{CARLA}&gt;", f"&lt;{ERASED}&gt;"),
        (f"x{CARLA}", f"x{CARLA}"),  # another address that ends like hers
        (f"{CARLA}ing", f"{CARLA}ing"),
        (f"{CARLA}.uk", f"{CARLA}.uk"),
        (f"a.{CARLA}", f"a.{CARLA}"),
        (f"{CARLA}-{CARLA}", f"{CARLA}-{CARLA}"),
        ("carla at customer dot test", "carla at customer dot test"),
        ("", ""),
    ],
)
def test_an_address_is_replaced_whole_and_in_any_case_never_inside_another(text, expected):
    assert without_address(text, CARLA) == expected


AL = "al@x.test"
# "al@x.test" is the end of each of these other people's addresses (every character but
# the `@` and `.` is one an address may hold before it).
OTHERS_ENDING_LIKE_AL = [
    f"{c}{AL}" for c in ("h", "é", "o'", "d`", "x!", "x#", "x$", "x&", "x*", "x^", "x{", "x|", "x~")
] + ["a.al@x.test", "x+al@x.test", "x-al@x.test", "x_al@x.test", "x%al@x.test"]


@pytest.mark.parametrize(
    ("text", "address", "expected"),
    [
        *[(f"To: {other}, please", AL, f"To: {other}, please") for other in OTHERS_ENDING_LIKE_AL],
        ("al@x.test.evil al@x.testing al@x.test-x al@x.test_x", AL, None),  # longer domains
        ("al+tag@x.test", AL, None),  # a sub-address is another address
        (f"'{AL}' or `{AL}` or |{AL}|", AL, f"'{ERASED}' or `{ERASED}` or |{ERASED}|"),
        (
            f"https://x.test/u/{AL}?email={AL}&cc={AL}",
            AL,
            f"https://x.test/u/{ERASED}?email={ERASED}&cc={ERASED}",
        ),
        ("Mail O'Brien@X.test now", "o'brien@x.test", f"Mail {ERASED} now"),
        ("al+tag@x.test and al@x.test", "al+tag@x.test", f"{ERASED} and {AL}"),
        ("a.l@x.test and axl@x.test", "a.l@x.test", f"{ERASED} and axl@x.test"),  # `.` literal
        ("x(al)?@x.test (al)?@x.test", "(al)?@x.test", f"x(al)?@x.test {ERASED}"),
        # The same address written in another Unicode form (decomposed: e + combining mark).
        (unicodedata.normalize("NFD", "Zoë@x.test"), "zoë@x.test", ERASED),
        ("zoe@x.test", "zoë@x.test", None),
        ("ÅL@X.TEST", "ål@x.test", ERASED),
    ],
)
def test_an_address_is_never_erased_inside_another_persons_address(
    text: str, address: str, expected: str | None
) -> None:
    assert without_address(text, address) == (text if expected is None else expected)


def test_every_field_of_a_message_that_shows_text_or_addresses_loses_the_address():
    message = _message(
        from_address=CARLA,
        to=[CARLA, "acme@in.helptal.test"],
        cc=["CARLA@customer.test"],
        subject=f"From {CARLA}",
        text=f"I am {CARLA}",
        html=f"<p>I am {CARLA}</p>",
        quoted_text=f"> {CARLA} wrote",
        original_text=f"Bonjour {CARLA}",
        delivery_detail=f"550 {CARLA}: no such user",
        chat=ChatContext(page_url=f"https://acme.test/?email={CARLA}", language="fr"),
    )

    erased = erased_message(message, CARLA)

    assert erased is not None
    assert CARLA not in repr(erased).lower()
    assert erased.to == [ERASED, "acme@in.helptal.test"] and erased.cc == [ERASED]
    assert erased.text == f"I am {ERASED}" and erased.chat is not None
    assert erased.chat.language == "fr"


def test_a_message_or_ticket_that_does_not_name_the_address_is_left_alone():
    assert erased_message(_message(text="carla@customer.testing"), CARLA) is None
    assert erased_ticket(_ticket(cc=["dan@partner.test"]), CARLA) is None
    assert (
        erased_activity(Activity("A", "T1", "system", "status", "open", "closed", NOW), CARLA)
        is None
    )
    assert erased_json(json.dumps({"summary": "Bob asks"}), CARLA) is None


def test_a_tickets_cc_drops_the_address_so_that_no_reply_is_copied_to_it():
    ticket = _ticket(cc=["dan@partner.test", "Carla@customer.test"], subject=f"Re: {CARLA}")

    erased = erased_ticket(ticket, CARLA)

    assert erased is not None
    assert erased.cc == ["dan@partner.test"] and erased.subject == f"Re: {ERASED}"


def test_a_subject_change_and_an_ai_result_lose_the_address():
    entry = Activity("A", "T1", "user:U1", "subject", f"From {CARLA}", "Forwarded", NOW)
    assert erased_activity(entry, CARLA) == replace(entry, before=f"From {ERASED}")
    payload = json.dumps({"summary": f"Loop in {CARLA}", "tags": [CARLA, "billing"], "n": 2})
    assert json.loads(erased_json(payload, CARLA) or "") == {
        "summary": f"Loop in {ERASED}",
        "tags": [ERASED, "billing"],
        "n": 2,
    }


@pytest.mark.parametrize(
    ("ticket", "messages", "expected"),
    [
        (_ticket(cc=[CARLA]), [], True),
        (_ticket(), [_message(cc=["Carla@Customer.test"])], True),
        (_ticket(), [_message(to=[CARLA], kind=MessageKind.REPLY)], True),
        (_ticket(), [_message(from_address=CARLA)], True),
        (_ticket(), [_message(cc=[CARLA], kind=MessageKind.NOTE)], False),  # the team's
        (_ticket(), [_message(text=f"Ask {CARLA}")], False),  # named, not a participant
    ],
)
def test_someone_takes_part_in_a_ticket_they_are_copied_on_or_wrote_to(ticket, messages, expected):
    assert takes_part(ticket, messages, CARLA) is expected
