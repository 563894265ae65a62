"""The booking-jobs worker and the reminders schedule on the emulator: a queued job makes the
contact, the ticket and the mails (each with its .ics) once, however often it is delivered;
the reminders schedule, fired twice at the same time and once late as
`python -m devstack fire booking_reminders_job --time ...` fires it, mails each reminder
once; the contact's page lists the booking, for its own workspace only."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app import app
from chalicelib import bootstrap
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    EventType,
    HostMode,
    Invitee,
    Location,
    LocationKind,
    Question,
)
from chalicelib.booking.ports import BookingJob
from chalicelib.booking.store_port import BookingCommit
from chalicelib.ids import new_id
from devstack.pump import EventPump
from tests.calendar_fakes import calendar_fakes, calendar_fakes_server
from tests.integration.conftest import drain_mail_queue

__all__ = ["calendar_fakes", "calendar_fakes_server"]  # fixtures used by name


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _booked(owner: dict, start: datetime) -> Booking:
    """An event type that opens tickets and a confirmed booking of it, as the core stores them."""
    from chalicelib.store.booking_repo import DynamoBookingStore

    store = DynamoBookingStore()
    ws, host = owner["workspace"]["id"], owner["user"]["id"]
    event_type = EventType(
        workspace_id=ws,
        id=new_id(),
        slug="demo",
        title="Product demo",
        description="",
        description_html="",
        durations=[30],
        location=Location(LocationKind.LINK, "https://meet.example.test/acme"),
        host_mode=HostMode.ONE,
        host_ids=[host],
        time_zone="Europe/Paris",
        questions=[Question(id="company", label="Company")],
        opens_ticket=True,
    )
    store.create_event_type(event_type)
    booking = Booking(
        workspace_id=ws,
        id=new_id(),
        event_type_id=event_type.id,
        event_type_slug=event_type.slug,
        title=event_type.title,
        host_ids=[host],
        start=start,
        end=start + timedelta(minutes=30),
        buffer_before=0,
        buffer_after=0,
        invitee=Invitee("Carla Diaz", "carla@customer.test", "Europe/Paris", "fr"),
        answers={"company": "Diaz & Fils"},
        status=BookingStatus.CONFIRMED,
        location=event_type.location,
        created_at=datetime.now(UTC),
    )
    return store.commit_booking(BookingCommit(booking, None))


def _sent(fake_mailgun, kind: str) -> list:
    return [m for m in fake_mailgun.messages if kind in (m.one("v:helptal-mail-id") or "")]


def test_a_booking_job_makes_the_contact_ticket_and_mails_once_and_reminders_go_once(
    api, pump, fake_mailgun
):
    owner = api.sign_up()
    other = api.sign_up(workspace="Other Co", email="olga@other.test", name="Olga")
    drain_mail_queue()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    booking = _booked(owner, start)
    job = BookingJob(booking.workspace_id, booking.id, "created", booking.sequence)

    for _ in range(2):  # delivered twice
        bootstrap.booking_jobs_queue().enqueue(job)
        pump.drain(["booking_jobs_worker"])
        pump.drain(["mail_out_worker", "search_indexer"])

    confirmations = _sent(fake_mailgun, ":created:")
    assert sorted(m.all("to")[0] for m in confirmations) == [
        "ann@acme.test",
        "carla@customer.test",
    ]
    for message in confirmations:
        [attachment] = message.attachments
        assert attachment.filename == "invite.ics"
        calendar = Calendar.from_ical(attachment.content)
        [event] = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == f"{booking.id}@helptal"
        assert event.decoded("DTSTART") == start
    [invitee_mail] = [m for m in confirmations if m.all("to") == ["carla@customer.test"]]
    assert "/book/manage/" in (invitee_mail.one("text") or "")
    assert "https://meet.example.test/acme" in (invitee_mail.one("text") or "")

    stored = bootstrap.booking_sync_deps().mails.store.get_booking(booking.workspace_id, booking.id)
    assert stored is not None and stored.contact_id and stored.ticket_id
    token = owner["token"]
    status, ticket, _ = api.request("GET", f"/v1/tickets/{stored.ticket_id}", token=token)
    assert status == 200 and ticket["channel"] == "booking"
    assert "Company: Diaz & Fils" in ticket["messages"][0]["text"]
    status, tickets, _ = api.request("GET", "/v1/tickets", token=token)
    assert [t["id"] for t in tickets["tickets"] if t["channel"] == "booking"] == [ticket["id"]]
    status, contact, _ = api.request("GET", f"/v1/contacts/{stored.contact_id}", token=token)
    assert status == 200
    assert [(b["id"], b["title"], b["status"]) for b in contact["bookings"]] == [
        (booking.id, "Product demo", "confirmed")
    ]
    status, _, _ = api.request("GET", f"/v1/contacts/{stored.contact_id}", token=other["token"])
    assert status == 404

    # The hour-before reminder: fired twice at the same time, then once late.
    due = start - timedelta(minutes=59)
    for at in (due, due, due + timedelta(minutes=20)):
        pump.fire("booking_reminders_job", at.timestamp())
    pump.drain(["mail_out_worker"])

    reminders = Counter(m.one("v:helptal-mail-id") for m in _sent(fake_mailgun, ":reminder:"))
    assert reminders == Counter(
        {
            f"booking:{booking.id}:0:reminder:60:invitee": 1,
            f"booking:{booking.id}:0:reminder:60:host-{owner['user']['id']}": 1,
        }
    )
    # Once the meeting has started, nothing more is sent.
    pump.fire("booking_reminders_job", (start + timedelta(minutes=1)).timestamp())
    pump.drain(["mail_out_worker"])
    assert len(_sent(fake_mailgun, ":reminder:")) == 2


def test_a_cancelled_booking_mails_a_cancel_and_its_reminders_never_go(api, pump, fake_mailgun):
    from dataclasses import replace

    from chalicelib.store.booking_repo import DynamoBookingStore

    owner = api.sign_up()
    drain_mail_queue()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    booking = _booked(owner, start)
    queue = bootstrap.booking_jobs_queue()
    queue.enqueue(BookingJob(booking.workspace_id, booking.id, "created", 0))
    pump.drain(["booking_jobs_worker"])
    cancelled = DynamoBookingStore().commit_booking(
        BookingCommit(
            replace(booking, status=BookingStatus.CANCELLED, sequence=1, cancel_reason="Ill"),
            booking.version,
        )
    )
    queue.enqueue(BookingJob(booking.workspace_id, booking.id, "cancelled", cancelled.sequence))
    queue.enqueue(BookingJob(booking.workspace_id, booking.id, "created", 0))  # outdated
    pump.drain(["booking_jobs_worker"])
    pump.fire("booking_reminders_job", (start - timedelta(minutes=59)).timestamp())
    pump.drain(["mail_out_worker"])

    cancels = _sent(fake_mailgun, ":cancelled:")
    assert len(cancels) == 2
    for message in cancels:
        [attachment] = message.attachments
        calendar = Calendar.from_ical(attachment.content)
        [event] = calendar.walk("VEVENT")
        assert (str(calendar["METHOD"]), int(event["SEQUENCE"])) == ("CANCEL", 1)
    assert _sent(fake_mailgun, ":reminder:") == []


def test_every_aws_call_of_the_booking_functions_is_allowed_by_their_roles(
    api, pump, fake_mailgun, monkeypatch
):
    """The booking-jobs worker and the reminders schedule, each run as its own function with
    every AWS call recorded and checked against its role (infra.iam)."""
    import contextvars
    from typing import Any

    from botocore.client import BaseClient

    from chalicelib.settings import get_settings
    from infra.describe import describe_event_sources
    from infra.iam import function_policies
    from tests.integration.test_function_roles_cover_their_calls import _allowed, _needs

    owner = api.sign_up()
    drain_mail_queue()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    booking = _booked(owner, start)
    bootstrap.booking_jobs_queue().enqueue(
        BookingJob(booking.workspace_id, booking.id, "created", 0)
    )

    function: contextvars.ContextVar[str | None] = contextvars.ContextVar("fn", default=None)
    calls: list[tuple[str, str, str]] = []
    original = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        name = function.get()
        if name is not None:
            service = client.meta.service_model.service_name
            calls.extend((name, a, arn) for a, arn in _needs(service, operation, params))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    for subscription in [*pump.queues, *pump.schedules]:

        def as_function(event: Any, context: Any, _h=subscription.handler, _n=subscription.name):
            token = function.set(_n)
            try:
                return _h(event, context)
            finally:
                function.reset(token)

        monkeypatch.setattr(subscription, "handler", as_function)

    pump.drain(["booking_jobs_worker"])
    pump.fire("booking_reminders_job", (start - timedelta(minutes=59)).timestamp())
    pump.drain(["mail_out_worker"])

    assert {"booking_jobs_worker", "booking_reminders_job"} <= {c[0] for c in calls}
    assert len(_sent(fake_mailgun, ":reminder:")) == 2
    policies = function_policies(get_settings(), describe_event_sources(app))
    refused = sorted({c for c in calls if not _allowed(policies[c[0]], c[1], c[2])})
    assert refused == []


def test_a_zoom_booking_gets_one_meeting_through_a_zoom_outage_and_loses_it_when_cancelled(
    api, pump, fake_mailgun, calendar_fakes, monkeypatch
):
    """The real Zoom adapter against the local Zoom stand-in: a 503 fails the job, the queue
    retries it, and the booking still gets exactly one meeting; a cancellation deletes it."""
    from dataclasses import replace

    from chalicelib.settings import reload_settings
    from chalicelib.store.booking_repo import DynamoBookingStore

    for name, value in calendar_fakes.env().items():
        monkeypatch.setenv(name, value)
    reload_settings()
    bootstrap.zoom_meetings.cache_clear()
    try:
        owner = api.sign_up()
        drain_mail_queue()
        start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
        booking = _booked(owner, start)
        store = DynamoBookingStore()
        booking = store.commit_booking(
            BookingCommit(replace(booking, location=Location(LocationKind.ZOOM)), booking.version)
        )
        calendar_fakes.zoom.fail_next(503)
        queue = bootstrap.booking_jobs_queue()
        queue.enqueue(BookingJob(booking.workspace_id, booking.id, "created", 0))
        for _ in range(3):
            pump.drain(["booking_jobs_worker"])
        pump.drain(["mail_out_worker"])

        [meeting] = calendar_fakes.zoom.meetings.values()
        stored = store.get_booking(booking.workspace_id, booking.id)
        assert stored is not None and stored.meeting is not None
        assert stored.meeting.join_url == meeting["join_url"]
        [invitee_mail] = [
            m for m in _sent(fake_mailgun, ":created:") if m.all("to") == ["carla@customer.test"]
        ]
        assert meeting["join_url"] in (invitee_mail.one("text") or "")

        cancelled = store.commit_booking(
            BookingCommit(
                replace(stored, status=BookingStatus.CANCELLED, sequence=1), stored.version
            )
        )
        queue.enqueue(BookingJob(booking.workspace_id, booking.id, "cancelled", cancelled.sequence))
        pump.drain(["booking_jobs_worker"])

        assert calendar_fakes.zoom.meetings == {}
    finally:
        monkeypatch.undo()
        reload_settings()
        bootstrap.zoom_meetings.cache_clear()


def test_a_job_cut_short_after_opening_the_ticket_opens_no_second_one(
    api, pump, fake_mailgun, monkeypatch
):
    from chalicelib.store.booking_repo import DynamoBookingStore

    owner = api.sign_up()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    booking = _booked(owner, start)
    job = BookingJob(booking.workspace_id, booking.id, "created", booking.sequence)
    recording = DynamoBookingStore.record_outside

    def crash_once(self, *args, **kwargs):  # the worker dies before it records the ticket
        monkeypatch.setattr(DynamoBookingStore, "record_outside", recording)
        raise RuntimeError("worker stopped")

    monkeypatch.setattr(DynamoBookingStore, "record_outside", crash_once)
    bootstrap.booking_jobs_queue().enqueue(job)
    pump.drain(["booking_jobs_worker"])  # fails: the message stays for a retry
    bootstrap.booking_jobs_queue().enqueue(job)  # (as SQS would deliver it again)
    pump.drain(["booking_jobs_worker"])

    status, tickets, _ = api.request("GET", "/v1/tickets", token=owner["token"])
    assert status == 200
    opened = [t for t in tickets["tickets"] if t["channel"] == "booking"]
    assert len(opened) == 1
    stored = bootstrap.booking_sync_deps().mails.store.get_booking(booking.workspace_id, booking.id)
    assert stored is not None and stored.ticket_id == opened[0]["id"]
