"""S3: raw mail, attachments (served through short-lived presigned URLs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from chalicelib.errors import ServiceUnavailable


def presigned_post(
    s3: Any, bucket: str, key: str, content_type: str, max_bytes: int, expires_seconds: int
) -> tuple[str, dict[str, str]]:
    """Where and with which form fields a browser POSTs one file to `key`: the policy fixes
    its Content-Type and caps its size (a presigned PUT cannot cap the size)."""
    posted: dict[str, Any] = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_seconds,
    )
    return str(posted["url"]), {k: str(v) for k, v in posted["fields"].items()}


class S3BlobStore:
    """`client` builds the S3 client on first use: a request that never touches S3 (an inbox
    page) does not pay for building one in a fresh container."""

    def __init__(self, client: Callable[[], Any], bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @property
    def _s3(self) -> Any:
        return self._client()

    def put(self, key: str, content: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=content,
                ContentType=content_type,
                ServerSideEncryption="AES256",
            )
        except (BotoCoreError, ClientError) as e:
            raise ServiceUnavailable(
                "Storage is unavailable; try again.", code="storage_unavailable"
            ) from e

    def get(self, key: str) -> bytes:
        body: bytes = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def get_if_exists(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        from botocore.exceptions import ClientError

        try:
            return self.get(key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def delete(self, key: str) -> None:
        """Deletes the object (no error when it is already gone)."""
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def download_url(self, key: str, filename: str, expires_seconds: int) -> str:
        disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=expires_seconds,
        )
        return url
