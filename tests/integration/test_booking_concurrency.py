"""Double booking is impossible under concurrency: many invitees pressing "Book" for one slot
get one booking, event types sharing a host never both take overlapping time, and bookings
that do not overlap all succeed however they race on the host's day."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from tests.integration.test_booking_api import ALL_WEEK, event_type_body


@pytest.fixture()
def unlimited(monkeypatch):
    """Requests run side by side as in separate Lambda invocations: the app's current
    request is each thread's own (Chalice keeps one per app, which threads of one process
    would share), and every request comes from the test client's one address: the hourly
    limit is lifted."""
    from app import app

    own = threading.local()
    monkeypatch.setattr(
        type(app),
        "current_request",
        property(
            lambda self: getattr(own, "request", None),
            lambda self, request: setattr(own, "request", request),
        ),
        raising=False,
    )
    deps = bootstrap.booking_deps()
    lifted = replace(deps, policy=replace(deps.policy, bookings_per_ip_hour=1000))
    monkeypatch.setattr(bootstrap, "booking_deps", lambda: lifted)
    return lifted


def _at(hour: int, minute: int = 0) -> str:
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def _host_with_event_types(api, *slugs_and_durations):
    owner = api.sign_up()
    token = owner["token"]
    status, _, _ = api.request(
        "PUT", "/v1/booking/schedules/me", {"time_zone": "UTC", "weekly": ALL_WEEK}, token=token
    )
    assert status == 200
    for slug, durations in slugs_and_durations:
        body = {**event_type_body(owner["user"]["id"]), "slug": slug, "durations": durations}
        status, created, _ = api.request("POST", "/v1/booking/event-types", body, token=token)
        assert status == 201, created
    return owner


def _book(api, owner, slug, start, n):
    return api.request(
        "POST",
        f"/v1/booking/{owner['workspace']['slug']}/{slug}/bookings",
        {
            "start": start,
            "time_zone": "UTC",
            "name": f"Invitee {n}",
            "email": f"invitee{n}@customer.test",
            "answers": {"company": "Globex"},
        },
    )


def _bookings(api, owner):
    status, listed, _ = api.request("GET", "/v1/booking/bookings?limit=100", token=owner["token"])
    assert status == 200
    return [b for b in listed["bookings"] if b["status"] in ("pending", "confirmed")]


def test_twenty_invitees_booking_one_slot_at_once_get_one_booking(api, unlimited):
    owner = _host_with_event_types(api, ("intro-call", [30]))
    start = _at(10)

    def attempt(n):
        status, body, _ = _book(api, owner, "intro-call", start, n)
        return status, (body or {}).get("error", {}).get("code")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(attempt, range(20)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 19, answers
    assert {code for status, code in answers if status == 409} == {"slot_taken"}
    assert len(_bookings(api, owner)) == 1


def test_two_event_types_sharing_a_host_never_both_take_overlapping_time(api, unlimited):
    owner = _host_with_event_types(api, ("short", [30]), ("long", [60]))
    # Five pairs, each racing a 30-minute booking and a 60-minute one over it (starting
    # with it, or half an hour before).
    pairs = [(_at(8 + 2 * n), _at(8 + 2 * n) if n % 2 else _at(7 + 2 * n, 30)) for n in range(5)]

    def attempt(job):
        n, slug, start = job
        return n, _book(api, owner, slug, start, f"{slug}{n}")[0]

    jobs = [(n, "short", short) for n, (short, _) in enumerate(pairs)] + [
        (n, "long", long) for n, (_, long) in enumerate(pairs)
    ]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, jobs))
    for n in range(5):
        statuses = sorted(status for m, status in results if m == n)
        assert statuses == [201, 409], (n, results)
    held = sorted((b["start"], b["end"]) for b in _bookings(api, owner))
    assert len(held) == 5
    for (_, first_end), (second_start, _) in itertools.pairwise(held):
        assert first_end <= second_start


def test_bookings_on_one_host_day_that_do_not_overlap_all_succeed(api, unlimited):
    owner = _host_with_event_types(api, ("intro-call", [30]))
    starts = [_at(9 + n) for n in range(6)]

    def attempt(job):
        n, start = job
        status, body, _ = _book(api, owner, "intro-call", start, n)
        return status, body

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(attempt, enumerate(starts)))
    assert [status for status, _ in answers] == [201] * 6, answers
    assert sorted(b["start"] for b in _bookings(api, owner)) == starts
