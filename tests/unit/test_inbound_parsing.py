# Typographic quotes and dashes are the point of the charset tests.
# ruff: noqa: RUF001
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.mail.inbound import (
    InboundMail,
    normalise_message_id,
    parse_address_list,
    parse_mailgun_form,
    parse_mime,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def read(name: str, **envelope: str) -> InboundMail:
    return parse_mime((FIXTURES / name).read_bytes(), **envelope)


def simple(headers: str, body: bytes = b"Hello\n") -> bytes:
    return headers.strip().encode() + b"\n\n" + body


# --- addresses, threading, dates ------------------------------------------------------------


def test_gmail_reply_is_read_into_addresses_thread_ids_and_both_bodies():
    mail = read("gmail_reply.eml")

    assert mail.from_address == "bob.martin@nordwind.example"
    assert mail.from_name == "Bob Martin"
    assert mail.to == ["support@acme.helptal.test"]
    assert mail.cc == ["claire@nordwind.example", "support@acme.helptal.test"]
    assert mail.recipient == "support@acme.helptal.test"
    assert mail.sender == "bob.martin@nordwind.example"
    assert mail.subject == "Re: [#1042] CSV export fails"
    assert mail.message_id == "CAKf3pQ+Vx9=Yx0wR2s@mail.gmail.com"
    assert mail.in_reply_to == ["01J9Z8Q4T7M3@acme.helptal.test"]
    assert mail.references == [
        "CAJx9k2N7qW@mail.acme.helptal.test",
        "01J9Z8Q4T7M3@acme.helptal.test",
    ]
    assert mail.date == datetime(2026, 11, 3, 10, 14, 2, tzinfo=UTC)
    assert "the CSV still has the old column names" in mail.text
    assert mail.html is not None and 'class="gmail_quote' in mail.html
    assert mail.attachments == []
    assert mail.warnings == []
    assert not mail.is_machine_generated


def test_headers_keep_their_order_and_unfolded_values():
    mail = read("outlook_reply.eml")

    names = [name for name, _ in mail.headers]
    assert names[:4] == ["Received", "From", "To", "Subject"]
    assert mail.header("message-id") == (
        " <AM9PR04MB82113F0C6B1B7E5A1C2D3E4F5A6B7@AM9PR04MB8211.eurprd04.prod.outlook.com>"
    )
    assert mail.message_id == (
        "AM9PR04MB82113F0C6B1B7E5A1C2D3E4F5A6B7@AM9PR04MB8211.eurprd04.prod.outlook.com"
    )


def test_envelope_recipient_and_sender_win_over_headers_and_are_lowercased():
    mail = read("gmail_reply.eml", recipient="Inbox+42@Acme.Helptal.test", sender="BOB@x.test")

    assert mail.recipient == "inbox+42@acme.helptal.test"
    assert mail.sender == "bob@x.test"


def test_subject_is_decoded_and_loses_line_breaks():
    raw = simple(
        "From: a@b.test\nSubject: =?UTF-8?Q?Re=3A_Probl=C3=A8me?=\n"
        " =?UTF-8?B?IGTigJlleHBvcnQ=?=\r\n suite"
    )
    assert parse_mime(raw).subject == "Re: Problème d’export suite"


def test_missing_message_id_and_date_are_none_and_a_zoneless_date_is_utc():
    assert parse_mime(simple("From: a@b.test")).message_id is None
    assert parse_mime(simple("From: a@b.test")).date is None
    assert parse_mime(simple("Date: yesterday-ish")).date is None
    assert parse_mime(simple("Date: Tue, 3 Nov 2026 08:00:00 -0000")).date == datetime(
        2026, 11, 3, 8, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<Abc.123@Mail.example>", "Abc.123@Mail.example"),
        ("  <abc@x.test>  ", "abc@x.test"),
        ("abc@x.test", "abc@x.test"),
        ("<abc@x.test> (added by mx)", "abc@x.test"),
        ("", None),
        ("   ", None),
        (None, None),
        ("<>", None),
    ],
)
def test_message_ids_are_normalised(value, expected):
    assert normalise_message_id(value) == expected


def test_references_keep_order_without_repeats_even_without_brackets():
    raw = simple("References: <a@x> <b@x>\n <a@x>\nIn-Reply-To: c@x, d@x")
    mail = parse_mime(raw)
    assert mail.references == ["a@x", "b@x"]
    assert mail.in_reply_to == ["c@x", "d@x"]


def test_address_lists_handle_quoted_commas_encoded_names_and_groups():
    value = (
        '"Martin, Claire" <Claire@Nordwind.example>, =?UTF-8?Q?J=C3=BCrgen?= <j@x.test>, '
        "undisclosed-recipients:;, plain@x.test, <>"
    )
    assert parse_address_list(value) == [
        ("Martin, Claire", "claire@nordwind.example"),
        ("Jürgen", "j@x.test"),
        ("", "plain@x.test"),
    ]
    assert parse_address_list(None) == []
    assert parse_address_list("") == []


def test_to_and_cc_are_deduplicated_and_keep_only_addresses():
    raw = simple("To: A@x.test, a@x.test, Bob <b@x.test>\nCc: b@x.test, not-an-address")
    mail = parse_mime(raw)
    assert mail.to == ["a@x.test", "b@x.test"]
    assert mail.cc == ["b@x.test"]


def test_raw_utf8_and_latin1_header_bytes_are_read():
    raw = b"From: J\xc3\xbcrgen <j@x.test>\nSubject: Caf\xe9 cr\xe8me\n\nHi\n"
    mail = parse_mime(raw)
    assert mail.from_name == "Jürgen"
    assert mail.subject == "Café crème"


# --- charsets -------------------------------------------------------------------------------


def test_iso_2022_jp_message_decodes_subject_sender_and_body():
    mail = read("thunderbird_iso2022jp.eml")

    assert mail.subject == "請求書のPDFについて"
    assert mail.from_name == "山田 太郎"
    assert "請求書のPDFが開けません。" in mail.text


def test_outlook_latin1_quoted_printable_body_and_encoded_sender_are_decoded():
    mail = read("outlook_reply.eml")

    assert mail.from_name == "Jürgen Weiß"
    assert mail.from_address == "j.weiss@nordwind.example"
    assert "Jürgen Weiß\nFinance, Nordwind Logistics" in mail.text


def test_windows_1252_with_an_invalid_byte_keeps_the_rest_of_the_text():
    mail = read("windows1252_invalid_byte.eml")

    assert "Le café crème coûte 3,50 € – pas 4 €" in mail.text
    assert "l’étiquette \ufffd du menu" in mail.text
    assert "corriger “vite”" in mail.text
    assert mail.from_name == "Vieux Port Café"
    assert mail.subject == "Commande « urgente »"


def test_bogus_charset_name_falls_back_to_utf8():
    mail = read("bogus_charset.eml")

    assert "Grüße! Die Buchungsseite zeigt „Fehler 500“ seit heute früh." in mail.text
    assert mail.reply_to == "lena.krause@mail.example"


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("koi8-r", "Здравствуйте, не работает оплата."),
        ("gb2312", "你好，我的发票打不开。"),
        ("iso-8859-1", "Déjà vu, señor."),
        ("windows-1252", "“Quoted” – 5 €"),
        ("utf-8", "Emoji ok 👍"),
    ],
)
def test_declared_charsets_are_decoded(charset, text):
    raw = simple(
        f"From: a@b.test\nContent-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: 8bit",
        text.encode(charset),
    )
    assert parse_mime(raw).text == text


def test_utf8_text_labelled_latin1_is_read_as_utf8():
    raw = simple("Content-Type: text/plain; charset=iso-8859-1", "Grüße".encode())
    assert parse_mime(raw).text == "Grüße"


def test_non_utf8_bytes_under_an_unknown_charset_still_decode():
    body = "Le café est prêt, mais la crème brûlée n'est pas encore là.".encode("cp1252")
    raw = simple("Content-Type: text/plain; charset=x-no-such-charset", body)

    text = parse_mime(raw).text

    assert text.startswith("Le caf")
    assert "pas encore l" in text


def test_a_transfer_encoding_named_as_charset_is_not_run():
    raw = simple("Content-Type: text/plain; charset=base64", b"SGVsbG8=")
    assert parse_mime(raw).text == "SGVsbG8="


# --- structure ------------------------------------------------------------------------------


def test_message_without_content_type_is_plain_text():
    mail = parse_mime(b"From: a@b.test\nSubject: hi\n\nJust text.\n")
    assert mail.text == "Just text.\n"
    assert mail.html is None


def test_crlf_line_endings_are_read_like_lf():
    raw = (FIXTURES / "gmail_reply.eml").read_bytes().replace(b"\n", b"\r\n")
    mail = parse_mime(raw)
    assert mail.subject == "Re: [#1042] CSV export fails"
    assert "\r" not in mail.text
    assert "the CSV still has the old column names" in mail.text


def test_html_only_message_gets_text_derived_from_the_html():
    mail = read("mailing_list.eml")

    assert mail.html is not None and mail.html.startswith("<!DOCTYPE html>")
    assert mail.text == (
        "SaaS Weekly #212\n\n"
        "This week: pricing pages that convert & why annual plans win.\n\n"
        "- Anchor pricing\n"
        "- Show the calculator <https://saasweekly.example/r/1>\n\n"
        "Cheers,\nThe SaaS Weekly team"
    )


def test_inline_image_is_an_inline_attachment_with_its_content_id_and_the_pdf_is_not():
    mail = read("inline_image_cid.eml")

    image, invoice = mail.attachments
    assert (image.filename, image.content_type, image.inline) == (
        "screenshot.png",
        "image/png",
        True,
    )
    assert image.content_id == "ii_m3x1k2p40"
    assert image.content.startswith(b"\x89PNG")
    assert image.size == len(image.content)
    assert (invoice.filename, invoice.inline) == ("invoice-2026-114.pdf", False)
    assert invoice.content.startswith(b"%PDF")
    assert mail.text.startswith("Hello, this is what I see:")
    assert mail.html is not None and 'src="cid:ii_m3x1k2p40"' in mail.html


def test_encoded_filenames_are_decoded_and_paths_are_stripped():
    mail = read("rfc2231_filenames.eml")

    assert [attachment.filename for attachment in mail.attachments] == [
        "Überweisungsbestätigung für die Rechnung Nummer 2026-114 vom 3. November.pdf",
        "Devis signé.pdf",
        "passwd",
    ]
    assert mail.text == "Please find the documents attached.\n"


def test_attachment_without_a_name_gets_one_from_its_type():
    raw = simple(
        'Content-Type: multipart/mixed; boundary="b"',
        b"--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: image/png\n"
        b"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n",
    )
    (attachment,) = parse_mime(raw).attachments
    assert attachment.filename == "attachment-1.png"


def test_forwarded_message_is_kept_as_an_eml_attachment_and_the_forwarding_text_stays():
    mail = read("forwarded_as_attachment.eml")

    assert mail.text.startswith("Hello, one of our customers never got a booking confirmation")
    (forwarded,) = mail.attachments
    assert forwarded.filename == "Booking confirmation missing.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = parse_mime(forwarded.content)
    assert inner.from_address == "paul@customer.example"
    assert "never got the confirmation" in inner.text


def test_forward_sent_with_an_empty_body_reads_the_forwarded_text():
    raw = simple(
        'From: a@b.test\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\nContent-Type: message/rfc822\n\nFrom: c@d.test\nSubject: Help\n\n"
        b"My order never arrived.\n--b--\n",
    )
    mail = parse_mime(raw)
    assert mail.text == "My order never arrived."
    assert mail.attachments[0].filename == "Help.eml"


def test_truncated_base64_decodes_what_was_there_and_warns():
    mail = read("truncated_base64.eml")

    assert mail.text.startswith("The app crashes when I open the calendar.")
    (screenshot,) = mail.attachments
    assert screenshot.content.startswith(b"\x89PNG")
    assert any("base64" in warning for warning in mail.warnings)


def test_broken_quoted_printable_keeps_the_text():
    raw = simple(
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable",
        b"Caf=E9 =ZZ au lait=\nfin=",
    )
    assert parse_mime(raw).text == "Café =ZZ au laitfin"


# --- machine-generated mail -----------------------------------------------------------------


def test_bounce_is_machine_generated_and_keeps_its_report_parts():
    mail = read("bounce_report.eml")

    assert mail.is_machine_generated
    assert mail.machine_reason == "delivery report"
    assert mail.sender == ""
    assert "550 5.1.1 User unknown" in mail.text
    assert [attachment.content_type for attachment in mail.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]
    assert b"Final-Recipient: rfc822; old.employee@nordwind.example" in (
        mail.attachments[0].content
    )


def test_out_of_office_is_machine_generated_and_auto_submitted():
    mail = read("out_of_office.eml")

    assert mail.is_machine_generated
    assert mail.auto_submitted
    assert not mail.bulk
    assert mail.machine_reason == "auto-submitted: auto-replied"


def test_mailing_list_message_is_bulk():
    mail = read("mailing_list.eml")

    assert mail.is_machine_generated
    assert mail.bulk
    assert not mail.auto_submitted
    assert mail.machine_reason == "precedence: list"


@pytest.mark.parametrize(
    ("headers", "envelope_sender", "reason"),
    [
        ("Precedence: bulk", None, "precedence: bulk"),
        ("Precedence: junk", None, "precedence: junk"),
        ("X-Autoreply: yes", None, "x-autoreply"),
        ("X-Autorespond: vacation", None, "x-autorespond"),
        ("X-Auto-Response-Suppress: OOF", None, "x-auto-response-suppress: oof"),
        ("Auto-Submitted: auto-generated", None, "auto-submitted: auto-generated"),
        ("Subject: Réponse automatique : Votre demande", None, "auto-reply subject"),
        ("From: postmaster@mx.example", None, "mailer-daemon sender"),
        ("From: a@b.test", "<>", "empty envelope sender"),
        ("From: a@b.test", "", "empty envelope sender"),
    ],
)
def test_machine_signs_are_recognised(headers, envelope_sender, reason):
    envelope = {} if envelope_sender is None else {"sender": envelope_sender}
    mail = parse_mime(simple(headers), **envelope)
    assert mail.is_machine_generated
    assert mail.machine_reason == reason


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no",
        "List-Unsubscribe: <https://x.test/u>",  # transactional mail from a person's tool
        "X-Auto-Response-Suppress: DR, RN",
        "Subject: Re: automatic replies are broken",
    ],
)
def test_mail_from_a_person_is_not_machine_generated(headers):
    mail = parse_mime(simple("From: a@b.test\n" + headers), sender="a@b.test")
    assert not mail.is_machine_generated
    assert mail.machine_reason is None


# --- limits and hostile input ---------------------------------------------------------------


def multipart(count: int) -> bytes:
    parts = b"".join(
        b"--b\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="f%d.bin"\n\nx\n' % n
        for n in range(count)
    )
    return simple('Content-Type: multipart/mixed; boundary="b"', parts + b"--b--\n")


def test_attachments_over_the_limit_are_dropped_with_a_warning():
    mail = parse_mime(multipart(12), max_attachments=10)
    assert len(mail.attachments) == 10
    assert mail.warnings == ["2 attachments over the limit of 10 dropped"]


def test_parts_over_the_limit_are_dropped_with_a_warning():
    mail = parse_mime(multipart(300))
    assert len(mail.attachments) == 100
    assert any("more than 200 MIME parts" in warning for warning in mail.warnings)


def nested(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % n for n in reversed(range(depth)))
    return b"From: a@b.test\n" + opening + b"Content-Type: text/plain\n\ndeep text\n" + closing


def test_parts_nested_deeper_than_the_limit_are_dropped():
    mail = parse_mime(nested(30), max_parts=1000)
    assert "deep text" not in mail.text
    assert any("nested deeper than 20" in warning for warning in mail.warnings)
    assert "deep text" in parse_mime(nested(10)).text


def test_pathologically_deep_nesting_does_not_crash():
    mail = parse_mime(nested(3000))
    assert mail.from_address == "a@b.test"
    assert mail.warnings


HOSTILE = [
    b"",
    b"\x00" * 1000,
    b"\n\n\n",
    b"Content-Type: multipart/mixed\n\nno boundary at all",
    b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: text/plain\n\nnever closed',
    b"Content-Type: text/plain; charset*=utf-8''%ZZ%\n\nbad 2231",
    b'Content-Disposition: attachment; filename*0*="broken\nContent-Type: image/png\n\n...',
    b"Subject: =?utf-8?B?not base64!?= =?x-bogus?q?abc?= =?utf-8?q?=E2=82?=\n\nx",
    b'From: <<<>>>,,,@@@ "unterminated\nTo: ' + b"a" * 100_000 + b"\n\nx",
    b"References: " + b"<a@b> " * 20_000 + b"\n\nx",
    b"Date: Tue, 99 Foo 99999 99:99:99 +9999\n\nx",
    b"Content-Type: message/rfc822\n\nnot really a message",
    b"Content-Type: multipart/report\n\n",
    b"Content-Transfer-Encoding: uuencode\n\nbegin 644 x\n!!!!\nend\n",
    b"Content-Type: text/html\n\n<div><p>unclosed <a href='x'>" + b"<b>" * 5000,
    b"Content-Type: text/html; charset=utf-7\n\n+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
]


def read_without_fallback(raw: bytes) -> InboundMail:
    mail = parse_mime(raw)
    assert not any("could not be read" in warning for warning in mail.warnings)
    return mail


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_or_broken_mail_never_raises(raw):
    assert isinstance(read_without_fallback(raw), InboundMail)


def test_random_bytes_never_raise():
    generator = random.Random(20261103)
    fixtures = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
    for _ in range(500):
        raw = bytearray(generator.choice(fixtures))
        for _ in range(generator.randint(1, 20)):
            raw[generator.randrange(len(raw))] = generator.randrange(256)
        cut = generator.randint(0, len(raw))
        assert isinstance(read_without_fallback(bytes(raw[:cut])), InboundMail)


def test_references_are_capped_keeping_the_root_and_the_latest():
    raw = b"References: " + b" ".join(b"<%d@x>" % n for n in range(500)) + b"\n\nx"
    mail = parse_mime(raw)
    assert len(mail.references) == 100
    assert mail.references[0] == "0@x"
    assert mail.references[-1] == "499@x"


# --- Mailgun's parsed post ------------------------------------------------------------------


def mailgun_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "recipient": "Support@Acme.helptal.test",
        "sender": "bob@nordwind.example",
        "from": "Bob Martin <bob@nordwind.example>",
        "subject": "Re: [#1042] CSV export fails",
        "body-plain": "Thanks!\n\nOn Tue, 3 Nov 2026 at 10:00, Ann <ann@x.test> wrote:\n> hi\n",
        "body-html": '<div>Thanks!</div><div class="gmail_quote">On … wrote: hi</div>',
        "stripped-text": "Thanks!",
        "Message-Id": "<CAKf3pQ@mail.gmail.com>",
        "In-Reply-To": "<01J9Z8Q4T7M3@acme.helptal.test>",
        "References": "<root@acme.helptal.test> <01J9Z8Q4T7M3@acme.helptal.test>",
        "message-headers": json.dumps(
            [
                ["Received", "by mxa.mailgun.org"],
                ["From", "Bob Martin <bob@nordwind.example>"],
                ["To", "support@acme.helptal.test"],
                ["Cc", "Claire <Claire@nordwind.example>"],
                ["Date", "Tue, 3 Nov 2026 11:14:02 +0100"],
                ["Subject", "Re: [#1042] CSV export fails"],
            ]
        ),
        "attachment-count": "0",
    }
    fields.update(overrides)
    return fields


def test_mailgun_form_is_read_with_headers_from_message_headers():
    mail = parse_mailgun_form(mailgun_fields(), {})

    assert mail.recipient == "support@acme.helptal.test"
    assert mail.sender == "bob@nordwind.example"
    assert (mail.from_name, mail.from_address) == ("Bob Martin", "bob@nordwind.example")
    assert mail.cc == ["claire@nordwind.example"]
    assert mail.message_id == "CAKf3pQ@mail.gmail.com"
    assert mail.in_reply_to == ["01J9Z8Q4T7M3@acme.helptal.test"]
    assert mail.references == ["root@acme.helptal.test", "01J9Z8Q4T7M3@acme.helptal.test"]
    assert mail.date == datetime(2026, 11, 3, 10, 14, 2, tzinfo=UTC)
    assert mail.text.startswith("Thanks!")
    assert mail.html is not None and "gmail_quote" in mail.html
    assert [name for name, _ in mail.headers][:2] == ["Received", "From"]
    assert mail.warnings == []
    assert not mail.is_machine_generated


def test_mailgun_attachments_in_the_content_id_map_are_inline():
    files = {
        "attachment-2": ("invoice.pdf", "application/pdf", b"%PDF-1.4"),
        "attachment-1": ("image.png", "image/png", b"\x89PNG"),
    }
    fields = mailgun_fields(
        **{"attachment-count": "2", "content-id-map": json.dumps({"<ii_abc>": "attachment-1"})}
    )

    mail = parse_mailgun_form(fields, files)

    image, invoice = mail.attachments
    assert (image.filename, image.content_id, image.inline) == ("image.png", "ii_abc", True)
    assert (invoice.filename, invoice.content_id, invoice.inline) == ("invoice.pdf", None, False)
    assert invoice.content == b"%PDF-1.4"


def test_mailgun_machine_headers_come_from_message_headers():
    headers = [["From", "MAILER-DAEMON@mx.example"], ["Auto-Submitted", "auto-replied"]]
    mail = parse_mailgun_form(mailgun_fields(**{"message-headers": json.dumps(headers)}), {})
    assert mail.auto_submitted
    assert mail.is_machine_generated


@pytest.mark.parametrize("message_headers", ["not json", '{"From": "x"}', '[[1, 2], ["A"]]'])
def test_malformed_mailgun_message_headers_are_tolerated(message_headers):
    fields = mailgun_fields(**{"message-headers": message_headers, "Precedence": "bulk"})

    mail = parse_mailgun_form(fields, {})

    assert mail.from_address == "bob@nordwind.example"
    assert mail.subject == "Re: [#1042] CSV export fails"
    if message_headers.startswith("[["):
        assert mail.headers == []
    else:
        assert mail.bulk  # read from the Precedence field instead
        assert mail.warnings


def test_mailgun_form_without_message_headers_or_bodies_still_reads():
    mail = parse_mailgun_form({"recipient": "support@acme.helptal.test"}, {})
    assert mail.text == ""
    assert mail.html is None
    assert mail.from_address == ""
    assert "message-headers missing" in mail.warnings


def test_mailgun_html_only_post_gets_text_from_the_html():
    fields = mailgun_fields(**{"body-plain": "", "body-html": "<p>Hello<br>there &amp; bye</p>"})
    assert parse_mailgun_form(fields, {}).text == "Hello\nthere & bye"


def test_mailgun_post_with_body_mime_is_read_as_mime():
    raw = (FIXTURES / "inline_image_cid.eml").read_text()
    fields = {"recipient": "support@acme.helptal.test", "sender": "lena.krause@mail.example"}

    mail = parse_mailgun_form({**fields, "body-mime": raw}, {})

    assert mail.subject == "Error on the booking page (screenshot)"
    assert [attachment.filename for attachment in mail.attachments] == [
        "screenshot.png",
        "invoice-2026-114.pdf",
    ]


def test_mailgun_attachments_over_the_limit_are_dropped_and_bad_uploads_skipped():
    files: dict = {f"attachment-{n}": (f"f{n}.txt", "text/plain", b"x") for n in range(1, 6)}
    files["attachment-3"] = "not a tuple"
    mail = parse_mailgun_form(mailgun_fields(), files, max_attachments=3)
    assert [attachment.filename for attachment in mail.attachments] == [
        "f1.txt",
        "f2.txt",
        "f4.txt",
    ]
    assert any("attachment-3" in warning for warning in mail.warnings)
