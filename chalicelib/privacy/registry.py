"""The sub-processor registry's rules (pure: no I/O but the store port it is given).

The list at a moment is the seed (`subprocessors.SEED`, 20 May 2026) with every recorded
change in force by then applied, oldest effective first; changes announced but not yet in
force are `upcoming`.  An operator plans a change with `plan_change`, which refuses:
- a change that processes Workspace content (an addition or a replacement by such a
  provider) taking effect sooner than NOTICE_DAYS after now (the public promise);
- an effective date in the past (the public record is never backdated);
- replacing or removing a provider that is not on the list at that date, adding one that is,
  or a change that would make an already planned later change impossible."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.errors import HelptalError, NotFound
from chalicelib.ids import new_id
from chalicelib.privacy.model import (
    CHANGELOG_MONTHS,
    NOTICE_DAYS,
    ChangeKind,
    PlannedChange,
    RegistryView,
    SubProcessor,
    Words,
)
from chalicelib.privacy.ports import SubprocessorChanges
from chalicelib.privacy.subprocessors import INTEGRATIONS, SEED, SEED_DATE


class ChangeRefused(HelptalError):
    """A planned change the rules do not allow; `code` says which rule:
    `notice_too_short`, `effective_in_the_past`, `unknown_subprocessor`, `already_listed`,
    `conflicts_with_planned` or `invalid_change`."""

    status = 422
    code = "change_refused"


@dataclass(frozen=True)
class ChangeDraft:
    """What the operator asks for; `plan_change` gives it an id and its announcement time."""

    kind: ChangeKind
    effective_at: datetime
    summary: Words
    subprocessor: SubProcessor | None = None
    replaces: tuple[str, ...] = ()
    planned_by: str = ""


def _all(changes: SubprocessorChanges | Iterable[PlannedChange]) -> list[PlannedChange]:
    if hasattr(changes, "all_changes"):
        return list(changes.all_changes())
    return list(changes)


def _in_order(changes: Iterable[PlannedChange]) -> list[PlannedChange]:
    """Oldest effective first; changes taking effect at the same moment in the order they were
    announced."""
    return sorted(changes, key=lambda c: (c.effective_at, c.announced_at, c.id))


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when that
    month is shorter: 31 March -> 28 or 29 February)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:  # no such day in that month: its last day
            if day <= 28:  # every month has a 28th: the year itself is out of range
                raise
            day -= 1


class _Inconsistent(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _apply(
    listed: list[SubProcessor], change: PlannedChange, *, strict: bool
) -> list[SubProcessor]:
    """The list after `change`.  `strict`: an id to replace or remove that is not listed, or
    a newcomer already listed (and not replaced), raises _Inconsistent; otherwise it is
    applied as far as it can be (the public view never fails on old records)."""
    ids = [p.id for p in listed]
    missing = [r for r in change.replaces if r not in ids]
    if strict and missing:
        raise _Inconsistent(
            "unknown_subprocessor",
            f"not on the list on {change.effective_at:%Y-%m-%d}: {', '.join(missing)}",
        )
    newcomer = change.subprocessor
    taken = newcomer is not None and newcomer.id in ids and newcomer.id not in change.replaces
    if strict and newcomer is not None and taken:
        raise _Inconsistent(
            "already_listed",
            f"{newcomer.id} is on the list on {change.effective_at:%Y-%m-%d} already "
            "(replace it to change how it is described)",
        )
    if newcomer is None:
        return [p for p in listed if p.id not in change.replaces]
    leaving = set(change.replaces) | {newcomer.id}
    places = [i for i, p in enumerate(listed) if p.id in leaving]
    kept = [p for p in listed if p.id not in leaving]
    # The newcomer takes the place of the first provider it replaces (else goes last).
    at = places[0] if places else len(listed)
    position = sum(1 for i, p in enumerate(listed) if i < at and p.id not in leaving)
    return [*kept[:position], newcomer, *kept[position:]]


def _replay(changes: Sequence[PlannedChange], *, strict: bool) -> list[SubProcessor]:
    listed = list(SEED)
    for change in changes:
        listed = _apply(listed, change, strict=strict)
    return listed


def view(changes: SubprocessorChanges | Iterable[PlannedChange], at: datetime) -> RegistryView:
    """The list as it stands at `at`: providers in force, changes announced by then and not
    yet in force (soonest first), and the changelog of the last CHANGELOG_MONTHS (newest
    first).  `changes`: the store, or the changes it holds."""
    announced = _in_order(c for c in _all(changes) if c.announced_at <= at)
    in_force = [c for c in announced if c.effective_at <= at]
    since = months_before(at, CHANGELOG_MONTHS)
    return RegistryView(
        at=at,
        current=tuple(_replay(in_force, strict=False)),
        upcoming=tuple(c for c in announced if c.effective_at > at),
        integrations=INTEGRATIONS,
        last_updated=max((c.effective_at for c in in_force), default=SEED_DATE),
        changelog=tuple(c for c in reversed(in_force) if c.effective_at >= since),
    )


def known_providers(
    changes: SubprocessorChanges | Iterable[PlannedChange],
) -> dict[str, SubProcessor]:
    """Every provider the registry has named (the seed's and each change's newcomer, as last
    described), by id: the names of providers that have left, for the changelog."""
    found = {p.id: p for p in SEED}
    for change in _in_order(_all(changes)):
        if change.subprocessor is not None:
            found[change.subprocessor.id] = change.subprocessor
    return found


def in_notice_period(change: PlannedChange, now: datetime) -> bool:
    """Announced and not yet in force: the time to object."""
    return change.announced_at <= now < change.effective_at


def earliest_effective(draft: ChangeDraft, now: datetime) -> datetime:
    """The soonest `draft` may take effect: NOTICE_DAYS on when it processes Workspace
    content, now otherwise."""
    content = draft.subprocessor is not None and draft.subprocessor.processes_workspace_content
    return now + timedelta(days=NOTICE_DAYS) if content else now


def _check_shape(draft: ChangeDraft) -> None:
    def refuse(message: str) -> ChangeRefused:
        return ChangeRefused(message, code="invalid_change")

    if len(set(draft.replaces)) != len(draft.replaces):
        raise refuse("replaces names a provider twice")
    if draft.kind is ChangeKind.ADD and (draft.subprocessor is None or draft.replaces):
        raise refuse("an addition names its subprocessor and replaces nothing")
    if draft.kind is ChangeKind.REPLACE and (draft.subprocessor is None or not draft.replaces):
        raise refuse("a replacement names its subprocessor and the ids it replaces")
    if draft.kind is ChangeKind.REMOVE and (draft.subprocessor is not None or not draft.replaces):
        raise refuse("a removal names the ids that leave (replaces) and no subprocessor")
    if not draft.summary.en.strip() or not draft.summary.fr.strip():
        raise refuse("the summary is required in English and in French")


def check_change(
    changes: SubprocessorChanges | Iterable[PlannedChange], draft: ChangeDraft, now: datetime
) -> PlannedChange:
    """`draft` as the change it would be recorded as (announced now), or ChangeRefused.
    Records nothing."""
    _check_shape(draft)
    if draft.effective_at < now:
        raise ChangeRefused(
            f"the effective date {draft.effective_at:%Y-%m-%d %H:%M} UTC is in the past",
            code="effective_in_the_past",
        )
    earliest = earliest_effective(draft, now)
    if draft.effective_at < earliest:
        raise ChangeRefused(
            f"{draft.subprocessor.name if draft.subprocessor else 'This change'} processes "
            f"Workspace content: customers are told at least {NOTICE_DAYS} days before, so "
            f"it may take effect on {earliest:%Y-%m-%d %H:%M} UTC at the earliest",
            code="notice_too_short",
            details=[{"field": "effective_at", "message": f"not before {earliest.isoformat()}"}],
        )
    change = PlannedChange(
        id=new_id(),
        kind=draft.kind,
        announced_at=now,
        effective_at=draft.effective_at,
        summary=draft.summary,
        subprocessor=draft.subprocessor,
        replaces=draft.replaces,
        planned_by=draft.planned_by,
    )
    existing = _in_order(_all(changes))
    already_broken = _broken(existing)
    listed = list(SEED)
    for recorded in _in_order([*existing, change]):
        try:
            listed = _apply(listed, recorded, strict=True)
        except _Inconsistent as e:
            if recorded is change:
                raise ChangeRefused(e.message, code=e.code) from e
            if recorded.id not in already_broken:
                raise ChangeRefused(
                    f"the change planned for {recorded.effective_at:%Y-%m-%d} "
                    f"({recorded.id}: {recorded.summary.en}) would no longer apply: {e.message}",
                    code="conflicts_with_planned",
                ) from e
            listed = _apply(listed, recorded, strict=False)
    return change


def _broken(ordered: Sequence[PlannedChange]) -> set[str]:
    """Ids of recorded changes that do not apply cleanly (none, when every change was
    planned through `plan_change`)."""
    broken: set[str] = set()
    listed = list(SEED)
    for change in ordered:
        try:
            listed = _apply(listed, change, strict=True)
        except _Inconsistent:
            broken.add(change.id)
            listed = _apply(listed, change, strict=False)
    return broken


def plan_change(store: SubprocessorChanges, draft: ChangeDraft, now: datetime) -> PlannedChange:
    """Records `draft` as a planned change announced `now` (one write), after the checks of
    `check_change`; raises ChangeRefused and records nothing when a rule refuses it."""
    change = check_change(store, draft, now)
    store.record_change(change)
    return change


def change_named(store: SubprocessorChanges, change_id: str) -> PlannedChange:
    """The recorded change `change_id`; NotFound (404 `change_not_found`) otherwise."""
    change = store.get_change(change_id)
    if change is None:
        raise NotFound("No such sub-processor change.", code="change_not_found")
    return change


@dataclass(frozen=True)
class Published:
    """What the public pages and their JSON show: the view, and every provider the registry
    has named by id (the changelog names providers that have left)."""

    view: RegistryView
    providers: dict[str, SubProcessor]


def published(store: SubprocessorChanges, at: datetime) -> Published:
    """The registry as the public sees it at `at` (one read of the store)."""
    changes = store.all_changes()
    return Published(view(changes, at), known_providers(changes))
