"""Hostile input to the booking admin API and the calendar connections API and webhooks: every
bad request gets a 4xx with an error code and changes nothing; nothing reaches another
workspace's data."""

# The fixtures imported from the two API test modules are parameters of the tests here.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.booking import calendar_watch
from chalicelib.booking.calendars import ChannelRecord
from chalicelib.booking.ports import WatchChannel
from tests.integration.conftest import accept_invitation, invite
from tests.integration.test_booking_api import (  # noqa: F401 (the jobs fixture)
    ALL_WEEK,
    _tomorrow_at,
    _z,
    book,
    event_type_body,
    jobs,
    workspace_with_event_type,
)
from tests.integration.test_calendar_connections_api import (  # noqa: F401 (fixtures)
    APP,
    EMAIL,
    _callback,
    _connect,
    _cookie,
    _start,
    google,
    microsoft,
    providers,
    servers,
)


def refused(answer: tuple[int, Any, Any], status: int | tuple[int, ...], case: str = "") -> str:
    """The error code of a refused request, checking its status and shape (`case` names the case
    tried, in the failure message)."""
    code, body, _ = answer
    assert code in ((status,) if isinstance(status, int) else status), (case, code, body)
    assert body["error"]["code"] and body["error"]["message"], (case, body)
    return str(body["error"]["code"])


# -- event types ---------------------------------------------------------------------------------


# Each list below is a table of cases, `(id, ...)`: one test sets up once and tries them all in
# turn, naming the case in every assertion message.

HOSTILE_EVENT_TYPES: list[tuple[str, dict[str, Any]]] = [
    ("huge duration", {"durations": [10**12]}),
    ("negative duration", {"durations": [-30]}),
    ("too many durations", {"durations": [5, 10, 15, 20, 25, 30, 35]}),
    ("duration as text", {"durations": ["30"]}),
    ("duration as bool", {"durations": [True]}),
    ("negative buffer before", {"buffer_before": -5}),
    ("huge buffer after", {"buffer_after": 10**30}),
    ("huge minimum notice", {"minimum_notice": 2**63}),
    ("zero horizon", {"horizon_days": 0}),
    ("huge horizon", {"horizon_days": 10**9}),
    ("zero daily cap", {"daily_cap": 0}),
    ("huge weekly cap", {"weekly_cap": 10**40}),
    ("odd slot step", {"slot_step": 7}),
    ("too many reminders", {"reminders": [5, 10, 15, 20, 25, 30]}),
    ("too many questions", {"questions": [{"id": f"q{i}", "label": "Q"} for i in range(21)]}),
    (
        "duplicate question ids",
        {"questions": [{"id": "q", "label": "A"}, {"id": "q", "label": "B"}]},
    ),
    ("reserved question id", {"questions": [{"id": "email", "label": "Mail"}]}),
    ("blank question label", {"questions": [{"id": "q", "label": "   "}]}),
    (
        "duplicate choice options",
        {"questions": [{"id": "q", "label": "Q", "kind": "choice", "options": ["a", "a "]}]},
    ),
    (
        "too many round robin hosts",
        {"host_mode": "round_robin", "host_ids": [f"01HOST{i}" for i in range(11)]},
    ),
    ("host not a member", {"host_ids": ["01NOTAMEMBER"]}),
    ("null title", {"title": None}),
    ("blank title", {"title": " "}),
    ("time zone path", {"time_zone": "../../etc/passwd"}),
    ("time zone with nul", {"time_zone": "Europe/Paris\x00"}),
    ("slug with leading dash", {"slug": "-leading-dash"}),
    ("plain http link", {"location": {"kind": "link", "value": "http://plain.test"}}),
    ("unknown location kind", {"location": {"kind": "carrier-pigeon"}}),
    ("unknown field", {"unknown": 1}),
]


def test_a_hostile_event_type_is_refused_and_nothing_is_created(api):
    owner = api.sign_up()

    for case, change in HOSTILE_EVENT_TYPES:
        body = {**event_type_body(owner["user"]["id"]), **change}

        answer = api.request("POST", "/v1/booking/event-types", body, token=owner["token"])

        refused(answer, (400, 422), case)
        assert api.request("GET", "/v1/booking/event-types", token=owner["token"])[1] == {
            "event_types": []
        }, case


# `status` None: the change is fine and is saved. Those come last, and "changes nothing" is
# checked against the event type as it was just before each case.
EVENT_TYPE_CHANGES: list[tuple[str, dict[str, Any], int | tuple[int, ...] | None]] = [
    ("unknown field", {"unknown": 1}, 422),
    ("id", {"id": "01OTHER"}, 422),
    ("version", {"version": 7}, 422),
    ("workspace id", {"workspace_id": "01OTHER"}, 422),
    ("no durations", {"durations": []}, (400, 422)),
    ("two hosts for one", {"host_mode": "one", "host_ids": ["a", "b"]}, 422),
    (
        "duplicate question ids",
        {"questions": [{"id": "q", "label": "A"}, {"id": "q", "label": "B"}]},
        422,
    ),
    ("negative slot step", {"slot_step": -5}, (400, 422)),
    ("negative daily cap", {"daily_cap": -1}, (400, 422)),
    ("one host collective", {"host_mode": "collective"}, None),  # one host is a fine collective
    ("null time zone", {"time_zone": None}, None),  # null: unchanged
    ("optional text question", {"questions": [{"id": "q", "label": "Q"}]}, None),  # not required
]


def test_a_hostile_event_type_change_is_refused_and_changes_nothing(api):
    owner, created = workspace_with_event_type(api)
    path = f"/v1/booking/event-types/{created['id']}"

    for case, change, status in EVENT_TYPE_CHANGES:
        before = api.request("GET", path, token=owner["token"])[1]

        answer = api.request("PATCH", path, change, token=owner["token"])

        if status is not None:
            refused(answer, status, case)
            assert api.request("GET", path, token=owner["token"])[1] == before, case
        else:
            assert answer[0] == 200, (case, answer)


def test_event_type_slugs_hosts_and_ids_stay_in_their_workspace(api):
    owner, created = workspace_with_event_type(api)
    token = owner["token"]
    path = f"/v1/booking/event-types/{created['id']}"
    second = api.request(
        "POST",
        "/v1/booking/event-types",
        event_type_body(owner["user"]["id"], slug="two"),
        token=token,
    )[1]
    other, theirs = workspace_with_event_type(api, email="gus@globex.test", workspace="Globex")

    # A slug taken by another event type, on update: 409, both unchanged.
    assert refused(api.request("PATCH", path, {"slug": "two"}, token=token), 409) == "slug_taken"
    # A host of another workspace is nobody here.
    stranger = {"host_ids": [other["user"]["id"]]}
    refused(api.request("PATCH", path, stranger, token=token), 422)
    # Another workspace's event type id, the same slug there: untouched.
    other_path = f"/v1/booking/event-types/{theirs['id']}"
    refused(api.request("PATCH", other_path, {"title": "Mine"}, token=token), 404)
    refused(api.request("DELETE", other_path, token=token), 404)

    assert api.request("GET", path, token=token)[1] == created
    assert api.request("GET", f"/v1/booking/event-types/{second['id']}", token=token)[1] == second
    assert api.request("GET", other_path, token=other["token"])[1] == theirs
    assert api.request("DELETE", path, token=token)[0] == 204
    refused(api.request("DELETE", path, token=token), 404)


# -- schedules -----------------------------------------------------------------------------------


def _mon(*spans: tuple[str, str]) -> dict[str, Any]:
    return {"time_zone": "UTC", "weekly": {"mon": [{"start": a, "end": b} for a, b in spans]}}


def _overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    return {"time_zone": "UTC", "weekly": {}, "overrides": overrides}


HOSTILE_SCHEDULES: list[tuple[str, dict[str, Any]]] = [
    ("overlapping spans", _mon(("09:00", "12:00"), ("11:00", "13:00"))),
    ("span ends before it starts", _mon(("12:00", "09:00"))),
    ("empty span", _mon(("09:00", "09:00"))),
    ("span from 24:00 to 24:00", _mon(("24:00", "24:00"))),
    ("span starting at 24:00", _mon(("24:00", "09:00"))),
    ("off the five minute grid", _mon(("09:03", "10:00"))),
    ("hour of one digit", _mon(("9:00", "10:00"))),
    ("past 24:00", _mon(("24:05", "10:00"))),
    ("too many spans", _mon(*[(f"{h:02}:00", f"{h:02}:30") for h in range(7)])),
    ("unknown day", {"time_zone": "UTC", "weekly": {"funday": []}}),
    ("day as a number", {"time_zone": "UTC", "weekly": {"7": []}}),
    ("override not a date", _overrides({"not-a-date": []})),
    ("override February 30", _overrides({"2025-02-30": []})),
    ("override date without dashes", _overrides({"20250101": []})),
    ("override week date", _overrides({"2025-W01-1": []})),
    ("override too far ahead", _overrides({"9999-12-31": []})),
    (
        "too many overrides and a huge key",
        _overrides({f"2030-01-{d:02}": [] for d in range(1, 32)} | {"x" * 10_000: []}),
    ),
    ("unknown time zone", {"time_zone": "Mars/Olympus", "weekly": {}}),
    ("empty time zone", {"time_zone": "", "weekly": {}}),
    ("no weekly", {"time_zone": "UTC"}),
    ("null day", {"time_zone": "UTC", "weekly": {"mon": None}}),
    ("span without end", {"time_zone": "UTC", "weekly": {"mon": [{"start": "09:00"}]}}),
]


def test_a_hostile_schedule_is_refused_and_the_saved_one_stays(api):
    owner = api.sign_up()

    for case, body in HOSTILE_SCHEDULES:
        before = api.request("GET", "/v1/booking/schedules/me", token=owner["token"])[1]

        answer = api.request("PUT", "/v1/booking/schedules/me", body, token=owner["token"])

        refused(answer, (400, 422), case)
        assert api.request("GET", "/v1/booking/schedules/me", token=owner["token"])[1] == before, (
            case
        )


def test_overrides_of_days_long_past_are_not_kept_and_one_years_ahead_is(api):
    owner = api.sign_up()
    today = datetime.now(UTC).date()
    dates = ["0001-01-01", (today - timedelta(days=30)).isoformat()]
    dates += [today.isoformat(), (today + timedelta(days=700)).isoformat()]
    body = {"time_zone": "UTC", "weekly": {}, "overrides": {d: [] for d in dates}}

    status, saved, _ = api.request("PUT", "/v1/booking/schedules/me", body, token=owner["token"])

    assert status == 200, saved
    assert list(saved["overrides"]) == dates[2:]


def test_an_agent_cannot_change_another_members_schedule_nor_reach_another_workspace(api):
    owner = api.sign_up()
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    stranger = api.sign_up(workspace="Globex", email="gus@globex.test")
    week = {"time_zone": "UTC", "weekly": ALL_WEEK}
    owner_path = f"/v1/booking/schedules/{owner['user']['id']}"

    assert (
        refused(api.request("PUT", owner_path, week, token=bob["token"]), 403) == "forbidden_role"
    )
    refused(api.request("PUT", owner_path, week, token=stranger["token"]), (403, 404))
    refused(api.request("GET", owner_path, token=stranger["token"]), 404)

    assert api.request("GET", owner_path, token=owner["token"])[1]["saved"] is False


# -- bookings: host actions ----------------------------------------------------------------------


def test_host_actions_on_bookings_that_cannot_take_them_are_refused(api, jobs):
    owner, _ = workspace_with_event_type(api, requires_confirmation=True)
    token = owner["token"]
    first = book(api, owner, _tomorrow_at(10))[1]["booking"]
    second = book(api, owner, _tomorrow_at(12), email="dan@customer.test")[1]["booking"]
    path = "/v1/booking/bookings/{}/{}"
    assert api.request("POST", path.format(first["id"], "confirm"), token=token)[0] == 200
    assert api.request("POST", path.format(second["id"], "cancel"), {}, token=token)[0] == 200

    codes = [
        refused(api.request("POST", path.format(first["id"], "confirm"), token=token), 409),
        refused(api.request("POST", path.format(second["id"], "decline"), {}, token=token), 409),
        refused(api.request("POST", path.format(second["id"], "confirm"), token=token), 409),
        refused(api.request("POST", path.format(second["id"], "cancel"), {}, token=token), 409),
        refused(
            api.request(
                "POST",
                path.format(second["id"], "reschedule"),
                {"start": _z(_tomorrow_at(14))},
                token=token,
            ),
            409,
        ),
        # The first booking's time is taken by itself... and the second's slot is now free, but
        # a time off the grid is no slot.
        refused(
            api.request(
                "POST",
                path.format(first["id"], "reschedule"),
                {"start": _z(_tomorrow_at(14) + timedelta(minutes=7))},
                token=token,
            ),
            409,
        ),
    ]

    assert codes == [
        "booking_not_pending",
        "booking_not_pending",
        "booking_not_pending",
        "booking_not_active",
        "booking_not_active",
        "slot_taken",
    ]
    listed = {
        b["id"]: b for b in api.request("GET", "/v1/booking/bookings", token=token)[1]["bookings"]
    }
    assert (listed[first["id"]]["status"], listed[first["id"]]["sequence"]) == ("confirmed", 0)
    assert listed[second["id"]]["status"] == "cancelled"


def test_rescheduling_to_a_taken_slot_or_an_absurd_time_is_refused(api, jobs):
    owner, _ = workspace_with_event_type(api)
    token = owner["token"]
    first = book(api, owner, _tomorrow_at(10))[1]["booking"]
    book(api, owner, _tomorrow_at(12), email="dan@customer.test")
    path = f"/v1/booking/bookings/{first['id']}/reschedule"

    for start in (
        _z(_tomorrow_at(12)),
        "9999-12-31T23:59:00Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        _z(datetime.now(UTC) - timedelta(days=3)),
        _z(datetime.now(UTC) + timedelta(days=3000)),
        "2030-01-01T10:00:00",  # no offset
        "tomorrow",
        12,
    ):
        refused(api.request("POST", path, {"start": start}, token=token), (400, 409, 422))

    got = api.request("GET", f"/v1/booking/bookings/{first['id']}", token=token)[1]
    assert (got["start"], got["sequence"]) == (first["start"], 0)


def test_another_workspaces_booking_takes_no_host_action(api, jobs):
    owner, _ = workspace_with_event_type(api, requires_confirmation=True)
    booked = book(api, owner, _tomorrow_at(10))[1]["booking"]
    stranger = api.sign_up(workspace="Globex", email="gus@globex.test")
    path = f"/v1/booking/bookings/{booked['id']}"

    for action, body in (
        ("confirm", None),
        ("decline", {}),
        ("cancel", {}),
        ("reschedule", {"start": _z(_tomorrow_at(14))}),
    ):
        answer = api.request("POST", f"{path}/{action}", body, token=stranger["token"])
        assert refused(answer, 404) == "booking_not_found"

    got = api.request("GET", path, token=owner["token"])[1]
    assert (got["status"], got["start"], got["sequence"]) == ("pending", booked["start"], 0)


HOSTILE_BOOKINGS_QUERIES: list[tuple[str, str]] = [
    ("from far ahead", "from=9999-12-31T23:59:59-05:00"),
    ("from before year 1 in UTC", "from=0001-01-01T00:00:00%2B01:00"),
    ("from without offset", "from=2030-01-01T00:00:00"),
    ("to not a time", "to=yesterday"),
    ("zero limit", "limit=0"),
    ("huge limit", "limit=1000000"),
    ("unknown status", "status=lost"),
    ("cursor not a cursor", "cursor=not-a-cursor"),
    ("huge cursor", "cursor=" + "A" * 5000),
    ("unknown parameter", "nope=1"),
]


def test_a_hostile_bookings_query_is_refused(api):
    owner = api.sign_up()

    for case, query in HOSTILE_BOOKINGS_QUERIES:
        answer = api.request("GET", f"/v1/booking/bookings?{query}", token=owner["token"])

        assert (answer[0] == 200 and answer[1]["bookings"] == []) or refused(
            answer, (400, 422), case
        ), case


# -- calendar connections ------------------------------------------------------------------------


def _connections(api, token: str) -> list[dict[str, Any]]:
    return api.request("GET", "/v1/calendar-connections", token=token)[1]["connections"]


HOSTILE_CALLBACKS: list[tuple[str, str, str]] = [
    ("nothing", "", "state_mismatch"),
    ("no state", "code=abc", "state_mismatch"),
    ("garbage state", "state=garbage&code=abc", "state_mismatch"),
    ("huge state", "state=" + "x" * 100_00 + "&code=abc", "state_mismatch"),
    ("no code", "state={state}", "access_denied"),
    ("consent denied", "state={state}&error=access_denied", "access_denied"),
    ("empty code and error", "state={state}&code=&error=", "access_denied"),
    ("unknown code", "state={state}&code=not-a-code", "provider_unavailable"),
    ("second state", "state={state}&code={code}&state=other", "state_mismatch"),
]


def test_a_hostile_callback_comes_back_as_an_error_code_and_connects_nothing(api, google):
    owner = api.sign_up()

    for case, query, error in HOSTILE_CALLBACKS:
        code, state = google.consent(_start(api, owner["token"]), EMAIL)

        response = _callback(
            api, query.format(state=state, code=code) + "&hop=1", _cookie(owner["token"])
        )

        assert response.status_code == 302, case
        assert response.headers["Location"] == f"{APP}?error={error}", case
        assert _connections(api, owner["token"]) == [], case


def test_a_state_of_another_session_workspace_or_provider_connects_nothing(api, google, microsoft):
    owner = api.sign_up()
    stranger = api.sign_up(workspace="Globex", email="gus@globex.test")
    code, state = google.consent(_start(api, owner["token"]), EMAIL)

    for query, cookie, provider in (
        (f"code={code}&state={state}", stranger["token"], "google"),
        (f"code={code}&state={state}", owner["token"], "microsoft"),
        (f"code={code}&state={state}", owner["token"], "google"),  # used once above: gone
        (f"code={code}&state={state}", owner["token"], "zoom"),
    ):
        response = _callback(api, query + "&hop=1", _cookie(cookie), provider)
        assert response.status_code == 302
        assert "error=state_mismatch" in response.headers["Location"], provider

    assert _connections(api, owner["token"]) == [] and _connections(api, stranger["token"]) == []


def test_hostile_calendar_choices_are_refused_and_change_nothing(api, google):
    owner = api.sign_up()
    mine = _connect(api, google, owner["token"])
    other = _connect(api, google, owner["token"], email="ann.work@gmail.test")
    path = f"/v1/calendar-connections/{mine['id']}"

    for body, status in (
        ({"busy_calendar_ids": [c["id"] for c in other["calendars"]]}, 422),
        ({"write_calendar_id": other["write_calendar_id"]}, 422),
        ({"busy_calendar_ids": ["x"] * 51}, 422),
        ({"busy_calendar_ids": [1, 2]}, 422),
        ({"busy_calendar_ids": "primary"}, 422),
        ({"busy_calendar_ids": [""]}, 422),
        ({"write_calendar_id": ""}, 422),
        ({"write_calendar_id": "x" * 2000}, 422),
        ({"status": "connected"}, 422),
        ({"user_id": "01OTHER"}, 422),
        ("[1", 400),
        ([], (400, 422)),
    ):
        refused(api.request("PATCH", path, body, token=owner["token"]), status)

    assert {c["id"]: c for c in _connections(api, owner["token"])}[mine["id"]] == mine


def test_a_connection_is_changed_or_disconnected_only_by_its_member_or_a_manager(api, google):
    owner = api.sign_up()
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    stranger = api.sign_up(workspace="Globex", email="gus@globex.test")
    connection = _connect(api, google, owner["token"])
    path = f"/v1/calendar-connections/{connection['id']}"

    assert refused(api.request("PATCH", path, {}, token=bob["token"]), 403) == "forbidden_role"
    refused(api.request("DELETE", path, token=bob["token"]), 403)
    refused(api.request("PATCH", path, {}, token=stranger["token"]), 404)
    refused(api.request("DELETE", path, token=stranger["token"]), 404)
    refused(
        api.request("GET", "/v1/calendar-connections?user_id=" + "x" * 65, token=bob["token"]), 422
    )
    refused(
        api.request(
            "GET", f"/v1/calendar-connections?user_id={owner['user']['id']}", token=bob["token"]
        ),
        403,
    )
    assert _connections(api, owner["token"]) == [connection]

    assert api.request("DELETE", path, token=owner["token"])[0] == 204
    assert refused(api.request("DELETE", path, token=owner["token"]), 404) == (
        "calendar_connection_not_found"
    )
    refused(api.request("PATCH", path, {"busy_calendar_ids": []}, token=owner["token"]), 404)


# -- webhooks ------------------------------------------------------------------------------------


def _google_push(api, headers: dict[str, str]):
    return api.client.http.post("/v1/webhooks/google-calendar", headers=headers)


def test_google_pushes_without_a_known_channel_and_its_token_are_refused(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    ws = owner["workspace"]["id"]
    deps = bootstrap.calendar_deps()
    [record] = deps.store.channels_of(ws, connection["id"])
    token = calendar_watch.channel_token(deps, ws, connection["id"], record.calendar_id)
    channel = record.channel.channel_id
    before = deps.store.get_connection(ws, connection["id"]).busy_generation
    wrong_token = token[:-1] + ("1" if token.endswith("0") else "0")  # one character off

    for headers in (
        {},
        {"X-Goog-Channel-ID": channel},
        {"X-Goog-Channel-Token": token},
        {"X-Goog-Channel-ID": channel, "X-Goog-Channel-Token": wrong_token},
        {"X-Goog-Channel-ID": channel, "X-Goog-Channel-Token": "x" * 5000},
        {"X-Goog-Channel-ID": "unknown", "X-Goog-Channel-Token": token},
        {"X-Goog-Channel-ID": "x" * 5000, "X-Goog-Channel-Token": token},
    ):
        response = _google_push(api, {**headers, "X-Goog-Resource-State": "exists"})
        assert response.status_code == 404, headers
        assert json.loads(response.body)["error"]["code"] == "channel_not_found"

    assert deps.store.get_connection(ws, connection["id"]).busy_generation == before


def test_a_graph_validation_token_is_only_ever_plain_text(api):
    for token in ("<script>alert(1)</script>", "<html><body>hi</body></html>", "a\r\nb: c"):
        response = api.client.http.post(
            "/v1/webhooks/microsoft-graph?"
            + __import__("urllib.parse").parse.urlencode({"validationToken": token})
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.body.decode() == token
    for query in ("validationToken=", "validationToken=" + "x" * 1025):
        response = api.client.http.post(f"/v1/webhooks/microsoft-graph?{query}")
        assert response.status_code == 400
        assert json.loads(response.body)["error"]["code"] == "invalid_token"


HOSTILE_GRAPH_NOTIFICATIONS: list[tuple[str, str, int]] = [
    ("empty", "", 400),
    ("broken json", "[1", 400),
    ("null", "null", 400),
    ("a list", "[]", 400),
    ("value an object", '{"value": {}}', 400),
    ("no value", '{"nothing": []}', 400),
    ("no notifications", '{"value": []}', 404),
    ("notifications not objects", '{"value": [1, "x", null]}', 404),
    ("ids of the wrong type", '{"value": [{"subscriptionId": 1, "clientState": {"a": 1}}]}', 404),
    (
        "guessed client state",
        '{"value": [{"subscriptionId": "sub-1", "clientState": "guess"}]}',
        404,
    ),
    ("no client state", '{"value": [{"subscriptionId": "sub-1"}]}', 404),
    ("deep nesting", "[" * 10_000 + "]" * 10_000, 400),
    ("too large", '{"value": "' + "x" * 300_000 + '"}', 413),
    ("not utf-8", "\xff\xfe", 400),
]


def test_a_hostile_graph_notification_is_refused_and_drops_nothing(api, microsoft):
    owner = api.sign_up()
    connection = _connect(api, microsoft, owner["token"], "ann@contoso.test", "microsoft")
    ws = owner["workspace"]["id"]
    deps = bootstrap.calendar_deps()
    record = ChannelRecord(
        ws,
        connection["id"],
        "microsoft",
        connection["write_calendar_id"],
        WatchChannel("ch1", "sub-1", datetime.now(UTC) + timedelta(days=2)),
    )
    deps.store.save_channel(record, replaces=None)

    for case, body, status in HOSTILE_GRAPH_NOTIFICATIONS:
        before = deps.store.get_connection(ws, connection["id"]).busy_generation

        response = api.client.http.post(
            "/v1/webhooks/microsoft-graph", headers={"Content-Type": "application/json"}, body=body
        )

        assert response.status_code == status, (case, response.body)
        assert json.loads(response.body)["error"]["code"], case
        assert deps.store.get_connection(ws, connection["id"]).busy_generation == before, case
