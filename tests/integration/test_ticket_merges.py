"""Merges are one unit of work: concurrent merges cannot form a cycle, and a merge cut short
by a crash finishes on retry, or by its queued merge check, without duplicating messages."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.errors import Conflict
from chalicelib.tickets import merging
from chalicelib.tickets.merge_record import MergeStatus
from devstack.pump import EventPump

# The merge check's delay in these tests (5 minutes in service).
CHECK_DELAY_SECONDS = 3


class Crash(Exception):
    """Stands for the process dying between two steps of a merge."""


class StoreThatCrashes:
    """The real ticket store, except that one step raises (once) after or instead of running."""

    def __init__(self, store: Any, step: str, after: bool) -> None:
        self._store, self._step, self._after = store, step, after

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._step:
            return real

        def crashing(*args: Any, **kwargs: Any) -> Any:
            if self._after:
                real(*args, **kwargs)
            raise Crash(name)

        return crashing


@pytest.fixture()
def owner(api):
    return api.sign_up()


def _open(api, owner, email="carla@customer.test", notes=0):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email}, "subject": "Help", "body": "Please"},
        token=owner["token"],
    )
    assert status == 201, ticket
    for n in range(notes):
        status, body, _ = api.request(
            "POST",
            f"/v1/tickets/{ticket['id']}/messages",
            {"body": f"note {n}", "kind": "note"},
            token=owner["token"],
        )
        assert status == 201, body
    return ticket


def _ticket(api, owner, ticket_id):
    status, body, _ = api.request("GET", f"/v1/tickets/{ticket_id}", token=owner["token"])
    assert status == 200, body
    return body


def _merge(api, owner, source, target):
    return api.request(
        "POST", f"/v1/tickets/{source['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )


def _message_ids(ticket_id, workspace_id):
    store = bootstrap.ticket_deps().store
    return [m.id for m in store.list_messages(workspace_id, ticket_id, 1000)]


def _race(*calls):
    """Runs the calls at once; returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            outcomes[i] = call()
        except Exception as e:  # the outcome under test
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_merging_each_into_the_other_at_once_merges_exactly_one(api, owner):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = bootstrap.ticket_deps()
    for round_ in range(4):
        a = _open(api, owner, email=f"a{round_}@customer.test")
        b = _open(api, owner, email=f"b{round_}@customer.test")
        outcomes = _race(
            lambda a=a, b=b: merging.merge_tickets(deps, ws, a["id"], b["id"], actor),
            lambda a=a, b=b: merging.merge_tickets(deps, ws, b["id"], a["id"], actor),
        )
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(refused) == 1, outcomes
        assert isinstance(refused[0], Conflict) and refused[0].status == 409
        # Refused as merged already, or while the other merge into it is still under way.
        assert refused[0].code in ("ticket_merged", "target_merged", "merge_in_progress")
        merged_into = {t: _ticket(api, owner, t)["merged_into"] for t in (a["id"], b["id"])}
        assert sorted(v is None for v in merged_into.values()) == [False, True]  # no cycle
        [(source, target)] = [(s, t) for s, t in merged_into.items() if t]
        assert _ticket(api, owner, target)["message_count"] == 2
        both = set(_message_ids(a["id"], ws)) | set(_message_ids(b["id"], ws))
        assert sorted(_message_ids(target, ws)) == sorted(both)
        assert _ticket(api, owner, source)["status"] == "closed"


def test_the_same_merge_requested_twice_at_once_moves_each_message_once(api, owner):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = bootstrap.ticket_deps()
    source = _open(api, owner, email="dan@customer.test", notes=3)
    target = _open(api, owner)
    outcomes = _race(
        *[lambda: merging.merge_tickets(deps, ws, source["id"], target["id"], actor)] * 3
    )
    done = [o for o in outcomes if not isinstance(o, Exception)]
    assert done, outcomes
    assert all(isinstance(o, Conflict) and o.status == 409 for o in outcomes if o not in done)
    merged = _ticket(api, owner, target["id"])
    assert merged["message_count"] == 5 and len(merged["messages"]) == 5
    assert merged["merged_from"] == [source["number"]]  # listed once, however often asked
    assert _ticket(api, owner, source["id"])["merged_into"] == target["id"]
    assert deps.store.get_merge(ws, source["id"]).status is MergeStatus.DONE


@pytest.mark.parametrize(
    ("step", "after"),
    [("merge_messages", False), ("merge_messages", True), ("finish_merge", False)],
    ids=["before-copy", "after-copy", "before-finish"],
)
def test_a_merge_cut_short_finishes_on_retry_without_duplicating_messages(api, owner, step, after):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = bootstrap.ticket_deps()
    source = _open(api, owner, email="dan@customer.test", notes=2)
    target = _open(api, owner, notes=1)
    crashing = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, step, after))
    with pytest.raises(Crash):
        merging.merge_tickets(crashing, ws, source["id"], target["id"], actor)
    assert deps.store.get_merge(ws, source["id"]).status is MergeStatus.PENDING
    # Meanwhile the source is closed and points at the target; nothing can merge it away.
    assert _ticket(api, owner, source["id"])["merged_into"] == target["id"]
    other = _open(api, owner, email="erin@customer.test")
    status, body, _ = _merge(api, owner, source, other)
    assert (status, body["error"]["code"]) == (409, "ticket_merged")

    status, merged, _ = _merge(api, owner, source, target)  # the user retries
    assert status == 200, merged
    assert merged["message_count"] == 5
    detail = _ticket(api, owner, target["id"])
    ids = [m["id"] for m in detail["messages"]]
    assert len(ids) == len(set(ids)) == 5
    assert "dan@customer.test" in detail["cc"]
    assert deps.store.get_merge(ws, source["id"]).status is MergeStatus.DONE
    status, body, _ = _merge(api, owner, source, target)
    assert (status, body["error"]["code"]) == (409, "ticket_merged")


def test_resuming_a_merge_cut_short_completes_it(api, owner):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = bootstrap.ticket_deps()
    source = _open(api, owner, email="dan@customer.test", notes=1)
    target = _open(api, owner)
    crashing = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, "merge_messages", True))
    with pytest.raises(Crash):
        merging.merge_tickets(crashing, ws, source["id"], target["id"], actor)
    merged = merging.resume_merge(deps, ws, source["id"])
    assert merged.message_count == 3
    assert len(set(_message_ids(target["id"], ws))) == 3
    with pytest.raises(Conflict):
        merging.resume_merge(deps, ws, source["id"])


def test_a_ticket_with_merges_into_it_unfinished_cannot_be_merged_away(api, owner):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = bootstrap.ticket_deps()
    a = _open(api, owner, email="a@customer.test")
    b = _open(api, owner, email="b@customer.test")
    c = _open(api, owner, email="c@customer.test")
    crashing = dataclasses.replace(
        deps, store=StoreThatCrashes(deps.store, "merge_messages", False)
    )
    with pytest.raises(Crash):
        merging.merge_tickets(crashing, ws, a["id"], b["id"], actor)  # a -> b pending
    status, body, _ = _merge(api, owner, b, c)
    assert (status, body["error"]["code"]) == (409, "merge_in_progress")
    assert _ticket(api, owner, b["id"])["merged_into"] is None
    merging.resume_merge(deps, ws, a["id"])
    status, merged, _ = _merge(api, owner, b, c)  # once a -> b is done, b can go on into c
    assert status == 200 and merged["message_count"] == 3


def test_merging_into_a_ticket_that_was_merged_is_refused(api, owner):
    a = _open(api, owner, email="a@customer.test")
    b = _open(api, owner, email="b@customer.test")
    c = _open(api, owner, email="c@customer.test", notes=1)
    assert _merge(api, owner, a, b)[0] == 200
    status, body, _ = _merge(api, owner, c, a)
    assert (status, body["error"]["code"]) == (409, "target_merged")
    assert body["error"]["message"].endswith(f"{b['id']}; merge into that one.")
    assert _ticket(api, owner, c["id"])["merged_into"] is None
    assert _ticket(api, owner, c["id"])["status"] != "closed"
    assert _ticket(api, owner, a["id"])["message_count"] == 1
    status, body, _ = _merge(api, owner, b, a)  # the cycle, one after the other
    assert (status, body["error"]["code"]) == (409, "target_merged")


def test_merging_a_ticket_with_many_messages_moves_them_all(api, owner):
    ws = owner["workspace"]["id"]
    source = _open(api, owner, email="dan@customer.test", notes=120)  # > one transaction
    target = _open(api, owner)
    status, merged, _ = _merge(api, owner, source, target)
    assert status == 200, merged
    assert merged["message_count"] == 122
    ids = _message_ids(target["id"], ws)
    assert len(ids) == len(set(ids)) == 122
    assert set(_message_ids(source["id"], ws)) <= set(ids)


@pytest.fixture()
def events_worker(clean_aws):
    """Delivers what is on the events queue to the events worker, as Lambda would."""
    from app import app

    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _with_short_check_delay(deps):
    policy = dataclasses.replace(deps.policy, merge_check_delay_seconds=CHECK_DELAY_SECONDS)
    return dataclasses.replace(deps, policy=policy)


def _deliver_events_until(events_worker, done, timeout=CHECK_DELAY_SECONDS + 10):
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        events_worker.drain(["search_indexer"])
        time.sleep(0.2)
    return done()


@pytest.mark.parametrize(
    ("step", "after"),
    [("merge_messages", False), ("merge_messages", True), ("finish_merge", False)],
    ids=["before-copy", "after-copy", "before-finish"],
)
def test_a_merge_cut_short_is_finished_by_its_queued_check(api, owner, events_worker, step, after):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = _with_short_check_delay(bootstrap.ticket_deps())
    source = _open(api, owner, email="dan@customer.test", notes=2)
    target = _open(api, owner, notes=1)
    other = _open(api, owner, email="erin@customer.test")
    both = set(_message_ids(source["id"], ws)) | set(_message_ids(target["id"], ws))
    events_worker.drain(["search_indexer"])  # the tickets' own events
    crashing = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, step, after))
    started = time.monotonic()  # before the check is queued
    with pytest.raises(Crash):  # e.g. the API's Lambda timed out copying
        merging.merge_tickets(crashing, ws, source["id"], target["id"], actor)

    events_worker.drain(["search_indexer"])
    if time.monotonic() - started < CHECK_DELAY_SECONDS:  # the check waits its delay
        assert deps.store.get_merge(ws, source["id"]).status is MergeStatus.PENDING
        status, body, _ = _merge(api, owner, target, other)
        assert (status, body["error"]["code"]) == (409, "merge_in_progress")

    finished = _deliver_events_until(
        events_worker,
        lambda: deps.store.get_merge(ws, source["id"]).status is MergeStatus.DONE,
    )
    assert finished, "the queued merge check did not finish the merge"
    detail = _ticket(api, owner, target["id"])
    ids = [m["id"] for m in detail["messages"]]
    assert len(ids) == len(set(ids)) == 5 and set(ids) == both
    assert detail["message_count"] == 5
    assert "dan@customer.test" in detail["cc"]
    assert deps.store.incoming_merges(ws, target["id"]) == 0
    status, merged, _ = _merge(api, owner, target, other)  # the target can be merged again
    assert status == 200, merged
    assert merged["message_count"] == 6


def test_a_merge_check_delivered_again_changes_nothing(api, owner, events_worker):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = _with_short_check_delay(bootstrap.ticket_deps())
    source = _open(api, owner, email="dan@customer.test", notes=1)
    target = _open(api, owner)
    crashing = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, "merge_messages", True))
    with pytest.raises(Crash):
        merging.merge_tickets(crashing, ws, source["id"], target["id"], actor)
    assert _deliver_events_until(
        events_worker,
        lambda: deps.store.get_merge(ws, source["id"]).status is MergeStatus.DONE,
    )
    merged = deps.store.get_ticket(ws, target["id"])

    deps.events.publish(merging.MERGE_CHECK, ws, {"ticket_id": source["id"]})  # redelivered
    [worker] = [q for q in events_worker.queues if q.name == "search_indexer"]
    outcome = events_worker.poll_queue(worker)

    assert (outcome.received, outcome.failed) == (1, 0)
    assert deps.store.get_ticket(ws, target["id"]) == merged
    assert len(set(_message_ids(target["id"], ws))) == 3


def test_a_merge_check_that_fails_is_retried_and_dead_lettered_not_lost(
    api, owner, events_worker, clean_aws, monkeypatch
):
    ws, actor = owner["workspace"]["id"], f"user:{owner['user']['id']}"
    deps = _with_short_check_delay(bootstrap.ticket_deps())
    source = _open(api, owner, email="dan@customer.test", notes=1)
    target = _open(api, owner)
    events_worker.drain(["search_indexer"])
    crashing = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, "merge_messages", True))
    with pytest.raises(Crash):
        merging.merge_tickets(crashing, ws, source["id"], target["id"], actor)
    broken = dataclasses.replace(deps, store=StoreThatCrashes(deps.store, "finish_merge", False))
    monkeypatch.setattr(bootstrap, "ticket_deps", lambda: broken)  # every check fails
    time.sleep(CHECK_DELAY_SECONDS)
    [worker] = [q for q in events_worker.queues if q.name == "search_indexer"]

    failures = 0
    for _ in range(20):
        outcome = events_worker.poll_queue(worker)
        failures += outcome.failed
        if not outcome.received and failures:
            break
    assert failures == 5  # the queue's maxReceiveCount
    sqs = clean_aws.client("sqs")
    dead = sqs.receive_message(QueueUrl=clean_aws.dlq_urls["events"], WaitTimeSeconds=1)
    [kept] = dead.get("Messages", [])
    assert f'"ticket_id": "{source["id"]}"' in kept["Body"]
    assert deps.store.get_merge(ws, source["id"]).status is MergeStatus.PENDING
