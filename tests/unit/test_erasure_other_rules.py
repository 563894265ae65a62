"""The rules of the erasure's bookings, mail, queues and contact phases that need no table:
which queue messages name the person, the sweep of queues (against an in-memory SQS that
keeps visibility and receive counts), the anonymised booking, the erased recipients and
the contact's search terms."""

from __future__ import annotations

import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.privacy.erasure import ERASED, Subject
from chalicelib.store.erasure_other import (
    ERASED_ADDRESS,
    QueueMessageJudge,
    QueuesErasure,
    anonymised_booking_core,
    contact_terms,
    erased_recipients,
)
from chalicelib.tickets.contacts import search_terms

WS = "01HWORKSPACE0000000000000A"
OTHER_WS = "01HWORKSPACE0000000000000B"
CONTACT = "01HCONTACT00000000000000ZQ"
TICKET = "01HTICKET000000000000000ZQ"
ZELDA = "zelda@subject.test"
SUBJECT = Subject(WS, ZELDA, CONTACT, (TICKET,))


def _mail(to: list[str], workspace_id: str = WS, **extra: Any) -> str:
    return json.dumps({"workspace_id": workspace_id, "to": to, "subject": "Hi", **extra})


@pytest.mark.parametrize(
    ("body", "names_her"),
    [
        (_mail([ZELDA]), True),
        (_mail(['"Zelda Q" <Zelda@Subject.TEST>']), True),
        (_mail(["otto@other.test"], cc=[ZELDA]), True),
        (json.dumps({"type": "ticket.created", "workspace_id": WS, "ticket_id": TICKET}), True),
        (json.dumps({"workspace_id": WS, "contact_id": CONTACT.lower()}), True),
        # Whose a message is only shows in its JSON's workspace id: none, none of hers.
        (f"plain text from {ZELDA.upper()}.", False),
        (json.dumps({"to": [ZELDA]}), False),
        (json.dumps({"workspace_id": None, "to": [ZELDA]}), False),
        (json.dumps([WS, ZELDA]), False),
        (_mail(["o'" + ZELDA]), False),  # another address with hers at its end
        (_mail(["x!" + ZELDA]), False),
        (json.dumps({"workspace_id": WS, "to": ["é" + ZELDA]}, ensure_ascii=False), False),
        (_mail(["é" + ZELDA]), False),
        (_mail([f"'{ZELDA}'"]), True),
        (_mail(["x" + ZELDA]), False),  # another address with hers inside
        (_mail([ZELDA + "s"]), False),
        (_mail([ZELDA.replace("@", "@mail.")]), False),
        (_mail([ZELDA], workspace_id=OTHER_WS), False),  # another workspace's mail to her
        (json.dumps({"kind": "erasure", "workspace_id": WS, "erasure_id": "e", "x": ZELDA}), False),
        ('not json "kind": "erasure" ' + ZELDA, False),
        (_mail(["otto@other.test"], text='she wrote "kind": "erasure" from ' + ZELDA), True),
        (json.dumps({"workspace_id": WS, "ticket_id": TICKET + "X"}), False),
        (_mail(["otto@other.test"]), False),
    ],
)
def test_a_queue_message_is_hers_when_it_names_her_address_contact_or_ticket(body, names_her):
    assert QueueMessageJudge(SUBJECT).names_subject(body) is names_her


def test_an_address_outside_ascii_is_found_also_json_escaped() -> None:
    subject = Subject(WS, "zoé@subject.test", None)
    judge = QueueMessageJudge(subject)
    assert judge.names_subject(json.dumps({"workspace_id": WS, "to": ["Zoé@subject.test"]}))
    decomposed = unicodedata.normalize("NFD", "Zoé@subject.test")
    assert judge.names_subject(json.dumps({"workspace_id": WS, "to": [decomposed]}))
    assert not judge.names_subject(json.dumps({"workspace_id": WS, "to": ["zoe@subject.test"]}))


# -- the sweep, against an in-memory SQS ----------------------------------------------------


@dataclass
class FakeMessage:
    id: str
    body: str
    visible_at: float = 0.0
    receives: int = 0
    handle: str = ""


@dataclass
class FakeSqs:
    """Standard queues as far as the sweep sees them: receives return visible messages in
    order and hide them for the visibility timeout; the newest receipt handle counts."""

    queues: dict[str, list[FakeMessage]] = field(default_factory=dict)
    now: float = 0.0
    counter: Any = field(default_factory=itertools.count)

    def add(self, queue: str, *bodies: str) -> None:
        for body in bodies:
            self.queues.setdefault(queue, []).append(FakeMessage(f"m{next(self.counter)}", body))

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        if QueueName not in self.queues:
            error = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue"}}
            raise ClientError(error, "GetQueueUrl")
        return {"QueueUrl": QueueName}

    def receive_message(
        self, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int, VisibilityTimeout: int
    ) -> dict[str, Any]:
        assert WaitTimeSeconds == 0 and MaxNumberOfMessages <= 10
        taken = [m for m in self.queues[QueueUrl] if m.visible_at <= self.now]
        taken = taken[:MaxNumberOfMessages]
        for message in taken:
            message.visible_at = self.now + VisibilityTimeout
            message.receives += 1
            message.handle = f"{message.id}/{message.receives}"
        return {
            "Messages": [
                {"MessageId": m.id, "ReceiptHandle": m.handle, "Body": m.body} for m in taken
            ]
        }

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:
        self.add(QueueUrl, MessageBody)
        return {"MessageId": self.queues[QueueUrl][-1].id}

    def _by_handle(self, url: str, handle: str) -> FakeMessage | None:
        return next((m for m in self.queues[url] if m.handle == handle), None)

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        done = []
        for entry in Entries:
            message = self._by_handle(QueueUrl, entry["ReceiptHandle"])
            if message is not None:
                self.queues[QueueUrl].remove(message)
                done.append({"Id": entry["Id"]})
        return {"Successful": done}

    def change_message_visibility_batch(
        self, QueueUrl: str, Entries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        for entry in Entries:
            message = self._by_handle(QueueUrl, entry["ReceiptHandle"])
            if message is not None:
                message.visible_at = self.now + entry["VisibilityTimeout"]
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    def bodies(self, queue: str) -> list[str]:
        return [m.body for m in self.queues[queue]]


def _sweep(phase: QueuesErasure, sqs: FakeSqs | None = None) -> tuple[int, list[str | None]]:
    deleted, cursors, cursor = 0, [], None
    for _ in range(200):
        step = phase.step(SUBJECT, cursor)
        deleted += step.counts["queue_messages"]
        cursor = step.cursor
        cursors.append(cursor)
        if sqs is not None:
            sqs.now += 1  # a step takes a moment
        if cursor is None:
            return deleted, cursors
    raise AssertionError("the sweep did not finish")


def _others(count: int, start: int = 0) -> list[str]:
    return [_mail([f"customer{n}@other.test"]) for n in range(start, start + count)]


def test_the_sweep_deletes_her_messages_and_puts_every_other_back_at_once():
    sqs = FakeSqs()
    erasure_job = json.dumps({"kind": "erasure", "workspace_id": WS, "erasure_id": "e1"})
    sqs.add("mail-out", *_others(12), _mail([ZELDA]), *_others(13, 12), erasure_job)
    sqs.add("mail-out-dlq", _mail(["otto@other.test"], cc=[ZELDA]), _mail([ZELDA], OTHER_WS))
    sqs.add("events", json.dumps({"workspace_id": WS, "ticket_id": TICKET}))
    sqs.add("events-dlq")
    phase = QueuesErasure(lambda: sqs, ["mail-out", "mail-out-dlq", "events", "events-dlq"])
    deleted, cursors = _sweep(phase)
    assert deleted == 3
    assert len(cursors) == 4  # one step per queue
    assert sqs.bodies("mail-out") == [*_others(25), erasure_job]
    assert sqs.bodies("mail-out-dlq") == [_mail([ZELDA], OTHER_WS)]
    assert sqs.bodies("events") == []
    kept = [m for queue in sqs.queues.values() for m in queue]
    assert all(m.visible_at <= sqs.now for m in kept)  # receivable now
    assert {m.receives for m in kept} == {1}  # once: the sweep moves nothing to a DLQ
    assert _sweep(QueuesErasure(lambda: sqs, list(sqs.queues)))[0] == 0


def test_a_reply_to_someone_else_that_copies_her_still_goes_to_them_without_her():
    from chalicelib.mail.outbound import OutboundMail

    def reply(to: list[str], cc: list[str], text: str, **extra: Any) -> str:
        return OutboundMail(
            mail_id=f"reply-{to[0]}",
            workspace_id=WS,
            purpose="ticket_reply",
            from_name="Acme",
            to=to,
            cc=cc,
            subject="Your invoice",
            text=text,
            html=f"<p>{text}</p>",
            **extra,
        ).to_json()

    to_otto = reply(["otto@other.test"], ["Zelda <Zelda@Subject.test>"], f"Copying {ZELDA}.")
    to_her = reply([ZELDA], ["otto@other.test"], "Hello Zelda.")
    on_her_ticket = reply(["otto@other.test"], [], "Hi", ticket_id=TICKET)
    sqs = FakeSqs()
    sqs.add("mail-out", to_otto, to_her, on_her_ticket)

    deleted, _ = _sweep(QueuesErasure(lambda: sqs, ["mail-out"]), sqs)

    assert deleted == 3
    [kept] = [OutboundMail.from_json(body) for body in sqs.bodies("mail-out")]
    assert (kept.mail_id, kept.to, kept.cc) == ("reply-otto@other.test", ["otto@other.test"], [])
    assert kept.text == f"Copying {ERASED}." and ZELDA not in kept.html.lower()
    assert not QueueMessageJudge(SUBJECT).names_subject(sqs.bodies("mail-out")[0])


def test_a_backlog_larger_than_a_step_is_swept_over_several_steps_of_the_same_queue():
    sqs = FakeSqs()
    sqs.add("events", *_others(45), _mail([ZELDA]), *_others(10, 45))
    phase = QueuesErasure(lambda: sqs, ["events"], receives_per_step=2, hold_seconds=30)
    deleted, cursors = _sweep(phase, sqs)
    assert deleted == 1
    assert len(cursors) > 3 and [json.loads(c)["q"] for c in cursors[:-1]] == [0] * (
        len(cursors) - 1
    )
    assert sqs.bodies("events") == _others(55)
    sqs.now += 30
    assert all(m.visible_at <= sqs.now for m in sqs.queues["events"])


def test_a_sweep_stops_at_its_bound_and_moves_to_the_next_queue():
    sqs = FakeSqs()
    sqs.add("events", *_others(80))
    sqs.add("events-dlq", _mail([ZELDA]))
    phase = QueuesErasure(lambda: sqs, ["events", "events-dlq"], max_receives=3)
    assert _sweep(phase)[0] == 1
    assert len(sqs.bodies("events")) == 80 and all(
        m.visible_at <= sqs.now for m in sqs.queues["events"]
    )


def test_a_queue_that_does_not_exist_is_passed_over():
    sqs = FakeSqs()
    sqs.add("events", _mail([ZELDA]))
    phase = QueuesErasure(lambda: sqs, ["gone", "gone-dlq", "events"])
    assert _sweep(phase)[0] == 1


def test_a_cursor_that_is_not_the_phases_starts_the_sweep_again():
    sqs = FakeSqs()
    sqs.add("events", _mail([ZELDA]))
    step = QueuesErasure(lambda: sqs, ["events"]).step(SUBJECT, "not json")
    assert step.counts == {"queue_messages": 1}


# -- bookings, mail, contact ---------------------------------------------------------------


def test_an_anonymised_booking_keeps_its_times_and_loses_what_the_invitee_gave():
    core = {
        "id": "b1",
        "start": "2026-05-01T10:00:00+00:00",
        "end": "2026-05-01T10:30:00+00:00",
        "host_ids": ["u1"],
        "title": "Product demo",
        "invitee": {"name": "Zelda Q", "email": ZELDA, "time_zone": "Europe/Paris", "locale": "fr"},
        "answers": {"phone": "+33 6 12", "topic": "Zelda's question"},
        "cancel_reason": "Zelda is ill",
        "cancelled_by": "invitee",
        "location": {"kind": "phone", "value": "+1 555 0100"},
    }
    anonymised = anonymised_booking_core(core)
    assert anonymised["invitee"] == {
        "name": ERASED,
        "email": ERASED_ADDRESS,
        "time_zone": "Europe/Paris",
        "locale": "fr",
    }
    assert anonymised["answers"] == {"phone": ERASED, "topic": ERASED}
    assert anonymised["cancel_reason"] == ERASED
    kept = ("id", "start", "end", "host_ids", "title", "cancelled_by", "location")
    assert {k: anonymised[k] for k in kept} == {k: core[k] for k in kept}
    assert anonymised_booking_core(anonymised) == anonymised  # a second pass changes nothing
    assert core["invitee"]["email"] == ZELDA  # the original is left as it was


def test_a_booking_without_a_reason_gets_none():
    assert "cancel_reason" not in anonymised_booking_core({"invitee": {}, "answers": {}})
    assert anonymised_booking_core({"cancel_reason": ""})["cancel_reason"] == ""


@pytest.mark.parametrize(
    ("recipients", "erased"),
    [
        ([ZELDA], [ERASED]),
        (['"Zelda" <Zelda@Subject.Test>'], [ERASED]),
        ([" ZELDA@subject.test ", "otto@other.test"], [ERASED, "otto@other.test"]),
        (["otto@other.test"], None),
        (["x" + ZELDA], None),
        ([ERASED], None),  # done already: nothing to change
        ([], None),
    ],
)
def test_mail_records_lose_her_address_only(recipients, erased):
    assert erased_recipients(recipients, ZELDA) == erased


def test_the_contacts_terms_are_those_the_directory_wrote_for_each_name_it_had():
    written = search_terms(ZELDA, "Zelda Anne-Marie Quartermain")
    assert set(written) == {ZELDA, "anne", "marie", "quartermain"}  # "zelda" starts her address
    both = contact_terms([ZELDA], ["Zelda Anne-Marie Quartermain", "Zelda Quinn"])
    assert both == {*written, "quinn"}
    assert contact_terms([ZELDA], []) == {ZELDA}
    assert "elodie" in contact_terms([ZELDA], ["Élodie"])
