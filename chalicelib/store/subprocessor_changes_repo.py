"""The planned changes to the sub-processor list in DynamoDB (implements
`SubprocessorChanges`, chalicelib/privacy/ports.py).

Platform data, not a workspace's: every change is one item under one partition, read whole
(they are few: a handful a year).

| item             | PK              | SK                  | attributes                          |
|------------------|-----------------|---------------------|-------------------------------------|
| a planned change | `SUBPROCESSORS` | `change#<change id>`| kind, announced_at, effective_at,   |
|                  |                 |                     | planned_by, body (the change's JSON)|

Access patterns (docs/data-model.md, Sub-processors): every change is one Query of the
partition (consistent; sorted by effective date here); one change is one GetItem; recording
is one PutItem with `attribute_not_exists(PK)`, so an id is recorded once.  Changes are
never updated or deleted: the changelog is their history."""

from __future__ import annotations

import json

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.privacy.model import PlannedChange
from chalicelib.privacy.ports import ChangeAlreadyRecorded
from chalicelib.privacy.records import change_dict, change_from
from chalicelib.store.models import Item

PARTITION = "SUBPROCESSORS"
CHANGE_PREFIX = "change#"
CONDITION_FAILED = "ConditionalCheckFailedException"
MAX_ID_BYTES = 128


def change_sk(change_id: str) -> str:
    return f"{CHANGE_PREFIX}{change_id}"


class SubprocessorChangeItem(Item, discriminator="subprocessor_change"):
    """PK=SUBPROCESSORS, SK=change#<id>: one planned change, written once."""

    change_id = UnicodeAttribute()
    change_kind = UnicodeAttribute()
    announced_at = UTCDateTimeAttribute()
    effective_at = UTCDateTimeAttribute()
    planned_by = UnicodeAttribute(default="")
    body = UnicodeAttribute()  # records.change_dict as JSON


class DynamoSubprocessorChanges:
    def all_changes(self) -> list[PlannedChange]:
        """Every recorded change, oldest effective first (one consistent Query)."""
        found = [
            change_from(json.loads(item.body))
            for item in SubprocessorChangeItem.query(
                PARTITION,
                SubprocessorChangeItem.sk.startswith(CHANGE_PREFIX),
                consistent_read=True,
            )
        ]
        return sorted(found, key=lambda c: (c.effective_at, c.announced_at, c.id))

    def get_change(self, change_id: str) -> PlannedChange | None:
        # Ids are ULIDs: a longer one names no change (and DynamoDB refuses keys over 1 KiB).
        if not change_id or len(change_id.encode()) > MAX_ID_BYTES:
            return None
        try:
            item = SubprocessorChangeItem.get(PARTITION, change_sk(change_id), consistent_read=True)
        except SubprocessorChangeItem.DoesNotExist:
            return None
        return change_from(json.loads(item.body))

    def record_change(self, change: PlannedChange) -> None:
        """One PutItem; ChangeAlreadyRecorded when the id was recorded before."""
        item = SubprocessorChangeItem(
            PARTITION,
            change_sk(change.id),
            change_id=change.id,
            change_kind=change.kind.value,
            announced_at=change.announced_at,
            effective_at=change.effective_at,
            planned_by=change.planned_by,
            body=json.dumps(change_dict(change), ensure_ascii=False, separators=(",", ":")),
        )
        try:
            item.save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if e.cause_response_code == CONDITION_FAILED:
                raise ChangeAlreadyRecorded(change.id) from e
            raise
