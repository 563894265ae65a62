"""Rules for files agents attach to replies and notes, against in-memory uploads and files."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import Conflict, PayloadTooLarge, ValidationFailed
from chalicelib.mail.outbound import MailAttachment, OutboundMail
from chalicelib.providers.mailgun import MailgunSender
from chalicelib.tickets.agent_attachments import (
    MB,
    AttachmentLimits,
    StoredFile,
    Upload,
    attachments_for_message,
    start_upload,
)
from chalicelib.tickets.file_types import looks_like

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
WS, OTHER_WS = "01JDQ2WORKSPACE00000000000", "01JDQ2OTHERWORKSPACE000000"
TICKET, OTHER_TICKET = "01JDQ2TICKET0000000000000A", "01JDQ2TICKET0000000000000B"
LIMITS = AttachmentLimits()

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 40
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01" + b"\x00" * 40


class MemoryUploads:
    def __init__(self) -> None:
        self.uploads: dict[tuple[str, str], Upload] = {}

    def add_upload(self, upload: Upload) -> None:
        self.uploads[(upload.workspace_id, upload.id)] = upload

    def get_uploads(self, workspace_id: str, upload_ids: list[str]) -> list[Upload]:
        return [self.uploads[(workspace_id, u)] for u in upload_ids if (workspace_id, u) in self]

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None:
        return self.uploads.get((workspace_id, upload_id))

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.uploads


class MemoryFiles:
    """The bucket: what the browser POSTed, by key."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.presigned: list[tuple[str, str, int]] = []

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        self.presigned.append((key, content_type, max_bytes))
        return "https://bucket.test/", {"key": key, "Content-Type": content_type}

    def inspect(self, key: str, first_bytes: int) -> StoredFile | None:
        content = self.objects.get(key)
        return None if content is None else StoredFile(len(content), content[:first_bytes])


@pytest.fixture()
def uploads() -> MemoryUploads:
    return MemoryUploads()


@pytest.fixture()
def files() -> MemoryFiles:
    return MemoryFiles()


def ask(uploads, files, filename="invoice.pdf", content_type="application/pdf", size=None, **kw):
    return start_upload(
        uploads,
        files,
        kw.get("limits", LIMITS),
        kw.get("now", NOW),
        kw.get("workspace_id", WS),
        kw.get("ticket_id", TICKET),
        "user:ann",
        filename,
        content_type,
        len(PDF) if size is None else size,
    )


def uploaded(uploads, files, content: bytes, **kw) -> str:
    """Asks for an upload and puts `content` where the presigned POST would."""
    permit = ask(uploads, files, size=len(content), **kw)
    files.objects[permit.upload.s3_key] = content
    return permit.upload.id


def attach(uploads, files, ids, ticket_id=TICKET, workspace_id=WS, now=NOW, limits=LIMITS):
    return attachments_for_message(uploads, files, limits, now, workspace_id, ticket_id, ids)


# -- asking for an upload ------------------------------------------------------------------


def test_an_upload_is_presigned_for_its_type_and_announced_size_under_the_workspace(uploads, files):
    permit = ask(uploads, files, content_type="Application/PDF", size=48_213)

    assert permit.upload.s3_key == f"ws/{WS}/attachments/{permit.upload.id}"
    assert files.presigned == [(permit.upload.s3_key, "application/pdf", 48_213)]
    assert permit.max_bytes == 48_213
    assert permit.upload.ticket_id == TICKET and permit.upload.message_id is None
    assert uploads.get_upload(WS, permit.upload.id) == permit.upload
    assert permit.upload.expires_at == NOW + timedelta(seconds=LIMITS.pending_seconds)


@pytest.mark.parametrize(
    "filename", ["setup.exe", "invoice.pdf.exe", "run.SH", "macro.vbs", "installer.msi", "x.js"]
)
def test_programs_and_scripts_are_refused_by_name_and_nothing_is_recorded(uploads, files, filename):
    with pytest.raises(ValidationFailed) as refused:
        ask(uploads, files, filename=filename)

    assert refused.value.code == "attachment_type_refused"
    assert uploads.uploads == {} and files.presigned == []


@pytest.mark.parametrize(
    "content_type", ["application/x-msdownload", "application/x-sh", "text/html", "image/svg+xml"]
)
def test_types_outside_the_list_are_refused(uploads, files, content_type):
    with pytest.raises(ValidationFailed) as refused:
        ask(uploads, files, filename="file.bin.txt", content_type=content_type)

    assert refused.value.code == "attachment_type_refused"
    assert uploads.uploads == {}


def test_a_file_over_the_per_file_cap_is_refused_before_anything_is_recorded(uploads, files):
    with pytest.raises(PayloadTooLarge) as refused:
        ask(uploads, files, size=LIMITS.max_file_bytes + 1)

    assert refused.value.status == 413 and refused.value.code == "attachment_too_large"
    assert uploads.uploads == {} and files.presigned == []


@pytest.mark.parametrize("filename", ["", "   ", "../etc/passwd", "a\\b.pdf", "bell\x07.pdf"])
def test_file_names_that_cannot_be_shown_or_sent_are_refused(uploads, files, filename):
    with pytest.raises(ValidationFailed):
        ask(uploads, files, filename=filename)
    assert uploads.uploads == {}


# -- attaching to a message ----------------------------------------------------------------


def test_an_uploaded_pdf_becomes_an_attachment_with_its_stored_size(uploads, files):
    upload_id = uploaded(uploads, files, PDF)

    [attachment] = attach(uploads, files, [upload_id])

    assert attachment.id == upload_id
    assert attachment.filename == "invoice.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.s3_key == f"ws/{WS}/attachments/{upload_id}"


@pytest.mark.parametrize("content", [WINDOWS_PROGRAM, LINUX_PROGRAM, b"#!/bin/sh\nrm -rf ~\n"])
def test_a_pdf_that_is_really_a_program_is_refused_by_its_first_bytes(uploads, files, content):
    upload_id = uploaded(uploads, files, content)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_type_refused"


def test_a_png_named_as_a_pdf_is_refused(uploads, files):
    upload_id = uploaded(uploads, files, PNG)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_type_refused"


def test_a_text_file_that_starts_like_a_script_is_refused(uploads, files):
    upload_id = uploaded(
        uploads, files, b"#!/usr/bin/env python\nprint(1)\n", content_type="text/plain"
    )

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_type_refused"


def test_an_upload_of_another_ticket_is_refused(uploads, files):
    upload_id = uploaded(uploads, files, PDF, ticket_id=OTHER_TICKET)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_not_usable"


def test_an_upload_of_another_workspace_is_not_found(uploads, files):
    upload_id = uploaded(uploads, files, PDF, workspace_id=OTHER_WS)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_not_usable"
    assert "does not exist" in refused.value.message


def test_an_upload_already_on_a_message_is_refused(uploads, files):
    upload_id = uploaded(uploads, files, PDF)
    uploads.add_upload(replace(uploads.get_upload(WS, upload_id), message_id="01JDQ2MSG"))

    with pytest.raises(Conflict) as refused:
        attach(uploads, files, [upload_id])

    assert refused.value.code == "attachment_already_used"


def test_an_upload_the_browser_never_sent_is_refused(uploads, files):
    permit = ask(uploads, files)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [permit.upload.id])

    assert refused.value.code == "attachment_not_usable"


def test_an_upload_left_unused_past_its_time_is_refused(uploads, files):
    upload_id = uploaded(uploads, files, PDF)
    later = NOW + timedelta(seconds=LIMITS.pending_seconds + 1)

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, [upload_id], now=later)

    assert refused.value.code == "attachment_not_usable"


def test_a_file_larger_than_announced_is_refused(uploads, files):
    permit = ask(uploads, files, size=len(PDF))
    files.objects[permit.upload.s3_key] = PDF + b"x" * 100

    with pytest.raises(PayloadTooLarge):
        attach(uploads, files, [permit.upload.id])


def test_files_over_the_message_total_are_refused(uploads, files):
    limits = AttachmentLimits(max_file_bytes=2 * MB, max_message_bytes=3 * MB)
    big = PDF + b"0" * (2 * MB - len(PDF))
    ids = [uploaded(uploads, files, big, limits=limits) for _ in range(2)]

    assert len(attach(uploads, files, ids[:1], limits=limits)) == 1
    with pytest.raises(PayloadTooLarge) as refused:
        attach(uploads, files, ids, limits=limits)

    assert refused.value.code == "attachments_too_large"


def test_more_files_than_a_message_carries_are_refused(uploads, files):
    ids = [uploaded(uploads, files, PDF) for _ in range(LIMITS.max_files + 1)]

    with pytest.raises(ValidationFailed) as refused:
        attach(uploads, files, ids)

    assert refused.value.code == "too_many_attachments"


def test_the_same_upload_listed_twice_is_attached_once(uploads, files):
    upload_id = uploaded(uploads, files, PDF)

    assert [a.id for a in attach(uploads, files, [upload_id, upload_id])] == [upload_id]


# -- file types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("application/pdf", PDF),
        ("image/png", PNG),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("image/gif", b"GIF89a\x01\x00"),
        ("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 "),
        ("text/plain", "Bonjour, voilà le relevé 日本".encode()),
        ("text/csv", b"order,amount\n1042,19.90\n"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04\x14\x00\x06\x00",
        ),
    ],
)
def test_each_accepted_type_is_recognised_by_its_first_bytes(content_type, head):
    assert looks_like(content_type, head)
    assert not looks_like(content_type, WINDOWS_PROGRAM)


def test_text_cut_in_the_middle_of_a_character_by_the_sniff_is_still_text():
    assert looks_like("text/plain", "relevé 日本".encode()[:-1])
    assert not looks_like("text/plain", b"abc\x00def")


# -- sent with the mail --------------------------------------------------------------------


def test_a_queued_reply_keeps_its_attachments_through_the_queue():
    mail = OutboundMail(
        mail_id="m1",
        workspace_id=WS,
        purpose="ticket_reply",
        from_name="Ann via Acme",
        to=["carla@customer.test"],
        subject="Re: invoice",
        text="Here it is.",
        html="<p>Here it is.</p>",
        attachments=[MailAttachment("invoice.pdf", "application/pdf", len(PDF), "ws/x/a/1")],
    )

    assert OutboundMail.from_json(mail.to_json()) == mail
    # A mail queued before attachments existed still reads.
    before = json.loads(mail.to_json())
    del before["attachments"]
    assert OutboundMail.from_json(json.dumps(before)).attachments == []


def test_mailgun_gets_each_attachment_as_a_file_with_its_name_type_and_bytes():
    stored = {"ws/x/attachments/1": PDF, "ws/x/attachments/2": PNG}
    sender = MailgunSender("https://mailgun.test", "mg.test", "key", read_file=stored.__getitem__)
    mail = OutboundMail(
        mail_id="m1",
        workspace_id=WS,
        purpose="ticket_reply",
        from_name="Ann",
        to=["carla@customer.test"],
        subject="Re",
        text="t",
        html="",
        attachments=[
            MailAttachment("invoice.pdf", "application/pdf", len(PDF), "ws/x/attachments/1"),
            MailAttachment("screen.png", "image/png", len(PNG), "ws/x/attachments/2"),
        ],
    )

    assert sender.attachment_files(mail) == [
        ("attachment", ("invoice.pdf", PDF, "application/pdf")),
        ("attachment", ("screen.png", PNG, "image/png")),
    ]
