"""Workspace deletion on the emulator, through the real API and workers: Acme's owner fills a
workspace (an agent who is also in Globex, an admin who reads French, a pending invitation,
an API key, tickets by mail with an attachment, a note, an assignment and the members'
notifications, a chat, a published article and its search index, a saved reply, a booking
and its job, a retention policy, a workspace export) next to Globex's.

Hostile requests first (a case table: a JSON 4xx, nothing scheduled, no mail).  Then the
owner schedules the deletion (every member told in their language, every member sees it),
cancels it, and the job fired after the grace period changes nothing; schedules it again,
and a job fired before it is due changes nothing.  Fired after the grace period, then once
more after it settled, the job leaves nothing naming Acme's id or slug in a Scan of the
table or a listing of the bucket (nor Acme's raw mail, nor its members' addresses in its
partitions), people's accounts stay, and Globex is whole and still works."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.privacy.workspace_deletion import GRACE, LEASE, SETTLE_AFTER, run_due
from devstack.pump import EventPump
from fakes.mailgun import InboundAttachment, inbound_form
from tests.conftest import _empty_bucket, _empty_queue, _empty_table
from tests.integration.chat_helpers import enable_chat, start
from tests.integration.conftest import PASSWORD, Api, accept_invitation, drain_mail_queue, invite
from tests.integration.test_booking_api import _tomorrow_at, book, event_type_body, open_all_week
from tests.stages import TEST_STAGE

WORKERS = ["inbound_mail_worker", "search_indexer", "booking_jobs_worker", "privacy_jobs_worker"]
PATH = "/v1/workspace/deletion"
ACME_ONLY = ("ann@acme.test", "carl@acme.test", "dora@acme.test")


@dataclass
class World:
    api: Api
    pump: EventPump
    tokens: dict[str, str]
    acme: dict[str, Any]
    globex: dict[str, Any]
    bob_id: str
    raw_mail: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, who: str | None, body: Any = None, **headers: str):
        status, answer, _ = self.api.request(
            method, path, body, token=self.tokens.get(who or ""), headers=headers or None
        )
        return status, answer

    def work(self) -> None:
        self.pump.drain(WORKERS)

    def fire(self, at: float) -> dict[str, int]:
        result: dict[str, int] = self.pump.fire("workspace-deletion", at)
        return result


def _mail(api: Api, pump: EventPump, to: str, sender: str, subject: str, **extra: Any) -> None:
    body, content_type = inbound_form(recipient=to, sender=sender, subject=subject, **extra)
    answer = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert answer.status_code == 200, answer.body
    pump.drain(["inbound_mail_worker"])


def _ok(answer: tuple[int, Any], status: int = 200) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def _fill_acme(world: World) -> None:
    api, acme = world.api, world.acme
    inbound = acme["workspace"]["inbound_address"]
    _mail(
        api,
        world.pump,
        inbound,
        "carol@customer.test",
        "My invoice is wrong",
        attachments=[InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 Acme's")],
    )
    _mail(api, world.pump, inbound, "dan@customer.test", "Where is my order?")
    tickets = _ok(world.call("GET", "/v1/tickets", "ann"))["tickets"]
    assert len(tickets) == 2
    first = tickets[0]["id"]
    _ok(
        world.call(
            "POST", f"/v1/tickets/{first}/messages", "bob", {"kind": "note", "body": "On it"}
        ),
        201,
    )
    _ok(world.call("PATCH", f"/v1/tickets/{first}", "bob", {"assignee_id": acme["user"]["id"]}))
    key = enable_chat(api, {"token": world.tokens["ann"]})["public_key"]
    start(api, key, "Is there a yearly price?", email="erin@visitor.test", name="Erin")
    article = _ok(
        world.call(
            "POST", "/v1/kb/articles", "ann", {"title": "Reset your password", "body": "Open it."}
        ),
        201,
    )
    _ok(world.call("PATCH", f"/v1/kb/articles/{article['id']}", "ann", {"status": "published"}))
    _ok(
        world.call("POST", "/v1/canned-responses", "ann", {"name": "Thanks", "body": "Thanks!"}),
        201,
    )
    open_all_week(api, world.tokens["ann"])
    _ok(
        world.call("POST", "/v1/booking/event-types", "ann", event_type_body(acme["user"]["id"])),
        201,
    )
    status, booked, _ = book(api, acme, _tomorrow_at(10), email="fay@customer.test")
    assert status == 201, booked
    _ok(world.call("PUT", "/v1/privacy/retention", "ann", {"closed_tickets_after_months": 24}))
    _ok(world.call("POST", "/v1/privacy/exports", "ann", {"scope": "workspace"}), 202)
    _ok(world.call("POST", "/v1/api-keys", "ann", {"name": "Zapier", "role": "agent"}), 201)
    key = _ok(world.call("POST", "/v1/api-keys", "ann", {"name": "Ops", "role": "admin"}), 201)
    world.tokens["admin key"] = key["key"]
    _ok(world.call("POST", "/v1/members/invitations", "ann", {"email": "dora@acme.test"}), 201)
    world.work()


def _fill_acme_outside(world: World) -> None:
    """What needs a mailbox owner, DNS, a calendar provider or a WebSocket: written through
    the stores, as those flows write it."""
    from chalicelib.booking.calendars import ChannelRecord, SealedToken, StoredConnection
    from chalicelib.booking.model import (
        CalendarConnection,
        CalendarInfo,
        CalendarProviderName,
        ConnectionStatus,
    )
    from chalicelib.booking.ports import WatchChannel
    from chalicelib.kb.helpcentre_site import HelpCentreSettings
    from chalicelib.live.model import ConnectionKind, LiveConnection, ticket_topic
    from chalicelib.store.calendar_repo import DynamoCalendarStore
    from chalicelib.store.helpcentre_repo import DynamoHelpCentreStore
    from chalicelib.store.live_connections_repo import DynamoLiveConnections
    from chalicelib.store.mailbox_repo import DynamoMailboxStore
    from chalicelib.tickets.mailbox import ForwardingClaim, HeldMail

    ws, now = world.acme["workspace"]["id"], datetime.now(UTC)
    bob = world.bob_id
    mailbox = DynamoMailboxStore()
    claim = ForwardingClaim(ws, "support@acme.example", "n1", now, now, now + timedelta(days=7))
    mailbox.save_claim(claim)
    mailbox.confirm_claim(ws, mailbox.get_settings(ws), claim)
    raw_key = f"inbound/{now:%Y/%m/%d}/{ws[::-1]}"
    bootstrap.blob_store().put(raw_key, b"From: spam@x.test\r\n\r\nbuy", "message/rfc822")
    mailbox.hold(HeldMail(f"H{ws[1:]}", ws, "spam@x.test", "Buy", raw_key, "rate", now))
    world.raw_mail.append(raw_key)
    DynamoHelpCentreStore().mark_verified(
        ws, HelpCentreSettings(name="Acme", custom_domain="help.acme.example", domain_verified=True)
    )
    calendars = DynamoCalendarStore()
    connection = CalendarConnection(
        workspace_id=ws,
        id=f"C{ws[1:]}",
        user_id=bob,
        provider=CalendarProviderName.GOOGLE,
        account_email="bob@shared.test",
        status=ConnectionStatus.CONNECTED,
        busy_calendar_ids=["primary"],
        write_calendar_id="primary",
        calendars=[CalendarInfo("primary", "Bob", primary=True)],
        created_at=now,
        updated_at=now,
    )
    calendars.save_connection(
        StoredConnection(connection), SealedToken(b"sealed", b"nonce", b"key"), 0
    )
    calendars.save_channel(
        ChannelRecord(
            ws,
            connection.id,
            "google",
            "primary",
            WatchChannel(f"ch-{ws}", "res-1", now + timedelta(days=7), "primary"),
        ),
        None,
    )
    ticket_id = _ok(world.call("GET", "/v1/tickets", "ann"))["tickets"][0]["id"]
    live = DynamoLiveConnections()
    listener = LiveConnection(
        f"lc-{ws}", ws, ConnectionKind.AGENT, int(now.timestamp()) + 3600, user_id=bob
    )
    live.add(listener)
    for topic in ("inbox", ticket_topic(ticket_id)):
        listener = live.subscribe(listener, topic)


def _scan(aws: Any) -> list[dict[str, Any]]:
    dynamodb = aws.client("dynamodb")
    return [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=aws.table_name)
        for item in page["Items"]
    ]


def _objects(aws: Any) -> list[str]:
    s3 = aws.client("s3")
    return [
        entry["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=aws.bucket)
        for entry in page.get("Contents", [])
    ]


def _keys(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(item["PK"]["S"], item["SK"]["S"]) for item in items}


def _naming(items: list[dict[str, Any]], *words: str) -> list[dict[str, Any]]:
    return [item for item in items if any(w in json.dumps(item) for w in words)]


def _deletion_mails(world: World) -> dict[str, dict[str, Any]]:
    """The deletion mails sent since the last look: the privacy-jobs worker takes the
    requests' members-mail jobs, then the mail-out queue is read."""
    world.pump.drain(["privacy_jobs_worker"])
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    return {mail["to"][0]: mail for mail in mails if mail["purpose"] == "workspace_deletion"}


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
        acme = api.sign_up(workspace="Acme Support", email="ann@acme.test", name="Ann Owner")
        globex = api.sign_up(workspace="Globex Support", email="gus@globex.test")
        status, bob, _ = accept_invitation(
            api, invite(api, acme["token"], "bob@shared.test", "agent"), name="Bob Agent"
        )
        assert status == 200, bob
        status, carl, _ = accept_invitation(
            api, invite(api, acme["token"], "carl@acme.test", "admin"), name="Carl Admin"
        )
        assert status == 200, carl
        status, bob_globex, _ = accept_invitation(
            api, invite(api, globex["token"], "bob@shared.test", "agent"), password=PASSWORD
        )
        assert status == 200, bob_globex
        found = World(
            api=api,
            pump=EventPump.from_app(app, wait_seconds=0),
            tokens={
                "ann": acme["token"],
                "bob": bob["token"],
                "carl": carl["token"],
                "gus": globex["token"],
                "bob at globex": bob_globex["token"],
            },
            acme=acme,
            globex=globex,
            bob_id=bob["user"]["id"],
        )
        _ok(found.call("PATCH", "/v1/me/profile", "carl", {"locale": "fr"}))
        _fill_acme(found)
        _fill_acme_outside(found)
        _mail(
            api,
            found.pump,
            globex["workspace"]["inbound_address"],
            "hal@customer.test",
            "Globex question",
        )
        # The same customer writes to both workspaces.
        _mail(
            api,
            found.pump,
            globex["workspace"]["inbound_address"],
            "carol@customer.test",
            "My Globex invoice",
        )
        found.work()
        found.pump.fire("privacy-retention")  # its turn now names Acme
        drain_mail_queue()
        yield found


def test_the_acme_workspace_is_filled_through_the_api(world, aws):
    acme_id = world.acme["workspace"]["id"]
    items = _naming(_scan(aws), acme_id)
    kinds = {item.get("kind", {}).get("S") for item in items}
    for expected in (
        "ticket",
        "message",
        "search_posting",
        "notification",
        "chat_settings",
        "chat_key",
        "kb_article",
        "canned_response",
        "booking",
        "host_ledger",
        "credential",
        "invitation_token",
        "retention_policy",
        "privacy_export",
        "membership",
        "mail_address",
        "helpcentre_domain",
        "held_mail",
        "calendar_connection",
        "calendar_channel_lookup",
        "live_connection",
        "live_subscription",
        "contact_booking",
        "booking_reminder",
        "retention_cursor",
    ):
        assert expected in kinds, expected
    objects = _objects(aws)
    assert any(k.startswith(f"ws/{acme_id}/attachments/") for k in objects)
    assert any(k.startswith(f"ws/{acme_id}/kb/index/") for k in objects)
    assert any(k.startswith(f"exports/{acme_id}/") for k in objects)


CASES = [
    ("an agent", "POST", "bob", {"confirm_slug": "acme-support"}, {}, 403),
    ("an admin", "POST", "carl", {"confirm_slug": "acme-support"}, {}, 403),
    ("an admin's API key", "POST", "admin key", {"confirm_slug": "acme-support"}, {}, 403),
    ("an admin's API key cancels", "DELETE", "admin key", None, {}, 403),
    ("an agent of both, for Globex", "POST", "bob", {"confirm_slug": "globex-support"}, "g", 403),
    ("Globex's owner with Acme's slug", "POST", "gus", {"confirm_slug": "acme-support"}, {}, 422),
    ("no token", "POST", None, {"confirm_slug": "acme-support"}, {}, 401),
    ("the wrong slug", "POST", "ann", {"confirm_slug": "acme"}, {}, 422),
    ("another workspace's slug", "POST", "ann", {"confirm_slug": "globex-support"}, {}, 422),
    ("the slug in capitals", "POST", "ann", {"confirm_slug": "ACME-SUPPORT"}, {}, 422),
    ("an empty slug", "POST", "ann", {"confirm_slug": ""}, {}, 422),
    ("the slug padded", "POST", "ann", {"confirm_slug": " acme-support "}, {}, 422),
    ("the slug as null", "POST", "ann", {"confirm_slug": None}, {}, 422),
    ("a slug of 5000 letters", "POST", "ann", {"confirm_slug": "a" * 5000}, {}, 422),
    ("the workspace's id", "POST", "ann", {"confirm_slug": "ACME_ID"}, {}, 422),
    ("a slug that is a number", "POST", "ann", {"confirm_slug": 7}, {}, 422),
    ("no slug", "POST", "ann", {}, {}, 422),
    ("an unknown field", "POST", "ann", {"confirm_slug": "acme-support", "now": True}, {}, 422),
    ("not an object", "POST", "ann", '["acme-support"]', {}, 400),
    ("bad JSON", "POST", "ann", '{"confirm_slug": ', {}, 400),
    ("another workspace's id", "POST", "ann", {"confirm_slug": "globex-support"}, "globex", 404),
    ("cancel with none", "DELETE", "ann", None, {}, 409),
    ("an agent cancels", "DELETE", "bob", None, {}, 403),
    ("read in another workspace", "GET", "ann", None, "globex", 404),
    ("a workspace id that is no id", "POST", "ann", {"confirm_slug": "acme-support"}, "../x", 404),
    ("an empty body", "POST", "ann", "", {}, 400),
]


@pytest.mark.parametrize(
    ("method", "who", "body", "switch", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_deletion_requests_get_a_json_error_and_change_nothing(
    world, method, who, body, switch, expected
):
    switched = {"../x": "../x"}.get(switch) if isinstance(switch, str) else None
    if switch and not switched:
        switched = world.globex["workspace"]["id"]
    headers = {"X-Workspace-Id": switched} if switched else {}
    if isinstance(body, dict) and body.get("confirm_slug") == "ACME_ID":
        body = {"confirm_slug": world.acme["workspace"]["id"]}
    status, answer = world.call(method, PATH, who, body, **headers)
    assert status == expected, answer
    assert set(answer["error"]) >= {"code", "message"}
    typed = body.get("confirm_slug") if isinstance(body, dict) else None
    if expected == 422 and isinstance(typed, str) and 0 < len(typed) <= 200 and len(body) == 1:
        assert answer["error"]["code"] == "confirmation_mismatch"
    for reader in ("ann", "gus"):
        assert _ok(world.call("GET", PATH, reader))["status"] == "none"
    assert _deletion_mails(world) == {}


def test_cancelling_during_the_grace_period_keeps_everything(world, aws, aws_calls):
    acme_id = world.acme["workspace"]["id"]
    before = _keys(_naming(_scan(aws), acme_id))

    aws_calls.clear()
    scheduled = _ok(world.call("POST", PATH, "ann", {"confirm_slug": "acme-support"}), 202)
    schedule_calls = list(aws_calls)
    mailed_by_the_request = drain_mail_queue()
    told = _deletion_mails(world)
    seen = _ok(world.call("GET", PATH, "bob"))
    aws_calls.clear()
    cancelled = _ok(world.call("DELETE", PATH, "ann"))
    cancel_calls = list(aws_calls)
    told_again = _deletion_mails(world)
    after_grace = time.time() + GRACE.total_seconds() + 3600
    fired = world.fire(after_grace)

    assert scheduled["status"] == "scheduled" and scheduled["requested_by"].startswith("user:")
    delete_at = datetime.fromisoformat(scheduled["delete_at"])
    assert timedelta(days=7) - timedelta(minutes=1) < delete_at - datetime.now(UTC) <= GRACE
    assert seen == scheduled
    assert set(told) == {"ann@acme.test", "bob@shared.test", "carl@acme.test"}
    assert told["carl@acme.test"]["subject"].startswith("L'espace de travail Helptal")
    assert told["bob@shared.test"]["subject"].startswith("The Helptal workspace Acme Support")
    assert cancelled["status"] == "none" and set(told_again) == set(told)
    # Each request reads and writes a few items and queues one job, whatever the team's
    # size: the privacy-jobs worker mails the members.
    assert mailed_by_the_request == []
    for calls in (schedule_calls, cancel_calls):
        assert calls.count("SendMessage") == 1 and len(calls) <= 8, calls
    assert fired["workspaces"] == 0
    after = _keys(_naming(_scan(aws), acme_id))
    assert before < after  # all kept; only the mail records of the two notices are new
    assert {sk for _, sk in after - before} == {
        f"MAIL#workspace-deletion:{acme_id}:{mail['mail_id'].split(':')[2]}:{kind}:{who}"
        for kind in ("scheduled", "cancelled")
        for mail in told.values()
        for who in [mail["mail_id"].rsplit(":", 1)[1]]
    }


_MAIL_JOB = {
    "kind": "workspace_deletion_mail",
    "workspace_id": "01HWS",
    "deletion_id": "01HDELETION",
    "mail": "scheduled",
    "actor": "user:01HUSER",
    "delete_at": "2026-12-08T10:00:00+00:00",
}


@pytest.mark.parametrize(
    "changed",
    [
        {"workspace_id": None},
        {"workspace_id": "W" * 2000},
        {"deletion_id": ["x"]},
        {"mail": "postponed"},
        {"mail": None},
        {"actor": "api_key:01HKEY"},
        {"delete_at": "tomorrow"},
        {"delete_at": "2026-12-08T10:00:00"},  # no zone
        {"delete_at": 1765188000},
    ],
    ids=lambda changed: "-".join(f"{k}={str(v)[:12]}" for k, v in changed.items()),
)
def test_a_members_mail_job_that_is_no_job_is_dropped_and_mails_no_one(world, aws, changed):
    body = {**_MAIL_JOB, **changed}
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_urls["privacy_jobs"], MessageBody=json.dumps(body)
    )
    worker = next(q for q in world.pump.queues if q.name == "privacy_jobs_worker")

    outcome = world.pump.poll_queue(worker)

    assert (outcome.received, outcome.failed) == (1, 0)
    assert drain_mail_queue() == []


def test_a_members_mail_job_for_no_such_workspace_mails_no_one(world, aws):
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_urls["privacy_jobs"], MessageBody=json.dumps(_MAIL_JOB)
    )
    assert _deletion_mails(world) == {}


class _DiesAfterItsWork:
    """The tickets phase of a run that dies once its first step's work is done, before the
    progress is saved (a timeout, a crash): the next run does that step again."""

    name = "tickets"

    def __init__(self, phase: Any) -> None:
        self._phase = phase

    def step(self, target: Any, cursor: str | None) -> Any:
        self._phase.step(target, cursor)
        raise RuntimeError("the run dies before saving its progress")


def test_the_deletion_removes_everything_of_the_workspace_and_nothing_of_the_other(world, aws):
    acme_id, slug = world.acme["workspace"]["id"], world.acme["workspace"]["slug"]
    raw = world.raw_mail + [
        item["raw_s3_key"]["S"] for item in _naming(_scan(aws), acme_id) if "raw_s3_key" in item
    ]
    globex_before = _naming(_scan(aws), world.globex["workspace"]["id"])
    assert len(raw) >= 3 and all(key in _objects(aws) for key in raw)

    _ok(world.call("POST", PATH, "ann", {"confirm_slug": slug}), 202)
    assert set(_deletion_mails(world)) == {"ann@acme.test", "bob@shared.test", "carl@acme.test"}
    early = world.fire(time.time() + GRACE.total_seconds() - 3600)
    assert early["workspaces"] == 0
    assert _ok(world.call("GET", PATH, "bob"))["status"] == "scheduled"

    due = datetime.now(UTC) + GRACE + timedelta(minutes=1)
    bounded = run_due(bootstrap.workspace_deletion_deps(), due, max_steps=3)
    assert (bounded["workspaces"], bounded["steps"], bounded["deleted"]) == (1, 3, 0)
    assert _ok(world.call("GET", PATH, "bob"))["status"] == "deleting"  # members not yet gone
    deps = bootstrap.workspace_deletion_deps()
    dying = replace(
        deps, phases=[_DiesAfterItsWork(p) if p.name == "tickets" else p for p in deps.phases]
    )
    crashed = run_due(dying, due + timedelta(minutes=1))
    assert crashed["failed"] == 1
    swept = world.fire((due + LEASE + timedelta(minutes=5)).timestamp())
    assert (swept["workspaces"], swept["failed"], swept["deleted"]) == (1, 0, 0), swept
    settled = world.fire((due + LEASE + SETTLE_AFTER + timedelta(minutes=5)).timestamp())
    assert settled["deleted"] == 1, settled

    items = _scan(aws)
    left = _naming(items, acme_id, f"#{slug}", *ACME_ONLY)
    # Only the people's accounts stay (their user and e-mail claim): never in its partitions.
    assert {item["PK"]["S"].split("#", 1)[0] for item in left} == {"USER", "EMAIL"}
    assert _naming(left, acme_id, slug) == []
    assert [k for k in _objects(aws) if acme_id in k or k in raw] == []
    globex_id = world.globex["workspace"]["id"]
    globex_after = _naming(items, globex_id)
    assert _keys(globex_after) >= _keys(globex_before)
    # Only Bob's session opened in Acme is new there: it goes on in his other workspace.
    moved = [item for item in globex_after if _keys([item]) - _keys(globex_before)]
    assert [(m["kind"]["S"], m["user_id"]["S"]) for m in moved] == [("credential", world.bob_id)]


def test_peoples_accounts_stay_and_the_other_workspace_still_works(world):
    assert world.call("GET", "/v1/tickets", "ann")[0] in (401, 404)
    status, login, _ = world.api.request(
        "POST", "/v1/auth/login", {"email": "bob@shared.test", "password": PASSWORD}
    )
    assert status == 200, login
    assert [w["slug"] for w in login["workspaces"]] == ["globex-support"]
    tickets = _ok(world.call("GET", "/v1/tickets", "gus"))["tickets"]
    assert sorted(t["subject"] for t in tickets) == ["Globex question", "My Globex invoice"]
    assert _ok(world.call("GET", "/v1/tickets", "bob at globex"))["tickets"] == tickets
    assert _ok(world.call("GET", PATH, "gus"))["status"] == "none"
    status, ann, _ = world.api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD}
    )
    # Her account stays (her password is still checked), but it opens no workspace.
    assert (status, ann["error"]["code"]) == (401, "no_workspace")


def test_a_member_of_both_workspaces_keeps_the_session_opened_in_the_deleted_one(world):
    globex_id = world.globex["workspace"]["id"]
    theirs = _ok(world.call("GET", "/v1/tickets", "gus"))["tickets"]

    # Bob's session began in Acme; he works in Globex with it (switching, or by default now).
    switched = world.call("GET", "/v1/tickets", "bob", **{"X-Workspace-Id": globex_id})
    default = world.call("GET", "/v1/tickets", "bob")

    assert _ok(switched)["tickets"] == theirs
    assert _ok(default)["tickets"] == theirs
    # Ann belonged to Acme only: her session went with it.
    status, answer = world.call("GET", "/v1/tickets", "ann")
    assert (status, answer["error"]["code"]) == (401, "invalid_token")


def test_a_new_workspace_takes_the_deleted_ones_slug_and_its_mail_and_chat(world):
    acme = world.acme["workspace"]
    status, again, _ = world.api.request(
        "POST",
        "/v1/signup",
        {
            "workspace_name": "Acme Support",
            "name": "Nina New",
            "email": "nina@new.test",
            "password": PASSWORD,
        },
    )
    assert status == 201, again
    assert (again["workspace"]["slug"], again["workspace"]["inbound_address"]) == (
        acme["slug"],
        acme["inbound_address"],
    )
    world.tokens["nina"] = again["token"]

    _mail(world.api, world.pump, acme["inbound_address"], "carol@customer.test", "Hello again")
    key = enable_chat(world.api, {"token": again["token"]})["public_key"]
    start(world.api, key, "A new chat", email="erin@visitor.test", name="Erin")

    subjects = sorted(
        t["subject"] for t in _ok(world.call("GET", "/v1/tickets", "nina"))["tickets"]
    )
    assert len(subjects) == 2 and "Hello again" in subjects
    # Nothing of the old Acme came back with its name: only who wrote to the new one.
    contacts = _ok(world.call("GET", "/v1/contacts", "nina"))["contacts"]
    assert {c["email"] for c in contacts} == {"carol@customer.test", "erin@visitor.test"}
    assert _ok(world.call("GET", PATH, "nina"))["status"] == "none"


def _read_only(workspace_id: str) -> None:
    from chalicelib.billing.model import BillingStatus

    store = bootstrap.billing_store()
    account = store.get(workspace_id)
    assert account is not None
    store.save(replace(account, status=BillingStatus.READ_ONLY, trial_ends_at=None))


def test_a_read_only_workspace_is_deleted_or_kept_and_a_cancel_racing_the_job_is_told(world):
    globex_id, slug = world.globex["workspace"]["id"], world.globex["workspace"]["slug"]
    _read_only(globex_id)
    assert world.call("POST", "/v1/tickets", "gus", {"subject": "x"})[0] == 402  # read-only
    policy = _ok(
        world.call("PUT", "/v1/privacy/retention", "gus", {"closed_tickets_after_months": 6})
    )
    assert policy["closed_tickets_after_months"] == 6
    deletions = bootstrap.workspace_deletion_deps().deletions

    # The owner's cancel lands first: the job that read the deletion before takes nothing.
    _ok(world.call("POST", PATH, "gus", {"confirm_slug": slug}), 202)
    read = deletions.get(globex_id)
    assert read is not None
    assert _ok(world.call("DELETE", PATH, "gus"))["status"] == "none"
    assert deletions.claim(read, "a late run", read.delete_at) is None
    assert deletions.get(globex_id) is None

    # The job takes it first: the cancel that read it before is refused, nothing says cancelled.
    _ok(world.call("POST", PATH, "gus", {"confirm_slug": slug}), 202)
    read = deletions.get(globex_id)
    assert read is not None
    _deletion_mails(world)
    assert deletions.claim(read, "the run", read.delete_at) is not None
    assert deletions.cancel(read, datetime.now(UTC)) is False
    status, answer = world.call("DELETE", PATH, "gus")

    assert (status, answer["error"]["code"]) == (409, "deletion_in_progress")
    assert _ok(world.call("GET", PATH, "bob at globex"))["status"] == "deleting"
    assert _deletion_mails(world) == {}
