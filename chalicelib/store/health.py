"""Dependency checks for /v1/health."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib.observability import logger
from chalicelib.store.models import Item


def table_reachable() -> bool:
    """One DescribeTable call; False (and a log line) when the table cannot be reached."""
    try:
        Item.describe_table()
    except (PynamoDBException, BotoCoreError, ClientError) as e:
        logger.warning("table unreachable", extra={"error": type(e).__name__})
        return False
    return True
