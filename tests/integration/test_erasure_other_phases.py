"""The erasure's bookings, mail, exports, queues and contact phases on the emulator.

A workspace holds Zelda (the subject) and Otto (someone else) side by side in every class
these phases cover: bookings (one through her contact with reminders and a job due item,
one by her address only, cancelled with her reason), outbound mail records (queued and
sent), held and unrouted mail with raw copies, her sender-rate counter and a forwarding
claim on her address, exports (hers, Otto's, the workspace's bundle), queue messages (in
queues and dead-letter queues, more than one receive's worth) and the contact directory.
Another workspace has a contact with her address.  The phases are stepped to the end once
for the module; then a scan of the table, a listing of the bucket and a read of every
queue find nothing of her (but a queued text that says of no workspace whose it is: it may
be another workspace's), Otto's data is intact, and stepping again counts zero."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    EventType,
    HostMode,
    Invitee,
    Location,
    LocationKind,
)
from chalicelib.booking.ports import BookingJob
from chalicelib.booking.reminders import reminders_for
from chalicelib.booking.store_port import BookingCommit
from chalicelib.ids import new_id
from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.privacy.erasure import ERASED, ErasurePhase, Subject
from chalicelib.privacy.exports import Export, ExportScope, ExportStatus, export_key
from chalicelib.settings import get_settings
from chalicelib.store import keys
from chalicelib.store.booking_repo import DynamoBookingStore
from chalicelib.store.contacts_repo import DynamoContactDirectory
from chalicelib.store.erasure_other import (
    ERASED_ADDRESS,
    BookingsErasure,
    ContactErasure,
    ExportsErasure,
    MailErasure,
    QueuesErasure,
)
from chalicelib.store.mailbox_repo import DynamoMailboxStore
from chalicelib.store.models import ForwardingClaimItem
from chalicelib.store.outbox import DynamoMailLog
from chalicelib.store.privacy_export_repo import DynamoExports
from chalicelib.store.reminders_repo import DynamoReminderStore
from chalicelib.store.tickets_repo import DynamoTicketStore
from chalicelib.tickets.mailbox import HeldMail
from chalicelib.tickets.model import Contact
from tests.conftest import _empty_bucket, _empty_queue, _empty_table

NOW = datetime.now(UTC).replace(microsecond=0)
ZELDA = "zelda.quartermain@subject.test"
OTTO = "otto.keep@other.test"
HOST = "hana.host@acme.test"
MARK = "zelda"  # in her address, her name and every text of hers


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class World:
    workspace_id: str
    other_workspace_id: str
    subject: Subject
    otto: Contact
    bookings: dict[str, Booking]
    exports: dict[str, str]
    phases: list[ErasurePhase]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    again: dict[str, dict[str, int]] = field(default_factory=dict)


def _event_type(workspace_id: str) -> EventType:
    return EventType(
        workspace_id=workspace_id,
        id=new_id(),
        slug="demo",
        title="Product demo",
        description="",
        description_html="",
        durations=[30],
        location=Location(LocationKind.PHONE),
        host_mode=HostMode.ONE,
        host_ids=["host-1"],
        time_zone="Europe/Paris",
        reminders=[1440, 60, 15],
        created_at=NOW,
        updated_at=NOW,
    )


def _book(
    event_type: EventType,
    name: str,
    email: str,
    *,
    days: int,
    contact_id: str | None,
    status: BookingStatus = BookingStatus.CONFIRMED,
    reason: str = "",
) -> Booking:
    store = DynamoBookingStore()
    start = NOW + timedelta(days=days)
    booking = Booking(
        workspace_id=event_type.workspace_id,
        id=new_id(),
        event_type_id=event_type.id,
        event_type_slug=event_type.slug,
        title=event_type.title,
        host_ids=["host-1"],
        start=start,
        end=start + timedelta(minutes=30),
        buffer_before=0,
        buffer_after=0,
        invitee=Invitee(name, email, "Europe/Paris", "fr"),
        answers={"phone": f"+33 6 {days:02d} {name}", "topic": f"{name}'s pricing question"},
        status=status,
        location=event_type.location,
        cancel_reason=reason,
        created_at=NOW,
        updated_at=NOW,
    )
    job = BookingJob(booking.workspace_id, booking.id, "created", 0)
    store.commit_booking(BookingCommit(booking, None, job=job))
    if contact_id is not None:
        assert store.record_outside(
            booking.workspace_id,
            booking.id,
            sequence=0,
            meeting=None,
            calendar_events=[],
            contact_id=contact_id,
            ticket_id=None,
        )
    DynamoReminderStore().schedule(reminders_for(booking, event_type, NOW))
    log = DynamoMailLog(Clock())
    for reader, to in (("host-1", HOST), ("invitee", email)):
        log.record_queued(
            OutboundMail(
                mail_id=f"booking:{booking.id}:0:created:{reader}",
                workspace_id=booking.workspace_id,
                purpose="booking",
                from_name="Acme",
                to=[to],
                subject=f"New booking: {name}, {event_type.title}",
                text=f"{name} booked",
                html="",
            )
        )
    return booking


def _mail(workspace_id: str, to: str, subject: str, sent: bool = False) -> OutboundMail:
    mail = OutboundMail(
        mail_id=new_id(),
        workspace_id=workspace_id,
        purpose="ticket_reply",
        from_name="Acme",
        to=[to],
        subject=subject,
        text=f"Hello, about {subject}",
        html="",
    )
    log = DynamoMailLog(Clock())
    log.record_queued(mail)
    if sent:
        log.mark_sent(workspace_id, mail.mail_id, "provider-1")
    return mail


def _raw(key: str, sender: str, text: str) -> str:
    bootstrap.blob_store().put(key, f"From: {sender}\r\n\r\n{text}".encode(), "message/rfc822")
    return key


def _seed_mail(workspace_id: str, other_workspace_id: str) -> None:
    _mail(workspace_id, ZELDA, "Re: Zelda's refund")
    _mail(workspace_id, "Zelda <Zelda.Quartermain@Subject.test>", "Zelda's order", sent=True)
    _mail(workspace_id, OTTO, "Re: Otto's refund")
    _mail(other_workspace_id, ZELDA, "Zelda elsewhere")
    mailbox = DynamoMailboxStore()
    hour = int(NOW.timestamp()) // 3600
    for sender in (ZELDA, OTTO):
        mailbox.count_sender(workspace_id, sender, hour)
        mailbox.count_sender(workspace_id, sender, hour - 1)
        name = sender.split(".")[0]
        raw = _raw(f"inbound/held/{new_id()}", sender, f"{name} writes too often")
        mailbox.hold(
            HeldMail(new_id(), workspace_id, sender, f"{name}'s 21st mail", raw, "sender_rate", NOW)
        )
        for days in (0, 10):
            raw = _raw(f"inbound/unrouted/{new_id()}", sender, f"{name} lost a mail")
            mailbox.record_unrouted("nobody@in.helptal.test", sender, raw, NOW - timedelta(days))
    ForwardingClaimItem(
        keys.workspace_pk(workspace_id),
        keys.forwarding_claim_sk(ZELDA),
        address=ZELDA,
        nonce="n",
        requested_at=NOW,
        sent_at=NOW,
    ).save()


def _export(
    workspace_id: str, scope: ExportScope, email: str | None, contact_id: str | None
) -> str:
    export = Export(
        id=new_id(),
        workspace_id=workspace_id,
        scope=scope,
        requested_by="user:ann",
        requested_at=NOW,
        contact_email=email,
        contact_id=contact_id,
        status=ExportStatus.READY,
        object_key=None,
        built_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )
    key = export_key(workspace_id, export.id)
    DynamoExports().add(replace(export, object_key=key))
    bootstrap.blob_store().put(key, f"bundle of {email or 'everyone: zelda, otto'}".encode(), "x")
    return export.id


def _queue_url(name: str) -> str:
    sqs = bootstrap.sqs_client()
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _send(name: str, body: dict[str, Any] | str) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    bootstrap.sqs_client().send_message(QueueUrl=_queue_url(name), MessageBody=text)


def _seed_queues(world: World, ticket_id: str) -> None:
    queues = get_settings().queues
    ws, other = world.workspace_id, world.other_workspace_id
    mail = {"workspace_id": ws, "purpose": "ticket_reply", "subject": "Re: your refund"}
    _send(queues.mail_out, {**mail, "to": ["Zelda.Quartermain@subject.TEST"]})
    _send(queues.mail_out, {**mail, "to": [OTTO]})
    _send(queues.mail_out, {**mail, "to": ["x" + ZELDA]})  # another address around hers
    _send(queues.mail_out, {**mail, "workspace_id": other, "to": [ZELDA]})
    _send(f"{queues.mail_out}-dlq", {**mail, "to": [OTTO], "cc": [ZELDA]})
    _send(f"{queues.events}-dlq", {"type": "ticket.created", "workspace_id": ws, "id": ticket_id})
    for n in range(14):
        _send(queues.events, {"type": "message.received", "workspace_id": ws, "n": n})
    _send(
        queues.events, {"type": "contact.seen", "workspace_id": ws, "c": world.subject.contact_id}
    )
    _send(queues.privacy_jobs, {"kind": "erasure", "workspace_id": ws, "erasure_id": new_id()})
    # Says of no workspace whose it is: kept (it may be another workspace's).
    _send(queues.booking_jobs, f"plain text naming {ZELDA.upper()}")


def _run(phase: ErasurePhase, subject: Subject) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    cursor: str | None = None
    for steps in range(1, 500):
        done = phase.step(subject, cursor)
        for name, value in done.counts.items():
            counts[name] = counts.get(name, 0) + value
        if done.cursor is None:
            return counts, steps
        cursor = done.cursor
    raise AssertionError(f"{phase.name} did not finish")


@pytest.fixture(scope="module")
def world(aws: Any) -> Iterator[World]:
    _empty_table(aws.client("dynamodb"), aws.table_name)
    _empty_bucket(aws.client("s3"), aws.bucket)
    sqs = aws.client("sqs")
    for queue_url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        _empty_queue(sqs, queue_url)
    ws, other = new_id(), new_id()
    tickets = DynamoTicketStore()
    zelda = Contact(new_id(), ws, ZELDA, "Zelda Anne-Marie Quartermain", NOW)
    otto = Contact(new_id(), ws, OTTO, "Otto Keep", NOW)
    namesake = Contact(new_id(), other, ZELDA, "Zelda Elsewhere", NOW)
    for contact in (zelda, otto, namesake):
        tickets.create_contact(contact)
    event_type = _event_type(ws)
    DynamoBookingStore().create_event_type(event_type)
    other_type = _event_type(other)
    DynamoBookingStore().create_event_type(other_type)
    bookings = {
        "zelda": _book(event_type, "Zelda Quartermain", ZELDA, days=3, contact_id=zelda.id),
        "zelda_by_address": _book(
            event_type,
            "Zelda Q.",
            "Zelda.Quartermain@subject.test",
            days=4,
            contact_id=None,
            status=BookingStatus.CANCELLED,
            reason="Zelda's cat is ill",
        ),
        "otto": _book(event_type, "Otto Keep", OTTO, days=5, contact_id=otto.id),
        "namesake": _book(other_type, "Zelda Elsewhere", ZELDA, days=3, contact_id=namesake.id),
    }
    _seed_mail(ws, other)
    exports = {
        "zelda": _export(ws, ExportScope.CONTACT, ZELDA, zelda.id),
        "otto": _export(ws, ExportScope.CONTACT, OTTO, otto.id),
        "workspace": _export(ws, ExportScope.WORKSPACE, None, None),
        "namesake": _export(other, ExportScope.CONTACT, ZELDA, namesake.id),
    }
    ticket_id = new_id()
    subject = Subject(ws, ZELDA, zelda.id, (ticket_id,))
    phases: list[ErasurePhase] = [
        BookingsErasure(),
        MailErasure(bootstrap.blob_store(), Clock()),
        ExportsErasure(bootstrap.blob_store()),
        QueuesErasure(bootstrap.sqs_client),
        ContactErasure(),
    ]
    found = World(ws, other, subject, otto, bookings, exports, phases)
    _seed_queues(found, ticket_id)
    for phase in phases:
        found.counts[phase.name], found.steps[phase.name] = _run(phase, subject)
    for phase in phases:
        found.again[phase.name], _ = _run(phase, subject)
    yield found


# -- what the table, the bucket and the queues hold afterwards ------------------------------


def _scan(aws: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=aws.table_name):
        items += page.get("Items", [])
    return items


def _read_queue(url: str) -> list[str]:
    """Every message's body, each received once and then made visible again."""
    sqs = bootstrap.sqs_client()
    seen: dict[str, str] = {}
    handles = []
    empty = 0
    while empty < 2:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=20
        ).get("Messages", [])
        empty = 0 if batch else empty + 1
        for message in batch:
            seen[message["MessageId"]] = message["Body"]
            handles.append(message["ReceiptHandle"])
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return list(seen.values())


def _all_queues() -> dict[str, list[str]]:
    names = get_settings().queues.all().values()
    return {q: _read_queue(_queue_url(q)) for name in names for q in (name, f"{name}-dlq")}


def test_the_table_holds_nothing_of_the_subject_in_her_workspace(world, aws):
    held = [
        item
        for item in _scan(aws)
        if MARK in json.dumps(item).lower() and world.other_workspace_id not in json.dumps(item)
    ]
    assert held == []


def test_the_bucket_holds_nothing_of_the_subject(world, aws):
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])
    theirs = [
        entry["Key"]
        for entry in listed
        if MARK in s3.get_object(Bucket=aws.bucket, Key=entry["Key"])["Body"].read().decode()
        and world.other_workspace_id not in entry["Key"]
    ]
    assert theirs == []
    kept = {entry["Key"] for entry in listed}
    assert export_key(world.workspace_id, world.exports["otto"]) in kept
    otto_raw = [
        key
        for key in kept
        if key.startswith("inbound/")
        and b"otto" in s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
    ]
    assert len(otto_raw) == 3  # held once, unrouted twice


def test_the_queues_hold_nothing_of_the_subject_and_every_other_message_is_receivable(world, aws):
    queues = _all_queues()
    names = get_settings().queues
    naming = [
        body
        for bodies in queues.values()
        for body in bodies
        if MARK in body.lower()
        and world.other_workspace_id not in body
        and "x" + ZELDA not in body  # someone else's address, hers inside it
    ]
    assert naming == [f"plain text naming {ZELDA.upper()}"]  # of no known workspace
    assert len(queues[names.events]) == 14
    mail_out = [json.loads(body)["to"] for body in queues[names.mail_out]]
    assert sorted(mail_out) == sorted([[OTTO], ["x" + ZELDA], [ZELDA]])
    assert [json.loads(b)["kind"] for b in queues[names.privacy_jobs]] == ["erasure"]
    assert queues[f"{names.mail_out}-dlq"] == [] and queues[f"{names.events}-dlq"] == []


def test_each_phase_counts_what_it_changed(world):
    assert world.counts == {
        "bookings": {"bookings": 2, "reminders": 3, "outbound_mail": 4},
        "mail": {"outbound_mail": 2, "held_mail": 3, "raw_mail": 3},
        "exports": {"exports": 2},
        "queues": {"queue_messages": 4},
        "contact": {"contact": 1},
    }


def test_stepping_the_phases_again_counts_zero(world):
    assert {name: sum(counts.values()) for name, counts in world.again.items()} == {
        "bookings": 0,
        "mail": 0,
        "exports": 0,
        "queues": 0,
        "contact": 0,
    }


def test_her_bookings_keep_their_times_and_hold_nothing_of_her(world):
    store = DynamoBookingStore()
    for name in ("zelda", "zelda_by_address"):
        before = world.bookings[name]
        after = store.get_booking(world.workspace_id, before.id)
        assert after is not None
        assert (after.start, after.end, after.status, after.host_ids) == (
            before.start,
            before.end,
            before.status,
            before.host_ids,
        )
        assert (after.invitee.name, after.invitee.email) == (ERASED, ERASED_ADDRESS)
        assert set(after.answers.values()) == {ERASED}
        assert after.sequence == before.sequence + 1  # her waiting job and reminders: stale
    assert store.get_booking(world.workspace_id, world.bookings["zelda"].id).cancel_reason == ""
    assert (
        store.get_booking(world.workspace_id, world.bookings["zelda_by_address"].id).cancel_reason
        == ERASED
    )
    assert store.bookings_of_contact(world.workspace_id, world.subject.contact_id or "", 10) == []


def test_other_bookings_their_reminders_and_jobs_are_untouched(world, aws):
    store = DynamoBookingStore()
    for name, workspace_id in (
        ("otto", world.workspace_id),
        ("namesake", world.other_workspace_id),
    ):
        before = world.bookings[name]
        after = store.get_booking(workspace_id, before.id)
        assert after is not None
        assert (after.invitee, after.answers, after.sequence) == (
            before.invitee,
            before.answers,
            before.sequence,
        )
    assert [b.id for b in store.bookings_of_contact(world.workspace_id, world.otto.id, 10)] == [
        world.bookings["otto"].id
    ]
    items = _scan(aws)
    reminders = [i for i in items if i["PK"]["S"].startswith("BKREMIND#")]
    jobs = [i for i in items if i["PK"]["S"].startswith("BKJOBDUE#")]
    otto, namesake = world.bookings["otto"].id, world.bookings["namesake"].id
    assert sorted({i["booking_id"]["S"] for i in reminders}) == sorted({otto, namesake})
    assert len(reminders) == 6
    assert sorted(i["booking_id"]["S"] for i in jobs) == sorted([otto, namesake])


def test_mail_to_her_is_anonymised_and_never_sent_while_others_mail_stays(world, aws):
    records = [
        i
        for i in _scan(aws)
        if i["SK"]["S"].startswith("MAIL#") and i["PK"]["S"] == f"WS#{world.workspace_id}"
    ]
    by_subject = {r["subject"]["S"]: r for r in records}
    assert set(by_subject) == {
        ERASED,
        "Re: Otto's refund",
        "New booking: Otto Keep, Product demo",
    }
    erased = sorted(
        (r["to"]["L"][0]["S"], r["status"]["S"]) for r in records if r["subject"]["S"] == ERASED
    )
    assert erased == [
        (ERASED, MailStatus.FAILED.value),  # queued to her: never to be sent
        (ERASED, MailStatus.FAILED.value),  # her booking's
        (ERASED, MailStatus.FAILED.value),  # her other booking's
        (ERASED, MailStatus.SENT.value),
        (HOST, MailStatus.FAILED.value),  # to the host, about her booking
        (HOST, MailStatus.FAILED.value),
    ]
    assert by_subject["Re: Otto's refund"]["status"]["S"] == MailStatus.QUEUED.value
    assert by_subject["New booking: Otto Keep, Product demo"]["status"]["S"] == "queued"
    kinds = [i["kind"]["S"] for i in _scan(aws) if i["PK"]["S"] == f"WS#{world.workspace_id}"]
    assert (kinds.count("held_mail"), kinds.count("sender_rate")) == (1, 2)  # Otto's
    assert "forwarding_claim" not in kinds
    unrouted = [i for i in _scan(aws) if i["PK"]["S"].startswith("UNROUTED#")]
    assert sorted(i["sender"]["S"] for i in unrouted) == [OTTO, OTTO]


def test_exports_that_held_her_read_expired_and_others_stay_ready(world):
    exports = DynamoExports()
    now = datetime.now(UTC)
    mine = exports.get(world.workspace_id, world.exports["zelda"])
    assert mine is not None and mine.contact_email is None and mine.contact_id is None
    assert mine.status_at(now) is ExportStatus.EXPIRED
    whole = exports.get(world.workspace_id, world.exports["workspace"])
    assert whole is not None and whole.status_at(now) is ExportStatus.EXPIRED
    ottos = exports.get(world.workspace_id, world.exports["otto"])
    assert ottos is not None and ottos.status_at(now) is ExportStatus.READY
    assert ottos.contact_email == OTTO
    theirs = exports.get(world.other_workspace_id, world.exports["namesake"])
    assert theirs is not None and theirs.status_at(now) is ExportStatus.READY


def test_her_contact_is_gone_from_the_directory_and_others_are_found(world):
    directory = DynamoContactDirectory()
    tickets = DynamoTicketStore()
    assert tickets.find_contact_by_email(world.workspace_id, ZELDA) is None
    for q in ("zelda", "anne", "marie", "quartermain", "subject"):
        assert directory.search(world.workspace_id, q, None, 10).contacts == [], q
    assert [c.email for c in directory.search(world.workspace_id, "otto", None, 10).contacts] == [
        OTTO
    ]
    assert tickets.find_contact_by_email(world.other_workspace_id, ZELDA) is not None
    assert [c.name for c in directory.search(world.other_workspace_id, "zelda", None, 10).contacts]


def test_the_phases_finish_in_few_steps(world):
    assert world.steps["contact"] == 1
    assert world.steps["exports"] == 1
    assert world.steps["bookings"] <= 4
    assert world.steps["mail"] <= 6  # records, held, counters, 33 days of unrouted
    assert world.steps["queues"] == len(get_settings().queues.all()) * 2  # one per queue
