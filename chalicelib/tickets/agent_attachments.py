"""Files agents attach to replies and notes.

1. `start_upload`: the agent names the file (name, type, size); we check the limits and
   answer a presigned S3 POST for `ws/<ws>/attachments/<upload id>` (S3 enforces the type
   and the size) and record the upload as pending, for this ticket.
2. `attachments_for_message`: a reply or note lists upload ids; each must be a pending
   upload of this workspace and ticket, uploaded, within the limits and, by its first bytes,
   of its declared type (no programs or scripts).  The message's transaction then claims the
   uploads (`TicketStore.save_ticket(..., claim_uploads=...)`), so an upload is used once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.errors import Conflict, PayloadTooLarge, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.tickets.file_types import (
    ATTACHMENT_TYPES,
    SNIFF_BYTES,
    has_blocked_extension,
    looks_like,
    normalise_type,
)
from chalicelib.tickets.model import AttachmentRef

MB = 1024 * 1024


@dataclass(frozen=True)
class AttachmentLimits:
    # Mailgun takes messages of at most 25 MB as sent, and base64 makes files a third larger:
    # 18 MB of files (about 24 MB encoded) leaves room for the text of the reply.
    max_file_bytes: int = 15 * MB
    max_message_bytes: int = 18 * MB
    max_files: int = 10
    upload_expires_seconds: int = 900  # how long the presigned POST works
    pending_seconds: int = 24 * 3600  # an upload not attached by then is refused


@dataclass(frozen=True)
class Upload:
    """A file an agent asked to upload for a ticket; `message_id` once a message uses it."""

    id: str
    workspace_id: str
    ticket_id: str
    filename: str
    content_type: str
    size: int  # as declared when the upload was asked for
    s3_key: str
    uploaded_by: str
    created_at: datetime
    expires_at: datetime
    message_id: str | None = None


@dataclass(frozen=True)
class StoredFile:
    size: int
    head: bytes  # the first SNIFF_BYTES bytes (fewer for a smaller file)


class UploadStore(Protocol):
    """Upload records (`WS#<ws>` / `UPLOAD#<id>`); claimed in the message's transaction."""

    def add_upload(self, upload: Upload) -> None: ...
    def get_uploads(self, workspace_id: str, upload_ids: list[str]) -> list[Upload]:
        """The uploads of this workspace among `upload_ids` (one BatchGetItem)."""

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None: ...


class UploadedFiles(Protocol):
    """Where the browser puts the files (S3)."""

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST: the URL and the form fields to send with the file."""

    def inspect(self, key: str, first_bytes: int) -> StoredFile | None:
        """The object's size and first bytes (one ranged GET); None when nothing is there."""


def attachment_key(workspace_id: str, upload_id: str) -> str:
    """Next to inbound mail's attachments (`<message id>-<n>`); an upload id has no dash."""
    return f"ws/{workspace_id}/attachments/{upload_id}"


@dataclass(frozen=True)
class UploadPermit:
    upload: Upload
    upload_url: str  # POST the `fields` and then the file (`file` field) as multipart/form-data
    fields: dict[str, str]
    max_bytes: int
    upload_expires_at: datetime


def _refuse_type(message: str) -> ValidationFailed:
    return ValidationFailed(
        message,
        code="attachment_type_refused",
        details=[{"field": "content_type", "message": message}],
    )


def start_upload(
    uploads: UploadStore,
    files: UploadedFiles,
    limits: AttachmentLimits,
    now: datetime,
    workspace_id: str,
    ticket_id: str,
    actor: str,
    filename: str,
    content_type: str,
    size: int,
) -> UploadPermit:
    """Checks name, type and size, records a pending upload for `ticket_id` and presigns
    the POST.  Writes one PutItem; S3 is touched only when the browser uploads."""
    name = filename.strip()
    declared = normalise_type(content_type)
    if not name or "/" in name or "\\" in name or any(ord(ch) < 32 for ch in name):
        raise ValidationFailed(
            "A file name without slashes or control characters is needed.",
            details=[{"field": "filename", "message": "not a usable file name"}],
        )
    if has_blocked_extension(name):
        raise _refuse_type(f"Programs and scripts cannot be attached ({name}).")
    if declared not in ATTACHMENT_TYPES:
        raise _refuse_type(
            "Attachments are PDF, PNG, JPEG, GIF, WebP, plain text, CSV or Word, Excel and "
            "PowerPoint documents."
        )
    if size < 1:
        raise ValidationFailed(
            "The file is empty.", details=[{"field": "size", "message": "at least 1 byte"}]
        )
    if size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"A file has at most {limits.max_file_bytes // MB} MB.", code="attachment_too_large"
        )
    upload_id = new_id()
    upload = Upload(
        id=upload_id,
        workspace_id=workspace_id,
        ticket_id=ticket_id,
        filename=name,
        content_type=declared,
        size=size,
        s3_key=attachment_key(workspace_id, upload_id),
        uploaded_by=actor,
        created_at=now,
        expires_at=now + timedelta(seconds=limits.pending_seconds),
    )
    # S3 refuses more than the declared size (and another type) through the POST policy.
    url, fields = files.presign_upload(upload.s3_key, declared, size, limits.upload_expires_seconds)
    uploads.add_upload(upload)
    return UploadPermit(
        upload=upload,
        upload_url=url,
        fields=fields,
        max_bytes=size,
        upload_expires_at=now + timedelta(seconds=limits.upload_expires_seconds),
    )


def _not_usable(upload_id: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        f"Attachment {upload_id} {why}.",
        code="attachment_not_usable",
        details=[{"field": "attachment_ids", "message": f"{upload_id}: {why}"}],
    )


def attachments_for_message(
    uploads: UploadStore,
    files: UploadedFiles,
    limits: AttachmentLimits,
    now: datetime,
    workspace_id: str,
    ticket_id: str,
    upload_ids: Sequence[str],
) -> list[AttachmentRef]:
    """The attachments a new message on `ticket_id` may carry, in the order given.

    422 `attachment_not_usable`: unknown here (another workspace's uploads are not found),
    asked for another ticket, expired, or not uploaded; 409 `attachment_already_used`; 422
    `attachment_type_refused` when the first bytes are not of the declared type; 413
    `attachments_too_large` over the limits.  Reads one BatchGetItem and one ranged S3 GET
    per file; writes nothing."""
    wanted = list(dict.fromkeys(upload_ids))
    if not wanted:
        return []
    if len(wanted) > limits.max_files:
        raise ValidationFailed(
            f"A message carries at most {limits.max_files} attachments.",
            code="too_many_attachments",
            details=[{"field": "attachment_ids", "message": f"at most {limits.max_files}"}],
        )
    found = {u.id: u for u in uploads.get_uploads(workspace_id, wanted)}
    attachments: list[AttachmentRef] = []
    total = 0
    for upload_id in wanted:
        upload = found.get(upload_id)
        if upload is None or upload.workspace_id != workspace_id:
            raise _not_usable(upload_id, "does not exist")
        if upload.ticket_id != ticket_id:
            raise _not_usable(upload_id, "was uploaded for another ticket")
        if upload.message_id is not None:
            raise Conflict(
                f"Attachment {upload_id} is already on another message; upload it again.",
                code="attachment_already_used",
            )
        if upload.expires_at <= now:
            raise _not_usable(upload_id, "expired; upload it again")
        stored = files.inspect(upload.s3_key, SNIFF_BYTES)
        if stored is None:
            raise _not_usable(upload_id, "was not uploaded")
        if stored.size > limits.max_file_bytes or stored.size > upload.size:
            raise PayloadTooLarge(
                f"{upload.filename} is larger than {limits.max_file_bytes // MB} MB "
                "or than announced.",
                code="attachments_too_large",
            )
        if not looks_like(upload.content_type, stored.head):
            raise ValidationFailed(
                f"{upload.filename} is not a {upload.content_type} file "
                "(programs and scripts cannot be attached).",
                code="attachment_type_refused",
                details=[{"field": "attachment_ids", "message": f"{upload_id}: content refused"}],
            )
        total += stored.size
        if total > limits.max_message_bytes:
            raise PayloadTooLarge(
                f"A message's attachments add up to at most {limits.max_message_bytes // MB} MB.",
                code="attachments_too_large",
            )
        attachments.append(
            AttachmentRef(
                id=upload.id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=stored.size,
                s3_key=upload.s3_key,
            )
        )
    return attachments
