"""Agents' attachment uploads: their records (DynamoDB) and files (S3, presigned POST)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import ServiceUnavailable
from chalicelib.store import keys
from chalicelib.store.blobs import presigned_post
from chalicelib.store.models import AttachmentUploadItem, Item
from chalicelib.tickets.agent_attachments import StoredFile, Upload


def _item(upload: Upload) -> AttachmentUploadItem:
    return AttachmentUploadItem(
        keys.workspace_pk(upload.workspace_id),
        keys.upload_sk(upload.id),
        upload_id=upload.id,
        workspace_id=upload.workspace_id,
        ticket_id=upload.ticket_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        s3_key=upload.s3_key,
        uploaded_by=upload.uploaded_by,
        created_at=upload.created_at,
        expires_at=int(upload.expires_at.timestamp()) if upload.message_id is None else None,
        message_id=upload.message_id,
    )


def _upload(item: AttachmentUploadItem) -> Upload:
    return Upload(
        id=item.upload_id,
        workspace_id=item.workspace_id,
        ticket_id=item.ticket_id,
        filename=item.filename,
        content_type=item.content_type,
        size=int(item.size),
        s3_key=item.s3_key,
        uploaded_by=item.uploaded_by,
        created_at=item.created_at,
        # An attached upload no longer expires (its `expires_at` was removed).
        expires_at=(
            datetime.fromtimestamp(int(item.expires_at), UTC)
            if item.expires_at is not None
            else datetime.max.replace(tzinfo=UTC)
        ),
        message_id=item.message_id,
    )


def claim_upload(workspace_id: str, ticket_id: str, upload_id: str, message_id: str) -> Any:
    """The transaction step that gives an upload to a message: (item, actions, condition)."""
    item = AttachmentUploadItem(keys.workspace_pk(workspace_id), keys.upload_sk(upload_id))
    actions = [
        AttachmentUploadItem.message_id.set(message_id),
        AttachmentUploadItem.expires_at.remove(),
    ]
    condition = AttachmentUploadItem.message_id.does_not_exist() & (
        AttachmentUploadItem.ticket_id == ticket_id
    )
    return item, actions, condition


class DynamoUploadStore:
    def add_upload(self, upload: Upload) -> None:
        _item(upload).save(condition=Item.pk.does_not_exist())

    def get_uploads(self, workspace_id: str, upload_ids: list[str]) -> list[Upload]:
        wanted = [(keys.workspace_pk(workspace_id), keys.upload_sk(u)) for u in upload_ids]
        return [
            _upload(item)
            for item in AttachmentUploadItem.batch_get(wanted, consistent_read=True)
            if item.workspace_id == workspace_id
        ]

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None:
        try:
            item = AttachmentUploadItem.get(
                keys.workspace_pk(workspace_id), keys.upload_sk(upload_id)
            )
        except AttachmentUploadItem.DoesNotExist:
            return None
        return _upload(item)


class S3UploadedFiles:
    """Files in the content bucket, uploaded by the browser through a presigned POST whose
    policy fixes the Content-Type and caps the size (a presigned PUT cannot cap it)."""

    def __init__(self, client: Callable[[], Any], bucket: str) -> None:
        self._client = client  # built on first use (see S3BlobStore)
        self._bucket = bucket

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        return presigned_post(
            self._client(), self._bucket, key, content_type, max_bytes, expires_seconds
        )

    def inspect(self, key: str, first_bytes: int) -> StoredFile | None:
        """One ranged GET: it proves the object exists, and gives its size (Content-Range)
        and first bytes, where a HEAD and a GET would take two calls."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client().get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{first_bytes - 1}"
            )
            head: bytes = answer["Body"].read()
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound", "InvalidRange"):
                return None  # never uploaded (or empty, which the POST policy refuses)
            raise ServiceUnavailable(
                "Storage is unavailable; try again.", code="storage_unavailable"
            ) from e
        except BotoCoreError as e:
            raise ServiceUnavailable(
                "Storage is unavailable; try again.", code="storage_unavailable"
            ) from e
        total = str(answer.get("ContentRange", "")).rpartition("/")[2]
        size = int(total) if total.isdigit() else int(answer.get("ContentLength", len(head)))
        return StoredFile(size=size, head=head)
