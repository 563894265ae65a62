"""Images for articles: the browser uploads them straight to S3 with a presigned POST (a
POST policy can limit the size, a presigned PUT cannot), then the article's Markdown links
to the image's public URL, which redirects to a short-lived presigned GET."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.errors import NotFound, PayloadTooLarge, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps

IMAGE_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_IMAGE_NAME = re.compile(r"^[0-9A-Z]{26}\.(png|jpg|gif|webp)$")


def image_key(workspace_id: str, name: str) -> str:
    return f"ws/{workspace_id}/kb/{name}"


@dataclass(frozen=True)
class ImageUpload:
    upload_url: str  # POST the `fields` and then the file (`file` field) as multipart/form-data
    fields: dict[str, str]
    key: str
    public_url: str
    max_bytes: int
    expires_at: datetime


def start_image_upload(
    deps: KbDeps, workspace_id: str, filename: str, content_type: str, size: int
) -> ImageUpload:
    """A presigned POST for one image of at most `policy.max_image_bytes`, of one of
    IMAGE_TYPES, to `ws/<ws>/kb/<ulid>.<ext>` (the filename only names the extension to
    expect; S3 enforces the type and size).  Touches nothing until the browser uploads."""
    extension = IMAGE_TYPES.get(content_type.lower())
    if extension is None:
        raise ValidationFailed(
            f"Images are {', '.join(IMAGE_TYPES)}.",
            code="unsupported_image_type",
            details=[{"field": "content_type", "message": "not an accepted image type"}],
        )
    if size > deps.policy.max_image_bytes:
        raise PayloadTooLarge(
            f"An image has at most {deps.policy.max_image_bytes // (1024 * 1024)} MB.",
            code="image_too_large",
        )
    if size < 1 or not filename.strip():
        raise ValidationFailed(
            "The image needs a name and a size.",
            details=[{"field": "size", "message": "at least 1 byte"}],
        )
    name = f"{new_id()}.{extension}"
    key = image_key(workspace_id, name)
    url, fields = deps.images.presign_upload(
        key, content_type.lower(), deps.policy.max_image_bytes, deps.policy.upload_expires_seconds
    )
    return ImageUpload(
        upload_url=url,
        fields=fields,
        key=key,
        public_url=f"{deps.policy.public_base_url.rstrip('/')}/v1/kb/images/{workspace_id}/{name}",
        max_bytes=deps.policy.max_image_bytes,
        expires_at=deps.clock.now() + timedelta(seconds=deps.policy.upload_expires_seconds),
    )


def image_link(deps: KbDeps, workspace_id: str, name: str) -> str:
    """A presigned GET of an article image; 404 for names that are not image names (only
    keys under `ws/<ws>/kb/` can be reached)."""
    if not _IMAGE_NAME.match(name) or not re.fullmatch(r"[0-9A-Z]{26}", workspace_id):
        raise NotFound("No such image.", code="image_not_found")
    return deps.images.download_url(image_key(workspace_id, name), deps.policy.image_link_seconds)
