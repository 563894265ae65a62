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

Idempotent and resumable: each phase's step only removes or rewrites what is still there
and counts what it changed, so a step run twice counts once; the record keeps the phase and
its cursor after each step, so a run that stops (a crash, the time budget) carries on where
it was.  A run does at most `STEPS_PER_RUN` steps, then queues its own continuation.  The
address is kept on the record only while the erasure runs; the finished record holds the
counts alone.  A second request for an address being erased answers the running erasure;
one for an address already erased runs again and finds nothing (all counts zero)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.clock import Clock
from chalicelib.ids import new_id

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

    def save(self, erasure: Erasure) -> None: ...

    def finish(self, erasure: Erasure) -> None:
        """Saves the finished record (no address) and drops the address's lock."""

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
    if erasure.id != wanted.id and erasure.status is not ErasureStatus.FAILED:
        return erasure
    if erasure.status is ErasureStatus.FAILED:
        erasure = replace(
            erasure, status=ErasureStatus.PENDING, attempts=0, failure=None, updated_at=now
        )
        deps.erasures.save(erasure)
    deps.jobs.send_erasure(workspace_id, erasure.id)
    return erasure


def view_erasure(deps: ErasureDeps, workspace_id: str, erasure_id: str) -> Erasure | None:
    return deps.erasures.get(workspace_id, erasure_id)


def erasures_of(deps: ErasureDeps, workspace_id: str) -> list[Erasure]:
    return deps.erasures.newest(workspace_id, LISTED)


# -- the job --------------------------------------------------------------------------


def run_erasure(
    deps: ErasureDeps, workspace_id: str, erasure_id: str, max_steps: int = STEPS_PER_RUN
) -> Erasure | None:
    """Works through the phases from where the record says, saving after every step.
    After `max_steps` steps it queues its continuation and returns.  A done or failed
    erasure is left as it is; None: no such erasure."""
    erasure = deps.erasures.get(workspace_id, erasure_id)
    if erasure is None or erasure.status in (ErasureStatus.DONE, ErasureStatus.FAILED):
        return erasure
    if erasure.subject_email is None:  # cannot happen for a record not done
        return erasure
    erasure = replace(
        erasure,
        status=ErasureStatus.RUNNING,
        attempts=erasure.attempts + 1,
        updated_at=deps.clock.now(),
    )
    deps.erasures.save(erasure)
    try:
        return _run(deps, erasure, max_steps)
    except Exception as e:
        if erasure.attempts >= MAX_ATTEMPTS:
            failed = replace(
                _latest(deps, erasure),
                status=ErasureStatus.FAILED,
                failure=type(e).__name__,
                updated_at=deps.clock.now(),
            )
            deps.erasures.save(failed)
        raise


def _latest(deps: ErasureDeps, erasure: Erasure) -> Erasure:
    return deps.erasures.get(erasure.workspace_id, erasure.id) or erasure


def _run(deps: ErasureDeps, erasure: Erasure, max_steps: int) -> Erasure:
    by_name = {phase.name: phase for phase in deps.phases}
    steps = 0
    while erasure.phase in PHASES:
        phase = by_name[erasure.phase]
        if steps >= max_steps:
            deps.erasures.save(erasure)
            deps.jobs.send_erasure(erasure.workspace_id, erasure.id)
            return erasure
        subject = Subject(
            workspace_id=erasure.workspace_id,
            email=erasure.subject_email or "",
            contact_id=erasure.contact_id,
            ticket_ids=erasure.ticket_ids,
        )
        done = phase.step(subject, erasure.cursor)
        steps += 1
        counts = dict(erasure.counts)
        for name, value in done.counts.items():
            counts[name] = counts.get(name, 0) + value
        ticket_ids = erasure.ticket_ids + tuple(
            t for t in done.ticket_ids if t not in erasure.ticket_ids
        )
        if done.cursor is None:
            position = PHASES.index(erasure.phase) + 1
            next_phase = PHASES[position] if position < len(PHASES) else "done"
            erasure = replace(erasure, phase=next_phase, cursor=None)
        else:
            erasure = replace(erasure, cursor=done.cursor)
        erasure = replace(
            erasure, counts=counts, ticket_ids=ticket_ids, updated_at=deps.clock.now()
        )
        if erasure.phase in PHASES:
            deps.erasures.save(erasure)
    finished = replace(
        erasure,
        status=ErasureStatus.DONE,
        subject_email=None,
        contact_id=None,
        cursor=None,
        ticket_ids=(),
        finished_at=deps.clock.now(),
        updated_at=deps.clock.now(),
    )
    deps.erasures.finish(finished)
    return finished
