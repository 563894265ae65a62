"""Bounds on JSON a caller sends: nesting is checked before anything parses the body, so
`[[[[...` a hundred thousand deep is a 400, never a RecursionError (a 500)."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
# A string (its brackets do not count; unterminated at the end of the body too) or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")
_QUOTE = ord('"')


class JsonTooDeep(ValueError):
    """The document nests arrays and objects deeper than allowed."""


def check_depth(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raises JsonTooDeep when `raw` nests deeper than `max_depth`; reads without parsing
    (one regular-expression pass, no recursion) and does not check the JSON is valid."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(data):
        first = token.group()[0]
        if first == _QUOTE:
            continue
        if first in _OPENING:
            depth += 1
            if depth > max_depth:
                raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
        else:
            depth -= 1


def loads(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` of a document no deeper than `max_depth`; ValueError otherwise (invalid
    JSON, undecodable bytes, too deep)."""
    check_depth(raw, max_depth)
    return json.loads(raw)
