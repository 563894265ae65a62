"""Data-subject erasures in DynamoDB and SQS: the records (the audit log: implements
`Erasures` of chalicelib/privacy/erasure.py), the lock that makes one erasure per address
run at a time, the contact lookup it starts from, and its job on the `privacy-jobs` queue.

| item               | PK        | SK                               | written              |
|--------------------|-----------|----------------------------------|----------------------|
| an erasure         | `WS#<ws>` | `privacy#erasure#<erasure id>`   | at the request (new),|
|                    |           |                                  | after each step (Put)|
| the address's lock | `WS#<ws>` | `privacy#erasing#<sha256(addr)>` | with the erasure (in |
|                    |           |                                  | one transaction);    |
|                    |           |                                  | deleted when done    |

A finished record holds no address: `subject_email`, `contact_id` and the ticket ids found
are removed from it, and the lock (which only names a hash of the address) is deleted in the
same transaction, if it is still this erasure's.  A run claims the record (a Put on condition
that it is as the run read it, pending or running, and that no run holds it: no `runner`, or
its `runner_until` past) and saves it only while it holds it (a Put on condition `runner` =
its own), so two deliveries of one job never run it together.  A workspace's erasures are
one Query of `privacy#erasure#`, newest first.

A job message is `{"kind": "erasure", "workspace_id", "erasure_id"}` (ids of letters, digits,
`_` and `-`, at most 64: `erasure_job` refuses any other)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.errors import ServiceUnavailable
from chalicelib.privacy.erasure import Erasure, ErasureStatus, ErasureTaken
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.queues import SqsQueue
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

ERASURE_PREFIX = "privacy#erasure#"
LOCK_PREFIX = "privacy#erasing#"
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_CONDITION_FAILED = "ConditionalCheckFailedException"


def erasure_sk(erasure_id: str) -> str:
    return f"{ERASURE_PREFIX}{erasure_id}"


def lock_sk(address: str) -> str:
    return f"{LOCK_PREFIX}{hashlib.sha256(address.encode()).hexdigest()}"


class ErasureItem(Item, discriminator="privacy_erasure"):
    erasure_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    subject_email = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    phase = UnicodeAttribute()
    cursor = UnicodeAttribute(null=True)
    ticket_ids = UnicodeAttribute(null=True)  # JSON list, while it runs
    counts = UnicodeAttribute(default="{}")  # JSON {class: n}
    attempts = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    runner = UnicodeAttribute(null=True)  # the run holding it
    runner_until = UTCDateTimeAttribute(null=True)
    address_form = NumberAttribute(default=0)  # which form of the address the phase is at


class ErasureLockItem(Item, discriminator="privacy_erasure_lock"):
    erasure_id = UnicodeAttribute()


def _item(erasure: Erasure) -> ErasureItem:
    return ErasureItem(
        keys.workspace_pk(erasure.workspace_id),
        erasure_sk(erasure.id),
        erasure_id=erasure.id,
        workspace_id=erasure.workspace_id,
        requested_by=erasure.requested_by,
        requested_at=erasure.requested_at,
        subject_email=erasure.subject_email,
        contact_id=erasure.contact_id,
        status=erasure.status.value,
        phase=erasure.phase,
        cursor=erasure.cursor,
        ticket_ids=json.dumps(list(erasure.ticket_ids)) if erasure.ticket_ids else None,
        counts=json.dumps(dict(erasure.counts), sort_keys=True),
        attempts=erasure.attempts,
        updated_at=erasure.updated_at,
        finished_at=erasure.finished_at,
        failure=erasure.failure,
        runner=erasure.runner,
        runner_until=erasure.runner_until,
        address_form=erasure.address_form,
    )


def _erasure(item: ErasureItem) -> Erasure:
    return Erasure(
        id=item.erasure_id,
        workspace_id=item.workspace_id,
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        subject_email=item.subject_email,
        contact_id=item.contact_id,
        status=ErasureStatus(item.status),
        phase=item.phase,
        cursor=item.cursor,
        ticket_ids=tuple(json.loads(item.ticket_ids)) if item.ticket_ids else (),
        counts={str(k): int(v) for k, v in json.loads(item.counts or "{}").items()},
        attempts=int(item.attempts or 0),
        updated_at=item.updated_at,
        finished_at=item.finished_at,
        failure=item.failure,
        runner=item.runner,
        runner_until=item.runner_until,
        address_form=int(item.address_form or 0),
    )


def _held_by(runner: str | None) -> Any:
    """The condition that the stored record is held by `runner` (None: by no run)."""
    if runner is None:
        return ErasureItem.runner.does_not_exist()
    return ErasureItem.runner == runner


class DynamoErasures:
    def start(self, erasure: Erasure) -> Erasure:
        address = erasure.subject_email or ""
        lock = ErasureLockItem(
            keys.workspace_pk(erasure.workspace_id), lock_sk(address), erasure_id=erasure.id
        )
        for _ in range(3):  # the running one may finish between the write and the read
            try:
                with transaction() as write:
                    write.save(lock, condition=Item.pk.does_not_exist())
                    write.save(_item(erasure), condition=Item.pk.does_not_exist())
            except TransactWriteError as e:
                if CONDITION_FAILED not in cancellation_reasons(e):
                    raise
                running = self._running(erasure.workspace_id, address)
                if running is not None:
                    return running
                continue
            return erasure
        raise ServiceUnavailable("The erasure could not be recorded; try again.")

    def _running(self, workspace_id: str, address: str) -> Erasure | None:
        try:
            lock = ErasureLockItem.get(
                keys.workspace_pk(workspace_id), lock_sk(address), consistent_read=True
            )
        except ErasureLockItem.DoesNotExist:
            return None
        return self.get(workspace_id, lock.erasure_id)

    def claim(self, erasure: Erasure, seen_at: datetime | None, now: datetime) -> bool:
        unfinished = ErasureItem.status.is_in(
            ErasureStatus.PENDING.value, ErasureStatus.RUNNING.value
        )
        free = ErasureItem.runner.does_not_exist() | (ErasureItem.runner_until < now)
        unchanged = (
            ErasureItem.updated_at.does_not_exist()
            if seen_at is None
            else ErasureItem.updated_at == seen_at
        )
        try:
            _item(erasure).save(condition=Item.pk.exists() & unchanged & unfinished & free)
        except PutError as e:
            if e.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def save(self, erasure: Erasure, held_by: str | None = None) -> None:
        try:
            _item(erasure).save(condition=_held_by(held_by))
        except PutError as e:
            if e.cause_response_code == _CONDITION_FAILED:
                raise ErasureTaken() from e
            raise

    def finish(self, erasure: Erasure, held_by: str | None = None) -> None:
        running = self.get(erasure.workspace_id, erasure.id)
        address = running.subject_email if running else None
        try:
            with transaction() as write:
                write.save(_item(erasure), condition=_held_by(held_by))
                if address:
                    write.delete(
                        ErasureLockItem(keys.workspace_pk(erasure.workspace_id), lock_sk(address)),
                        # A later erasure of the address may hold it by now.
                        condition=ErasureLockItem.erasure_id == erasure.id,
                    )
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if reasons and reasons[0] == CONDITION_FAILED:
                raise ErasureTaken() from e
            if CONDITION_FAILED not in reasons:
                raise
            # Only the lock was another erasure's: the record alone.
            _item(erasure).save(condition=_held_by(held_by))

    def get(self, workspace_id: str, erasure_id: str) -> Erasure | None:
        try:
            item = ErasureItem.get(
                keys.workspace_pk(workspace_id), erasure_sk(erasure_id), consistent_read=True
            )
        except ErasureItem.DoesNotExist:
            return None
        return _erasure(item)

    def newest(self, workspace_id: str, limit: int) -> list[Erasure]:
        return [
            _erasure(item)
            for item in ErasureItem.query(
                keys.workspace_pk(workspace_id),
                ErasureItem.sk.startswith(ERASURE_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
            if isinstance(item, ErasureItem)
        ]


class DynamoContactFinder:
    """`ContactFinder` over the contact's address lookup (one GetItem)."""

    def contact_id_by_email(self, workspace_id: str, email: str) -> str | None:
        from chalicelib.store.tickets_repo import DynamoTicketStore

        contact = DynamoTicketStore().find_contact_by_email(workspace_id, email)
        return contact.id if contact else None


class SqsErasureJobs:
    def __init__(self, queue: SqsQueue) -> None:
        self._queue = queue

    def send_erasure(self, workspace_id: str, erasure_id: str) -> None:
        self._queue.send(
            json.dumps({"kind": "erasure", "workspace_id": workspace_id, "erasure_id": erasure_id})
        )


class MalformedJob(ValueError):
    """A `privacy-jobs` message of kind `erasure` that names no erasure: it never will."""


def erasure_job(body: dict[str, Any]) -> tuple[str, str] | None:
    """(workspace id, erasure id) of a `privacy-jobs` message of kind `erasure`; None for
    another kind; `MalformedJob` when its ids are missing or are not ids."""
    if body.get("kind") != "erasure":
        return None
    workspace_id, erasure_id = body.get("workspace_id"), body.get("erasure_id")
    if not (isinstance(workspace_id, str) and _ID.fullmatch(workspace_id)):
        raise MalformedJob("an erasure job without a workspace id")
    if not (isinstance(erasure_id, str) and _ID.fullmatch(erasure_id)):
        raise MalformedJob("an erasure job without an erasure id")
    return workspace_id, erasure_id
