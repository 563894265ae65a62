"""Opaque paging cursors over DynamoDB's LastEvaluatedKey, bound to one listing."""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.errors import InvalidCursor


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()


def decode_cursor(cursor: str | None, bound_to: dict[str, str]) -> dict[str, Any] | None:
    """The start key a cursor stands for; InvalidCursor unless it was issued for the listing
    whose key attributes are `bound_to` (so no cursor can reach into another workspace)."""
    if not cursor:
        return None
    try:
        last_key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        for attribute, value in bound_to.items():
            if last_key[attribute]["S"] != value:
                raise ValueError("cursor of another listing")
        return dict(last_key)
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidCursor("The cursor is not valid for this listing.") from e
