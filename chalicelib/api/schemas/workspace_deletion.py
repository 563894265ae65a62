"""Workspace deletion by its owner: scheduling it (the slug typed as the confirmation), its
state as every member sees it, and cancelling it during the grace period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from chalicelib.api.schemas.common import Incoming, Outgoing

if TYPE_CHECKING:
    from chalicelib.privacy.workspace_deletion import WorkspaceDeletion


class WorkspaceDeletionIn(Incoming):
    confirm_slug: str = Field(
        min_length=1,
        max_length=200,
        description="The workspace's slug, typed exactly: the confirmation that this "
        "workspace is the one to delete.",
    )


class WorkspaceDeletionOut(Outgoing):
    status: Literal["none", "scheduled", "deleting"] = Field(
        description="`none`: no deletion is planned; `scheduled`: the workspace will be "
        "deleted at `delete_at` (an owner may cancel until then); `deleting`: it is being "
        "deleted."
    )
    delete_at: datetime | None = Field(description="When the deletion begins.")
    requested_by: str | None = Field(description="The owner who asked (`user:<id>`).")
    requested_at: datetime | None = Field(description="When they asked.")

    @classmethod
    def of(cls, deletion: WorkspaceDeletion | None) -> WorkspaceDeletionOut:
        if deletion is None:
            return cls(status="none", delete_at=None, requested_by=None, requested_at=None)
        return cls(
            status=deletion.status.value,
            delete_at=deletion.delete_at,
            requested_by=deletion.requested_by,
            requested_at=deletion.requested_at,
        )
