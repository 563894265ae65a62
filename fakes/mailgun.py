"""A fake Mailgun HTTP API: `POST /v3/<domain>/messages` as Mailgun documents it.

It checks Basic auth (`api:<key>`), the form encoding (multipart or urlencoded), the required
fields and address syntax, and answers like Mailgun (200 `{"id": "<...>", "message":
"Queued. Thank you."}`, 400 for a bad address, 401 for a wrong key).  Tests can script
failures (`fail_next(503, times=2)`).  Every accepted message is kept in `.messages`, with
its `attachment` files (name, type and bytes) in `.attachments`.

It also builds what Mailgun posts *to us*, signed like Mailgun signs it, for the webhook
tests: `inbound_form` (a route's parsed post), `inbound_mime` (a route ending in `mime`),
`stored_notification` (a `store(notify=...)` route's notification) and `event_payload` (an
event webhook body).  These are plain functions (no server, so unit tests can use them) and
methods of `FakeMailgun` using its `webhook_signing_key`.

Stored messages (for mail too large to post): `store(raw_mime, recipient=...)` keeps a
message and returns its `message-url`, served at `GET /v3/domains/<domain>/messages/<key>`
(Basic auth; `Accept: message/rfc2822` answers JSON with `body-mime`, otherwise the parsed
fields) with its attachments at `.../attachments/<n>`.  `receive(raw_mime, recipient=...)`
does what a store route does: keeps the message, then POSTs the signed notification to
`notify_url`; `POST /_fake/receive?recipient=...` (body: the raw message) does the same over
HTTP for the local stack.  `fail_next_fetch(503)`, `stall_next_fetch(seconds)` and
`expire(message_url)` script the storage's failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any
from urllib.parse import urlencode

from urllib3 import encode_multipart_formdata
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# The key the test environment configures (tests/conftest.py).
DEFAULT_WEBHOOK_SIGNING_KEY = "test-mailgun-webhook-signing-key"


@dataclass
class StoredMessage:
    """A message kept by a store() route, as Mailgun keeps it."""

    domain: str
    raw_mime: bytes
    recipient: str
    sender: str


@dataclass(frozen=True)
class SentAttachment:
    """A file sent with a message (Mailgun's `attachment` form files), as received."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class SentMessage:
    domain: str
    fields: MultiDict
    content_type: str
    files: dict[str, bytes] = field(default_factory=dict)
    attachments: list[SentAttachment] = field(default_factory=list)

    def one(self, name: str) -> str | None:
        return self.fields.get(name)

    def all(self, name: str) -> list[str]:
        return self.fields.getlist(name)


class FakeMailgun:
    def __init__(
        self,
        api_key: str = "key-test",
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        webhook_signing_key: str = DEFAULT_WEBHOOK_SIGNING_KEY,
        notify_url: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_signing_key = webhook_signing_key
        self.echo = echo  # print a line per accepted message (the local stack's mail catcher)
        self.notify_url = notify_url  # where `receive` posts store() notifications
        self.messages: list[SentMessage] = []
        self.stored: dict[str, StoredMessage] = {}
        self.fetches = 0  # GETs of stored messages answered (any status)
        self.requests_seen = 0
        self._failures: list[tuple[int, str]] = []
        self._fetch_failures: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._sequence = 0

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> FakeMailgun:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def fail_next(self, status: int, times: int = 1, message: str = "Service Unavailable") -> None:
        with self._lock:
            self._failures.extend([(status, message)] * times)

    def fail_next_fetch(self, status: int, times: int = 1) -> None:
        """The next `times` GETs of stored messages answer `status` (after the auth check)."""
        with self._lock:
            self._fetch_failures.extend([(status, 0.0)] * times)

    def stall_next_fetch(self, seconds: float, times: int = 1) -> None:
        """The next `times` GETs of stored messages wait `seconds` before answering."""
        with self._lock:
            self._fetch_failures.extend([(200, seconds)] * times)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.stored.clear()
            self._failures.clear()
            self._fetch_failures.clear()
            self.requests_seen = 0
            self.fetches = 0

    # -- stored messages (store() routes) ---------------------------------------------------

    def store(self, raw_mime: bytes, *, recipient: str, sender: str | None = None) -> str:
        """Keeps `raw_mime` as a store() route would; returns its `message-url`."""
        domain = recipient.rpartition("@")[2] or "mg.helptal.test"
        key = secrets.token_urlsafe(32)
        with self._lock:
            self.stored[key] = StoredMessage(
                domain, raw_mime, recipient, _envelope_sender(raw_mime, sender)
            )
        return f"{self.url}/v3/domains/{domain}/messages/{key}"

    def expire(self, message_url: str) -> None:
        """Forgets a stored message (Mailgun keeps them for a few days): GETs answer 404."""
        with self._lock:
            self.stored.pop(message_url.rstrip("/").rsplit("/", 1)[-1], None)

    def stored_notification(
        self, raw_mime: bytes, *, message_url: str, recipient: str, **kwargs: Any
    ) -> tuple[bytes, str]:
        """`stored_notification(...)` signed with `webhook_signing_key`."""
        return stored_notification(
            raw_mime,
            message_url=message_url,
            recipient=recipient,
            signing_key=self.webhook_signing_key,
            **kwargs,
        )

    def receive(
        self,
        raw_mime: bytes,
        *,
        recipient: str,
        sender: str | None = None,
        notify_url: str | None = None,
    ) -> tuple[int, str]:
        """What a `store(notify=...)` route does with an incoming message: keeps it, then
        POSTs the signed notification to `notify_url` (default: this fake's).  Returns the
        status the notification was answered with, and the message-url."""
        import requests

        target = notify_url or self.notify_url
        if not target:
            raise ValueError("no notify_url to post the store() notification to")
        message_url = self.store(raw_mime, recipient=recipient, sender=sender)
        body, content_type = self.stored_notification(
            raw_mime, message_url=message_url, recipient=recipient, sender=sender
        )
        response = requests.post(
            target, data=body, headers={"Content-Type": content_type}, timeout=30
        )
        return response.status_code, message_url

    def _stored(self, request: Request, domain: str, key: str, attachment: str | None) -> Response:
        if not self._authorised(request):
            return Response("Forbidden", status=401)
        with self._lock:
            self.fetches += 1
            failure = self._fetch_failures.pop(0) if self._fetch_failures else None
            stored = self.stored.get(key)
        if failure:
            status, stall = failure
            if stall:
                time.sleep(stall)
            if status != 200:
                return self._json({"message": "Service Unavailable"}, status)
        if stored is None or stored.domain != domain:
            return self._json({"message": "Message not found"}, 404)
        if attachment is not None:
            files = _attachment_parts(stored.raw_mime)
            if not attachment.isdigit() or int(attachment) >= len(files):
                return self._json({"message": "Attachment not found"}, 404)
            _, content_type, content = files[int(attachment)]
            return Response(content, content_type=content_type)
        headers = BytesHeaderParser().parsebytes(stored.raw_mime)
        answer: dict[str, Any] = {
            "recipients": stored.recipient,
            "sender": stored.sender,
            "from": str(headers.get("From", "")),
            "subject": str(headers.get("Subject", "")),
        }
        if "message/rfc2822" in request.headers.get("Accept", ""):
            # JSON holds text: bytes that are not UTF-8 travel as escaped surrogates.
            answer["body-mime"] = stored.raw_mime.decode("utf-8", "surrogateescape")
        else:
            message_url = f"{self.url}/v3/domains/{domain}/messages/{key}"
            answer.update(_parsed_fields(stored.raw_mime, message_url))
        return self._json(answer, 200)

    def _receive_over_http(self, request: Request) -> Response:
        recipient = request.args.get("recipient", "")
        if not recipient:
            return self._json({"message": "'recipient' query parameter is missing"}, 400)
        status, message_url = self.receive(
            request.get_data(), recipient=recipient, sender=request.args.get("sender") or None
        )
        return self._json({"message_url": message_url, "notify_status": status}, 200)

    # -- deliveries to our webhooks, signed with this fake's key ------------------------------

    def inbound_form(self, **kwargs: Any) -> tuple[bytes, str]:
        """`inbound_form(...)` signed with `webhook_signing_key`."""
        return inbound_form(signing_key=self.webhook_signing_key, **kwargs)

    def inbound_mime(self, raw_mime: bytes, **kwargs: Any) -> tuple[bytes, str]:
        """`inbound_mime(...)` signed with `webhook_signing_key`."""
        return inbound_mime(raw_mime, signing_key=self.webhook_signing_key, **kwargs)

    def event_payload(self, event: str, message_id: str, recipient: str, **kwargs: Any) -> dict:
        """`event_payload(...)` signed with `webhook_signing_key`."""
        return event_payload(
            event, message_id, recipient, signing_key=self.webhook_signing_key, **kwargs
        )

    # -- the API ----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    @staticmethod
    def _json(body: dict[str, Any], status: int) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == "api" and password == self.api_key

    def inbox(self) -> list[dict[str, Any]]:
        """What was sent, as plain data (also served at `GET /_fake/messages`); attachments
        by name, type and size."""
        with self._lock:
            return [
                {
                    "domain": m.domain,
                    **{k: m.fields.getlist(k) for k in m.fields},
                    "attachments": [
                        {
                            "filename": a.filename,
                            "content_type": a.content_type,
                            "size": len(a.content),
                        }
                        for a in m.attachments
                    ],
                }
                for m in self.messages
            ]

    def _handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_fake/messages":
            return Response(json.dumps(self.inbox()), content_type="application/json")
        if request.method == "POST" and request.path == "/_fake/receive":
            return self._receive_over_http(request)
        with self._lock:
            self.requests_seen += 1
        stored = re.fullmatch(
            r"/v3/domains/([^/]+)/messages/([^/]+)(?:/attachments/([^/]+))?", request.path
        )
        if request.method == "GET" and stored is not None:
            return self._stored(request, stored.group(1), stored.group(2), stored.group(3))
        match = re.fullmatch(r"/v3/([^/]+)/messages", request.path)
        if request.method != "POST" or match is None:
            return self._json({"message": "not found"}, 404)
        if not self._authorised(request):
            return Response("Forbidden", status=401)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            return self._json({"message": failure[1]}, failure[0])
        content_type = request.mimetype
        if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return self._json({"message": "unsupported content type"}, 400)
        form = request.form
        if not form.get("from"):
            return self._json({"message": "'from' parameter is missing"}, 400)
        recipients = [addr for _, addr in getaddresses(form.getlist("to"))]
        if not recipients:
            return self._json({"message": "'to' parameter is missing"}, 400)
        for address in recipients + [a for _, a in getaddresses([form["from"]])]:
            if not _ADDRESS.match(address):
                return self._json(
                    {
                        "message": f"to parameter is not a valid address. "
                        f"please check documentation ({address})"
                    },
                    400,
                )
        if not (form.get("text") or form.get("html") or form.get("template")):
            return self._json(
                {
                    "message": "Need at least one of 'text', 'html' or 'template' "
                    "parameters specified"
                },
                400,
            )
        files: dict[str, bytes] = {}
        attachments: list[SentAttachment] = []
        for name, storage in request.files.items(multi=True):
            content = storage.read()
            files.setdefault(name, content)
            if name in ("attachment", "inline"):
                attachments.append(
                    SentAttachment(storage.filename or "", storage.mimetype or "", content)
                )
        with self._lock:
            self._sequence += 1
            message_id = f"<20261129.{self._sequence}@{match.group(1)}>"
            self.messages.append(
                SentMessage(match.group(1), MultiDict(form), content_type, files, attachments)
            )
        if self.echo:
            links = re.findall(r"https?://\S+", form.get("text", ""))
            print(
                f"[mail] to {', '.join(recipients)}: {form.get('subject', '')}"
                + (f"  {links[0]}" if links else ""),
                flush=True,
            )
        return self._json({"id": message_id, "message": "Queued. Thank you."}, 200)


# -- what Mailgun posts to our webhooks ----------------------------------------------------


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None  # set for inline parts (images referenced as cid:)


def signature_fields(
    signing_key: str, *, timestamp: int | None = None, token: str | None = None
) -> dict[str, str]:
    """`timestamp`, `token` (50 characters, like Mailgun's) and their `signature`.

    Computed here independently of `chalicelib`, so the tests check the product against it.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = secrets.token_hex(25) if token is None else token
    signature = hmac.new(
        signing_key.encode(), f"{stamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": signature}


def inbound_form(
    *,
    recipient: str,
    sender: str,
    subject: str = "Hello",
    body_plain: str = "Hello, I need help.",
    from_header: str | None = None,
    body_html: str | None = None,
    stripped_text: str | None = None,
    stripped_signature: str = "",
    stripped_html: str | None = None,
    parsing_failed: bool = False,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[InboundAttachment] = (),
    signing_key: str = DEFAULT_WEBHOOK_SIGNING_KEY,
    timestamp: int | None = None,
    token: str | None = None,
    spf: str | None = "Pass",
    dkim: str | None = None,
    dkim_domain: str | None = None,
) -> tuple[bytes, str]:
    """A route `forward()` post in parsed mode: `(body, content_type)`.

    Multipart when there are attachments (files `attachment-1..N`, `attachment-count`,
    `content-id-map` for inline ones), urlencoded otherwise, as Mailgun does.  The stripped-*
    fields default to the full bodies and are left out when `parsing_failed`.

    Mailgun's verdicts head the headers: `X-Mailgun-Spf: <spf>` (default Pass: the envelope
    sender's own domain allows the sending host; left out when None) and, when `dkim` is
    given, `X-Mailgun-Dkim-Check-Result: <dkim>` with a DKIM-Signature for `dkim_domain`
    (default: the From domain).  So a mail whose envelope and From share a domain is
    authenticated by default, and one whose From differs from the envelope is not.
    """
    from_header = from_header or sender
    message_id = message_id or make_msgid(domain=sender.rpartition("@")[2] or "example.test")
    date = format_datetime(datetime.now(UTC))
    headers: list[tuple[str, str]] = [
        ("Received", f"by mx.mailgun.test with SMTP; {date}"),
        ("Mime-Version", "1.0"),
        ("Date", date),
        ("Message-Id", message_id),
    ]
    headers[1:1] = mailgun_verdicts(
        spf=spf, dkim=dkim, dkim_domain=dkim_domain or _domain(from_header)
    )
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        headers.append(("References", references))
    headers += [("Subject", subject), ("From", from_header), ("To", recipient)]
    headers += list(extra_headers)
    if attachments:
        headers.append(("Content-Type", 'multipart/mixed; boundary="mixed-boundary"'))
    elif body_html is not None:
        headers.append(("Content-Type", 'multipart/alternative; boundary="alt-boundary"'))
    else:
        headers.append(("Content-Type", 'text/plain; charset="UTF-8"'))

    fields: list[tuple[str, str]] = [
        ("recipient", recipient),
        ("sender", sender),
        ("from", from_header),
        ("subject", subject),
        ("body-plain", body_plain),
    ]
    if body_html is not None:
        fields.append(("body-html", body_html))
    if not parsing_failed:
        fields += [
            ("stripped-text", body_plain if stripped_text is None else stripped_text),
            ("stripped-signature", stripped_signature),
        ]
        if body_html is not None or stripped_html is not None:
            fields.append(
                ("stripped-html", (body_html if stripped_html is None else stripped_html) or "")
            )
    fields.append(("message-headers", json.dumps([[name, value] for name, value in headers])))
    # Mailgun also posts each header as a field of its own.
    fields += [(name, value) for name, value in headers if name != "Received"]
    if attachments:
        fields.append(("attachment-count", str(len(attachments))))
        content_ids = {
            f"<{a.content_id.strip('<>')}>": f"attachment-{n}"
            for n, a in enumerate(attachments, 1)
            if a.content_id
        }
        if content_ids:
            fields.append(("content-id-map", json.dumps(content_ids)))
    fields += list(signature_fields(signing_key, timestamp=timestamp, token=token).items())

    if not attachments:
        return urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded"
    parts: list[tuple[str, Any]] = list(fields)
    parts += [
        (f"attachment-{n}", (a.filename, a.content, a.content_type))
        for n, a in enumerate(attachments, 1)
    ]
    body, content_type = encode_multipart_formdata(parts, boundary=secrets.token_hex(16))
    return body, content_type


def inbound_mime(
    raw_mime: bytes,
    *,
    recipient: str,
    sender: str | None = None,
    multipart: bool = False,
    signing_key: str = DEFAULT_WEBHOOK_SIGNING_KEY,
    timestamp: int | None = None,
    token: str | None = None,
    spf: str | None = None,
    dkim: str | None = None,
    dkim_domain: str | None = None,
) -> tuple[bytes, str]:
    """A route `forward()` post in raw MIME mode (URL ending in `mime`): `(body, content_type)`.

    `from` and `subject` are read from the message; `sender` defaults to its From address.
    `body-mime` carries `raw_mime` byte for byte (urlencoded unless `multipart`), unless
    `spf` or `dkim` are given: then Mailgun's verdict headers are put before it (see
    `with_verdicts`).
    """
    raw_mime = with_verdicts(raw_mime, spf=spf, dkim=dkim, dkim_domain=dkim_domain)
    parsed = message_from_bytes(raw_mime)
    from_header = str(parsed.get("From", ""))
    envelope_sender = sender or (getaddresses([from_header])[0][1] if from_header else "")
    fields: list[tuple[str, Any]] = [
        ("recipient", recipient),
        ("sender", envelope_sender),
        ("from", from_header),
        ("subject", str(parsed.get("Subject", ""))),
        ("body-mime", raw_mime),
    ]
    fields += list(signature_fields(signing_key, timestamp=timestamp, token=token).items())
    if multipart:
        body, content_type = encode_multipart_formdata(fields, boundary=secrets.token_hex(16))
        return body, content_type
    return urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded"


def _domain(address_header: str) -> str:
    pairs = getaddresses([address_header])
    return pairs[0][1].rpartition("@")[2].lower() if pairs else ""


def mailgun_verdicts(
    *, spf: str | None, dkim: str | None = None, dkim_domain: str | None = None
) -> list[tuple[str, str]]:
    """The headers Mailgun adds on receipt with its SPF and DKIM verdicts (and, with a DKIM
    verdict, a DKIM-Signature for `dkim_domain`)."""
    headers: list[tuple[str, str]] = []
    if spf is not None:
        headers.append(("X-Mailgun-Spf", spf))
    if dkim is not None:
        headers.append(("X-Mailgun-Dkim-Check-Result", dkim))
        headers.append(
            (
                "DKIM-Signature",
                f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={dkim_domain or 'example.test'}; "
                "s=k1; h=from:to:subject; bh=aGVsbG8=; b=c2lnbmF0dXJl",
            )
        )
    return headers


def with_verdicts(
    raw_mime: bytes,
    *,
    spf: str | None = None,
    dkim: str | None = None,
    dkim_domain: str | None = None,
) -> bytes:
    """`raw_mime` with Mailgun's verdict headers put first, as Mailgun adds them on receipt
    (unchanged when neither `spf` nor `dkim` is given).  The DKIM domain defaults to the
    From domain."""
    if spf is None and dkim is None:
        return raw_mime
    if dkim is not None and dkim_domain is None:
        dkim_domain = _domain(str(message_from_bytes(raw_mime).get("From", "")))
    newline = b"\r\n" if b"\r\n" in raw_mime.split(b"\n", 1)[0] + b"\n" else b"\n"
    lines = b"".join(
        f"{name}: {value}".encode() + newline
        for name, value in mailgun_verdicts(spf=spf, dkim=dkim, dkim_domain=dkim_domain)
    )
    return lines + raw_mime


def _envelope_sender(raw_mime: bytes, sender: str | None) -> str:
    if sender is not None:
        return sender
    from_header = str(message_from_bytes(raw_mime).get("From", ""))
    return getaddresses([from_header])[0][1] if from_header else ""


def _attachment_parts(raw_mime: bytes) -> list[tuple[str, str, bytes]]:
    """`(filename, content type, bytes)` of each attachment, in order."""
    parsed = message_from_bytes(raw_mime, policy=policy.default)
    found = []
    for part in parsed.iter_attachments() if isinstance(parsed, EmailMessage) else []:
        content = part.get_payload(decode=True)
        found.append(
            (
                part.get_filename() or "attachment",
                part.get_content_type(),
                content if isinstance(content, bytes) else b"",
            )
        )
    return found


def _parsed_fields(raw_mime: bytes, message_url: str) -> dict[str, str]:
    """The parsed fields Mailgun gives for a stored message (attachments as URLs)."""
    parsed = message_from_bytes(raw_mime, policy=policy.default)
    text = html = ""
    if isinstance(parsed, EmailMessage):
        plain_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        text = plain_part.get_content() if plain_part is not None else ""
        html = html_part.get_content() if html_part is not None else ""
    fields = {
        "from": str(parsed.get("From", "")),
        "subject": str(parsed.get("Subject", "")),
        "body-plain": text,
        "stripped-text": text,
        "stripped-signature": "",
        "message-headers": json.dumps([[name, str(value)] for name, value in parsed.items()]),
        "attachments": json.dumps(
            [
                {
                    "url": f"{message_url}/attachments/{n}",
                    "content-type": content_type,
                    "name": name,
                    "size": len(content),
                }
                for n, (name, content_type, content) in enumerate(_attachment_parts(raw_mime))
            ]
        ),
    }
    if html:
        fields["body-html"] = html
        fields["stripped-html"] = html
    return fields


def stored_notification(
    raw_mime: bytes,
    *,
    message_url: str,
    recipient: str,
    sender: str | None = None,
    signing_key: str = DEFAULT_WEBHOOK_SIGNING_KEY,
    timestamp: int | None = None,
    token: str | None = None,
) -> tuple[bytes, str]:
    """A `store(notify=...)` route's notification: `(body, content_type)`, urlencoded.

    The parsed fields of `raw_mime` (attachments as URLs under `message_url`, not as files),
    the envelope (`sender` defaults to the From address), `domain`, `message-url` and the
    signature fields.
    """
    fields: list[tuple[str, str]] = [
        ("domain", recipient.rpartition("@")[2]),
        ("recipient", recipient),
        ("sender", _envelope_sender(raw_mime, sender)),
        *_parsed_fields(raw_mime, message_url).items(),
        ("message-url", message_url),
        *signature_fields(signing_key, timestamp=timestamp, token=token).items(),
    ]
    return urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded"


_DELIVERY_STATUS = {
    ("delivered", None): (250, "OK"),
    ("failed", "permanent"): (
        550,
        "5.1.1 The email account that you tried to reach does not exist.",
    ),
    ("failed", "temporary"): (421, "4.2.1 Mailbox busy, try again later."),
}


def event_payload(
    event: str,
    message_id: str,
    recipient: str,
    severity: str | None = None,
    reason: str | None = None,
    mail_id: str | None = None,
    *,
    delivery_status_code: int | None = None,
    delivery_status_message: str | None = None,
    event_timestamp: float | None = None,
    event_id: str | None = None,
    sender: str = "noreply@mg.helptal.test",
    subject: str = "Hello",
    extra: dict[str, Any] | None = None,
    signing_key: str = DEFAULT_WEBHOOK_SIGNING_KEY,
    timestamp: int | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """An event webhook body, `{"signature": {...}, "event-data": {...}}`, as Mailgun posts it.

    `message_id` may have angle brackets; events carry it without.  `mail_id` goes into
    `user-variables` as `helptal-mail-id` (what `v:helptal-mail-id` on send produces).
    Delivered and failed events get a `delivery-status` (defaults by event and severity).
    `extra` is merged into `event-data` last (e.g. fields Mailgun may add one day).
    """
    now = time.time()
    signature = signature_fields(signing_key, timestamp=timestamp, token=token)
    data: dict[str, Any] = {
        "id": event_id or secrets.token_urlsafe(16),
        "event": event,
        "timestamp": float(event_timestamp if event_timestamp is not None else now),
        "log-level": "error" if severity == "permanent" else "warn" if severity else "info",
        "recipient": recipient,
        "recipient-domain": recipient.rpartition("@")[2],
        "message": {
            "headers": {
                "message-id": message_id.strip().strip("<>"),
                "from": sender,
                "to": recipient,
                "subject": subject,
            },
            "attachments": [],
            "size": 1024,
        },
        "envelope": {"sender": sender, "targets": recipient, "transport": "smtp"},
        "flags": {"is-authenticated": True, "is-test-mode": False},
        "tags": [],
        "user-variables": {"helptal-mail-id": mail_id} if mail_id else {},
    }
    if severity is not None:
        data["severity"] = severity
    if reason is not None:
        data["reason"] = reason
    if event in ("delivered", "failed"):
        code, text = _DELIVERY_STATUS.get((event, severity), (None, ""))
        data["delivery-status"] = {
            "code": delivery_status_code if delivery_status_code is not None else code,
            "message": delivery_status_message if delivery_status_message is not None else text,
            "description": "",
            "attempt-no": 1,
        }
    data.update(extra or {})
    return {"signature": signature, "event-data": data}
