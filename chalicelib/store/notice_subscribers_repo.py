"""Subscribers to the sub-processor change notices and the limits on subscription requests,
in the single table (implements `NoticeSubscribers` and `RequestLimits`,
chalicelib/privacy/notice_ports.py; docs/data-model.md, Sub-processor notices).

| access pattern                          | served by                                          |
|-----------------------------------------|----------------------------------------------------|
| subscriber by address (its hash)        | GetItem PK=NOTICESUB#<sha256>, SK=SUBSCRIBER       |
| ask for a subscription (pending)        | PutItem, absent or pending (a confirmed one stays)  |
| confirm it                              | UpdateItem, pending with that nonce, not expired   |
| unsubscribe                             | DeleteItem                                         |
| confirmed subscribers, by confirmation  | Query GSI1 NOTICESUBS#CONFIRMED, GSI1SK > position |
| requests of a subject in a window       | UpdateItem ADD PK=NOTICEREQ#<hash>#<window> (< max)|"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.clock import Clock, epoch
from chalicelib.privacy.notice_ports import (
    NoticeReader,
    ReaderPage,
    Subscriber,
    SubscriberStatus,
)
from chalicelib.store import keys
from chalicelib.store.models import ByUserIndex, Item, NoticeRequestCountItem, NoticeSubscriberItem

CONDITION_FAILED = "ConditionalCheckFailedException"


def stored_moment(moment: datetime) -> str:
    """A UTC time as list positions hold it (fixed width: sorts as it orders)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _subscriber(item: NoticeSubscriberItem) -> Subscriber:
    return Subscriber(
        email=item.email,
        lang=item.lang,
        status=SubscriberStatus(item.status),
        nonce=item.nonce,
        created_at=item.created_at,
        confirmed_at=item.confirmed_at,
    )


def _item(key: str) -> NoticeSubscriberItem:
    return NoticeSubscriberItem(keys.notice_subscriber_pk(key), keys.NOTICE_SUBSCRIBER_SK)


class DynamoNoticeSubscribers:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def get(self, key: str) -> Subscriber | None:
        try:
            item = NoticeSubscriberItem.get(
                keys.notice_subscriber_pk(key), keys.NOTICE_SUBSCRIBER_SK, consistent_read=True
            )
        except NoticeSubscriberItem.DoesNotExist:
            return None
        # A pending one past its time is gone (TTL deletes it only eventually).
        if item.expires_at is not None and int(item.expires_at) <= epoch(self._clock.now()):
            return None
        return _subscriber(item)

    def put_pending(self, subscriber: Subscriber, expires_at: int) -> bool:
        item = _item(subscriber.key)
        item.email = subscriber.email
        item.lang = subscriber.lang
        item.status = SubscriberStatus.PENDING.value
        item.nonce = subscriber.nonce
        item.created_at = subscriber.created_at
        item.expires_at = expires_at
        try:
            item.save(
                condition=Item.pk.does_not_exist()
                | (NoticeSubscriberItem.status == SubscriberStatus.PENDING.value)
            )
        except PutError as e:
            if e.cause_response_code != CONDITION_FAILED:
                raise
            return False
        return True

    def confirm(self, key: str, nonce: str, lang: str, at: datetime) -> Subscriber | None:
        item = _item(key)
        try:
            item.update(
                actions=[
                    NoticeSubscriberItem.status.set(SubscriberStatus.CONFIRMED.value),
                    NoticeSubscriberItem.lang.set(lang),
                    NoticeSubscriberItem.confirmed_at.set(at),
                    NoticeSubscriberItem.gsi1pk.set(keys.NOTICE_SUBSCRIBERS_VIEW),
                    NoticeSubscriberItem.gsi1sk.set(
                        keys.notice_subscriber_order(stored_moment(at), key)
                    ),
                    NoticeSubscriberItem.expires_at.remove(),
                ],
                condition=(NoticeSubscriberItem.status == SubscriberStatus.PENDING.value)
                & (NoticeSubscriberItem.nonce == nonce)
                & (NoticeSubscriberItem.expires_at > epoch(at)),
            )
        except UpdateError as e:
            if e.cause_response_code != CONDITION_FAILED:
                raise
            found = self.get(key)
            confirmed_before = (
                found is not None
                and found.status is SubscriberStatus.CONFIRMED
                and found.nonce == nonce
            )
            return found if confirmed_before else None
        return _subscriber(item)

    def remove(self, key: str) -> None:
        _item(key).delete()

    def confirmed(self, after: str | None, limit: int) -> ReaderPage:
        result = Item.by_user.query(
            keys.NOTICE_SUBSCRIBERS_VIEW,
            ByUserIndex.gsi1sk > after if after else None,
            limit=limit,
            page_size=limit,
        )
        readers = [
            NoticeReader(email=item.email, lang=item.lang, position=str(item.gsi1sk))
            for item in result
            if isinstance(item, NoticeSubscriberItem)
        ]
        return ReaderPage(readers, more=result.last_evaluated_key is not None)


class DynamoNoticeRequestLimits:
    def allow(self, subject: str, now: int, window_seconds: int, limit: int) -> bool:
        """One conditional UpdateItem of the subject's counter in the current window."""
        window = now // window_seconds
        counter = NoticeRequestCountItem(keys.notice_requests_pk(subject, window), keys.LOOKUP_SK)
        try:
            counter.update(
                actions=[
                    NoticeRequestCountItem.requests.add(1),
                    NoticeRequestCountItem.kind.set(NoticeRequestCountItem),
                    NoticeRequestCountItem.expires_at.set((window + 1) * window_seconds),
                ],
                condition=NoticeRequestCountItem.requests.does_not_exist()
                | (NoticeRequestCountItem.requests < limit),
            )
        except UpdateError as e:
            if e.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True
