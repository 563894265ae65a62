"""Answers a poll can revalidate: an `ETag` on the answer, and 304 with no body when the
request's `If-None-Match` names it (the client keeps what it has)."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response
from chalice.app import Request

JSON = "application/json"


def sent_tags(request: Request) -> frozenset[str]:
    """The tags `If-None-Match` names (weak ones as strong: they compare equal)."""
    sent = request.headers.get("if-none-match") or ""
    return frozenset(t.strip().removeprefix("W/") for t in sent.split(",") if t.strip())


def matches(request: Request, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (or is `*`)."""
    tags = sent_tags(request)
    return "*" in tags or etag in tags


def not_modified(etag: str) -> Response:
    return Response(body="", status_code=304, headers={"ETag": etag})


def tagged(result: Any, etag: str) -> Response:
    """A 200 JSON answer (a schema instance) carrying `etag`."""
    body = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return Response(
        body=json.dumps(body), status_code=200, headers={"Content-Type": JSON, "ETag": etag}
    )
