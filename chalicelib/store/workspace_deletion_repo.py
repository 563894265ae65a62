"""Workspace deletion records in DynamoDB (implements `WorkspaceDeletions`,
chalicelib/privacy/workspace_deletion.py).  Outside the workspace's partition, which the
deletion itself sweeps:

| item              | PK                  | SK         | GSI1PK / GSI1SK                           |
|-------------------|---------------------|------------|-------------------------------------------|
| deletion record   | `WSDELETION#<ws>`   | `DELETION` | `WSDELETIONS#DUE` / `<next run, µs>#<ws>` |

Access patterns: a workspace's deletion is one GetItem (consistent); the schedule reads the
head of the due list, one Query of `GSI1` `WSDELETIONS#DUE`, `GSI1SK` up to now (ids and
progress only, no content: a handful of items at any time).  A request is a PutItem with
`attribute_not_exists(PK)` (one deletion per workspace); a cancel is a DeleteItem conditioned
on `status = scheduled AND delete_at > now`; a run holds the record by a PutItem conditioned
on the `version` it read and no live lease, and saves its progress by PutItems conditioned on
its own lease.  The record is deleted when the workspace is gone.

The members' mails go through the `privacy-jobs` queue (`SqsMembersMailJobs`): a message
`{"kind": "workspace_deletion_mail", "workspace_id", "deletion_id", "mail", "actor",
"delete_at"}`, read back by `members_mail_job`, which refuses any other shape."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.privacy.workspace_deletion import (
    LEASE,
    DeletionStatus,
    MembersMail,
    WorkspaceDeletion,
)
from chalicelib.privacy.workspace_deletion_mails import KINDS
from chalicelib.store.models import Item
from chalicelib.store.privacy_erasure_repo import MalformedJob
from chalicelib.store.queues import SqsQueue

RECORD_SK = "DELETION"
DUE_VIEW = "WSDELETIONS#DUE"
CONDITION_FAILED = "ConditionalCheckFailedException"


def deletion_pk(workspace_id: str) -> str:
    return f"WSDELETION#{workspace_id}"


def _sortable(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WorkspaceDeletionItem(Item, discriminator="workspace_deletion"):
    """PK=WSDELETION#<ws>, SK=DELETION; in the due list (GSI1 WSDELETIONS#DUE) until gone."""

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    deletion_id = UnicodeAttribute()
    status = UnicodeAttribute()  # scheduled | deleting
    delete_at = UTCDateTimeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    next_run_at = UTCDateTimeAttribute()
    phase = UnicodeAttribute()
    cursor = UnicodeAttribute(null=True)
    counts = UnicodeAttribute(default="{}")  # JSON {family: items removed}
    people = UnicodeAttribute(default="[]")  # JSON [user id]
    sweeps = NumberAttribute(default=0)
    started_at = UTCDateTimeAttribute(null=True)
    lease = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)


def _item(deletion: WorkspaceDeletion) -> WorkspaceDeletionItem:
    ws = deletion.workspace_id
    return WorkspaceDeletionItem(
        deletion_pk(ws),
        RECORD_SK,
        gsi1pk=DUE_VIEW,
        gsi1sk=f"{_sortable(deletion.next_run_at)}#{ws}",
        workspace_id=ws,
        deletion_id=deletion.id,
        status=deletion.status.value,
        delete_at=deletion.delete_at,
        requested_by=deletion.requested_by,
        requested_at=deletion.requested_at,
        next_run_at=deletion.next_run_at,
        phase=deletion.phase,
        cursor=deletion.cursor,
        counts=json.dumps(dict(deletion.counts), sort_keys=True),
        people=json.dumps(list(deletion.people)),
        sweeps=deletion.sweeps,
        started_at=deletion.started_at,
        lease=deletion.lease,
        lease_until=deletion.lease_until,
        version=deletion.version,
    )


def _deletion(item: WorkspaceDeletionItem) -> WorkspaceDeletion:
    return WorkspaceDeletion(
        workspace_id=item.workspace_id,
        id=item.deletion_id,
        status=DeletionStatus(item.status),
        delete_at=item.delete_at,
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        next_run_at=item.next_run_at,
        phase=item.phase,
        cursor=item.cursor,
        counts={str(k): int(v) for k, v in json.loads(item.counts or "{}").items()},
        people=tuple(str(p) for p in json.loads(item.people or "[]")),
        sweeps=int(item.sweeps or 0),
        started_at=item.started_at,
        lease=item.lease,
        lease_until=item.lease_until,
        version=int(item.version or 0),
    )


def _refused(error: PutError | DeleteError) -> bool:
    return error.cause_response_code == CONDITION_FAILED


class DynamoWorkspaceDeletions:
    def get(self, workspace_id: str) -> WorkspaceDeletion | None:
        try:
            item = WorkspaceDeletionItem.get(
                deletion_pk(workspace_id), RECORD_SK, consistent_read=True
            )
        except WorkspaceDeletionItem.DoesNotExist:
            return None
        return _deletion(item)

    def schedule(self, deletion: WorkspaceDeletion) -> WorkspaceDeletion:
        try:
            _item(deletion).save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if not _refused(e):
                raise
            return self.get(deletion.workspace_id) or deletion
        return deletion

    def cancel(self, deletion: WorkspaceDeletion, now: datetime) -> bool:
        try:
            _item(deletion).delete(
                condition=(WorkspaceDeletionItem.deletion_id == deletion.id)
                & (WorkspaceDeletionItem.status == DeletionStatus.SCHEDULED.value)
                & (WorkspaceDeletionItem.delete_at > now)
            )
        except DeleteError as e:
            if not _refused(e):
                raise
            return False
        return True

    def due(self, now: datetime, limit: int) -> list[WorkspaceDeletion]:
        # "$" sorts right after "#": every record due at or before `now`, none after.
        found = Item.by_user.query(
            DUE_VIEW, WorkspaceDeletionItem.gsi1sk < _sortable(now) + "$", limit=limit
        )
        return [_deletion(item) for item in found if isinstance(item, WorkspaceDeletionItem)]

    def claim(
        self, deletion: WorkspaceDeletion, lease: str, now: datetime
    ) -> WorkspaceDeletion | None:
        """A consistent GetItem (the due list is a GSI, a moment behind), then the PutItem
        of the held record conditioned on the version read and no live lease."""
        current = self.get(deletion.workspace_id)
        if (
            current is None
            or current.id != deletion.id
            or current.next_run_at > now
            or (current.lease_until is not None and current.lease_until > now)
        ):
            return None
        held = replace(
            current,
            status=DeletionStatus.DELETING,
            started_at=current.started_at or now,
            lease=lease,
            lease_until=now + LEASE,
            version=current.version + 1,
        )
        try:
            _item(held).save(
                condition=(WorkspaceDeletionItem.version == current.version)
                & (
                    WorkspaceDeletionItem.lease_until.does_not_exist()
                    | (WorkspaceDeletionItem.lease_until <= now)
                )
            )
        except PutError as e:
            if not _refused(e):
                raise
            return None
        return held

    def save(self, deletion: WorkspaceDeletion, held_by: str) -> bool:
        try:
            _item(deletion).save(condition=WorkspaceDeletionItem.lease == held_by)
        except PutError as e:
            if not _refused(e):
                raise
            return False
        return True

    def forget(self, deletion: WorkspaceDeletion) -> None:
        _item(deletion).delete(condition=WorkspaceDeletionItem.deletion_id == deletion.id)


MEMBERS_MAIL_JOB = "workspace_deletion_mail"
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_ACTOR = re.compile(r"user:[0-9A-Za-z_-]{1,64}")


class SqsMembersMailJobs:
    def __init__(self, queue: SqsQueue) -> None:
        self._queue = queue

    def queue(self, job: MembersMail) -> None:
        self._queue.send(
            json.dumps(
                {
                    "kind": MEMBERS_MAIL_JOB,
                    "workspace_id": job.workspace_id,
                    "deletion_id": job.deletion_id,
                    "mail": job.kind,
                    "actor": job.actor,
                    "delete_at": job.delete_at.isoformat(),
                }
            )
        )


def members_mail_job(body: dict[str, Any]) -> MembersMail | None:
    """The job of a `privacy-jobs` message of kind `workspace_deletion_mail`; None for another
    kind; `MalformedJob` when a field is missing or is not what the request writes."""
    if body.get("kind") != MEMBERS_MAIL_JOB:
        return None
    workspace_id, deletion_id = body.get("workspace_id"), body.get("deletion_id")
    kind, actor, delete_at = body.get("mail"), body.get("actor"), body.get("delete_at")
    if not (isinstance(workspace_id, str) and _ID.fullmatch(workspace_id)):
        raise MalformedJob("a deletion mail job without a workspace id")
    if not (isinstance(deletion_id, str) and _ID.fullmatch(deletion_id)):
        raise MalformedJob("a deletion mail job without a deletion id")
    if kind not in KINDS:
        raise MalformedJob("a deletion mail job of no known mail")
    if not (isinstance(actor, str) and _ACTOR.fullmatch(actor)):
        raise MalformedJob("a deletion mail job without who asked")
    try:
        moment = datetime.fromisoformat(delete_at) if isinstance(delete_at, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MalformedJob("a deletion mail job without its date")
    return MembersMail(workspace_id, deletion_id, str(kind), actor, moment)
