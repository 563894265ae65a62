"""Helpers of the ticket-removal and ticket-erasure tests: a clean emulator once per module,
mail in through the webhook and the workers, and what the whole table and bucket hold
(tests may Scan; the product never does)."""

from __future__ import annotations

import json
from typing import Any

import requests

from chalicelib.store.ticket_removal import DynamoTicketRemoval
from devstack.pump import EventPump
from tests.conftest import AwsResources, _empty_bucket, _empty_queue, _empty_table
from tests.integration.conftest import Api


def empty(aws: AwsResources) -> None:
    _empty_table(aws.client("dynamodb"), aws.table_name)
    _empty_bucket(aws.client("s3"), aws.bucket)
    sqs = aws.client("sqs")
    for queue_url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        _empty_queue(sqs, queue_url)


def drain(pump: EventPump, *names: str) -> None:
    """Runs the named workers until their queues are empty (no record failing)."""
    for _ in range(20):
        received = 0
        for subscription in [q for q in pump.queues if q.name in names]:
            outcome = pump.poll_queue(subscription)
            assert outcome.failed == 0, f"{subscription.name} failed a record"
            received += outcome.received
        if not received:
            return
    raise AssertionError("the queues did not empty")


def mail_in(api: Api, pump: EventPump, form: tuple[bytes, str]) -> None:
    body, content_type = form
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200, response.body
    drain(pump, "inbound_mail_worker", "search_indexer")


def call(api: Api, method: str, path: str, token: str, body: Any = None) -> Any:
    status, answer, _ = api.request(method, path, body, token=token)
    assert status < 300, (method, path, status, answer)
    return answer


def upload(api: Api, token: str, ticket_id: str, filename: str, content: bytes) -> str:
    """An agent's upload for the ticket, POSTed to S3 as a browser would; its id."""
    permit = call(
        api,
        "POST",
        f"/v1/tickets/{ticket_id}/attachments",
        token,
        {"filename": filename, "content_type": "text/plain", "size": len(content)},
    )
    posted = requests.post(
        permit["upload_url"],
        data=permit["fields"],
        files={"file": (filename, content, "text/plain")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return str(permit["id"])


def table_items(aws: AwsResources) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=aws.table_name):
        found += page["Items"]
    return found


def bucket_objects(aws: AwsResources) -> dict[str, str]:
    s3 = aws.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=aws.bucket):
        for entry in page.get("Contents", []):
            content = s3.get_object(Bucket=aws.bucket, Key=entry["Key"])["Body"].read()
            found[entry["Key"]] = content.decode("utf-8", "replace")
    return found


def holding(aws: AwsResources, *needles: str, unless: tuple[str, ...] = ()) -> list[str]:
    """The items and objects whose text (keys included) holds one of `needles` (in any
    case), leaving out items of the kinds `unless`."""
    wanted = [n.lower() for n in needles]
    found = []
    for item in table_items(aws):
        if item.get("kind", {}).get("S") in unless:
            continue
        text = json.dumps(item, ensure_ascii=False).lower()
        if any(n in text for n in wanted):
            found.append(text[:400])
    for key, content in bucket_objects(aws).items():
        text = f"{key}\n{content}".lower()
        if any(n in text for n in wanted):
            found.append(f"s3://{key}")
    return found


def removal(aws: AwsResources) -> DynamoTicketRemoval:
    from chalicelib import bootstrap

    return DynamoTicketRemoval(bootstrap.blob_store())
