"""What other parts of the product keep about a ticket outside its partition, found without
a Scan, and the shared moves of removing things conditionally: members' notifications about
it (and their copies waiting for the e-mail digest), a chat's visitor history and the
unanswered questions its visitor asked, live connections listening to it.  Used by
`DynamoTicketRemoval` (which removes them) and the erasure's `mentions` phase (which
rewrites the notifications of a ticket that named someone).

| what                         | found by                                                 |
|------------------------------|----------------------------------------------------------|
| notifications, digest copies | per member (Query `MEMBER#`): Query `NOTIF#` and         |
|                              | `MAILDUE#` from the ticket's creation, filter ticket id  |
| a verified visitor's history | the chat state's user: `WS#<ws>#CHATUSER#<hash>/CONV#<t>`|
| unanswered questions         | `CHATQ#<month>#<question>` (the month the chat began) and|
|                              | `KBGAP#<question>`, from the visitor's messages          |
| live listeners               | Query `WS#<ws>#LIVE#ticket:<id>`, GetItem each connection|
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, TransactWriteError

from chalicelib.chat.bot_rules import fold_question
from chalicelib.chat.insights import month_of
from chalicelib.live.model import ticket_topic
from chalicelib.store import keys
from chalicelib.store.chat_insights_repo import ChatQuestionItem, ChatStatsItem
from chalicelib.store.chat_repo import (
    HISTORY_PREFIX,
    STATE_SK,
    ChatHistoryItem,
    ChatStateItem,
    _history_pk,
)
from chalicelib.store.kb_index_repo import SearchGapItem
from chalicelib.store.live_connections_repo import DynamoLiveConnections
from chalicelib.store.models import (
    Item,
    LiveSubscriptionItem,
    MembershipItem,
    NotificationDigestItem,
    NotificationItem,
    NotificationMailItem,
    NotificationStateItem,
    NotificationUnreadItem,
    WorkspaceItem,
)
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction
from chalicelib.tickets.model import Message, MessageKind, Ticket

# Notifications carry the ids of the events that caused them (ULIDs): none about a ticket is
# older than the ticket, give or take clocks.
CLOCK_MARGIN = timedelta(minutes=5)
AFTER_ALL = "~"  # sorts after every id character


def id_floor(moment: datetime) -> str:
    """The smallest ULID of `moment`: ids of things made then or later sort after it."""
    from ulid import ULID

    return str(ULID.from_datetime(moment))[:10] + "0" * 16


def condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def delete_keys(found: Iterable[tuple[str, str]]) -> None:
    """BatchWriteItem deletes, 25 a call (unprocessed ones sent again by pynamodb)."""
    with Item.batch_write() as batch:
        for pk, sk in found:
            batch.delete(Item(pk, sk))


def delete_if(item: Item, condition: Any) -> bool:
    """One conditional DeleteItem; False when the condition refused it (gone, or not ours)."""
    try:
        item.delete(condition=condition)
    except DeleteError as e:
        if condition_failed(e):
            return False
        raise
    return True


def committed(build: Callable[[Any], None]) -> bool:
    """Commits the transaction `build` fills; False when a condition refused it."""
    try:
        with transaction() as tx:
            build(tx)
    except TransactWriteError as e:
        if CONDITION_FAILED in cancellation_reasons(e):
            return False
        raise
    return True


def members_of(workspace_id: str) -> list[str]:
    """The user ids of the workspace's members (Query `MEMBER#`, by pages)."""
    return [
        item.user_id
        for item in MembershipItem.query(
            keys.workspace_pk(workspace_id), MembershipItem.sk.startswith(keys.MEMBER_PREFIX)
        )
        if isinstance(item, MembershipItem)
    ]


def notifications_about(
    workspace_id: str, ticket: Ticket
) -> Iterator[tuple[str, NotificationItem]]:
    """Each member's notifications about the ticket, and their copies waiting for the digest
    (`NOTIF#` and `MAILDUE#` items from the ticket's creation on, filtered on its id: two
    Queries per member, each reading at most what the member's partition keeps: 90 days of
    notifications, as they expire).  A former member's expire with their 90 days.  Job
    paths only (erasure, retention, a workspace's deletion)."""
    floor = id_floor(ticket.created_at - CLOCK_MARGIN)
    for user_id in members_of(workspace_id):
        pk = keys.member_notifications_pk(workspace_id, user_id)
        for prefix in (keys.NOTIFICATION_PREFIX, keys.MAIL_WAITING_PREFIX):
            for item in NotificationItem.query(
                pk,
                NotificationItem.sk.between(f"{prefix}{floor}", f"{prefix}{AFTER_ALL}"),
                filter_condition=NotificationItem.ticket_id == ticket.id,
            ):
                if isinstance(item, NotificationItem):
                    yield pk, item


def remove_chat_history(ticket: Ticket) -> int:
    """A verified visitor's history entry of this conversation."""
    try:
        state = ChatStateItem.get(
            keys.ticket_pk(ticket.workspace_id, ticket.id), STATE_SK, consistent_read=True
        )
    except ChatStateItem.DoesNotExist:
        return 0
    if not state.user_id:
        return 0
    entry = ChatHistoryItem(
        _history_pk(ticket.workspace_id, state.user_id), HISTORY_PREFIX + ticket.id
    )
    return int(delete_if(entry, Item.pk.exists()))


def remove_unanswered(ticket: Ticket, messages: list[Message]) -> int:
    """The month's unanswered-question records the visitor's messages made (counted in
    the month the chat began, in the workspace's time zone), giving back their slots,
    and the knowledge base's content gaps of the same questions."""
    questions = {
        fold_question(m.text)
        for m in messages
        if m.kind is MessageKind.CUSTOMER and fold_question(m.text)
    }
    if not questions:
        return 0
    ws = keys.workspace_pk(ticket.workspace_id)
    try:
        zone = WorkspaceItem.get(ws, keys.WORKSPACE_SK).timezone
    except WorkspaceItem.DoesNotExist:
        zone = None
    months = {month_of(ticket.created_at, zone), month_of(ticket.created_at, None)}
    removed = 0
    for month in sorted(months):
        stats = ChatStatsItem(ws, keys.chat_stats_sk(month))
        for folded in sorted(questions):
            record = ChatQuestionItem(ws, keys.chat_question_sk(month, folded))

            def build(
                tx: Any, record: ChatQuestionItem = record, stats: ChatStatsItem = stats
            ) -> None:
                tx.delete(record, condition=Item.pk.exists())
                tx.update(
                    stats,
                    actions=[ChatStatsItem.question_slots.add(-1)],
                    condition=ChatStatsItem.question_slots > 0,
                )

            if committed(build) or delete_if(record, Item.pk.exists()):
                removed += 1
    for folded in sorted(questions):
        removed += delete_if(SearchGapItem(ws, f"KBGAP#{folded[:200]}"), Item.pk.exists())
    return removed


def remove_notifications(ticket: Ticket) -> int:
    """Members' notifications about the ticket: each with its unread marker and the
    member's revision (their list's ETag) in one transaction; a copy waiting for the
    digest with the digest's pending count."""
    removed: set[str] = set()
    for pk, item in notifications_about(ticket.workspace_id, ticket):
        if isinstance(item, NotificationMailItem):
            if _remove_waiting_copy(pk, item):
                removed.add(f"{pk}#{item.notification_id}")
            continue

        def build(tx: Any, pk: str = pk, item: NotificationItem = item) -> None:
            tx.delete(item, condition=Item.pk.exists())
            tx.delete(NotificationUnreadItem(pk, keys.unread_sk(item.notification_id)))
            state = NotificationStateItem
            tx.update(
                state(pk, keys.NOTIFICATION_STATE_SK),
                actions=[state.kind.set(state), state.revision.add(1)],
            )

        if committed(build):
            removed.add(f"{pk}#{item.notification_id}")
    return len(removed)


def _remove_waiting_copy(pk: str, item: NotificationMailItem) -> bool:
    digest = NotificationDigestItem

    def build(tx: Any) -> None:
        tx.delete(item, condition=Item.pk.exists())
        tx.update(
            digest(pk, keys.NOTIFICATION_DIGEST_SK),
            actions=[digest.pending.add(-1)],
            condition=digest.pending > 0,
        )

    return committed(build) or delete_if(item, Item.pk.exists())


def remove_live_listeners(ticket: Ticket) -> None:
    """Connections listening to `ticket:<id>`: a visitor's own connection to this
    conversation goes; an agent's stops listening to it."""
    live = DynamoLiveConnections()
    topic = ticket_topic(ticket.id)
    for subscription in LiveSubscriptionItem.query(
        keys.live_topic_pk(ticket.workspace_id, topic),
        LiveSubscriptionItem.sk.startswith(keys.LIVE_SUBSCRIPTION_PREFIX),
    ):
        if not isinstance(subscription, LiveSubscriptionItem):
            continue
        connection = live.get(subscription.connection_id)
        if connection is not None and connection.ticket_id == ticket.id:
            live.remove(connection.connection_id)
        elif connection is not None and topic in connection.topics:
            live.unsubscribe(connection, topic)
        delete_keys([(subscription.pk, subscription.sk)])
