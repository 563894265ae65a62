"""In-memory fakes of the objection ports (chalicelib/privacy/objections.py) for the unit
tests, over billing's world (tests/billing_fakes.py): the real billing services end the
subscription and refund, against billing's fakes of the store and the processors.

    world = ObjectionWorld()                     # workspace WS, its owner, on a trial
    change = world.plan_change(days=40)          # announced now, in force in 40 days
    world.billing.subscribe_stripe("pro", Period.YEAR, 3)
    confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from chalicelib.accounts.model import Role
from chalicelib.privacy.billing_termination import BillingTermination
from chalicelib.privacy.model import Category, ChangeKind, PlannedChange, SubProcessor, Words
from chalicelib.privacy.objections import (
    AlreadyObjected,
    Objection,
    ObjectionDeps,
    ObjectionStatus,
)
from chalicelib.privacy.ports import ChangeAlreadyRecorded
from tests.billing_fakes import OWNER, WS, BillingWorld, FakeClock, FakeOutbox

OWNER_ACTOR = f"user:{OWNER}"
PRIVACY_SCREEN = "https://app.helptal.test/app/#/settings/privacy"
AWS = SubProcessor(
    id="aws-ap-southeast-1",
    name="Amazon Web Services",
    legal_entity="Amazon Web Services, Inc.",
    location=Words("Singapore", "Singapour"),
    purpose=Words("Cloud hosting.", "Hébergement cloud."),
    category=Category.HOSTING,
    processes_workspace_content=True,
)


class FakeChanges:
    def __init__(self) -> None:
        self.changes: dict[str, PlannedChange] = {}

    def all_changes(self) -> list[PlannedChange]:
        return sorted(self.changes.values(), key=lambda c: (c.effective_at, c.id))

    def get_change(self, change_id: str) -> PlannedChange | None:
        return self.changes.get(change_id)

    def record_change(self, change: PlannedChange) -> None:
        if change.id in self.changes:
            raise ChangeAlreadyRecorded(change.id)
        self.changes[change.id] = change


class FakeObjections:
    def __init__(self) -> None:
        self.objections: dict[tuple[str, str], Objection] = {}
        self.dismissals: dict[tuple[str, str], set[str]] = {}

    def record(self, objection: Objection) -> None:
        key = (objection.workspace_id, objection.id)
        if key in self.objections:
            raise AlreadyObjected()
        self.objections[key] = objection

    def get(self, workspace_id: str, objection_id: str) -> Objection | None:
        return self.objections.get((workspace_id, objection_id))

    def of_workspace(self, workspace_id: str) -> list[Objection]:
        found = [o for (ws, _), o in self.objections.items() if ws == workspace_id]
        return sorted(found, key=lambda o: (o.at, o.id), reverse=True)

    def settle(self, objection: Objection) -> Objection:
        key = (objection.workspace_id, objection.id)
        stored = self.objections[key]
        if stored.status is not ObjectionStatus.TERMINATED:
            self.objections[key] = objection
        return self.objections[key]

    def dismiss(self, workspace_id: str, actor: str, change_id: str, at: datetime) -> None:
        self.dismissals.setdefault((workspace_id, actor), set()).add(change_id)

    def dismissed(self, workspace_id: str, actor: str) -> frozenset[str]:
        return frozenset(self.dismissals.get((workspace_id, actor), set()))


@dataclass
class ObjectionWorld:
    billing: BillingWorld = field(default_factory=BillingWorld)

    def __post_init__(self) -> None:
        self.changes = FakeChanges()
        self.objections = FakeObjections()
        self.ids = itertools.count(1)

    @property
    def clock(self) -> FakeClock:
        return self.billing.clock

    @property
    def mail(self) -> FakeOutbox:
        return self.billing.mail

    def deps(self) -> ObjectionDeps:
        return ObjectionDeps(
            changes=self.changes,
            objections=self.objections,
            subscriptions=BillingTermination(self.billing.deps),
            accounts=self.billing.accounts,
            mail=self.billing.mail,
            clock=self.billing.clock,
            privacy_screen=PRIVACY_SCREEN,
        )

    def plan_change(self, days: float = 40, announced: timedelta = timedelta()) -> PlannedChange:
        """A replacement of the hosting providers by AWS, announced `announced` from now
        and in force `days` after now."""
        now = self.clock.now()
        change = PlannedChange(
            id=f"01J{next(self.ids):023d}",
            kind=ChangeKind.REPLACE,
            announced_at=now + announced,
            effective_at=now + timedelta(days=days),
            summary=Words(
                "Hosting moves to AWS in Singapore.", "L'hébergement passe chez AWS à Singapour."
            ),
            subprocessor=AWS,
            replaces=("vultr", "digitalocean", "neon", "upstash"),
            planned_by="arn:aws:iam::123456789012:user/operator",
        )
        self.changes.record_change(change)
        return change

    def add_member(self, user_id: str, role: Role, locale: str | None = None) -> str:
        self.billing.accounts.add_member(
            WS, user_id, role=role, name=f"{role.value.title()} {user_id[-2:]}", locale=locale
        )
        return f"user:{user_id}"

    def stored(self, objection: Objection) -> Objection:
        found = self.objections.get(WS, objection.id)
        assert found is not None
        return replace(found)
