"""Whole partitions of the table and the content bucket's prefixes, read and removed by key:
what deleting a workspace needs, whatever the item types in them (the low-level clients:
items of every kind, including ones this code does not model, come back as raw keys).

Every read is a Query of one partition or index partition (never a Scan), one page at a
time; deletes go 25 to a BatchWriteItem (what DynamoDB leaves unprocessed is sent again)
and 1000 to a DeleteObjects."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

BATCH = 25
UNPROCESSED_RETRIES = 8
PAGE = 100
PAGES_PER_STEP = 10  # a partition of more than this many pages goes on in the next step
_deserializer = TypeDeserializer()

Key = tuple[str, str]
Row = dict[str, Any]


def _plain(raw: dict[str, Any]) -> Row:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


class TablePartitions:
    """`client` builds the DynamoDB client on first use (a low-level boto3 client)."""

    def __init__(self, client: Callable[[], Any], table: str) -> None:
        self._client = client
        self._table = table

    @property
    def _db(self) -> Any:
        return self._client()

    def page(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
        attributes: Sequence[str] = (),
    ) -> tuple[list[Row], str | None]:
        """One Query (consistent) of partition `pk`, sort keys beginning with `prefix` and
        after the sort key `after`, in sort order; the rows (PK, SK and `attributes`) and
        the last sort key read when more may follow (else None)."""
        values: dict[str, Any] = {":h": {"S": pk}}
        condition = "#h = :h"
        if prefix is not None:
            condition += " AND begins_with(#r, :p)"
            values[":p"] = {"S": prefix}
        names = {f"#a{n}": name for n, name in enumerate(dict.fromkeys(["PK", "SK", *attributes]))}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {**names, "#h": "PK", "#r": "SK"},
            "ExpressionAttributeValues": values,
            "ProjectionExpression": ", ".join(names),
            "ConsistentRead": True,
            "Limit": limit,
        }
        if prefix is None:
            del query["ExpressionAttributeNames"]["#r"]
        if after is not None:
            query["ExclusiveStartKey"] = {"PK": {"S": pk}, "SK": {"S": after}}
        answer = self._db.query(**query)
        rows = [_plain(raw) for raw in answer.get("Items", [])]
        more = answer.get("LastEvaluatedKey")
        return rows, (str(rows[-1]["SK"]) if more and rows else None)

    def index_page(
        self,
        index: str,
        pk: str,
        *,
        after_row: Row | None = None,
        limit: int = 100,
        attributes: Sequence[str] = (),
    ) -> tuple[list[Row], Row | None]:
        """One Query of index partition `pk`, from after `after_row` (a row this returned
        last); the rows and the row to go on from (None at the end)."""
        hash_name, range_name = f"{index}PK", f"{index}SK"
        projected = ["PK", "SK", hash_name, range_name, *attributes]
        names = {f"#a{n}": name for n, name in enumerate(dict.fromkeys(projected))}
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#h = :h",
            "ExpressionAttributeNames": {**names, "#h": hash_name},
            "ExpressionAttributeValues": {":h": {"S": pk}},
            "ProjectionExpression": ", ".join(names),
            "Limit": limit,
        }
        if after_row is not None:
            query["ExclusiveStartKey"] = {
                name: {"S": str(after_row[name])} for name in ("PK", "SK", hash_name, range_name)
            }
        answer = self._db.query(**query)
        rows = [_plain(raw) for raw in answer.get("Items", [])]
        return rows, (rows[-1] if answer.get("LastEvaluatedKey") and rows else None)

    def get(self, pk: str, sk: str, attributes: Sequence[str] = ()) -> Row | None:
        """GetItem, consistent (PK, SK and `attributes`)."""
        names = {f"#a{n}": name for n, name in enumerate(dict.fromkeys(["PK", "SK", *attributes]))}
        answer = self._db.get_item(
            TableName=self._table,
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            ConsistentRead=True,
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        item = answer.get("Item")
        return _plain(item) if item else None

    def delete(self, keys: Iterable[Key]) -> int:
        """Deletes the items (those already gone are no error); how many keys were sent."""
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH):
            requests = [
                {"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
                for pk, sk in unique[start : start + BATCH]
            ]
            pending: dict[str, Any] = {self._table: requests}
            for attempt in range(UNPROCESSED_RETRIES):
                answer = self._db.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise RuntimeError("DynamoDB left deletes unprocessed; the step is retried")
        return len(unique)

    def move_lookup(
        self, pk: str, sk: str, workspace_id: str, to: str, attribute: str = "workspace_id"
    ) -> int:
        """Makes a global item whose `attribute` names `workspace_id` name `to` instead
        (UpdateItem, conditioned on the name): 1 when it moved, 0 when absent or another's."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                UpdateExpression="SET #a = :t",
                ConditionExpression="#a = :w",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":w": {"S": workspace_id}, ":t": {"S": to}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return 0
        return 1

    def delete_partition(
        self, pk: str, limit: int = 100, prefix: str | None = None
    ) -> tuple[int, bool]:
        """Deletes the first `limit` items of partition `pk` (with `prefix`): (deleted,
        whether more are left).  Deleted items leave the partition, so no cursor is needed."""
        rows, more = self.page(pk, prefix=prefix, limit=limit)
        deleted = self.delete((str(r["PK"]), str(r["SK"])) for r in rows)
        return deleted, more is not None

    def delete_lookup(
        self, pk: str, sk: str, workspace_id: str, attribute: str = "workspace_id"
    ) -> int:
        """Deletes a global lookup item if its `attribute` still names `workspace_id` (another
        workspace may hold the value since): 1 when it went, 0 when absent or another's."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                ConditionExpression="#a = :w",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":w": {"S": workspace_id}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return 0
        return 1


class PartitionDrains:
    """Whole partitions deleted a bounded number of pages at a time (a deletion's steps)."""

    def __init__(self, table: TablePartitions) -> None:
        self.table = table

    def drain(self, pk: str, prefix: str | None = None) -> tuple[int, bool]:
        """Deletes up to PAGES_PER_STEP pages of partition `pk`: (deleted, more left)."""
        deleted = 0
        for _ in range(PAGES_PER_STEP):
            count, more = self.table.delete_partition(pk, PAGE, prefix)
            deleted += count
            if not more:
                return deleted, False
        return deleted, True

    def drain_all(self, pk: str) -> int:
        """Deletes the whole partition (a small one: histories, listeners, ledgers)."""
        deleted = 0
        while True:
            count, more = self.drain(pk)
            deleted += count
            if not more:
                return deleted


def split_cursor(cursor: str | None, first: str) -> tuple[str, str | None]:
    """A step's cursor `<stage>|<after>` as (stage, after); no cursor: the first stage."""
    if cursor is None:
        return first, None
    stage, _, after = cursor.partition("|")
    return stage, after or None


def cursor_at(stage: str, after: str | None) -> str:
    return f"{stage}|{after or ''}"


def user_of_actor(actor: object) -> str | None:
    """The user id of an actor as the product writes it (`user:<id>`); None for others."""
    text = str(actor or "")
    return text.removeprefix("user:") if text.startswith("user:") else None


class BucketPrefixes:
    """Objects of the content bucket under a prefix (`client` builds the S3 client)."""

    def __init__(self, client: Callable[[], Any], bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def delete_page(self, prefix: str, limit: int = 1000) -> tuple[int, bool]:
        """Deletes the first `limit` objects under `prefix`: (deleted, whether more are left)."""
        s3 = self._client()
        answer = s3.list_objects_v2(Bucket=self._bucket, Prefix=prefix, MaxKeys=limit)
        keys = [entry["Key"] for entry in answer.get("Contents", [])]
        if keys:
            self.delete(keys)
        return len(keys), bool(answer.get("IsTruncated"))

    def delete(self, keys: Sequence[str]) -> int:
        """Deletes the objects (absent ones are no error)."""
        s3 = self._client()
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            answer = s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
            )
            if answer.get("Errors"):
                raise RuntimeError("S3 kept some objects; the step is retried")
        return len(keys)

    def any_under(self, prefix: str) -> bool:
        answer = self._client().list_objects_v2(Bucket=self._bucket, Prefix=prefix, MaxKeys=1)
        return bool(answer.get("Contents"))
