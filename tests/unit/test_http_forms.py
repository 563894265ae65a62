"""Form bodies as Mailgun (and browsers) post them, and what a broken one gets back."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from chalicelib.errors import BadRequest, PayloadTooLarge
from chalicelib.http_forms import UnsupportedMediaType, UploadedFile, parse_form
from fakes.mailgun import InboundAttachment, inbound_form, inbound_mime

URLENCODED = "application/x-www-form-urlencoded"
PDF = b"%PDF-1.7\r\n--b\r\n\x00"  # contains CRLF-- like a boundary would
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def multipart_body(*parts: bytes, boundary: str = "b0undary") -> tuple[bytes, str]:
    """A multipart body from raw part sections (headers, blank line, content)."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def text_part(name: str, content: bytes, content_type: str | None = None) -> bytes:
    headers = f'Content-Disposition: form-data; name="{name}"\r\n'
    if content_type:
        headers += f"Content-Type: {content_type}\r\n"
    return headers.encode() + b"\r\n" + content


# --- round trips through what Mailgun sends ----------------------------------------------------


def test_inbound_mail_without_attachments_arrives_urlencoded_with_every_field() -> None:
    body, content_type = inbound_form(
        recipient="support@in.helptal.test",
        sender="ann@example.com",
        from_header="Ann Lée <ann@example.com>",
        subject="Où est ma commande ?",
        body_plain="Bonjour,\r\nrien reçu.\r\n\r\n-- \r\nAnn",
        body_html="<p>Bonjour, rien reçu.</p>",
        stripped_text="Bonjour,\r\nrien reçu.",
        stripped_signature="Ann",
        message_id="<m1@example.com>",
        in_reply_to="<prev@mg.helptal.test>",
        references="<first@mg.helptal.test> <prev@mg.helptal.test>",
    )

    form = parse_form(body, content_type)

    assert content_type == URLENCODED
    assert form.files == {}
    assert form.fields["recipient"] == "support@in.helptal.test"
    assert form.fields["from"] == "Ann Lée <ann@example.com>"
    assert form.fields["subject"] == "Où est ma commande ?"
    assert form.fields["body-plain"] == "Bonjour,\r\nrien reçu.\r\n\r\n-- \r\nAnn"
    assert form.fields["stripped-text"] == "Bonjour,\r\nrien reçu."
    assert form.fields["stripped-html"] == "<p>Bonjour, rien reçu.</p>"
    assert form.fields["In-Reply-To"] == "<prev@mg.helptal.test>"
    headers = json.loads(form.fields["message-headers"])
    assert ["Message-Id", "<m1@example.com>"] in headers
    assert ["References", "<first@mg.helptal.test> <prev@mg.helptal.test>"] in headers
    assert {"timestamp", "token", "signature"} <= form.fields.keys()
    assert form.repeated == ()


def test_inbound_mail_with_attachments_arrives_multipart_with_files_intact() -> None:
    body, content_type = inbound_form(
        recipient="support@in.helptal.test",
        sender="ann@example.com",
        body_html='<p>See <img src="cid:logo"></p>',
        attachments=[
            InboundAttachment("facture été.pdf", "application/pdf", PDF),
            InboundAttachment("logo.png", "image/png", PNG, content_id="logo"),
        ],
    )

    form = parse_form(body, content_type)

    assert content_type.startswith("multipart/form-data; boundary=")
    assert form.fields["attachment-count"] == "2"
    assert json.loads(form.fields["content-id-map"]) == {"<logo>": "attachment-2"}
    assert form.files == {
        "attachment-1": UploadedFile("facture été.pdf", "application/pdf", PDF),
        "attachment-2": UploadedFile("logo.png", "image/png", PNG),
    }
    assert form.fields["body-html"] == '<p>See <img src="cid:logo"></p>'


def test_mail_that_mailgun_could_not_parse_has_no_stripped_fields() -> None:
    body, content_type = inbound_form(
        recipient="support@in.helptal.test", sender="ann@example.com", parsing_failed=True
    )

    form = parse_form(body, content_type)

    assert "body-plain" in form.fields
    assert not {"stripped-text", "stripped-signature", "stripped-html"} & form.fields.keys()


@pytest.mark.parametrize("multipart", [False, True])
def test_raw_mime_route_delivers_the_message_unchanged(multipart: bool) -> None:
    raw = (
        b"From: Ann <ann@example.com>\r\nTo: support@in.helptal.test\r\nSubject: Hi\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nH\xc3\xa9llo\r\n"
    )
    body, content_type = inbound_mime(raw, recipient="support@in.helptal.test", multipart=multipart)

    form = parse_form(body, content_type)

    assert form.fields["body-mime"].encode("utf-8") == raw
    assert form.fields["from"] == "Ann <ann@example.com>"
    assert form.fields["sender"] == "ann@example.com"
    assert form.fields["subject"] == "Hi"


# --- urlencoded ---------------------------------------------------------------------------------


def test_urlencoded_decodes_plus_percent_and_blank_values() -> None:
    form = parse_form(b"a=1&b=h%C3%A9+x&c=&d", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")

    assert form.fields == {"a": "1", "b": "hé x", "c": "", "d": ""}


def test_empty_urlencoded_body_is_an_empty_form() -> None:
    assert parse_form(b"", URLENCODED).fields == {}


def test_repeated_field_keeps_its_first_value_and_is_reported() -> None:
    form = parse_form(b"recipient=a%40x.test&recipient=b%40x.test&subject=s", URLENCODED)

    assert form.fields == {"recipient": "a@x.test", "subject": "s"}
    assert form.repeated == ("recipient",)


def test_repeated_multipart_field_cannot_override_the_first() -> None:
    body, content_type = multipart_body(text_part("token", b"first"), text_part("token", b"second"))

    form = parse_form(body, content_type)

    assert form.fields == {"token": "first"}
    assert form.repeated == ("token",)


def test_urlencoded_field_that_is_not_utf8_is_rejected() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_form(b"subject=caf%E9", URLENCODED)

    assert caught.value.status == 400
    assert caught.value.code == "malformed_form"


# --- multipart ----------------------------------------------------------------------------------


def test_multipart_text_part_with_declared_latin1_charset_is_decoded_with_it() -> None:
    body, content_type = multipart_body(
        text_part("subject", "café".encode("latin-1"), "text/plain; charset=ISO-8859-1")
    )

    assert parse_form(body, content_type).fields == {"subject": "café"}


def test_multipart_text_part_that_is_not_utf8_is_rejected_not_guessed() -> None:
    body, content_type = multipart_body(text_part("subject", "café".encode("latin-1")))

    with pytest.raises(BadRequest, match="'subject' is not valid utf-8") as caught:
        parse_form(body, content_type)

    assert caught.value.code == "malformed_form"


def test_multipart_part_with_unknown_charset_is_rejected() -> None:
    body, content_type = multipart_body(text_part("subject", b"x", "text/plain; charset=klingon"))

    with pytest.raises(BadRequest, match="unknown charset"):
        parse_form(body, content_type)


@pytest.mark.parametrize(
    ("content_type", "why"),
    [
        ("multipart/form-data", "without a boundary"),
        ('multipart/form-data; boundary=""', "without a boundary"),
        ("multipart/form-data; boundary=" + "x" * 71, "boundary is not valid"),
    ],
)
def test_multipart_without_a_usable_boundary_is_rejected(content_type: str, why: str) -> None:
    body, _ = multipart_body(text_part("a", b"1"))

    with pytest.raises(BadRequest, match=why) as caught:
        parse_form(body, content_type)

    assert caught.value.status == 400
    assert caught.value.code == "malformed_form"


def _signed_multipart() -> tuple[bytes, str]:
    return inbound_form(
        recipient="support@in.helptal.test",
        sender="ann@example.com",
        attachments=[InboundAttachment("a.txt", "text/plain", b"attached")],
    )


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            lambda body, ct: (body, ct.replace("boundary=", "boundary=other")), id="other"
        ),
        pytest.param(lambda body, ct: (body[: len(body) // 2], ct), id="truncated"),
        pytest.param(lambda body, ct: (body[: body.rindex(b"--\r\n")], ct), id="no-closing"),
        pytest.param(lambda body, ct: (b"not a multipart body at all", ct), id="garbage"),
        pytest.param(lambda body, ct: (b"", ct), id="empty"),
    ],
)
def test_broken_multipart_body_is_a_bad_request(
    broken: Callable[[bytes, str], tuple[bytes, str]],
) -> None:
    body, content_type = broken(*_signed_multipart())

    with pytest.raises(BadRequest) as caught:
        parse_form(body, content_type)

    assert caught.value.status == 400
    assert caught.value.code == "malformed_form"
    assert "multipart" in caught.value.message


def test_multipart_part_without_content_disposition_is_rejected() -> None:
    body, content_type = multipart_body(b"Content-Type: text/plain\r\n\r\nhello")

    with pytest.raises(BadRequest, match="Content-Disposition"):
        parse_form(body, content_type)


# --- limits -------------------------------------------------------------------------------------


def test_body_over_the_size_limit_is_too_large() -> None:
    body, content_type = _signed_multipart()

    with pytest.raises(PayloadTooLarge) as caught:
        parse_form(body, content_type, max_body_bytes=len(body) - 1)

    assert caught.value.status == 413
    assert parse_form(body, content_type, max_body_bytes=len(body)).files


@pytest.mark.parametrize("kind", ["urlencoded", "multipart"])
def test_form_with_too_many_parts_is_too_large(kind: str) -> None:
    if kind == "urlencoded":
        body, content_type = "&".join(f"f{n}=x" for n in range(11)).encode(), URLENCODED
    else:
        body, content_type = multipart_body(*(text_part(f"f{n}", b"x") for n in range(11)))

    with pytest.raises(PayloadTooLarge, match="more than 10 parts"):
        parse_form(body, content_type, max_parts=10)
    assert len(parse_form(body, content_type, max_parts=11).fields) == 11


def test_text_field_over_its_limit_is_too_large_but_a_file_that_size_is_fine() -> None:
    big = b"x" * 2000
    as_field, field_type = multipart_body(text_part("body-plain", big))
    as_file, file_type = multipart_body(
        b'Content-Disposition: form-data; name="attachment-1"; filename="big.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + big
    )

    with pytest.raises(PayloadTooLarge, match="'body-plain'"):
        parse_form(as_field, field_type, max_field_bytes=1000)
    with pytest.raises(PayloadTooLarge, match="'body-plain'"):
        parse_form(b"body-plain=" + big, URLENCODED, max_field_bytes=1000)
    assert parse_form(as_file, file_type, max_field_bytes=1000).files["attachment-1"].content == big


# --- content types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "", "application/json", "text/plain", "multipart/mixed; boundary=x"]
)
def test_body_that_is_not_a_form_is_an_unsupported_media_type(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_form(b"{}", content_type)

    assert caught.value.status == 415
    assert caught.value.code == "unsupported_media_type"
