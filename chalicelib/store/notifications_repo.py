"""pynamodb implementation of `NotificationStore` (access patterns: models.py).

A member's partition `WS#<ws>#USER#<user>` holds their notifications (`NOTIF#<id>`), a
marker per unread one (`UNREAD#<id>`), a copy of each one waiting for the e-mail digest
(`MAILDUE#<id>`), their read state, preferences and digest record.  Ids are the events'
ULIDs, so each prefix sorts by time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.clock import epoch
from chalicelib.ids import new_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.notifications.model import (
    Channels,
    Notification,
    NotificationKind,
    Preferences,
    ReadState,
)
from chalicelib.notifications.ports import DigestChanged, DigestLease, WaitingMail
from chalicelib.store import keys
from chalicelib.store.models import (
    Item,
    NotificationDigestItem,
    NotificationItem,
    NotificationMailItem,
    NotificationPreferencesItem,
    NotificationStateItem,
    NotificationUnreadItem,
)
from chalicelib.store.outbox import queued_mail_item
from chalicelib.store.paging import decode_cursor, encode_cursor, one_slice
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

_AFTER_ALL = "~"  # sorts after every ULID character


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fields(notification: Notification, keep_days: int) -> dict[str, Any]:
    return {
        "notification_id": notification.id,
        "workspace_id": notification.workspace_id,
        "user_id": notification.user_id,
        "notification_kind": notification.kind.value,
        "ticket_id": notification.ticket_id,
        "ticket_number": notification.ticket_number,
        "ticket_subject": notification.ticket_subject,
        "created_at": notification.created_at,
        "actor_id": notification.actor_id,
        "actor_name": notification.actor_name,
        "excerpt": notification.excerpt,
        "message_id": notification.message_id,
        "expires_at": epoch(notification.created_at) + keep_days * 86400,
    }


def _notification(item: NotificationItem, read: bool = False) -> Notification:
    return Notification(
        id=item.notification_id,
        workspace_id=item.workspace_id,
        user_id=item.user_id,
        kind=NotificationKind(item.notification_kind),
        ticket_id=item.ticket_id,
        ticket_number=int(item.ticket_number),
        ticket_subject=item.ticket_subject,
        created_at=item.created_at,
        actor_id=item.actor_id,
        actor_name=item.actor_name,
        excerpt=item.excerpt,
        message_id=item.message_id,
        read=read,
    )


def _preferences(raw: str | None) -> Preferences:
    if not raw:
        return Preferences()
    found: dict[NotificationKind, Channels] = {}
    for kind, channels in json.loads(raw).items():
        if kind in NotificationKind.__members__.values():
            found[NotificationKind(kind)] = Channels(
                in_app=bool(channels.get("in_app")), email=bool(channels.get("email"))
            )
    return Preferences(found)


def _is_condition_failure(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class DynamoNotificationStore:
    def __init__(self, keep_days: int = 90) -> None:
        self._keep_days = keep_days

    # -- writing notifications -------------------------------------------------------------

    def add(self, notification: Notification, channels: Channels, mail_due: datetime) -> bool:
        ws, user = notification.workspace_id, notification.user_id
        pk = keys.member_notifications_pk(ws, user)
        fields = _fields(notification, self._keep_days)
        try:
            with transaction() as tx:
                tx.save(
                    NotificationItem(pk, keys.notification_sk(notification.id), **fields),
                    condition=Item.pk.does_not_exist(),
                )
                if channels.in_app:
                    tx.save(
                        NotificationUnreadItem(
                            pk, keys.unread_sk(notification.id), expires_at=fields["expires_at"]
                        )
                    )
                if channels.email:
                    tx.save(
                        NotificationMailItem(
                            pk,
                            keys.mail_waiting_sk(notification.id),
                            in_app=channels.in_app,
                            **fields,
                        )
                    )
                    order = keys.digest_order(_iso(mail_due), ws, user)
                    digest = NotificationDigestItem
                    tx.update(
                        digest(pk, keys.NOTIFICATION_DIGEST_SK),
                        actions=[
                            digest.kind.set(digest),
                            digest.gsi1pk.set(keys.digests_due(keys.digest_shard(ws, user))),
                            # The oldest waiting notification sets when the digest is due.
                            digest.gsi1sk.set(digest.gsi1sk | order),
                            digest.workspace_id.set(ws),
                            digest.user_id.set(user),
                            digest.pending.add(1),
                        ],
                    )
                state = NotificationStateItem
                tx.update(
                    state(pk, keys.NOTIFICATION_STATE_SK),
                    actions=[state.kind.set(state), state.revision.add(1)],
                )
        except TransactWriteError as e:
            if cancellation_reasons(e)[:1] == [CONDITION_FAILED]:
                return False  # this event told this member already
            raise
        return True

    # -- reading ---------------------------------------------------------------------------

    def read_state(self, workspace_id: str, user_id: str) -> ReadState:
        try:
            item = NotificationStateItem.get(
                keys.member_notifications_pk(workspace_id, user_id),
                keys.NOTIFICATION_STATE_SK,
                consistent_read=True,
            )
        except NotificationStateItem.DoesNotExist:
            return ReadState()
        return ReadState(int(item.revision or 0), item.read_through)

    def page(
        self,
        workspace_id: str,
        user_id: str,
        since: str | None,
        cursor: str | None,
        limit: int,
        read_through: str | None,
    ) -> tuple[list[Notification], str | None]:
        pk = keys.member_notifications_pk(workspace_id, user_id)
        prefix = keys.NOTIFICATION_PREFIX
        condition = (
            NotificationItem.sk.between(f"{prefix}{since}#", f"{prefix}{_AFTER_ALL}")
            if since
            else NotificationItem.sk.startswith(prefix)
        )
        result = NotificationItem.query(
            pk,
            condition,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=decode_cursor(cursor, {"PK": pk}, sort_prefix=("SK", prefix)),
        )
        found, last_key = one_slice(result, Item, limit)
        items = [i for i in found if type(i) is NotificationItem]
        unread: set[str] = set()
        if items:
            oldest, newest = items[-1].notification_id, items[0].notification_id
            markers = NotificationUnreadItem.query(
                pk,
                NotificationUnreadItem.sk.between(keys.unread_sk(oldest), keys.unread_sk(newest)),
                limit=len(items),
                page_size=len(items),
            )
            marked, _ = one_slice(markers, Item, len(items))
            unread = {m.sk.removeprefix(keys.UNREAD_PREFIX) for m in marked}
        shown = [
            _notification(
                item,
                read=not (
                    item.notification_id in unread
                    and (read_through is None or item.notification_id > read_through)
                ),
            )
            for item in items
        ]
        return shown, encode_cursor(last_key)

    def unread_count(
        self, workspace_id: str, user_id: str, read_through: str | None, cap: int
    ) -> int:
        pk = keys.member_notifications_pk(workspace_id, user_id)
        prefix = keys.UNREAD_PREFIX
        condition = (
            NotificationUnreadItem.sk.between(f"{prefix}{read_through}#", f"{prefix}{_AFTER_ALL}")
            if read_through
            else NotificationUnreadItem.sk.startswith(prefix)
        )
        result = NotificationUnreadItem.query(pk, condition, limit=cap, page_size=cap)
        found, _ = one_slice(result, Item, cap)
        return len(found)

    # -- reading them ----------------------------------------------------------------------

    def _moved_on(self, workspace_id: str, user_id: str) -> None:
        state = NotificationStateItem
        state(
            keys.member_notifications_pk(workspace_id, user_id), keys.NOTIFICATION_STATE_SK
        ).update(actions=[state.kind.set(state), state.revision.add(1)])

    def mark_read(self, workspace_id: str, user_id: str, ids: Sequence[str]) -> None:
        pk = keys.member_notifications_pk(workspace_id, user_id)
        with NotificationUnreadItem.batch_write() as batch:
            for notification_id in ids:
                batch.delete(NotificationUnreadItem(pk, keys.unread_sk(notification_id)))
        self._moved_on(workspace_id, user_id)

    def exists(self, workspace_id: str, user_id: str, notification_id: str) -> bool:
        try:
            NotificationItem.get(
                keys.member_notifications_pk(workspace_id, user_id),
                keys.notification_sk(notification_id),
                attributes_to_get=["PK"],
            )
        except NotificationItem.DoesNotExist:
            return False
        return True

    def mark_read_through(self, workspace_id: str, user_id: str, notification_id: str) -> None:
        state = NotificationStateItem
        try:
            state(
                keys.member_notifications_pk(workspace_id, user_id), keys.NOTIFICATION_STATE_SK
            ).update(
                actions=[
                    state.kind.set(state),
                    state.revision.add(1),
                    state.read_through.set(notification_id),
                ],
                condition=state.read_through.does_not_exist()
                | (state.read_through < notification_id),
            )
        except UpdateError as e:
            if not _is_condition_failure(e):
                raise

    # -- preferences -----------------------------------------------------------------------

    def preferences(self, workspace_id: str, user_ids: Sequence[str]) -> dict[str, Preferences]:
        found = {user_id: Preferences() for user_id in user_ids}
        wanted = [
            (keys.member_notifications_pk(workspace_id, u), keys.NOTIFICATION_PREFERENCES_SK)
            for u in dict.fromkeys(user_ids)
        ]
        for item in NotificationPreferencesItem.batch_get(wanted):
            user_id = item.pk.rpartition("#USER#")[2]
            if user_id in found:
                found[user_id] = _preferences(item.channels)
        return found

    def save_preferences(self, workspace_id: str, user_id: str, preferences: Preferences) -> None:
        NotificationPreferencesItem(
            keys.member_notifications_pk(workspace_id, user_id),
            keys.NOTIFICATION_PREFERENCES_SK,
            channels=json.dumps(
                {
                    kind.value: {"in_app": channels.in_app, "email": channels.email}
                    for kind, channels in preferences.channels.items()
                },
                sort_keys=True,
            ),
        ).save()

    # -- the digest job --------------------------------------------------------------------

    def due_digests(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        due: list[tuple[str, str, str]] = []
        for shard in range(keys.DIGEST_SHARDS):
            # "$" sorts right after "#": every digest due at or before `now`, none after.
            result = Item.by_user.query(
                keys.digests_due(shard),
                NotificationDigestItem.gsi1sk < _iso(now) + "$",
                limit=limit,
                page_size=limit,
            )
            found, _ = one_slice(result, Item, limit)
            due.extend(
                (str(item.gsi1sk), item.workspace_id, item.user_id)
                for item in found
                if isinstance(item, NotificationDigestItem)
            )
        return [(ws, user) for _, ws, user in sorted(due)[:limit]]

    def lease_digest(
        self, workspace_id: str, user_id: str, now: datetime, seconds: int
    ) -> DigestLease | None:
        digest = NotificationDigestItem
        item = digest(
            keys.member_notifications_pk(workspace_id, user_id), keys.NOTIFICATION_DIGEST_SK
        )
        token = new_id()
        try:
            item.update(
                actions=[digest.lease.set(token), digest.lease_until.set(epoch(now) + seconds)],
                condition=digest.gsi1pk.exists()
                & (digest.lease_until.does_not_exist() | (digest.lease_until < epoch(now))),
            )
        except UpdateError as e:
            if _is_condition_failure(e):
                return None
            raise
        return DigestLease(
            workspace_id=workspace_id,
            user_id=user_id,
            token=token,
            pending=int(item.pending or 0),
            outgoing=OutboundMail.from_json(item.outgoing) if item.outgoing else None,
        )

    def waiting_mail(
        self, workspace_id: str, user_id: str, limit: int
    ) -> tuple[list[WaitingMail], set[str], ReadState]:
        pk = keys.member_notifications_pk(workspace_id, user_id)
        result = NotificationMailItem.query(
            pk,
            NotificationMailItem.sk.startswith(keys.MAIL_WAITING_PREFIX),
            consistent_read=True,
            limit=limit,
            page_size=limit,
        )
        found, _ = one_slice(result, Item, limit)
        waiting = [
            WaitingMail(_notification(item), bool(item.in_app))
            for item in found
            if isinstance(item, NotificationMailItem)
        ]
        wanted = [(pk, keys.unread_sk(w.notification.id)) for w in waiting if w.in_app]
        wanted.append((pk, keys.NOTIFICATION_STATE_SK))
        unread: set[str] = set()
        state = ReadState()
        for item in Item.batch_get(wanted, consistent_read=True):
            if isinstance(item, NotificationUnreadItem):
                unread.add(item.sk.removeprefix(keys.UNREAD_PREFIX))
            elif isinstance(item, NotificationStateItem):
                state = ReadState(int(item.revision or 0), item.read_through)
        return waiting, unread, state

    def record_digest(
        self,
        lease: DigestLease,
        taken: Sequence[str],
        drained: bool,
        mail: OutboundMail | None,
        now: datetime,
    ) -> None:
        pk = keys.member_notifications_pk(lease.workspace_id, lease.user_id)
        digest = NotificationDigestItem
        # Drained: nothing else waits, unless a notification came since the lease (the
        # condition on `pending` then refuses, and the next run takes it).
        actions: list[Any] = [
            digest.pending.set(0) if drained else digest.pending.add(-len(taken)),
            digest.lease.remove(),
            digest.lease_until.remove(),
        ]
        if mail is not None:
            # Stays due until the mail is queued: a run cut short queues it next time.
            actions += [
                digest.outgoing.set(mail.to_json()),
                digest.outgoing_mail_id.set(mail.mail_id),
            ]
        elif drained:
            actions += [digest.gsi1pk.remove(), digest.gsi1sk.remove()]
        condition = digest.lease == lease.token
        if drained:
            condition &= digest.pending == lease.pending
        try:
            with transaction() as tx:
                for notification_id in taken:
                    tx.delete(
                        NotificationMailItem(pk, keys.mail_waiting_sk(notification_id)),
                        condition=Item.pk.exists(),
                    )
                if mail is not None:
                    tx.save(queued_mail_item(mail, now), condition=Item.pk.does_not_exist())
                tx.update(
                    digest(pk, keys.NOTIFICATION_DIGEST_SK), actions=actions, condition=condition
                )
        except TransactWriteError as e:
            raise DigestChanged() from e

    def digest_queued(self, workspace_id: str, user_id: str, mail_id: str) -> None:
        digest = NotificationDigestItem
        item = digest(
            keys.member_notifications_pk(workspace_id, user_id), keys.NOTIFICATION_DIGEST_SK
        )
        sent: list[Any] = [digest.outgoing.remove(), digest.outgoing_mail_id.remove()]
        ours = digest.outgoing_mail_id == mail_id
        try:
            item.update(
                actions=[*sent, digest.gsi1pk.remove(), digest.gsi1sk.remove()],
                condition=ours & (digest.pending == 0),
            )
        except UpdateError as e:
            if not _is_condition_failure(e):
                raise
            try:  # more notifications wait: stay due for them
                item.update(actions=sent, condition=ours)
            except UpdateError as again:
                if not _is_condition_failure(again):
                    raise

    def release_digest(self, lease: DigestLease) -> None:
        digest = NotificationDigestItem
        item = digest(
            keys.member_notifications_pk(lease.workspace_id, lease.user_id),
            keys.NOTIFICATION_DIGEST_SK,
        )
        try:
            item.update(
                actions=[digest.lease.remove(), digest.lease_until.remove()],
                condition=digest.lease == lease.token,
            )
        except UpdateError as e:
            if not _is_condition_failure(e):
                raise
