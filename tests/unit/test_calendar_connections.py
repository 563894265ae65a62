"""Calendar connections against in-memory fakes of the store, the vault and a provider:
connecting with PKCE and a state bound to the session, choosing calendars, busy times and
their cache, refused grants, bookings on the host's calendar, push channels."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.accounts.model import Credential, CredentialKind, Principal, Role
from chalicelib.booking import calendar_watch, calendars
from chalicelib.booking.calendars import (
    AccessTokens,
    CalendarDeps,
    CalendarPolicy,
    ChannelRecord,
    ConnectedCalendars,
    ConnectFailed,
    OAuthState,
    SealedToken,
    StoredConnection,
)
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    CalendarEventRef,
    CalendarInfo,
    ConnectionStatus,
    Invitee,
    Location,
    LocationKind,
)
from chalicelib.booking.ports import (
    AccessTokenRejected,
    CalendarEventDraft,
    CalendarProviderFailed,
    GrantRevoked,
    Interval,
    TokenGrant,
    WatchChannel,
    WrittenEvent,
)
from chalicelib.errors import Forbidden, NotFound, ValidationFailed

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WS = "ws1"
REDIRECT = "https://api.helptal.test/v1/calendar-connections/google/callback"


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def now(self) -> datetime:
        return self.moment


class MemoryStore:
    """`CalendarStore` in dicts, keyed as the table is: by workspace first."""

    def __init__(self) -> None:
        self.states: dict[str, OAuthState] = {}
        self.connections: dict[tuple[str, str], StoredConnection] = {}
        self.tokens: dict[tuple[str, str], tuple[SealedToken, int]] = {}
        self.busy: dict[tuple[str, str, str], tuple[list[Interval], int]] = {}
        self.channels: dict[tuple[str, str, str], ChannelRecord] = {}
        self.lookups: dict[tuple[str, str], ChannelRecord] = {}
        self.due: dict[tuple[str, str], int] = {}

    def put_state(self, state: OAuthState) -> None:
        self.states[state.state_hash] = state

    def take_state(self, state_hash: str, session_id: str) -> OAuthState | None:
        found = self.states.get(state_hash)
        if found is None or found.session_id != session_id:
            return None
        return self.states.pop(state_hash)

    def save_connection(self, stored: StoredConnection, sealed: SealedToken, due: int) -> None:
        key = (stored.connection.workspace_id, stored.id)
        self.connections[key] = stored
        self.tokens[key] = (sealed, stored.grant_version)
        self.due[key] = due

    def get_connection(self, workspace_id: str, connection_id: str) -> StoredConnection | None:
        return self.connections.get((workspace_id, connection_id))

    def connections_of(self, workspace_id: str, user_id: str) -> list[StoredConnection]:
        return [
            s
            for (ws, _), s in self.connections.items()
            if ws == workspace_id and s.connection.user_id == user_id
        ]

    def connections_of_workspace(self, workspace_id: str, limit: int) -> list[StoredConnection]:
        return [s for (ws, _), s in self.connections.items() if ws == workspace_id][:limit]

    def _change(self, workspace_id: str, connection_id: str, **changes) -> StoredConnection | None:
        key = (workspace_id, connection_id)
        stored = self.connections.get(key)
        if stored is None:
            return None
        generation = changes.pop("busy_generation", stored.busy_generation)
        grant = changes.pop("grant_version", stored.grant_version)
        stored = StoredConnection(
            replace(stored.connection, **changes), busy_generation=generation, grant_version=grant
        )
        self.connections[key] = stored
        return stored

    def update_choice(self, workspace_id, connection_id, busy, write, now, watch_due):
        stored = self.connections.get((workspace_id, connection_id))
        if stored is None:
            return None
        if watch_due is not None:
            self.due[(workspace_id, connection_id)] = watch_due
        return self._change(
            workspace_id,
            connection_id,
            busy_calendar_ids=busy,
            write_calendar_id=write,
            updated_at=now,
            busy_generation=stored.busy_generation + 1,
        )

    def mark(self, workspace_id, connection_id, status, error, now) -> None:
        self._change(workspace_id, connection_id, status=status, last_error=error, updated_at=now)

    def drop_busy_cache(self, workspace_id: str, connection_id: str) -> None:
        stored = self.connections.get((workspace_id, connection_id))
        if stored is not None:
            self._change(workspace_id, connection_id, busy_generation=stored.busy_generation + 1)

    def get_token(self, workspace_id: str, connection_id: str):
        return self.tokens.get((workspace_id, connection_id))

    def replace_token(self, workspace_id, connection_id, sealed, grant_version) -> bool:
        key = (workspace_id, connection_id)
        if key not in self.tokens or self.tokens[key][1] != grant_version:
            return False
        self.tokens[key] = (sealed, grant_version + 1)
        self._change(workspace_id, connection_id, grant_version=grant_version + 1)
        return True

    def delete_connection(self, stored: StoredConnection, channels: list[ChannelRecord]) -> None:
        key = (stored.connection.workspace_id, stored.id)
        for record in channels:
            self.delete_channel(record)
        self.connections.pop(key, None)
        self.tokens.pop(key, None)
        self.due.pop(key, None)

    def cached_busy(self, workspace_id, keys, now):
        found = {}
        for conn, key in keys:
            entry = self.busy.get((workspace_id, conn, key))
            if entry is not None and entry[1] > now:
                found[(conn, key)] = entry[0]
        return found

    def cache_busy(self, workspace_id, connection_id, key, busy, expires_at) -> None:
        self.busy[(workspace_id, connection_id, key)] = (list(busy), expires_at)

    def channels_of(self, workspace_id: str, connection_id: str) -> list[ChannelRecord]:
        return [
            r
            for (ws, conn, _), r in self.channels.items()
            if ws == workspace_id and conn == connection_id
        ]

    def save_channel(self, record: ChannelRecord, replaces: ChannelRecord | None) -> None:
        if replaces is not None:
            self.delete_channel(replaces)
        self.channels[(record.workspace_id, record.connection_id, record.channel.channel_id)] = (
            record
        )
        self.lookups[(record.provider, calendar_watch.lookup_id(record))] = record

    def delete_channel(self, record: ChannelRecord) -> None:
        self.channels.pop(
            (record.workspace_id, record.connection_id, record.channel.channel_id), None
        )
        self.lookups.pop((record.provider, calendar_watch.lookup_id(record)), None)

    def channel_by_lookup(self, provider: str, lookup_id: str) -> ChannelRecord | None:
        return self.lookups.get((provider, lookup_id))

    def set_watch_due(self, workspace_id, connection_id, due) -> None:
        key = (workspace_id, connection_id)
        if key not in self.connections:
            return
        if due is None:
            self.due.pop(key, None)
        else:
            self.due[key] = due

    def due_for_watch(self, now: int, limit: int) -> list[tuple[str, str]]:
        return sorted((k for k, due in self.due.items() if due <= now), key=self.due.get)[:limit]


class ReversibleVault:
    """Seals by XOR with a key bound to the workspace and connection (opens only there)."""

    def _pad(self, ws: str, conn: str, size: int) -> bytes:
        seed = hashlib.sha256(f"{ws}:{conn}".encode()).digest()
        return (seed * (size // len(seed) + 1))[:size]

    def seal(self, ws: str, conn: str, token: str) -> SealedToken:
        raw = token.encode()
        pad = self._pad(ws, conn, len(raw))
        return SealedToken(bytes(a ^ b for a, b in zip(raw, pad, strict=True)), b"n", b"k")

    def open(self, ws: str, conn: str, sealed: SealedToken) -> str:
        pad = self._pad(ws, conn, len(sealed.ciphertext))
        return bytes(a ^ b for a, b in zip(sealed.ciphertext, pad, strict=True)).decode()


@dataclass
class FakeProvider:
    """A calendar vendor in memory: PKCE-checked codes, refresh, busy, events, channels."""

    name: str = "google"
    email: str = "ann@gmail.test"
    rotates_refresh_tokens: bool = False
    codes: dict[str, str] = field(default_factory=dict)  # code -> challenge
    refresh_tokens: set[str] = field(default_factory=set)
    events: dict[tuple[str, str], CalendarEventDraft] = field(default_factory=dict)
    busy_times: list[Interval] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    channels: dict[str, WatchChannel] = field(default_factory=dict)
    failing: bool = False
    calendars: list[CalendarInfo] = field(
        default_factory=lambda: [
            CalendarInfo("primary-cal", "Ann", primary=True),
            CalendarInfo("team-cal", "Team"),
            CalendarInfo("holidays", "Holidays", writable=False),
        ]
    )
    revoked: list[str] = field(default_factory=list)
    issued: int = 0
    rejected_access_tokens: set[str] = field(default_factory=set)  # answered 401

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.failing:
            raise CalendarProviderFailed("503")

    def authorization_url(self, state: str, code_challenge: str, redirect_uri: str) -> str:
        code = f"code-{len(self.codes)}"
        self.codes[code] = code_challenge
        return f"https://consent.test/auth?state={state}&code={code}&redirect_uri={redirect_uri}"

    def _grant(self) -> TokenGrant:
        self.issued += 1
        refresh = f"refresh-{self.issued}"
        self.refresh_tokens.add(refresh)
        return TokenGrant(f"access-{self.issued}", 3600, refresh)

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenGrant:
        self._call("token")
        challenge = self.codes.pop(code, None)
        expected = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        if challenge is None or challenge != expected.decode().rstrip("="):
            raise GrantRevoked("invalid_grant")
        return self._grant()

    def refresh(self, refresh_token: str) -> TokenGrant:
        self._call("refresh")
        if refresh_token not in self.refresh_tokens:
            raise GrantRevoked("invalid_grant")
        grant = self._grant()
        if not self.rotates_refresh_tokens:
            self.refresh_tokens.discard(grant.refresh_token or "")
            return replace(grant, refresh_token=None)
        return grant

    def revoke(self, token: str) -> None:
        self._call("revoke")
        self.revoked.append(token)
        self.refresh_tokens.discard(token)

    def account_email(self, access_token: str) -> str:
        self._call("email")
        return self.email

    def list_calendars(self, access_token: str) -> list[CalendarInfo]:
        self._call("calendars")
        return list(self.calendars)

    def busy(self, access_token, account_email, calendar_ids, window) -> list[Interval]:
        self._call("busy")
        if access_token in self.rejected_access_tokens:
            raise AccessTokenRejected("401")
        return [i for i in self.busy_times if i.end > window.start and i.start < window.end]

    def create_event(self, access_token, calendar_id, draft) -> WrittenEvent:
        self._call("create")
        self.events[(calendar_id, draft.event_id)] = draft
        return WrittenEvent(draft.event_id, "https://teams.test/j/1" if draft.teams_meeting else "")

    def update_event(self, access_token, calendar_id, event_id, draft) -> WrittenEvent:
        self._call("update")
        self.events[(calendar_id, event_id)] = draft
        return WrittenEvent(event_id)

    def delete_event(self, access_token, calendar_id, event_id) -> None:
        self._call("delete")
        self.events.pop((calendar_id, event_id), None)

    def watch(self, access_token, calendar_id, channel_id, address, token) -> WatchChannel:
        self._call("watch")
        channel = WatchChannel(channel_id, f"res-{channel_id}", T0 + timedelta(days=7))
        self.channels[channel_id] = channel
        return channel

    def renew(self, access_token, channel, address, token) -> WatchChannel:
        self._call("renew")
        self.channels.pop(channel.channel_id, None)
        new = WatchChannel(
            channel.channel_id + "r", f"res-{channel.channel_id}r", T0 + timedelta(days=14)
        )
        self.channels[new.channel_id] = new
        return new

    def stop(self, access_token, channel) -> None:
        self._call("stop")
        self.channels.pop(channel.channel_id, None)


@pytest.fixture
def world():
    store, clock, google = MemoryStore(), Clock(), FakeProvider()
    microsoft = FakeProvider(
        name="microsoft", email="ann@contoso.test", rotates_refresh_tokens=True
    )
    deps = CalendarDeps(
        store=store,
        vault=ReversibleVault(),
        providers={"google": google, "microsoft": microsoft},
        clock=clock,
        policy=CalendarPolicy(
            public_base_url="https://api.helptal.test",
            app_base_url="https://app.helptal.test",
            channel_secret=lambda: "channel-secret",
        ),
        host_time_zone=lambda ws, user: "Europe/Paris" if user == "ann" else None,
        tokens=AccessTokens(),
    )
    return deps, store, clock, google, microsoft


def principal(user_id: str | None = "ann", role: Role = Role.AGENT, ws: str = WS) -> Principal:
    kind = CredentialKind.SESSION if user_id else CredentialKind.API_KEY
    credential = Credential("hash", kind, ws, None, T0, user_id=user_id)
    return Principal(workspace_id=ws, role=role, credential=credential, user_id=user_id)


def connect(deps, provider, who: Principal | None = None, session: str = "sess-1"):
    url = calendars.start_connect(deps, who or principal(), provider.name, session)
    query = parse_qs(urlsplit(url).query)
    return calendars.finish_connect(
        deps, provider.name, query["state"][0], session, query["code"][0]
    )


def window(days: int = 1) -> Interval:
    return Interval(T0, T0 + timedelta(days=days))


def booking(**changes) -> Booking:
    base = Booking(
        workspace_id=WS,
        id="b1",
        event_type_id="et1",
        event_type_slug="intro",
        title="Intro call",
        host_ids=["ann"],
        start=T0 + timedelta(days=2),
        end=T0 + timedelta(days=2, minutes=30),
        buffer_before=0,
        buffer_after=0,
        invitee=Invitee("Bob Buyer", "bob@customer.test", "Europe/London", "en"),
        answers={"topic": "pricing"},
        status=BookingStatus.CONFIRMED,
        location=Location(LocationKind.PHONE, "+331234"),
    )
    return replace(base, **changes)


# --- connecting ------------------------------------------------------------------------------


def test_connecting_stores_the_account_with_its_primary_calendar_and_a_sealed_grant(world):
    deps, store, _, google, _ = world

    connection = connect(deps, google)

    assert connection.account_email == "ann@gmail.test"
    assert connection.status is ConnectionStatus.CONNECTED
    assert connection.busy_calendar_ids == ["primary-cal"]
    assert connection.write_calendar_id == "primary-cal"
    sealed, _ = store.tokens[(WS, connection.id)]
    assert b"refresh-1" not in sealed.ciphertext
    assert deps.vault.open(WS, connection.id, sealed) == "refresh-1"


def test_consent_url_carries_an_s256_challenge_of_the_stored_verifier(world):
    deps, store, _, google, _ = world

    url = calendars.start_connect(deps, principal(), "google", "sess-1")

    [state] = store.states.values()
    challenge = google.codes[parse_qs(urlsplit(url).query)["code"][0]]
    assert challenge == calendars.code_challenge(state.code_verifier)
    assert state.session_id == "sess-1" and state.user_id == "ann"
    assert state.expires_at == int(T0.timestamp()) + 600
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [REDIRECT]


def test_another_session_cannot_finish_a_connection_it_did_not_start(world):
    deps, store, *_ = world
    url = calendars.start_connect(deps, principal(), "google", "sess-1")
    query = parse_qs(urlsplit(url).query)

    with pytest.raises(ConnectFailed) as refused:
        calendars.finish_connect(deps, "google", query["state"][0], "sess-2", query["code"][0])

    assert refused.value.code == "state_mismatch"
    assert store.connections == {}
    # The state still works for the browser that started it.
    calendars.finish_connect(deps, "google", query["state"][0], "sess-1", query["code"][0])
    assert len(store.connections) == 1


def test_a_state_works_once_and_not_after_ten_minutes(world):
    deps, _, clock, *_ = world
    url = calendars.start_connect(deps, principal(), "google", "sess-1")
    query = parse_qs(urlsplit(url).query)
    calendars.finish_connect(deps, "google", query["state"][0], "sess-1", query["code"][0])

    with pytest.raises(ConnectFailed, match="state_mismatch"):
        calendars.finish_connect(deps, "google", query["state"][0], "sess-1", query["code"][0])

    late = parse_qs(urlsplit(calendars.start_connect(deps, principal(), "google", "s")).query)
    clock.moment += timedelta(minutes=11)
    with pytest.raises(ConnectFailed, match="state_mismatch"):
        calendars.finish_connect(deps, "google", late["state"][0], "s", late["code"][0])


def test_a_state_started_for_google_does_not_finish_microsoft(world):
    deps, _, _, _, _ = world
    url = calendars.start_connect(deps, principal(), "google", "sess-1")
    query = parse_qs(urlsplit(url).query)

    with pytest.raises(ConnectFailed, match="state_mismatch"):
        calendars.finish_connect(deps, "microsoft", query["state"][0], "sess-1", query["code"][0])


def test_api_keys_cannot_connect_calendars(world):
    deps, *_ = world

    with pytest.raises(Forbidden) as refused:
        calendars.start_connect(deps, principal(None, Role.OWNER), "google", "")

    assert refused.value.code == "session_required"


def test_unknown_provider_is_not_found(world):
    deps, *_ = world

    with pytest.raises(NotFound):
        calendars.start_connect(deps, principal(), "yahoo", "sess-1")


def test_a_declined_consent_and_a_failing_provider_are_told_to_the_settings_page(world):
    deps, store, _, google, _ = world
    query = parse_qs(urlsplit(calendars.start_connect(deps, principal(), "google", "s")).query)
    with pytest.raises(ConnectFailed, match="access_denied"):
        calendars.finish_connect(deps, "google", query["state"][0], "s", None, "access_denied")

    query = parse_qs(urlsplit(calendars.start_connect(deps, principal(), "google", "s")).query)
    google.failing = True
    with pytest.raises(ConnectFailed, match="provider_unavailable"):
        calendars.finish_connect(deps, "google", query["state"][0], "s", query["code"][0])
    assert store.connections == {}


def test_connecting_the_same_account_again_replaces_its_grant_and_keeps_its_choices(world):
    deps, store, _, google, _ = world
    first = connect(deps, google)
    calendars.choose_calendars(deps, principal(), first.id, ["team-cal"], "team-cal")

    again = connect(deps, google)

    assert again.id == first.id
    assert len(store.connections) == 1
    assert again.busy_calendar_ids == ["team-cal"] and again.write_calendar_id == "team-cal"
    sealed, _ = store.tokens[(WS, first.id)]
    assert deps.vault.open(WS, first.id, sealed) == "refresh-2"


# --- listing and choosing -------------------------------------------------------------------


def test_members_list_their_own_connections_and_managers_anyones(world):
    deps, _, _, google, _ = world
    connect(deps, google)

    assert [c.user_id for c in calendars.list_connections(deps, principal())] == ["ann"]
    assert calendars.list_connections(deps, principal("carl")) == []
    with pytest.raises(Forbidden):
        calendars.list_connections(deps, principal("carl"), user_id="ann")
    assert len(calendars.list_connections(deps, principal("olga", Role.ADMIN), user_id="ann")) == 1


def test_another_workspace_sees_and_changes_nothing(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    stranger = principal("ann", Role.OWNER, ws="ws2")

    assert calendars.list_connections(deps, stranger) == []
    with pytest.raises(NotFound):
        calendars.choose_calendars(deps, stranger, connection.id, ["team-cal"], None)
    with pytest.raises(NotFound):
        calendars.disconnect(deps, stranger, connection.id)
    assert (WS, connection.id) in store.connections


def test_only_calendars_of_the_connection_can_be_chosen_and_read_only_ones_not_written(world):
    deps, _, _, google, _ = world
    connection = connect(deps, google)

    with pytest.raises(ValidationFailed):
        calendars.choose_calendars(deps, principal(), connection.id, ["someone-else"], None)
    with pytest.raises(ValidationFailed):
        calendars.choose_calendars(deps, principal(), connection.id, None, "holidays")
    chosen = calendars.choose_calendars(
        deps, principal(), connection.id, ["primary-cal", "holidays"], "team-cal"
    )
    assert chosen.busy_calendar_ids == ["primary-cal", "holidays"]
    assert chosen.write_calendar_id == "team-cal"


def test_another_agent_cannot_change_or_disconnect_a_connection(world):
    deps, _, _, google, _ = world
    connection = connect(deps, google)

    with pytest.raises(Forbidden):
        calendars.choose_calendars(deps, principal("carl"), connection.id, ["team-cal"], None)
    with pytest.raises(Forbidden):
        calendars.disconnect(deps, principal("carl"), connection.id)


# --- busy times -----------------------------------------------------------------------------


def test_busy_times_come_from_the_cache_for_five_minutes(world):
    deps, _, clock, google, _ = world
    connect(deps, google)
    meeting = Interval(T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    google.busy_times = [meeting]
    busy = ConnectedCalendars(deps)

    assert busy.busy(WS, ["ann"], window(), fresh=False) == {"ann": [meeting]}
    google.busy_times = []
    assert busy.busy(WS, ["ann"], window(), fresh=False) == {"ann": [meeting]}
    assert busy.busy(WS, ["ann"], window(), fresh=True) == {"ann": []}
    google.busy_times = [meeting]
    clock.moment += timedelta(minutes=6)
    assert busy.busy(WS, ["ann"], window(), fresh=False) == {"ann": [meeting]}


def test_a_page_view_asks_each_connection_once_whatever_the_number_of_days(world):
    deps, _, _, google, microsoft = world
    connect(deps, google)
    connect(deps, microsoft)
    google.calls.clear()
    microsoft.calls.clear()

    ConnectedCalendars(deps).busy(WS, ["ann", "bea"], window(30), fresh=False)

    assert google.calls.count("busy") == 1 and microsoft.calls.count("busy") == 1


def test_busy_times_are_clipped_to_the_window_and_other_members_get_none(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    google.busy_times = [Interval(T0 - timedelta(hours=1), T0 + timedelta(hours=1))]

    busy = ConnectedCalendars(deps).busy(WS, ["ann", "bea"], window(), fresh=True)

    assert busy == {"ann": [Interval(T0, T0 + timedelta(hours=1))], "bea": []}


def test_a_push_notification_drops_the_cache(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    busy = ConnectedCalendars(deps)
    busy.busy(WS, ["ann"], window(), fresh=False)
    meeting = Interval(T0 + timedelta(hours=4), T0 + timedelta(hours=5))
    google.busy_times = [meeting]
    [record] = store.channels_of(WS, connection.id)
    token = calendar_watch.channel_token(deps, WS, connection.id, record.calendar_id)

    assert calendar_watch.google_notification(deps, record.channel.channel_id, token, "exists")
    assert busy.busy(WS, ["ann"], window(), fresh=False) == {"ann": [meeting]}


def test_a_notification_with_a_wrong_token_or_unknown_channel_changes_nothing(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    [record] = store.channels_of(WS, connection.id)
    generation = store.connections[(WS, connection.id)].busy_generation

    assert not calendar_watch.google_notification(
        deps, record.channel.channel_id, "x" * 64, "exists"
    )
    assert not calendar_watch.google_notification(deps, "unknown", "token", "exists")
    assert store.connections[(WS, connection.id)].busy_generation == generation


def test_graph_notifications_drop_the_cache_once_and_replays_are_harmless(world):
    deps, store, _, _, microsoft = world
    connection = connect(deps, microsoft)
    [record] = store.channels_of(WS, connection.id)
    token = calendar_watch.channel_token(deps, WS, connection.id, record.calendar_id)
    good = calendar_watch.GraphNotification(record.channel.resource_id, token)
    bad = calendar_watch.GraphNotification(record.channel.resource_id, "wrong")
    before = store.connections[(WS, connection.id)].busy_generation

    assert calendar_watch.graph_notifications(deps, [good, good, bad]) == 2
    assert calendar_watch.graph_notifications(deps, [good]) == 1
    assert store.connections[(WS, connection.id)].busy_generation == before + 2


def test_a_revoked_grant_adds_nothing_and_asks_the_member_to_reconnect(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    google.busy_times = [Interval(T0, T0 + timedelta(hours=1))]
    google.refresh_tokens.clear()
    deps.tokens.forget(connection.id)

    busy = ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)

    assert busy == {"ann": []}
    [listed] = calendars.list_connections(deps, principal())
    assert listed.status is ConnectionStatus.NEEDS_RECONNECT
    assert listed.last_error == "reconnect_google"
    assert (WS, connection.id) not in store.due
    google.calls.clear()
    ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)
    assert google.calls == []


def test_a_grant_withdrawn_while_its_access_token_is_kept_asks_the_member_to_reconnect(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    google.rejected_access_tokens = {f"access-{n}" for n in range(1, google.issued + 1)}
    google.refresh_tokens.clear()  # withdrawn at the provider: the kept token now gets 401

    assert ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True) == {"ann": []}

    [listed] = calendars.list_connections(deps, principal())
    assert (listed.status, listed.last_error) == (
        ConnectionStatus.NEEDS_RECONNECT,
        "reconnect_google",
    )


def test_a_rejected_access_token_is_refreshed_once_and_the_call_repeated(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    google.busy_times = [Interval(T0, T0 + timedelta(hours=1))]
    google.rejected_access_tokens = {f"access-{n}" for n in range(1, google.issued + 1)}
    google.calls.clear()

    busy = ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)

    assert busy == {"ann": [Interval(T0, T0 + timedelta(hours=1))]}
    assert google.calls == ["busy", "refresh", "busy"]
    [listed] = calendars.list_connections(deps, principal())
    assert listed.status is ConnectionStatus.CONNECTED


def test_a_failing_provider_adds_nothing_marks_an_error_and_recovers(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    google.failing = True

    assert ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True) == {"ann": []}
    [listed] = calendars.list_connections(deps, principal())
    assert (listed.status, listed.last_error) == (ConnectionStatus.ERROR, "provider_unavailable")

    google.failing = False
    ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)
    [listed] = calendars.list_connections(deps, principal())
    assert (listed.status, listed.last_error) == (ConnectionStatus.CONNECTED, "")


def test_expired_access_tokens_are_refreshed_and_microsofts_new_refresh_token_kept(world):
    deps, store, clock, _, microsoft = world
    connection = connect(deps, microsoft)
    clock.moment += timedelta(hours=2)

    ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)

    assert microsoft.calls.count("refresh") == 1
    sealed, version = store.tokens[(WS, connection.id)]
    assert deps.vault.open(WS, connection.id, sealed) == "refresh-2"
    assert version == 1
    ConnectedCalendars(deps).busy(WS, ["ann"], window(), fresh=True)
    assert microsoft.calls.count("refresh") == 1  # the new access token is kept in memory


# --- the host's calendar --------------------------------------------------------------------


def test_a_booking_is_written_on_the_hosts_write_calendar_in_their_zone(world):
    deps, _, _, google, _ = world
    connection = connect(deps, google)
    hosts = ConnectedCalendars(deps)

    ref, join_url = hosts.write_booking(booking(), "ann")

    assert ref == CalendarEventRef(connection.id, "google", "primary-cal", ref.event_id)
    draft = google.events[("primary-cal", ref.event_id)]
    assert draft.attendees == [("bob@customer.test", "Bob Buyer")]
    assert draft.time_zone == "Europe/Paris" and join_url == ""
    again, _ = hosts.write_booking(booking(), "ann")
    assert again.event_id == ref.event_id  # a retry makes no second event
    assert len(google.events) == 1


def test_a_rescheduled_booking_updates_its_event_and_a_cancelled_one_removes_it(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    hosts = ConnectedCalendars(deps)
    ref, _ = hosts.write_booking(booking(), "ann")
    moved = booking(start=T0 + timedelta(days=3), end=T0 + timedelta(days=3, minutes=30))

    hosts.write_booking(replace(moved, calendar_events=[ref]), "ann")

    assert google.calls.count("update") == 1
    assert google.events[("primary-cal", ref.event_id)].start == T0 + timedelta(days=3)
    hosts.remove_booking(replace(moved, calendar_events=[ref]))
    assert google.events == {}


def test_teams_bookings_ask_microsoft_for_a_teams_meeting(world):
    deps, _, _, google, microsoft = world
    connect(deps, google)
    connect(deps, microsoft)

    ref, join_url = ConnectedCalendars(deps).write_booking(
        booking(location=Location(LocationKind.TEAMS)), "ann"
    )

    assert ref.provider == "microsoft" and join_url == "https://teams.test/j/1"


def test_a_host_without_calendar_gets_nothing_written_and_a_revoked_one_is_marked(world):
    deps, _, _, google, _ = world
    assert ConnectedCalendars(deps).write_booking(booking(), "ann") == (None, "")
    connection = connect(deps, google)
    google.refresh_tokens.clear()
    deps.tokens.forget(connection.id)

    assert ConnectedCalendars(deps).write_booking(booking(), "ann") == (None, "")
    [listed] = calendars.list_connections(deps, principal())
    assert listed.status is ConnectionStatus.NEEDS_RECONNECT


def test_a_failing_provider_is_retried_by_the_job(world):
    deps, _, _, google, _ = world
    connect(deps, google)
    google.failing = True

    with pytest.raises(CalendarProviderFailed):
        ConnectedCalendars(deps).write_booking(booking(), "ann")


# --- disconnecting and channels -------------------------------------------------------------


def test_disconnecting_revokes_stops_channels_and_forgets_everything(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    assert google.channels

    calendars.disconnect(deps, principal(), connection.id)

    assert google.revoked == ["refresh-1"]
    assert google.channels == {}
    assert store.connections == {} and store.tokens == {} and store.lookups == {}


def test_a_workspaces_deletion_stops_its_channels_and_leaves_the_persons_grant(world):
    """The person did not ask to leave: their grant to the product may serve their calendar
    in another workspace (Google's is one per person and app), so only this workspace's
    connection, tokens and channels go."""
    from chalicelib.store.workspace_access_purge import CalendarsPurge

    deps, store, _, google, _ = world
    connection = connect(deps, google)
    purge = CalendarsPurge(table=None, calendar_deps=lambda: deps)  # type: ignore[arg-type]

    purge._disconnect(deps, WS, connection.id)

    assert google.revoked == []
    assert google.channels == {}
    assert store.connections == {} and store.tokens == {} and store.lookups == {}


def test_an_owner_disconnects_a_members_calendar_even_when_the_provider_is_down(world):
    deps, store, _, google, _ = world
    connection = connect(deps, google)
    google.failing = True

    calendars.disconnect(deps, principal("olga", Role.OWNER), connection.id)

    assert store.connections == {}


def test_the_job_renews_expiring_channels_and_watches_new_busy_calendars(world):
    deps, store, clock, google, _ = world
    connection = connect(deps, google)
    calendars.choose_calendars(deps, principal(), connection.id, ["primary-cal", "team-cal"], None)

    summary = calendar_watch.run_due(deps, clock.now(), lambda: True)
    assert summary.taken == 1
    assert {r.calendar_id for r in store.channels_of(WS, connection.id)} == {
        "primary-cal",
        "team-cal",
    }
    assert calendar_watch.run_due(deps, clock.now(), lambda: True).taken == 0  # done: not due

    clock.moment += timedelta(days=6, hours=1)
    calendar_watch.run_due(deps, clock.now(), lambda: True)
    assert google.calls.count("renew") == 2
    record = next(r for r in store.channels_of(WS, connection.id) if r.calendar_id == "team-cal")
    token = calendar_watch.channel_token(deps, WS, connection.id, "team-cal")
    assert calendar_watch.google_notification(deps, record.channel.channel_id, token, "exists")


def test_the_job_stops_channels_of_calendars_no_longer_busy(world):
    deps, store, clock, google, _ = world
    connection = connect(deps, google)
    calendars.choose_calendars(deps, principal(), connection.id, ["team-cal"], None)

    calendar_watch.run_due(deps, clock.now(), lambda: True)

    assert [r.calendar_id for r in store.channels_of(WS, connection.id)] == ["team-cal"]
    assert google.calls.count("stop") == 1
