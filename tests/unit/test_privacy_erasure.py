"""The erasure's run (chalicelib/privacy/erasure.py) against in-memory phases and records:
the order of the phases, the counts, the continuation after a budget of steps, resuming
after a crash, one erasure per address at a time, and a finished record without the
address."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from chalicelib.privacy.erasure import (
    MAX_ATTEMPTS,
    PHASES,
    Erasure,
    ErasureDeps,
    ErasureStatus,
    Step,
    Subject,
    erasures_of,
    request_erasure,
    run_erasure,
)
from tests.export_fakes import WS, FakeClock

ADDRESS = "carla@customer.test"


class MemoryErasures:
    def __init__(self) -> None:
        self.records: dict[str, Erasure] = {}
        self.locks: dict[tuple[str, str], str] = {}
        self.saves = 0

    def start(self, erasure: Erasure) -> Erasure:
        lock = (erasure.workspace_id, erasure.subject_email or "")
        if lock in self.locks:
            return self.records[self.locks[lock]]
        self.locks[lock] = erasure.id
        self.records[erasure.id] = erasure
        return erasure

    def save(self, erasure: Erasure) -> None:
        self.saves += 1
        self.records[erasure.id] = erasure

    def finish(self, erasure: Erasure) -> None:
        running = self.records[erasure.id]
        self.locks.pop((erasure.workspace_id, running.subject_email or ""), None)
        self.records[erasure.id] = erasure

    def get(self, workspace_id: str, erasure_id: str) -> Erasure | None:
        found = self.records.get(erasure_id)
        return found if found and found.workspace_id == workspace_id else None

    def newest(self, workspace_id: str, limit: int) -> list[Erasure]:
        mine = [e for e in self.records.values() if e.workspace_id == workspace_id]
        return sorted(mine, key=lambda e: e.id, reverse=True)[:limit]


@dataclass
class MemoryJobs:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send_erasure(self, workspace_id: str, erasure_id: str) -> None:
        self.sent.append((workspace_id, erasure_id))


class Contacts:
    def contact_id_by_email(self, workspace_id: str, email: str) -> str | None:
        return "contact-1" if email == ADDRESS else None


@dataclass
class PagedPhase:
    """A phase with `pages` pages of work; each page erases `per_page` items once (a page
    done again counts zero); `crash_on` raises once when that page is reached."""

    name: str
    pages: int = 1
    per_page: int = 1
    crash_on: int | None = None
    done_pages: set[int] = field(default_factory=set)
    subjects: list[Subject] = field(default_factory=list)

    def step(self, subject: Subject, cursor: str | None) -> Step:
        self.subjects.append(subject)
        page = int(cursor or 0)
        if page == self.crash_on:
            self.crash_on = None
            raise RuntimeError("the store went away")
        counted = 0 if page in self.done_pages else self.per_page
        self.done_pages.add(page)
        found = (f"{self.name}-ticket-{page}",) if self.name == "tickets" else ()
        following = page + 1
        return Step(
            counts={self.name: counted},
            cursor=str(following) if following < self.pages else None,
            ticket_ids=found,
        )


def deps_with(**phases: PagedPhase) -> tuple[ErasureDeps, MemoryErasures, MemoryJobs]:
    records, jobs = MemoryErasures(), MemoryJobs()
    deps = ErasureDeps(
        erasures=records,
        jobs=jobs,
        contacts=Contacts(),
        phases=[phases.get(name, PagedPhase(name)) for name in PHASES],
        clock=FakeClock(),
    )
    return deps, records, jobs


def test_a_request_is_recorded_pending_with_the_normalised_address_and_queued() -> None:
    deps, _records, jobs = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", "  Carla@Customer.TEST ")
    assert erasure.status is ErasureStatus.PENDING
    assert erasure.subject_email == ADDRESS
    assert erasure.contact_id == "contact-1"
    assert jobs.sent == [(WS, erasure.id)]
    assert erasures_of(deps, WS) == [erasure]


def test_asking_again_while_it_runs_answers_the_same_erasure_and_queues_nothing_more() -> None:
    deps, _, jobs = deps_with()
    first = request_erasure(deps, WS, "user:u1", ADDRESS)
    again = request_erasure(deps, WS, "user:u2", ADDRESS.upper())
    assert again.id == first.id
    assert len(jobs.sent) == 1


def test_the_run_goes_through_every_phase_in_order_and_sums_what_each_changed() -> None:
    tickets = PagedPhase("tickets", pages=3, per_page=2)
    deps, _records, _ = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None
    assert done.status is ErasureStatus.DONE
    assert done.phases_done == PHASES
    assert done.counts["tickets"] == 6
    assert all(done.counts[name] == 1 for name in PHASES if name != "tickets")
    # Later phases saw the tickets the first one found.
    contact_phase = next(p for p in deps.phases if p.name == "contact")
    assert isinstance(contact_phase, PagedPhase)
    assert contact_phase.subjects[0].ticket_ids == tuple(f"tickets-ticket-{i}" for i in range(3))


def test_the_finished_record_keeps_the_counts_and_not_the_address() -> None:
    deps, records, _ = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    run_erasure(deps, WS, erasure.id)
    kept = records.get(WS, erasure.id)
    assert kept is not None
    assert kept.subject_email is None and kept.contact_id is None and kept.ticket_ids == ()
    assert kept.finished_at is not None
    assert ADDRESS not in repr(kept)
    # The address is free: asking again starts a new erasure (which finds nothing more).
    again = request_erasure(deps, WS, "user:u1", ADDRESS)
    assert again.id != erasure.id


def test_a_run_stops_after_its_budget_of_steps_and_queues_its_continuation() -> None:
    tickets = PagedPhase("tickets", pages=5)
    deps, _records, jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    paused = run_erasure(deps, WS, erasure.id, max_steps=3)
    assert paused is not None
    assert paused.status is ErasureStatus.RUNNING
    assert (paused.phase, paused.cursor) == ("tickets", "3")
    assert jobs.sent == [(WS, erasure.id), (WS, erasure.id)]
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    assert done.counts["tickets"] == 5


def test_a_crash_halfway_resumes_from_the_last_recorded_step_and_counts_each_item_once() -> None:
    tickets = PagedPhase("tickets", pages=4, crash_on=2)
    deps, records, _ = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    with pytest.raises(RuntimeError):
        run_erasure(deps, WS, erasure.id)
    stopped = records.get(WS, erasure.id)
    assert stopped is not None
    assert (stopped.status, stopped.phase, stopped.cursor) == (
        ErasureStatus.RUNNING,
        "tickets",
        "2",
    )
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    assert done.counts["tickets"] == 4


def test_after_the_last_allowed_attempt_it_is_failed_and_asking_again_resumes_it() -> None:
    tickets = PagedPhase("tickets", pages=2)
    deps, records, _jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    records.save(replace(records.records[erasure.id], attempts=MAX_ATTEMPTS - 1))
    tickets.crash_on = 0
    with pytest.raises(RuntimeError):
        run_erasure(deps, WS, erasure.id)
    failed = records.get(WS, erasure.id)
    assert failed is not None
    assert (failed.status, failed.failure) == (ErasureStatus.FAILED, "RuntimeError")
    assert failed.subject_email == ADDRESS  # kept until it is done, so it can resume
    assert run_erasure(deps, WS, erasure.id) == failed  # the job alone does not restart it
    resumed = request_erasure(deps, WS, "user:u1", ADDRESS)
    assert (resumed.id, resumed.status, resumed.attempts) == (
        erasure.id,
        ErasureStatus.PENDING,
        0,
    )
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE


def test_a_done_erasure_run_again_changes_nothing() -> None:
    deps, records, _ = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    done = run_erasure(deps, WS, erasure.id)
    saves = records.saves
    assert run_erasure(deps, WS, erasure.id) == done
    assert records.saves == saves


def test_another_workspaces_erasure_is_not_found() -> None:
    deps, _, _ = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    assert run_erasure(deps, "01HWORKSPACE0000000000000B", erasure.id) is None
