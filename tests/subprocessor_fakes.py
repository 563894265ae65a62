"""An in-memory `SubprocessorChanges` (chalicelib/privacy/ports.py) and planned changes to
put in it, for unit tests of the registry and of what builds on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.privacy.model import Category, ChangeKind, PlannedChange, SubProcessor, Words
from chalicelib.privacy.ports import ChangeAlreadyRecorded

AWS = SubProcessor(
    id="aws-ap-southeast-1",
    name="Amazon Web Services",
    legal_entity="Amazon Web Services (full legal entity named in the DPA)",
    location=Words("Singapore", "Singapour"),
    purpose=Words("Cloud hosting.", "Hébergement cloud."),
    category=Category.HOSTING,
    processes_workspace_content=True,
)
HOSTING_REPLACED = ("vultr", "digitalocean", "neon", "upstash")


def provider(
    id: str, *, content: bool = True, category: Category = Category.HOSTING
) -> SubProcessor:
    return SubProcessor(
        id=id,
        name=id.capitalize(),
        legal_entity=f"{id} Ltd",
        location=Words("Singapore", "Singapour"),
        purpose=Words(f"{id} things.", f"Choses de {id}."),
        category=category,
        processes_workspace_content=content,
    )


def change(
    kind: ChangeKind,
    effective_at: datetime,
    *,
    subprocessor: SubProcessor | None = None,
    replaces: tuple[str, ...] = (),
    announced_at: datetime | None = None,
    id: str | None = None,
) -> PlannedChange:
    """A recorded change, announced 40 days before it takes effect unless told otherwise."""
    return PlannedChange(
        id=id or f"01CHANGE{effective_at:%Y%m%d%H%M%S}{kind.value}",
        kind=kind,
        announced_at=announced_at or effective_at - timedelta(days=40),
        effective_at=effective_at,
        summary=Words(f"{kind.value} summary", f"résumé {kind.value}"),
        subprocessor=subprocessor,
        replaces=replaces,
        planned_by="arn:aws:iam::123456789012:user/ops",
    )


class InMemorySubprocessorChanges:
    def __init__(self, changes: tuple[PlannedChange, ...] = ()) -> None:
        self.changes: dict[str, PlannedChange] = {c.id: c for c in changes}

    def all_changes(self) -> list[PlannedChange]:
        return sorted(self.changes.values(), key=lambda c: (c.effective_at, c.announced_at, c.id))

    def get_change(self, change_id: str) -> PlannedChange | None:
        return self.changes.get(change_id)

    def record_change(self, change: PlannedChange) -> None:
        if change.id in self.changes:
            raise ChangeAlreadyRecorded(change.id)
        self.changes[change.id] = change
