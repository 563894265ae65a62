"""The sub-processor registry's vocabulary: the providers that process personal data for
Helptal's business customers, the integrations customers authorise themselves (not
sub-processors), and planned changes to the list with their effective dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Category(StrEnum):
    HOSTING = "hosting"  # cloud hosting, database, caching, object storage
    EDGE = "edge"  # edge networking, DNS, DDoS protection
    EMAIL = "email"  # delivery and inbound parsing
    PAYMENTS = "payments"
    AI = "ai"  # inference and embeddings (opt-in per workspace)


@dataclass(frozen=True)
class Words:
    """A text in both languages of the site (English is authoritative)."""

    en: str
    fr: str


@dataclass(frozen=True)
class SubProcessor:
    id: str  # stable slug: "mailgun", "aws-ap-southeast-1"
    name: str  # "Mailgun"
    legal_entity: str  # as named in the DPA (placeholder until the DPA names it)
    location: Words  # "United States" / "États-Unis"
    purpose: Words
    category: Category
    processes_workspace_content: bool


@dataclass(frozen=True)
class Integration:
    """A provider a workspace admin connects on their own authority: listed apart, never a
    sub-processor."""

    id: str
    name: str
    location: Words
    purpose: Words


class ChangeKind(StrEnum):
    ADD = "add"
    REPLACE = "replace"  # `subprocessor` takes the place of `replaces`
    REMOVE = "remove"  # `replaces` leaves the list


@dataclass(frozen=True)
class PlannedChange:
    """A change to the list, announced at `announced_at`, in force from `effective_at`."""

    id: str  # ULID
    kind: ChangeKind
    announced_at: datetime
    effective_at: datetime
    summary: Words  # what changes and why, for the changelog and the notice mail
    subprocessor: SubProcessor | None = None  # ADD, REPLACE: the newcomer
    replaces: tuple[str, ...] = ()  # REPLACE, REMOVE: ids of the providers that leave
    planned_by: str = ""  # the operator (their AWS identity, from the command)

    @property
    def processes_workspace_content(self) -> bool:
        return self.subprocessor is not None and self.subprocessor.processes_workspace_content


# Changes that process Workspace content are announced at least this long before they apply.
NOTICE_DAYS = 30
# The changelog keeps at least this long of history.
CHANGELOG_MONTHS = 24


@dataclass(frozen=True)
class RegistryView:
    """The list as it stands at a moment: in force, and announced but not yet in force."""

    at: datetime
    current: tuple[SubProcessor, ...]
    upcoming: tuple[PlannedChange, ...]
    integrations: tuple[Integration, ...]
    last_updated: datetime  # the newest change in force, else the seed's date
    changelog: tuple[PlannedChange, ...] = field(default=())  # in force, newest first
