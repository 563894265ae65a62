"""The public booking API against hostile input: every malformed, absurd or foreign request
gets a 4xx JSON error with a code (never a 5xx) and changes nothing; names with HTML are kept
as text and escaped wherever they are shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.booking import notices
from tests.integration.test_booking_api import (
    _tomorrow_at,
    _z,
    book,
    jobs,
    workspace_with_event_type,
)

__all__ = ["jobs"]  # a fixture used by name

START = _tomorrow_at(10)
LONG = "a" * 3000


def _refused(status: int, answer: dict, expected: int, code: str | None = None) -> None:
    assert status == expected, answer
    assert answer["error"]["code"] and answer["error"]["message"], answer
    if code is not None:
        assert answer["error"]["code"] == code, answer


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-13-45", "from"),
        ("from=hello", "from"),
        ("from=2030-01-01T", "from"),
        ("from=2030-01-01T00:00:00%2B25:00", "from"),
        ("from=2030-01-10&to=2030-01-01", "to"),
        ("from=2030-01-01&to=2031-01-01", "to"),
        ("from=9999-12-30&to=9999-12-31", "to"),  # the day after the last one
        ("from=9999-12-30", "from"),  # its default week runs past year 9999
        ("from=0001-01-01&to=0001-01-02&time_zone=Asia/Tokyo", "from"),  # before year 1 in UTC
        ("time_zone=../../etc/passwd", "time_zone"),
        ("time_zone=/etc/localtime", "time_zone"),
        ("time_zone=America", "time_zone"),  # a folder of the zone database
        ("time_zone=UTC%00", "time_zone"),
        ("time_zone=", "time_zone"),
        (f"time_zone={LONG}", "time_zone"),
        ("duration=45", "duration"),  # not offered
        ("duration=-30", "duration"),
        ("duration=99999999999999999999999", "duration"),
        ("duration=30.5", "duration"),
        ("duration=abc", "duration"),
        ("foo=bar", "foo"),
    ],
)
def test_a_slots_request_with_a_bad_window_zone_or_duration_is_refused(api, query, field):
    owner, _ = workspace_with_event_type(api)
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots?{query}"
    status, answer, _ = api.request("GET", path)
    _refused(status, answer, 422, "validation_failed")
    assert field in [d["field"] for d in answer["error"]["details"]]


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01&to=0001-01-02",
        "from=2001-01-01&to=2001-02-01",
        "from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z",
        "from=9999-12-01&to=9999-12-30&time_zone=Pacific/Kiritimati",
    ],
)
def test_a_window_in_the_past_or_beyond_the_horizon_has_no_slots(api, query):
    owner, _ = workspace_with_event_type(api)
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots?{query}"
    status, answer, _ = api.request("GET", path)
    assert status == 200 and answer["slots"] == [], answer


@pytest.mark.parametrize(
    "path",
    [
        "/v1/booking/{ws}/..%2F..%2Fx/slots",
        "/v1/booking/{ws}/%C3%A9t%C3%A9",
        f"/v1/booking/{{ws}}/{LONG}",
        f"/v1/booking/{{ws}}/{LONG}/slots",
        f"/v1/booking/{LONG}",
        f"/v1/booking/{LONG}/intro-call/slots",
    ],
)
def test_odd_or_very_long_slugs_are_no_booking_page(api, path):
    owner, _ = workspace_with_event_type(api)
    status, answer, _ = api.request("GET", path.format(ws=owner["workspace"]["slug"]))
    _refused(status, answer, 404, "booking_page_not_found")


def _nothing_booked(api, owner, jobs) -> None:
    listed = api.request("GET", "/v1/booking/bookings", token=owner["token"])[1]
    assert listed["bookings"] == [] and jobs.jobs == []


@pytest.mark.parametrize(
    ("change", "expected", "code"),
    [
        ({"start": _z(START + timedelta(minutes=7))}, 409, "slot_taken"),  # off the grid
        ({"start": "2001-01-01T00:00:00Z"}, 409, "slot_taken"),
        ({"start": "0001-01-01T00:00:00Z"}, 409, "slot_taken"),
        ({"start": "9999-12-31T23:59:59Z"}, 409, "slot_taken"),  # its end would overflow
        ({"start": "9999-12-31T23:30:00-05:00"}, 422, None),  # past year 9999 in UTC
        ({"start": "0001-01-01T00:00:00+05:00"}, 422, None),  # before year 1 in UTC
        ({"start": START.strftime("%Y-%m-%dT%H:%M:%S")}, 422, None),  # no offset
        ({"start": START.date().isoformat()}, 422, None),
        ({"start": "tomorrow"}, 422, None),
        ({"start": 1893456000}, 422, None),
        ({"start": None}, 422, None),
        ({"name": "x" * 121}, 422, None),
        ({"name": "   "}, 422, None),
        ({"name": "Carol\r\nBcc: eve@evil.test"}, 422, None),
        ({"name": "Carol\x00"}, 422, None),
        ({"email": "a" * 300 + "@customer.test"}, 422, None),
        ({"email": "not-an-address"}, 422, None),
        ({"answers": {"company": "Globex", "unknown": "x"}}, 422, None),
        ({"answers": {"company": 5}}, 422, None),
        ({"answers": {"company": {"nested": [1, {"deeper": True}]}}}, 422, None),
        ({"answers": ["Globex"]}, 422, None),
        ({"answers": {"company": "x" * 6000}}, 422, None),
        ({"answers": {f"q{n}": "x" for n in range(50)}}, 422, None),
        ({"duration": 45}, 422, None),
        ({"duration": -5}, 422, None),
        ({"duration": "30"}, 422, None),
        ({"duration": 10**30}, 422, None),
        ({"duration": 30.5}, 422, None),
        ({"time_zone": "../../etc/passwd"}, 422, None),
        ({"time_zone": "America"}, 422, None),
        ({"locale": "de"}, 422, None),
        ({"human_token": "x" * 5000}, 422, None),
        ({"admin": True}, 422, None),
    ],
)
def test_a_booking_with_bad_fields_is_refused_and_books_nothing(api, jobs, change, expected, code):
    owner, _ = workspace_with_event_type(api)
    body = {
        "start": _z(START),
        "time_zone": "Europe/Paris",
        "name": "Carol",
        "email": "carol@customer.test",
        "answers": {"company": "Globex"},
        **change,
    }
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/bookings"
    status, answer, _ = api.request("POST", path, body)
    _refused(status, answer, expected, code or "validation_failed")
    _nothing_booked(api, owner, jobs)


@pytest.mark.parametrize(
    ("body", "headers", "expected", "code"),
    [
        (None, None, 400, "missing_body"),
        ("", None, 400, "missing_body"),
        ("[1]", None, 400, "malformed_json"),
        ("{bad", None, 400, "malformed_json"),
        ("{}", None, 422, "validation_failed"),
        ('{"a":' * 200 + "1" + "}" * 200, None, 400, "malformed_json"),
        ("start=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
        ('{"start": "x"}', {"Content-Type": "text/plain"}, 415, None),
    ],
)
def test_a_booking_body_that_is_no_json_object_is_refused(api, jobs, body, headers, expected, code):
    owner, _ = workspace_with_event_type(api)
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/bookings"
    status, answer, _ = api.request("POST", path, body, headers=headers)
    _refused(status, answer, expected, code)
    _nothing_booked(api, owner, jobs)


@pytest.fixture()
def booked(api, jobs):
    owner, _ = workspace_with_event_type(api)
    status, made, _ = book(api, owner, START)
    assert status == 201, made
    token = made["manage_url"].rsplit("/", 1)[1]
    return owner, token, made["booking"]


def _unchanged(api, jobs, token, before) -> None:
    shown = api.request("GET", f"/v1/booking/manage/{token}")[1]["booking"]
    assert (shown["start"], shown["status"]) == (before["start"], before["status"])
    assert [(j.change, j.sequence) for j in jobs.jobs] == [("created", 0)]


@pytest.mark.parametrize(
    ("body", "expected", "code"),
    [
        ({"start": _z(START)}, 409, "same_time"),
        ({"start": _z(START + timedelta(minutes=7))}, 409, "slot_taken"),
        ({"start": "2001-01-01T00:00:00Z"}, 409, "slot_taken"),
        ({"start": "9999-12-31T23:59:00Z"}, 409, "slot_taken"),
        ({"start": "0001-01-01T00:00:00+05:00"}, 422, "validation_failed"),
        # No offset: not read as the server's local time.
        ({"start": (START + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")}, 422, None),
        ({"start": _z(START + timedelta(hours=3)), "time_zone": "America"}, 422, None),
        ({"start": _z(START + timedelta(hours=3)), "time_zone": "Europe/Paris", "x": 1}, 422, None),
        (None, 400, "missing_body"),
    ],
)
def test_a_bad_reschedule_by_the_manage_link_is_refused_and_moves_nothing(
    api, jobs, booked, body, expected, code
):
    _owner, token, before = booked
    if isinstance(body, dict):
        body = {"time_zone": "Europe/Paris", **body}
    status, answer, _ = api.request("POST", f"/v1/booking/manage/{token}/reschedule", body)
    _refused(status, answer, expected, code or "validation_failed")
    _unchanged(api, jobs, token, before)


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-30",
        "from=0001-01-01&to=0001-01-02&time_zone=Asia/Tokyo",
        "from=2030-01-10&to=2030-01-01",
        "time_zone=America",
        "duration=30",
    ],
)
def test_a_manage_slots_request_with_a_bad_window_is_refused(api, booked, query):
    _owner, token, _ = booked
    status, answer, _ = api.request("GET", f"/v1/booking/manage/{token}/slots?{query}")
    _refused(status, answer, 422, "validation_failed")


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b", "%C3%A9.%C3%A9", "a.b.c", "a.b" * 2000, "." * 50, "%00.%00"],
)
def test_a_garbage_manage_token_opens_nothing_anywhere(api, booked, jobs, token):
    _owner, genuine, before = booked
    base = f"/v1/booking/manage/{token}"
    for method, path, body in [
        ("GET", base, None),
        ("GET", f"{base}/slots", None),
        ("POST", f"{base}/cancel", {"reason": ""}),
        ("POST", f"{base}/reschedule", {"start": _z(START), "time_zone": "UTC"}),
    ]:
        status, answer, _ = api.request(method, path, body)
        _refused(status, answer, 404, "manage_link_invalid")
    _unchanged(api, jobs, genuine, before)


def test_a_cancelled_booking_cannot_be_cancelled_again_nor_moved(api, jobs, booked):
    _owner, token, _ = booked
    status, cancelled, _ = api.request("POST", f"/v1/booking/manage/{token}/cancel", {})
    assert status == 200 and cancelled["booking"]["status"] == "cancelled"
    later = {"start": _z(START + timedelta(hours=3)), "time_zone": "UTC"}
    for method, path, body in [
        ("POST", "cancel", {"reason": "again"}),
        ("POST", "reschedule", later),
        ("GET", "slots", None),
    ]:
        status, answer, _ = api.request(method, f"/v1/booking/manage/{token}/{path}", body)
        _refused(status, answer, 409, "booking_not_active")
    assert [j.change for j in jobs.jobs] == ["created", "cancelled"]


def test_a_name_with_html_and_unicode_is_kept_as_text_and_escaped_in_mails_and_pages(api, jobs):
    owner, _ = workspace_with_event_type(api)
    name = 'Zoë 李 <img src=x onerror=alert(1)> "&" {invitee}'
    status, made, _ = book(api, owner, START, name=name)
    assert status == 201 and made["booking"]["invitee_name"] == name, made
    token = made["manage_url"].rsplit("/", 1)[1]
    page = api.client.http.get(f"/book/manage/{token}", headers={"Accept": "text/html"})
    html = page.body.decode() if isinstance(page.body, bytes) else page.body
    assert page.status_code == 200 and "<img src=x" not in html
    deps = bootstrap.booking_deps()
    stored = deps.store.get_booking(owner["workspace"]["id"], made["booking"]["id"])
    assert stored is not None and stored.invitee.name == name
    notice = notices.Notice(
        booking=stored,
        hosts=[notices.Host(owner["user"]["id"], "Ann", "ann@acme.test", "en", "UTC")],
        workspace=notices.WorkspaceInfo("Acme Support"),
        manage_url=made["manage_url"],
    )
    for mail in notices.change_mails(notice, "created", stored.created_at or START):
        assert "<img src=x" not in (mail.html or "") and "&lt;img src=x" in (mail.html or "")
        assert "\n" not in mail.subject and "\r" not in mail.subject
