"""A booking whose job SQS refused still gets its mails, on the emulator: the booking's
transaction wrote the job as due, and the reminders schedule, fired 15 minutes later as
`python -m devstack fire booking_reminders_job --time ...` fires it, queues it again (once,
however often it fires); the worker runs it and deletes the due item.  A booking whose job
was queued and ran leaves nothing for the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.booking.job_outbox import DUE
from chalicelib.errors import ServiceUnavailable
from chalicelib.store.booking_jobs_queue import SqsBookingJobs
from devstack.pump import EventPump
from tests.integration.conftest import drain_mail_queue
from tests.integration.test_booking_api import book, workspace_with_event_type


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _start() -> datetime:
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _still_due(since: datetime) -> list:
    return bootstrap.booking_job_outbox().due(since, since + timedelta(hours=2), 100)


def _kept(ref: str) -> bool:
    from chalicelib.store.booking_job_outbox_repo import parse_ref
    from chalicelib.store.models import BookingJobDueItem

    key = parse_ref(ref)
    assert key is not None
    return BookingJobDueItem.count(key[0], BookingJobDueItem.sk == key[1]) == 1


def _created_mails(fake_mailgun, booking_id: str) -> list[str]:
    return sorted(
        m.all("to")[0]
        for m in fake_mailgun.messages
        if f"booking:{booking_id}:0:created:" in (m.one("v:helptal-mail-id") or "")
    )


def test_a_booking_whose_job_sqs_refused_is_queued_by_the_next_sweep_and_mailed(
    api, pump, fake_mailgun, monkeypatch
):
    owner, _ = workspace_with_event_type(api)
    drain_mail_queue()
    before = datetime.now(UTC) - timedelta(seconds=1)

    def refused(self, job):
        raise ServiceUnavailable("The queue is unavailable; try again.", code="queue_unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(SqsBookingJobs, "enqueue", refused)
        status, body, _ = book(api, owner, _start())
    assert status == 201, body  # the booking stands: only its job was not queued
    booking_id = body["booking"]["id"]
    assert pump.drain(["booking_jobs_worker"]) == 0
    [due] = _still_due(before)
    assert (due.job.booking_id, due.job.change, due.job.sequence) == (booking_id, "created", 0)
    assert due.job.workspace_id == owner["workspace"]["id"]

    # A tick five minutes later leaves it (its queueing may still be on its way).
    soon = pump.fire("booking_reminders_job", (before + timedelta(minutes=5)).timestamp())
    assert soon["jobs_requeued"] == 0
    assert pump.drain(["booking_jobs_worker"]) == 0

    later = before + timedelta(minutes=15)
    fired = [pump.fire("booking_reminders_job", later.timestamp()) for _ in range(2)]
    assert [f["jobs_requeued"] for f in fired] == [1, 0]  # queued again once

    assert pump.drain(["booking_jobs_worker"]) == 1
    pump.drain(["mail_out_worker"])
    assert _created_mails(fake_mailgun, booking_id) == ["ann@acme.test", "carol@customer.test"]
    assert not _kept(due.ref)  # the worker deleted it once the job ran
    stored = bootstrap.booking_deps().store.get_booking(owner["workspace"]["id"], booking_id)
    assert stored is not None and stored.contact_id  # the job linked the invitee's contact


def test_a_booking_whose_job_ran_leaves_nothing_for_the_sweep(api, pump, fake_mailgun):
    owner, _ = workspace_with_event_type(api)
    drain_mail_queue()
    before = datetime.now(UTC) - timedelta(seconds=1)
    status, body, _ = book(api, owner, _start())
    assert status == 201, body
    [due] = _still_due(before)
    assert due.job.extra[DUE] == due.ref and _kept(due.ref)

    assert pump.drain(["booking_jobs_worker"]) == 1
    assert not _kept(due.ref)
    fired = pump.fire("booking_reminders_job", (before + timedelta(minutes=15)).timestamp())
    assert fired["jobs_requeued"] == 0
    assert pump.drain(["booking_jobs_worker"]) == 0
