"""The record of each sub-processor change's notice: who it went to and how far down each
list its runs have gone (implements `NoticeRecords`, chalicelib/privacy/notice_ports.py;
docs/data-model.md, Sub-processor notices).

| access pattern                         | served by                                            |
|----------------------------------------|------------------------------------------------------|
| claim the notice to an address         | PutItem PK=SUBPROCNOTICE#<change>, SK=TO#<sha256>    |
|                                        | (`attribute_not_exists`); refused: a consistent      |
|                                        | GetItem, and an UpdateItem taking over a claim whose |
|                                        | lease ran out (conditioned on the lease read)        |
| mark it queued                         | UpdateItem state=queued                              |
| a list's position                      | GetItem PK=SUBPROCNOTICE#<change>, SK=CURSOR#<list>  |
| move it on (never back)                | UpdateItem, position absent or smaller               |

Every item expires (`expires_at`) a while after the change takes effect."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.clock import epoch
from chalicelib.privacy.notice_ports import Claim
from chalicelib.store import keys
from chalicelib.store.models import Item, NoticeCursorItem, NoticeRecipientItem

CONDITION_FAILED = "ConditionalCheckFailedException"
CLAIMED, QUEUED = "claimed", "queued"


def _recipient(change_id: str, email: str) -> NoticeRecipientItem:
    return NoticeRecipientItem(
        keys.subprocessor_notice_pk(change_id), keys.notice_recipient_sk(email)
    )


class DynamoNoticeRecords:
    def claim(
        self,
        change_id: str,
        email: str,
        mail_id: str,
        now: datetime,
        lease_seconds: int,
        keep_until: int,
    ) -> Claim:
        lease_until = epoch(now) + lease_seconds
        item = _recipient(change_id, email)
        item.mail_id = mail_id
        item.state = CLAIMED
        item.lease_until = lease_until
        item.claimed_at = now
        item.expires_at = keep_until
        try:
            item.save(condition=Item.pk.does_not_exist())
            return Claim.OURS
        except PutError as e:
            if e.cause_response_code != CONDITION_FAILED:
                raise
        try:
            held = NoticeRecipientItem.get(item.pk, item.sk, consistent_read=True)
        except NoticeRecipientItem.DoesNotExist:
            return Claim.HELD  # gone meanwhile (expired): the next run claims it again
        if held.state == QUEUED:
            return Claim.QUEUED
        if int(held.lease_until) > epoch(now):
            return Claim.HELD
        try:
            # The run that claimed it stopped before queueing: take it over, once.
            held.update(
                actions=[
                    NoticeRecipientItem.lease_until.set(lease_until),
                    NoticeRecipientItem.claimed_at.set(now),
                ],
                condition=(NoticeRecipientItem.state == CLAIMED)
                & (NoticeRecipientItem.lease_until == held.lease_until),
            )
        except UpdateError as e:
            if e.cause_response_code != CONDITION_FAILED:
                raise
            return Claim.HELD
        return Claim.OURS

    def mark_queued(self, change_id: str, email: str, at: datetime) -> None:
        _recipient(change_id, email).update(
            actions=[
                NoticeRecipientItem.state.set(QUEUED),
                NoticeRecipientItem.queued_at.set(at),
            ],
            condition=Item.pk.exists(),
        )

    def position(self, change_id: str, list_name: str) -> str | None:
        try:
            item = NoticeCursorItem.get(
                keys.subprocessor_notice_pk(change_id),
                keys.notice_cursor_sk(list_name),
                consistent_read=True,
            )
        except NoticeCursorItem.DoesNotExist:
            return None
        return str(item.position)

    def advance(self, change_id: str, list_name: str, position: str, keep_until: int) -> None:
        cursor = NoticeCursorItem(
            keys.subprocessor_notice_pk(change_id), keys.notice_cursor_sk(list_name)
        )
        try:
            cursor.update(
                actions=[
                    NoticeCursorItem.position.set(position),
                    NoticeCursorItem.kind.set(NoticeCursorItem),
                    NoticeCursorItem.expires_at.set(keep_until),
                ],
                condition=NoticeCursorItem.position.does_not_exist()
                | (NoticeCursorItem.position < position),
            )
        except UpdateError as e:
            if e.cause_response_code != CONDITION_FAILED:
                raise  # refused: another run went further already
