"""Data-subject exports: asking for one (a contact by address, or the whole workspace),
reading its progress and its download link, and the workspace's log of them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing

if TYPE_CHECKING:
    from chalicelib.privacy.exports import ExportView

EXPORT_ID = r"^[0-9A-Za-z_-]{1,64}$"


class ExportIn(Incoming):
    contact_email: EmailStr | None = Field(
        default=None,
        description="The contact whose data to export, by e-mail address (case does not "
        "matter). Give this or `scope` `workspace`.",
    )
    scope: Literal["contact", "workspace"] | None = Field(
        default=None,
        description="`workspace`: the whole workspace (contacts, tickets and chats with "
        "their messages and files, AI results, bookings, feedback); `contact` (the default with "
        "`contact_email`): one contact.",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> ExportIn:
        if self.scope == "workspace" and self.contact_email is not None:
            raise ValueError("a workspace export names no contact: leave out contact_email")
        if self.scope != "workspace" and self.contact_email is None:
            raise ValueError('give contact_email, or scope "workspace"')
        return self


class ExportProgressOut(Outgoing):
    phase: str = Field(
        description="Where the build is: `queued`, `started`, `contact`, `contacts`, "
        "`tickets`, `cc_tickets`, `bookings`, `ai_results`, `manifest`, `ready`."
    )
    tickets: int = Field(description="Tickets written into the bundle so far.")
    files: int = Field(description="Stored files (attachments, raw mail) written so far.")


class ExportOut(Outgoing):
    id: str = Field(description="The export's id.")
    scope: Literal["contact", "workspace"] = Field(description="What it covers.")
    contact_email: str | None = Field(description="The contact's address (scope `contact`).")
    status: Literal["pending", "building", "ready", "expired", "failed"] = Field(
        description="`pending`: queued; `building`; `ready`: downloadable (`download_url`); "
        "`expired`: the bundle was deleted after its retention (the request stays listed); "
        "`failed`: it could not be built (`failure`)."
    )
    progress: ExportProgressOut = Field(description="How far the build is.")
    counts: dict[str, int] = Field(
        description="How many of each class of data the bundle holds (once built): "
        "`contact`, `tickets`, `chats`, `messages`, `attachments`, `raw_mail`, `bookings`, "
        "`ai_results`, `feedback`; for a workspace `contacts`, `tickets`, `chats`, "
        "`messages`, `attachments`, `raw_mail`, `bookings`, `ai_results`, `feedback`, "
        "`help_centre_articles`."
    )
    requested_by: str = Field(description="Who asked (`user:<id>` or `api_key:<id>`).")
    requested_at: datetime = Field(description="When it was asked for.")
    built_at: datetime | None = Field(description="When the bundle was built.")
    expires_at: datetime | None = Field(
        description="When the bundle is deleted (no more links from then)."
    )
    failure: str | None = Field(description="Why it failed (status `failed`).")
    download_url: str | None = Field(
        description="A link to the ZIP, valid 15 minutes; a new one each time the export is "
        "read while it is ready (null otherwise, and in lists)."
    )
    download_expires_at: datetime | None = Field(description="When `download_url` stops working.")

    @classmethod
    def of(cls, view: ExportView) -> ExportOut:
        export = view.export
        return cls(
            id=export.id,
            scope=export.scope.value,
            contact_email=export.contact_email,
            status=view.status.value,
            progress=ExportProgressOut(
                phase=export.progress.phase,
                tickets=export.progress.tickets,
                files=export.progress.files,
            ),
            counts=export.counts,
            requested_by=export.requested_by,
            requested_at=export.requested_at,
            built_at=export.built_at,
            expires_at=export.expires_at,
            failure=export.failure,
            download_url=view.download_url,
            download_expires_at=view.download_expires_at,
        )


class ExportsOut(Outgoing):
    exports: list[ExportOut] = Field(
        description="The workspace's export requests, newest first (the latest 100): who "
        "asked, when, for what."
    )
