"""The public booking API against hostile input: every malformed, absurd or foreign request
gets a 4xx JSON error with a code (never a 5xx) and changes nothing; names with HTML are kept
as text and escaped wherever they are shown.

Each test sets its workspace up once and then tries every case of its list in turn; a failure
names the case.  Refused requests change nothing, so one case cannot affect the next, and the
tests that could book or move something check that nothing changed after every case."""

from __future__ import annotations

from datetime import timedelta

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

# (case, query, the field the error names)
SLOTS_REFUSED = [
    ("month 13", "from=2025-13-45", "from"),
    ("from not a date", "from=hello", "from"),
    ("from cut after T", "from=2030-01-01T", "from"),
    ("offset +25:00", "from=2030-01-01T00:00:00%2B25:00", "from"),
    ("to before from", "from=2030-01-10&to=2030-01-01", "to"),
    ("window of a year", "from=2030-01-01&to=2031-01-01", "to"),
    ("to past 9999", "from=9999-12-30&to=9999-12-31", "to"),  # the day after the last one
    ("default week past 9999", "from=9999-12-30", "from"),
    ("before year 1 in UTC", "from=0001-01-01&to=0001-01-02&time_zone=Asia/Tokyo", "from"),
    ("zone path traversal", "time_zone=../../etc/passwd", "time_zone"),
    ("zone absolute path", "time_zone=/etc/localtime", "time_zone"),
    ("zone folder", "time_zone=America", "time_zone"),  # a folder of the zone database
    ("zone with NUL", "time_zone=UTC%00", "time_zone"),
    ("zone empty", "time_zone=", "time_zone"),
    ("zone very long", f"time_zone={LONG}", "time_zone"),
    ("duration not offered", "duration=45", "duration"),
    ("duration negative", "duration=-30", "duration"),
    ("duration huge", "duration=99999999999999999999999", "duration"),
    ("duration fractional", "duration=30.5", "duration"),
    ("duration not a number", "duration=abc", "duration"),
    ("unknown parameter", "foo=bar", "foo"),
]

# (case, query)
SLOTS_EMPTY = [
    ("year 1", "from=0001-01-01&to=0001-01-02"),
    ("past month", "from=2001-01-01&to=2001-02-01"),
    ("last day", "from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z"),
    ("last days ahead of UTC", "from=9999-12-01&to=9999-12-30&time_zone=Pacific/Kiritimati"),
]

# (case, path; {ws} is the workspace's slug)
ODD_SLUGS = [
    ("encoded traversal", "/v1/booking/{ws}/..%2F..%2Fx/slots"),
    ("accented slug", "/v1/booking/{ws}/%C3%A9t%C3%A9"),
    ("long event type", f"/v1/booking/{{ws}}/{LONG}"),
    ("long event type slots", f"/v1/booking/{{ws}}/{LONG}/slots"),
    ("long workspace", f"/v1/booking/{LONG}"),
    ("long workspace slots", f"/v1/booking/{LONG}/intro-call/slots"),
]

# (case, change to a good booking body, status, code; None: validation_failed)
BAD_BOOKINGS = [
    ("start off the grid", {"start": _z(START + timedelta(minutes=7))}, 409, "slot_taken"),
    ("start in the past", {"start": "2001-01-01T00:00:00Z"}, 409, "slot_taken"),
    ("start in year 1", {"start": "0001-01-01T00:00:00Z"}, 409, "slot_taken"),
    ("end past 9999", {"start": "9999-12-31T23:59:59Z"}, 409, "slot_taken"),
    ("start past 9999 in UTC", {"start": "9999-12-31T23:30:00-05:00"}, 422, None),
    ("start before year 1 in UTC", {"start": "0001-01-01T00:00:00+05:00"}, 422, None),
    ("start without offset", {"start": START.strftime("%Y-%m-%dT%H:%M:%S")}, 422, None),
    ("start a date", {"start": START.date().isoformat()}, 422, None),
    ("start a word", {"start": "tomorrow"}, 422, None),
    ("start a number", {"start": 1893456000}, 422, None),
    ("start null", {"start": None}, 422, None),
    ("name too long", {"name": "x" * 121}, 422, None),
    ("name blank", {"name": "   "}, 422, None),
    ("name with header", {"name": "Carol\r\nBcc: eve@evil.test"}, 422, None),
    ("name with NUL", {"name": "Carol\x00"}, 422, None),
    ("email too long", {"email": "a" * 300 + "@customer.test"}, 422, None),
    ("email not an address", {"email": "not-an-address"}, 422, None),
    ("unknown answer", {"answers": {"company": "Globex", "unknown": "x"}}, 422, None),
    ("answer a number", {"answers": {"company": 5}}, 422, None),
    ("answer nested", {"answers": {"company": {"nested": [1, {"deeper": True}]}}}, 422, None),
    ("answers a list", {"answers": ["Globex"]}, 422, None),
    ("answer too long", {"answers": {"company": "x" * 6000}}, 422, None),
    ("fifty answers", {"answers": {f"q{n}": "x" for n in range(50)}}, 422, None),
    ("duration not offered", {"duration": 45}, 422, None),
    ("duration negative", {"duration": -5}, 422, None),
    ("duration a string", {"duration": "30"}, 422, None),
    ("duration huge", {"duration": 10**30}, 422, None),
    ("duration fractional", {"duration": 30.5}, 422, None),
    ("zone path traversal", {"time_zone": "../../etc/passwd"}, 422, None),
    ("zone folder", {"time_zone": "America"}, 422, None),
    ("locale unknown", {"locale": "de"}, 422, None),
    ("human token too long", {"human_token": "x" * 5000}, 422, None),
    ("unknown field", {"admin": True}, 422, None),
]

# (case, raw body, headers, status, code)
NON_JSON_BODIES = [
    ("no body", None, None, 400, "missing_body"),
    ("empty body", "", None, 400, "missing_body"),
    ("a list", "[1]", None, 400, "malformed_json"),
    ("broken JSON", "{bad", None, 400, "malformed_json"),
    ("empty object", "{}", None, 422, "validation_failed"),
    ("deeply nested", '{"a":' * 200 + "1" + "}" * 200, None, 400, "malformed_json"),
    ("form", "start=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
    ("text", '{"start": "x"}', {"Content-Type": "text/plain"}, 415, None),
]

# (case, body, status, code; None: validation_failed); dict bodies get a time zone
BAD_RESCHEDULES = [
    ("same time", {"start": _z(START)}, 409, "same_time"),
    ("off the grid", {"start": _z(START + timedelta(minutes=7))}, 409, "slot_taken"),
    ("in the past", {"start": "2001-01-01T00:00:00Z"}, 409, "slot_taken"),
    ("end past 9999", {"start": "9999-12-31T23:59:00Z"}, 409, "slot_taken"),
    ("before year 1 in UTC", {"start": "0001-01-01T00:00:00+05:00"}, 422, "validation_failed"),
    # No offset: not read as the server's local time.
    ("no offset", {"start": (START + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")}, 422, None),
    ("zone folder", {"start": _z(START + timedelta(hours=3)), "time_zone": "America"}, 422, None),
    (
        "unknown field",
        {"start": _z(START + timedelta(hours=3)), "time_zone": "Europe/Paris", "x": 1},
        422,
        None,
    ),
    ("no body", None, 400, "missing_body"),
]

# (case, query)
MANAGE_SLOTS_REFUSED = [
    ("default week past 9999", "from=9999-12-30"),
    ("before year 1 in UTC", "from=0001-01-01&to=0001-01-02&time_zone=Asia/Tokyo"),
    ("to before from", "from=2030-01-10&to=2030-01-01"),
    ("zone folder", "time_zone=America"),
    ("duration given", "duration=30"),
]

GARBAGE_TOKENS = ["garbage", "a.b", "%C3%A9.%C3%A9", "a.b.c", "a.b" * 2000, "." * 50, "%00.%00"]


def _refused(case: str, status: int, answer: dict, expected: int, code: str | None = None) -> None:
    assert status == expected, f"{case}: {answer}"
    assert answer["error"]["code"] and answer["error"]["message"], f"{case}: {answer}"
    if code is not None:
        assert answer["error"]["code"] == code, f"{case}: {answer}"


def test_a_slots_request_with_a_bad_window_zone_or_duration_is_refused(api):
    owner, _ = workspace_with_event_type(api)
    for case, query, field in SLOTS_REFUSED:
        path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots?{query}"
        status, answer, _ = api.request("GET", path)
        _refused(case, status, answer, 422, "validation_failed")
        assert field in [d["field"] for d in answer["error"]["details"]], f"{case}: {answer}"


def test_a_window_in_the_past_or_beyond_the_horizon_has_no_slots(api):
    owner, _ = workspace_with_event_type(api)
    for case, query in SLOTS_EMPTY:
        path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots?{query}"
        status, answer, _ = api.request("GET", path)
        assert status == 200 and answer["slots"] == [], f"{case}: {answer}"


def test_odd_or_very_long_slugs_are_no_booking_page(api):
    owner, _ = workspace_with_event_type(api)
    for case, path in ODD_SLUGS:
        status, answer, _ = api.request("GET", path.format(ws=owner["workspace"]["slug"]))
        _refused(case, status, answer, 404, "booking_page_not_found")


def _nothing_booked(case: str, api, owner, jobs) -> None:
    listed = api.request("GET", "/v1/booking/bookings", token=owner["token"])[1]
    assert listed["bookings"] == [] and jobs.jobs == [], f"{case}: {listed}"


def test_a_booking_with_bad_fields_is_refused_and_books_nothing(api, jobs):
    owner, _ = workspace_with_event_type(api)
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/bookings"
    for case, change, expected, code in BAD_BOOKINGS:
        body = {
            "start": _z(START),
            "time_zone": "Europe/Paris",
            "name": "Carol",
            "email": "carol@customer.test",
            "answers": {"company": "Globex"},
            **change,
        }
        status, answer, _ = api.request("POST", path, body)
        _refused(case, status, answer, expected, code or "validation_failed")
        _nothing_booked(case, api, owner, jobs)


def test_a_booking_body_that_is_no_json_object_is_refused(api, jobs):
    owner, _ = workspace_with_event_type(api)
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/bookings"
    for case, body, headers, expected, code in NON_JSON_BODIES:
        status, answer, _ = api.request("POST", path, body, headers=headers)
        _refused(case, status, answer, expected, code)
        _nothing_booked(case, api, owner, jobs)


def _booked(api):
    owner, _ = workspace_with_event_type(api)
    status, made, _ = book(api, owner, START)
    assert status == 201, made
    token = made["manage_url"].rsplit("/", 1)[1]
    return owner, token, made["booking"]


def _unchanged(case: str, api, jobs, token, before) -> None:
    shown = api.request("GET", f"/v1/booking/manage/{token}")[1]["booking"]
    assert (shown["start"], shown["status"]) == (before["start"], before["status"]), case
    assert [(j.change, j.sequence) for j in jobs.jobs] == [("created", 0)], case


def test_a_bad_reschedule_by_the_manage_link_is_refused_and_moves_nothing(api, jobs):
    _owner, token, before = _booked(api)
    for case, body, expected, code in BAD_RESCHEDULES:
        if isinstance(body, dict):
            body = {"time_zone": "Europe/Paris", **body}
        status, answer, _ = api.request("POST", f"/v1/booking/manage/{token}/reschedule", body)
        _refused(case, status, answer, expected, code or "validation_failed")
        _unchanged(case, api, jobs, token, before)


def test_a_manage_slots_request_with_a_bad_window_is_refused(api, jobs):
    _owner, token, _ = _booked(api)
    for case, query in MANAGE_SLOTS_REFUSED:
        status, answer, _ = api.request("GET", f"/v1/booking/manage/{token}/slots?{query}")
        _refused(case, status, answer, 422, "validation_failed")


def test_a_garbage_manage_token_opens_nothing_anywhere(api, jobs):
    _owner, genuine, before = _booked(api)
    for token in GARBAGE_TOKENS:
        base = f"/v1/booking/manage/{token}"
        for method, path, body in [
            ("GET", base, None),
            ("GET", f"{base}/slots", None),
            ("POST", f"{base}/cancel", {"reason": ""}),
            ("POST", f"{base}/reschedule", {"start": _z(START), "time_zone": "UTC"}),
        ]:
            status, answer, _ = api.request(method, path, body)
            _refused(f"{method} {path[:80]}", status, answer, 404, "manage_link_invalid")
        _unchanged(f"token {token[:80]}", api, jobs, genuine, before)


def test_a_cancelled_booking_cannot_be_cancelled_again_nor_moved(api, jobs):
    _owner, token, _ = _booked(api)
    status, cancelled, _ = api.request("POST", f"/v1/booking/manage/{token}/cancel", {})
    assert status == 200 and cancelled["booking"]["status"] == "cancelled"
    later = {"start": _z(START + timedelta(hours=3)), "time_zone": "UTC"}
    for method, path, body in [
        ("POST", "cancel", {"reason": "again"}),
        ("POST", "reschedule", later),
        ("GET", "slots", None),
    ]:
        status, answer, _ = api.request(method, f"/v1/booking/manage/{token}/{path}", body)
        _refused(path, status, answer, 409, "booking_not_active")
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
