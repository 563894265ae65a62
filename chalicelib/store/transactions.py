"""DynamoDB transactions: one connection per container, and why a transaction was refused."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import Item

CONDITION_FAILED = "ConditionalCheckFailed"


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=Item.Meta.region)


def transaction() -> TransactWrite:
    """A TransactWrite to use as a context manager (committed when the block ends)."""
    return TransactWrite(connection=_connection())


def cancellation_reasons(error: TransactWriteError) -> list[str | None]:
    """One reason per item of the refused transaction, in order (None: that item was fine)."""
    return [r.code if r is not None else None for r in (error.cancellation_reasons or [])]
