"""Seats are taken in the membership transactions: however many people accept their
invitations at once, no more members join than seats are paid for; leaving frees a seat;
a trial that has ended lets no one join."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.accounts import invitations, members
from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import (
    Invitation,
    InvitationStatus,
    Member,
    Principal,
    Role,
    User,
    Workspace,
)
from chalicelib.accounts.sessions import open_session
from chalicelib.billing.plans import TRIAL_DAYS
from chalicelib.clock import epoch
from chalicelib.errors import PlanLimit
from chalicelib.ids import new_id, new_secret_token, token_hash
from chalicelib.store.billing_repo import DynamoBillingStore

PASSWORD = "correct horse battery"
JOINING_AT_ONCE = 8


class QuickHasher:
    """Hashing is not what this test is about: no Argon2 cost per joiner."""

    def hash(self, password: str) -> str:
        return f"plain:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain:{password}"

    def verify_decoy(self, password: str) -> None:
        return None


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Team:
    deps: AccountDeps
    workspace: Workspace
    owner: Member
    principal: Principal


@pytest.fixture(scope="module")
def billing(aws) -> DynamoBillingStore:
    return DynamoBillingStore()


def _team(clock: FixedClock) -> Team:
    deps = replace(bootstrap.account_deps(), hasher=QuickHasher(), clock=clock)
    now = clock.now()
    workspace = Workspace(
        id=new_id(),
        slug=f"seats-{new_id().lower()}",
        name="Seats Test",
        timezone="UTC",
        locale="en",
        owner_count=1,
        created_at=now,
        updated_at=now,
    )
    user = User(
        id=new_id(),
        email=f"owner-{new_id().lower()}@seats.test",
        name="Olga Owner",
        password_hash=QuickHasher().hash(PASSWORD),
        created_at=now,
    )
    owner = Member(workspace.id, user.id, Role.OWNER, user.email, user.name, now)
    _, session = open_session(deps, user.id, workspace.id)
    deps.store.create_workspace(workspace, user, True, owner, session)
    principal = Principal(workspace.id, Role.OWNER, session, user_id=user.id)
    return Team(deps, workspace, owner, principal)


def _invitation_token(team: Team, valid_days: int = 7) -> str:
    token = new_secret_token(invitations.INVITATION_PREFIX)
    now = team.deps.clock.now()
    team.deps.store.create_invitation(
        Invitation(
            id=new_id(),
            workspace_id=team.workspace.id,
            email=f"agent-{new_id().lower()}@seats.test",
            role=Role.AGENT,
            status=InvitationStatus.PENDING,
            token_hash=token_hash(token),
            invited_by=f"user:{team.owner.user_id}",
            created_at=now,
            valid_until=epoch(now) + valid_days * 86400,
        )
    )
    return token


def _join(team: Team, token: str) -> str:
    """ "joined", or the refusal's code."""
    try:
        invitations.accept(team.deps, token, "Agent", PASSWORD)
    except PlanLimit as refused:
        assert refused.details["reason"] == "seats"
        return refused.code
    return "joined"


def _member_count(team: Team) -> int:
    return len(team.deps.store.list_members(team.workspace.id, None, 100).entries)


def test_a_new_workspace_starts_its_trial_with_the_owner_seated(billing):
    team = _team(FixedClock(datetime.now(UTC)))

    account = billing.get(team.workspace.id)

    assert account is not None
    assert (account.status.value, account.seats_used, account.seats_paid) == ("trialing", 1, 25)
    assert account.trial_ends_at == team.workspace.created_at + timedelta(days=TRIAL_DAYS)


def test_concurrent_joins_never_take_more_seats_than_paid_and_leaving_frees_one(billing):
    paid = 3
    team = _team(FixedClock(datetime.now(UTC)))
    assert _join(team, _invitation_token(team)) == "joined"  # paid - 1 members
    billing.set_seats_paid(team.workspace.id, paid)
    tokens = [_invitation_token(team) for _ in range(JOINING_AT_ONCE)]

    with ThreadPoolExecutor(max_workers=JOINING_AT_ONCE) as pool:
        outcomes = list(pool.map(lambda token: _join(team, token), tokens))

    assert sorted(outcomes) == ["joined"] + ["plan_limit"] * (JOINING_AT_ONCE - 1)
    assert _member_count(team) == paid
    assert billing.get(team.workspace.id).seats_used == paid
    with pytest.raises(PlanLimit) as refused:
        invitations.accept(team.deps, _invitation_token(team), "Late", PASSWORD)
    assert refused.value.status == 402
    assert refused.value.details["seats"] == {"used": paid, "limit": paid}
    assert refused.value.details["allowed_by"][0] == {"plan": "starter", "seats": paid + 1}

    leaving = next(
        m
        for m in team.deps.store.list_members(team.workspace.id, None, 100).entries
        if m.role is Role.AGENT
    )
    members.remove_member(team.deps, team.principal, leaving.user_id)

    assert billing.get(team.workspace.id).seats_used == paid - 1
    assert _join(team, _invitation_token(team)) == "joined"
    assert billing.get(team.workspace.id).seats_used == paid


def test_a_trial_that_has_ended_lets_no_one_join(aws):
    team = _team(FixedClock(datetime.now(UTC) - timedelta(days=TRIAL_DAYS + 1)))
    assert _join(team, _invitation_token(team)) == "joined"
    token = _invitation_token(team, valid_days=30)
    team.deps = replace(team.deps, clock=FixedClock(datetime.now(UTC)))

    with pytest.raises(PlanLimit) as refused:
        invitations.accept(team.deps, token, "Too Late", PASSWORD)

    assert refused.value.details["reason"] == "seats"
    assert refused.value.details["plan"] == "free"
    assert refused.value.details["seats"] == {"used": 2, "limit": 2}
    assert {"plan": "starter", "seats": 3} in refused.value.details["allowed_by"]
    assert _member_count(team) == 2


def test_a_workspace_older_than_billing_opens_its_trial_at_the_first_join(billing, aws):
    team = _team(FixedClock(datetime.now(UTC)))
    assert _join(team, _invitation_token(team)) == "joined"
    aws.client("dynamodb").delete_item(  # as a workspace created before billing existed
        TableName=aws.table_name,
        Key={"PK": {"S": f"WS#{team.workspace.id}"}, "SK": {"S": "billing"}},
    )

    assert _join(team, _invitation_token(team)) == "joined"

    account = billing.get(team.workspace.id)
    assert (account.status.value, account.seats_used) == ("trialing", 3)


def test_a_join_cancelled_by_a_concurrent_transaction_is_tried_again(billing, monkeypatch):
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    from chalicelib.store import accounts_repo

    team = _team(FixedClock(datetime.now(UTC)))
    token = _invitation_token(team)
    real_transaction = accounts_repo.transaction
    cancelled = []

    # What DynamoDB says when another transaction was writing the seat counter.
    conflict = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
        "TransactWriteItems",
        cancellation_reasons=[None, None, CancellationReason(code="TransactionConflict")],
    )

    class Conflicting:
        def __enter__(self):
            return real_transaction().__enter__()

        def __exit__(self, *exc_info):
            cancelled.append(True)
            raise TransactWriteError("cancelled", cause=conflict)

    monkeypatch.setattr(
        accounts_repo,
        "transaction",
        lambda: Conflicting() if len(cancelled) < 2 else real_transaction(),
    )

    assert _join(team, token) == "joined"
    assert len(cancelled) == 2
    assert billing.get(team.workspace.id).seats_used == 2
