"""The Microsoft Graph calendar adapter against the local Microsoft stand-in (no AWS)."""

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
from chalicelib.providers.microsoft_graph import MicrosoftCalendar
from tests.calendar_fakes import CalendarFakes, WebhookCatcher, pkce_pair, start_calendar_fakes

REDIRECT = "http://127.0.0.1:8000/v1/calendar-connections/microsoft/callback"
ANN = "ann@contoso.test"
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
DAY = Interval(MONDAY, MONDAY + timedelta(days=1))


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
def graph(fakes: CalendarFakes) -> MicrosoftCalendar:
    return fakes.microsoft_calendar()


@pytest.fixture()
def catcher():
    endpoint = WebhookCatcher()
    yield endpoint
    endpoint.stop()


def connect(fakes: CalendarFakes, graph: MicrosoftCalendar, email: str = ANN):
    verifier, challenge = pkce_pair()
    code, _ = fakes.microsoft.consent(graph.authorization_url("st", challenge, REDIRECT), email)
    return graph.exchange_code(code, verifier, REDIRECT)


def draft(event_id: str = "booking-1-seq-0", **changes) -> CalendarEventDraft:
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


def test_the_consent_asks_for_offline_access_with_pkce_and_passes_the_state_back(fakes, graph):
    verifier, challenge = pkce_pair()
    url = graph.authorization_url("state-77", challenge, REDIRECT)
    query = parse_qs(urlparse(url).query)
    assert "offline_access" in query["scope"][0].split()
    assert query["code_challenge_method"] == ["S256"]
    assert urlparse(url).path == "/common/oauth2/v2.0/authorize"
    assert 'id="allow"' in requests.get(url, timeout=5).text

    code, state = fakes.microsoft.consent(url, ANN)
    assert state == "state-77"
    grant = graph.exchange_code(code, verifier, REDIRECT)
    assert grant.refresh_token
    assert graph.account_email(grant.access_token) == ANN


def test_a_wrong_pkce_verifier_is_refused(fakes, graph):
    _, challenge = pkce_pair()
    code, _ = fakes.microsoft.consent(graph.authorization_url("s", challenge, REDIRECT), ANN)
    with pytest.raises(GrantRevoked, match="AADSTS501481"):
        graph.exchange_code(code, pkce_pair()[0], REDIRECT)


def test_each_refresh_answers_a_new_refresh_token_that_works(fakes, graph):
    grant = connect(fakes, graph)
    first = graph.refresh(grant.refresh_token)
    assert first.refresh_token and first.refresh_token != grant.refresh_token
    second = graph.refresh(first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    assert graph.account_email(second.access_token) == ANN


def test_a_withdrawn_consent_is_a_revoked_grant(fakes, graph):
    grant = connect(fakes, graph)
    fakes.microsoft.revoke_account(ANN)
    with pytest.raises(GrantRevoked):
        graph.refresh(grant.refresh_token)
    with pytest.raises(AccessTokenRejected):
        graph.list_calendars(grant.access_token)
    graph.revoke(grant.refresh_token)  # nothing to call: fine


def test_5xx_and_timeouts_are_provider_failures(fakes):
    graph = fakes.microsoft_calendar(timeout=(1.0, 0.3))
    grant = connect(fakes, graph)
    fakes.microsoft.fail_next(503)
    with pytest.raises(CalendarProviderFailed, match="503"):
        graph.busy(grant.access_token, ANN, ["x"], DAY)
    fakes.microsoft.stall_next(1.0)
    with pytest.raises(CalendarProviderFailed, match="unreachable"):
        graph.account_email(grant.access_token)


def test_calendars_are_listed_with_the_default_one_across_pages(fakes, graph):
    grant = connect(fakes, graph)
    for n in range(120):
        fakes.microsoft.add_calendar(ANN, f"Shared {n}", writable=n % 2 == 0)
    calendars = graph.list_calendars(grant.access_token)
    assert len(calendars) == 122
    assert [c.name for c in calendars if c.primary] == ["Calendar"]
    assert not next(c for c in calendars if c.name == "Shared 1").writable


def test_busy_times_come_from_the_schedule_and_chosen_calendars_in_utc(fakes, graph):
    grant = connect(fakes, graph)
    calendars = {c.name: c for c in graph.list_calendars(grant.access_token)}
    default, team = calendars["Calendar"], calendars["Team"]
    # 10:00-11:00 Paris (09:00-10:00 UTC) busy, 13:00 UTC tentative, 15:00 free, 16:00 away.
    fakes.microsoft.add_busy(ANN, "2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00")
    fakes.microsoft.add_busy(
        ANN, "2026-03-02T13:00:00Z", "2026-03-02T13:30:00Z", show_as="tentative"
    )
    fakes.microsoft.add_busy(ANN, "2026-03-02T15:00:00Z", "2026-03-02T15:30:00Z", show_as="free")
    fakes.microsoft.add_busy(ANN, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z", show_as="oof")
    fakes.microsoft.add_busy(
        ANN, "2026-03-02T09:30:00Z", "2026-03-02T11:00:00Z", calendar_id=team.id
    )

    assert graph.busy(grant.access_token, ANN, [default.id], DAY) == [
        Interval(MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=10)),
        Interval(MONDAY + timedelta(hours=13), MONDAY + timedelta(hours=13, minutes=30)),
        Interval(MONDAY + timedelta(hours=16), MONDAY + timedelta(hours=17)),
    ]
    both = graph.busy(grant.access_token, ANN, [default.id, team.id], DAY)
    assert both[0] == Interval(MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=11))
    only_team = graph.busy(grant.access_token, ANN, [team.id], DAY)
    assert only_team == [
        Interval(MONDAY + timedelta(hours=9, minutes=30), MONDAY + timedelta(hours=11))
    ]
    # One call to learn the default calendar (once), then one per calendar.
    asked = [c.path for c in fakes.microsoft.calls("/v1.0/me/calendar", "GET")]
    assert asked.count("/v1.0/me/calendar") == 1
    assert len(fakes.microsoft.calls("/v1.0/me/calendar/getSchedule")) == 2


def test_busy_times_answered_in_another_zone_are_read_in_that_zone(fakes):
    graph = fakes.microsoft_calendar()
    grant = connect(fakes, graph)
    fakes.microsoft.add_busy(ANN, "2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00")
    default = next(c for c in graph.list_calendars(grant.access_token) if c.primary)
    answer = requests.post(
        f"{fakes.microsoft.url}/v1.0/me/calendar/getSchedule",
        headers={
            "Authorization": f"Bearer {grant.access_token}",
            "Prefer": 'outlook.timezone="Asia/Tokyo"',
        },
        json={
            "schedules": [ANN],
            "startTime": {"dateTime": "2026-03-02T00:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2026-03-03T00:00:00", "timeZone": "UTC"},
            "availabilityViewInterval": 60,
        },
        timeout=5,
    ).json()
    item = answer["value"][0]["scheduleItems"][0]
    assert item["start"] == {"dateTime": "2026-03-02T18:00:00.0000000", "timeZone": "Asia/Tokyo"}
    from chalicelib.providers.microsoft_graph import _interval

    assert _interval(item).start == MONDAY + timedelta(hours=9)
    assert graph.busy(grant.access_token, ANN, [default.id], DAY)[0].start == MONDAY + timedelta(
        hours=9
    )


def test_an_event_is_created_once_for_its_transaction_id(fakes, graph):
    grant = connect(fakes, graph)
    first = graph.create_event(grant.access_token, "", draft())
    again = graph.create_event(grant.access_token, "", draft())
    assert first.event_id == again.event_id
    (event,) = fakes.microsoft.events_of(ANN)
    assert event.transaction_id == "booking-1-seq-0"
    assert event.start == MONDAY + timedelta(hours=9)
    assert event.body["attendees"][0]["emailAddress"]["address"] == "bob@customer.test"
    assert first.teams_join_url == ""


def test_a_teams_meeting_returns_its_join_url(fakes, graph):
    grant = connect(fakes, graph)
    team = next(c for c in graph.list_calendars(grant.access_token) if c.name == "Team")
    written = graph.create_event(grant.access_token, team.id, draft(teams_meeting=True))
    assert "/teams/l/meetup-join/" in written.teams_join_url
    assert requests.get(written.teams_join_url, timeout=5).status_code == 200


def test_an_event_is_moved_and_deleted_and_gone_is_fine(fakes, graph):
    grant = connect(fakes, graph)
    written = graph.create_event(grant.access_token, "", draft())
    moved = draft(start=MONDAY + timedelta(hours=13), end=MONDAY + timedelta(hours=14))
    assert graph.update_event(grant.access_token, "", written.event_id, moved) == written
    (event,) = fakes.microsoft.events_of(ANN)
    assert (event.start, event.end) == (MONDAY + timedelta(hours=13), MONDAY + timedelta(hours=14))

    graph.delete_event(grant.access_token, "", written.event_id)
    graph.delete_event(grant.access_token, "", written.event_id)
    assert fakes.microsoft.events_of(ANN)[0].cancelled


def test_updating_an_event_deleted_on_the_calendar_makes_it_again(fakes, graph):
    grant = connect(fakes, graph)
    written = graph.create_event(grant.access_token, "", draft())
    graph.delete_event(grant.access_token, "", written.event_id)
    again = graph.update_event(grant.access_token, "", written.event_id, draft())
    assert again.event_id != written.event_id
    assert [e.id for e in fakes.microsoft.events_of(ANN) if not e.cancelled] == [again.event_id]


def test_a_subscription_needs_the_validation_handshake(fakes, graph, catcher):
    grant = connect(fakes, graph)
    default = next(c for c in graph.list_calendars(grant.access_token) if c.primary)
    channel = graph.watch(grant.access_token, default.id, "chan-1", catcher.url, "client-state")

    (handshake,) = [r for r in catcher.received if "validationToken" in r.query]
    assert handshake.query["validationToken"].startswith("Validation: ")
    assert channel.channel_id == "chan-1" and channel.calendar_id == default.id
    assert channel.expires_at > datetime.now(UTC) + timedelta(days=2)

    fakes.microsoft.add_busy(ANN, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z")
    (note,) = catcher.wait_for(1)
    assert b'"clientState": "client-state"' in note.body
    assert channel.resource_id.encode() in note.body


def test_a_subscription_whose_endpoint_does_not_echo_is_refused(fakes, graph):
    grant = connect(fakes, graph)
    default = next(c for c in graph.list_calendars(grant.access_token) if c.primary)
    silent = WebhookCatcher(echo_validation=False)
    try:
        with pytest.raises(CalendarProviderFailed, match="validation"):
            graph.watch(grant.access_token, default.id, "chan-2", silent.url, "state")
    finally:
        silent.stop()
    assert fakes.microsoft.subscriptions == {}


def test_a_subscription_whose_endpoint_answers_too_late_is_refused(fakes, graph):
    grant = connect(fakes, graph)
    default = next(c for c in graph.list_calendars(grant.access_token) if c.primary)
    fakes.microsoft.validation_timeout = 0.2  # Graph waits 10 s
    slow = WebhookCatcher(validation_delay=0.6)
    try:
        with pytest.raises(CalendarProviderFailed, match="validation"):
            graph.watch(grant.access_token, default.id, "chan-4", slow.url, "state")
    finally:
        slow.stop()


def test_a_subscription_is_renewed_and_stopped_and_made_again_when_graph_dropped_it(fakes, catcher):
    later = [datetime.now(UTC)]
    graph = fakes.microsoft_calendar(now=lambda: later[0])
    grant = connect(fakes, graph)
    default = next(c for c in graph.list_calendars(grant.access_token) if c.primary)
    channel = graph.watch(grant.access_token, default.id, "chan-3", catcher.url, "state")

    later[0] += timedelta(hours=1)
    renewed = graph.renew(grant.access_token, channel, catcher.url, "state")
    assert renewed.resource_id == channel.resource_id
    assert renewed.expires_at == channel.expires_at + timedelta(hours=1)

    graph.stop(grant.access_token, renewed)
    graph.stop(grant.access_token, renewed)  # gone already: fine
    assert fakes.microsoft.subscriptions == {}
    remade = graph.renew(grant.access_token, renewed, catcher.url, "state")
    assert remade.resource_id != renewed.resource_id
    assert list(fakes.microsoft.subscriptions) == [remade.resource_id]
