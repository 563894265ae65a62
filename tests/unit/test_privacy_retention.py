"""Retention of closed tickets (chalicelib/privacy/retention.py) against in-memory fakes: the
cut-off across month ends, which tickets go, the run's budget and the next run carrying on,
the workspaces in turn, and each workspace's recorded outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.privacy.retention import (
    MAX_FAILURES_PER_WORKSPACE,
    TICKETS_PER_WORKSPACE,
    apply_retention,
    cutoff,
    months_before,
    policy_of,
    set_policy,
)
from chalicelib.tickets.model import TicketStatus
from tests.billing_fakes import FakeClock
from tests.deletion_fakes import FakePolicies, FakeTickets, retention_deps

NOW = datetime(2027, 3, 31, 10, 30, tzinfo=UTC)
WS_A = "01HWORKSPACEA0000000000001"
WS_B = "01HWORKSPACEB0000000000001"
WS_C = "01HWORKSPACEC0000000000001"


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2027, 3, 31, 10, 30, tzinfo=UTC), 1, datetime(2027, 2, 28, 10, 30, tzinfo=UTC)),
        (datetime(2028, 3, 31, 10, 30, tzinfo=UTC), 1, datetime(2028, 2, 29, 10, 30, tzinfo=UTC)),
        (datetime(2027, 1, 31, 0, 0, tzinfo=UTC), 1, datetime(2026, 12, 31, 0, 0, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), 12, datetime(2027, 2, 28, 12, 0, tzinfo=UTC)),
        (datetime(2027, 5, 31, 23, 59, tzinfo=UTC), 3, datetime(2027, 2, 28, 23, 59, tzinfo=UTC)),
        (datetime(2027, 3, 15, 8, 0, tzinfo=UTC), 120, datetime(2017, 3, 15, 8, 0, tzinfo=UTC)),
        (datetime(2027, 12, 31, 8, 0, tzinfo=UTC), 11, datetime(2027, 1, 31, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_cut_off_is_the_same_day_months_earlier_or_that_months_last_day(
    moment, months, expected
):
    assert months_before(moment, months) == expected


def _world(*workspaces_months: tuple[str, int | None]) -> tuple[FakePolicies, FakeTickets]:
    policies, tickets = FakePolicies(), FakeTickets()
    deps = retention_deps(policies, tickets, FakeClock(NOW))
    for workspace_id, months in workspaces_months:
        set_policy(deps, workspace_id, "user:01HOWNER", months)
    return policies, tickets


def test_closed_and_solved_tickets_older_than_the_rule_go_and_every_other_ticket_stays():
    policies, tickets = _world((WS_A, 12))
    limit = cutoff(12, NOW)
    old_solved = tickets.add(WS_A, TicketStatus.SOLVED, limit - timedelta(seconds=1))
    old_closed = tickets.add(WS_A, TicketStatus.CLOSED, limit - timedelta(days=400))
    on_the_line = tickets.add(WS_A, TicketStatus.CLOSED, limit)
    recent = tickets.add(WS_A, TicketStatus.SOLVED, limit + timedelta(days=1))
    old_open = tickets.add(WS_A, TicketStatus.OPEN, limit - timedelta(days=90))
    old_pending = tickets.add(WS_A, TicketStatus.PENDING, limit - timedelta(days=90))
    others = tickets.add(WS_B, TicketStatus.CLOSED, limit - timedelta(days=90))

    counts = apply_retention(retention_deps(policies, tickets), NOW)

    assert counts == {"workspaces": 1, "tickets": 2, "unfinished": 0, "failed": 0}
    assert {t.id for t in tickets.of(WS_A)} == {
        on_the_line.id,
        recent.id,
        old_open.id,
        old_pending.id,
    }
    assert {t for _, t in tickets.removed} == {old_solved.id, old_closed.id}
    assert tickets.of(WS_B) == [others]  # no rule: kept forever


def test_a_ticket_reopened_since_its_view_was_written_is_kept():
    policies, tickets = _world((WS_A, 1))
    reopened = tickets.add(WS_A, TicketStatus.OPEN, NOW - timedelta(minutes=1))
    reopened.view_status = TicketStatus.SOLVED  # the view lags behind
    reopened.view_activity = NOW - timedelta(days=90)
    answered = tickets.add(WS_A, TicketStatus.SOLVED, NOW - timedelta(minutes=1))
    answered.view_activity = NOW - timedelta(days=90)

    counts = apply_retention(retention_deps(policies, tickets), NOW)

    assert counts["tickets"] == 0
    assert len(tickets.of(WS_A)) == 2


def test_keep_forever_removes_nothing_and_leaves_the_schedules_list():
    policies, tickets = _world((WS_A, 6))
    tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=400))
    deps = retention_deps(policies, tickets, FakeClock(NOW))
    set_policy(deps, WS_A, "user:01HOWNER", None)

    assert apply_retention(deps, NOW) == {
        "workspaces": 0,
        "tickets": 0,
        "unfinished": 0,
        "failed": 0,
    }
    assert policy_of(deps, WS_A).closed_tickets_after_months is None
    assert len(tickets.of(WS_A)) == 1


@pytest.mark.parametrize("months", [0, -1, 121, 1000, True])
def test_months_outside_one_to_a_hundred_and_twenty_are_refused_and_nothing_changes(months):
    policies, tickets = _world((WS_A, 24))
    deps = retention_deps(policies, tickets, FakeClock(NOW))

    with pytest.raises(ValidationFailed):
        set_policy(deps, WS_A, "user:01HOTHER", months)

    policy = policy_of(deps, WS_A)
    assert (policy.closed_tickets_after_months, policy.updated_by) == (24, "user:01HOWNER")


def test_the_rule_says_who_set_it_and_when():
    policies, tickets = _world()
    deps = retention_deps(policies, tickets, FakeClock(NOW))
    assert policy_of(deps, WS_A).closed_tickets_after_months is None

    saved = set_policy(deps, WS_A, "user:01HADMIN", 120)

    assert (saved.closed_tickets_after_months, saved.updated_by, saved.updated_at) == (
        120,
        "user:01HADMIN",
        NOW,
    )


def test_a_run_stops_at_its_budget_and_the_next_run_carries_on():
    policies, tickets = _world((WS_A, 1))
    for days in range(7):
        tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=60 + days))
    deps = retention_deps(policies, tickets)

    first = apply_retention(deps, NOW, budget=3)
    second = apply_retention(deps, NOW + timedelta(hours=1), budget=3)
    third = apply_retention(deps, NOW + timedelta(hours=2), budget=3)

    assert [first["tickets"], second["tickets"], third["tickets"]] == [3, 3, 1]
    assert [first["unfinished"], second["unfinished"], third["unfinished"]] == [1, 1, 0]
    assert tickets.of(WS_A) == []
    # The oldest go first.
    assert [t for _, t in tickets.removed][:3] == ["T00007", "T00006", "T00005"]


def test_a_run_whose_time_is_up_stops_and_the_next_takes_that_workspace_first():
    policies, tickets = _world((WS_A, 1), (WS_B, 1))
    for workspace_id in (WS_A, WS_B):
        for days in range(3):
            tickets.add(workspace_id, TicketStatus.SOLVED, NOW - timedelta(days=60 + days))
    deps = retention_deps(policies, tickets)
    answers = iter([True, True, False])

    first = apply_retention(deps, NOW, keep_going=lambda: next(answers, False))
    assert first["tickets"] < 6 and first["unfinished"] == 1
    second = apply_retention(deps, NOW + timedelta(hours=1))

    assert first["tickets"] + second["tickets"] == 6
    assert tickets.of(WS_A) == [] and tickets.of(WS_B) == []


def test_workspaces_take_turns_when_the_budget_runs_out():
    policies, tickets = _world((WS_A, 1), (WS_B, 1), (WS_C, 1))
    for workspace_id in (WS_A, WS_B, WS_C):
        for days in range(2):
            tickets.add(workspace_id, TicketStatus.CLOSED, NOW - timedelta(days=60 + days))
    deps = retention_deps(policies, tickets)

    apply_retention(deps, NOW, budget=3)  # A whole, B half: B is taken first next time
    assert (len(tickets.of(WS_A)), len(tickets.of(WS_B)), len(tickets.of(WS_C))) == (0, 1, 2)
    apply_retention(deps, NOW + timedelta(hours=1), budget=3)

    assert (len(tickets.of(WS_A)), len(tickets.of(WS_B)), len(tickets.of(WS_C))) == (0, 0, 0)


def test_one_large_workspace_does_not_keep_the_others_waiting():
    policies, tickets = _world((WS_A, 1), (WS_B, 1))
    for days in range(TICKETS_PER_WORKSPACE + 5):
        tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=60, minutes=days))
    theirs = tickets.add(WS_B, TicketStatus.CLOSED, NOW - timedelta(days=60))

    counts = apply_retention(retention_deps(policies, tickets), NOW)

    assert counts == {
        "workspaces": 2,
        "tickets": TICKETS_PER_WORKSPACE + 1,
        "unfinished": 1,
        "failed": 0,
    }
    assert theirs not in tickets.of(WS_B) and len(tickets.of(WS_A)) == 5


def test_each_workspaces_outcome_is_recorded_for_its_policy_screen():
    policies, tickets = _world((WS_A, 3), (WS_B, 3))
    tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=200))
    tickets.add(WS_A, TicketStatus.SOLVED, NOW - timedelta(days=200))
    deps = retention_deps(policies, tickets)

    apply_retention(deps, NOW)
    later = NOW + timedelta(hours=1)
    apply_retention(deps, later)

    a, b = policy_of(deps, WS_A), policy_of(deps, WS_B)
    assert (a.last_applied_at, a.last_removed, a.removed_total) == (later, 0, 2)
    assert (b.last_applied_at, b.last_removed, b.removed_total) == (later, 0, 0)
    assert (WS_A, NOW, 2) in policies.runs


def test_a_run_repeated_at_the_same_time_removes_nothing_more():
    policies, tickets = _world((WS_A, 1))
    tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=90))
    deps = retention_deps(policies, tickets)

    assert apply_retention(deps, NOW)["tickets"] == 1
    assert apply_retention(deps, NOW)["tickets"] == 0


def test_a_ticket_that_cannot_be_removed_holds_up_neither_its_workspace_nor_the_others():
    policies, tickets = _world((WS_A, 1), (WS_B, 1))
    stuck = tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=90))  # first in line
    tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=60))
    tickets.add(WS_B, TicketStatus.SOLVED, NOW - timedelta(days=60))
    tickets.failing.add(stuck.id)
    deps = retention_deps(policies, tickets)

    counts = apply_retention(deps, NOW)

    assert counts == {"workspaces": 2, "tickets": 2, "unfinished": 0, "failed": 1}
    assert tickets.of(WS_A) == [stuck] and tickets.of(WS_B) == []
    tickets.failing.clear()  # the next run tries it again
    assert apply_retention(deps, NOW + timedelta(hours=1))["tickets"] == 1
    assert tickets.of(WS_A) == []


def test_a_workspace_whose_tickets_cannot_be_read_does_not_stop_the_run_nor_the_next():
    policies, tickets = _world((WS_A, 1), (WS_B, 1), (WS_C, 1))
    for workspace_id in (WS_A, WS_B, WS_C):
        tickets.add(workspace_id, TicketStatus.CLOSED, NOW - timedelta(days=60))
    tickets.unreadable.add(WS_A)
    deps = retention_deps(policies, tickets)

    first = apply_retention(deps, NOW)
    second = apply_retention(deps, NOW + timedelta(hours=1))

    assert (first["tickets"], first["failed"]) == (2, 1)
    assert (second["tickets"], second["failed"]) == (0, 1)
    assert tickets.of(WS_B) == [] and tickets.of(WS_C) == [] and len(tickets.of(WS_A)) == 1
    # Its failed run is not recorded as a run that removed nothing.
    assert policy_of(deps, WS_A).last_applied_at is None


def test_one_failing_removal_after_another_ends_that_workspaces_turn_early():
    policies, tickets = _world((WS_A, 1), (WS_B, 1))
    for days in range(20):
        ticket = tickets.add(WS_A, TicketStatus.CLOSED, NOW - timedelta(days=60 + days))
        tickets.failing.add(ticket.id)
    theirs = tickets.add(WS_B, TicketStatus.CLOSED, NOW - timedelta(days=60))

    counts = apply_retention(retention_deps(policies, tickets), NOW)

    assert counts["failed"] == MAX_FAILURES_PER_WORKSPACE and counts["unfinished"] == 1
    assert theirs not in tickets.of(WS_B)
