"""The booking job against in-memory fakes: what a change does to the meeting, the hosts'
calendars, the contact, the ticket, the mails and the reminders, and that running a job
again (or an outdated one) makes nothing twice."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from chalicelib.booking.model import BookingStatus, Location, LocationKind
from chalicelib.booking.ports import BookingJob
from chalicelib.booking.sync import bring_up_to_date
from tests.fixtures.booking_jobs_fakes import (
    HOST,
    START,
    WS,
    World,
    booking,
    event_type,
)

BOOKING = "01HBOOKING0000000000000001"


def _world(**event_changes: object) -> World:
    world = World()
    world.store.add(event_type(**event_changes), booking())
    return world


def _job(change: str = "created", sequence: int = 0, **extra: object) -> BookingJob:
    return BookingJob(WS, BOOKING, change, sequence, **extra)  # type: ignore[arg-type]


def _by_reader(world: World) -> dict[str, object]:
    return {m.mail_id.rsplit(":", 1)[1]: m for m in world.mail.deliver()}


def test_a_new_zoom_booking_gets_a_meeting_a_calendar_event_a_contact_and_both_mails():
    world = _world()

    outcome = bring_up_to_date(world.sync_deps(), _job())

    assert outcome.status == "done"
    stored = world.store.get_booking(WS, BOOKING)
    assert stored is not None and stored.meeting is not None
    assert stored.meeting.join_url == "https://zoom.test/j/zm1"
    assert [r.event_id for r in stored.calendar_events] == list(world.calendars.events)
    assert stored.contact_id == "contact1"
    mails = _by_reader(world)
    assert set(mails) == {"invitee", f"host-{HOST}"}
    invitee, host = mails["invitee"], mails[f"host-{HOST}"]
    assert invitee.to == ["carla@customer.test"]
    assert invitee.subject.startswith("Confirmé : Product demo, lundi 30 mars 2026")
    assert "https://zoom.test/j/zm1" in invitee.text
    assert "https://api.helptal.test/book/manage/token-" in invitee.text
    assert "04:00" in invitee.text and "America/New_York" in invitee.text  # her zone
    assert "Company: Diaz & Fils" in invitee.text
    assert "Diaz &amp; Fils" in invitee.html
    assert host.to == ["ann@acme.test"]
    assert host.subject == "New booking: Product demo with Carla Diaz, Monday, March 30, 2026"
    assert "10:00" in host.text and "Europe/Paris" in host.text
    assert "Company: Diaz & Fils" in host.text and "manage" not in host.text
    for mail in (invitee, host):
        calendar = Calendar.from_ical(world.mail.ics_of(mail))
        assert str(calendar["METHOD"]) == "REQUEST"
    assert {r.minutes for r in world.reminders.due(START - timedelta(days=2), START, 10)} == {
        1440,
        60,
    }


def test_a_redelivered_job_makes_nothing_twice():
    world = _world(opens_ticket=True)
    bring_up_to_date(world.sync_deps(), _job())
    first_mails = world.mail.deliver()
    recorded = world.store.recorded

    again = bring_up_to_date(world.sync_deps(), _job())

    assert again.status == "done"
    assert world.meetings.created == 1
    assert world.calendars.writes == 1
    assert len(world.tickets.opened) == 1
    assert len(world.contacts.contacts) == 1
    assert world.mail.deliver() == []
    assert len(first_mails) == 2
    assert world.store.recorded == recorded
    assert len(world.reminders.items) == 2


def test_a_job_for_an_older_sequence_does_nothing():
    world = _world()
    world.store.change(WS, BOOKING, sequence=1)

    outcome = bring_up_to_date(world.sync_deps(), _job(sequence=0))

    assert outcome.status == "superseded"
    assert world.meetings.created == 0 and world.calendars.writes == 0
    assert world.mail.deliver() == []
    assert world.reminders.items == {}


def test_a_job_for_a_booking_that_is_gone_does_nothing():
    world = World()
    assert bring_up_to_date(world.sync_deps(), _job()).status == "gone"


def test_a_cancellation_deletes_the_meeting_and_the_event_and_sends_a_cancel():
    world = _world()
    bring_up_to_date(world.sync_deps(), _job())
    world.mail.deliver()
    world.store.change(
        WS, BOOKING, status=BookingStatus.CANCELLED, sequence=1, cancel_reason="Ill, sorry"
    )

    bring_up_to_date(world.sync_deps(), _job("cancelled", 1))

    assert world.meetings.deleted == ["zm1"]
    assert world.calendars.events == {}
    stored = world.store.get_booking(WS, BOOKING)
    assert stored is not None and stored.meeting is None and stored.calendar_events == []
    mails = _by_reader(world)
    invitee = mails["invitee"]
    assert invitee.subject.startswith("Annulé : Product demo")
    assert "Ill, sorry" in invitee.text and "manage" not in invitee.text
    for mail in mails.values():
        calendar = Calendar.from_ical(world.mail.ics_of(mail))
        [event] = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "CANCEL" and int(event["SEQUENCE"]) == 1


def test_a_reschedule_moves_the_meeting_and_the_event_and_tells_the_old_time():
    world = _world()
    bring_up_to_date(world.sync_deps(), _job())
    world.mail.deliver()
    new_start = START + timedelta(days=1, hours=2)
    world.store.change(
        WS, BOOKING, start=new_start, end=new_start + timedelta(minutes=30), sequence=1
    )

    bring_up_to_date(world.sync_deps(), _job("rescheduled", 1, previous_start=START.isoformat()))

    assert world.meetings.created == 1
    assert world.meetings.updates == [("zm1", new_start)]
    assert list(world.calendars.events.values()) == [new_start]
    host = _by_reader(world)[f"host-{HOST}"]
    assert "Previously: Monday, March 30, 2026, 10:00" in host.text
    [event] = Calendar.from_ical(world.mail.ics_of(host)).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1
    due = world.reminders.due(START - timedelta(days=3), new_start, 10)
    assert {(r.sequence, r.start) for r in due} == {(0, START), (1, new_start)}


def test_a_pending_booking_gets_no_meeting_and_mails_without_an_invitation():
    world = _world(requires_confirmation=True)
    world.store.change(WS, BOOKING, status=BookingStatus.PENDING)

    bring_up_to_date(world.sync_deps(), _job())

    assert world.meetings.created == 0 and world.calendars.writes == 0
    mails = _by_reader(world)
    assert mails["invitee"].subject.startswith("Demande reçue")
    assert mails[f"host-{HOST}"].subject.startswith("To confirm:")
    assert all(m.attachments == [] for m in mails.values())
    assert world.reminders.items == {}


def test_a_booking_of_an_event_type_that_opens_tickets_opens_one_with_the_answers():
    world = _world(opens_ticket=True, location=Location(LocationKind.PHONE, "+33 1 23 45 67 89"))
    world.store.change(WS, BOOKING, location=Location(LocationKind.PHONE, "+33 1 23 45 67 89"))

    bring_up_to_date(world.sync_deps(), _job())

    [(ticket_id, subject, text)] = world.tickets.opened
    assert subject == "Booking: Product demo with Carla Diaz, Monday, March 30, 2026"
    assert "Company: Diaz & Fils" in text and "+33 1 23 45 67 89" in text
    stored = world.store.get_booking(WS, BOOKING)
    assert stored is not None and stored.ticket_id == ticket_id
    assert stored.contact_id == "contact1"
    assert world.meetings.created == 0


def test_a_workspace_that_may_not_mail_customers_yet_mails_only_its_hosts():
    world = _world()
    workspace = world.accounts.workspaces[WS]
    from dataclasses import replace

    world.accounts.workspaces[WS] = replace(workspace, email_confirmed_at=None)

    bring_up_to_date(world.sync_deps(), _job())

    assert set(_by_reader(world)) == {f"host-{HOST}"}
