"""The Zoom meetings adapter against the local Zoom stand-in over HTTP (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.booking.ports import CalendarProviderFailed
from chalicelib.providers.zoom import MeetingNotFound, ZoomMeetings
from tests.calendar_fakes import CalendarFakes, start_calendar_fakes

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server():
    fakes = start_calendar_fakes()
    yield fakes
    fakes.stop()


@pytest.fixture()
def fakes(server: CalendarFakes) -> CalendarFakes:
    server.reset()
    return server


@pytest.fixture()
def zoom(fakes: CalendarFakes) -> ZoomMeetings:
    return fakes.zoom_meetings()


def test_a_meeting_is_made_on_the_hosts_user_with_a_join_link_and_password(fakes, zoom):
    meeting = zoom.create_meeting("Demo with Bob", START, 30, "Europe/Paris", "ann@acme.test")

    stored = fakes.zoom.meetings[meeting.meeting_id]
    assert meeting.provider == "zoom" and meeting.join_url == stored["join_url"]
    assert meeting.password == stored["password"] and len(meeting.password) == 10
    assert stored["host_email"] == "ann@acme.test"
    assert (stored["start_time"], stored["duration"], stored["timezone"]) == (
        "2026-03-02T09:00:00Z",
        30,
        "Europe/Paris",
    )


def test_a_host_who_is_no_zoom_user_gets_the_meeting_on_the_app_owner(fakes, zoom):
    fakes.zoom.users = {"someone@acme.test"}
    meeting = zoom.create_meeting("Demo", START, 30, "UTC", "ann@acme.test")
    assert fakes.zoom.meetings[meeting.meeting_id]["host_email"] == "owner@zoom.test"


def test_the_token_is_reused_until_it_is_refused_then_fetched_once_again(fakes, zoom):
    zoom.create_meeting("One", START, 30, "UTC", "ann@acme.test")
    zoom.create_meeting("Two", START, 30, "UTC", "ann@acme.test")
    assert fakes.zoom.tokens_issued == 1

    fakes.zoom.expire_tokens()
    zoom.create_meeting("Three", START, 30, "UTC", "ann@acme.test")
    assert fakes.zoom.tokens_issued == 2
    assert len(fakes.zoom.meetings) == 3


def test_a_token_is_taken_for_expired_a_minute_before_zoom_says(fakes):
    clock = [0.0]
    zoom = fakes.zoom_meetings(monotonic=lambda: clock[0])
    zoom.create_meeting("One", START, 30, "UTC", "")
    clock[0] = 3599 - 61
    zoom.create_meeting("Two", START, 30, "UTC", "")
    assert fakes.zoom.tokens_issued == 1
    clock[0] = 3599 - 59
    zoom.create_meeting("Three", START, 30, "UTC", "")
    assert fakes.zoom.tokens_issued == 2


def test_a_meeting_is_moved_and_deleted_and_deleting_it_again_is_fine(fakes, zoom):
    meeting = zoom.create_meeting("Demo", START, 30, "UTC", "ann@acme.test")
    later = START.replace(hour=14)
    zoom.update_meeting(meeting.meeting_id, "Demo (moved)", later, 45, "Asia/Taipei")
    stored = fakes.zoom.meetings[meeting.meeting_id]
    assert (stored["topic"], stored["start_time"], stored["duration"]) == (
        "Demo (moved)",
        "2026-03-02T14:00:00Z",
        45,
    )
    zoom.delete_meeting(meeting.meeting_id)
    zoom.delete_meeting(meeting.meeting_id)
    assert fakes.zoom.meetings == {}
    with pytest.raises(MeetingNotFound):
        zoom.update_meeting(meeting.meeting_id, "Demo", later, 45, "UTC")


def test_wrong_credentials_5xx_and_timeouts_are_provider_failures(fakes):
    with pytest.raises(CalendarProviderFailed, match="invalid_client"):
        fakes.zoom_meetings(client_secret=lambda: "wrong").delete_meeting("1")
    zoom = fakes.zoom_meetings(timeout=(1.0, 0.3))
    meeting = zoom.create_meeting("Demo", START, 30, "UTC", "")
    fakes.zoom.fail_next(503)
    with pytest.raises(CalendarProviderFailed, match="503"):
        zoom.delete_meeting(meeting.meeting_id)
    fakes.zoom.stall_next(1.0)
    with pytest.raises(CalendarProviderFailed, match="unreachable"):
        zoom.delete_meeting(meeting.meeting_id)
