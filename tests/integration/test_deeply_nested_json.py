"""JSON nested past the depth limit is refused with 400 `malformed_json` on every route that
reads a JSON body (before anything parses it), and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.api.routing import JSON, OPERATIONS
from chalicelib.json_limits import MAX_JSON_DEPTH

NESTED = "[" * 100_000
JUST_TOO_DEEP = '{"name": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"


def _table_items(aws: Any) -> list[dict[str, Any]]:
    # Test-only: product code never scans.
    pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=aws.table_name)
    return sorted(
        (item for page in pages for item in page["Items"]),
        key=lambda i: (i["PK"]["S"], i["SK"]["S"]),
    )


def _queued(aws: Any) -> int:
    sqs = aws.client("sqs")
    total = 0
    for url in aws.queue_urls.values():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        total += int(attributes["ApproximateNumberOfMessages"])
    return total


def _json_routes() -> list[tuple[str, str]]:
    import app  # noqa: F401  (registers every operation)

    return [
        (op.method, re.sub(r"\{[a-z_]+\}", "01ANYID0000000000000000000", op.path))
        for op in OPERATIONS
        if op.body is not None or JSON in op.accepts
    ]


@pytest.mark.parametrize("body", [NESTED, JUST_TOO_DEEP], ids=["100000-deep", "one-too-deep"])
def test_deeply_nested_json_is_400_malformed_json_and_changes_nothing(api, clean_aws, body):
    owner = api.sign_up()
    routes = _json_routes()
    assert ("POST", "/v1/auth/login") in routes
    assert ("POST", "/v1/signup") in routes
    assert ("POST", "/v1/webhooks/mailgun/events") in routes
    assert ("POST", "/v1/tickets") in routes
    before, queued_before = _table_items(clean_aws), _queued(clean_aws)

    answers = {
        f"{method} {path}": api.request(method, path, body, token=owner["token"])[:2]
        for method, path in routes
    }

    assert {
        route: (status, (body or {}).get("error", {}).get("code"))
        for route, (status, body) in answers.items()
    } == {route: (400, "malformed_json") for route in answers}
    assert _table_items(clean_aws) == before
    assert _queued(clean_aws) == queued_before


def test_json_at_the_depth_limit_is_read(api):
    nested_name = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    status, body, _ = api.request(
        "POST", "/v1/auth/login", f'{{"email": "ann@acme.test", "password": {nested_name}}}'
    )
    # Parsed, then refused by the schema (a password is a string), not as malformed JSON.
    assert status == 422, body
    assert body["error"]["code"] == "validation_failed"
