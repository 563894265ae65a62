"""Mail Mailgun stores for us: reading its notification, and which URLs we fetch it from."""

from email.message import EmailMessage
from urllib.parse import parse_qsl

import pytest

from chalicelib.errors import BadRequest
from chalicelib.mail.inbound.stored import StoredNotification, read_stored_notification
from chalicelib.mail.intake_queue import load_inbound_delivery, mime_delivery
from chalicelib.providers.mailgun_storage import is_storage_url
from fakes.mailgun import stored_notification

STORAGE_URL = "https://storage-us-east4.api.mailgun.net/v3/domains/in.helptal.test/messages/AgE"
LOCAL_API_BASE = "http://127.0.0.1:8025"


def _mime(subject: str = "Big file", body: str = "See attached.") -> bytes:
    message = EmailMessage()
    message["From"] = "Carla Customer <carla@customer.test>"
    message["To"] = "acme-support@in.helptal.test"
    message["Subject"] = subject
    message["Message-ID"] = "<big-1@customer.test>"
    message.set_content(body)
    message.add_attachment(b"%PDF-1.7 report", maintype="application", subtype="pdf",
                           filename="report.pdf")  # fmt: skip
    return message.as_bytes()


def _fields(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))


def test_a_notification_gives_the_message_url_and_the_envelope():
    body, _ = stored_notification(
        _mime(subject="Quarterly report"),
        message_url=STORAGE_URL,
        recipient="acme-support@in.helptal.test",
        sender="bounces+carla@customer.test",
    )
    assert read_stored_notification(_fields(body)) == StoredNotification(
        message_url=STORAGE_URL,
        recipient="acme-support@in.helptal.test",
        sender="bounces+carla@customer.test",
        from_header="Carla Customer <carla@customer.test>",
        subject="Quarterly report",
    )


@pytest.mark.parametrize(
    "message_url",
    [
        "",
        "   ",
        f"{STORAGE_URL}\r\nX-Injected: 1",
        f"{STORAGE_URL} extra",
        "https://x/" + "a" * 2100,
    ],
)
def test_a_notification_without_a_usable_message_url_is_a_bad_request(message_url):
    fields = {"recipient": "acme-support@in.helptal.test", "message-url": message_url}
    with pytest.raises(BadRequest) as refused:
        read_stored_notification(fields)
    assert refused.value.code == "missing_message_url"


def test_a_bounce_keeps_its_null_sender_and_a_missing_sender_stays_unknown():
    bounce = read_stored_notification({"message-url": STORAGE_URL, "sender": ""})
    unknown = read_stored_notification({"message-url": STORAGE_URL})
    assert (bounce.sender, unknown.sender, unknown.recipient) == ("", None, None)


@pytest.mark.parametrize(
    "url",
    [
        STORAGE_URL,
        "https://storage-europe-west1.api.mailgun.net/v3/domains/eu.helptal.test/messages/AgE",
        "https://se.api.mailgun.net/v3/domains/in.helptal.test/messages/AgE",
        "https://STORAGE-US-WEST1.API.MAILGUN.NET:443/v3/domains/d/messages/k",
        f"{LOCAL_API_BASE}/v3/domains/in.helptal.test/messages/AgE",  # the configured fake
    ],
)
def test_mailgun_storage_hosts_and_the_configured_api_are_fetched(url):
    assert is_storage_url(url, LOCAL_API_BASE)


@pytest.mark.parametrize(
    "url",
    [
        "http://storage-us-east4.api.mailgun.net/v3/domains/d/messages/k",  # not https
        "https://mailgun.net.attacker.test/v3/domains/d/messages/k",
        "https://attackermailgun.net/v3/domains/d/messages/k",
        "https://mailgun.net/v3/domains/d/messages/k",
        "https://api.mailgun.net@attacker.test/v3/domains/d/messages/k",
        "https://user:secret@storage.api.mailgun.net/v3/domains/d/messages/k",
        "https://attacker.test/#.mailgun.net",
        "https://attacker.test/?host=api.mailgun.net",
        "https://storage.api.mailgun.net:8443/v3/domains/d/messages/k",
        "https://storage.api.mailgun.net./v3/domains/d/messages/k",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://127.0.0.1:9999/v3/domains/d/messages/k",  # not the configured port
        "https://127.0.0.1:8025/v3/domains/d/messages/k",  # not the configured scheme
        "http://localhost:8025/v3/domains/d/messages/k",  # not the configured host
        "http://127.0.0.1:notaport/",
        "file:///etc/passwd",
        "ftp://storage.api.mailgun.net/k",
        "//storage.api.mailgun.net/v3/domains/d/messages/k",
        "not a url",
        "",
    ],
)
def test_anything_else_is_not_fetched(url):
    assert not is_storage_url(url, LOCAL_API_BASE)


def test_with_the_production_api_base_only_mailgun_hosts_are_fetched():
    assert is_storage_url(STORAGE_URL, "https://api.mailgun.net")
    assert not is_storage_url("http://127.0.0.1:8025/v3/x", "https://api.mailgun.net")


class _Blobs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, content: bytes, content_type: str) -> None:
        self.objects[key] = content

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def download_url(self, key: str, filename: str, expires_seconds: int) -> str:
        return key


def test_a_fetched_message_is_kept_as_a_delivery_that_reads_back_with_its_envelope():
    # Held mail is released from what was kept: it must read as the worker read it.
    raw = _mime() + b"\r\nLatin-1 byte: \xe9 and a lone boundary-like line: --x\r\n"
    notification = StoredNotification(
        message_url=STORAGE_URL,
        recipient="acme-support@in.helptal.test",
        sender="",
        from_header="",
        subject="",
    )
    body, content_type = mime_delivery(notification, raw)
    blobs = _Blobs()
    blobs.put("inbound/k/message", body, "application/octet-stream")

    mail = load_inbound_delivery(
        blobs, {"raw_key": "inbound/k/message", "content_type": content_type}
    )

    assert mail.recipient == "acme-support@in.helptal.test"
    assert mail.sender == ""  # the null sender: a bounce, never answered
    assert mail.subject == "Big file"
    assert [(a.filename, a.content) for a in mail.attachments] == [
        ("report.pdf", b"%PDF-1.7 report")
    ]


def test_a_delivery_without_envelope_fields_falls_back_to_the_headers():
    notification = StoredNotification(STORAGE_URL, None, None, "", "")
    body, content_type = mime_delivery(notification, _mime())
    blobs = _Blobs()
    blobs.put("k", body, "application/octet-stream")
    mail = load_inbound_delivery(blobs, {"raw_key": "k", "content_type": content_type})
    assert (mail.recipient, mail.sender) == ("acme-support@in.helptal.test", None)
