"""Agents attach files to replies and notes: uploaded through a presigned POST to S3 (moto),
checked when a message uses them, mailed with a reply (fake Mailgun), shown on the ticket."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from app import app
from devstack.pump import EventPump
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _send_queued_mail(pump):
    [subscription] = [q for q in pump.queues if q.name == "mail_out_worker"]
    while pump.poll_queue(subscription).received:
        pass


@pytest.fixture()
def desk(api, fake_mailgun):
    """A workspace with a ticket from carla@customer.test."""
    owner = api.sign_up()
    drain_mail_queue()
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "carla@customer.test"}, "subject": "Invoice", "body": "Send it"},
        token=owner["token"],
    )
    assert status == 201, ticket
    return owner, ticket


def ask_upload(api, token, ticket_id, filename, content_type, size):
    return api.request(
        "POST",
        f"/v1/tickets/{ticket_id}/attachments",
        {"filename": filename, "content_type": content_type, "size": size},
        token=token,
    )


def upload(api, token, ticket_id, filename, content_type, content):
    """Asks for an upload and POSTs `content` to S3 as a browser would; returns its id."""
    status, permit, _ = ask_upload(api, token, ticket_id, filename, content_type, len(content))
    assert status == 201, permit
    posted = requests.post(
        permit["upload_url"],
        data=permit["fields"],
        files={"file": (filename, content, content_type)},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return permit["id"]


def post_message(api, token, ticket_id, attachment_ids, kind="reply", body="See attached."):
    return api.request(
        "POST",
        f"/v1/tickets/{ticket_id}/messages",
        {"body": body, "kind": kind, "attachment_ids": attachment_ids},
        token=token,
    )


def messages(api, token, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=token)[1]["messages"]


def test_an_upload_is_a_presigned_post_limited_to_its_type_and_size_under_the_workspace(api, desk):
    owner, ticket = desk
    status, permit, _ = ask_upload(
        api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", len(PDF)
    )

    assert status == 201, permit
    ws = owner["workspace"]["id"]
    assert permit["fields"]["key"] == f"ws/{ws}/attachments/{permit['id']}"
    assert permit["method"] == "POST" and permit["max_bytes"] == len(PDF)
    policy = json.loads(base64.b64decode(permit["fields"]["policy"]))
    assert ["content-length-range", 1, len(PDF)] in policy["conditions"]
    assert {"Content-Type": "application/pdf"} in policy["conditions"]


def test_a_reply_with_an_uploaded_file_mails_it_to_the_customer_with_its_name_type_and_bytes(
    api, desk, fake_mailgun, pump
):
    owner, ticket = desk
    # Larger than the bytes sniffed: the size shown is the stored file's, not the sniff's.
    invoice = PDF + bytes(range(256)) * 400
    pdf_id = upload(api, owner["token"], ticket["id"], "facture 42.pdf", "application/pdf", invoice)
    png_id = upload(api, owner["token"], ticket["id"], "screen.png", "image/png", PNG)

    status, reply, _ = post_message(api, owner["token"], ticket["id"], [pdf_id, png_id])
    assert status == 201, reply
    _send_queued_mail(pump)

    [sent] = fake_mailgun.messages
    assert sent.all("to") == ["carla@customer.test"]
    assert [(a.filename, a.content_type, a.content) for a in sent.attachments] == [
        ("facture 42.pdf", "application/pdf", invoice),
        ("screen.png", "image/png", PNG),
    ]
    [shown] = [m for m in messages(api, owner["token"], ticket["id"]) if m["id"] == reply["id"]]
    assert shown["delivery"] == "sent"
    assert [
        (a["id"], a["filename"], a["content_type"], a["size"]) for a in shown["attachments"]
    ] == [
        (pdf_id, "facture 42.pdf", "application/pdf", len(invoice)),
        (png_id, "screen.png", "image/png", len(PNG)),
    ]


def test_a_note_with_a_file_shows_it_on_the_ticket_with_a_download_link_and_mails_nothing(
    api, desk, fake_mailgun, pump
):
    owner, ticket = desk
    pdf_id = upload(api, owner["token"], ticket["id"], "internal.pdf", "application/pdf", PDF)

    status, note, _ = post_message(api, owner["token"], ticket["id"], [pdf_id], kind="note")
    assert status == 201, note
    _send_queued_mail(pump)

    assert fake_mailgun.messages == []
    assert drain_mail_queue() == []
    [shown] = [m for m in messages(api, owner["token"], ticket["id"]) if m["id"] == note["id"]]
    assert shown["kind"] == "note" and shown["delivery"] == "not_sent"
    [attachment] = shown["attachments"]
    assert attachment["url"] == f"/v1/tickets/{ticket['id']}/attachments/{pdf_id}"
    status, _, headers = api.request("GET", attachment["url"], token=owner["token"])
    assert status == 302
    downloaded = requests.get(headers["Location"], timeout=10)
    assert downloaded.content == PDF
    assert "X-Amz-Expires=300" in headers["Location"]


def test_a_pdf_that_is_really_a_windows_program_is_refused_and_nothing_is_posted(
    api, desk, fake_mailgun, pump
):
    owner, ticket = desk
    fake_id = upload(
        api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", WINDOWS_PROGRAM
    )

    status, body, _ = post_message(api, owner["token"], ticket["id"], [fake_id])

    assert status == 422
    assert body["error"]["code"] == "attachment_type_refused"
    assert [m["kind"] for m in messages(api, owner["token"], ticket["id"])] == ["customer"]
    _send_queued_mail(pump)
    assert fake_mailgun.messages == []


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "expected"),
    [
        ("tool.exe", "application/pdf", 100, (422, "attachment_type_refused")),
        ("page.html", "text/html", 100, (422, "attachment_type_refused")),
        ("huge.pdf", "application/pdf", 15 * 1024 * 1024 + 1, (413, "attachment_too_large")),
        ("empty.pdf", "application/pdf", 0, (422, "validation_failed")),
    ],
)
def test_uploads_of_programs_other_types_and_files_over_15_mb_are_refused(
    api, desk, filename, content_type, size, expected
):
    owner, ticket = desk
    status, body, _ = ask_upload(api, owner["token"], ticket["id"], filename, content_type, size)
    assert (status, body["error"]["code"]) == expected


def test_a_file_larger_than_announced_is_refused_when_attached(api, desk, aws):
    owner, ticket = desk
    status, permit, _ = ask_upload(
        api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", len(PDF)
    )
    # Bypassing the POST policy (as a misbehaving client or emulator might).
    aws.client("s3").put_object(
        Bucket=aws.bucket, Key=permit["fields"]["key"], Body=PDF + b"0" * 1000
    )

    status, body, _ = post_message(api, owner["token"], ticket["id"], [permit["id"]])

    assert (status, body["error"]["code"]) == (413, "attachments_too_large")


def test_an_upload_asked_for_but_never_sent_is_refused(api, desk):
    owner, ticket = desk
    _, permit, _ = ask_upload(
        api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", len(PDF)
    )

    status, body, _ = post_message(api, owner["token"], ticket["id"], [permit["id"]])

    assert (status, body["error"]["code"]) == (422, "attachment_not_usable")


def test_an_attachment_id_of_another_workspace_is_refused_and_its_file_stays_unreachable(
    api, desk, fake_mailgun, pump
):
    owner, ticket = desk
    secret_id = upload(api, owner["token"], ticket["id"], "secret.pdf", "application/pdf", PDF)
    globex = api.sign_up(workspace="Globex", email="gus@globex.test")
    drain_mail_queue()
    _, their_ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "eve@customer.test"}, "subject": "Hi", "body": "Hello"},
        token=globex["token"],
    )

    status, body, _ = post_message(api, globex["token"], their_ticket["id"], [secret_id])

    assert (status, body["error"]["code"]) == (422, "attachment_not_usable")
    status, _, _ = api.request(
        "GET", f"/v1/tickets/{their_ticket['id']}/attachments/{secret_id}", token=globex["token"]
    )
    assert status == 404
    _send_queued_mail(pump)
    assert fake_mailgun.messages == []
    # The owner can still use it: the refusal changed nothing.
    assert post_message(api, owner["token"], ticket["id"], [secret_id])[0] == 201


def test_an_upload_of_another_ticket_is_refused(api, desk):
    owner, ticket = desk
    pdf_id = upload(api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", PDF)
    _, other, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "dan@customer.test"}, "subject": "Other", "body": "Hi"},
        token=owner["token"],
    )

    status, body, _ = post_message(api, owner["token"], other["id"], [pdf_id])

    assert (status, body["error"]["code"]) == (422, "attachment_not_usable")


def test_an_attachment_used_once_cannot_be_used_again_even_by_a_teammate(api, desk):
    owner, ticket = desk
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    pdf_id = upload(api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", PDF)
    assert post_message(api, owner["token"], ticket["id"], [pdf_id])[0] == 201

    status, body, _ = post_message(api, agent["token"], ticket["id"], [pdf_id], kind="note")

    assert (status, body["error"]["code"]) == (409, "attachment_already_used")
    assert len(messages(api, owner["token"], ticket["id"])) == 2


def test_two_messages_racing_for_one_upload_get_it_once(api, desk):
    """The claim is a condition in the message's transaction, not a read before it."""
    from chalicelib import bootstrap
    from chalicelib.tickets.ports import UploadAlreadyUsed

    owner, ticket = desk
    pdf_id = upload(api, owner["token"], ticket["id"], "invoice.pdf", "application/pdf", PDF)
    store = bootstrap.ticket_deps().store
    real_save = store.save_ticket
    raced: list[type[Exception]] = []

    def save_after_a_rival(before, after, activity, message=None, **kwargs):
        if not raced:
            raced.append(Exception)
            # A teammate's note takes the upload between our checks and our write.
            assert post_message(api, owner["token"], ticket["id"], [pdf_id], kind="note")[0] == 201
        try:
            return real_save(before, after, activity, message=message, **kwargs)
        except UploadAlreadyUsed:
            raced.append(UploadAlreadyUsed)
            raise

    store.save_ticket = save_after_a_rival
    try:
        status, body, _ = post_message(api, owner["token"], ticket["id"], [pdf_id])
    finally:
        del store.save_ticket

    assert (status, body["error"]["code"]) == (409, "attachment_already_used")
    assert UploadAlreadyUsed in raced
    assert [m["kind"] for m in messages(api, owner["token"], ticket["id"])] == ["customer", "note"]


def test_a_file_on_a_merged_ticket_still_downloads_from_the_ticket_it_was_merged_into(api, desk):
    owner, ticket = desk
    pdf_id = upload(api, owner["token"], ticket["id"], "internal.pdf", "application/pdf", PDF)
    assert post_message(api, owner["token"], ticket["id"], [pdf_id], kind="note")[0] == 201
    _, target, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "carla@customer.test"}, "subject": "Invoice 2", "body": "Hi"},
        token=owner["token"],
    )
    status, merged, _ = api.request(
        "POST", f"/v1/tickets/{ticket['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )
    assert status == 200, merged

    [attachment] = [
        a for m in messages(api, owner["token"], target["id"]) for a in m["attachments"]
    ]
    status, _, headers = api.request("GET", attachment["url"], token=owner["token"])

    assert attachment["url"] == f"/v1/tickets/{target['id']}/attachments/{pdf_id}"
    assert status == 302
    assert requests.get(headers["Location"], timeout=10).content == PDF
