"""A booking's .ics: what calendar clients read back from it (parsed with icalendar)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from icalendar import Calendar

from chalicelib.booking import notices
from chalicelib.booking.ics import Invitation, booking_ics, content_type
from chalicelib.booking.model import BookingStatus, Meeting
from chalicelib.booking.notices import Host, Notice, WorkspaceInfo
from tests.fixtures.booking_jobs_fakes import NOW, START, booking

ANN = Host("u1", "Ann Host", "ann@acme.test", "en", "Europe/Paris")


def _notice(**changes: object) -> Notice:
    found = booking(meeting=Meeting("zoom", "zm1", "https://zoom.test/j/zm1"), **changes)
    return Notice(found, [ANN], WorkspaceInfo("Acme Support"), "https://x.test/book/manage/t")


def _event(data: bytes):
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def _ics(notice: Notice, change: str, who: str = "invitee") -> bytes:
    [mail] = [m for m in notices.change_mails(notice, change, NOW) if m.mail_id.endswith(who)]
    [attachment] = mail.attachments
    assert attachment.content_type == content_type("CANCEL" if change == "cancelled" else "REQUEST")
    import base64

    assert attachment.inline_base64 is not None
    return base64.b64decode(attachment.inline_base64)


def test_a_new_booking_is_a_request_in_the_invitees_zone_with_its_vtimezone():
    calendar, event = _event(_ics(_notice(), "created"))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "01HBOOKING0000000000000001@helptal"
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert start == START and start.utcoffset() == timedelta(hours=-4)
    assert event.decoded("DTEND") - start == timedelta(minutes=30)
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "https://zoom.test/j/zm1" in str(event["LOCATION"])


def test_the_hosts_copy_is_in_the_hosts_zone_and_language():
    _, event = _event(_ics(_notice(), "created", who="host-u1"))

    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTART").hour == 10
    assert str(event["SUMMARY"]) == "Product demo with Carla Diaz"


def test_the_invitees_summary_is_french_for_a_french_invitee_and_english_otherwise():
    _, french = _event(_ics(_notice(), "created"))
    english_notice = _notice()
    english_notice = replace(
        english_notice,
        booking=replace(
            english_notice.booking,
            invitee=replace(english_notice.booking.invitee, locale="en"),
        ),
    )
    _, english = _event(_ics(english_notice, "created"))

    assert str(french["SUMMARY"]) == "Product demo avec Ann Host"
    assert str(english["SUMMARY"]) == "Product demo with Ann Host"


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    _, first = _event(_ics(_notice(), "created"))
    moved = _notice(start=START + timedelta(days=1), end=START + timedelta(days=1, minutes=30))
    moved = replace(moved, booking=replace(moved.booking, sequence=1))
    _, second = _event(_ics(moved, "rescheduled"))

    assert second["UID"] == first["UID"]
    assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert second.decoded("DTSTART") == START + timedelta(days=1)


def test_a_cancellation_is_a_cancel_of_the_same_event():
    cancelled = _notice(status=BookingStatus.CANCELLED, sequence=2, cancel_reason="Ill")
    calendar, event = _event(_ics(cancelled, "cancelled"))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == "01HBOOKING0000000000000001@helptal"
    assert int(event["SEQUENCE"]) == 2
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_utc_reader_gets_a_valid_calendar():
    found = booking()
    data = booking_ics(
        found,
        Invitation("REQUEST", "Demo", "", "UTC", ("a@x.test", "A"), [("b@x.test", "B")]),
        NOW,
    )
    _, event = _event(data)
    assert event.decoded("DTSTART") == START
