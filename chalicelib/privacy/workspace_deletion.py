"""Workspace deletion by its owner: an owner asks, typing the workspace's slug as the
confirmation; the deletion is scheduled `GRACE` (7 days) later and every member is told by
e-mail in their language; any member sees it (`GET /v1/workspace/deletion`) and an owner can
cancel it until it is due.  When it is due, the hourly schedule removes everything of the
workspace, one family of data at a time (`PHASES`, each an adapter in chalicelib/store/):

- `billing`: the paid subscription ends at once, as an owner's "cancel now" does (the
  product's rule: the unused whole days are refunded through the processor that took them).
- `doors`: what reaches the workspace from outside goes first: its slug (mail and the help
  centre's address), the chat widget's public key, forwarding addresses, the help-centre
  domain and its custom hostname, invitation tokens, API keys, the processor's lookups.
- `members`: the memberships (accounts stay: people may belong to other workspaces); from
  here nobody can sign in to it.
- `tickets`, `articles`, `bookings`, `contacts`, `calendars`, `live`: each family of
  partitions, enumerated from what the workspace itself lists (ticket numbers and the
  tickets view, translation claims and the articles view, bookings and event types, the
  contact list, ...), never by a Scan.
- `people`: everyone the workspace knew (members, former members found on invitations,
  tickets, bookings and calendars): their sessions opened in it, their notifications in it.
- `files`: every object under its prefixes of the content bucket (and raw mail it held).
- `workspace`: the workspace's own partition, all but the workspace item.

Then it settles: a later run (`SETTLE_AFTER`) looks again for anything written meanwhile
(mail the mail-out worker recorded after the sweep, an event handled late); if it finds
some, the families are swept again from `doors`; if not, the workspace item and this record
go, and nothing naming the workspace is left.

Resumable and bounded: a phase's step does a bounded piece of work (a page, ≤ 25 tickets),
is safe to repeat (what is gone counts nothing) and the record keeps the phase and its cursor
after every step; a run holds the record with a lease, does at most `STEPS_PER_RUN` steps (or
until its time is nearly up) and leaves it due at once, so the next run carries on; a crashed
run's lease lapses and the next run takes over."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.accounts.model import Workspace
from chalicelib.accounts.owner_readers import MemberDirectory
from chalicelib.clock import Clock
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.observability import logger
from chalicelib.privacy import workspace_deletion_mails

GRACE = timedelta(days=7)
PHASES: tuple[str, ...] = (
    "billing",
    "doors",
    "members",
    "tickets",
    "articles",
    "bookings",
    "contacts",
    "calendars",
    "live",
    "people",
    "files",
    "workspace",
)
SETTLE = "settle"  # the phase after the last: look again, later
SWEEP_AGAIN_FROM = "doors"
SETTLE_AFTER = timedelta(minutes=30)
MAX_SWEEPS = 5
STEPS_PER_RUN = 400
LEASE = timedelta(minutes=20)
# A deletion whose step failed is due again this much later (when its lease would have
# lapsed): behind the others due, so one that keeps failing never holds up the rest.
RETRY_AFTER = LEASE
DUE_PAGE = 25


class DeletionStatus(StrEnum):
    NONE = "none"
    SCHEDULED = "scheduled"  # in its grace period: an owner may cancel
    DELETING = "deleting"  # due: the schedule is removing it


@dataclass(frozen=True)
class WorkspaceDeletion:
    workspace_id: str
    id: str  # one per request (a new request after a cancel is another deletion)
    status: DeletionStatus
    delete_at: datetime
    requested_by: str  # "user:<id>"
    requested_at: datetime
    next_run_at: datetime  # when the schedule takes it up (delete_at, then as it goes)
    phase: str = PHASES[0]
    cursor: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    people: tuple[str, ...] = ()  # user ids whose sessions and notifications in it go
    sweeps: int = 0
    started_at: datetime | None = None
    lease: str | None = None  # the run holding it
    lease_until: datetime | None = None
    version: int = 0


@dataclass(frozen=True)
class Target:
    """What a phase's step sees of the deletion."""

    workspace_id: str
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class PurgeStep:
    counts: Mapping[str, int] = field(default_factory=dict)  # items and objects removed
    cursor: str | None = None  # None: the phase is finished
    people: tuple[str, ...] = ()  # user ids met (members, authors, hosts, ...)


class PurgePhase(Protocol):
    """One family of the workspace's data.  `step` removes a bounded piece (a page) and says
    whether more is left; it is safe to repeat (what is already gone counts nothing)."""

    name: str

    def step(self, target: Target, cursor: str | None) -> PurgeStep: ...


class Leftovers(Protocol):
    def remaining(self, workspace_id: str) -> list[str]:
        """The families in which something of the workspace is still found (a few reads)."""

    def remove_workspace(self, workspace_id: str) -> None:
        """Deletes the workspace item itself (the last of it)."""


class WorkspaceDeletions(Protocol):
    """The deletion records (adapter: chalicelib/store/workspace_deletion_repo.py)."""

    def get(self, workspace_id: str) -> WorkspaceDeletion | None: ...

    def schedule(self, deletion: WorkspaceDeletion) -> WorkspaceDeletion:
        """Records `deletion` unless the workspace has one: then answers that one as it is."""

    def cancel(self, deletion: WorkspaceDeletion, now: datetime) -> bool:
        """Deletes the record if it is still scheduled and not due at `now`."""

    def due(self, now: datetime, limit: int) -> list[WorkspaceDeletion]:
        """Records whose `next_run_at` is at or before `now`, oldest first (one Query)."""

    def claim(
        self, deletion: WorkspaceDeletion, lease: str, now: datetime
    ) -> WorkspaceDeletion | None:
        """Holds the record for one run (`deleting`, the lease until now + LEASE), if it is
        as read and no other run holds it; None otherwise."""

    def save(self, deletion: WorkspaceDeletion, held_by: str) -> bool:
        """Saves progress if the run `held_by` still holds the record (its lease, which
        `deletion` may release); False otherwise."""

    def forget(self, deletion: WorkspaceDeletion) -> None:
        """Deletes the record (the deletion is over)."""


class DeletionAccounts(MemberDirectory, Protocol):
    def get_workspace(self, workspace_id: str) -> Workspace | None: ...


class OnceMail(Protocol):
    def send_once(self, mail: OutboundMail) -> bool: ...


@dataclass(frozen=True)
class MembersMail:
    """A job: tell every member of the workspace that its deletion `deletion_id` is `kind`
    ("scheduled" or "cancelled").  The owner's request queues it and answers at once; the
    `privacy-jobs` worker mails the members, however many they are (`mail_members`)."""

    workspace_id: str
    deletion_id: str
    kind: str
    actor: str  # who asked: "user:<id>"
    delete_at: datetime


class MembersMailJobs(Protocol):
    def queue(self, job: MembersMail) -> None:
        """Queues the job (adapter: chalicelib/store/workspace_deletion_repo.py, the
        `privacy-jobs` queue)."""


@dataclass(frozen=True)
class DeletionDeps:
    deletions: WorkspaceDeletions
    accounts: DeletionAccounts
    mail: OnceMail
    members_mail: MembersMailJobs
    phases: Sequence[PurgePhase]  # in the order of PHASES
    leftovers: Leftovers
    clock: Clock
    settings_link: str  # where members see the deletion (the web client)


# -- the owner's requests ----------------------------------------------------------------------


def deletion_of(deps: DeletionDeps, workspace_id: str) -> WorkspaceDeletion | None:
    """The workspace's deletion as members see it: `deleting` from the moment it is due
    (it can no longer be cancelled), even before the schedule has taken it up."""
    found = deps.deletions.get(workspace_id)
    if (
        found is not None
        and found.status is DeletionStatus.SCHEDULED
        and found.delete_at <= deps.clock.now()
    ):
        return replace(found, status=DeletionStatus.DELETING)
    return found


def _workspace(deps: DeletionDeps, workspace_id: str) -> Workspace:
    workspace = deps.accounts.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("This workspace no longer exists.", code="workspace_not_found")
    return workspace


def _in_progress() -> Conflict:
    return Conflict(
        "This workspace is being deleted; it can no longer be kept.", code="deletion_in_progress"
    )


def schedule_deletion(
    deps: DeletionDeps, workspace_id: str, actor: str, confirm_slug: str
) -> WorkspaceDeletion:
    """Schedules the workspace's deletion `GRACE` from now, `confirm_slug` being its slug
    (else 422 `confirmation_mismatch`, nothing written; an API key: 403
    `owner_session_required`), and has every member mailed once.  Asked
    again while scheduled: the same deletion (same date), its mails queued again in case a
    first request was cut short (no one is mailed twice).  409 `deletion_in_progress` once it
    is due.  A few reads, the record's write and one queued job, whatever the team's size."""
    if not actor.startswith("user:"):
        raise Forbidden(
            "Only an owner signed in to the workspace can delete it, not an API key.",
            code="owner_session_required",
        )
    workspace = _workspace(deps, workspace_id)
    if confirm_slug != workspace.slug:
        raise ValidationFailed(
            "Type the workspace's slug exactly to confirm its deletion.",
            code="confirmation_mismatch",
        )
    now = deps.clock.now()
    wanted = WorkspaceDeletion(
        workspace_id=workspace_id,
        id=new_id(),
        status=DeletionStatus.SCHEDULED,
        delete_at=now + GRACE,
        requested_by=actor,
        requested_at=now,
        next_run_at=now + GRACE,
    )
    deletion = deps.deletions.schedule(wanted)
    if deletion.status is not DeletionStatus.SCHEDULED or deletion.delete_at <= now:
        raise _in_progress()
    deps.members_mail.queue(_members_mail(deletion, "scheduled", actor))
    return deletion


def cancel_deletion(deps: DeletionDeps, workspace_id: str, actor: str) -> None:
    """Cancels a scheduled deletion while it is not due (409 `not_scheduled` without one,
    409 `deletion_in_progress` once due) and has every member mailed once.  Deletes the
    record; queues one job."""
    _workspace(deps, workspace_id)
    now = deps.clock.now()
    deletion = deps.deletions.get(workspace_id)
    if deletion is None:
        raise Conflict("No deletion of this workspace is scheduled.", code="not_scheduled")
    if deletion.status is not DeletionStatus.SCHEDULED or deletion.delete_at <= now:
        raise _in_progress()
    if not deps.deletions.cancel(deletion, now):
        again = deps.deletions.get(workspace_id)
        if again is None:
            raise Conflict("No deletion of this workspace is scheduled.", code="not_scheduled")
        raise _in_progress()
    deps.members_mail.queue(_members_mail(deletion, "cancelled", actor))


def _members_mail(deletion: WorkspaceDeletion, kind: str, actor: str) -> MembersMail:
    return MembersMail(deletion.workspace_id, deletion.id, kind, actor, deletion.delete_at)


def mail_members(deps: DeletionDeps, job: MembersMail) -> int:
    """The `privacy-jobs` worker's part of a request: mails every member of the workspace
    about its deletion, once per member and mail (a job delivered again, or retried after
    failing halfway, mails only those not yet mailed).  How many were queued now.

    Nothing is sent for a workspace already gone, nor "scheduled" for a deletion that is no
    longer the workspace's (cancelled before the job ran: the members get the cancel's mail
    alone) or is already under way.  Reads the members page by page and each member's user
    (a job, not a request)."""
    if job.kind not in workspace_deletion_mails.KINDS:
        raise ValueError(f"unknown workspace deletion mail {job.kind!r}")
    workspace = deps.accounts.get_workspace(job.workspace_id)
    if workspace is None:
        return 0
    if job.kind == "scheduled":
        current = deletion_of(deps, job.workspace_id)
        if current is None or current.id != job.deletion_id:
            return 0
        if current.status is not DeletionStatus.SCHEDULED:
            return 0  # already being deleted: "it will be deleted on …" would come too late
        deletion = current
    else:
        deletion = WorkspaceDeletion(
            workspace_id=job.workspace_id,
            id=job.deletion_id,
            status=DeletionStatus.NONE,
            delete_at=job.delete_at,
            requested_by=job.actor,
            requested_at=job.delete_at - GRACE,
            next_run_at=job.delete_at,
        )
    return workspace_deletion_mails.send(deps, workspace, deletion, job.kind, job.actor)


# -- the schedule ------------------------------------------------------------------------------


def run_due(
    deps: DeletionDeps,
    now: datetime,
    keep_going: Callable[[], bool] = lambda: True,
    max_steps: int = STEPS_PER_RUN,
) -> dict[str, int]:
    """Works on every deletion due at `now`, at most `max_steps` steps in all; returns how
    many workspaces it worked on, the steps, how many workspaces are now gone and how many
    failed.  A workspace whose step fails is released, due again `RETRY_AFTER` later
    (behind the others due), and the others go on.  Reads the due records; writes them
    after every step; what the phases remove."""
    counts = {"workspaces": 0, "steps": 0, "deleted": 0, "failed": 0}
    for due in deps.deletions.due(now, DUE_PAGE):
        if counts["steps"] >= max_steps or not keep_going():
            break
        claimed = deps.deletions.claim(due, new_id(), now)
        if claimed is None:
            continue  # another run holds it, or it was cancelled meanwhile
        counts["workspaces"] += 1
        try:
            steps, gone = _work(deps, claimed, now, keep_going, max_steps - counts["steps"])
        except Exception:
            counts["failed"] += 1
            logger.exception(
                "a workspace deletion step failed; a later run retries it",
                extra={"workspace_id": claimed.workspace_id},
            )
            _put_back(deps, claimed, now)
            continue
        counts["steps"] += steps
        counts["deleted"] += gone
    return counts


def _put_back(deps: DeletionDeps, claimed: WorkspaceDeletion, now: datetime) -> None:
    """Releases a deletion whose step failed, due again RETRY_AFTER from now (the record as
    its last step saved it; nothing when another run holds it now)."""
    try:
        latest = deps.deletions.get(claimed.workspace_id)
        if latest is not None and latest.lease == claimed.lease:
            released = replace(latest, lease=None, lease_until=None, next_run_at=now + RETRY_AFTER)
            _save(deps, released, claimed.lease or "")
    except Exception:
        logger.exception(
            "a failed workspace deletion could not be put back; its lease lapses",
            extra={"workspace_id": claimed.workspace_id},
        )


def _added(counts: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    total = dict(counts)
    for name, value in more.items():
        if value:
            total[name] = total.get(name, 0) + value
    return total


def _save(deps: DeletionDeps, deletion: WorkspaceDeletion, held_by: str) -> WorkspaceDeletion:
    """The deletion as saved (its version moved on); with no lease when another run holds
    the record now (nothing was saved)."""
    saved = replace(deletion, version=deletion.version + 1)
    if deps.deletions.save(saved, held_by):
        return saved
    return replace(deletion, lease=None)


def _work(
    deps: DeletionDeps,
    deletion: WorkspaceDeletion,
    now: datetime,
    keep_going: Callable[[], bool],
    budget: int,
) -> tuple[int, int]:
    """(steps done, 1 when the workspace is gone).  Saves after every step."""
    by_name = {phase.name: phase for phase in deps.phases}
    held_by = deletion.lease or ""
    steps = 0
    while True:
        if deletion.phase == SETTLE:
            left = deps.leftovers.remaining(deletion.workspace_id)
            if not left or deletion.sweeps >= MAX_SWEEPS:
                if left:
                    logger.warning(
                        "a deleted workspace left data behind after every sweep",
                        extra={"workspace_id": deletion.workspace_id, "families": left},
                    )
                deps.leftovers.remove_workspace(deletion.workspace_id)
                deps.deletions.forget(deletion)
                logger.info(
                    "workspace deleted",
                    extra={"workspace_id": deletion.workspace_id, **deletion.counts},
                )
                return steps, 1
            deletion = replace(
                deletion, phase=SWEEP_AGAIN_FROM, cursor=None, sweeps=deletion.sweeps + 1
            )
        if steps >= budget or not keep_going():
            # Due at once: the next run carries on where this one stopped.
            released = replace(deletion, lease=None, lease_until=None, next_run_at=now)
            _save(deps, released, held_by)
            return steps, 0
        phase = by_name[deletion.phase]
        done = phase.step(Target(deletion.workspace_id, deletion.people), deletion.cursor)
        steps += 1
        people = deletion.people + tuple(
            p for p in dict.fromkeys(done.people) if p not in deletion.people
        )
        deletion = replace(deletion, counts=_added(deletion.counts, done.counts), people=people)
        if done.cursor is not None:
            deletion = replace(deletion, cursor=done.cursor)
        else:
            position = PHASES.index(deletion.phase) + 1
            if position < len(PHASES):
                deletion = replace(deletion, phase=PHASES[position], cursor=None)
            else:
                # Swept: look again once whatever was on its way has landed.
                settled = replace(
                    deletion,
                    phase=SETTLE,
                    cursor=None,
                    lease=None,
                    lease_until=None,
                    next_run_at=now + SETTLE_AFTER,
                )
                _save(deps, settled, held_by)
                return steps, 0
        deletion = _save(deps, deletion, held_by)
        if deletion.lease != held_by:
            return steps, 0  # another run took it over (this one's lease lapsed)
