"""Calendar connections in the one table: connections, their sealed refresh tokens, the busy
cache, push channels, and the OAuth states waiting for a provider's redirect.

| access pattern                                | served by                                       |
|-----------------------------------------------|-------------------------------------------------|
| a member's connections (busy times, listing)  | Query PK=WS#<ws>#CAL, begins_with CONN#<user>#  |
| a workspace's connections (admin listing)     | Query PK=WS#<ws>#CAL, begins_with CONN# (200)   |
| a connection by id                            | GetItem PK=WS#<ws>#CAL, SK=CONNID#<conn> (its   |
|                                               |   member), then GetItem CONN#<user>#<conn>      |
| a connection's sealed refresh token           | GetItem PK=WS#<ws>#CAL, SK=TOKEN#<conn>         |
| cached busy times of connections (page view)  | BatchGetItem PK=WS#<ws>#CAL, SK=BUSY#<conn>#<k> |
| a connection's push channels                  | Query PK=WS#<ws>#CAL, begins_with CHAN#<conn>#  |
| the channel a notification names (webhook)    | GetItem PK=CALCHANNEL#<provider>#<id>, LOOKUP   |
| an OAuth state (callback; one use)            | DeleteItem PK=CALSTATE#<sha256>, LOOKUP, if the |
|                                               |   session matches (ALL_OLD)                     |
| connections whose channels are due (job)      | Query GSI1 GSI1PK=CALWATCH#DUE, GSI1SK <= now   |

The busy cache's key holds the connection's `busy_generation`: a push notification moves
the generation on (one UpdateItem), so older cache items are never read again and expire by
TTL (5 minutes).  OAuth states expire by TTL after 10 minutes; readers check it too.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.booking.calendars import (
    ChannelRecord,
    OAuthState,
    SealedToken,
    StoredConnection,
)
from chalicelib.booking.model import (
    CalendarConnection,
    CalendarInfo,
    CalendarProviderName,
    ConnectionStatus,
)
from chalicelib.booking.ports import Interval, WatchChannel
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.paging import one_slice

CONDITION_FAILED = "ConditionalCheckFailedException"
WATCH_DUE = "CALWATCH#DUE"
CHANNELS_PER_CONNECTION = 50


def calendars_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#CAL"


def connection_sk(user_id: str, connection_id: str) -> str:
    return f"CONN#{user_id}#{connection_id}"


def connection_id_sk(connection_id: str) -> str:
    return f"CONNID#{connection_id}"


def token_sk(connection_id: str) -> str:
    return f"TOKEN#{connection_id}"


def busy_sk(connection_id: str, key: str) -> str:
    return f"BUSY#{connection_id}#{key}"


def channel_sk(connection_id: str, channel_id: str) -> str:
    return f"CHAN#{connection_id}#{channel_id}"


def channel_lookup_pk(provider: str, lookup_id: str) -> str:
    return f"CALCHANNEL#{provider}#{lookup_id}"


def state_pk(state_hash: str) -> str:
    return f"CALSTATE#{state_hash}"


def _watch_sk(due: int, workspace_id: str, connection_id: str) -> str:
    return f"{due:011d}#{workspace_id}#{connection_id}"


class CalendarConnectionItem(Item, discriminator="calendar_connection"):
    """A member's connection; in the due list (GSI1, sparse) while its channels need work."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    account_email = UnicodeAttribute()
    status = UnicodeAttribute()
    busy_calendar_ids = UnicodeAttribute(default="[]")  # JSON list of calendar ids
    write_calendar_id = UnicodeAttribute(default="")
    calendars = UnicodeAttribute(default="[]")  # JSON list of CalendarInfo
    last_error = UnicodeAttribute(default="")
    busy_generation = NumberAttribute(default=0)
    grant_version = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CalendarConnectionIdItem(Item, discriminator="calendar_connection_id"):
    """Which member a connection id belongs to (the connection's key holds the member)."""

    user_id = UnicodeAttribute()


class CalendarTokenItem(Item, discriminator="calendar_token"):
    """A refresh token sealed by the token vault: never stored in clear."""

    ciphertext = UnicodeAttribute()  # base64
    nonce = UnicodeAttribute()  # base64
    wrapped_key = UnicodeAttribute()  # base64: the data key, encrypted by KMS
    grant_version = NumberAttribute(default=0)


class CalendarBusyItem(Item, discriminator="calendar_busy"):
    busy = UnicodeAttribute(default="[]")  # JSON [[start epoch, end epoch], ...]


class CalendarChannelItem(Item, discriminator="calendar_channel"):
    provider = UnicodeAttribute()
    calendar_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    channel_expires = NumberAttribute()


class CalendarChannelLookup(Item, discriminator="calendar_channel_lookup"):
    workspace_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    calendar_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    channel_expires = NumberAttribute()


class OAuthStateItem(Item, discriminator="calendar_oauth_state"):
    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    code_verifier = UnicodeAttribute()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def _connection(item: CalendarConnectionItem) -> StoredConnection:
    calendars = [CalendarInfo(**entry) for entry in json.loads(item.calendars or "[]")]
    return StoredConnection(
        CalendarConnection(
            workspace_id=item.workspace_id,
            id=item.connection_id,
            user_id=item.user_id,
            provider=CalendarProviderName(item.provider),
            account_email=item.account_email,
            status=ConnectionStatus(item.status),
            busy_calendar_ids=[str(i) for i in json.loads(item.busy_calendar_ids or "[]")],
            write_calendar_id=item.write_calendar_id or "",
            calendars=calendars,
            last_error=item.last_error or "",
            created_at=item.created_at,
            updated_at=item.updated_at,
        ),
        busy_generation=int(item.busy_generation or 0),
        grant_version=int(item.grant_version or 0),
    )


def _epoch_time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _channel(
    item: CalendarChannelItem | CalendarChannelLookup, ws: str, conn: str
) -> ChannelRecord:
    return ChannelRecord(
        workspace_id=ws,
        connection_id=conn,
        provider=item.provider,
        calendar_id=item.calendar_id,
        channel=WatchChannel(
            channel_id=item.channel_id,
            resource_id=item.resource_id,
            expires_at=_epoch_time(item.channel_expires),
            calendar_id=item.calendar_id,
        ),
    )


def _lookup_id(record: ChannelRecord) -> str:
    from chalicelib.booking.calendar_watch import lookup_id

    return lookup_id(record)


class DynamoCalendarStore:
    """`calendars.CalendarStore` on the single table."""

    # -- OAuth states ----------------------------------------------------------------------

    def put_state(self, state: OAuthState) -> None:
        OAuthStateItem(
            state_pk(state.state_hash),
            keys.LOOKUP_SK,
            workspace_id=state.workspace_id,
            user_id=state.user_id,
            session_id=state.session_id,
            provider=state.provider,
            code_verifier=state.code_verifier,
            expires_at=state.expires_at,
        ).save()

    def take_state(self, state_hash: str, session_id: str) -> OAuthState | None:
        try:
            response = OAuthStateItem._get_connection().delete_item(
                state_pk(state_hash),
                keys.LOOKUP_SK,
                condition=OAuthStateItem.pk.exists() & (OAuthStateItem.session_id == session_id),
                return_values="ALL_OLD",
            )
        except DeleteError as e:
            if e.cause_response_code == CONDITION_FAILED:
                return None
            raise
        old = (response or {}).get("Attributes")
        if not old:
            return None
        found = OAuthStateItem.from_raw_data(old)
        return OAuthState(
            state_hash=state_hash,
            workspace_id=found.workspace_id,
            user_id=found.user_id,
            session_id=found.session_id,
            provider=found.provider,
            code_verifier=found.code_verifier,
            expires_at=int(found.expires_at or 0),
        )

    # -- connections -----------------------------------------------------------------------

    def save_connection(self, stored: StoredConnection, sealed: SealedToken, due: int) -> None:
        connection = stored.connection
        ws, conn = connection.workspace_id, connection.id
        pk = calendars_pk(ws)
        with Item.batch_write() as batch:
            batch.save(
                CalendarConnectionItem(
                    pk,
                    connection_sk(connection.user_id, conn),
                    gsi1pk=WATCH_DUE,
                    gsi1sk=_watch_sk(due, ws, conn),
                    workspace_id=ws,
                    connection_id=conn,
                    user_id=connection.user_id,
                    provider=connection.provider.value,
                    account_email=connection.account_email,
                    status=connection.status.value,
                    busy_calendar_ids=json.dumps(list(connection.busy_calendar_ids)),
                    write_calendar_id=connection.write_calendar_id,
                    calendars=json.dumps(
                        [
                            {
                                "id": c.id,
                                "name": c.name,
                                "primary": c.primary,
                                "writable": c.writable,
                            }
                            for c in connection.calendars
                        ]
                    ),
                    last_error=connection.last_error,
                    busy_generation=stored.busy_generation,
                    grant_version=stored.grant_version,
                    created_at=connection.created_at or connection.updated_at,
                    updated_at=connection.updated_at,
                )
            )
            batch.save(
                CalendarConnectionIdItem(pk, connection_id_sk(conn), user_id=connection.user_id)
            )
            batch.save(
                CalendarTokenItem(
                    pk,
                    token_sk(conn),
                    ciphertext=_b64(sealed.ciphertext),
                    nonce=_b64(sealed.nonce),
                    wrapped_key=_b64(sealed.wrapped_key),
                    grant_version=stored.grant_version,
                )
            )

    def _user_of(self, workspace_id: str, connection_id: str) -> str | None:
        try:
            item = CalendarConnectionIdItem.get(
                calendars_pk(workspace_id), connection_id_sk(connection_id)
            )
        except CalendarConnectionIdItem.DoesNotExist:
            return None
        return str(item.user_id)

    def _connection_key(
        self, workspace_id: str, connection_id: str
    ) -> CalendarConnectionItem | None:
        user_id = self._user_of(workspace_id, connection_id)
        if user_id is None:
            return None
        return CalendarConnectionItem(
            calendars_pk(workspace_id), connection_sk(user_id, connection_id)
        )

    def get_connection(self, workspace_id: str, connection_id: str) -> StoredConnection | None:
        user_id = self._user_of(workspace_id, connection_id)
        if user_id is None:
            return None
        try:
            item = CalendarConnectionItem.get(
                calendars_pk(workspace_id), connection_sk(user_id, connection_id)
            )
        except CalendarConnectionItem.DoesNotExist:
            return None
        return _connection(item)

    def _query_connections(
        self, workspace_id: str, prefix: str, limit: int
    ) -> list[StoredConnection]:
        result = CalendarConnectionItem.query(
            calendars_pk(workspace_id),
            CalendarConnectionItem.sk.startswith(prefix),
            limit=limit,
            page_size=limit,
        )
        found, _ = one_slice(result, Item, limit)
        return [_connection(item) for item in found if isinstance(item, CalendarConnectionItem)]

    def connections_of(self, workspace_id: str, user_id: str) -> list[StoredConnection]:
        return self._query_connections(workspace_id, f"CONN#{user_id}#", CHANNELS_PER_CONNECTION)

    def connections_of_workspace(self, workspace_id: str, limit: int) -> list[StoredConnection]:
        return self._query_connections(workspace_id, "CONN#", limit)

    def _update(
        self, workspace_id: str, connection_id: str, actions: list[Any]
    ) -> StoredConnection | None:
        item = self._connection_key(workspace_id, connection_id)
        if item is None:
            return None
        try:
            item.update(actions=actions, condition=CalendarConnectionItem.pk.exists())
        except UpdateError as e:
            if e.cause_response_code == CONDITION_FAILED:
                return None
            raise
        return _connection(item)

    def update_choice(
        self,
        workspace_id: str,
        connection_id: str,
        busy_calendar_ids: list[str],
        write_calendar_id: str,
        now: datetime,
        watch_due: int | None,
    ) -> StoredConnection | None:
        actions = [
            CalendarConnectionItem.busy_calendar_ids.set(json.dumps(busy_calendar_ids)),
            CalendarConnectionItem.write_calendar_id.set(write_calendar_id),
            CalendarConnectionItem.busy_generation.add(1),
            CalendarConnectionItem.updated_at.set(now),
        ]
        if watch_due is not None:
            actions += [
                CalendarConnectionItem.gsi1pk.set(WATCH_DUE),
                CalendarConnectionItem.gsi1sk.set(
                    _watch_sk(watch_due, workspace_id, connection_id)
                ),
            ]
        return self._update(workspace_id, connection_id, actions)

    def mark(
        self,
        workspace_id: str,
        connection_id: str,
        status: ConnectionStatus,
        error: str,
        now: datetime,
    ) -> None:
        self._update(
            workspace_id,
            connection_id,
            [
                CalendarConnectionItem.status.set(status.value),
                CalendarConnectionItem.last_error.set(error),
                CalendarConnectionItem.updated_at.set(now),
            ],
        )

    def drop_busy_cache(self, workspace_id: str, connection_id: str) -> None:
        self._update(workspace_id, connection_id, [CalendarConnectionItem.busy_generation.add(1)])

    def set_watch_due(self, workspace_id: str, connection_id: str, due: int | None) -> None:
        actions: list[Any]
        if due is None:
            actions = [
                CalendarConnectionItem.gsi1pk.remove(),
                CalendarConnectionItem.gsi1sk.remove(),
            ]
        else:
            actions = [
                CalendarConnectionItem.gsi1pk.set(WATCH_DUE),
                CalendarConnectionItem.gsi1sk.set(_watch_sk(due, workspace_id, connection_id)),
            ]
        self._update(workspace_id, connection_id, actions)

    def due_for_watch(self, now: int, limit: int) -> list[tuple[str, str]]:
        # "$" sorts right after "#": every key due at or before `now`, none after.
        result = Item.by_user.query(
            WATCH_DUE, CalendarConnectionItem.gsi1sk < f"{now:011d}$", limit=limit
        )
        return [
            (item.workspace_id, item.connection_id)
            for item in result
            if isinstance(item, CalendarConnectionItem)
        ]

    # -- tokens ----------------------------------------------------------------------------

    def get_token(self, workspace_id: str, connection_id: str) -> tuple[SealedToken, int] | None:
        try:
            item = CalendarTokenItem.get(calendars_pk(workspace_id), token_sk(connection_id))
        except CalendarTokenItem.DoesNotExist:
            return None
        sealed = SealedToken(_unb64(item.ciphertext), _unb64(item.nonce), _unb64(item.wrapped_key))
        return sealed, int(item.grant_version or 0)

    def replace_token(
        self, workspace_id: str, connection_id: str, sealed: SealedToken, grant_version: int
    ) -> bool:
        token = CalendarTokenItem(calendars_pk(workspace_id), token_sk(connection_id))
        try:
            token.update(
                actions=[
                    CalendarTokenItem.ciphertext.set(_b64(sealed.ciphertext)),
                    CalendarTokenItem.nonce.set(_b64(sealed.nonce)),
                    CalendarTokenItem.wrapped_key.set(_b64(sealed.wrapped_key)),
                    CalendarTokenItem.grant_version.set(grant_version + 1),
                ],
                condition=CalendarTokenItem.grant_version == grant_version,
            )
        except UpdateError as e:
            if e.cause_response_code == CONDITION_FAILED:
                return False
            raise
        self._update(
            workspace_id,
            connection_id,
            [CalendarConnectionItem.grant_version.set(grant_version + 1)],
        )
        return True

    def delete_connection(self, stored: StoredConnection, channels: list[ChannelRecord]) -> None:
        connection = stored.connection
        pk = calendars_pk(connection.workspace_id)
        with Item.batch_write() as batch:
            for record in channels:
                batch.delete(
                    CalendarChannelItem(
                        pk, channel_sk(record.connection_id, record.channel.channel_id)
                    )
                )
                batch.delete(
                    CalendarChannelLookup(
                        channel_lookup_pk(record.provider, _lookup_id(record)), keys.LOOKUP_SK
                    )
                )
            batch.delete(CalendarTokenItem(pk, token_sk(connection.id)))
            batch.delete(CalendarConnectionIdItem(pk, connection_id_sk(connection.id)))
            batch.delete(
                CalendarConnectionItem(pk, connection_sk(connection.user_id, connection.id))
            )

    # -- busy cache ------------------------------------------------------------------------

    def cached_busy(
        self, workspace_id: str, keys_: list[tuple[str, str]], now: int
    ) -> dict[tuple[str, str], list[Interval]]:
        if not keys_:
            return {}
        pk = calendars_pk(workspace_id)
        wanted = {busy_sk(conn, key): (conn, key) for conn, key in keys_}
        found: dict[tuple[str, str], list[Interval]] = {}
        for item in CalendarBusyItem.batch_get([(pk, sk) for sk in wanted]):
            if not isinstance(item, CalendarBusyItem) or (item.expires_at or 0) <= now:
                continue
            found[wanted[item.sk]] = [
                Interval(_epoch_time(start), _epoch_time(end))
                for start, end in json.loads(item.busy or "[]")
            ]
        return found

    def cache_busy(
        self,
        workspace_id: str,
        connection_id: str,
        key: str,
        busy: list[Interval],
        expires_at: int,
    ) -> None:
        CalendarBusyItem(
            calendars_pk(workspace_id),
            busy_sk(connection_id, key),
            busy=json.dumps([[i.start.timestamp(), i.end.timestamp()] for i in busy]),
            expires_at=expires_at,
        ).save()

    # -- push channels ---------------------------------------------------------------------

    def channels_of(self, workspace_id: str, connection_id: str) -> list[ChannelRecord]:
        result = CalendarChannelItem.query(
            calendars_pk(workspace_id),
            CalendarChannelItem.sk.startswith(f"CHAN#{connection_id}#"),
            limit=CHANNELS_PER_CONNECTION,
        )
        return [
            _channel(item, workspace_id, connection_id)
            for item in result
            if isinstance(item, CalendarChannelItem)
        ]

    def save_channel(self, record: ChannelRecord, replaces: ChannelRecord | None) -> None:
        pk = calendars_pk(record.workspace_id)
        channel = record.channel
        attributes: dict[str, Any] = {
            "provider": record.provider,
            "calendar_id": record.calendar_id,
            "channel_id": channel.channel_id,
            "resource_id": channel.resource_id,
            "channel_expires": int(channel.expires_at.timestamp()),
        }
        with Item.batch_write() as batch:
            if replaces is not None:
                old_lookup = _lookup_id(replaces)
                if replaces.channel.channel_id != channel.channel_id:
                    batch.delete(
                        CalendarChannelItem(
                            pk, channel_sk(replaces.connection_id, replaces.channel.channel_id)
                        )
                    )
                if old_lookup != _lookup_id(record):
                    batch.delete(
                        CalendarChannelLookup(
                            channel_lookup_pk(replaces.provider, old_lookup), keys.LOOKUP_SK
                        )
                    )
            batch.save(
                CalendarChannelItem(
                    pk, channel_sk(record.connection_id, channel.channel_id), **attributes
                )
            )
            batch.save(
                CalendarChannelLookup(
                    channel_lookup_pk(record.provider, _lookup_id(record)),
                    keys.LOOKUP_SK,
                    workspace_id=record.workspace_id,
                    connection_id=record.connection_id,
                    **attributes,
                )
            )

    def delete_channel(self, record: ChannelRecord) -> None:
        pk = calendars_pk(record.workspace_id)
        with Item.batch_write() as batch:
            batch.delete(
                CalendarChannelItem(pk, channel_sk(record.connection_id, record.channel.channel_id))
            )
            batch.delete(
                CalendarChannelLookup(
                    channel_lookup_pk(record.provider, _lookup_id(record)), keys.LOOKUP_SK
                )
            )

    def channel_by_lookup(self, provider: str, lookup_id: str) -> ChannelRecord | None:
        try:
            item = CalendarChannelLookup.get(channel_lookup_pk(provider, lookup_id), keys.LOOKUP_SK)
        except CalendarChannelLookup.DoesNotExist:
            return None
        return _channel(item, item.workspace_id, item.connection_id)
