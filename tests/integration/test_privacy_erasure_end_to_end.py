"""Erasing a person on the emulator, through the product's own flows.

Carla mails the workspace (with an attachment), gets a reply that waits in the mail-out
queue (and a copy in its dead-letter queue), chats, books a call, has AI triage on her
ticket and an export of her data; Bob mails with Carla in CC and her address in his text;
another workspace has a Carla of its own.  An owner erases Carla through the API and the
privacy-jobs worker runs the erasure to the end.  Then a search of the whole table (its
indexes are projections of the same items: the ticket search index and the contact
directory's terms are items too), every object of the bucket and every message of every
queue and dead-letter queue finds nothing of her: not her address, not her name, not a
word only she wrote; Bob's ticket is kept with `[erased]` for her address; the other
workspace's Carla is untouched.  Then the erasure API's refusals as a case table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import app
from chalicelib.ai.model import AiResult, ResultKind, ResultStatus
from chalicelib.store.ai_repo import DynamoAiStore
from devstack.pump import EventPump
from fakes.mailgun import InboundAttachment, inbound_form
from tests.integration.chat_helpers import enable_chat, start
from tests.integration.conftest import Api, accept_invitation, drain_mail_queue, invite
from tests.integration.removal_helpers import drain, mail_in

ADDRESS = "carla.zuber@customer.test"
NAME = "Carla Zuberbühler"
# Words only Carla's data holds (her mail, the reply to her, her chat, her booking, AI).
HER_WORDS = ("xylophonic", "glockenwhirl", "quokkaberry", "marzipanic", "zuberb")
OTHER_WORD = "fennelquartz"  # the other workspace's Carla wrote this
ALL_WEEK = {
    day: [{"start": "00:00", "end": "24:00"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def _pump() -> EventPump:
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _tickets(api: Api, token: str, query: str | None = None) -> list[dict[str, Any]]:
    path = "/v1/tickets" + (f"?q={query}" if query else "")
    status, body, _ = api.request("GET", path, token=token)
    assert status == 200, body
    return list(body["tickets"])


@pytest.fixture()
def world(api: Api, clean_aws: Any) -> Iterator[dict[str, Any]]:
    pump = _pump()
    owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
    token = owner["token"]
    inbound = owner["workspace"]["inbound_address"]
    agent_token = accept_invitation(api, invite(api, token, "dan@acme.test"))[1]["token"]
    drain_mail_queue()

    # Carla's mail, with an attachment, and the reply waiting in the mail-out queue.
    mail_in(
        api,
        pump,
        inbound_form(
            recipient=inbound,
            sender=ADDRESS,
            from_header=f"{NAME} <{ADDRESS}>",
            subject="My xylophonic order",
            body_plain="My xylophonic order is late. Carla Zuberbühler, +33 6 12 34 56 78",
            attachments=[InboundAttachment("receipt.txt", "text/plain", b"xylophonic receipt")],
        ),
    )
    [carla_ticket] = _tickets(api, token)
    status, reply, _ = api.request(
        "POST",
        f"/v1/tickets/{carla_ticket['id']}/messages",
        {"body": "Hi Carla, the glockenwhirl part ships today."},
        token=agent_token,
    )
    assert status == 201, reply
    drain(pump, "search_indexer")

    # Bob's mail names her in CC and in his text.
    mail_in(
        api,
        pump,
        inbound_form(
            recipient=inbound,
            sender="bob@partner.test",
            subject="Invoice question",
            body_plain=f"Please loop in {ADDRESS} about the invoice for Bob's order.",
            extra_headers=[("Cc", f"{NAME} <{ADDRESS}>")],
        ),
    )

    # The team's answer to Bob, copying her, waits in the mail-out queue too.
    [bob_ticket] = [t for t in _tickets(api, token) if t["subject"] == "Invoice question"]
    status, answer, _ = api.request(
        "POST",
        f"/v1/tickets/{bob_ticket['id']}/messages",
        {"body": "Thanks Bob, the invoice follows.", "cc": [ADDRESS]},
        token=agent_token,
    )
    assert status == 201, answer

    # Her chat, her booking, AI triage on her ticket.
    key = enable_chat(api, owner, pre_chat_fields={"name": "optional", "email": "optional"})[
        "public_key"
    ]
    start(api, key, "Is the quokkaberry plan available?", email=ADDRESS, name=NAME)
    status, body, _ = api.request(
        "PUT",
        "/v1/booking/schedules/me",
        {"time_zone": "UTC", "weekly": ALL_WEEK},
        token=token,
    )
    assert status == 200, body
    status, event_type, _ = api.request(
        "POST",
        "/v1/booking/event-types",
        {
            "slug": "intro-call",
            "title": "Introduction call",
            "durations": [30],
            "location": {"kind": "phone", "value": "+33 1 23 45 67 89"},
            "host_ids": [owner["user"]["id"]],
            "time_zone": "UTC",
            "minimum_notice": 0,
            "questions": [{"id": "company", "label": "Your company", "required": True}],
        },
        token=token,
    )
    assert status == 201, event_type
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    status, booked, _ = api.request(
        "POST",
        f"/v1/booking/{owner['workspace']['slug']}/intro-call/bookings",
        {
            "start": f"{day.isoformat()}T10:00:00Z",
            "time_zone": "Europe/Paris",
            "name": NAME,
            "email": ADDRESS,
            "answers": {"company": "Marzipanic Ltd"},
        },
    )
    assert status == 201, booked
    DynamoAiStore().put_result(
        AiResult(
            workspace_id=owner["workspace"]["id"],
            ticket_id=carla_ticket["id"],
            kind=ResultKind.SUMMARY,
            key="",
            status=ResultStatus.READY,
            requested_by=f"user:{owner['user']['id']}",
            requested_at=datetime.now(UTC),
            payload={"summary": "Carla Zuberbühler asks about a xylophonic order."},
        )
    )
    drain(pump, "search_indexer", "booking_jobs_worker")

    # An export of her data (a bundle in the bucket), and a reply's copy in the DLQ.
    status, export, _ = api.request(
        "POST", "/v1/privacy/exports", {"contact_email": ADDRESS}, token=token
    )
    assert status == 202, export
    drain(pump, "privacy_jobs_worker")
    sqs = clean_aws.client("sqs")
    mail_out = clean_aws.queue_urls["mail_out"]
    waiting = sqs.receive_message(QueueUrl=mail_out, MaxNumberOfMessages=10)["Messages"]
    [reply_mail] = [m["Body"] for m in waiting if "glockenwhirl" in m["Body"]]
    for message in waiting:
        sqs.change_message_visibility(
            QueueUrl=mail_out, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    sqs.send_message(QueueUrl=clean_aws.dlq_urls["mail_out"], MessageBody=reply_mail)

    # Another workspace's Carla.
    other = api.sign_up(workspace="Globex Help", email="gil@globex.test")
    mail_in(
        api,
        pump,
        inbound_form(
            recipient=other["workspace"]["inbound_address"],
            sender=ADDRESS,
            from_header=f"Carla Other <{ADDRESS}>",
            subject="A fennelquartz question",
            body_plain="Where is my fennelquartz?",
        ),
    )
    yield {"owner": owner, "other": other, "pump": pump, "aws": clean_aws}


def _table_items(aws: Any) -> list[str]:
    """Every item of the table as lower-case JSON (test-only Scan)."""
    dynamodb = aws.client("dynamodb")
    found = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=aws.table_name):
        found += [json.dumps(item, ensure_ascii=False).lower() for item in page["Items"]]
    return found


def _bucket_objects(aws: Any) -> dict[str, str]:
    s3 = aws.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=aws.bucket):
        for entry in page.get("Contents", []):
            content = s3.get_object(Bucket=aws.bucket, Key=entry["Key"])["Body"].read()
            found[entry["Key"]] = content.decode("utf-8", "replace").lower()
    return found


def _queued_bodies(aws: Any) -> list[str]:
    sqs = aws.client("sqs")
    bodies = []
    for url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        seen: set[str] = set()
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
        ).get("Messages", []):
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                bodies.append(message["Body"].lower())
    return bodies


def _leftovers(texts: list[str], other_workspace: str) -> list[str]:
    """The texts that hold something of Carla's (her address counts only outside the other
    workspace, which has a Carla of its own)."""
    other = other_workspace.lower()
    return [
        text[:300]
        for text in texts
        if any(word in text for word in HER_WORDS)
        or (ADDRESS in text and other not in text and OTHER_WORD not in text)
    ]


def test_erasing_carla_leaves_nothing_of_her_in_the_table_the_bucket_or_the_queues(
    api: Api, world: dict[str, Any]
) -> None:
    owner, other, pump, aws = world["owner"], world["other"], world["pump"], world["aws"]
    token = owner["token"]
    # Before: she is everywhere the test looks.
    assert _leftovers(_table_items(aws), other["workspace"]["id"])
    assert _leftovers(list(_bucket_objects(aws).values()), other["workspace"]["id"])

    status, erasure, _ = api.request(
        "POST", "/v1/privacy/erasures", {"email": ADDRESS.upper()}, token=token
    )
    assert status == 202, erasure
    assert erasure["status"] == "pending" and erasure["subject_email"] == ADDRESS
    drain(pump, "privacy_jobs_worker")
    status, done, _ = api.request("GET", f"/v1/privacy/erasures/{erasure['id']}", token=token)
    assert status == 200, done
    assert done["status"] == "done" and done["subject_email"] is None, done
    counts = done["counts"]
    assert counts["tickets"] == 2, counts  # the mail and the chat
    assert counts["attachments"] >= 1 and counts["raw_mail"] >= 1, counts
    assert counts["ai_results"] >= 1 and counts["bookings"] == 1, counts
    assert counts["mentions"] >= 1 and counts["exports"] >= 1, counts
    assert counts["queue_messages"] >= 2 and counts["contact"] == 1, counts

    # After: nothing of her anywhere.
    assert _leftovers(_table_items(aws), other["workspace"]["id"]) == []
    assert _leftovers(list(_bucket_objects(aws).values()), other["workspace"]["id"]) == []
    assert [k for k in _bucket_objects(aws) if ADDRESS in k.lower()] == []
    queued = _queued_bodies(aws)
    assert _leftovers(queued, other["workspace"]["id"]) == []

    # The answer to Bob still goes, to him alone.
    to_bob = [json.loads(b) for b in queued if "thanks bob" in b]
    assert [(m["to"], m["cc"]) for m in to_bob] == [(["bob@partner.test"], [])], to_bob

    # Bob's ticket stays, with her address replaced; searching her address finds nothing.
    [bob_ticket] = _tickets(api, token)
    status, detail, _ = api.request("GET", f"/v1/tickets/{bob_ticket['id']}", token=token)
    assert status == 200
    assert "[erased]" in detail["messages"][0]["text"]
    assert "Bob's order" in detail["messages"][0]["text"]
    assert _tickets(api, token, query=ADDRESS) == []
    # The audit record says who and when, and holds no address.
    status, log, _ = api.request("GET", "/v1/privacy/erasures", token=token)
    assert [e["id"] for e in log["erasures"]] == [erasure["id"]]
    assert ADDRESS not in json.dumps(log).lower()
    assert log["erasures"][0]["requested_by"] == f"user:{owner['user']['id']}"

    # The other workspace's Carla is untouched.
    [theirs] = _tickets(api, other["token"])
    assert theirs["requester"]["email"] == ADDRESS
    assert theirs["subject"] == "A fennelquartz question"

    # Asked again: a new erasure that finds nothing more.
    status, again, _ = api.request("POST", "/v1/privacy/erasures", {"email": ADDRESS}, token=token)
    assert status == 202 and again["id"] != erasure["id"]
    drain(pump, "privacy_jobs_worker")
    status, second, _ = api.request("GET", f"/v1/privacy/erasures/{again['id']}", token=token)
    assert second["status"] == "done"
    assert sum(second["counts"].values()) == 0, second["counts"]


def test_erasure_requests_that_are_wrong_are_refused_and_record_nothing(
    api: Api, clean_aws: Any
) -> None:
    owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
    other = api.sign_up(workspace="Globex Help", email="gil@globex.test")
    agent = accept_invitation(api, invite(api, owner["token"], "dan@acme.test"))[1]
    status, theirs, _ = api.request(
        "POST", "/v1/privacy/erasures", {"email": ADDRESS}, token=other["token"]
    )
    assert status == 202
    token = owner["token"]
    cases: list[tuple[str, str, Any, str | None, int, str]] = [
        ("POST", "/v1/privacy/erasures", {}, token, 422, "validation_failed"),
        ("POST", "/v1/privacy/erasures", {"email": "not an address"}, token, 422, ""),
        ("POST", "/v1/privacy/erasures", {"email": ADDRESS, "x": 1}, token, 422, ""),
        ("POST", "/v1/privacy/erasures", {"email": "a" * 400 + "@x.test"}, token, 422, ""),
        ("POST", "/v1/privacy/erasures", {"email": ADDRESS}, agent["token"], 403, ""),
        ("POST", "/v1/privacy/erasures", {"email": ADDRESS}, None, 401, ""),
        ("GET", f"/v1/privacy/erasures/{theirs['id']}", None, token, 404, "erasure_not_found"),
        ("GET", "/v1/privacy/erasures/" + "x" * 300, None, token, 404, "erasure_not_found"),
        ("GET", "/v1/privacy/erasures/..%2F..", None, token, 404, ""),
        ("GET", "/v1/privacy/erasures", None, agent["token"], 403, ""),
    ]
    for method, path, body, who, expected, code in cases:
        status, answer, _ = api.request(method, path, body, token=who)
        assert status == expected, (method, path, body, answer)
        assert "error" in answer and answer["error"]["message"], answer
        if code:
            assert answer["error"]["code"] == code, answer
    status, raw, _ = api.request("POST", "/v1/privacy/erasures", "{not json", token=token)
    assert status == 400, raw
    status, log, _ = api.request("GET", "/v1/privacy/erasures", token=token)
    assert log == {"erasures": []}
