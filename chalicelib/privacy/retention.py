"""Retention of closed tickets: a workspace's owners and admins may have its solved and closed
tickets removed N months (1 to 120) after their last activity; none (null) keeps them
forever.  An hourly schedule applies every workspace's rule, "now" being the event's time.

Finding the work never scans: the workspaces with a rule are a sparse view (only a policy
with a number is in it), and a workspace's old closed tickets are the head of its status
views (`solved`, `closed`), which are sorted by last activity, read oldest first up to the
cut-off.  Each ticket is read again (consistently) before it goes, so a ticket reopened or
answered since the view was written stays.  Removal is the one ticket removal of the
product (`TicketRemover`: the ticket whole, its files, postings and side items).

A run is bounded (`TICKETS_PER_RUN`, `TICKETS_PER_WORKSPACE`, and the time left): the
workspaces are taken in turn from where the previous run stopped, so the next run carries on
and no workspace waits behind a large one.  A ticket whose removal fails is left for the next
run and the others go on (`MAX_FAILURES_PER_WORKSPACE` failures end that workspace's turn);
a workspace whose tickets cannot be read is passed over: neither holds up the others.  Each
workspace's outcome (when the rule was last applied, how many tickets that removed) is
recorded for its policy screen."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from chalicelib.clock import Clock
from chalicelib.errors import ValidationFailed
from chalicelib.observability import logger
from chalicelib.tickets.model import Ticket, TicketStatus

MIN_MONTHS = 1
MAX_MONTHS = 120
# What "closed" means for retention: the team is done with the ticket.
CLOSED_STATUSES: tuple[TicketStatus, ...] = (TicketStatus.SOLVED, TicketStatus.CLOSED)
TICKETS_PER_RUN = 2000
TICKETS_PER_WORKSPACE = 500
TICKETS_PAGE = 50
POLICIES_PAGE = 100
# Removals failing in one workspace's turn: more would only repeat an outage; the turn ends.
MAX_FAILURES_PER_WORKSPACE = 3


@dataclass(frozen=True)
class RetentionPolicy:
    workspace_id: str
    closed_tickets_after_months: int | None = None  # None: kept forever
    updated_at: datetime | None = None
    updated_by: str | None = None  # "user:<id>" or "api_key:<id>"
    last_applied_at: datetime | None = None  # the last run that applied the rule
    last_removed: int = 0  # tickets that run removed
    removed_total: int = 0


@dataclass(frozen=True)
class ClosedTicketPage:
    ticket_ids: list[str]
    next: str | None  # where the view goes on (None: nothing older than the cut-off is left)


# -- ports (adapters: chalicelib/store/retention_repo.py, store/ticket_removal.py) --------------


class RetentionPolicies(Protocol):
    def get(self, workspace_id: str) -> RetentionPolicy | None: ...

    def save_rule(self, policy: RetentionPolicy) -> RetentionPolicy:
        """Writes the rule (months, who, when), keeping the recorded runs; a workspace with
        a number of months is in the view of workspaces with a rule, one without is not."""

    def with_rule(self, after: str | None, limit: int) -> list[RetentionPolicy]:
        """Policies with a number of months, by workspace id, after `after` (one Query)."""

    def record_run(self, workspace_id: str, at: datetime, removed: int) -> None:
        """Records that the rule was applied at `at` and removed `removed` tickets."""

    def run_cursor(self) -> str | None:
        """The workspace the last run handled last (the next starts after it)."""

    def save_run_cursor(self, workspace_id: str) -> None: ...


class ClosedTickets(Protocol):
    def inactive(
        self,
        workspace_id: str,
        status: TicketStatus,
        before: datetime,
        after: str | None,
        limit: int,
    ) -> ClosedTicketPage:
        """Tickets of the status view whose last activity is before `before`, oldest first,
        from `after` on (one Query of the view: it may lag a moment behind the tickets)."""

    def still_inactive(self, workspace_id: str, ticket_id: str, before: datetime) -> bool:
        """The ticket, read consistently, is still solved or closed with no activity since
        `before`."""


class TicketRemover(Protocol):
    def remove(
        self,
        workspace_id: str,
        ticket_id: str,
        *,
        only_if: Callable[[Ticket], bool] | None = None,
    ) -> Mapping[str, int]:
        """Removes the ticket whole while `only_if` holds for it (idempotent: a ticket
        already gone counts nothing); counts by class of data (`tickets`, `messages`, ...)."""


@dataclass(frozen=True)
class RetentionDeps:
    policies: RetentionPolicies
    tickets: ClosedTickets
    remover: TicketRemover
    clock: Clock


# -- the rule ------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier; a day the earlier month does
    not have becomes its last day (31 March, one month back: 28 or 29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def cutoff(months: int, now: datetime) -> datetime:
    """Closed tickets whose last activity is before this moment are removed."""
    return months_before(now, months)


def check_months(months: int | None) -> int | None:
    if months is None:
        return None
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValidationFailed("The number of months must be a whole number.", code="bad_months")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationFailed(
            f"Closed tickets can be kept from {MIN_MONTHS} to {MAX_MONTHS} months, or forever "
            "(null).",
            code="months_out_of_range",
        )
    return months


def policy_of(deps: RetentionDeps, workspace_id: str) -> RetentionPolicy:
    """The workspace's policy (one that keeps everything when none was set)."""
    return deps.policies.get(workspace_id) or RetentionPolicy(workspace_id)


def set_policy(
    deps: RetentionDeps, workspace_id: str, actor: str, months: int | None
) -> RetentionPolicy:
    """Sets how many months closed tickets are kept (None: forever).  422 outside 1 to 120.
    Writes the policy; removes nothing now (the schedule does)."""
    checked = check_months(months)
    current = policy_of(deps, workspace_id)
    wanted = replace(
        current,
        closed_tickets_after_months=checked,
        updated_at=deps.clock.now(),
        updated_by=actor,
    )
    return deps.policies.save_rule(wanted)


# -- the schedule --------------------------------------------------------------------------


def _in_turn(policies: RetentionPolicies, origin: str | None) -> Iterator[RetentionPolicy]:
    """Every workspace with a rule once: those after `origin`, then from the first up to and
    including `origin`."""
    for start, stop in ((origin, None), (None, origin)) if origin else ((None, None),):
        after = start
        while True:
            page = policies.with_rule(after, POLICIES_PAGE)
            for policy in page:
                if stop is not None and policy.workspace_id > stop:
                    return
                yield policy
            if len(page) < POLICIES_PAGE:
                break
            after = page[-1].workspace_id


def _apply_one(
    deps: RetentionDeps,
    policy: RetentionPolicy,
    now: datetime,
    limit: int,
    keep_going: Callable[[], bool],
) -> tuple[int, bool, int]:
    """(tickets removed, whether old closed tickets remain for a later run, removals that
    failed: those tickets stay for the next run)."""
    months = policy.closed_tickets_after_months
    if months is None:
        return 0, False, 0
    before = cutoff(months, now)
    removed = failed = 0
    for status in CLOSED_STATUSES:
        after: str | None = None
        while True:
            if removed >= limit or not keep_going():
                return removed, True, failed
            page = deps.tickets.inactive(
                policy.workspace_id, status, before, after, min(TICKETS_PAGE, limit - removed)
            )
            for ticket_id in page.ticket_ids:
                if not keep_going():
                    return removed, True, failed
                try:
                    if deps.tickets.still_inactive(policy.workspace_id, ticket_id, before):
                        counts = deps.remover.remove(
                            policy.workspace_id,
                            ticket_id,
                            only_if=lambda t: (
                                t.status in CLOSED_STATUSES and t.last_activity_at < before
                            ),
                        )
                        removed += counts.get("tickets", 0)
                except Exception:
                    failed += 1
                    logger.exception(
                        "a closed ticket was not removed; the next run retries it",
                        extra={"workspace_id": policy.workspace_id, "ticket_id": ticket_id},
                    )
                    if failed >= MAX_FAILURES_PER_WORKSPACE:
                        return removed, True, failed
            if page.next is None:
                break
            after = page.next
    return removed, False, failed


def apply_retention(
    deps: RetentionDeps,
    now: datetime,
    keep_going: Callable[[], bool] = lambda: True,
    budget: int = TICKETS_PER_RUN,
) -> dict[str, int]:
    """Applies every workspace's rule at `now`, removing at most `budget` tickets in all and
    `TICKETS_PER_WORKSPACE` per workspace, starting after the workspace the previous run
    handled last; records each workspace's outcome.  A ticket or a workspace that fails is
    logged, counted (`failed`) and left for the next run; the others go on.  Reads the view
    of workspaces with a rule and their status views; removes tickets; writes each policy's
    run and the run cursor."""
    counts = {"workspaces": 0, "tickets": 0, "unfinished": 0, "failed": 0}
    origin = deps.policies.run_cursor()
    for policy in _in_turn(deps.policies, origin):
        remaining = budget - counts["tickets"]
        if remaining <= 0 or not keep_going():
            break
        try:
            removed, more, failed = _apply_one(
                deps, policy, now, min(remaining, TICKETS_PER_WORKSPACE), keep_going
            )
        except Exception:
            counts["failed"] += 1
            logger.exception(
                "retention of a workspace failed; its next turn retries it",
                extra={"workspace_id": policy.workspace_id},
            )
            deps.policies.save_run_cursor(policy.workspace_id)
            continue
        deps.policies.record_run(policy.workspace_id, now, removed)
        counts["workspaces"] += 1
        counts["tickets"] += removed
        counts["unfinished"] += more
        counts["failed"] += failed
        if more and (counts["tickets"] >= budget or not keep_going()):
            break  # the run is over: the next one starts with this workspace again
        deps.policies.save_run_cursor(policy.workspace_id)
    return counts
