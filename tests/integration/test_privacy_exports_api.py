"""Data-subject exports on the emulator: a workspace whose contact Carol mailed twice (one
mail with an attachment, both kept raw in S3), chatted (and told the answer bot it helped),
booked a meeting and has AI triage on her tickets; another contact and another workspace
(with a Carol of its own) beside her.  An owner asks for Carol's export through the API, the
privacy-jobs worker builds it, and the ZIP downloaded through the presigned link holds every
class of her data and nothing of the others.  Then the workspace scope, the log, and hostile
requests (a 4xx, nothing recorded) as a case table.

The data is written through the stores' own write methods (what the mail, chat, booking and
AI flows call), once for the module."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.ai.model import AiResult, ResultKind, ResultStatus
from chalicelib.booking.model import Booking, BookingStatus, Invitee, Location, LocationKind
from chalicelib.booking.store_port import BookingCommit
from chalicelib.ids import new_id
from chalicelib.store.ai_repo import DynamoAiStore
from chalicelib.store.booking_repo import DynamoBookingStore
from chalicelib.store.tickets_repo import DynamoTicketStore
from chalicelib.tickets.model import (
    Activity,
    AttachmentRef,
    Channel,
    ChatContext,
    Contact,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)
from devstack.pump import EventPump
from tests.conftest import _empty_bucket, _empty_queue, _empty_table
from tests.integration.conftest import Api, accept_invitation, invite
from tests.stages import TEST_STAGE

NOW = datetime.now(UTC).replace(microsecond=0)
CAROL = "carol@customer.test"
PDF = b"%PDF-1.4 Carol's invoice"


def _contact(workspace_id: str, email: str, name: str) -> Contact:
    return Contact(new_id(), workspace_id, email, name, NOW)


def _ticket(workspace_id: str, contact: Contact, number: int, channel: Channel) -> Ticket:
    return Ticket(
        id=new_id(),
        workspace_id=workspace_id,
        number=number,
        subject=f"{contact.name}: question {number}",
        requester_id=contact.id,
        requester_email=contact.email,
        requester_name=contact.name,
        cc=[],
        status=TicketStatus.OPEN,
        priority=Priority.NORMAL,
        assignee_id=None,
        tags=[],
        channel=channel,
        created_at=NOW,
        updated_at=NOW,
        last_activity_at=NOW,
    )


def _message(ticket: Ticket, text: str, kind: MessageKind, **extra: Any) -> Message:
    customer = kind is MessageKind.CUSTOMER
    return Message(
        id=extra.pop("id", None) or new_id(),
        ticket_id=ticket.id,
        workspace_id=ticket.workspace_id,
        kind=kind,
        author=f"contact:{ticket.requester_id}" if customer else "system",
        from_address=ticket.requester_email if customer else None,
        to=[],
        cc=[],
        subject=ticket.subject,
        text=text,
        html=None,
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=extra.pop("attachments", []),
        delivery=DeliveryStatus.RECEIVED if customer else DeliveryStatus.NOT_SENT,
        created_at=NOW,
        **extra,
    )


def _mailed(ticket: Ticket, text: str, attachment: bytes | None = None) -> Message:
    """A mail from the requester, kept raw under inbound/ (and its attachment)."""
    blobs = bootstrap.blob_store()
    message_id = new_id()
    raw_key = f"inbound/{NOW:%Y/%m/%d}/{message_id}"
    blobs.put(raw_key, f"From: {ticket.requester_email}\r\n\r\n{text}".encode(), "message/rfc822")
    attachments = []
    if attachment is not None:
        key = f"ws/{ticket.workspace_id}/attachments/{message_id}-1"
        blobs.put(key, attachment, "application/pdf")
        attachments.append(
            AttachmentRef(new_id(), "invoice.pdf", "application/pdf", len(attachment), key)
        )
    return _message(
        ticket,
        text,
        MessageKind.CUSTOMER,
        id=message_id,
        attachments=attachments,
        raw_s3_key=raw_key,
        sender_verified=True,
    )


def _add(store: DynamoTicketStore, ticket: Ticket, message: Message, *activity: Activity) -> Ticket:
    after = replace(ticket, revision=ticket.revision + 1)
    store.save_ticket(ticket, after, list(activity), message=message)
    return after


def _booked(workspace_id: str, contact: Contact, title: str) -> None:
    bookings = DynamoBookingStore()
    booking = Booking(
        workspace_id=workspace_id,
        id=new_id(),
        event_type_id=new_id(),
        event_type_slug="demo",
        title=title,
        host_ids=[new_id()],
        start=NOW + timedelta(days=3),
        end=NOW + timedelta(days=3, minutes=30),
        buffer_before=0,
        buffer_after=0,
        invitee=Invitee(contact.name, contact.email, "Europe/Paris", "fr"),
        answers={"company": f"{contact.name} Ltd"},
        status=BookingStatus.CONFIRMED,
        location=Location(LocationKind.ZOOM),
        created_at=NOW,
        updated_at=NOW,
    )
    bookings.commit_booking(BookingCommit(booking, None))
    assert bookings.record_outside(
        workspace_id,
        booking.id,
        sequence=0,
        meeting=None,
        calendar_events=[],
        contact_id=contact.id,
        ticket_id=None,
    )


def _triaged(ticket: Ticket, category: str) -> None:
    DynamoAiStore().put_result(
        AiResult(
            workspace_id=ticket.workspace_id,
            ticket_id=ticket.id,
            kind=ResultKind.TRIAGE,
            key="",
            status=ResultStatus.READY,
            requested_by="system",
            requested_at=NOW,
            payload={"category": category, "priority": "normal"},
            completed_at=NOW,
        )
    )


def _seed(workspace_id: str, other_workspace_id: str) -> None:
    store = DynamoTicketStore()
    carol = _contact(workspace_id, CAROL, "Carol Diaz")
    first = _ticket(workspace_id, carol, 1, Channel.EMAIL)
    store.create_ticket(first, _mailed(first, "My invoice is wrong", PDF), [], carol)
    first = _add(store, first, _message(first, "Carol is a VIP, be gentle", MessageKind.NOTE))
    second = _ticket(workspace_id, carol, 2, Channel.EMAIL)
    store.create_ticket(second, _mailed(second, "And my address changed"), [], None)
    chat = _ticket(workspace_id, carol, 3, Channel.CHAT)
    context = ChatContext(page_url="https://acme.test/pricing", language="fr-FR")
    store.create_ticket(
        chat,
        _message(chat, "Is there a yearly price?", MessageKind.CUSTOMER, chat=context),
        [],
        None,
    )
    answer = _message(chat, "Yes: two months free.", MessageKind.BOT)
    helped = Activity(
        new_id(), chat.id, f"contact:{carol.id}", "bot_feedback", answer.id, "helped", NOW
    )
    _add(store, chat, answer, helped)
    _triaged(first, "billing")
    _booked(workspace_id, carol, "Product demo with Carol")

    dan = _contact(workspace_id, "dan@other.test", "Dan Other")
    dans = _ticket(workspace_id, dan, 4, Channel.EMAIL)
    store.create_ticket(dans, _mailed(dans, "Dan's private matter", b"DAN'S FILE"), [], dan)
    _triaged(dans, "dan-category")
    _booked(workspace_id, dan, "Meeting with Dan")

    namesake = _contact(other_workspace_id, CAROL, "Carol Elsewhere")
    theirs = _ticket(other_workspace_id, namesake, 1, Channel.EMAIL)
    store.create_ticket(theirs, _mailed(theirs, "Text of the other workspace"), [], namesake)
    _booked(other_workspace_id, namesake, "Meeting of the other workspace")


@dataclass
class World:
    api: Api
    pump: EventPump
    owner: str
    agent: str
    other_owner: str
    workspace_id: str
    carol_export: dict[str, Any]
    workspace_export: dict[str, Any]

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        status, answer, _ = self.api.request(method, path, body, token=token)
        return status, answer

    def run_jobs(self) -> None:
        worker = next(q for q in self.pump.queues if q.name == "privacy_jobs_worker")
        while (outcome := self.pump.poll_queue(worker)).received:
            assert outcome.failed == 0, "the privacy-jobs worker failed a record"

    def export(self, body: dict[str, Any]) -> dict[str, Any]:
        status, asked = self.call("POST", "/v1/privacy/exports", self.owner, body)
        assert status == 202, asked
        assert (asked["status"], asked["progress"]["phase"]) == ("pending", "queued")
        self.run_jobs()
        status, ready = self.call("GET", f"/v1/privacy/exports/{asked['id']}", self.owner)
        assert status == 200, ready
        return dict(ready)


@pytest.fixture(scope="module")
def world(aws: Any) -> Iterator[World]:
    from app import app

    _empty_table(aws.client("dynamodb"), aws.table_name)
    _empty_bucket(aws.client("s3"), aws.bucket)
    sqs = aws.client("sqs")
    for queue_url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        _empty_queue(sqs, queue_url)
    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
        status, agent, _ = accept_invitation(
            api, invite(api, owner["token"], "bob@acme.test", "agent")
        )
        assert status == 200, agent
        other = api.sign_up(workspace="Globex Support", email="gus@globex.test")
        _seed(owner["workspace"]["id"], other["workspace"]["id"])
        found = World(
            api=api,
            pump=EventPump.from_app(app, wait_seconds=0),
            owner=owner["token"],
            agent=agent["token"],
            other_owner=other["token"],
            workspace_id=owner["workspace"]["id"],
            carol_export={},
            workspace_export={},
        )
        found.carol_export = found.export({"contact_email": "Carol@Customer.TEST"})
        found.workspace_export = found.export({"scope": "workspace"})
        yield found


def _download(export: dict[str, Any]) -> zipfile.ZipFile:
    assert export["status"] == "ready", export
    answer = requests.get(export["download_url"], timeout=10)
    assert answer.status_code == 200, answer.text
    return zipfile.ZipFile(io.BytesIO(answer.content))


def _everything(bundle: zipfile.ZipFile) -> str:
    return "\n".join(bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist())


def test_a_contacts_export_holds_every_class_of_their_data(world):
    export = world.carol_export
    assert export["counts"] == {
        "contact": 1,
        "tickets": 3,
        "cc_tickets": 0,
        "chats": 1,
        "messages": 4,
        "attachments": 1,
        "raw_mail": 2,
        "bookings": 1,
        "ai_results": 1,
        "feedback": 1,
    }
    assert export["progress"]["phase"] == "ready" and export["progress"]["tickets"] == 3
    expires = datetime.fromisoformat(export["expires_at"])
    assert expires - datetime.fromisoformat(export["built_at"]) == timedelta(days=30)
    link_ends = datetime.fromisoformat(export["download_expires_at"])
    assert timedelta(minutes=14) < link_ends - datetime.now(UTC) <= timedelta(minutes=15)
    bundle = _download(export)
    names = set(bundle.namelist())
    assert {"manifest.json", "contact.json", "bookings.json", "ai_results.json"} <= names
    assert {"feedback.json", "tickets/1.json", "tickets/2.json", "tickets/3.json"} <= names
    [attachment] = [n for n in names if n.startswith("attachments/1/")]
    assert bundle.read(attachment) == PDF
    raw = [bundle.read(n) for n in sorted(names) if n.startswith("raw_mail/")]
    assert len(raw) == 2 and all(CAROL.encode() in r for r in raw)
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["counts"] == export["counts"] and manifest["subject"]["email"] == CAROL
    assert manifest["requested_by"].startswith("user:")
    assert json.loads(bundle.read("contact.json"))["name"] == "Carol Diaz"
    chat = json.loads(bundle.read("tickets/3.json"))
    assert chat["ticket"]["channel"] == "chat"
    assert [m["text"] for m in chat["messages"]] == [
        "Is there a yearly price?",
        "Yes: two months free.",
    ]
    feedback = json.loads(bundle.read("feedback.json"))
    assert [f["verdict"] for f in feedback["chat_answers"]] == ["helped"]
    assert feedback["help_centre"]["attributable"] is False
    assert json.loads(bundle.read("ai_results.json"))[0]["output"]["category"] == "billing"
    assert json.loads(bundle.read("bookings.json"))[0]["title"] == "Product demo with Carol"


def test_a_contacts_export_holds_nothing_of_the_others_nor_the_teams_notes(world):
    everything = _everything(_download(world.carol_export))
    for foreign in (
        "Dan",
        "dan@other.test",
        "DAN'S FILE",
        "dan-category",
        "Carol Elsewhere",
        "other workspace",
        "VIP",
    ):
        assert foreign not in everything


def test_the_workspace_export_holds_every_class_of_the_workspaces_data(world):
    export = world.workspace_export
    assert export["scope"] == "workspace" and export["contact_email"] is None
    assert export["counts"] == {
        "contacts": 2,
        "tickets": 4,
        "chats": 1,
        "messages": 6,
        "attachments": 2,
        "raw_mail": 3,
        "bookings": 2,
        "ai_results": 2,
        "feedback": 1,
        "help_centre_articles": 0,
    }
    bundle = _download(export)
    contacts = json.loads(bundle.read("contacts.json"))
    assert sorted(c["email"] for c in contacts) == [CAROL, "dan@other.test"]
    files = [bundle.read(n) for n in bundle.namelist() if n.startswith("attachments/")]
    assert PDF in files and len(files) == 2
    assert len([n for n in bundle.namelist() if n.startswith("raw_mail/")]) == 3
    categories = {r["output"].get("category") for r in json.loads(bundle.read("ai_results.json"))}
    assert "billing" in categories
    feedback = json.loads(bundle.read("feedback.json"))
    assert [f["verdict"] for f in feedback["chat_answers"]] == ["helped"]
    assert feedback["help_centre_articles"] == []
    everything = _everything(bundle)
    assert "VIP" in everything and "other workspace" not in everything


def test_the_log_lists_who_asked_when_and_for_what(world):
    status, listed = world.call("GET", "/v1/privacy/exports", world.owner)
    assert status == 200, listed
    assert [(e["scope"], e["contact_email"]) for e in listed["exports"]] == [
        ("workspace", None),
        ("contact", CAROL),
    ]
    assert all(
        e["requested_by"].startswith("user:") and e["download_url"] is None
        for e in listed["exports"]
    )
    status, theirs = world.call("GET", "/v1/privacy/exports", world.other_owner)
    assert (status, theirs["exports"]) == (200, [])


def test_a_job_delivered_again_leaves_the_ready_export_as_it_was(world):
    export_id = world.carol_export["id"]
    bootstrap.privacy_jobs().send(world.workspace_id, export_id)
    world.run_jobs()
    status, again = world.call("GET", f"/v1/privacy/exports/{export_id}", world.owner)
    assert status == 200 and again["status"] == "ready"
    assert again["built_at"] == world.carol_export["built_at"]


CASES = [
    ("agent asks", "POST", "/v1/privacy/exports", "agent", {"contact_email": CAROL}, 403),
    ("agent reads the log", "GET", "/v1/privacy/exports", "agent", None, 403),
    ("no token", "POST", "/v1/privacy/exports", None, {"contact_email": CAROL}, 401),
    ("bad address", "POST", "/v1/privacy/exports", "owner", {"contact_email": "carol@"}, 422),
    ("address not text", "POST", "/v1/privacy/exports", "owner", {"contact_email": 7}, 422),
    ("no subject", "POST", "/v1/privacy/exports", "owner", {}, 422),
    ("unknown scope", "POST", "/v1/privacy/exports", "owner", {"scope": "everything"}, 422),
    (
        "both",
        "POST",
        "/v1/privacy/exports",
        "owner",
        {"scope": "workspace", "contact_email": CAROL},
        422,
    ),
    (
        "unknown field",
        "POST",
        "/v1/privacy/exports",
        "owner",
        {"contact_email": CAROL, "x": 1},
        422,
    ),
    ("not an object", "POST", "/v1/privacy/exports", "owner", "[1]", 400),
    (
        "unknown contact",
        "POST",
        "/v1/privacy/exports",
        "owner",
        {"contact_email": "no@one.test"},
        404,
    ),
    ("odd id", "GET", "/v1/privacy/exports/%3Cscript%3E", "owner", None, 404),
    ("unknown id", "GET", "/v1/privacy/exports/01JD3Y5Q6M8Z4XK2T9B7C1N0PA", "owner", None, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "who", "body", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_export_requests_get_a_json_error_and_record_nothing(
    world, method, path, who, body, expected
):
    token = {"owner": world.owner, "agent": world.agent, None: None}[who]
    status, answer = world.call(method, path, token, body)
    assert status == expected, answer
    assert set(answer["error"]) >= {"code", "message"}
    if expected == 404 and method == "POST":
        assert answer["error"]["code"] == "contact_not_found"
    _, listed = world.call("GET", "/v1/privacy/exports", world.owner)
    assert len(listed["exports"]) == 2


def test_another_workspaces_export_is_not_found(world):
    status, answer = world.call(
        "GET", f"/v1/privacy/exports/{world.carol_export['id']}", world.other_owner
    )
    assert (status, answer["error"]["code"]) == (404, "export_not_found")
