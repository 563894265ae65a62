"""Erasures on the emulator against what may go wrong around them: two workspaces that both
know `al@x.test`; other people whose addresses hold hers (`hal@x.test`, `al@x.test.evil`,
`o'al@x.test`, `x+al@x.test`); her mail filed while her erasure runs, or between the
request and its job; one job delivered twice at once; job messages that are no job; API
keys and members of each role; hostile request bodies; an address whose domain is written
in Unicode or in its ASCII (IDNA) form.  Set up once for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.privacy.erasure import (
    RUN_LEASE,
    Erasure,
    ErasureDeps,
    ErasureStatus,
    ErasureTaken,
    Step,
    Subject,
    run_erasure,
)
from chalicelib.store import keys
from chalicelib.store.privacy_erasure_repo import DynamoErasures, ErasureLockItem, lock_sk
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import Api, accept_invitation, drain_mail_queue, invite
from tests.integration.removal_helpers import call, drain, empty, holding, mail_in
from tests.stages import TEST_STAGE

AL = "al@x.test"
HAL = "hal@x.test"
# Other people's addresses with hers inside (mentioned in Hal's mail), and their words.
LOOKALIKES = ("al@x.test.evil", "o'al@x.test", "x+al@x.test", "al@x.testing")
HER_WORDS = ("quokkaberry", "latecomer", "betweenword")  # only her mails in Acme hold them
OTHER_WORD = "fennelquartz"  # her mail to the other workspace holds it
IDN_UNICODE = "carla@bücher.test"
IDN_ASCII = "carla@xn--bcher-kva.test"


@dataclass
class World:
    api: Api
    aws: Any
    pump: EventPump
    owner: dict[str, Any]
    agent: str
    other: dict[str, Any]

    @property
    def token(self) -> str:
        return str(self.owner["token"])

    @property
    def workspace_id(self) -> str:
        return str(self.owner["workspace"]["id"])

    def mail(
        self,
        sender: str,
        subject: str,
        text: str,
        *,
        to: dict[str, Any] | None = None,
        cc: str | None = None,
    ) -> None:
        inbound = (to or self.owner)["workspace"]["inbound_address"]
        mail_in(
            self.api,
            self.pump,
            inbound_form(
                recipient=inbound,
                sender=sender,
                from_header=sender,
                subject=subject,
                body_plain=text,
                extra_headers=[("Cc", cc)] if cc else [],
            ),
        )

    def erase(self, email: str, token: str | None = None) -> dict[str, Any]:
        status, asked, _ = self.api.request(
            "POST", "/v1/privacy/erasures", {"email": email}, token=token or self.token
        )
        assert status == 202, asked
        return dict(asked)

    def read(self, erasure_id: str) -> dict[str, Any]:
        return dict(call(self.api, "GET", f"/v1/privacy/erasures/{erasure_id}", self.token))

    def tickets(self, token: str | None = None, query: str = "") -> list[dict[str, Any]]:
        path = "/v1/tickets" + (f"?q={query}" if query else "")
        return list(call(self.api, "GET", path, token or self.token)["tickets"])

    def run_jobs(self) -> None:
        drain(self.pump, "privacy_jobs_worker")


@pytest.fixture(scope="module")
def world(aws: Any) -> Iterator[World]:
    empty(aws)
    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
        owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
        agent = accept_invitation(api, invite(api, owner["token"], "dan@acme.test"))[1]["token"]
        other = api.sign_up(workspace="Globex Help", email="gil@globex.test")
        drain_mail_queue()
        world = World(api, aws, pump, owner, agent, other)
        world.mail(AL, "A quokkaberry question", "My quokkaberry is late.")
        world.mail(
            HAL,
            "Contacts",
            "Write to al@x.test.evil, o'al@x.test, x+al@x.test or al@x.testing; "
            f"and to {AL.upper()}.",
            cc=AL,
        )
        world.mail(AL, f"A {OTHER_WORD} question", f"Where is my {OTHER_WORD}?", to=other)
        yield world


def _text_of(world: World, ticket_id: str, token: str | None = None) -> str:
    detail = call(world.api, "GET", f"/v1/tickets/{ticket_id}", token or world.token)
    return json.dumps(detail, ensure_ascii=False)


def _queue(world: World, name: str, body: dict[str, Any]) -> None:
    sqs = world.aws.client("sqs")
    sqs.send_message(QueueUrl=world.aws.queue_urls[name], MessageBody=json.dumps(body))


def _queued(world: World, name: str) -> list[str]:
    sqs = world.aws.client("sqs")
    url = world.aws.queue_urls[name]
    found: dict[str, dict[str, Any]] = {}
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        fresh = [m for m in batch if m["MessageId"] not in found]
        if not fresh:
            break
        found.update({m["MessageId"]: m for m in fresh})
    for message in found.values():
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [m["Body"] for m in found.values()]


def _drop_jobs(world: World) -> None:
    """Deletes the jobs waiting on the privacy-jobs queue (erasures a test need not run)."""
    sqs = world.aws.client("sqs")
    url = world.aws.queue_urls["privacy_jobs"]
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _steps_until(world: World, erasure_id: str, phase: str) -> Erasure:
    """Runs the erasure a step at a time until it reaches `phase`."""
    for _ in range(200):
        found = run_erasure(bootstrap.erasure_deps(), world.workspace_id, erasure_id, max_steps=1)
        assert found is not None
        if found.phase == phase:
            return found
    raise AssertionError(f"the erasure never reached {phase}")


def test_1_her_erasure_touches_neither_lookalike_addresses_nor_the_other_workspace(
    world: World,
) -> None:
    other_ws = world.other["workspace"]["id"]
    hal_ticket = next(t for t in world.tickets() if t["subject"] == "Contacts")
    # Waiting mail: hers and Hal's in Acme, hers in the other workspace.
    mine = {"workspace_id": world.workspace_id, "purpose": "ticket_reply", "to": [AL]}
    hals = {**mine, "to": [HAL], "cc": list(LOOKALIKES)}
    theirs = {**mine, "workspace_id": other_ws}
    for body in (mine, hals, theirs):
        _queue(world, "mail_out", body)

    asked = world.erase("Al@X.Test")
    assert asked["subject_email"] == AL
    world.run_jobs()
    done = world.read(asked["id"])
    assert done["status"] == "done", done
    assert (done["counts"].get("tickets"), done["counts"].get("contact")) == (1, 1), done

    # Hal's ticket: her address erased, every lookalike kept exactly.
    text = _text_of(world, hal_ticket["id"])
    assert "[erased]" in text and AL.upper() not in text
    for lookalike in LOOKALIKES:
        assert lookalike in text, lookalike
    assert world.tickets(query=HAL) and world.tickets(query="al@x.test.evil")
    assert holding(world.aws, *HER_WORDS[:1]) == []

    # The other workspace's Al: ticket, contact, search entries, raw mail, waiting mail.
    [kept] = world.tickets(world.other["token"])
    assert kept["requester"]["email"] == AL
    assert [t["id"] for t in world.tickets(world.other["token"], query=AL)] == [kept["id"]]
    kept_data = holding(world.aws, OTHER_WORD)
    assert any(k.startswith("s3://") for k in kept_data), kept_data  # its raw mail
    assert any(not k.startswith("s3://") for k in kept_data), kept_data
    waiting = [json.loads(b) for b in _queued(world, "mail_out")]
    assert theirs in waiting and hals in waiting and mine not in waiting


def test_2_her_mail_filed_while_her_erasure_runs_goes_too(world: World) -> None:
    world.mail(AL, "Again", "A latecomer question.")
    asked = world.erase(AL)
    _steps_until(world, asked["id"], "mentions")  # her tickets are gone ...
    world.mail(AL, "Once more", "The latecomer again.")  # ... and she writes again
    world.run_jobs()
    done = world.read(asked["id"])
    assert done["status"] == "done", done
    assert done["counts"]["tickets"] == 2, done
    assert holding(world.aws, "latecomer") == []
    assert [t for t in world.tickets() if t["requester"]["email"] == AL] == []


def test_3_her_mail_filed_between_the_request_and_its_job_goes_too(world: World) -> None:
    asked = world.erase(AL)  # she has no contact left in Acme
    world.mail(AL, "Between", "A betweenword question.")  # filed before the job runs
    world.run_jobs()
    done = world.read(asked["id"])
    assert done["status"] == "done", done
    assert (done["counts"].get("tickets"), done["counts"].get("contact")) == (1, 1), done
    assert holding(world.aws, "betweenword") == []


def test_4_a_job_delivered_twice_at_once_runs_once_and_counts_exactly(world: World) -> None:
    world.mail(AL, "Twice", "A quokkaberry twice.")
    asked = world.erase(AL)
    deps = bootstrap.erasure_deps()
    seconds: list[Erasure | None] = []

    class DuringMentions:
        """The mentions phase; on its first step the job's second delivery runs."""

        name = "mentions"

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def step(self, subject: Subject, cursor: str | None) -> Step:
            if not seconds:
                seconds.append(run_erasure(deps, world.workspace_id, asked["id"]))
            step: Step = self.inner.step(subject, cursor)
            return step

    twice = replace(
        deps,
        phases=[DuringMentions(p) if p.name == "mentions" else p for p in deps.phases],
    )
    done = run_erasure(twice, world.workspace_id, asked["id"])
    assert [s.status if s else None for s in seconds] == [ErasureStatus.RUNNING]
    assert done is not None and done.status is ErasureStatus.DONE
    assert (done.counts["tickets"], done.counts["contact"]) == (1, 1), done.counts
    assert world.read(asked["id"])["subject_email"] is None


def test_5_the_records_hold_one_run_at_a_time_and_a_lock_is_dropped_by_its_own_erasure(
    world: World,
) -> None:
    records = DynamoErasures()
    deps: ErasureDeps = bootstrap.erasure_deps()
    asked = world.erase("someone@else.test")
    pending = records.get(world.workspace_id, asked["id"])
    assert pending is not None
    now = deps.clock.now()
    seen = pending.updated_at
    first = replace(pending, runner="run-1", runner_until=now + RUN_LEASE, updated_at=now)
    assert records.claim(first, seen, now)
    assert not records.claim(replace(first, runner="run-2"), now, now)  # held
    with pytest.raises(ErasureTaken):
        records.save(replace(first, attempts=9), "run-2")
    records.save(replace(first, attempts=2), "run-1")
    later = now + RUN_LEASE + timedelta(seconds=1)  # run-1 died: its lease ran out
    third = replace(first, runner="run-3", runner_until=later + RUN_LEASE, updated_at=later)
    assert not records.claim(third, seen, later)  # read before run-1's step: stale
    assert records.claim(third, now, later)
    with pytest.raises(ErasureTaken):
        records.save(first, "run-1")
    # The erasure is finished by run-3 while a later erasure of the address holds the lock.
    held = records.get(world.workspace_id, asked["id"])
    assert held is not None and held.runner == "run-3"
    lock_key = (keys.workspace_pk(world.workspace_id), lock_sk("someone@else.test"))
    ErasureLockItem(*lock_key, erasure_id="01NEWERERASURE000000000000").save()
    finished = replace(held, status=ErasureStatus.DONE, subject_email=None, runner=None)
    records.finish(finished, "run-3")
    assert ErasureLockItem.get(*lock_key).erasure_id == "01NEWERERASURE000000000000"
    stored = records.get(world.workspace_id, asked["id"])
    assert stored is not None and stored.status is ErasureStatus.DONE
    _drop_jobs(world)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        json.dumps({"kind": "erasure"}),
        json.dumps({"kind": "erasure", "workspace_id": "W" * 2000, "erasure_id": "E"}),
        json.dumps({"kind": "erasure", "workspace_id": {"S": "x"}, "erasure_id": ["y"]}),
        json.dumps({"kind": "erasure", "workspace_id": "01HNOWORKSPACE", "erasure_id": "01HX"}),
    ],
)
def test_6_a_job_message_that_is_no_job_is_dropped_without_failing_the_worker(
    world: World, body: str
) -> None:
    world.aws.client("sqs").send_message(
        QueueUrl=world.aws.queue_urls["privacy_jobs"], MessageBody=body
    )
    worker = next(q for q in world.pump.queues if q.name == "privacy_jobs_worker")
    outcome = world.pump.poll_queue(worker)
    assert (outcome.received, outcome.failed) == (1, 0)
    assert _queued(world, "privacy_jobs") == []


def test_7_another_workspaces_job_for_this_erasure_changes_nothing(world: World) -> None:
    asked = world.erase("nobody@else.test")
    _drop_jobs(world)
    other_ws = world.other["workspace"]["id"]
    forged = {"kind": "erasure", "workspace_id": other_ws, "erasure_id": asked["id"]}
    _queue(world, "privacy_jobs", forged)
    worker = next(q for q in world.pump.queues if q.name == "privacy_jobs_worker")
    outcome = world.pump.poll_queue(worker)
    assert (outcome.received, outcome.failed) == (1, 0)
    assert world.read(asked["id"]) == asked  # untouched: still pending
    status, answer, _ = world.api.request(
        "GET", f"/v1/privacy/erasures/{asked['id']}", token=world.other["token"]
    )
    assert (status, answer["error"]["code"]) == (404, "erasure_not_found")


def test_8_who_may_erase_and_read_erasures(world: World) -> None:
    api_keys = {}
    for role in ("admin", "agent"):
        created = call(
            world.api, "POST", "/v1/api-keys", world.token, {"name": f"{role} key", "role": role}
        )
        api_keys[role] = created["key"]
    asked = world.erase("keyed@else.test", token=api_keys["admin"])
    assert asked["requested_by"].startswith("api_key:")
    cases = [
        ("POST", "/v1/privacy/erasures", {"email": AL}, api_keys["agent"], 403),
        ("GET", "/v1/privacy/erasures", None, api_keys["agent"], 403),
        ("GET", f"/v1/privacy/erasures/{asked['id']}", None, api_keys["agent"], 403),
        ("POST", "/v1/privacy/erasures", {"email": AL}, world.agent, 403),
        ("GET", f"/v1/privacy/erasures/{asked['id']}", None, world.agent, 403),
        ("GET", f"/v1/privacy/erasures/{asked['id']}", None, world.other["token"], 404),
        ("GET", f"/v1/privacy/erasures/{asked['id']}", None, api_keys["admin"], 200),
    ]
    for method, path, body, token, expected in cases:
        status, answer, _ = world.api.request(method, path, body, token=token)
        assert status == expected, (method, path, token, answer)
    listed = call(world.api, "GET", "/v1/privacy/erasures", world.other["token"])["erasures"]
    assert asked["id"] not in [e["id"] for e in listed]
    _drop_jobs(world)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("a" * 250 + "@x.test", 422),
        ("al@" + "x" * 250 + ".test", 422),
        ('"al"@x.test', 422),
        ("al@x.test\r\nBcc: z@x.test", 422),
        ("al@x.test,hal@x.test", 422),
        ("al@@x.test", 422),
        ("", 422),
        (123, 422),
        (None, 422),
        ([AL], 422),
        ({"$gt": ""}, 422),
        ("a.*+[x]@x.test", 422),
        ("a.*+x@x.test", 202),  # regex metacharacters an address may hold
        ("Ünïcødé@X.test", 202),
    ],
)
def test_9_a_hostile_address_is_refused_or_erased_as_written_and_never_a_5xx(
    world: World, email: Any, expected: int
) -> None:
    before = call(world.api, "GET", "/v1/privacy/erasures", world.token)["erasures"]
    status, answer, _ = world.api.request(
        "POST", "/v1/privacy/erasures", {"email": email}, token=world.token
    )
    assert status == expected, answer
    after = call(world.api, "GET", "/v1/privacy/erasures", world.token)["erasures"]
    if expected == 202:
        assert answer["subject_email"] == email.lower()
        if "*" in email:  # its job runs: its address, read as a pattern, names nobody
            world.run_jobs()
            assert world.read(answer["id"])["status"] == "done"
            assert world.tickets(query=HAL)  # nobody else's ticket went
        _drop_jobs(world)
    else:
        assert answer["error"]["code"] and after == before


def test_10_an_address_mail_gave_in_ascii_is_erased_when_asked_for_in_unicode(
    world: World,
) -> None:
    world.mail(IDN_ASCII, "Umlaut", "A question with umlauts.")  # as mail writes the domain
    asked = world.erase(IDN_UNICODE.upper())  # as a person writes it
    assert asked["subject_email"] == IDN_UNICODE
    world.run_jobs()
    done = world.read(asked["id"])
    assert done["status"] == "done", done
    assert (done["counts"].get("tickets"), done["counts"].get("contact")) == (1, 1), done
    assert holding(world.aws, "umlauts", IDN_ASCII) == []


def test_11_a_run_that_dies_in_each_phase_after_its_work_is_finished_by_the_next(
    world: World,
) -> None:
    world.mail(AL, "Crashing", "A quokkaberry crashing.")
    world.mail(HAL, "About her", f"Please ask {AL} about the crash.")
    asked = world.erase(AL)
    deps = bootstrap.erasure_deps()
    died: list[str] = []

    class DiesAfterItsWork:
        """The phase; its first step does its work, then the run dies before saving it."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.name = inner.name

        def step(self, subject: Subject, cursor: str | None) -> Step:
            step: Step = self.inner.step(subject, cursor)
            if self.name not in died:
                died.append(self.name)
                raise RuntimeError(f"died in {self.name}")
            return step

    dying = replace(deps, phases=[DiesAfterItsWork(p) for p in deps.phases])
    done: Erasure | None = None
    for _ in range(20):  # the queue's retries, and the runs each failed run queued
        try:
            done = run_erasure(dying, world.workspace_id, asked["id"])
        except RuntimeError:  # it died where it started: the queue retries it
            continue
        assert done is not None
        if done.status is ErasureStatus.DONE:
            break
    assert done is not None and done.status is ErasureStatus.DONE, done
    assert died == ["tickets", "mentions", "bookings", "mail", "exports", "queues", "contact"]
    world.run_jobs()  # the runs queued find it done
    assert holding(world.aws, "crashing") == []
    text = _text_of(world, next(t["id"] for t in world.tickets() if t["subject"] == "About her"))
    assert "Please ask [erased] about the crash." in text
