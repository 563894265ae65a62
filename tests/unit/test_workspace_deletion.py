"""Workspace deletion (chalicelib/privacy/workspace_deletion.py) against in-memory fakes: the
owner's confirmation, the grace period and its mails, cancelling, and the schedule's run:
nothing before it is due, every family removed in order, a bounded run and the next one
carrying on, a crash and a rerun, two runs at once, and the settling look that sweeps again
what was written after the sweep."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.privacy.workspace_deletion import (
    GRACE,
    MAX_SWEEPS,
    PHASES,
    RETRY_AFTER,
    SETTLE,
    SETTLE_AFTER,
    DeletionStatus,
    WorkspaceDeletion,
    cancel_deletion,
    deletion_of,
    mail_members,
    run_due,
    schedule_deletion,
)
from tests.billing_fakes import NOW, WS
from tests.deletion_fakes import OWNER_ACTOR, DeletionWorld, FakeDeletions

SLUG = "acme-support"


@pytest.fixture()
def world() -> DeletionWorld:
    return DeletionWorld()


def _scheduled(world: DeletionWorld) -> None:
    schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)


def _due(world: DeletionWorld) -> None:
    _scheduled(world)
    world.clock.moment = NOW + GRACE


def test_an_owner_schedules_the_deletion_a_week_ahead_and_every_member_is_told_in_their_language(
    world,
):
    deletion = schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)

    assert deletion.status is DeletionStatus.SCHEDULED
    assert (deletion.delete_at, deletion.requested_by, deletion.requested_at) == (
        NOW + GRACE,
        OWNER_ACTOR,
        NOW,
    )
    assert deletion_of(world.deps(), WS) == deletion
    mails = world.mails("scheduled")
    assert set(mails) == {"ann@a.test", "bob@a.test", "chloe@a.test"}
    assert mails["bob@a.test"][0] == "The Helptal workspace Acme Support will be deleted on " + (
        "March 9, 2026"
    )
    assert "Ann Owner asked" in mails["bob@a.test"][1]
    subject, text = mails["chloe@a.test"]
    assert subject == "L'espace de travail Helptal Acme Support sera supprimé le 9 mars 2026"
    assert "10:00 (Europe/Paris)" in text and "vous" in text


def test_asking_again_during_the_grace_period_keeps_the_date_and_mails_no_one_twice(world):
    first = schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)
    world.clock.moment = NOW + timedelta(days=3)

    again = schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)

    assert again == first
    assert len(world.members_mail.queued) == 2  # the second queued again, in case
    assert world.run_mail_jobs() == 3 and len(world.outbox.by_id) == 3


def test_the_request_queues_one_job_and_mails_no_one_itself_whatever_the_teams_size(world):
    for n in range(40):
        world.accounts.add_member(WS, f"01HUSERMANY{n:015d}", name=f"M{n}", email=f"m{n}@a.test")

    schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)

    assert len(world.members_mail.queued) == 1 and world.outbox.by_id == {}
    assert world.run_mail_jobs() == 43


def test_a_job_delivered_again_or_retried_after_failing_halfway_mails_no_one_twice(world):
    _scheduled(world)
    job = world.members_mail.queued[0]
    failing = _FailsAfter(world.outbox, 2)
    with pytest.raises(RuntimeError):
        mail_members(replace(world.deps(), mail=failing), job)

    assert mail_members(world.deps(), job) == 1  # the retry: the one left
    assert mail_members(world.deps(), job) == 0  # delivered again
    assert len(world.outbox.by_id) == 3


def test_a_scheduled_mail_job_that_runs_after_the_cancel_mails_only_the_cancel(world):
    _scheduled(world)
    world.clock.moment = NOW + timedelta(hours=1)
    cancel_deletion(world.deps(), WS, OWNER_ACTOR)

    assert world.mails("scheduled") == {}
    assert set(world.mails("cancelled")) == {"ann@a.test", "bob@a.test", "chloe@a.test"}


def test_a_scheduled_mail_job_that_runs_once_the_deletion_is_due_mails_no_one(world):
    _scheduled(world)
    world.clock.moment = NOW + GRACE

    assert world.mails("scheduled") == {}


def test_a_mail_job_for_a_workspace_already_gone_mails_no_one(world):
    _scheduled(world)
    world.accounts.workspaces.pop(WS)

    assert world.run_mail_jobs() == 0 and world.outbox.by_id == {}


def test_a_mail_job_of_an_unknown_kind_is_refused(world):
    _scheduled(world)
    job = replace(world.members_mail.queued[0], kind="postponed")

    with pytest.raises(ValueError):
        mail_members(world.deps(), job)
    assert world.outbox.by_id == {}


class _FailsAfter:
    """An outbox whose queue fails after `sends` mails (the worker dies halfway)."""

    def __init__(self, outbox: Any, sends: int) -> None:
        self._outbox, self._left = outbox, sends

    def send_once(self, mail: Any) -> bool:
        if self._left == 0:
            raise RuntimeError("the mail-out queue is down")
        self._left -= 1
        return bool(self._outbox.send_once(mail))


@pytest.mark.parametrize("typed", ["acme", "Acme-Support", " acme-support", "acme-support2", ""])
def test_a_wrong_confirmation_schedules_nothing_and_mails_no_one(world, typed):
    with pytest.raises(ValidationFailed) as refused:
        schedule_deletion(world.deps(), WS, OWNER_ACTOR, typed)

    assert refused.value.code == "confirmation_mismatch"
    assert deletion_of(world.deps(), WS) is None
    assert world.members_mail.queued == [] and world.outbox.by_id == {}


def test_an_api_key_cannot_schedule_a_deletion(world):
    with pytest.raises(Forbidden):
        schedule_deletion(world.deps(), WS, "api_key:01HKEY", SLUG)
    assert deletion_of(world.deps(), WS) is None


def test_an_owner_cancels_during_the_grace_period_and_every_member_is_told(world):
    _scheduled(world)
    world.clock.moment = NOW + GRACE - timedelta(seconds=1)

    cancel_deletion(world.deps(), WS, OWNER_ACTOR)

    assert deletion_of(world.deps(), WS) is None
    mails = world.mails("cancelled")
    assert set(mails) == {"ann@a.test", "bob@a.test", "chloe@a.test"}
    assert "Ann Owner cancelled" in mails["bob@a.test"][1]
    assert mails["chloe@a.test"][0].startswith("La suppression de l'espace de travail")
    world.clock.moment = NOW + GRACE + timedelta(days=1)
    assert run_due(world.deps(), world.clock.now())["workspaces"] == 0
    assert world.data.calls == []


def test_cancelling_without_a_scheduled_deletion_is_a_conflict(world):
    with pytest.raises(Conflict) as refused:
        cancel_deletion(world.deps(), WS, OWNER_ACTOR)
    assert refused.value.code == "not_scheduled"


def test_once_due_it_can_no_longer_be_cancelled_nor_scheduled_again(world):
    _due(world)

    with pytest.raises(Conflict) as cancel_refused:
        cancel_deletion(world.deps(), WS, OWNER_ACTOR)
    run_due(world.deps(), world.clock.now(), max_steps=1)
    with pytest.raises(Conflict) as again_refused:
        schedule_deletion(world.deps(), WS, OWNER_ACTOR, SLUG)

    assert cancel_refused.value.code == again_refused.value.code == "deletion_in_progress"
    assert deletion_of(world.deps(), WS).status is DeletionStatus.DELETING  # type: ignore[union-attr]


def test_a_run_before_the_deletion_is_due_does_nothing(world):
    _scheduled(world)

    counts = run_due(world.deps(), NOW + GRACE - timedelta(seconds=1))

    assert counts["workspaces"] == 0 and world.data.calls == []
    assert deletion_of(world.deps(), WS).status is DeletionStatus.SCHEDULED  # type: ignore[union-attr]


def test_when_due_every_family_goes_in_order_then_a_later_look_finds_nothing_and_it_is_gone(
    world,
):
    _due(world)
    now = world.clock.now()

    counts = run_due(world.deps(), now)

    assert counts == {"workspaces": 1, "steps": 2 * len(PHASES), "deleted": 0, "failed": 0}
    assert [name for name, _ in world.data.calls][::2] == list(PHASES)
    waiting = deletion_of(world.deps(), WS)
    assert waiting is not None and waiting.phase == SETTLE
    assert waiting.status is DeletionStatus.DELETING and waiting.lease is None
    assert run_due(world.deps(), now + SETTLE_AFTER - timedelta(seconds=1))["workspaces"] == 0

    settled = run_due(world.deps(), now + SETTLE_AFTER)

    assert settled["deleted"] == 1
    assert deletion_of(world.deps(), WS) is None and WS not in world.data.workspaces
    assert waiting.counts == {name: 3 for name in PHASES}
    assert set(waiting.people) == {"user-of-members", "user-of-tickets"}


def test_a_bounded_run_stops_and_the_next_run_carries_on_where_it_stopped(world):
    _due(world)
    now = world.clock.now()

    first = run_due(world.deps(), now, max_steps=5)
    stopped = deletion_of(world.deps(), WS)
    second = run_due(world.deps(), now + timedelta(hours=1), max_steps=5)

    assert first["steps"] == 5 and second["steps"] == 5
    assert stopped is not None and stopped.lease is None and stopped.next_run_at == now
    assert (stopped.phase, stopped.cursor) == ("members", "1")
    steps = [call for call in world.data.calls]
    assert len(steps) == len(set(steps)) == 10  # no step done twice


def test_a_run_that_crashes_mid_phase_is_finished_by_a_later_run_without_losing_anything(world):
    _due(world)
    now = world.clock.now()
    world.data.crash_at = 7

    crashed = run_due(world.deps(), now)
    assert crashed["failed"] == 1
    put_back = world.deletions.get(WS)
    # Released and due again later: behind every other deletion due now.
    assert put_back is not None and put_back.lease is None
    assert put_back.next_run_at == now + RETRY_AFTER
    assert put_back.phase != PHASES[0]  # what its steps did before the crash stays done
    assert run_due(world.deps(), now + timedelta(minutes=5))["workspaces"] == 0  # not due yet

    run_due(world.deps(), now + timedelta(hours=1))
    run_due(world.deps(), now + timedelta(hours=2))

    assert deletion_of(world.deps(), WS) is None and WS not in world.data.workspaces
    assert all(left == 0 for left in world.data.items.values())


def test_two_runs_at_once_never_work_on_the_same_deletion(world):
    _due(world)
    now = world.clock.now()
    [due] = world.deletions.due(now, 10)
    first = world.deletions.claim(due, "run-1", now)

    assert first is not None
    assert world.deletions.claim(due, "run-2", now) is None
    assert run_due(world.deps(), now)["workspaces"] == 0


def test_what_was_written_after_the_sweep_is_swept_again_from_the_doors(world):
    _due(world)
    now = world.clock.now()
    run_due(world.deps(), now)
    world.data.items[(WS, "workspace")] = 1  # a mail record written by a late worker
    world.data.calls.clear()

    run_due(world.deps(), now + SETTLE_AFTER)
    swept = [name for name, _ in world.data.calls]
    assert swept[:1] == ["doors"] and "billing" not in swept
    run_due(world.deps(), now + 2 * SETTLE_AFTER)

    assert deletion_of(world.deps(), WS) is None and world.data.items[(WS, "workspace")] == 0


def test_a_leftover_no_sweep_removes_does_not_keep_the_deletion_running_forever(world):
    _due(world)
    now = world.clock.now()
    for round_number in range(MAX_SWEEPS + 2):
        world.data.items[(WS, "files")] = 1  # comes back every time
        run_due(world.deps(), now + round_number * SETTLE_AFTER)

    assert deletion_of(world.deps(), WS) is None and WS not in world.data.workspaces


def test_once_due_members_see_it_being_deleted_before_the_schedule_takes_it_up(world):
    _scheduled(world)
    world.clock.moment = NOW + GRACE - timedelta(seconds=1)
    assert deletion_of(world.deps(), WS).status is DeletionStatus.SCHEDULED  # type: ignore[union-attr]
    world.clock.moment = NOW + GRACE

    seen = deletion_of(world.deps(), WS)

    # What a cancel now answers (409 deletion_in_progress) is what they are shown.
    assert seen is not None and seen.status is DeletionStatus.DELETING
    with pytest.raises(Conflict):
        cancel_deletion(world.deps(), WS, OWNER_ACTOR)


class _JobStartsDuringTheCancel(FakeDeletions):
    """The owner's cancel read the deletion just before it was due; the schedule takes it up
    (and works a step) before the cancel's conditional delete lands."""

    def __init__(self, world: DeletionWorld) -> None:
        super().__init__()
        self.world = world

    def cancel(self, deletion: WorkspaceDeletion, now: datetime) -> bool:
        run_due(self.world.deps(), deletion.delete_at, max_steps=1)  # the job's tick
        return super().cancel(deletion, now)


def test_a_cancel_racing_the_job_is_refused_when_the_job_won_and_nothing_says_cancelled(world):
    racing = _JobStartsDuringTheCancel(world)
    world.deletions = racing
    _scheduled(world)
    world.clock.moment = NOW + GRACE - timedelta(seconds=1)

    with pytest.raises(Conflict) as refused:
        cancel_deletion(world.deps(), WS, OWNER_ACTOR)

    assert refused.value.code == "deletion_in_progress"
    assert deletion_of(world.deps(), WS).status is DeletionStatus.DELETING  # type: ignore[union-attr]
    assert world.mails("cancelled") == {} and world.data.calls == [("billing", None)]
