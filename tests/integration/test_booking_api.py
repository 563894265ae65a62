"""Booking through the API on the emulator: event types, schedules and bookings for members;
the public pages' JSON, booking, the manage link; one workspace never reaches another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from chalicelib import bootstrap
from tests.integration.conftest import accept_invitation, invite

ALL_WEEK = {
    day: [{"start": "00:00", "end": "24:00"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def _tomorrow_at(hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class QueuedJobs:
    """The booking jobs queued so far (taken off the booking-jobs queue, as the worker
    would)."""

    def __init__(self) -> None:
        self.taken: list[tuple[str, str, int]] = []

    @property
    def jobs(self):
        import json

        import boto3

        from chalicelib.settings import get_settings

        sqs = boto3.client("sqs", region_name=get_settings().region)
        url = sqs.get_queue_url(QueueName=get_settings().queues.booking_jobs)["QueueUrl"]
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            for message in batch:
                job = json.loads(message["Body"])
                self.taken.append(
                    SimpleNamespace(
                        booking_id=job["booking_id"],
                        change=job["change"],
                        sequence=job["sequence"],
                    )
                )
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return self.taken


@pytest.fixture()
def jobs(clean_aws):
    return QueuedJobs()


def event_type_body(host_id: str, **extra):
    return {
        "slug": "intro-call",
        "title": "Introduction call",
        "description": "A **short** call. <script>alert(1)</script>",
        "durations": [30, 60],
        "location": {"kind": "phone", "value": "+33 1 23 45 67 89"},
        "host_ids": [host_id],
        "time_zone": "UTC",
        "minimum_notice": 0,
        "questions": [
            {"id": "company", "label": "Your company", "required": True},
            {"id": "plan", "label": "Plan", "kind": "choice", "options": ["Free", "Pro"]},
        ],
        **extra,
    }


def open_all_week(api, token, user_id="me"):
    status, body, _ = api.request(
        "PUT",
        f"/v1/booking/schedules/{user_id}",
        {"time_zone": "UTC", "weekly": ALL_WEEK},
        token=token,
    )
    assert status == 200, body
    return body


def workspace_with_event_type(api, email="ann@acme.test", workspace="Acme Support", **extra):
    owner = api.sign_up(workspace=workspace, email=email)
    token = owner["token"]
    open_all_week(api, token)
    status, created, _ = api.request(
        "POST",
        "/v1/booking/event-types",
        event_type_body(owner["user"]["id"], **extra),
        token=token,
    )
    assert status == 201, created
    return owner, created


def book(api, owner, start, *, email="carol@customer.test", slug="intro-call", **extra):
    body = {
        "start": _z(start),
        "time_zone": "Europe/Paris",
        "name": "Carol",
        "email": email,
        "answers": {"company": "Globex"},
        **extra,
    }
    return api.request("POST", f"/v1/booking/{owner['workspace']['slug']}/{slug}/bookings", body)


def test_an_owner_creates_reads_changes_and_deletes_an_event_type(api):
    owner, created = workspace_with_event_type(api)
    token = owner["token"]
    assert created["slug"] == "intro-call" and created["durations"] == [30, 60]
    assert "<strong>short</strong>" in created["description_html"]
    assert "<script" not in created["description_html"]
    status, listed, _ = api.request("GET", "/v1/booking/event-types", token=token)
    assert status == 200 and [e["id"] for e in listed["event_types"]] == [created["id"]]
    path = f"/v1/booking/event-types/{created['id']}"
    status, changed, _ = api.request(
        "PATCH", path, {"slug": "first-call", "daily_cap": 3}, token=token
    )
    assert status == 200, changed
    assert changed["slug"] == "first-call" and changed["daily_cap"] == 3
    assert changed["version"] == created["version"] + 1
    # The old slug is free again: another event type may take it.
    status, other, _ = api.request(
        "POST", "/v1/booking/event-types", event_type_body(owner["user"]["id"]), token=token
    )
    assert status == 201, other
    status, clash, _ = api.request("PATCH", path, {"slug": "intro-call"}, token=token)
    assert status == 409 and clash["error"]["code"] == "slug_taken"
    assert api.request("DELETE", path, token=token)[0] == 204
    assert api.request("GET", path, token=token)[0] == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"durations": [32]}, "durations.0"),
        ({"buffer_after": 7}, "buffer_after"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"host_ids": ["01NOTAMEMBER"]}, "host_ids"),
        ({"host_mode": "one", "host_ids": []}, "host_ids"),
        ({"location": {"kind": "link", "value": "javascript:alert(1)"}}, "location.value"),
        ({"questions": [{"id": "x", "label": "X", "kind": "choice"}]}, "questions.0.options"),
    ],
)
def test_an_event_type_that_breaks_a_rule_is_refused_naming_the_field(api, change, field):
    owner = api.sign_up()
    body = {**event_type_body(owner["user"]["id"]), **change}
    status, answer, _ = api.request("POST", "/v1/booking/event-types", body, token=owner["token"])
    assert status == 422, answer
    fields = [d["field"] for d in answer["error"]["details"]]
    assert any(f == field or f.startswith(field) or f.endswith(field) for f in fields), fields


def test_agents_read_event_types_but_only_owners_and_admins_write_them(api):
    owner, created = workspace_with_event_type(api)
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    assert api.request("GET", "/v1/booking/event-types", token=bob["token"])[0] == 200
    status, refused, _ = api.request(
        "PATCH",
        f"/v1/booking/event-types/{created['id']}",
        {"title": "Mine now"},
        token=bob["token"],
    )
    assert status == 403, refused


def test_a_member_edits_their_own_schedule_and_gets_the_default_before(api):
    owner = api.sign_up()
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    status, default, _ = api.request("GET", "/v1/booking/schedules/me", token=bob["token"])
    assert status == 200 and default["saved"] is False
    assert default["weekly"]["mon"] == [{"start": "09:00", "end": "17:00"}]
    assert "sat" not in default["weekly"]
    saved = open_all_week(api, bob["token"])
    assert saved["saved"] is True and saved["weekly"]["sun"] == [{"start": "00:00", "end": "24:00"}]
    status, refused, _ = api.request(
        "PUT",
        f"/v1/booking/schedules/{owner['user']['id']}",
        {"time_zone": "UTC", "weekly": ALL_WEEK},
        token=bob["token"],
    )
    assert status == 403, refused
    status, bad, _ = api.request(
        "PUT",
        "/v1/booking/schedules/me",
        {"time_zone": "UTC", "weekly": {"mon": [{"start": "10:00", "end": "09:00"}]}},
        token=bob["token"],
    )
    assert status == 422, bad
    # The owner may change anyone's.
    assert open_all_week(api, owner["token"], bob["user"]["id"])["user_id"] == bob["user"]["id"]


def test_another_workspace_cannot_read_or_change_event_types_schedules_or_bookings(api, jobs):
    owner, created = workspace_with_event_type(api)
    status, booked, _ = book(api, owner, _tomorrow_at(10))
    assert status == 201, booked
    booking_id = booked["booking"]["id"]
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    token = other["token"]
    assert api.request("GET", f"/v1/booking/event-types/{created['id']}", token=token)[0] == 404
    assert (
        api.request(
            "PATCH", f"/v1/booking/event-types/{created['id']}", {"title": "x"}, token=token
        )[0]
        == 404
    )
    assert api.request("DELETE", f"/v1/booking/event-types/{created['id']}", token=token)[0] == 404
    assert api.request("GET", "/v1/booking/event-types", token=token)[1]["event_types"] == []
    assert api.request("GET", f"/v1/booking/schedules/{owner['user']['id']}", token=token)[0] == 404
    assert api.request("GET", f"/v1/booking/bookings/{booking_id}", token=token)[0] == 404
    assert (
        api.request(
            "POST", f"/v1/booking/bookings/{booking_id}/cancel", {"reason": "x"}, token=token
        )[0]
        == 404
    )
    assert api.request("GET", "/v1/booking/bookings", token=token)[1]["bookings"] == []
    # A slug of the first workspace under the second's slug is no page.
    assert api.request("GET", f"/v1/booking/{other['workspace']['slug']}/intro-call")[0] == 404
    assert api.request("GET", "/v1/booking/no-such-workspace")[0] == 404


def test_the_public_page_lists_event_types_with_host_names_but_no_member_ids_or_addresses(api):
    owner, _created = workspace_with_event_type(api)
    api.request(
        "POST",
        "/v1/booking/event-types",
        {**event_type_body(owner["user"]["id"]), "slug": "hidden", "public": False},
        token=owner["token"],
    )
    status, page, _ = api.request("GET", f"/v1/booking/{owner['workspace']['slug']}")
    assert status == 200, page
    assert [e["slug"] for e in page["event_types"]] == ["intro-call"]
    assert page["event_types"][0]["hosts"] == [{"name": "Ann Owner", "avatar_url": None}]
    text = str(page)
    assert owner["user"]["id"] not in text and "ann@acme.test" not in text
    # An unlisted event type still opens by its address.
    assert api.request("GET", f"/v1/booking/{owner['workspace']['slug']}/hidden")[0] == 200


def test_slots_come_in_utc_with_their_local_rendering_and_a_window_is_bounded(api):
    owner, _created = workspace_with_event_type(api)
    day = _tomorrow_at(0).date().isoformat()
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots"
    status, found, _ = api.request("GET", f"{path}?from={day}&to={day}&time_zone=Asia/Tokyo")
    assert status == 200, found
    assert found["time_zone"] == "Asia/Tokyo"
    first = found["slots"][0]
    assert first["start"].endswith("Z") and first["local_start"].endswith("+09:00")
    assert first["local_date"] == day and first["local_time"] == "00:00"
    assert len(found["slots"]) == 48  # every half hour of the local day
    status, too_long, _ = api.request("GET", f"{path}?from={day}&to=2099-01-01")
    assert status == 422, too_long
    status, hourly, _ = api.request("GET", f"{path}?from={day}&to={day}&duration=60")
    assert status == 200 and hourly["slots"][0]["end"] != first["end"]
    assert api.request("GET", f"{path}?duration=45")[0] == 422


def test_a_booking_is_made_shown_to_the_team_and_taken_out_of_the_slots(api, jobs):
    owner, _created = workspace_with_event_type(api)
    start = _tomorrow_at(10)
    status, booked, _ = book(api, owner, start, answers={"company": "Globex", "plan": "Pro"})
    assert status == 201, booked
    assert booked["booking"]["status"] == "confirmed"
    assert booked["booking"]["start"] == _z(start)
    assert booked["booking"]["local_start"].startswith(start.strftime("%Y-%m-%dT")) is True
    assert booked["manage_url"].startswith("https://api.helptal.test/book/manage/")
    assert owner["user"]["id"] not in str(booked)
    status, listed, _ = api.request("GET", "/v1/booking/bookings", token=owner["token"])
    assert status == 200 and [b["id"] for b in listed["bookings"]] == [booked["booking"]["id"]]
    shown = listed["bookings"][0]
    assert shown["invitee"]["email"] == "carol@customer.test"
    assert shown["answers"] == {"company": "Globex", "plan": "Pro"}
    day = start.date().isoformat()
    slots = api.request(
        "GET", f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots?from={day}&to={day}"
    )[1]["slots"]
    starts = {s["start"] for s in slots}
    assert _z(start) not in starts and _z(start - timedelta(minutes=30)) in starts
    status, again, _ = book(api, owner, start, email="dan@customer.test")
    assert status == 409 and again["error"]["code"] == "slot_taken"
    assert [(j.change, j.sequence) for j in jobs.jobs] == [("created", 0)]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({}, "answers.company"),
        ({"company": "Globex", "plan": "Enterprise"}, "answers.plan"),
        ({"company": "Globex", "unknown": "x"}, "answers.unknown"),
        ({"company": "x" * 501}, "answers.company"),
    ],
)
def test_answers_that_do_not_fit_the_questions_are_refused(api, answers, field):
    owner, _created = workspace_with_event_type(api)
    status, refused, _ = book(api, owner, _tomorrow_at(10), answers=answers)
    assert status == 422, refused
    assert field in [d["field"] for d in refused["error"]["details"]]


def test_a_start_off_the_grid_or_a_duration_not_offered_is_refused(api):
    owner, _created = workspace_with_event_type(api)
    status, off, _ = book(api, owner, _tomorrow_at(10) + timedelta(minutes=10))
    assert status == 409 and off["error"]["code"] == "slot_taken"
    status, long, _ = book(api, owner, _tomorrow_at(10), duration=45)
    assert status == 422, long
    status, bad_zone, _ = book(api, owner, _tomorrow_at(10), time_zone="Nowhere/Land")
    assert status == 422, bad_zone


def test_bookings_from_one_address_are_limited_per_hour(api, monkeypatch):
    owner, _created = workspace_with_event_type(api)
    deps = bootstrap.booking_deps()
    from dataclasses import replace

    limited = replace(deps, policy=replace(deps.policy, bookings_per_ip_hour=2))
    monkeypatch.setattr(bootstrap, "booking_deps", lambda: limited)
    statuses = [book(api, owner, _tomorrow_at(8 + n))[0] for n in range(3)]
    assert statuses == [201, 201, 429]


def test_the_invitee_reschedules_and_cancels_with_the_manage_link(api, jobs):
    owner, _created = workspace_with_event_type(api, slot_step=15)
    start = _tomorrow_at(10)
    booked = book(api, owner, start)[1]
    token = booked["manage_url"].rsplit("/", 1)[1]
    status, shown, _ = api.request("GET", f"/v1/booking/manage/{token}")
    assert status == 200 and shown["can_change"] is True
    day = start.date().isoformat()
    status, free, _ = api.request("GET", f"/v1/booking/manage/{token}/slots?from={day}&to={day}")
    offered = {s["start"] for s in free["slots"]}
    # Its own time counts as free (a quarter of an hour later overlaps it), its own start is
    # no move.
    assert status == 200 and _z(start + timedelta(minutes=15)) in offered
    assert _z(start) not in offered
    later = start + timedelta(hours=2)
    status, moved, _ = api.request(
        "POST",
        f"/v1/booking/manage/{token}/reschedule",
        {"start": _z(later), "time_zone": "Europe/Paris"},
    )
    assert status == 200, moved
    assert moved["booking"]["start"] == _z(later)
    # The old time is free again, the new one taken.
    status, other, _ = book(api, owner, start, email="dan@customer.test")
    assert status == 201, other
    assert book(api, owner, later, email="eve@customer.test")[0] == 409
    status, cancelled, _ = api.request(
        "POST", f"/v1/booking/manage/{token}/cancel", {"reason": "Something came up"}
    )
    assert status == 200 and cancelled["booking"]["status"] == "cancelled"
    assert cancelled["can_change"] is False
    assert book(api, owner, later, email="eve@customer.test")[0] == 201
    status, again, _ = api.request("POST", f"/v1/booking/manage/{token}/cancel", {"reason": ""})
    assert status == 409 and again["error"]["code"] == "booking_not_active"
    mine = [j for j in jobs.jobs if j.booking_id == booked["booking"]["id"]]
    assert [(j.change, j.sequence) for j in mine] == [
        ("created", 0),
        ("rescheduled", 1),
        ("cancelled", 2),
    ]


def test_a_forged_manage_link_opens_nothing(api):
    owner, _created = workspace_with_event_type(api)
    booked = book(api, owner, _tomorrow_at(10))[1]
    token = booked["manage_url"].rsplit("/", 1)[1]
    payload, signature = token.split(".")
    forged = f"{payload}.{signature[:-2]}AA"
    status, refused, _ = api.request("GET", f"/v1/booking/manage/{forged}")
    assert status == 404 and refused["error"]["code"] == "manage_link_invalid"
    assert api.request("POST", f"/v1/booking/manage/{forged}/cancel", {"reason": ""})[0] == 404


def test_changes_inside_the_cancellation_notice_are_refused_to_the_invitee(api):
    owner, _ = workspace_with_event_type(api, cancel_notice=60 * 24 * 7)
    booked = book(api, owner, _tomorrow_at(10))[1]
    token = booked["manage_url"].rsplit("/", 1)[1]
    status, refused, _ = api.request("POST", f"/v1/booking/manage/{token}/cancel", {"reason": ""})
    assert status == 409 and refused["error"]["code"] == "too_late_to_change"
    # The host still may.
    status, cancelled, _ = api.request(
        "POST",
        f"/v1/booking/bookings/{booked['booking']['id']}/cancel",
        {"reason": "Sorry"},
        token=owner["token"],
    )
    assert status == 200 and cancelled["cancelled_by"].startswith("user:")


def test_a_host_confirms_or_declines_bookings_that_wait_for_confirmation(api, jobs):
    owner, _ = workspace_with_event_type(api, requires_confirmation=True)
    first = book(api, owner, _tomorrow_at(10))[1]["booking"]
    second = book(api, owner, _tomorrow_at(12))[1]["booking"]
    assert first["status"] == "pending"
    path = "/v1/booking/bookings/{}/{}"
    status, confirmed, _ = api.request(
        "POST", path.format(first["id"], "confirm"), token=owner["token"]
    )
    assert status == 200 and confirmed["status"] == "confirmed"
    assert api.request("POST", path.format(first["id"], "confirm"), token=owner["token"])[0] == 409
    status, declined, _ = api.request(
        "POST", path.format(second["id"], "decline"), {"reason": "Full"}, token=owner["token"]
    )
    assert status == 200 and declined["status"] == "declined"
    # The declined time is free again; the confirmed one is not.
    assert book(api, owner, _tomorrow_at(12), email="x@customer.test")[0] == 201
    assert book(api, owner, _tomorrow_at(10), email="y@customer.test")[0] == 409


def test_a_host_moves_a_booking_and_an_agent_who_is_no_host_may_not(api):
    owner, _created = workspace_with_event_type(api)
    booked = book(api, owner, _tomorrow_at(10))[1]["booking"]
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    path = f"/v1/booking/bookings/{booked['id']}/reschedule"
    later = _z(_tomorrow_at(15))
    assert api.request("POST", path, {"start": later}, token=bob["token"])[0] == 403
    status, moved, _ = api.request("POST", path, {"start": later}, token=owner["token"])
    assert status == 200 and moved["sequence"] == 1
    assert moved["rescheduled_from"].startswith(_tomorrow_at(10).strftime("%Y-%m-%dT10:00"))


def test_a_slots_page_makes_the_same_aws_calls_for_a_day_and_for_a_month(api, aws_calls):
    owner, _ = workspace_with_event_type(api)
    book(api, owner, _tomorrow_at(10))
    path = f"/v1/booking/{owner['workspace']['slug']}/intro-call/slots"
    first = _tomorrow_at(0).date()
    calls = {}
    for days in (1, 30):
        last = (first + timedelta(days=days - 1)).isoformat()
        aws_calls.clear()
        status, found, _ = api.request("GET", f"{path}?from={first.isoformat()}&to={last}")
        assert status == 200 and found["slots"]
        calls[days] = sorted(aws_calls)
    assert calls[1] == calls[30], calls
    assert len(calls[30]) <= 10 and not any("Scan" in c for c in calls[30]), calls
