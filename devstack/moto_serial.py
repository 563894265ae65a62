"""moto server, with DynamoDB requests run one at a time.

DynamoDB applies each request atomically: a conditional write or a transaction either sees
the state before a concurrent write or after it.  moto's threaded server runs requests side by
side without a lock, so two conditional writes to one item can both pass their check (a lost
update that real DynamoDB would refuse).  Serialising DynamoDB requests restores DynamoDB's
guarantee; SQS long polls, S3 and the rest stay concurrent.

moto's TransactWriteItems backs up every table it touches with a deep copy, once per item of
every transaction, so memory and time per write grow with the table until the emulator is
killed.  `transact_write_items` below replaces it with a journal of the touched items only.

    python -m devstack.moto_serial -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_DYNAMODB_TARGET = "DynamoDB_"
_TRANSACT_WRITE = ".TransactWriteItems"
IDEMPOTENCY_SECONDS = 600.0  # DynamoDB keeps a ClientRequestToken ten minutes


class SerialDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, the rest untouched.

    Like DynamoDB, a TransactWriteItems repeated with the same ClientRequestToken within ten
    minutes succeeds again without running twice (moto re-runs it, so an SDK retry after a
    lost answer would fail its own conditions)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()
        # token -> (kept until, response headers, response body) of a committed transaction
        self._committed: dict[str, tuple[float, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_DYNAMODB_TARGET):
            return self._app(environ, start_response)
        with self._lock:
            token = self._transaction_token(environ) if target.endswith(_TRANSACT_WRITE) else ""
            now = time.monotonic()
            committed = self._committed.get(token) if token else None
            if committed is not None and committed[0] > now:
                start_response("200 OK", committed[1])
                return [committed[2]]
            answer: dict[str, Any] = {}

            def keep_answer(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                answer.update(status=status, headers=headers)
                return start_response(status, headers, *rest)

            # Consume the whole response inside the lock: moto builds it eagerly.
            chunks = list(self._app(environ, keep_answer))
            if token and str(answer.get("status", "")).startswith("200"):
                self._forget_expired(now)
                self._committed[token] = (
                    now + IDEMPOTENCY_SECONDS,
                    list(answer["headers"]),
                    b"".join(chunks),
                )
            return chunks

    @staticmethod
    def _transaction_token(environ: dict[str, Any]) -> str:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            token = json.loads(body or b"{}").get("ClientRequestToken", "")
        except ValueError:
            return ""
        return token if isinstance(token, str) else ""

    def _forget_expired(self, now: float) -> None:
        for token in [t for t, (until, _, _) in self._committed.items() if until <= now]:
            del self._committed[token]


class RollbackJournal:
    """The items a transaction touches, as they were before it; puts them back on cancel."""

    def __init__(self) -> None:
        self._before: dict[tuple[str, DynamoType, DynamoType | None], Item | None] = {}
        self._tables: dict[str, Table] = {}
        self._stream_lengths: dict[str, int] = {}

    def record(self, backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> None:
        """Keep a copy of the item at `key` (None if absent) before its first change."""
        table = backend.get_table(table_name)
        hash_key, range_key = backend.get_keys_value(table, key)
        if (table_name, hash_key, range_key) in self._before:
            return
        current = table.get_item(hash_key, range_key)
        self._before[(table_name, hash_key, range_key)] = copy.deepcopy(current)
        if table_name not in self._tables:
            self._tables[table_name] = table
            if table.stream_shard is not None:
                self._stream_lengths[table_name] = len(table.stream_shard.items)

    def restore(self) -> None:
        """Put every recorded item back as it was; remove those that did not exist."""
        for (table_name, hash_key, range_key), item in self._before.items():
            table = self._tables[table_name]
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item  # type: ignore[assignment]
                continue
            items_of_hash = table.items[hash_key]
            if item is None:
                items_of_hash.pop(range_key, None)
                if not items_of_hash:
                    del table.items[hash_key]
            else:
                items_of_hash[range_key] = item
        # Stream records of cancelled writes were never written, as in DynamoDB.
        for table_name, length in self._stream_lengths.items():
            shard = self._tables[table_name].stream_shard
            if shard is not None:
                del shard.items[length:]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2's `DynamoDBBackend.transact_write_items`, rolled back by a `RollbackJournal`.

    Same checks, order and errors (ConditionalCheckFailed per item, in the order sent, as
    TransactionCanceledException); a cancelled transaction leaves every touched item as it was.
    """
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    journal = RollbackJournal()
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                journal.record(self, table_name, key)
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            journal.restore()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # as moto: any other failure cancels this item
            errors.append((type(e).__name__, str(e), original_item))

    if any(code is not None for code, _, _ in errors):
        journal.restore()
        raise TransactionCanceledException(errors)


def install_journalled_transactions() -> None:
    """Make every DynamoDB backend of this process use the journalled `transact_write_items`."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.moto_serial")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    install_journalled_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SerialDynamoDB(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
