"""In-memory fakes of the retention and workspace-deletion ports (chalicelib/privacy/
retention.py, workspace_deletion.py) for the unit tests, over the accounts and outbox fakes
of tests/billing_fakes.py.

    world = DeletionWorld()                  # workspace WS ("acme-support"), owner, two agents
    schedule_deletion(world.deps(), WS, OWNER_ACTOR, "acme-support")
    world.mails("scheduled")                 # runs the queued members' mail jobs first
    world.clock.moment += GRACE
    run_due(world.deps(), world.clock.now())
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.accounts.model import Role
from chalicelib.privacy.retention import (
    ClosedTicketPage,
    RetentionDeps,
    RetentionPolicy,
)
from chalicelib.privacy.workspace_deletion import (
    LEASE,
    PHASES,
    DeletionDeps,
    DeletionStatus,
    MembersMail,
    PurgeStep,
    Target,
    WorkspaceDeletion,
    mail_members,
)
from chalicelib.tickets.model import TicketStatus
from tests.billing_fakes import NOW, OWNER, WS, FakeAccounts, FakeClock, FakeOutbox

OWNER_ACTOR = f"user:{OWNER}"
AGENT_EN = "01HUSERAGENTEN000000000001"
AGENT_FR = "01HUSERAGENTFR000000000001"
SETTINGS_LINK = "https://app.helptal.test/#/settings"


# -- retention -----------------------------------------------------------------------------


class FakePolicies:
    def __init__(self) -> None:
        self.policies: dict[str, RetentionPolicy] = {}
        self.cursor: str | None = None
        self.runs: list[tuple[str, datetime, int]] = []

    def get(self, workspace_id: str) -> RetentionPolicy | None:
        return self.policies.get(workspace_id)

    def save_rule(self, policy: RetentionPolicy) -> RetentionPolicy:
        current = self.policies.get(policy.workspace_id) or RetentionPolicy(policy.workspace_id)
        saved = replace(
            current,
            closed_tickets_after_months=policy.closed_tickets_after_months,
            updated_at=policy.updated_at,
            updated_by=policy.updated_by,
        )
        self.policies[policy.workspace_id] = saved
        return saved

    def with_rule(self, after: str | None, limit: int) -> list[RetentionPolicy]:
        ruled = sorted(
            (p for p in self.policies.values() if p.closed_tickets_after_months is not None),
            key=lambda p: p.workspace_id,
        )
        return [p for p in ruled if after is None or p.workspace_id > after][:limit]

    def record_run(self, workspace_id: str, at: datetime, removed: int) -> None:
        self.runs.append((workspace_id, at, removed))
        current = self.policies.get(workspace_id)
        if current is not None:
            self.policies[workspace_id] = replace(
                current,
                last_applied_at=at,
                last_removed=removed,
                removed_total=current.removed_total + removed,
            )

    def run_cursor(self) -> str | None:
        return self.cursor

    def save_run_cursor(self, workspace_id: str) -> None:
        self.cursor = workspace_id


@dataclass
class StoredTicket:
    workspace_id: str
    id: str
    status: TicketStatus
    last_activity_at: datetime
    # What the status view says (it lags behind the ticket): None = as the ticket is.
    view_status: TicketStatus | None = None
    view_activity: datetime | None = None


class RemovalFailed(Exception):
    """A removal that fails (a throttled table, a file the bucket refuses to delete)."""


class FakeTickets:
    """Tickets and their status views, and the one removal of a ticket.  `failing`: the
    tickets whose removal raises; `unreadable`: the workspaces whose status views raise."""

    def __init__(self) -> None:
        self.tickets: dict[tuple[str, str], StoredTicket] = {}
        self.removed: list[tuple[str, str]] = []
        self.failing: set[str] = set()
        self.unreadable: set[str] = set()
        self._ids = itertools.count(1)

    def add(
        self, workspace_id: str, status: TicketStatus, last_activity_at: datetime
    ) -> StoredTicket:
        ticket = StoredTicket(workspace_id, f"T{next(self._ids):05d}", status, last_activity_at)
        self.tickets[(workspace_id, ticket.id)] = ticket
        return ticket

    def inactive(
        self,
        workspace_id: str,
        status: TicketStatus,
        before: datetime,
        after: str | None,
        limit: int,
    ) -> ClosedTicketPage:
        if workspace_id in self.unreadable:
            raise RemovalFailed(f"the status view of {workspace_id} cannot be read")
        view = sorted(
            (
                (t.view_activity or t.last_activity_at, t.id)
                for t in self.tickets.values()
                if t.workspace_id == workspace_id
                and (t.view_status or t.status) is status
                and (t.view_activity or t.last_activity_at) < before
            ),
        )
        start = [f"{a.isoformat()}#{i}" for a, i in view]
        if after is not None:
            view = [v for v, key in zip(view, start, strict=True) if key > after]
        page = view[:limit]
        more = len(view) > limit
        return ClosedTicketPage(
            [i for _, i in page], f"{page[-1][0].isoformat()}#{page[-1][1]}" if more else None
        )

    def still_inactive(self, workspace_id: str, ticket_id: str, before: datetime) -> bool:
        ticket = self.tickets.get((workspace_id, ticket_id))
        return (
            ticket is not None
            and ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED)
            and ticket.last_activity_at < before
        )

    def remove(
        self, workspace_id: str, ticket_id: str, *, only_if: Any = None
    ) -> Mapping[str, int]:
        if ticket_id in self.failing:
            raise RemovalFailed(ticket_id)
        ticket = self.tickets.get((workspace_id, ticket_id))
        if ticket is None or (only_if is not None and not only_if(ticket)):
            return {}
        del self.tickets[(workspace_id, ticket_id)]
        self.removed.append((workspace_id, ticket_id))
        return {"tickets": 1, "messages": 2}

    def of(self, workspace_id: str) -> list[StoredTicket]:
        return [t for t in self.tickets.values() if t.workspace_id == workspace_id]


def retention_deps(
    policies: FakePolicies, tickets: FakeTickets, clock: FakeClock | None = None
) -> RetentionDeps:
    return RetentionDeps(
        policies=policies, tickets=tickets, remover=tickets, clock=clock or FakeClock()
    )


# -- workspace deletion --------------------------------------------------------------------


class FakeDeletions:
    """The records, with the conditions of the DynamoDB adapter."""

    def __init__(self) -> None:
        self.records: dict[str, WorkspaceDeletion] = {}

    def get(self, workspace_id: str) -> WorkspaceDeletion | None:
        return self.records.get(workspace_id)

    def schedule(self, deletion: WorkspaceDeletion) -> WorkspaceDeletion:
        return self.records.setdefault(deletion.workspace_id, deletion)

    def cancel(self, deletion: WorkspaceDeletion, now: datetime) -> bool:
        current = self.records.get(deletion.workspace_id)
        if (
            current is None
            or current.id != deletion.id
            or current.status is not DeletionStatus.SCHEDULED
            or current.delete_at <= now
        ):
            return False
        del self.records[deletion.workspace_id]
        return True

    def due(self, now: datetime, limit: int) -> list[WorkspaceDeletion]:
        due = sorted(
            (d for d in self.records.values() if d.next_run_at <= now),
            key=lambda d: (d.next_run_at, d.workspace_id),
        )
        return due[:limit]

    def claim(
        self, deletion: WorkspaceDeletion, lease: str, now: datetime
    ) -> WorkspaceDeletion | None:
        current = self.records.get(deletion.workspace_id)
        if (
            current is None
            or current.version != deletion.version
            or current.next_run_at > now
            or (current.lease_until is not None and current.lease_until > now)
        ):
            return None
        held = replace(
            current,
            status=DeletionStatus.DELETING,
            started_at=current.started_at or now,
            lease=lease,
            lease_until=now + LEASE,
            version=current.version + 1,
        )
        self.records[deletion.workspace_id] = held
        return held

    def save(self, deletion: WorkspaceDeletion, held_by: str) -> bool:
        current = self.records.get(deletion.workspace_id)
        if current is None or current.lease != held_by:
            return False
        self.records[deletion.workspace_id] = deletion
        return True

    def forget(self, deletion: WorkspaceDeletion) -> None:
        self.records.pop(deletion.workspace_id, None)


class Crash(Exception):
    """A run that dies in the middle of a step."""


@dataclass
class FakeData:
    """What is left of each workspace's families: items per phase name."""

    items: dict[tuple[str, str], int] = field(default_factory=dict)
    workspaces: set[str] = field(default_factory=set)
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    crash_at: int | None = None  # the call number that crashes (once)


class FakePhase:
    """Removes up to `per_step` of its family's items a step; repeats count nothing."""

    def __init__(self, name: str, data: FakeData, per_step: int = 2) -> None:
        self.name = name
        self._data = data
        self._per_step = per_step

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        data = self._data
        data.calls.append((self.name, cursor))
        if data.crash_at is not None and len(data.calls) == data.crash_at:
            data.crash_at = None
            raise Crash(self.name)
        key = (target.workspace_id, self.name)
        left = data.items.get(key, 0)
        removed = min(left, self._per_step)
        data.items[key] = left - removed
        people = (f"user-of-{self.name}",) if self.name in ("members", "tickets") else ()
        more = data.items[key] > 0
        return PurgeStep(
            {self.name: removed},
            cursor=str(int(cursor or 0) + 1) if more else None,
            people=people,
        )


class FakeLeftovers:
    def __init__(self, data: FakeData) -> None:
        self._data = data

    def remaining(self, workspace_id: str) -> list[str]:
        return sorted(
            name for (ws, name), left in self._data.items.items() if ws == workspace_id and left
        )

    def remove_workspace(self, workspace_id: str) -> None:
        self._data.workspaces.discard(workspace_id)


class FakeMembersMailJobs:
    """The `privacy-jobs` queue of the members' mail jobs: what the requests queued."""

    def __init__(self) -> None:
        self.queued: list[MembersMail] = []

    def queue(self, job: MembersMail) -> None:
        self.queued.append(job)


class DeletionWorld:
    def __init__(self) -> None:
        self.clock = FakeClock(NOW)
        self.accounts = FakeAccounts()
        self.accounts.add_workspace(WS)
        self.accounts.add_member(WS, OWNER, role=Role.OWNER, name="Ann Owner", email="ann@a.test")
        self.accounts.add_member(WS, AGENT_EN, name="Bob Agent", email="bob@a.test")
        self.accounts.add_member(
            WS, AGENT_FR, name="Chloé Agent", email="chloe@a.test", locale="fr"
        )
        self.outbox = FakeOutbox()
        self.members_mail = FakeMembersMailJobs()
        self.deletions = FakeDeletions()
        self.data = FakeData(workspaces={WS})
        for name in PHASES:
            self.data.items[(WS, name)] = 3
        self.phases = [FakePhase(name, self.data) for name in PHASES]

    def deps(self) -> DeletionDeps:
        return DeletionDeps(
            deletions=self.deletions,
            accounts=self.accounts,
            mail=self.outbox,
            members_mail=self.members_mail,
            phases=self.phases,
            leftovers=FakeLeftovers(self.data),
            clock=self.clock,
            settings_link=SETTINGS_LINK,
        )

    def run_mail_jobs(self) -> int:
        """The worker takes the queued members' mail jobs, in order; how many mails it
        queued."""
        jobs, self.members_mail.queued = self.members_mail.queued, []
        return sum(mail_members(self.deps(), job) for job in jobs)

    def mails(self, kind: str) -> dict[str, tuple[str, str]]:
        """Address -> (subject, text) of the mails of `kind` queued (the queued jobs run
        first)."""
        self.run_mail_jobs()
        return {
            mail.to[0]: (mail.subject, mail.text)
            for mail in self.outbox.by_id.values()
            if f":{kind}:" in mail.mail_id
        }
