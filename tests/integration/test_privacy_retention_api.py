"""Retention of closed tickets on the emulator: an owner keeps closed tickets 12 months; the
hourly schedule, fired with its event's time, removes the solved and closed tickets whose
last activity is older (the whole ticket, its raw mail in S3 too) and keeps every other
ticket, another workspace's old closed ticket included; the policy then says when it ran and
how many it removed.  Agents cannot read or set it; hostile bodies are a case table (a JSON
4xx and the policy unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.ids import new_id
from chalicelib.privacy.retention import cutoff
from chalicelib.store.tickets_repo import DynamoTicketStore
from chalicelib.tickets.model import (
    Channel,
    Contact,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketStatus,
)
from devstack.pump import EventPump
from tests.conftest import _empty_bucket, _empty_queue, _empty_table
from tests.integration.conftest import Api, accept_invitation, invite
from tests.stages import TEST_STAGE

NOW = datetime.now(UTC).replace(microsecond=0)
LINE = cutoff(12, NOW)
SECOND = timedelta(seconds=1)
KEPT = (
    "recent closed",
    "old open",
    "old pending",
    "theirs",
    "closed a second too late",
    "reopened, its view behind",
)


def _ticket(workspace_id: str, number: int, status: TicketStatus, last: datetime) -> str:
    """A ticket by mail with its raw copy in S3, last active at `last`; its id."""
    store = DynamoTicketStore()
    contact = Contact(new_id(), workspace_id, f"c{number}@customer.test", f"C {number}", last)
    ticket = Ticket(
        id=new_id(),
        workspace_id=workspace_id,
        number=number,
        subject=f"Question {number}",
        requester_id=contact.id,
        requester_email=contact.email,
        requester_name=contact.name,
        cc=[],
        status=status,
        priority=Priority.NORMAL,
        assignee_id=None,
        tags=[],
        channel=Channel.EMAIL,
        created_at=last,
        updated_at=last,
        last_activity_at=last,
    )
    raw_key = f"inbound/{last:%Y/%m/%d}/{new_id()}"
    bootstrap.blob_store().put(raw_key, b"From: c@customer.test\r\n\r\nhello", "message/rfc822")
    message = Message(
        id=new_id(),
        ticket_id=ticket.id,
        workspace_id=workspace_id,
        kind=MessageKind.CUSTOMER,
        author=f"contact:{contact.id}",
        from_address=contact.email,
        to=[],
        cc=[],
        subject=ticket.subject,
        text="hello",
        html=None,
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=[],
        delivery=DeliveryStatus.RECEIVED,
        created_at=last,
        raw_s3_key=raw_key,
    )
    store.create_ticket(ticket, message, [], contact)
    return ticket.id


def _reopened_behind_its_view(workspace_id: str, ticket_id: str, answered: bool = False) -> None:
    """The ticket is open again and active now, while its status view still lists it solved
    and old (the view is an index: a moment behind the ticket); `answered`: as a reply does
    it, with the ticket's revision moved on."""
    import boto3

    from chalicelib.settings import get_settings
    from chalicelib.store import keys

    settings = get_settings()
    boto3.client("dynamodb", region_name=settings.region).update_item(
        TableName=settings.table_name,
        Key={"PK": {"S": keys.ticket_pk(workspace_id, ticket_id)}, "SK": {"S": keys.TICKET_SK}},
        UpdateExpression="SET #s = :open, last_activity_at = :now"
        + (" ADD revision :one" if answered else ""),
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":open": {"S": TicketStatus.OPEN.value},
            ":now": {"S": NOW.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
            **({":one": {"N": "1"}} if answered else {}),
        },
    )


@dataclass
class World:
    api: Api
    owner: str
    agent: str
    other_owner: str
    workspace_id: str
    other_id: str
    tickets: dict[str, str]
    first_run: dict[str, int]

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        status, answer, _ = self.api.request(method, path, body, token=token)
        return status, answer


def _fire(app: Any, at: datetime) -> dict[str, int]:
    pump = EventPump.from_app(app, wait_seconds=0)
    result: dict[str, int] = pump.fire("privacy-retention", at.timestamp())
    return result


@pytest.fixture(scope="module")
def world(aws: Any) -> Iterator[World]:
    from app import app

    _empty_table(aws.client("dynamodb"), aws.table_name)
    _empty_bucket(aws.client("s3"), aws.bucket)
    sqs = aws.client("sqs")
    for queue_url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        _empty_queue(sqs, queue_url)
    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
        status, agent, _ = accept_invitation(
            api, invite(api, owner["token"], "bob@acme.test", "agent")
        )
        assert status == 200, agent
        other = api.sign_up(workspace="Globex Support", email="gus@globex.test")
        ws, theirs = owner["workspace"]["id"], other["workspace"]["id"]
        tickets = {
            "old solved": _ticket(ws, 1, TicketStatus.SOLVED, LINE - timedelta(days=1)),
            "old closed": _ticket(ws, 2, TicketStatus.CLOSED, LINE - timedelta(days=300)),
            "recent closed": _ticket(ws, 3, TicketStatus.CLOSED, LINE + timedelta(days=1)),
            "old open": _ticket(ws, 4, TicketStatus.OPEN, LINE - timedelta(days=300)),
            "old pending": _ticket(ws, 5, TicketStatus.PENDING, LINE - timedelta(days=300)),
            "theirs": _ticket(theirs, 1, TicketStatus.CLOSED, LINE - timedelta(days=300)),
            "closed a second too early": _ticket(ws, 6, TicketStatus.CLOSED, LINE - SECOND),
            "closed a second too late": _ticket(ws, 7, TicketStatus.CLOSED, LINE + SECOND),
            "reopened, its view behind": _ticket(ws, 8, TicketStatus.SOLVED, LINE - SECOND),
        }
        _reopened_behind_its_view(ws, tickets["reopened, its view behind"])
        found = World(
            api=api,
            owner=owner["token"],
            agent=agent["token"],
            other_owner=other["token"],
            workspace_id=ws,
            other_id=theirs,
            tickets=tickets,
            first_run={},
        )
        status, answer = found.call(
            "PUT", "/v1/privacy/retention", found.owner, {"closed_tickets_after_months": 12}
        )
        assert status == 200, answer
        found.first_run = _fire(app, NOW)
        yield found


def _exists(world: World, name: str) -> bool:
    workspace = world.other_id if name == "theirs" else world.workspace_id
    return DynamoTicketStore().get_ticket(workspace, world.tickets[name]) is not None


def test_the_schedule_removes_closed_tickets_older_than_the_rule_and_keeps_the_others(world):
    assert world.first_run == {"workspaces": 1, "tickets": 3, "unfinished": 0, "failed": 0}
    for gone in ("old solved", "old closed", "closed a second too early"):
        assert not _exists(world, gone), gone
    for kept in KEPT:
        assert _exists(world, kept), kept
    status, answer = world.call("GET", f"/v1/tickets/{world.tickets['old closed']}", world.owner)
    assert status == 404, answer


def test_a_removed_ticket_leaves_nothing_in_the_table_or_the_bucket(world, aws):
    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
    gone = {world.tickets[name] for name in world.tickets if name not in KEPT}
    items = [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=aws.table_name)
        for item in page["Items"]
    ]
    assert not [item for item in items if any(t in str(item) for t in gone)]
    raw = [o["Key"] for o in s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])]
    assert len([k for k in raw if k.startswith("inbound/")]) == len(KEPT)  # the kept tickets'


def test_the_policy_says_when_it_was_applied_and_how_many_tickets_went(world):
    status, policy = world.call("GET", "/v1/privacy/retention", world.owner)
    assert status == 200, policy
    assert policy["closed_tickets_after_months"] == 12
    assert policy["updated_by"].startswith("user:")
    assert datetime.fromisoformat(policy["last_applied_at"]) == NOW
    assert (policy["last_deleted"], policy["deleted_total"]) == (3, 3)
    status, theirs = world.call("GET", "/v1/privacy/retention", world.other_owner)
    assert (status, theirs["closed_tickets_after_months"], theirs["last_applied_at"]) == (
        200,
        None,
        None,
    )


def test_a_later_run_removes_nothing_more_and_says_so(world):
    from app import app

    # A second later the line has moved onto the ticket closed a second after it: kept.
    later = NOW + SECOND
    assert _fire(app, later)["tickets"] == 0
    assert _exists(world, "closed a second too late")
    _, policy = world.call("GET", "/v1/privacy/retention", world.owner)
    assert datetime.fromisoformat(policy["last_applied_at"]) == later
    assert (policy["last_deleted"], policy["deleted_total"]) == (0, 3)


def test_keeping_forever_takes_the_workspace_off_the_schedule(world):
    from app import app

    other, path = world.other_owner, "/v1/privacy/retention"
    assert world.call("PUT", path, other, {"closed_tickets_after_months": 1})[0] == 200
    status, kept = world.call("PUT", path, other, {"closed_tickets_after_months": None})

    assert (status, kept["closed_tickets_after_months"]) == (200, None)
    assert _fire(app, NOW + timedelta(hours=2))["workspaces"] == 1  # Acme only
    assert _exists(world, "theirs")


CASES = [
    ("agent reads", "GET", "agent", None, 403),
    ("agent sets", "PUT", "agent", {"closed_tickets_after_months": 1}, 403),
    ("no token", "PUT", None, {"closed_tickets_after_months": 1}, 401),
    ("zero months", "PUT", "owner", {"closed_tickets_after_months": 0}, 422),
    ("too many months", "PUT", "owner", {"closed_tickets_after_months": 121}, 422),
    ("negative", "PUT", "owner", {"closed_tickets_after_months": -3}, 422),
    ("months as text", "PUT", "owner", {"closed_tickets_after_months": "12"}, 422),
    ("fraction", "PUT", "owner", {"closed_tickets_after_months": 12.5}, 422),
    ("twelve written 12.0", "PUT", "owner", {"closed_tickets_after_months": 12.0}, 422),
    ("a list of months", "PUT", "owner", {"closed_tickets_after_months": [1]}, 422),
    ("the body null", "PUT", "owner", "null", 400),
    ("boolean", "PUT", "owner", {"closed_tickets_after_months": True}, 422),
    ("huge", "PUT", "owner", {"closed_tickets_after_months": 10**30}, 422),
    ("missing field", "PUT", "owner", {}, 422),
    ("unknown field", "PUT", "owner", {"closed_tickets_after_months": 3, "x": 1}, 422),
    ("not an object", "PUT", "owner", "[12]", 400),
    ("bad JSON", "PUT", "owner", '{"closed_tickets_after_months": ', 400),
    ("empty body", "PUT", "owner", "", 400),
]


@pytest.mark.parametrize(
    ("method", "who", "body", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_retention_requests_get_a_json_error_and_change_nothing(
    world, method, who, body, expected
):
    token = {"owner": world.owner, "agent": world.agent, None: None}[who]
    status, answer = world.call(method, "/v1/privacy/retention", token, body)
    assert status == expected, answer
    assert set(answer["error"]) >= {"code", "message"}
    _, policy = world.call("GET", "/v1/privacy/retention", world.owner)
    assert policy["closed_tickets_after_months"] == 12


class _ReplyArrivesDuringRemoval:
    """The content bucket as the removal sees it; while the removal deletes the ticket's raw
    mail, the customer answers: the ticket is open again, with a new message."""

    def __init__(self, workspace_id: str, ticket_id: str) -> None:
        from chalicelib.store.blobs import S3BlobStore

        self._blobs: S3BlobStore = bootstrap.blob_store()
        self._reopen = lambda: _reopened_behind_its_view(workspace_id, ticket_id, answered=True)
        self._answered = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._blobs, name)

    def delete(self, key: str) -> None:
        if not self._answered:
            self._answered = True
            self._reopen()
        self._blobs.delete(key)


def test_a_ticket_reopened_while_retention_removes_it_is_kept(world):
    from dataclasses import replace

    from chalicelib.privacy.retention import apply_retention
    from chalicelib.store.ticket_removal import DynamoTicketRemoval

    ticket_id = _ticket(world.workspace_id, 9, TicketStatus.CLOSED, LINE - timedelta(days=2))
    blobs = _ReplyArrivesDuringRemoval(world.workspace_id, ticket_id)
    deps = replace(bootstrap.retention_deps(), remover=DynamoTicketRemoval(blobs))  # type: ignore[arg-type]

    apply_retention(deps, NOW + 2 * SECOND)

    assert DynamoTicketStore().get_ticket(world.workspace_id, ticket_id) is not None
