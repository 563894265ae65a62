"""Members' calendar connections: connecting Google Calendar or Microsoft 365 (OAuth 2.0
authorization code with PKCE, the state bound to the browser session that asked), choosing
calendars, disconnecting, and the two ports the rest of booking uses: `BusyTimes` (busy
intervals, briefly cached) and `HostCalendars` (bookings written on the host's calendar).

Refresh tokens are stored sealed (`TokenSealer`: KMS envelope encryption) and opened only to
ask the provider for an access token; access tokens are kept in memory per container, keyed
by the connection and its grant version.  A refused grant marks the connection
`needs_reconnect` (the agent sees it); a provider that fails marks it `error`; neither ever
reaches an invitee as an error.  Push channels are in `calendar_watch.py`."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from chalicelib.accounts.model import MANAGERS, CredentialKind, Principal
from chalicelib.booking.model import (
    Booking,
    CalendarConnection,
    CalendarEventRef,
    CalendarInfo,
    CalendarProviderName,
    ConnectionStatus,
    LocationKind,
)
from chalicelib.booking.ports import (
    AccessTokenRejected,
    CalendarEventDraft,
    CalendarProvider,
    CalendarProviderFailed,
    GrantRevoked,
    Interval,
    TokenGrant,
    WatchChannel,
)
from chalicelib.clock import Clock, epoch
from chalicelib.errors import Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.ids import new_id, token_hash
from chalicelib.observability import logger

T = TypeVar("T")

STATE_TTL_SECONDS = 600
BUSY_CACHE_SECONDS = 300
# An access token this close to its expiry is refreshed first.
ACCESS_TOKEN_MARGIN_SECONDS = 60
ACCESS_TOKENS_KEPT = 2000
# The codes the web client shows an agent (translated there).
RECONNECT = {
    CalendarProviderName.GOOGLE: "reconnect_google",
    CalendarProviderName.MICROSOFT: "reconnect_microsoft",
}
PROVIDER_UNAVAILABLE = "provider_unavailable"
CONNECTIONS_LISTED = 200


# --- what is stored -------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedToken:
    """A refresh token sealed with a fresh data key (AES-256-GCM), that key wrapped by KMS."""

    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes


@dataclass(frozen=True)
class OAuthState:
    """A consent page opened by one browser session, waiting for the provider's redirect."""

    state_hash: str
    workspace_id: str
    user_id: str
    session_id: str
    provider: str
    code_verifier: str
    expires_at: int


@dataclass(frozen=True)
class StoredConnection:
    """A connection as stored: `busy_generation` changes whenever its busy times may have
    (a push notification, new calendars chosen) and is part of the busy cache's key;
    `grant_version` changes whenever its refresh token does."""

    connection: CalendarConnection
    busy_generation: int = 0
    grant_version: int = 0

    @property
    def id(self) -> str:
        return self.connection.id


@dataclass(frozen=True)
class ChannelRecord:
    """A push channel (Google) or change subscription (Graph) on one calendar."""

    workspace_id: str
    connection_id: str
    provider: str
    calendar_id: str
    channel: WatchChannel


class CalendarStore(Protocol):
    """Connections, OAuth states, sealed tokens, the busy cache and push channels; every
    key starts with the workspace but the state's and the channel's lookups."""

    def put_state(self, state: OAuthState) -> None: ...

    def take_state(self, state_hash: str, session_id: str) -> OAuthState | None:
        """Deletes and returns the state if it exists and belongs to `session_id` (one
        conditional delete); None otherwise (unknown, used, or another session's)."""

    def save_connection(self, stored: StoredConnection, sealed: SealedToken, due: int) -> None:
        """Writes the connection, its sealed token and its id lookup (replacing them), with
        its push channels due for work at `due` (epoch seconds)."""

    def get_connection(self, workspace_id: str, connection_id: str) -> StoredConnection | None: ...

    def connections_of(self, workspace_id: str, user_id: str) -> list[StoredConnection]: ...

    def connections_of_workspace(self, workspace_id: str, limit: int) -> list[StoredConnection]: ...

    def update_choice(
        self,
        workspace_id: str,
        connection_id: str,
        busy_calendar_ids: list[str],
        write_calendar_id: str,
        now: datetime,
        watch_due: int | None,
    ) -> StoredConnection | None:
        """Sets the chosen calendars and moves `busy_generation` on (None: gone)."""

    def mark(
        self,
        workspace_id: str,
        connection_id: str,
        status: ConnectionStatus,
        error: str,
        now: datetime,
    ) -> None:
        """Sets status and last error (a connection gone meanwhile stays gone)."""

    def drop_busy_cache(self, workspace_id: str, connection_id: str) -> None:
        """Moves the connection's `busy_generation` on: cached busy times are no longer read."""

    def get_token(self, workspace_id: str, connection_id: str) -> tuple[SealedToken, int] | None:
        """The sealed refresh token and its grant version."""

    def replace_token(
        self, workspace_id: str, connection_id: str, sealed: SealedToken, grant_version: int
    ) -> bool:
        """Stores a new refresh token if the grant version is still `grant_version`."""

    def delete_connection(self, stored: StoredConnection, channels: list[ChannelRecord]) -> None:
        """The connection, its token, lookups, channels and channel lookups."""

    def cached_busy(
        self, workspace_id: str, keys: list[tuple[str, str]], now: int
    ) -> dict[tuple[str, str], list[Interval]]:
        """Unexpired cached busy times by (connection id, cache key); one BatchGet."""

    def cache_busy(
        self,
        workspace_id: str,
        connection_id: str,
        key: str,
        busy: list[Interval],
        expires_at: int,
    ) -> None: ...

    def channels_of(self, workspace_id: str, connection_id: str) -> list[ChannelRecord]: ...

    def save_channel(self, record: ChannelRecord, replaces: ChannelRecord | None) -> None:
        """Writes the channel and its lookup (removing the one it replaces, if any)."""

    def delete_channel(self, record: ChannelRecord) -> None: ...

    def channel_by_lookup(self, provider: str, lookup_id: str) -> ChannelRecord | None:
        """The channel a notification names (Google: the channel id; Graph: the
        subscription id)."""

    def set_watch_due(self, workspace_id: str, connection_id: str, due: int | None) -> None:
        """When the connection's channels next need work (None: never, until reconnected)."""

    def due_for_watch(self, now: int, limit: int) -> list[tuple[str, str]]:
        """(workspace id, connection id) of connections whose channels need work by `now`."""


class TokenSealer(Protocol):
    def seal(self, workspace_id: str, connection_id: str, token: str) -> SealedToken: ...

    def open(self, workspace_id: str, connection_id: str, sealed: SealedToken) -> str: ...


@dataclass(frozen=True)
class CalendarPolicy:
    public_base_url: str
    app_base_url: str
    channel_secret: Callable[[], str]  # keys the push channels' tokens (HMAC)

    def redirect_uri(self, provider: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/v1/calendar-connections/{provider}/callback"

    def settings_page(self, **query: str) -> str:
        from urllib.parse import urlencode

        return f"{self.app_base_url.rstrip('/')}/#/settings/calendars?{urlencode(query)}"


class AccessTokens:
    """Access tokens kept in this container's memory until shortly before they expire,
    keyed by connection and grant version (a new grant never uses an old token)."""

    def __init__(self, limit: int = ACCESS_TOKENS_KEPT) -> None:
        self._tokens: dict[tuple[str, int], tuple[str, int]] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, connection_id: str, grant_version: int, now: int) -> str | None:
        with self._lock:
            found = self._tokens.get((connection_id, grant_version))
        if found is None or found[1] - ACCESS_TOKEN_MARGIN_SECONDS <= now:
            return None
        return found[0]

    def put(self, connection_id: str, grant_version: int, token: str, expires_at: int) -> None:
        with self._lock:
            if len(self._tokens) >= self._limit:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[(connection_id, grant_version)] = (token, expires_at)

    def forget(self, connection_id: str) -> None:
        with self._lock:
            for key in [key for key in self._tokens if key[0] == connection_id]:
                del self._tokens[key]


@dataclass(frozen=True)
class CalendarDeps:
    store: CalendarStore
    vault: TokenSealer
    providers: dict[str, CalendarProvider]  # configured ones only: "google", "microsoft"
    clock: Clock
    policy: CalendarPolicy
    # The IANA zone a host's calendar events are shown in (their schedule's), if known.
    host_time_zone: Callable[[str, str], str | None] = lambda workspace_id, user_id: None
    tokens: AccessTokens = field(default_factory=AccessTokens)


# --- connecting -----------------------------------------------------------------------------


def _provider(deps: CalendarDeps, name: str) -> CalendarProvider:
    if name not in {p.value for p in CalendarProviderName}:
        raise NotFound("No such calendar provider.", code="calendar_provider_not_found")
    provider = deps.providers.get(name)
    if provider is None:
        raise ServiceUnavailable(
            "This deployment cannot connect that calendar yet.", code="calendar_not_configured"
        )
    return provider


def _session_user(principal: Principal) -> str:
    if principal.credential.kind is not CredentialKind.SESSION or principal.user_id is None:
        raise Forbidden(
            "Connect a calendar from the web client, signed in as yourself.",
            code="session_required",
        )
    return principal.user_id


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def start_connect(
    deps: CalendarDeps, principal: Principal, provider_name: str, session_id: str
) -> str:
    """The provider's consent page for the caller.  Writes a one-time state (10 minutes)
    holding the caller's session id and the PKCE verifier."""
    user_id = _session_user(principal)
    provider = _provider(deps, provider_name)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    deps.store.put_state(
        OAuthState(
            state_hash=token_hash(state),
            workspace_id=principal.workspace_id,
            user_id=user_id,
            session_id=session_id,
            provider=provider_name,
            code_verifier=verifier,
            expires_at=epoch(deps.clock.now()) + STATE_TTL_SECONDS,
        )
    )
    return provider.authorization_url(
        state, code_challenge(verifier), deps.policy.redirect_uri(provider_name)
    )


class ConnectFailed(Exception):
    """The callback could not connect the calendar; `code` goes to the settings page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _default_choice(
    calendars: list[CalendarInfo], previous: StoredConnection | None
) -> tuple[list[str], str]:
    """The previous connection's choices that still exist, else the primary calendar."""
    ids = {c.id for c in calendars}
    primary = next((c.id for c in calendars if c.primary), calendars[0].id if calendars else "")
    if previous is not None:
        busy = [i for i in previous.connection.busy_calendar_ids if i in ids]
        write = previous.connection.write_calendar_id
        if busy or write in ids:
            return busy, write if write in ids else primary
    return ([primary] if primary else []), primary


def finish_connect(
    deps: CalendarDeps,
    provider_name: str,
    state: str,
    session_id: str | None,
    code: str | None,
    provider_error: str | None = None,
) -> CalendarConnection:
    """Completes the consent: the state must be unused, unexpired, for this provider and
    started by the same browser session.  Exchanges the code, reads the account and its
    calendars, seals the refresh token and stores the connection (the same account connected
    again replaces its grant), then starts its push channels (best effort).  Raises
    ConnectFailed(code) for the settings page: state_mismatch, access_denied,
    provider_unavailable."""
    if not state or session_id is None:
        raise ConnectFailed("state_mismatch")
    taken = deps.store.take_state(token_hash(state), session_id)
    now = deps.clock.now()
    if taken is None or taken.expires_at <= epoch(now) or taken.provider != provider_name:
        raise ConnectFailed("state_mismatch")
    if provider_error or not code:
        raise ConnectFailed("access_denied")
    provider = deps.providers.get(provider_name)
    if provider is None:
        raise ConnectFailed(PROVIDER_UNAVAILABLE)
    try:
        grant = provider.exchange_code(
            code, taken.code_verifier, deps.policy.redirect_uri(provider_name)
        )
        if not grant.refresh_token:
            raise CalendarProviderFailed("no refresh token granted")
        email = provider.account_email(grant.access_token)
        calendars = provider.list_calendars(grant.access_token)
    except (CalendarProviderFailed, GrantRevoked) as e:
        logger.warning(
            "calendar connect failed", extra={"provider": provider_name, "error": repr(e)}
        )
        raise ConnectFailed(PROVIDER_UNAVAILABLE) from e
    previous = next(
        (
            c
            for c in deps.store.connections_of(taken.workspace_id, taken.user_id)
            if c.connection.provider == provider_name
            and c.connection.account_email.lower() == email.lower()
        ),
        None,
    )
    busy, write = _default_choice(calendars, previous)
    connection = CalendarConnection(
        workspace_id=taken.workspace_id,
        id=previous.id if previous else new_id(),
        user_id=taken.user_id,
        provider=CalendarProviderName(provider_name),
        account_email=email,
        status=ConnectionStatus.CONNECTED,
        busy_calendar_ids=busy,
        write_calendar_id=write,
        calendars=calendars,
        last_error="",
        created_at=previous.connection.created_at if previous else now,
        updated_at=now,
    )
    stored = StoredConnection(
        connection,
        busy_generation=(previous.busy_generation + 1) if previous else 0,
        grant_version=(previous.grant_version + 1) if previous else 0,
    )
    sealed = deps.vault.seal(connection.workspace_id, connection.id, grant.refresh_token)
    deps.store.save_connection(stored, sealed, due=epoch(now))
    _keep_access_token(deps, stored, grant, now)
    from chalicelib.booking.calendar_watch import bring_channels_up_to_date

    try:
        bring_channels_up_to_date(deps, stored, now)
    except Exception as e:  # best effort: the hourly job creates them
        logger.warning("calendar channels not started", extra={"error": repr(e)})
    return connection


# --- listing, choosing, disconnecting -------------------------------------------------------


def _may_see(principal: Principal, user_id: str) -> bool:
    return principal.user_id == user_id or principal.role in MANAGERS


def list_connections(
    deps: CalendarDeps, principal: Principal, user_id: str | None = None
) -> list[CalendarConnection]:
    """The caller's connections; an owner or admin may name any member (or, with an API key,
    list the workspace's).  One Query."""
    ws = principal.workspace_id
    if user_id is None and principal.user_id is not None:
        user_id = principal.user_id
    if user_id is None:
        if principal.role not in MANAGERS:
            raise Forbidden("Name the member whose calendars to list.", code="forbidden_role")
        stored = deps.store.connections_of_workspace(ws, CONNECTIONS_LISTED)
    else:
        if not _may_see(principal, user_id):
            raise Forbidden("Only owners and admins see others' calendars.", code="forbidden_role")
        stored = deps.store.connections_of(ws, user_id)
    return [s.connection for s in stored]


def _owned(deps: CalendarDeps, principal: Principal, connection_id: str) -> StoredConnection:
    stored = deps.store.get_connection(principal.workspace_id, connection_id)
    if stored is None:
        raise NotFound("No such calendar connection.", code="calendar_connection_not_found")
    if not _may_see(principal, stored.connection.user_id):
        raise Forbidden(
            "Only the member who connected it, an owner or an admin may change it.",
            code="forbidden_role",
        )
    return stored


def choose_calendars(
    deps: CalendarDeps,
    principal: Principal,
    connection_id: str,
    busy_calendar_ids: list[str] | None,
    write_calendar_id: str | None,
) -> CalendarConnection:
    """Sets which calendars make the member busy and which one bookings are written to
    (each one of the connection's calendars; the written one writable).  Drops the busy
    cache; new busy calendars get their push channels from the next run of the job."""
    stored = _owned(deps, principal, connection_id)
    connection = stored.connection
    known = {c.id: c for c in connection.calendars}
    busy = list(dict.fromkeys(busy_calendar_ids)) if busy_calendar_ids is not None else None
    problems = []
    if busy is not None:
        problems += [
            {"field": "busy_calendar_ids", "message": f"not a calendar of this connection: {i}"}
            for i in busy
            if i not in known
        ]
    if write_calendar_id is not None and (
        write_calendar_id not in known or not known[write_calendar_id].writable
    ):
        problems.append(
            {"field": "write_calendar_id", "message": "not a writable calendar of this connection"}
        )
    if problems:
        raise ValidationFailed("Choose calendars of this connection.", details=problems)
    now = deps.clock.now()
    new_busy = busy if busy is not None else connection.busy_calendar_ids
    changed_busy = set(new_busy) != set(connection.busy_calendar_ids)
    updated = deps.store.update_choice(
        connection.workspace_id,
        connection.id,
        new_busy,
        write_calendar_id if write_calendar_id is not None else connection.write_calendar_id,
        now,
        epoch(now)
        if changed_busy and connection.status is not ConnectionStatus.NEEDS_RECONNECT
        else None,
    )
    if updated is None:
        raise NotFound("No such calendar connection.", code="calendar_connection_not_found")
    return updated.connection


def disconnect(deps: CalendarDeps, principal: Principal, connection_id: str) -> None:
    """Revokes the grant at the provider and stops the push channels (both best effort),
    then deletes the connection, its sealed token, its channels and their lookups."""
    stored = _owned(deps, principal, connection_id)
    ws = stored.connection.workspace_id
    channels = deps.store.channels_of(ws, stored.id)
    provider = deps.providers.get(stored.connection.provider.value)
    if provider is not None:
        try:
            if channels:
                access = access_token(deps, stored)
                for record in channels:
                    provider.stop(access, record.channel)
        except (CalendarProviderFailed, GrantRevoked) as e:
            logger.info("calendar channels not stopped", extra={"error": repr(e)})
        try:
            found = deps.store.get_token(ws, stored.id)
            if found is not None:
                provider.revoke(deps.vault.open(ws, stored.id, found[0]))
        except (CalendarProviderFailed, GrantRevoked) as e:
            logger.info("calendar grant not revoked", extra={"error": repr(e)})
    deps.store.delete_connection(stored, channels)
    deps.tokens.forget(stored.id)


# --- access tokens --------------------------------------------------------------------------


def _keep_access_token(
    deps: CalendarDeps, stored: StoredConnection, grant: TokenGrant, now: datetime
) -> None:
    deps.tokens.put(
        stored.id, stored.grant_version, grant.access_token, epoch(now) + grant.expires_in
    )


def access_token(deps: CalendarDeps, stored: StoredConnection) -> str:
    """A usable access token: the one kept in memory, else a refresh with the opened
    refresh token (a new refresh token, as Microsoft returns, is sealed and stored).
    Raises GrantRevoked (the connection is then marked) or CalendarProviderFailed."""
    connection = stored.connection
    now = deps.clock.now()
    kept = deps.tokens.get(stored.id, stored.grant_version, epoch(now))
    if kept is not None:
        return kept
    provider = deps.providers.get(connection.provider.value)
    if provider is None:
        raise CalendarProviderFailed(f"{connection.provider.value} is not configured")
    found = deps.store.get_token(connection.workspace_id, stored.id)
    if found is None:
        raise GrantRevoked("no refresh token stored")
    sealed, version = found
    try:
        grant = provider.refresh(deps.vault.open(connection.workspace_id, stored.id, sealed))
    except GrantRevoked:
        mark_revoked(deps, connection)
        raise
    if grant.refresh_token:
        resealed = deps.vault.seal(connection.workspace_id, stored.id, grant.refresh_token)
        if deps.store.replace_token(connection.workspace_id, stored.id, resealed, version):
            version += 1
    deps.tokens.put(stored.id, version, grant.access_token, epoch(now) + grant.expires_in)
    if version != stored.grant_version:
        deps.tokens.put(
            stored.id, stored.grant_version, grant.access_token, epoch(now) + grant.expires_in
        )
    return grant.access_token


def with_access_token(deps: CalendarDeps, stored: StoredConnection, call: Callable[[str], T]) -> T:
    """`call(access token)`; when the provider rejects a kept token (401: it expired early
    or the grant was withdrawn), the token is forgotten, refreshed once and the call
    repeated, so a withdrawn grant ends as GrantRevoked (the connection marked)."""
    try:
        return call(access_token(deps, stored))
    except AccessTokenRejected:
        deps.tokens.forget(stored.id)
        return call(access_token(deps, stored))


def mark_revoked(deps: CalendarDeps, connection: CalendarConnection) -> None:
    """The grant is gone: the member must connect again (no channels until then)."""
    deps.store.mark(
        connection.workspace_id,
        connection.id,
        ConnectionStatus.NEEDS_RECONNECT,
        RECONNECT[connection.provider],
        deps.clock.now(),
    )
    deps.store.set_watch_due(connection.workspace_id, connection.id, None)
    deps.tokens.forget(connection.id)


def _mark_failed(deps: CalendarDeps, connection: CalendarConnection) -> None:
    if connection.status is ConnectionStatus.CONNECTED:
        deps.store.mark(
            connection.workspace_id,
            connection.id,
            ConnectionStatus.ERROR,
            PROVIDER_UNAVAILABLE,
            deps.clock.now(),
        )


def _mark_working(deps: CalendarDeps, connection: CalendarConnection) -> None:
    if connection.status is ConnectionStatus.ERROR:
        deps.store.mark(
            connection.workspace_id, connection.id, ConnectionStatus.CONNECTED, "", deps.clock.now()
        )


# --- busy times -----------------------------------------------------------------------------


def _day_range(window: Interval) -> Interval:
    """The window widened to whole UTC days: what is asked of the provider and cached, so
    page views of overlapping windows share one cached answer."""
    start = window.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = window.end.astimezone(UTC)
    end_day = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if end_day < end:
        end_day += timedelta(days=1)
    return Interval(start, max(end_day, start + timedelta(days=1)))


def _cache_key(stored: StoredConnection, days: Interval) -> str:
    calendars = hashlib.sha256("\n".join(sorted(stored.connection.busy_calendar_ids)).encode())
    return (
        f"{stored.busy_generation}#{days.start:%Y%m%d}#{days.end:%Y%m%d}#"
        f"{calendars.hexdigest()[:12]}"
    )


def _clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    return [
        Interval(max(i.start, window.start), min(i.end, window.end))
        for i in intervals
        if i.end > window.start and i.start < window.end
    ]


class ConnectedCalendars:
    """`ports.BusyTimes` and `ports.HostCalendars` over members' calendar connections."""

    def __init__(self, deps: CalendarDeps) -> None:
        self.deps = deps

    def busy(
        self, workspace_id: str, user_ids: list[str], window: Interval, fresh: bool
    ) -> dict[str, list[Interval]]:
        """Per member, the busy intervals of their connected calendars in `window`: from the
        five-minute cache (one BatchGet for all) unless `fresh`, else one provider call per
        connection (over the window's whole UTC days, then cached).  A connection that
        fails adds nothing and is marked; never raises for a provider."""
        deps = self.deps
        result: dict[str, list[Interval]] = {user_id: [] for user_id in user_ids}
        days = _day_range(window)
        usable = [
            stored
            for user_id in dict.fromkeys(user_ids)
            for stored in deps.store.connections_of(workspace_id, user_id)
            if stored.connection.status is not ConnectionStatus.NEEDS_RECONNECT
            and stored.connection.busy_calendar_ids
        ]
        now = epoch(deps.clock.now())
        keys = {stored.id: _cache_key(stored, days) for stored in usable}
        cached = {} if fresh else deps.store.cached_busy(workspace_id, list(keys.items()), now)
        for stored in usable:
            found = cached.get((stored.id, keys[stored.id]))
            if found is None:
                found = self._ask(stored, days, keys[stored.id])
            result[stored.connection.user_id].extend(_clip(found or [], window))
        for intervals in result.values():
            intervals.sort(key=lambda i: (i.start, i.end))
        return result

    def _ask(self, stored: StoredConnection, days: Interval, key: str) -> list[Interval] | None:
        deps = self.deps
        connection = stored.connection
        provider = deps.providers.get(connection.provider.value)
        if provider is None:
            return None
        try:
            busy = with_access_token(
                deps,
                stored,
                lambda token: provider.busy(
                    token, connection.account_email, connection.busy_calendar_ids, days
                ),
            )
        except GrantRevoked:
            if connection.status is not ConnectionStatus.NEEDS_RECONNECT:
                mark_revoked(deps, connection)
            return None
        except CalendarProviderFailed as e:
            logger.warning(
                "calendar busy times unavailable",
                extra={"connection_id": connection.id, "error": repr(e)},
            )
            _mark_failed(deps, connection)
            return None
        _mark_working(deps, connection)
        deps.store.cache_busy(
            connection.workspace_id,
            connection.id,
            key,
            busy,
            epoch(deps.clock.now()) + BUSY_CACHE_SECONDS,
        )
        return busy

    # -- HostCalendars -------------------------------------------------------------------

    def _write_connection(self, booking: Booking, host_id: str) -> StoredConnection | None:
        """The host's connection bookings are written to: the one already holding this
        booking's event, else (a Teams meeting: a Microsoft one first) the newest."""
        connected = [
            stored
            for stored in self.deps.store.connections_of(booking.workspace_id, host_id)
            if stored.connection.status is not ConnectionStatus.NEEDS_RECONNECT
            and stored.connection.write_calendar_id
            and stored.connection.provider.value in self.deps.providers
        ]
        if not connected:
            return None
        holding = {ref.connection_id for ref in booking.calendar_events}
        for stored in connected:
            if stored.id in holding:
                return stored
        connected.sort(key=lambda s: s.connection.created_at or datetime.min.replace(tzinfo=UTC))
        if booking.location.kind is LocationKind.TEAMS:
            microsoft = [
                s for s in connected if s.connection.provider is CalendarProviderName.MICROSOFT
            ]
            if microsoft:
                return microsoft[-1]
        return connected[-1]

    def _draft(
        self, booking: Booking, host_id: str, stored: StoredConnection
    ) -> CalendarEventDraft:
        zone = self.deps.host_time_zone(booking.workspace_id, host_id) or "UTC"
        invitee = booking.invitee
        lines = [f"{invitee.name} <{invitee.email}> booked {booking.title}."]
        lines += [f"{question}: {answer}" for question, answer in booking.answers.items()]
        if booking.meeting is not None and booking.meeting.join_url:
            lines.append(f"Join: {booking.meeting.join_url}")
        location = booking.location.value
        if booking.meeting is not None and booking.meeting.join_url:
            location = booking.meeting.join_url
        return CalendarEventDraft(
            event_id=event_id_for(booking, host_id),
            summary=f"{booking.title}: {invitee.name}",
            description="\n".join(lines),
            start=booking.start,
            end=booking.end,
            time_zone=zone,
            attendees=[(invitee.email, invitee.name)],
            location=location,
            teams_meeting=booking.location.kind is LocationKind.TEAMS
            and stored.connection.provider is CalendarProviderName.MICROSOFT,
        )

    def write_booking(self, booking: Booking, host_id: str) -> tuple[CalendarEventRef | None, str]:
        """Creates (or updates) the booking's event on the host's write calendar; returns
        its reference and the Teams join URL (when asked).  Raises CalendarProviderFailed
        for a retry; a refused grant marks the connection and returns (None, "")."""
        stored = self._write_connection(booking, host_id)
        if stored is None:
            return None, ""
        deps = self.deps
        connection = stored.connection
        provider = deps.providers[connection.provider.value]
        draft = self._draft(booking, host_id, stored)
        existing = next(
            (ref for ref in booking.calendar_events if ref.connection_id == stored.id), None
        )
        try:
            if existing is not None:
                calendar_id = existing.calendar_id
                written = with_access_token(
                    deps,
                    stored,
                    lambda token: provider.update_event(
                        token, existing.calendar_id, existing.event_id, draft
                    ),
                )
            else:
                calendar_id = connection.write_calendar_id
                written = with_access_token(
                    deps,
                    stored,
                    lambda token: provider.create_event(token, calendar_id, draft),
                )
        except GrantRevoked:
            if connection.status is not ConnectionStatus.NEEDS_RECONNECT:
                mark_revoked(deps, connection)
            return None, ""
        except CalendarProviderFailed:
            _mark_failed(deps, connection)
            raise
        _mark_working(deps, connection)
        ref = CalendarEventRef(
            connection_id=stored.id,
            provider=connection.provider.value,
            calendar_id=calendar_id,
            event_id=written.event_id,
        )
        return ref, written.teams_join_url

    def remove_booking(self, booking: Booking) -> None:
        """Deletes the booking's events from the calendars still connected.  Raises
        CalendarProviderFailed for a retry."""
        deps = self.deps
        for ref in booking.calendar_events:
            stored = deps.store.get_connection(booking.workspace_id, ref.connection_id)
            if stored is None or stored.connection.status is ConnectionStatus.NEEDS_RECONNECT:
                continue
            provider = deps.providers.get(stored.connection.provider.value)
            if provider is None:
                continue
            try:
                with_access_token(deps, stored, _deleting(provider, ref))
            except GrantRevoked:
                if stored.connection.status is not ConnectionStatus.NEEDS_RECONNECT:
                    mark_revoked(deps, stored.connection)


def _deleting(provider: CalendarProvider, ref: CalendarEventRef) -> Callable[[str], None]:
    return lambda token: provider.delete_event(token, ref.calendar_id, ref.event_id)


def event_id_for(booking: Booking, host_id: str) -> str:
    """Our id of a booking's event on a host's calendar: the same on every retry, in
    Google's alphabet (base32hex: hex digits are in it)."""
    return hashlib.sha256(
        f"helptal:{booking.workspace_id}:{booking.id}:{host_id}".encode()
    ).hexdigest()[:40]
