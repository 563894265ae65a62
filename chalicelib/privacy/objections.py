"""Objections to a planned sub-processor change, and the remedy the public list promises:
"If you reasonably object on data-protection grounds, you may terminate the affected
Subscription as your sole remedy and we will refund prepaid fees for the unused portion of
the term."

- Owners and admins see the changes in their notice period (announced, not yet in force),
  each with whether they dismissed its in-product notice and their workspace's objection.
- An owner objects while the change is in its notice period, once per workspace and change,
  with a reason; the objection is recorded and acknowledged by mail to the owners.
- An owner then confirms the termination: the paid subscription ends now and the unused
  prepaid part is refunded through the processor that took the payment (billing's
  `terminate_for_objection`); the owners are mailed the refund.  Confirming again answers
  the same (one refund).  Without a paid subscription the objection stays recorded, marked
  `no_subscription` (409).  Nothing is deleted: the workspace drops to the free plan.
  Confirming is possible whenever the objection was made in time (a cancellation now
  refunds the same unused part anyway)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.accounts.model import Member, Page, User, Workspace
from chalicelib.billing.model import Money, Processor
from chalicelib.clock import Clock
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import derived_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.privacy import registry
from chalicelib.privacy.model import PlannedChange
from chalicelib.privacy.ports import SubprocessorChanges

REASON_MAX_CHARS = 2000
# Control characters (C0, DEL, C1) but tab and line breaks have no place in a reason.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")


class ObjectionStatus(StrEnum):
    OBJECTED = "objected"  # recorded; the owner has not confirmed the termination
    TERMINATED = "terminated"  # the subscription ended (and what was left was refunded)
    NO_SUBSCRIPTION = "no_subscription"  # confirmed without a paid subscription to end


@dataclass(frozen=True)
class Objection:
    id: str  # derived from the workspace and the change: one per pair
    workspace_id: str
    change_id: str
    reason: str
    by: str  # who objected: "user:<id>"
    at: datetime
    status: ObjectionStatus = ObjectionStatus.OBJECTED
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    refund: Money | None = None  # TERMINATED: what was refunded (None: nothing was left)
    refunded_through: Processor | None = None


@dataclass(frozen=True)
class ChangeNotice:
    """A change in its notice period as one member of a workspace sees it."""

    change: PlannedChange
    dismissed: bool  # by this member
    objection: Objection | None  # of this workspace
    leaving: tuple[tuple[str, str], ...] = ()  # (id, name) of the providers it replaces


@dataclass(frozen=True)
class Termination:
    """What ending the subscription for an objection refunded."""

    refund: Money | None
    processor: Processor | None


# -- ports (adapters: chalicelib/store/objections_repo.py, privacy/billing_termination.py) --


class AlreadyObjected(Exception):
    """The workspace objected to this change before."""


class NoSubscription(Exception):
    """The workspace has no paid subscription to end."""


class Objections(Protocol):
    """Objections and dismissed notices, in the workspace's partition."""

    def record(self, objection: Objection) -> None:
        """Writes a new objection; raises AlreadyObjected for one of the same id."""

    def get(self, workspace_id: str, objection_id: str) -> Objection | None: ...

    def of_workspace(self, workspace_id: str) -> list[Objection]:
        """The workspace's objections, newest first."""

    def settle(self, objection: Objection) -> Objection:
        """Writes the objection's outcome unless it is terminated already; the objection as
        stored afterwards."""

    def dismiss(self, workspace_id: str, actor: str, change_id: str, at: datetime) -> None: ...

    def dismissed(self, workspace_id: str, actor: str) -> frozenset[str]:
        """The ids of the changes whose notice `actor` dismissed."""


class SubscriptionEnd(Protocol):
    def terminate_for_objection(self, workspace_id: str, reason: str) -> Termination:
        """Ends the paid subscription now and refunds the unused part (once); raises
        NoSubscription."""


class ObjectionAccounts(Protocol):
    """What the mails read of the accounts (implemented by the accounts store)."""

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]: ...

    def get_user(self, user_id: str) -> User | None: ...


class OnceMail(Protocol):
    def send_once(self, mail: OutboundMail) -> bool:
        """Queues `mail` unless one with its `mail_id` was queued before."""


@dataclass(frozen=True)
class ObjectionDeps:
    changes: SubprocessorChanges
    objections: Objections
    subscriptions: SubscriptionEnd
    accounts: ObjectionAccounts
    mail: OnceMail
    clock: Clock
    privacy_screen: str  # the web client's Settings > Privacy, linked from the mails


# -- the rules -----------------------------------------------------------------------------


def objection_id(workspace_id: str, change_id: str) -> str:
    """The id of the workspace's objection to the change (the same each time: a second
    objection collides with the first)."""
    return derived_id(change_id, f"objection:{workspace_id}")


def _change(deps: ObjectionDeps, change_id: str) -> PlannedChange:
    change = deps.changes.get_change(change_id) if change_id else None
    if change is None:
        raise NotFound("There is no such sub-processor change.")
    return change


def upcoming_changes(deps: ObjectionDeps, workspace_id: str, actor: str) -> list[ChangeNotice]:
    """The changes in their notice period, soonest first, with `actor`'s dismissals and the
    workspace's objections.  Reads the changes, the dismissals and the objections."""
    now = deps.clock.now()
    changes = deps.changes.all_changes()
    upcoming = [c for c in changes if registry.in_notice_period(c, now)]
    if not upcoming:
        return []
    names = provider_names(changes)
    dismissed = deps.objections.dismissed(workspace_id, actor)
    objected = {o.change_id: o for o in deps.objections.of_workspace(workspace_id)}
    upcoming.sort(key=lambda c: (c.effective_at, c.id))
    return [
        ChangeNotice(c, c.id in dismissed, objected.get(c.id), _leaving(c, names)) for c in upcoming
    ]


def dismiss(deps: ObjectionDeps, workspace_id: str, actor: str, change_id: str) -> ChangeNotice:
    """Hides the change's in-product notice from `actor` (and only them).  404 for an
    unknown change; 409 `not_in_notice_period` for one that has no notice now (not yet
    announced, or in force).  Writes the dismissal."""
    change = _change(deps, change_id)
    _in_notice_period(change, deps.clock.now())
    deps.objections.dismiss(workspace_id, actor, change.id, deps.clock.now())
    objection = deps.objections.get(workspace_id, objection_id(workspace_id, change.id))
    names = provider_names(deps.changes.all_changes())
    return ChangeNotice(change, True, objection, _leaving(change, names))


def provider_names(changes: list[PlannedChange]) -> dict[str, str]:
    """The name of every provider the registry has named (the seed's and the changes'),
    by id."""
    return {i: p.name for i, p in registry.known_providers(changes).items()}


def _leaving(change: PlannedChange, names: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((i, names.get(i, i)) for i in change.replaces)


def object_to_change(
    deps: ObjectionDeps, workspace_id: str, actor: str, change_id: str, reason: str
) -> Objection:
    """Records the workspace's objection to the change and mails the owners that it was
    received.  404 unknown change; 409 `not_in_notice_period` before its announcement or
    from its effective date; 409 `already_objected` (the acknowledgement is queued again
    in case the first attempt stopped before it: once per mail id); 422 for a reason that
    is blank (spaces and invisible marks only), longer than REASON_MAX_CHARS or holds
    control characters."""
    words = reason.strip()
    if not _written(words) or len(words) > REASON_MAX_CHARS or _CONTROL.search(words):
        raise ValidationFailed(
            f"Give a reason of 1 to {REASON_MAX_CHARS} characters, without control characters.",
            details=[{"field": "reason", "message": "blank, too long or with control characters"}],
        )
    change = _change(deps, change_id)
    now = deps.clock.now()
    _in_notice_period(change, now)
    objection = Objection(
        id=objection_id(workspace_id, change.id),
        workspace_id=workspace_id,
        change_id=change.id,
        reason=words,
        by=actor,
        at=now,
    )
    try:
        deps.objections.record(objection)
    except AlreadyObjected:
        earlier = deps.objections.get(workspace_id, objection.id)
        if earlier is not None:
            _mail(deps, "objection_received", earlier, change)
        raise Conflict(
            "Your workspace has objected to this change already.", code="already_objected"
        ) from None
    _mail(deps, "objection_received", objection, change)
    return objection


def _written(text: str) -> bool:
    """Whether `text` shows something: not only spaces and invisible marks (zero-width
    spaces and joiners, byte order marks)."""
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)


def _in_notice_period(change: PlannedChange, now: datetime) -> None:
    if not registry.in_notice_period(change, now):
        raise Conflict(
            "This change is not in its notice period (from its announcement until it "
            "takes effect): it can be neither objected to nor dismissed now.",
            code="not_in_notice_period",
        )


def objections_of(deps: ObjectionDeps, workspace_id: str) -> list[Objection]:
    return deps.objections.of_workspace(workspace_id)


def confirm_termination(
    deps: ObjectionDeps, workspace_id: str, actor: str, objection_id_: str
) -> Objection:
    """Ends the workspace's paid subscription now and refunds the unused prepaid part
    through the processor that took the payment; mails the owners the refund; records the
    outcome.  Asked again, answers the same (billing refunds once).  404 unknown
    objection; 409 `no_subscription` without a paid subscription (the objection stays,
    marked so).  Calls billing (the processor); writes the objection; queues mail."""
    objection = deps.objections.get(workspace_id, objection_id_)
    if objection is None:
        raise NotFound("There is no such objection.")
    if objection.status is ObjectionStatus.TERMINATED:
        return objection
    now = deps.clock.now()
    try:
        ended = deps.subscriptions.terminate_for_objection(
            workspace_id, f"Objection to sub-processor change {objection.change_id}"
        )
    except NoSubscription:
        deps.objections.settle(
            replace(
                objection,
                status=ObjectionStatus.NO_SUBSCRIPTION,
                confirmed_by=actor,
                confirmed_at=now,
            )
        )
        raise Conflict(
            "This workspace has no paid subscription to end; your objection stays recorded.",
            code="no_subscription",
        ) from None
    terminated = replace(
        objection,
        status=ObjectionStatus.TERMINATED,
        confirmed_by=actor,
        confirmed_at=now,
        refund=ended.refund,
        refunded_through=ended.processor if ended.refund is not None else None,
    )
    change = deps.changes.get_change(objection.change_id)
    # Mailed before the outcome is written: a confirmation asked again after a failure
    # between the two still mails (once per mail id).
    _mail(deps, "subscription_terminated", terminated, change)
    return deps.objections.settle(terminated)


def _mail(
    deps: ObjectionDeps, kind: str, objection: Objection, change: PlannedChange | None
) -> None:
    from chalicelib.privacy import objection_mails

    objection_mails.send(deps, kind, objection, change)
