"""Data-subject erasure: an owner or admin asks for everything held about one person (by
e-mail address) to be removed from the workspace; a queued job works through the classes
of data one phase at a time and keeps, as the audit record, who asked, when, which classes
were touched and how many of each, never what was erased.

The phases, in order (each an adapter in chalicelib/store/, see `ErasurePhase`):

- `tickets`: every ticket and chat they are the requester of is removed whole: messages,
  activity, attachments and raw mail in S3, AI results, search postings, chat state,
  unanswered-question records, members' notifications about it.
- `mentions`: their address inside other tickets of the workspace (CC, To, subjects,
  message text, quoted text) is replaced by `[erased]` and its search postings go.
- `bookings`: bookings they are the invitee of are anonymised (the host's time stays
  taken), their reminders and pending booking mails removed.
- `mail`: outbound mail records addressed to them, mail held or unrouted from them (and its
  raw copy), their sender-rate counter.
- `exports`: data-subject exports that hold them (their own, and whole-workspace bundles):
  the bundle is deleted, the log entry kept without the address.
- `queues`: messages waiting in the product's queues and dead-letter queues that name them
  (their address, their contact, one of their tickets) are deleted.
- `contact`: the contact record, its address lookup and its directory search terms.

Before the contact goes, the `tickets` phase runs again until it finds nothing: a mail of
theirs filed while the erasure ran made a ticket of theirs the first pass did not see.

An address whose domain is international is written two ways (`carla@bücher.test`,
`carla@xn--bcher-kva.test`: mail arrives with the second, forms and the API give the
first): each phase goes through the address in one form, then in the other
(`address_forms`; the record's `address_form` says which).

Idempotent and resumable: each phase's step only removes or rewrites what is still there
and counts what it changed, so a step run twice counts once; the record keeps the phase and
its cursor after each step, so a run that stops (a crash, the time budget) carries on where
it was.  A run does at most `STEPS_PER_RUN` steps, and none once its time is up, then
queues its own continuation.  One run at a time: a run first claims the record for
`RUN_LEASE` (renewed at each step) and saves only while it holds it, so a job delivered
twice at once runs once (the second delivery finds it held and does nothing) and the
counts stay exact.  A run that fails after some steps lets go and queues a run of its own
(it got on; the queue's retries are for a run that fails where it starts); `attempts` counts
the runs in a row that failed or died where they started: the `MAX_ATTEMPTS`-th fails the
erasure.  The address is kept on the record only while the erasure runs; the finished
record holds the counts alone.  A second request for an address being erased answers the
running erasure (and queues its job again when nothing happened to it for
`STALLED_AFTER`: its job was lost, say every delivery of it timed out); one for an address
already erased runs again and finds nothing (all counts zero).  Counts are of what each
step reports: a run that dies inside a step, after part of its work, leaves that part
uncounted (what it removed is gone when the step runs again)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.clock import Clock
from chalicelib.ids import new_id
from chalicelib.observability import logger

PHASES: tuple[str, ...] = (
    "tickets",
    "mentions",
    "bookings",
    "mail",
    "exports",
    "queues",
    "contact",
)
STEPS_PER_RUN = 40
MAX_ATTEMPTS = 5  # the privacy-jobs queue's maxReceiveCount
# How long a run holds the erasure from its last step: longer than a run lives (the
# worker's 900 s timeout), shorter than the queue's visibility timeout (5400 s), so a
# delivery that died has let go when its message comes back.
RUN_LEASE = timedelta(minutes=20)
# An erasure not done that nothing touched for this long has no job left (more than the
# visibility timeout a failed delivery waits, plus a run): asking again queues it again.
STALLED_AFTER = timedelta(hours=2)
LISTED = 100
ERASED = "[erased]"  # what replaces their address where it is mentioned

# The classes of data an erasure counts (the audit record's `counts` keys).
COUNTED: tuple[str, ...] = (
    "tickets",  # tickets and chats removed
    "messages",
    "attachments",
    "raw_mail",
    "ai_results",
    "search_postings",
    "chat_records",  # chat state, widget message ids, visitor history, unanswered questions
    "notifications",
    "mentions",  # messages and tickets where their address was replaced
    "bookings",
    "reminders",
    "outbound_mail",
    "held_mail",
    "exports",
    "queue_messages",
    "contact",
)


class ErasureTaken(Exception):
    """The record is held by another run (or was finished): this run must stop."""


class ErasureStatus(StrEnum):
    PENDING = "pending"  # queued
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # MAX_ATTEMPTS runs failed; asking again resumes it


@dataclass(frozen=True)
class Subject:
    """Who is being erased, as every phase sees it."""

    workspace_id: str
    email: str  # normalised (trimmed, lower case)
    contact_id: str | None  # None: no contact has the address (CC, mentions, mail only)
    ticket_ids: tuple[str, ...] = ()  # their tickets, as the `tickets` phase found them


@dataclass(frozen=True)
class Step:
    """What one step of a phase did."""

    counts: Mapping[str, int] = field(default_factory=dict)
    cursor: str | None = None  # None: the phase is finished; else: call again with it
    ticket_ids: tuple[str, ...] = ()  # tickets this step removed (the `tickets` phase)


class ErasurePhase(Protocol):
    """One class of data.  `step` does a bounded piece of work (a page) and says whether
    there is more; it must be safe to repeat (what is already gone counts zero)."""

    name: str

    def step(self, subject: Subject, cursor: str | None) -> Step: ...


@dataclass(frozen=True)
class Erasure:
    id: str
    workspace_id: str
    requested_by: str  # "user:<id>" or "api_key:<id>"
    requested_at: datetime
    subject_email: str | None  # while it runs; None once done
    contact_id: str | None
    status: ErasureStatus = ErasureStatus.PENDING
    phase: str = PHASES[0]
    cursor: str | None = None
    ticket_ids: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    attempts: int = 0
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    failure: str | None = None
    runner: str | None = None  # the run holding it (see `RUN_LEASE`), None: no run
    runner_until: datetime | None = None
    address_form: int = 0  # which of `address_forms(subject_email)` the phase is at

    @property
    def phases_done(self) -> tuple[str, ...]:
        if self.status is ErasureStatus.DONE:
            return PHASES
        return PHASES[: PHASES.index(self.phase)] if self.phase in PHASES else ()


# -- ports (adapters: chalicelib/store/privacy_erasure_repo.py) --------------------------


class Erasures(Protocol):
    """The erasure records (the audit log), in the workspace's partition."""

    def start(self, erasure: Erasure) -> Erasure:
        """Records `erasure`, unless the workspace has one for the same address not yet
        done: then answers that one, unchanged (a lock item keyed by the address's SHA-256,
        deleted by `finish`)."""

    def claim(self, erasure: Erasure, seen_at: datetime | None, now: datetime) -> bool:
        """Saves `erasure` (its `runner` set) if the stored record is still as it was read
        (its `updated_at` is `seen_at`), pending or running, and held by no run (no
        `runner`, or its `runner_until` before `now`); False otherwise."""

    def save(self, erasure: Erasure, held_by: str | None = None) -> None:
        """Saves `erasure` if the stored record's `runner` is `held_by` (None: no run);
        raises `ErasureTaken` otherwise."""

    def finish(self, erasure: Erasure, held_by: str | None = None) -> None:
        """Saves the finished record (no address) as `save` does and drops the address's
        lock if it is this erasure's."""

    def get(self, workspace_id: str, erasure_id: str) -> Erasure | None: ...

    def newest(self, workspace_id: str, limit: int) -> list[Erasure]:
        """The workspace's erasures, newest first (one Query)."""


class ErasureJobs(Protocol):
    def send_erasure(self, workspace_id: str, erasure_id: str) -> None:
        """Queues a run of the erasure (the `privacy-jobs` queue)."""


class ContactFinder(Protocol):
    def contact_id_by_email(self, workspace_id: str, email: str) -> str | None:
        """The id of the contact with this normalised address (GetItem), or None."""


@dataclass(frozen=True)
class ErasureDeps:
    erasures: Erasures
    jobs: ErasureJobs
    contacts: ContactFinder
    phases: Sequence[ErasurePhase]  # in the order of PHASES
    clock: Clock


def normalise_address(email: str) -> str:
    return email.strip().lower()


def address_forms(address: str) -> tuple[str, ...]:
    """The ways the address may be written: as given, and with its domain in the other of
    its Unicode and ASCII (IDNA) forms when it has one."""
    local, at, domain = address.rpartition("@")
    if not at or not domain:
        return (address,)
    try:
        if domain.isascii():
            other = domain.encode("ascii").decode("idna")
        else:
            other = domain.encode("idna").decode("ascii")
    except UnicodeError:  # not a domain IDNA can write (a label too long, a bad `xn--`)
        return (address,)
    other = other.lower()
    return (address,) if other == domain else (address, f"{local}@{other}")


# -- the requests ---------------------------------------------------------------------


def request_erasure(deps: ErasureDeps, workspace_id: str, actor: str, email: str) -> Erasure:
    """Records the request and queues its job.  An erasure of the same address that is not
    done is answered instead (a failed one is started again)."""
    address = normalise_address(email)
    now = deps.clock.now()
    wanted = Erasure(
        id=new_id(),
        workspace_id=workspace_id,
        requested_by=actor,
        requested_at=now,
        subject_email=address,
        contact_id=deps.contacts.contact_id_by_email(workspace_id, address),
        updated_at=now,
    )
    erasure = deps.erasures.start(wanted)
    if erasure.id != wanted.id:
        if erasure.status is ErasureStatus.FAILED:
            resumed = replace(erasure, status=ErasureStatus.PENDING, failure=None)
        elif _stalled(erasure, now):
            resumed = erasure
        else:
            return erasure
        try:
            deps.erasures.save(replace(resumed, attempts=0, updated_at=now), erasure.runner)
        except ErasureTaken:  # a run took it meanwhile: it is on its way
            return deps.erasures.get(workspace_id, erasure.id) or erasure
        erasure = replace(resumed, attempts=0, updated_at=now)
    deps.jobs.send_erasure(workspace_id, erasure.id)
    return erasure


def _stalled(erasure: Erasure, now: datetime) -> bool:
    """Not done, held by no live run, and untouched for `STALLED_AFTER`: its job is gone."""
    if erasure.status not in (ErasureStatus.PENDING, ErasureStatus.RUNNING):
        return False
    if erasure.runner is not None and erasure.runner_until and erasure.runner_until > now:
        return False
    return (erasure.updated_at or erasure.requested_at) <= now - STALLED_AFTER


def view_erasure(deps: ErasureDeps, workspace_id: str, erasure_id: str) -> Erasure | None:
    return deps.erasures.get(workspace_id, erasure_id)


def erasures_of(deps: ErasureDeps, workspace_id: str) -> list[Erasure]:
    return deps.erasures.newest(workspace_id, LISTED)


# -- the job --------------------------------------------------------------------------


def _never() -> bool:
    return False


def run_erasure(
    deps: ErasureDeps,
    workspace_id: str,
    erasure_id: str,
    max_steps: int = STEPS_PER_RUN,
    out_of_time: Callable[[], bool] = _never,
) -> Erasure | None:
    """Claims the erasure and works through the phases from where the record says, saving
    after every step.  After `max_steps` steps, or once `out_of_time()`, or on an error
    after some steps, it lets go of the erasure, queues its continuation and returns; an
    error before any step is raised (the job is retried).  A done or failed erasure, or one
    another run holds, is left as it is (and returned); None: no such erasure."""
    found = deps.erasures.get(workspace_id, erasure_id)
    if found is None or found.status in (ErasureStatus.DONE, ErasureStatus.FAILED):
        return found
    if found.subject_email is None:  # cannot happen for a record not done
        return found
    now = deps.clock.now()
    erasure = replace(
        found,
        status=ErasureStatus.RUNNING,
        attempts=found.attempts + 1,
        updated_at=now,
        runner=new_id(),
        runner_until=now + RUN_LEASE,
    )
    if not deps.erasures.claim(erasure, found.updated_at, now):
        return deps.erasures.get(workspace_id, erasure_id)
    try:
        return _run(deps, erasure, max_steps, out_of_time)
    except ErasureTaken:
        return _latest(deps, erasure)
    except Exception as e:
        latest = _latest(deps, erasure)
        let_go = replace(latest, runner=None, runner_until=None, updated_at=deps.clock.now())
        if _position(latest) != _position(erasure):
            # It got on before it failed: a run of its own carries on (the queue's retries
            # are for runs that fail where they start).
            logger.warning("privacy erasure run failed after some steps", exc_info=True)
            let_go = replace(let_go, attempts=0)
            try:
                deps.erasures.save(let_go, erasure.runner)
            except ErasureTaken:  # another run took it: it is that run's now
                return _latest(deps, erasure)
            deps.jobs.send_erasure(erasure.workspace_id, erasure.id)
            return let_go
        if erasure.attempts >= MAX_ATTEMPTS:
            let_go = replace(let_go, status=ErasureStatus.FAILED, failure=type(e).__name__)
        with suppress(ErasureTaken):  # another run took it: it is that run's now
            deps.erasures.save(let_go, erasure.runner)
        raise


def _position(erasure: Erasure) -> tuple[object, ...]:
    """Where the erasure is: what a step that was saved changes."""
    return (
        erasure.phase,
        erasure.address_form,
        erasure.cursor,
        sorted(erasure.counts.items()),
        erasure.ticket_ids,
    )


def _latest(deps: ErasureDeps, erasure: Erasure) -> Erasure:
    return deps.erasures.get(erasure.workspace_id, erasure.id) or erasure


def _subject(erasure: Erasure) -> Subject:
    forms = address_forms(erasure.subject_email or "")
    return Subject(
        workspace_id=erasure.workspace_id,
        email=forms[min(erasure.address_form, len(forms) - 1)],
        contact_id=erasure.contact_id,
        ticket_ids=erasure.ticket_ids,
    )


def _with_step(erasure: Erasure, done: Step) -> Erasure:
    """The record with what a step did added (its counts, the tickets it removed)."""
    counts = dict(erasure.counts)
    for name, value in done.counts.items():
        counts[name] = counts.get(name, 0) + value
    ticket_ids = erasure.ticket_ids + tuple(
        t for t in done.ticket_ids if t not in erasure.ticket_ids
    )
    return replace(erasure, counts=counts, ticket_ids=ticket_ids)


def _run(
    deps: ErasureDeps, erasure: Erasure, max_steps: int, out_of_time: Callable[[], bool]
) -> Erasure:
    by_name = {phase.name: phase for phase in deps.phases}
    forms = address_forms(erasure.subject_email or "")
    runner = erasure.runner
    steps = 0
    while erasure.phase in PHASES:
        phase = by_name[erasure.phase]
        if steps >= max_steps or (steps and out_of_time()):
            paused = replace(erasure, runner=None, runner_until=None, attempts=0)
            deps.erasures.save(paused, runner)
            deps.jobs.send_erasure(erasure.workspace_id, erasure.id)
            return paused
        steps += 1
        if erasure.phase == PHASES[-1] and erasure.cursor is None and PHASES[0] in by_name:
            # Their tickets filed while the erasure ran go before their contact does.
            late = by_name[PHASES[0]].step(_subject(erasure), None)
            if any(late.counts.values()):  # it removed some: look again
                erasure = _with_step(erasure, late)
                erasure = replace(
                    erasure,
                    updated_at=deps.clock.now(),
                    runner_until=deps.clock.now() + RUN_LEASE,
                )
                deps.erasures.save(erasure, runner)
                continue
        done = phase.step(_subject(erasure), erasure.cursor)
        erasure = _with_step(erasure, done)
        if done.cursor is None and erasure.address_form + 1 < len(forms):
            erasure = replace(erasure, address_form=erasure.address_form + 1, cursor=None)
        elif done.cursor is None:
            position = PHASES.index(erasure.phase) + 1
            next_phase = PHASES[position] if position < len(PHASES) else "done"
            erasure = replace(erasure, phase=next_phase, cursor=None, address_form=0)
        else:
            erasure = replace(erasure, cursor=done.cursor)
        now = deps.clock.now()
        erasure = replace(erasure, updated_at=now, runner_until=now + RUN_LEASE)
        if erasure.phase in PHASES:
            deps.erasures.save(erasure, runner)
    finished = replace(
        erasure,
        status=ErasureStatus.DONE,
        subject_email=None,
        contact_id=None,
        cursor=None,
        ticket_ids=(),
        address_form=0,
        attempts=0,
        runner=None,
        runner_until=None,
        finished_at=deps.clock.now(),
        updated_at=deps.clock.now(),
    )
    deps.erasures.finish(finished, runner)
    return finished
