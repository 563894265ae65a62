"""Push channels on members' busy calendars: Google Calendar push channels and Microsoft
Graph change subscriptions.  A notification drops the connection's busy cache, so a page
view after a change in the calendar asks the provider again.

Each channel's token (Google's `X-Goog-Channel-Token`, Graph's `clientState`) is an HMAC of
the connection and calendar with the deployment's secret: nothing secret is stored, and a
notification is checked in constant time.  `calendar_channels_job` (hourly) creates the
channels a connection lacks, renews those expiring within a day and stops those of
calendars no longer chosen; "now" is the scheduled event's time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.booking.calendars import (
    CalendarDeps,
    ChannelRecord,
    StoredConnection,
    access_token,
)
from chalicelib.booking.model import CalendarProviderName, ConnectionStatus
from chalicelib.booking.ports import CalendarProviderFailed, GrantRevoked
from chalicelib.clock import epoch
from chalicelib.observability import logger

RENEW_BEFORE = timedelta(hours=24)
RETRY_AFTER = timedelta(hours=1)
DUE_PER_RUN = 50
WEBHOOK_PATHS = {
    CalendarProviderName.GOOGLE.value: "/v1/webhooks/google-calendar",
    CalendarProviderName.MICROSOFT.value: "/v1/webhooks/microsoft-graph",
}


def channel_token(
    deps: CalendarDeps, workspace_id: str, connection_id: str, calendar_id: str
) -> str:
    """The token of a connection's channels on one calendar (the same after a renewal,
    which gives a Google channel a new id)."""
    key = hashlib.sha256(b"helptal calendar channel\x00" + deps.policy.channel_secret().encode())
    message = f"{workspace_id}\x00{connection_id}\x00{calendar_id}".encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()


def _address(deps: CalendarDeps, provider: str) -> str:
    return f"{deps.policy.public_base_url.rstrip('/')}{WEBHOOK_PATHS[provider]}"


def lookup_id(record: ChannelRecord) -> str:
    """What a notification names its channel by: Google the channel id, Graph the
    subscription id."""
    if record.provider == CalendarProviderName.MICROSOFT.value:
        return record.channel.resource_id
    return record.channel.channel_id


def bring_channels_up_to_date(deps: CalendarDeps, stored: StoredConnection, now: datetime) -> int:
    """Creates channels for busy calendars that have none, renews those expiring within
    RENEW_BEFORE, stops those of calendars no longer busy; then sets when the connection is
    next due (an hour later after a failure).  Returns how many channels changed.  Raises
    GrantRevoked after marking the connection."""
    connection = stored.connection
    ws = connection.workspace_id
    provider = deps.providers.get(connection.provider.value)
    if provider is None or connection.status is ConnectionStatus.NEEDS_RECONNECT:
        deps.store.set_watch_due(ws, stored.id, None)
        return 0
    channels = deps.store.channels_of(ws, stored.id)
    wanted = set(connection.busy_calendar_ids)
    address = _address(deps, connection.provider.value)
    changed = 0
    failed = False
    try:
        token = access_token(deps, stored)
    except CalendarProviderFailed:
        deps.store.set_watch_due(ws, stored.id, epoch(now + RETRY_AFTER))
        return 0
    for record in channels:
        try:
            if record.calendar_id not in wanted:
                provider.stop(token, record.channel)
                deps.store.delete_channel(record)
                changed += 1
            elif record.channel.expires_at - RENEW_BEFORE <= now:
                secret = channel_token(deps, ws, stored.id, record.calendar_id)
                channel = replace(record.channel, calendar_id=record.calendar_id)
                renewed = provider.renew(token, channel, address, secret)
                new = ChannelRecord(ws, stored.id, record.provider, record.calendar_id, renewed)
                deps.store.save_channel(new, replaces=record)
                changed += 1
        except CalendarProviderFailed as e:
            logger.warning("calendar channel not renewed", extra={"error": repr(e)})
            failed = True
    watched = {record.calendar_id for record in channels}
    for calendar_id in sorted(wanted - watched):
        channel_id = secrets.token_hex(16)
        try:
            channel = provider.watch(
                token,
                calendar_id,
                channel_id,
                address,
                channel_token(deps, ws, stored.id, calendar_id),
            )
        except CalendarProviderFailed as e:
            logger.warning("calendar channel not started", extra={"error": repr(e)})
            failed = True
            continue
        record = ChannelRecord(ws, stored.id, connection.provider.value, calendar_id, channel)
        deps.store.save_channel(record, replaces=None)
        changed += 1
    kept = [r for r in deps.store.channels_of(ws, stored.id)] if changed else channels
    if failed:
        due = now + RETRY_AFTER
    elif kept:
        due = max(min(r.channel.expires_at for r in kept) - RENEW_BEFORE, now + RETRY_AFTER)
    else:
        due = None
    deps.store.set_watch_due(ws, stored.id, epoch(due) if due is not None else None)
    return changed


def _verified(deps: CalendarDeps, provider: str, lookup: str, token: str) -> ChannelRecord | None:
    if not lookup or not token or len(lookup) > 512 or len(token) > 512:
        return None
    record = deps.store.channel_by_lookup(provider, lookup)
    if record is None:
        return None
    expected = channel_token(deps, record.workspace_id, record.connection_id, record.calendar_id)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return record


def google_notification(deps: CalendarDeps, channel_id: str, token: str, state: str) -> bool:
    """A Google push: drops the busy cache of the channel's connection when the channel is
    ours and its token right (the first `sync` message changes nothing).  False: unknown."""
    record = _verified(deps, CalendarProviderName.GOOGLE.value, channel_id, token)
    if record is None:
        return False
    if state != "sync":
        deps.store.drop_busy_cache(record.workspace_id, record.connection_id)
    return True


@dataclass(frozen=True)
class GraphNotification:
    subscription_id: str
    client_state: str


def graph_notifications(deps: CalendarDeps, notifications: list[GraphNotification]) -> int:
    """Graph change notifications: each one whose subscription is ours and whose
    clientState is right drops its connection's busy cache (once per connection).  Returns
    how many were accepted."""
    dropped: set[tuple[str, str]] = set()
    accepted = 0
    for notification in notifications[:100]:
        record = _verified(
            deps,
            CalendarProviderName.MICROSOFT.value,
            notification.subscription_id,
            notification.client_state,
        )
        if record is None:
            continue
        accepted += 1
        key = (record.workspace_id, record.connection_id)
        if key not in dropped:
            deps.store.drop_busy_cache(*key)
            dropped.add(key)
    return accepted


@dataclass
class WatchSummary:
    taken: int = 0
    changed: int = 0
    reconnect: int = 0
    failed: int = 0


def run_due(deps: CalendarDeps, now: datetime, keep_going: Callable[[], bool]) -> WatchSummary:
    """The hourly job: the connections whose channels are due (one Query per shard), each
    brought up to date.  Safe to run twice: a connection done is no longer due."""
    summary = WatchSummary()
    for workspace_id, connection_id in deps.store.due_for_watch(epoch(now), DUE_PER_RUN):
        if not keep_going():
            break
        stored = deps.store.get_connection(workspace_id, connection_id)
        if stored is None:
            continue
        summary.taken += 1
        try:
            summary.changed += bring_channels_up_to_date(deps, stored, now)
        except GrantRevoked:
            summary.reconnect += 1
        except CalendarProviderFailed:
            summary.failed += 1
            deps.store.set_watch_due(workspace_id, connection_id, epoch(now + RETRY_AFTER))
    return summary
