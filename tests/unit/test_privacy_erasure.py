"""The erasure's run (chalicelib/privacy/erasure.py) against in-memory phases and records:
the order of the phases, the counts, the continuation after a budget of steps or of time,
resuming after a crash, one erasure per address at a time, one run of an erasure at a time
(a job delivered twice), an erasure whose job was lost started again when asked for, the
tickets filed while it ran, and a finished record without the address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from chalicelib.privacy.erasure import (
    MAX_ATTEMPTS,
    PHASES,
    STALLED_AFTER,
    Erasure,
    ErasureDeps,
    ErasurePhase,
    ErasureStatus,
    ErasureTaken,
    Step,
    Subject,
    address_forms,
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

    def claim(self, erasure: Erasure, seen_at: datetime | None, now: datetime) -> bool:
        stored = self.records.get(erasure.id)
        if stored is None or stored.status not in (ErasureStatus.PENDING, ErasureStatus.RUNNING):
            return False
        if stored.updated_at != seen_at:
            return False
        if stored.runner is not None and (stored.runner_until or now) > now:
            return False
        self.records[erasure.id] = erasure
        return True

    def _held(self, erasure: Erasure, held_by: str | None) -> None:
        stored = self.records.get(erasure.id)
        if stored is not None and stored.runner != held_by:
            raise ErasureTaken()

    def save(self, erasure: Erasure, held_by: str | None = None) -> None:
        self._held(erasure, held_by)
        self.saves += 1
        self.records[erasure.id] = erasure

    def finish(self, erasure: Erasure, held_by: str | None = None) -> None:
        self._held(erasure, held_by)
        running = self.records[erasure.id]
        lock = (erasure.workspace_id, running.subject_email or "")
        if self.locks.get(lock) == erasure.id:
            del self.locks[lock]
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
    deps, records, jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    run_erasure(deps, WS, erasure.id)  # two steps, then the crash: a run of its own follows
    assert jobs.sent == [(WS, erasure.id), (WS, erasure.id)]
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


@dataclass
class Inbox:
    """The `tickets` phase over tickets that keep coming: each step removes up to `per_step`
    of `waiting` (a ticket filed while the erasure runs joins it)."""

    waiting: list[str] = field(default_factory=list)
    per_step: int = 2
    name: str = "tickets"

    def step(self, subject: Subject, cursor: str | None) -> Step:
        page, self.waiting = self.waiting[: self.per_step], self.waiting[self.per_step :]
        return Step(
            counts={"tickets": len(page)},
            cursor="more" if len(page) == self.per_step else None,
            ticket_ids=tuple(page),
        )


@dataclass
class Hook:
    """A phase that does one page of work and, on its first step, `then` (something that
    happens meanwhile); it counts its page once."""

    name: str
    then: Callable[[], object] | None = None
    steps: int = 0

    def step(self, subject: Subject, cursor: str | None) -> Step:
        self.steps += 1
        if self.then is not None:
            then, self.then = self.then, None
            then()
        return Step(counts={self.name: 1 if self.steps == 1 else 0}, cursor=None)


def test_a_job_delivered_twice_at_once_runs_once_and_the_counts_stay_exact() -> None:
    deps, records, _ = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    duplicate: list[Erasure | None] = []
    # While the first delivery works on the mentions, the second delivery of the same job.
    mentions = Hook("mentions", then=lambda: duplicate.append(run_erasure(deps, WS, erasure.id)))
    deps = replace(deps, phases=[mentions if p.name == "mentions" else p for p in deps.phases])
    done = run_erasure(deps, WS, erasure.id)
    assert [d.status if d else None for d in duplicate] == [ErasureStatus.RUNNING]
    assert mentions.steps == 1  # the second delivery did no step
    assert done is not None and done.status is ErasureStatus.DONE
    assert done.counts == {name: 1 for name in PHASES}
    assert records.get(WS, erasure.id) == done
    assert done.subject_email is None and done.runner is None


def test_a_run_that_finds_the_erasure_taken_by_another_stops_without_failing_it() -> None:
    deps, records, jobs = deps_with()
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)

    def taken_over() -> None:  # another run took it (this one outlived its lease)
        held = records.records[erasure.id]
        records.records[erasure.id] = replace(held, runner="another-run")

    tickets = Hook("tickets", then=taken_over)
    deps = replace(deps, phases=[tickets if p.name == "tickets" else p for p in deps.phases])
    stopped = run_erasure(deps, WS, erasure.id)
    assert stopped is not None and stopped.status is ErasureStatus.RUNNING
    assert stopped.runner == "another-run" and stopped.failure is None
    assert jobs.sent == [(WS, erasure.id)]  # no continuation of its own


def test_a_long_erasure_of_many_runs_is_not_failed_by_one_error_after_its_fifth_run() -> None:
    tickets = PagedPhase("tickets", pages=2 * MAX_ATTEMPTS + 4, crash_on=2 * MAX_ATTEMPTS + 2)
    deps, records, jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    for _ in range(MAX_ATTEMPTS + 1):  # each run two steps, then its continuation
        paused = run_erasure(deps, WS, erasure.id, max_steps=2)
        assert paused is not None and paused.status is ErasureStatus.RUNNING
    with pytest.raises(RuntimeError):
        run_erasure(deps, WS, erasure.id, max_steps=2)
    after_one_error = records.get(WS, erasure.id)
    assert after_one_error is not None
    assert after_one_error.status is ErasureStatus.RUNNING, after_one_error
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    assert done.counts["tickets"] == 2 * MAX_ATTEMPTS + 4
    assert len(jobs.sent) == 1 + MAX_ATTEMPTS + 1


def test_a_run_stops_when_its_time_is_up_and_queues_its_continuation() -> None:
    tickets = PagedPhase("tickets", pages=4)
    deps, _records, jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    paused = run_erasure(deps, WS, erasure.id, out_of_time=lambda: len(tickets.subjects) >= 2)
    assert paused is not None and (paused.status, paused.cursor) == (ErasureStatus.RUNNING, "2")
    assert jobs.sent == [(WS, erasure.id), (WS, erasure.id)]
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.counts["tickets"] == 4


@pytest.mark.parametrize(
    ("status", "idle", "queued_again"),
    [
        (ErasureStatus.RUNNING, STALLED_AFTER + timedelta(minutes=1), True),  # its job died
        (ErasureStatus.PENDING, STALLED_AFTER + timedelta(minutes=1), True),  # its job was lost
        (ErasureStatus.RUNNING, timedelta(minutes=2), False),  # it is being worked on
        (ErasureStatus.PENDING, timedelta(minutes=2), False),  # its job is on its way
    ],
)
def test_asking_again_for_an_erasure_whose_job_is_gone_queues_it_again(
    status: ErasureStatus, idle: timedelta, queued_again: bool
) -> None:
    tickets = PagedPhase("tickets", pages=3)
    deps, records, jobs = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    # A run that was killed (a timeout, every attempt) left it as it was, and no job waits.
    lease = clock.moment + timedelta(minutes=5)
    records.records[erasure.id] = replace(
        records.records[erasure.id],
        status=status,
        attempts=MAX_ATTEMPTS,
        runner="killed-run" if status is ErasureStatus.RUNNING else None,
        runner_until=lease if status is ErasureStatus.RUNNING else None,
    )
    jobs.sent.clear()
    clock.moment += idle
    again = request_erasure(deps, WS, "user:u2", ADDRESS)
    assert again.id == erasure.id
    assert jobs.sent == ([(WS, erasure.id)] if queued_again else [])
    if queued_again:
        done = run_erasure(deps, WS, erasure.id)
        assert done is not None and done.status is ErasureStatus.DONE
        assert done.counts["tickets"] == 3


def test_tickets_of_theirs_filed_while_the_erasure_ran_go_before_their_contact() -> None:
    inbox = Inbox(waiting=["t1", "t2", "t3"])
    # Their mail is filed while the erasure is at the queues: two tickets of theirs.
    queues = Hook("queues", then=lambda: inbox.waiting.extend(["t4", "t5"]))
    deps, _, _ = deps_with()
    late: dict[str, ErasurePhase] = {"tickets": inbox, "queues": queues}
    deps = replace(deps, phases=[late.get(p.name, p) for p in deps.phases])
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    assert inbox.waiting == []
    assert done.counts["tickets"] == 5
    contact = next(p for p in deps.phases if p.name == "contact")
    assert isinstance(contact, PagedPhase)
    assert contact.subjects[0].ticket_ids == ("t1", "t2", "t3", "t4", "t5")


@pytest.mark.parametrize(
    ("address", "forms"),
    [
        (ADDRESS, (ADDRESS,)),
        ("carla@bücher.test", ("carla@bücher.test", "carla@xn--bcher-kva.test")),
        ("carla@xn--bcher-kva.test", ("carla@xn--bcher-kva.test", "carla@bücher.test")),
        ("zoë@x.test", ("zoë@x.test",)),  # a local part has one form only
        ("carla@xn--.test", ("carla@xn--.test",)),  # no IDNA form: as written
        ("carla@" + "ü" * 70 + ".test", ("carla@" + "ü" * 70 + ".test",)),
        ("no-at-sign", ("no-at-sign",)),
    ],
)
def test_an_address_is_written_with_its_domain_in_unicode_or_in_ascii(
    address: str, forms: tuple[str, ...]
) -> None:
    assert address_forms(address) == forms


def test_each_phase_goes_through_both_forms_of_an_international_domain_in_turn() -> None:
    tickets = PagedPhase("tickets", pages=2)
    deps, records, _ = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", "Carla@Bücher.test")
    paused = run_erasure(deps, WS, erasure.id, max_steps=3)  # 2 pages, then the other form
    assert paused is not None and (paused.phase, paused.address_form) == ("tickets", 1)
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    unicode, ascii_form = "carla@bücher.test", "carla@xn--bcher-kva.test"
    # Two pages in each form (then, before the contact, a last look in each form).
    assert [s.email for s in tickets.subjects][:4] == [unicode] * 2 + [ascii_form] * 2
    for phase in deps.phases:
        if phase.name != "tickets":
            assert isinstance(phase, PagedPhase)
            seen = [s.email for s in phase.subjects]
            assert seen[0] == unicode and seen[-1] == ascii_form, (phase.name, seen)
    assert records.get(WS, erasure.id) == done and done.subject_email is None


def test_a_delivery_that_read_the_record_before_another_run_paused_does_not_claim_it() -> None:
    tickets = PagedPhase("tickets", pages=4)
    deps, records, _ = deps_with(tickets=tickets)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    read_before = records.get(WS, erasure.id)
    assert read_before is not None
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    clock.moment += timedelta(seconds=5)
    paused = run_erasure(deps, WS, erasure.id, max_steps=2)  # two pages, then it lets go
    assert paused is not None and paused.cursor == "2"
    # A second delivery that read the record before would put it back two pages.
    late = replace(read_before, runner="late", runner_until=clock.moment + timedelta(minutes=1))
    assert not records.claim(late, read_before.updated_at, clock.moment)
    assert records.get(WS, erasure.id) == paused


def test_runs_that_each_fail_after_getting_on_never_fail_the_erasure() -> None:
    phases = {name: PagedPhase(name, pages=2, crash_on=1) for name in PHASES}
    deps, records, jobs = deps_with(**phases)
    erasure = request_erasure(deps, WS, "user:u1", ADDRESS)
    for _ in range(len(PHASES)):  # each run: a page, then a failure; its own run follows
        failed_on = run_erasure(deps, WS, erasure.id)
        assert failed_on is not None and failed_on.status is ErasureStatus.RUNNING
        assert (failed_on.attempts, failed_on.runner) == (0, None)
    done = run_erasure(deps, WS, erasure.id)
    assert done is not None and done.status is ErasureStatus.DONE
    assert done.counts == {name: 2 for name in PHASES}
    assert len(jobs.sent) == 1 + len(PHASES)
    assert records.get(WS, erasure.id) == done
