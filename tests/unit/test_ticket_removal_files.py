"""A stored file deleted by a ticket's removal counts once, whatever S3 answers for a key
that is gone (404, or 403 to a role without s3:ListBucket)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.ticket_removal import delete_stored


class FakeS3:
    def __init__(self, held: set[str], missing_answer: str = "404") -> None:
        self.held = held
        self.missing_answer = missing_answer
        self.deleted: list[str] = []

    def head_object(self, Bucket: str, Key: str) -> dict[str, int]:
        if Key not in self.held:
            raise ClientError({"Error": {"Code": self.missing_answer}}, "HeadObject")
        return {"ContentLength": 1}

    def delete_object(self, Bucket: str, Key: str) -> None:
        if self.missing_answer == "AccessDenied":
            raise ClientError({"Error": {"Code": "AccessDenied"}}, "DeleteObject")
        self.held.discard(Key)
        self.deleted.append(Key)


@pytest.mark.parametrize("missing_answer", ["404", "NoSuchKey", "403"])
def test_a_file_is_deleted_and_counted_once_however_s3_says_it_is_gone(missing_answer):
    s3 = FakeS3({"inbound/2026/12/01/M1"}, missing_answer)
    blobs = S3BlobStore(lambda: s3, "content")

    assert delete_stored(blobs, "inbound/2026/12/01/M1") == 1
    assert delete_stored(blobs, "inbound/2026/12/01/M1") == 0
    assert "inbound/2026/12/01/M1" not in s3.held


def test_a_role_that_may_not_delete_is_told_so_rather_than_leaving_the_file_silently():
    s3 = FakeS3(set(), "AccessDenied")

    with pytest.raises(ClientError):
        delete_stored(S3BlobStore(lambda: s3, "content"), "ws/W1/attachments/M1-1")
