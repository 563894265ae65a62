"""The Google Calendar adapter against the local Google stand-in over HTTP (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from chalicelib.booking.ports import (
    CalendarEventDraft,
    CalendarProviderFailed,
    GrantRevoked,
    Interval,
)
from chalicelib.providers.calendar_http import AccessTokenRejected
from chalicelib.providers.google_calendar import GoogleCalendar
from tests.calendar_fakes import CalendarFakes, WebhookCatcher, pkce_pair, start_calendar_fakes

REDIRECT = "http://127.0.0.1:8000/v1/calendar-connections/google/callback"
ANN = "ann@gmail.test"
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


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
def google(fakes: CalendarFakes) -> GoogleCalendar:
    return fakes.google_calendar()


def connect(fakes: CalendarFakes, google: GoogleCalendar, email: str = ANN):
    verifier, challenge = pkce_pair()
    code, _ = fakes.google.consent(google.authorization_url("st", challenge, REDIRECT), email)
    return google.exchange_code(code, verifier, REDIRECT)


def draft(event_id: str = "bk0123456789abcdef", **changes) -> CalendarEventDraft:
    values = {
        "event_id": event_id,
        "summary": "Demo with Bob",
        "description": "Booked through Helptal",
        "start": MONDAY + timedelta(hours=9),
        "end": MONDAY + timedelta(hours=9, minutes=30),
        "time_zone": "Europe/Paris",
        "attendees": [("bob@customer.test", "Bob")],
        **changes,
    }
    return CalendarEventDraft(**values)


def test_the_consent_page_asks_for_offline_access_with_pkce_and_passes_the_state_back(
    fakes, google
):
    verifier, challenge = pkce_pair()
    url = google.authorization_url("state-123", challenge, REDIRECT)
    query = parse_qs(urlparse(url).query)
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]

    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and 'id="allow"' in page.text  # a browser can click Allow

    code, state = fakes.google.consent(url, ANN)
    assert state == "state-123"
    grant = google.exchange_code(code, verifier, REDIRECT)
    assert grant.refresh_token and grant.access_token and grant.expires_in > 0
    assert google.account_email(grant.access_token) == ANN


def test_the_allow_button_of_the_consent_page_redirects_with_code_and_state(fakes, google):
    _, challenge = pkce_pair()
    url = google.authorization_url("st-9", challenge, REDIRECT)
    params = {**{k: v[0] for k, v in parse_qs(urlparse(url).query).items()}}
    answer = requests.post(
        url.split("?")[0],
        data={**params, "email": "carl@gmail.test", "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    location = urlparse(answer.headers["Location"])
    assert answer.status_code == 302 and location.path.endswith("/google/callback")
    assert parse_qs(location.query)["state"] == ["st-9"]


def test_a_wrong_pkce_verifier_is_refused_as_an_invalid_grant(fakes, google):
    _, challenge = pkce_pair()
    code, _ = fakes.google.consent(google.authorization_url("s", challenge, REDIRECT), ANN)
    other_verifier, _ = pkce_pair()
    with pytest.raises(GrantRevoked):
        google.exchange_code(code, other_verifier, REDIRECT)


def test_a_code_works_once(fakes, google):
    verifier, challenge = pkce_pair()
    code, _ = fakes.google.consent(google.authorization_url("s", challenge, REDIRECT), ANN)
    google.exchange_code(code, verifier, REDIRECT)
    with pytest.raises(GrantRevoked):
        google.exchange_code(code, verifier, REDIRECT)


def test_refresh_gives_a_new_access_token_and_a_revoked_grant_says_so(fakes, google):
    grant = connect(fakes, google)
    refreshed = google.refresh(grant.refresh_token)
    assert refreshed.access_token != grant.access_token
    assert refreshed.refresh_token is None  # Google keeps the first one valid

    fakes.google.revoke_account(ANN)
    with pytest.raises(GrantRevoked):
        google.refresh(grant.refresh_token)


def test_revoke_ends_the_grant_and_revoking_again_is_fine(fakes, google):
    grant = connect(fakes, google)
    google.revoke(grant.refresh_token)
    google.revoke(grant.refresh_token)
    with pytest.raises(GrantRevoked):
        google.refresh(grant.refresh_token)


def test_a_wrong_client_secret_is_a_provider_failure_not_a_revoked_grant(fakes):
    google = fakes.google_calendar(client_secret=lambda: "rotated-wrong")
    with pytest.raises(CalendarProviderFailed) as raised:
        google.refresh("rt-anything")
    assert not isinstance(raised.value, GrantRevoked)


def test_an_expired_access_token_is_rejected_for_a_refresh(fakes, google):
    grant = connect(fakes, google)
    fakes.google.expire_access_tokens()
    with pytest.raises(AccessTokenRejected):
        google.list_calendars(grant.access_token)


def test_5xx_and_timeouts_are_provider_failures(fakes):
    google = fakes.google_calendar(timeout=(1.0, 0.3))
    grant = connect(fakes, google)
    fakes.google.fail_next(503)
    with pytest.raises(CalendarProviderFailed, match="503"):
        google.list_calendars(grant.access_token)
    fakes.google.stall_next(1.0)
    with pytest.raises(CalendarProviderFailed, match="unreachable"):
        google.list_calendars(grant.access_token)
    fakes.google.fail_next(500)
    with pytest.raises(CalendarProviderFailed):
        google.refresh(grant.refresh_token)


def test_calendars_are_listed_with_the_primary_one_and_write_access(fakes, google):
    grant = connect(fakes, google)
    fakes.google.add_calendar(ANN, "Holidays", writable=False)
    calendars = {c.name: c for c in google.list_calendars(grant.access_token)}
    assert calendars[ANN].primary and calendars[ANN].writable
    assert calendars["Team"].writable and not calendars["Team"].primary
    assert not calendars["Holidays"].writable


def test_busy_times_of_the_chosen_calendars_merge_in_utc_whatever_offset_google_answers(
    fakes, google
):
    grant = connect(fakes, google)
    team = next(c for c in google.list_calendars(grant.access_token) if c.name == "Team")
    # 10:00-11:00 in Paris (09:00-10:00 UTC) on the primary calendar, 09:30-12:00 UTC on Team.
    fakes.google.add_busy(ANN, "2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00")
    fakes.google.add_busy(ANN, "2026-03-02T09:30:00Z", "2026-03-02T12:00:00Z", team.id)
    fakes.google.add_busy(
        ANN, "2026-03-02T14:00:00Z", "2026-03-02T15:00:00Z", transparency="transparent"
    )
    fakes.google.add_busy(ANN, "2026-03-03T08:00:00Z", "2026-03-03T09:00:00Z")
    fakes.google.answer_time_zone = "Asia/Taipei"  # answers like 2026-03-02T17:00:00+08:00

    window = Interval(MONDAY, MONDAY + timedelta(days=1))
    busy = google.busy(grant.access_token, ANN, [ANN, team.id], window)

    assert busy == [Interval(MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=12))]
    assert all(i.start.tzinfo == UTC for i in busy)
    assert len(fakes.google.calls("/calendar/v3/freeBusy")) == 1
    assert google.busy(grant.access_token, ANN, [team.id], window) == [
        Interval(MONDAY + timedelta(hours=9, minutes=30), MONDAY + timedelta(hours=12))
    ]


def test_a_calendar_google_no_longer_finds_adds_no_busy_time(fakes, google):
    grant = connect(fakes, google)
    window = Interval(MONDAY, MONDAY + timedelta(days=1))
    assert google.busy(grant.access_token, ANN, ["gone@group.calendar.google.test"], window) == []


def test_an_event_is_created_once_under_our_id_even_when_asked_twice(fakes, google):
    grant = connect(fakes, google)
    first = google.create_event(grant.access_token, ANN, draft())
    again = google.create_event(grant.access_token, ANN, draft())

    assert first.event_id == again.event_id == "bk0123456789abcdef"
    (event,) = fakes.google.events_of(ANN)
    assert event.start == MONDAY + timedelta(hours=9)
    assert event.body["attendees"] == [{"email": "bob@customer.test", "displayName": "Bob"}]
    assert event.body["start"]["timeZone"] == "Europe/Paris"
    assert all(
        c.query.get("sendUpdates") == "none" for c in fakes.google.calls("/calendar/v3/calendars")
    )


def test_an_event_is_moved_deleted_and_deleting_it_again_is_fine(fakes, google):
    grant = connect(fakes, google)
    written = google.create_event(grant.access_token, ANN, draft())
    moved = draft(start=MONDAY + timedelta(hours=13), end=MONDAY + timedelta(hours=14))
    google.update_event(grant.access_token, ANN, written.event_id, moved)
    (event,) = fakes.google.events_of(ANN)
    assert (event.start, event.end) == (MONDAY + timedelta(hours=13), MONDAY + timedelta(hours=14))

    google.delete_event(grant.access_token, ANN, written.event_id)
    google.delete_event(grant.access_token, ANN, written.event_id)
    google.delete_event(grant.access_token, ANN, "neverexisted00")
    assert fakes.google.events_of(ANN)[0].cancelled


def test_a_create_after_a_delete_brings_the_event_back(fakes, google):
    grant = connect(fakes, google)
    google.create_event(grant.access_token, ANN, draft())
    google.delete_event(grant.access_token, ANN, "bk0123456789abcdef")
    google.create_event(grant.access_token, ANN, draft())
    assert not fakes.google.events_of(ANN)[0].cancelled


def test_updating_an_event_the_calendar_never_had_creates_it(fakes, google):
    grant = connect(fakes, google)
    written = google.update_event(grant.access_token, ANN, "bkmissing0001", draft())
    assert written.event_id == "bkmissing0001"
    assert [e.id for e in fakes.google.events_of(ANN)] == ["bkmissing0001"]


def test_a_read_only_calendar_refuses_the_event(fakes, google):
    grant = connect(fakes, google)
    holidays = fakes.google.add_calendar(ANN, "Holidays", writable=False)
    with pytest.raises(CalendarProviderFailed, match="403"):
        google.create_event(grant.access_token, holidays.id, draft())


def test_a_channel_is_watched_notified_renewed_and_stopped(fakes, google):
    catcher = WebhookCatcher()
    try:
        grant = connect(fakes, google)
        channel = google.watch(grant.access_token, ANN, "chan-1", catcher.url, "secret-token")
        assert channel.calendar_id == ANN
        assert channel.expires_at > datetime.now(UTC) + timedelta(days=1)
        sync = catcher.wait_for(1)[0]
        assert sync.headers["X-Goog-Resource-State"] == "sync"
        assert sync.headers["X-Goog-Channel-Token"] == "secret-token"

        fakes.google.add_busy(ANN, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z")
        change = catcher.wait_for(2)[1]
        assert change.headers["X-Goog-Resource-State"] == "exists"
        assert change.headers["X-Goog-Channel-Id"] == "chan-1"

        renewed = google.renew(grant.access_token, channel, catcher.url, "secret-token")
        assert renewed.channel_id != "chan-1" and renewed.channel_id.startswith("chan-1_")
        assert fakes.google.channels["chan-1"].stopped
        google.stop(grant.access_token, renewed)
        google.stop(grant.access_token, renewed)  # unknown to Google by now? fine either way
        assert fakes.google.channels[renewed.channel_id].stopped
    finally:
        catcher.stop()


def test_the_stand_in_is_driven_over_http_for_the_local_stack(fakes, google):
    base = fakes.google.url
    grant = connect(fakes, google)
    added = requests.post(
        f"{base}/_fake/busy",
        json={"email": ANN, "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T11:00:00Z"},
        timeout=5,
    )
    assert added.status_code == 201
    window = Interval(MONDAY, MONDAY + timedelta(days=1))
    assert google.busy(grant.access_token, ANN, [ANN], window) == [
        Interval(MONDAY + timedelta(hours=10), MONDAY + timedelta(hours=11))
    ]
    assert requests.post(f"{base}/_fake/fail", json={"status": 503}, timeout=5).ok
    with pytest.raises(CalendarProviderFailed):
        google.busy(grant.access_token, ANN, [ANN], window)
    calls = requests.get(f"{base}/_fake/calls", params={"path": "/calendar/v3/freeBusy"}, timeout=5)
    assert calls.json()["count"] == 2
    listed = requests.get(f"{base}/_fake/events", params={"email": ANN}, timeout=5).json()
    assert [e["summary"] for e in listed] == ["Busy"]
    assert requests.post(f"{base}/_fake/revoke", json={"email": ANN}, timeout=5).json() == {
        "revoked": 1
    }
    with pytest.raises(GrantRevoked):
        google.refresh(grant.refresh_token)
