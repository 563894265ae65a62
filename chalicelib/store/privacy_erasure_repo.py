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
same transaction.  A workspace's erasures are one Query of `privacy#erasure#`, newest first."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from chalicelib.errors import ServiceUnavailable
from chalicelib.privacy.erasure import Erasure, ErasureStatus
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.queues import SqsQueue
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

ERASURE_PREFIX = "privacy#erasure#"
LOCK_PREFIX = "privacy#erasing#"


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
    )


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

    def save(self, erasure: Erasure) -> None:
        _item(erasure).save()

    def finish(self, erasure: Erasure) -> None:
        running = self.get(erasure.workspace_id, erasure.id)
        address = running.subject_email if running else None
        with transaction() as write:
            write.save(_item(erasure))
            if address:
                write.delete(
                    ErasureLockItem(keys.workspace_pk(erasure.workspace_id), lock_sk(address))
                )

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


def erasure_job(body: dict[str, Any]) -> tuple[str, str] | None:
    """(workspace id, erasure id) of a `privacy-jobs` message of kind `erasure`; None for
    another kind."""
    if body.get("kind") != "erasure":
        return None
    return str(body["workspace_id"]), str(body["erasure_id"])
