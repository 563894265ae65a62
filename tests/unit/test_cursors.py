"""Paging cursors are opaque to clients and checked on the way back in: a cursor of another
listing, outside the listing's range or not a start key at all is a 400, never a query."""

import base64
import json

import pytest

from chalicelib.errors import InvalidCursor
from chalicelib.store.paging import decode_cursor, encode_cursor

PK = "WS#01A"


def _forged(key):
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def test_a_cursor_comes_back_as_the_start_key_it_was_made_from():
    key = {"PK": {"S": PK}, "SK": {"S": "MEMBER#01B"}}
    assert decode_cursor(encode_cursor(key), {"PK": PK}, sort_prefix=("SK", "MEMBER#")) == key


@pytest.mark.parametrize(
    "key",
    [
        {"PK": {"S": "WS#other"}, "SK": {"S": "MEMBER#01B"}},  # another workspace
        {"PK": {"S": PK}, "SK": {"S": "SETTINGS#AI"}},  # outside the listing's range
        {"PK": {"S": PK}},  # no sort key
        {"PK": {"S": PK}, "SK": {"N": 5}},  # not a key value
        {"PK": {"S": PK}, "SK": {"S": "MEMBER#01B", "N": "1"}},
        {"PK": {"S": PK}, "SK": "MEMBER#01B"},
        ["PK", PK],
    ],
)
def test_a_forged_cursor_is_refused(key):
    with pytest.raises(InvalidCursor):
        decode_cursor(_forged(key), {"PK": PK}, sort_prefix=("SK", "MEMBER#"))


def test_garbage_is_refused():
    for cursor in ["!!!", "bm90IGpzb24", _forged("text")]:
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor, {"PK": PK})
