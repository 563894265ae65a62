"""Workspace deletion by its owner: an owner schedules it, typing the workspace's slug as the
confirmation; it happens 7 days later (every member is told by e-mail and sees it here) and
an owner can cancel it until then.  The hourly `workspace_deletion_job` then removes
everything of the workspace (chalicelib/privacy/workspace_deletion.py).  Open while the
workspace is read-only (chalicelib/api/plan_gate.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import Role
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import WorkspaceDeletionIn, WorkspaceDeletionOut

schemas = lazy_module("chalicelib.api.schemas")
deletion = lazy_module("chalicelib.privacy.workspace_deletion")
bp = Blueprint(__name__)
TAG = "workspace"
PATH = "/v1/workspace/deletion"
OWNERS = frozenset({Role.OWNER})


@operation(
    bp,
    "GET",
    PATH,
    summary="Whether the workspace is to be deleted, and when",
    tag=TAG,
    response="WorkspaceDeletionOut",
)
def read_deletion(call: Call) -> WorkspaceDeletionOut:
    found = deletion.deletion_of(bootstrap.workspace_deletion_deps(), call.member.workspace_id)
    return schemas.WorkspaceDeletionOut.of(found)


@operation(
    bp,
    "POST",
    PATH,
    summary="Schedule the workspace's deletion, 7 days from now",
    description="Owners, signed in (not with an API key). `confirm_slug` must be the "
    "workspace's slug, typed exactly (422 `confirmation_mismatch` otherwise: nothing is "
    "scheduled). Every member is told by e-mail, in their language. Until `delete_at` an "
    "owner can cancel with `DELETE`; then everything of the workspace is removed: its "
    "subscription ends (the unused whole days refunded, as cancelling now does), and its "
    "tickets, contacts, articles, bookings, files, settings and memberships are deleted; "
    "people's accounts stay. Asked again while scheduled: the same deletion (its date does "
    "not move). 409 `deletion_in_progress` once it is due.",
    tag=TAG,
    body="WorkspaceDeletionIn",
    response="WorkspaceDeletionOut",
    status=202,
    roles=OWNERS,
)
def schedule_deletion(call: Call) -> WorkspaceDeletionOut:
    body: WorkspaceDeletionIn = call.body
    scheduled = deletion.schedule_deletion(
        bootstrap.workspace_deletion_deps(),
        call.member.workspace_id,
        call.member.actor,
        body.confirm_slug,
    )
    return schemas.WorkspaceDeletionOut.of(scheduled)


@operation(
    bp,
    "DELETE",
    PATH,
    summary="Cancel the workspace's scheduled deletion",
    description="Owners, during the grace period; every member is told by e-mail. 409 "
    "`not_scheduled` when no deletion is scheduled, 409 `deletion_in_progress` once it is "
    "due.",
    tag=TAG,
    response="WorkspaceDeletionOut",
    roles=OWNERS,
)
def cancel_deletion(call: Call) -> WorkspaceDeletionOut:
    deletion.cancel_deletion(
        bootstrap.workspace_deletion_deps(), call.member.workspace_id, call.member.actor
    )
    return schemas.WorkspaceDeletionOut.of(None)
