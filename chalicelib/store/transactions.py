"""DynamoDB transactions: one connection per container, items sent in the order they were
added, and why a transaction was refused."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.connection import Connection
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import (
    TRANSACT_CONDITION_CHECK,
    TRANSACT_DELETE,
    TRANSACT_ITEMS,
    TRANSACT_PUT,
    TRANSACT_UPDATE,
    TRANSACT_WRITE_ITEMS,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import Item

CONDITION_FAILED = "ConditionalCheckFailed"


class OrderedTransactWrite(TransactWrite):
    """pynamodb groups a transaction's items by kind (checks, deletes, puts, updates), and
    DynamoDB reports why it refused one per item in the order sent.  This sends them in the
    order they were added, so `cancellation_reasons()[i]` is about the i-th item added."""

    def __init__(self, **kwargs: Any) -> None:
        # A request token makes the SDK's own retries of this transaction idempotent: a retry
        # after a lost response does not apply it twice (DynamoDB remembers it 10 minutes).
        kwargs.setdefault("client_request_token", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self._ordered: list[dict[str, Any]] = []

    def condition_check(self, *args: Any, **kwargs: Any) -> None:
        super().condition_check(*args, **kwargs)
        self._ordered.append({TRANSACT_CONDITION_CHECK: self._condition_check_items[-1]})

    def delete(self, *args: Any, **kwargs: Any) -> None:
        super().delete(*args, **kwargs)
        self._ordered.append({TRANSACT_DELETE: self._delete_items[-1]})

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self._ordered.append({TRANSACT_PUT: self._put_items[-1]})

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._ordered.append({TRANSACT_UPDATE: self._update_items[-1]})

    def _commit(self) -> Any:
        connection: Any = self._connection
        operation_kwargs = connection._get_transact_operation_kwargs(
            client_request_token=self._client_request_token,
            return_consumed_capacity=self._return_consumed_capacity,
            return_item_collection_metrics=self._return_item_collection_metrics,
        )
        operation_kwargs[TRANSACT_ITEMS] = self._ordered
        try:
            response = connection.dispatch(TRANSACT_WRITE_ITEMS, operation_kwargs)
        except BOTOCORE_EXCEPTIONS as e:
            raise TransactWriteError("Failed to write transaction items", e) from e
        for model in self._models_for_version_attribute_update:
            model.update_local_version_attribute()
        return response


def _connection() -> Connection:
    """The models' own connection: same client, same timeouts and retries (Item.Meta)."""
    return Item._get_connection().connection


def transaction() -> TransactWrite:
    """A transaction to use as a context manager (committed when the block ends); its items
    go to DynamoDB in the order they were added."""
    return OrderedTransactWrite(connection=_connection())


def cancellation_reasons(error: TransactWriteError) -> list[str | None]:
    """One reason per item of the refused transaction, in the order the items were added
    (None: that item was fine)."""
    return [r.code if r is not None else None for r in (error.cancellation_reasons or [])]
