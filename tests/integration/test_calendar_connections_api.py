"""Calendar connections through the API on the emulator, with the real Google adapter against
its local stand-in: connecting with PKCE and a state bound to the browser session, the
redirect back to the web client, choosing calendars, busy times, a revoked grant, push
notifications, the channels job and disconnecting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import bootstrap
from chalicelib.booking import calendar_watch
from chalicelib.booking.calendars import ChannelRecord
from chalicelib.booking.ports import Interval, WatchChannel
from chalicelib.settings import reload_settings
from fakes import google as google_client
from fakes import microsoft as microsoft_client
from fakes.google import FakeGoogle
from fakes.microsoft import FakeMicrosoft

COOKIE = "__Host-helptal_session"
APP = "https://app.helptal.test/#/settings/calendars"
EMAIL = "ann@gmail.test"


@pytest.fixture(scope="module")
def servers():
    google, microsoft = FakeGoogle().start(), FakeMicrosoft().start()
    yield google, microsoft
    google.stop()
    microsoft.stop()


@pytest.fixture
def providers(servers, monkeypatch):
    """The deployment's own adapters (built by bootstrap from the settings) pointed at the
    stand-ins."""
    google, microsoft = servers
    for server in servers:
        server.reset()
        server.deliver_notifications = False  # the API is not listening on a socket
    monkeypatch.setenv("GOOGLE_API_BASE", google.url)
    monkeypatch.setenv("GOOGLE_OAUTH_BASE", google.url)
    monkeypatch.setenv("GOOGLE_ACCOUNTS_BASE", google.url)
    monkeypatch.setenv("GOOGLE_CLIENT_ID", google_client.CLIENT_ID)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", google_client.CLIENT_SECRET)
    monkeypatch.setenv("MS_GRAPH_BASE", f"{microsoft.url}/v1.0")
    monkeypatch.setenv("MS_LOGIN_BASE", microsoft.url)
    monkeypatch.setenv("MS_CLIENT_ID", microsoft_client.CLIENT_ID)
    monkeypatch.setenv("MS_CLIENT_SECRET", microsoft_client.CLIENT_SECRET)
    reload_settings()
    bootstrap.reset()
    yield google, microsoft
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture
def google(providers):
    return providers[0]


@pytest.fixture
def microsoft(providers):
    return providers[1]


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


def _start(api, token: str, provider: str = "google") -> str:
    status, body, _ = api.request("POST", f"/v1/calendar-connections/{provider}/start", token=token)
    assert status == 200, body
    return str(body["authorization_url"])


def _callback(api, query: str, headers: dict[str, str] | None = None, provider: str = "google"):
    return api.client.http.get(
        f"/v1/calendar-connections/{provider}/callback?{query}", headers=headers or {}
    )


def _connect(api, server, token: str, email: str = EMAIL, provider: str = "google") -> dict:
    code, state = server.consent(_start(api, token, provider), email)
    response = _callback(api, f"code={code}&state={state}", _cookie(token), provider)
    assert response.status_code == 302, response.body
    assert response.headers["Location"] == f"{APP}?connected={provider}"
    [connection] = [
        c
        for c in api.request("GET", "/v1/calendar-connections", token=token)[1]["connections"]
        if c["account_email"] == email
    ]
    return connection


def test_a_member_connects_google_and_sees_its_calendars(api, google):
    owner = api.sign_up()

    connection = _connect(api, google, owner["token"])

    assert connection["status"] == "connected" and connection["last_error"] == ""
    assert connection["user_id"] == owner["user"]["id"]
    primary = next(c for c in connection["calendars"] if c["primary"])
    assert connection["busy_calendar_ids"] == [primary["id"]]
    assert connection["write_calendar_id"] == primary["id"]
    assert "refresh" not in str(connection).lower()


def test_the_consent_url_asks_for_pkce_and_offline_access(api, google):
    owner = api.sign_up()

    query = parse_qs(urlsplit(_start(api, owner["token"])).query)

    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [
        "https://api.helptal.test/v1/calendar-connections/google/callback"
    ]
    assert len(query["state"][0]) >= 43


def test_a_redirect_without_the_cookie_is_relayed_so_the_browser_sends_it(api, google):
    owner = api.sign_up()
    code, state = google.consent(_start(api, owner["token"]), EMAIL)

    relay = _callback(api, f"code={code}&state={state}")

    assert relay.status_code == 200
    assert "hop=1" in relay.body.decode() and 'http-equiv="refresh"' in relay.body.decode()
    assert "default-src 'none'" in relay.headers["Content-Security-Policy"]
    refused = _callback(api, f"code={code}&state={state}&hop=1")
    assert refused.headers["Location"] == f"{APP}?error=state_mismatch"
    done = _callback(api, f"code={code}&state={state}&hop=1", _cookie(owner["token"]))
    assert done.headers["Location"] == f"{APP}?connected=google"


def test_another_browser_session_cannot_finish_the_connection(api, google):
    owner = api.sign_up()
    other = api.sign_up(workspace="Other Co", email="eve@other.test")
    code, state = google.consent(_start(api, owner["token"]), EMAIL)

    response = _callback(api, f"code={code}&state={state}", _cookie(other["token"]))

    assert response.headers["Location"] == f"{APP}?error=state_mismatch"
    assert api.request("GET", "/v1/calendar-connections", token=other["token"])[1] == {
        "connections": []
    }
    assert api.request("GET", "/v1/calendar-connections", token=owner["token"])[1] == {
        "connections": []
    }


def test_a_state_works_once(api, google):
    owner = api.sign_up()
    code, state = google.consent(_start(api, owner["token"]), EMAIL)
    _callback(api, f"code={code}&state={state}", _cookie(owner["token"]))

    again = _callback(api, f"code={code}&state={state}", _cookie(owner["token"]))

    assert again.headers["Location"] == f"{APP}?error=state_mismatch"


def test_a_failing_provider_and_a_refused_consent_come_back_as_codes(api, google):
    owner = api.sign_up()
    code, state = google.consent(_start(api, owner["token"]), EMAIL)
    google.fail_next(503, times=3)

    failed = _callback(api, f"code={code}&state={state}", _cookie(owner["token"]))

    assert failed.status_code == 302
    assert failed.headers["Location"] == f"{APP}?error=provider_unavailable"
    _, state = google.consent(_start(api, owner["token"]), EMAIL)
    denied = _callback(api, f"error=access_denied&state={state}", _cookie(owner["token"]))
    assert denied.headers["Location"] == f"{APP}?error=access_denied"


def test_api_keys_cannot_connect_calendars(api, google):
    owner = api.sign_up()
    key = api.request("POST", "/v1/api-keys", {"name": "ci"}, token=owner["token"])[1]["key"]

    status, body, _ = api.request("POST", "/v1/calendar-connections/google/start", token=key)

    assert (status, body["error"]["code"]) == (403, "session_required")


def test_unknown_and_unconfigured_providers_are_refused(api, google, monkeypatch):
    owner = api.sign_up()

    unknown = api.request("POST", "/v1/calendar-connections/yahoo/start", token=owner["token"])
    monkeypatch.setenv("MS_CLIENT_ID", "")
    reload_settings()
    missing = api.request("POST", "/v1/calendar-connections/microsoft/start", token=owner["token"])

    assert (unknown[0], unknown[1]["error"]["code"]) == (404, "calendar_provider_not_found")
    assert (missing[0], missing[1]["error"]["code"]) == (503, "calendar_not_configured")


def test_busy_times_come_from_the_chosen_calendars(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    team = next(c for c in connection["calendars"] if not c["primary"])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    google.add_busy(EMAIL, start, start + timedelta(hours=1))
    google.add_busy(EMAIL, start + timedelta(hours=3), start + timedelta(hours=4), team["id"])
    window = Interval(start - timedelta(hours=1), start + timedelta(hours=6))
    ws, user = owner["workspace"]["id"], owner["user"]["id"]

    busy = bootstrap.busy_times().busy(ws, [user], window, fresh=True)[user]
    assert busy == [Interval(start, start + timedelta(hours=1))]

    status, chosen, _ = api.request(
        "PATCH",
        f"/v1/calendar-connections/{connection['id']}",
        {"busy_calendar_ids": [team["id"]]},
        token=owner["token"],
    )
    assert status == 200 and chosen["busy_calendar_ids"] == [team["id"]]
    busy = bootstrap.busy_times().busy(ws, [user], window, fresh=False)[user]
    assert busy == [Interval(start + timedelta(hours=3), start + timedelta(hours=4))]


def test_choosing_a_calendar_of_no_connection_is_refused(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])

    status, body, _ = api.request(
        "PATCH",
        f"/v1/calendar-connections/{connection['id']}",
        {"write_calendar_id": "someone-else@gmail.test"},
        token=owner["token"],
    )

    assert status == 422 and body["error"]["details"][0]["field"] == "write_calendar_id"


def test_a_revoked_grant_shows_reconnect_google_and_adds_no_busy_time(api, google):
    owner = api.sign_up()
    _connect(api, google, owner["token"])
    start = datetime.now(UTC) + timedelta(days=1)
    google.add_busy(EMAIL, start, start + timedelta(hours=1))
    google.revoke_account(EMAIL)
    bootstrap._access_tokens.cache_clear()
    ws, user = owner["workspace"]["id"], owner["user"]["id"]

    busy = bootstrap.busy_times().busy(
        ws, [user], Interval(start, start + timedelta(hours=2)), True
    )

    assert busy == {user: []}
    [listed] = api.request("GET", "/v1/calendar-connections", token=owner["token"])[1][
        "connections"
    ]
    assert (listed["status"], listed["last_error"]) == ("needs_reconnect", "reconnect_google")


def test_another_workspace_cannot_see_change_or_disconnect_a_connection(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    stranger = api.sign_up(workspace="Other Co", email="eve@other.test")
    path = f"/v1/calendar-connections/{connection['id']}"

    listed = api.request(
        "GET", f"/v1/calendar-connections?user_id={owner['user']['id']}", token=stranger["token"]
    )
    changed = api.request("PATCH", path, {"busy_calendar_ids": []}, token=stranger["token"])
    deleted = api.request("DELETE", path, token=stranger["token"])

    assert listed[1] == {"connections": []}
    assert changed[0] == 404 and deleted[0] == 404
    assert (
        len(api.request("GET", "/v1/calendar-connections", token=owner["token"])[1]["connections"])
        == 1
    )


def test_google_push_drops_the_busy_cache_and_strangers_are_refused(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    ws, user = owner["workspace"]["id"], owner["user"]["id"]
    deps = bootstrap.calendar_deps()
    [record] = deps.store.channels_of(ws, connection["id"])
    token = calendar_watch.channel_token(deps, ws, connection["id"], record.calendar_id)
    start = datetime.now(UTC) + timedelta(days=1)
    window = Interval(start, start + timedelta(hours=3))
    assert bootstrap.busy_times().busy(ws, [user], window, fresh=False) == {user: []}
    google.add_busy(EMAIL, start, start + timedelta(hours=1))

    wrong = api.client.http.post(
        "/v1/webhooks/google-calendar",
        headers={
            "X-Goog-Channel-ID": record.channel.channel_id,
            "X-Goog-Channel-Token": "forged",
            "X-Goog-Resource-State": "exists",
        },
    )
    assert wrong.status_code == 404
    assert bootstrap.busy_times().busy(ws, [user], window, fresh=False) == {user: []}
    pushed = api.client.http.post(
        "/v1/webhooks/google-calendar",
        headers={
            "X-Goog-Channel-ID": record.channel.channel_id,
            "X-Goog-Channel-Token": token,
            "X-Goog-Resource-State": "exists",
        },
    )
    assert pushed.status_code == 200
    assert bootstrap.busy_times().busy(ws, [user], window, fresh=False)[user] != []


def test_graph_validation_is_echoed_as_plain_text_and_unknown_notifications_refused(api):
    response = api.client.http.post(
        "/v1/webhooks/microsoft-graph?validationToken=Validation%3A%20Testing",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.body == b"Validation: Testing"
    unknown = api.client.http.post(
        "/v1/webhooks/microsoft-graph",
        headers={"Content-Type": "application/json"},
        body='{"value": [{"subscriptionId": "nope", "clientState": "x"}]}',
    )
    assert unknown.status_code == 404
    malformed = api.client.http.post(
        "/v1/webhooks/microsoft-graph", headers={"Content-Type": "application/json"}, body="[1"
    )
    assert malformed.status_code == 400


def test_the_hourly_job_renews_channels_before_they_expire(api, google):
    from chalice.test import Client

    from app import app
    from tests.stages import TEST_STAGE

    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    ws = owner["workspace"]["id"]
    deps = bootstrap.calendar_deps()
    [before] = deps.store.channels_of(ws, connection["id"])
    fire_at = before.channel.expires_at - timedelta(hours=12)

    with Client(app, stage_name=TEST_STAGE) as client:
        event = client.events.generate_cw_event(
            source="aws.events",
            detail_type="Scheduled Event",
            detail={},
            resources=["arn:aws:events:ap-southeast-1:123456789012:rule/calendar_channels_job"],
        )
        event["time"] = fire_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        summary = client.lambda_.invoke("calendar_channels_job", event).payload

    assert summary["taken"] == 1 and summary["changed"] == 1
    [after] = deps.store.channels_of(ws, connection["id"])
    assert after.channel.channel_id != before.channel.channel_id  # Google: a new channel
    assert after.calendar_id == before.calendar_id
    token = calendar_watch.channel_token(deps, ws, connection["id"], after.calendar_id)
    assert calendar_watch.google_notification(deps, after.channel.channel_id, token, "exists")
    assert not calendar_watch.google_notification(deps, before.channel.channel_id, token, "x")


def test_disconnecting_revokes_the_grant_and_forgets_the_connection(api, google):
    owner = api.sign_up()
    connection = _connect(api, google, owner["token"])
    ws = owner["workspace"]["id"]

    status, _, _ = api.request(
        "DELETE", f"/v1/calendar-connections/{connection['id']}", token=owner["token"]
    )

    assert status == 204
    assert api.request("GET", "/v1/calendar-connections", token=owner["token"])[1] == {
        "connections": []
    }
    deps = bootstrap.calendar_deps()
    assert deps.store.get_token(ws, connection["id"]) is None
    assert deps.store.channels_of(ws, connection["id"]) == []
    assert google.calls("/revoke")


def test_microsoft_connects_and_its_new_refresh_tokens_are_kept_sealed(api, microsoft):
    owner = api.sign_up()
    email = "ann@contoso.test"
    connection = _connect(api, microsoft, owner["token"], email, "microsoft")
    ws, user = owner["workspace"]["id"], owner["user"]["id"]
    deps = bootstrap.calendar_deps()
    _, version = deps.store.get_token(ws, connection["id"])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    microsoft.add_busy(email, start, start + timedelta(minutes=30))
    microsoft.expire_access_tokens()
    bootstrap._access_tokens.cache_clear()

    busy = bootstrap.busy_times().busy(
        ws, [user], Interval(start, start + timedelta(hours=2)), True
    )

    assert busy == {user: [Interval(start, start + timedelta(minutes=30))]}
    sealed, renewed = deps.store.get_token(ws, connection["id"])
    assert renewed == version + 1
    assert b"refresh" not in sealed.ciphertext


def test_graph_notifications_with_the_right_client_state_drop_the_busy_cache(api, microsoft):
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
    state = calendar_watch.channel_token(deps, ws, connection["id"], record.calendar_id)
    before = deps.store.get_connection(ws, connection["id"]).busy_generation
    body = {"value": [{"subscriptionId": "sub-1", "clientState": state, "changeType": "updated"}]}

    for _ in range(2):  # a replay is harmless
        response = api.client.http.post(
            "/v1/webhooks/microsoft-graph",
            headers={"Content-Type": "application/json"},
            body=json.dumps(body),
        )
        assert response.status_code == 202
    forged = {"value": [{"subscriptionId": "sub-1", "clientState": "guess"}]}
    refused = api.client.http.post(
        "/v1/webhooks/microsoft-graph",
        headers={"Content-Type": "application/json"},
        body=json.dumps(forged),
    )
    assert refused.status_code == 404
    assert deps.store.get_connection(ws, connection["id"]).busy_generation == before + 2
