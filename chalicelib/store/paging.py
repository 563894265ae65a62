"""Opaque paging cursors over DynamoDB's LastEvaluatedKey, bound to one listing."""

from __future__ import annotations

import base64
import json
from typing import Any

from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from chalicelib.errors import InvalidCursor


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()


def _is_key_value(value: Any) -> bool:
    """A key attribute as this table writes it: `{"S": "..."}` (every key is a string)."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) == "S"
        and isinstance(next(iter(value.values())), str)
    )


def _key_names(bound_to: dict[str, str]) -> set[str]:
    """The attributes a start key of this listing has, no more, no fewer: the table's key,
    and the index's when the listing queries one (`GSI<n>PK` bound)."""
    names = {"PK", "SK"}
    for attribute in bound_to:
        if attribute.startswith("GSI") and attribute.endswith("PK"):
            names |= {attribute, f"{attribute[:-2]}SK"}
    return names


def decode_cursor(
    cursor: str | None,
    bound_to: dict[str, str],
    *,
    sort_prefix: tuple[str, str] | None = None,
) -> dict[str, Any] | None:
    """The start key a cursor stands for; InvalidCursor (400) unless it was issued for the
    listing whose key attributes are `bound_to` (so no cursor can reach into another
    workspace), and, with `sort_prefix` (attribute, prefix), for a sort key within the
    listing's range: DynamoDB refuses a start key outside the query's range."""
    if not cursor:
        return None
    try:
        last_key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(last_key, dict) or not all(
            isinstance(name, str) and _is_key_value(value) for name, value in last_key.items()
        ):
            raise ValueError("not a start key")
        if set(last_key) != _key_names(bound_to):
            raise ValueError("not this listing's start key")
        for attribute, value in bound_to.items():
            if last_key[attribute]["S"] != value:
                raise ValueError("cursor of another listing")
        if sort_prefix is not None:
            attribute, prefix = sort_prefix
            if not str(last_key[attribute].get("S", "")).startswith(prefix):
                raise ValueError("cursor outside the listing")
        return dict(last_key)
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidCursor("The cursor is not valid for this listing.") from e


SLICE_EVALUATED = 100
"""Items one filtered Query evaluates per page: a filter no index serves costs one Query."""


def one_slice(
    query: ResultIterator[Any], model: type[Model], limit: int
) -> tuple[list[Any], dict[str, Any] | None]:
    """The first page of `query` only (exactly one Query call, however few items match its
    filter): at most `limit` matches, and the key to continue from — the last match returned
    when the slice held more, else the last key DynamoDB evaluated (None at the end)."""
    page = next(query.page_iter, None)
    raw_items: list[dict[str, Any]] = (page or {}).get("Items", [])
    if len(raw_items) > limit:
        raw_items = raw_items[:limit]
        names = list(query.page_iter.key_names)
        return [model.from_raw_data(raw) for raw in raw_items], {
            name: raw_items[-1][name] for name in names
        }
    return [model.from_raw_data(raw) for raw in raw_items], query.page_iter.last_evaluated_key
