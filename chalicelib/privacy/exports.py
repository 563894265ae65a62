"""Data-subject exports: an owner or admin asks for everything held about one contact (by
e-mail address) or the whole workspace (contacts, tickets, files, AI results, bookings,
feedback); a queued job builds the bundle (chalicelib/privacy/export_bundle.py) into the
content bucket under `exports/<workspace>/<export id>.zip`; the request is kept as the log
(who, when, what scope) and answers a fresh download link of 15 minutes each time it is
read while the bundle is kept (EXPORT_RETENTION_DAYS, the bucket's lifecycle on `exports/`).

An unknown address is refused (404 `contact_not_found`), nothing recorded: an export of
nobody would only say the address is unknown, which the answer says already.

The job is idempotent and resumable: a ready export is left as it is; any other is rebuilt
from the start (the bundle's bytes depend only on the request and the data) and overwrites
the same object; its progress is recorded on the export as it goes.  After MAX_ATTEMPTS
failed runs the export is marked failed (the queue then moves the job to its dead-letter
queue)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import IO, Protocol

from chalicelib.clock import Clock
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.privacy.contact_data import ContactData
from chalicelib.privacy.export_bundle import (
    BundleRequest,
    Progress,
    write_contact_bundle,
    write_workspace_bundle,
)

# As long as the bucket keeps `exports/` (infra/template.py EXPORTS_RETENTION_DAYS).
EXPORT_RETENTION_DAYS = 30
LINK_SECONDS = 15 * 60
MAX_ATTEMPTS = 5  # the queue's maxReceiveCount
LISTED = 100


class ExportScope(StrEnum):
    CONTACT = "contact"
    WORKSPACE = "workspace"


class ExportStatus(StrEnum):
    PENDING = "pending"  # queued
    BUILDING = "building"
    READY = "ready"  # downloadable until `expires_at`
    EXPIRED = "expired"  # the bundle is deleted; the request stays in the log
    FAILED = "failed"


@dataclass(frozen=True)
class Export:
    id: str
    workspace_id: str
    scope: ExportScope
    requested_by: str  # "user:<id>" or "api_key:<id>"
    requested_at: datetime
    contact_email: str | None = None  # scope contact
    contact_id: str | None = None
    status: ExportStatus = ExportStatus.PENDING
    progress: Progress = field(default_factory=Progress)
    counts: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    object_key: str | None = None
    built_at: datetime | None = None
    expires_at: datetime | None = None
    failure: str | None = None

    def status_at(self, now: datetime) -> ExportStatus:
        if self.status is ExportStatus.READY and self.expires_at and now >= self.expires_at:
            return ExportStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class ExportView:
    """An export as its reader sees it now: a fresh link while it is ready."""

    export: Export
    status: ExportStatus
    download_url: str | None = None
    download_expires_at: datetime | None = None


# -- ports (adapters: chalicelib/store/privacy_export_repo.py) ---------------------------


class Exports(Protocol):
    """The export requests, in the workspace's partition."""

    def add(self, export: Export) -> None: ...
    def save(self, export: Export) -> None: ...
    def get(self, workspace_id: str, export_id: str) -> Export | None: ...
    def newest(self, workspace_id: str, limit: int) -> list[Export]:
        """The workspace's exports, newest first (one Query)."""


class ExportJobs(Protocol):
    def send(self, workspace_id: str, export_id: str) -> None:
        """Queues the job that builds the export (the `privacy-jobs` queue)."""


class ExportFiles(Protocol):
    def store(self, key: str, bundle: IO[bytes]) -> None:
        """Uploads the bundle (a ZIP) to `key` of the content bucket."""

    def link(self, key: str, filename: str, expires_seconds: int) -> str:
        """A presigned GET of the object."""


@dataclass(frozen=True)
class ExportDeps:
    data: ContactData
    exports: Exports
    jobs: ExportJobs
    files: ExportFiles
    clock: Clock


def export_key(workspace_id: str, export_id: str) -> str:
    return f"exports/{workspace_id}/{export_id}.zip"


# -- the requests ---------------------------------------------------------------------


def request_export(
    deps: ExportDeps, workspace_id: str, actor: str, contact_email: str | None
) -> ExportView:
    """Records the request and queues its job (PutItem, SQS).  `contact_email` None: the
    whole workspace.  404 `contact_not_found` for an address no contact has."""
    contact_id = None
    if contact_email is not None:
        contact = deps.data.contacts.contact_by_email(workspace_id, contact_email)
        if contact is None:
            raise NotFound("No contact has this address.", code="contact_not_found")
        contact_id = contact.id
    export = Export(
        id=new_id(),
        workspace_id=workspace_id,
        scope=ExportScope.CONTACT if contact_email is not None else ExportScope.WORKSPACE,
        requested_by=actor,
        requested_at=deps.clock.now(),
        contact_email=contact_email,
        contact_id=contact_id,
    )
    deps.exports.add(export)
    deps.jobs.send(workspace_id, export.id)
    return ExportView(export, export.status)


def view_export(deps: ExportDeps, workspace_id: str, export_id: str) -> ExportView:
    """The export with a new 15-minute download link while it is ready (GetItem; the link
    is signed locally).  404 `export_not_found`, also for another workspace's."""
    export = deps.exports.get(workspace_id, export_id)
    if export is None:
        raise NotFound("There is no export by that id.", code="export_not_found")
    now = deps.clock.now()
    status = export.status_at(now)
    if status is not ExportStatus.READY or export.object_key is None:
        return ExportView(export, status)
    filename = f"helptal-export-{export.id}.zip"
    url = deps.files.link(export.object_key, filename, LINK_SECONDS)
    return ExportView(export, status, url, now + timedelta(seconds=LINK_SECONDS))


def exports_of(deps: ExportDeps, workspace_id: str) -> list[ExportView]:
    """The workspace's export requests, newest first (the log; one Query)."""
    now = deps.clock.now()
    return [ExportView(e, e.status_at(now)) for e in deps.exports.newest(workspace_id, LISTED)]


# -- the job --------------------------------------------------------------------------


def build_export(deps: ExportDeps, workspace_id: str, export_id: str) -> Export | None:
    """Builds the export's bundle and uploads it; records progress, then the counts and
    the expiry.  A ready, expired or failed export is left as it is; None: no such export."""
    export = deps.exports.get(workspace_id, export_id)
    if export is None or export.status in (ExportStatus.READY, ExportStatus.FAILED):
        return export
    export = replace(
        export,
        status=ExportStatus.BUILDING,
        attempts=export.attempts + 1,
        progress=Progress(phase="started"),
        failure=None,
    )
    deps.exports.save(export)
    try:
        return _build(deps, export)
    except Exception as e:
        if export.attempts >= MAX_ATTEMPTS:
            deps.exports.save(replace(export, status=ExportStatus.FAILED, failure=type(e).__name__))
        raise


def _build(deps: ExportDeps, export: Export) -> Export:
    current = export

    def report(progress: Progress) -> None:
        nonlocal current
        current = replace(current, progress=replace(progress))
        deps.exports.save(current)

    request = BundleRequest(
        export_id=export.id,
        workspace_id=export.workspace_id,
        requested_by=export.requested_by,
        requested_at=export.requested_at,
        kept_days=EXPORT_RETENTION_DAYS,
    )
    key = export_key(export.workspace_id, export.id)
    with tempfile.TemporaryFile() as target:
        if export.scope is ExportScope.CONTACT and export.contact_email is not None:
            contact = deps.data.contacts.contact_by_email(export.workspace_id, export.contact_email)
            if contact is None:  # erased since it was asked for
                failed = replace(export, status=ExportStatus.FAILED, failure="contact_not_found")
                deps.exports.save(failed)
                return failed
            counts = write_contact_bundle(deps.data, request, contact, target, report)
        else:
            counts = write_workspace_bundle(deps.data, request, target, report)
        target.seek(0)
        deps.files.store(key, target)
    built_at = deps.clock.now()
    done = replace(
        current,
        status=ExportStatus.READY,
        progress=replace(current.progress, phase="ready"),
        counts=counts,
        object_key=key,
        built_at=built_at,
        expires_at=built_at + timedelta(days=EXPORT_RETENTION_DAYS),
    )
    deps.exports.save(done)
    return done
