"""Open WebSocket connections and their topics (`LiveConnections`), in the one table.

| access pattern                          | served by                                          |
|-----------------------------------------|----------------------------------------------------|
| a connection by id (message, disconnect)| GetItem PK=LIVECONN#<connection>, SK=CONNECTION    |
| connections listening to a topic (push) | Query PK=WS#<ws>#LIVE#<topic>, begins_with CONN#,  |
|                                         |   unexpired, at most 200 (one page)                |
| connect, subscribe, ping, disconnect    | one BatchWriteItem (the connection + its topics)   |

Every item carries `expires_at` (the table's TTL): a connection whose disconnect never
arrived disappears on its own; readers skip expired items meanwhile.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.live.model import ConnectionKind, LiveConnection
from chalicelib.store import keys
from chalicelib.store.models import Item, LiveConnectionItem, LiveSubscriptionItem
from chalicelib.store.paging import one_slice


def _connection(item: LiveConnectionItem) -> LiveConnection:
    return LiveConnection(
        connection_id=item.pk.removeprefix(keys.live_connection_pk("")),
        workspace_id=item.workspace_id,
        kind=ConnectionKind(item.connection_kind),
        expires_at=int(item.expires_at or 0),
        user_id=item.user_id,
        ticket_id=item.ticket_id,
        topics=tuple(str(topic) for topic in item.topics or ()),
    )


def _connection_item(connection: LiveConnection) -> LiveConnectionItem:
    return LiveConnectionItem(
        keys.live_connection_pk(connection.connection_id),
        keys.LIVE_CONNECTION_SK,
        workspace_id=connection.workspace_id,
        connection_kind=connection.kind.value,
        user_id=connection.user_id,
        ticket_id=connection.ticket_id,
        topics=list(connection.topics),
        expires_at=connection.expires_at,
    )


def _subscription_item(connection: LiveConnection, topic: str) -> LiveSubscriptionItem:
    return LiveSubscriptionItem(
        keys.live_topic_pk(connection.workspace_id, topic),
        keys.live_subscription_sk(connection.connection_id),
        connection_id=connection.connection_id,
        expires_at=connection.expires_at,
    )


class DynamoLiveConnections:
    def add(self, connection: LiveConnection) -> None:
        self._write(connection)

    def get(self, connection_id: str) -> LiveConnection | None:
        try:
            item = LiveConnectionItem.get(
                keys.live_connection_pk(connection_id), keys.LIVE_CONNECTION_SK
            )
        except LiveConnectionItem.DoesNotExist:
            return None
        return _connection(item)

    def subscribe(self, connection: LiveConnection, topic: str) -> LiveConnection:
        changed = replace(connection, topics=(*connection.topics, topic))
        self._write(changed)
        return changed

    def unsubscribe(self, connection: LiveConnection, topic: str) -> LiveConnection:
        topics = tuple(t for t in connection.topics if t != topic)
        changed = replace(connection, topics=topics)
        with Item.batch_write() as batch:
            batch.save(_connection_item(changed))
            batch.delete(_subscription_item(connection, topic))
        return changed

    def refresh(self, connection: LiveConnection, expires_at: int) -> LiveConnection:
        changed = replace(connection, expires_at=expires_at)
        self._write(changed)
        return changed

    def remove(self, connection_id: str) -> None:
        connection = self.get(connection_id)
        if connection is None:
            return
        with Item.batch_write() as batch:
            for topic in connection.topics:
                batch.delete(_subscription_item(connection, topic))
            batch.delete(_connection_item(connection))

    def listening(self, workspace_id: str, topic: str, now: int, limit: int) -> list[str]:
        result = LiveSubscriptionItem.query(
            keys.live_topic_pk(workspace_id, topic),
            LiveSubscriptionItem.sk.startswith(keys.LIVE_SUBSCRIPTION_PREFIX),
            filter_condition=LiveSubscriptionItem.expires_at > now,
            limit=limit,
            page_size=limit,
        )
        found, _ = one_slice(result, Item, limit)
        return [item.connection_id for item in found if isinstance(item, LiveSubscriptionItem)]

    @staticmethod
    def _write(connection: LiveConnection) -> None:
        """The connection and each of its topics, with its expiry (one BatchWriteItem)."""
        with Item.batch_write() as batch:
            batch.save(_connection_item(connection))
            for topic in connection.topics:
                batch.save(_subscription_item(connection, topic))
