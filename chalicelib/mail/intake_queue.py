"""Accepting Mailgun's inbound posts: verify, keep the raw delivery, queue it for the worker.

Two ways in, one queue:
- a route's `forward()` post carries the whole mail (only small mail: API Gateway and
  Lambda cap the body at about 4.5 MB once base64-encoded);
- a route's `store(notify=...)` notification carries `message-url`; the worker fetches the
  message (up to Mailgun's 25 MB) and keeps it as the delivery a MIME-mode post would have
  been, so parsing, routing, threading and releasing held mail work the same for both.

The webhooks answer as soon as the delivery or notification is safe in S3 and on the
inbound-mail queue; the worker (`chalicelib/workers/inbound_mail.py`) does the rest."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.clock import Clock, epoch
from chalicelib.errors import BadRequest, HelptalError, ServiceUnavailable
from chalicelib.http_forms import FormData, parse_form
from chalicelib.ids import new_id
from chalicelib.tickets.deps import BlobStore

if TYPE_CHECKING:
    from chalicelib.mail.inbound.model import InboundMail
    from chalicelib.mail.inbound.stored import (
        StoredMessageRefused,
        StoredMessages,
        StoredNotification,
    )

MAX_INBOUND_BYTES = 30 * 1024 * 1024  # Mailgun accepts messages up to 25 MB
# A fetched stored message, with room left for the envelope fields kept beside it.
MAX_STORED_MIME_BYTES = MAX_INBOUND_BYTES - 1024 * 1024
# A notification carries the parsed text and HTML but no attachments; API Gateway's limit.
MAX_NOTIFICATION_BYTES = 10 * 1024 * 1024
# The raw message of a MIME-mode post: bytes in whatever charsets the mail uses.
BINARY_FIELDS = ("body-mime",)
# `kind` of a queued stored-message notification (a queued delivery has no `kind`).
STORED = "stored"
# Where a stored message that will never be fetched is recorded, for operators.
REFUSED_PREFIX = "inbound/refused/"


class ReleasableGuard(Protocol):
    def first_use(self, token: str, expires_at: int) -> bool: ...
    def release(self, token: str) -> None: ...


class QueueSender(Protocol):
    def send(self, body: str) -> None: ...


@dataclass(frozen=True)
class InboundIntake:
    signing_key: str
    guard: ReleasableGuard
    blobs: BlobStore
    queue: QueueSender
    clock: Clock


def accept_inbound_delivery(intake: InboundIntake, raw: bytes, content_type: str | None) -> str:
    """ "queued" for a first delivery, "duplicate" for a token already accepted.

    The token is claimed first, so a captured signature cannot carry a second (altered)
    body; if keeping or queueing the delivery then fails, the claim is released and the
    error makes Mailgun retry: nothing is lost.  Writes: token, S3 object, SQS message."""

    form = parse_form(
        raw, content_type, max_body_bytes=MAX_INBOUND_BYTES, binary_fields=BINARY_FIELDS
    )
    now = intake.clock.now()
    if not _verify_and_claim(intake, form, now):
        return "duplicate"
    key = f"inbound/{now:%Y/%m/%d}/{new_id()}"
    _keep_and_queue(
        intake,
        form.fields.get("token", ""),
        key,
        raw,
        {"raw_key": key, "content_type": content_type, "received_at": epoch(now)},
    )
    return "queued"


def accept_stored_notification(intake: InboundIntake, raw: bytes, content_type: str | None) -> str:
    """ "queued" for a first stored-message notification, "duplicate" for a token already
    accepted.

    Verified and claimed like a route post (`accept_inbound_delivery`); the notification
    must carry a `message-url` (400 `missing_message_url` otherwise, the token released).
    Only the notification is kept: the worker fetches the message.  Writes: token, S3
    object, SQS message (`kind` "stored")."""
    from chalicelib.mail.inbound.stored import read_stored_notification

    form = parse_form(raw, content_type, max_body_bytes=MAX_NOTIFICATION_BYTES)
    now = intake.clock.now()
    if not _verify_and_claim(intake, form, now):
        return "duplicate"
    token = form.fields.get("token", "")
    try:
        read_stored_notification(form.fields)
    except BadRequest:
        intake.guard.release(token)
        raise
    key = f"inbound/{now:%Y/%m/%d}/{new_id()}"
    _keep_and_queue(
        intake,
        token,
        key,
        raw,
        {
            "kind": STORED,
            "notification_key": key,
            "content_type": content_type,
            "received_at": epoch(now),
        },
    )
    return "queued"


def _verify_and_claim(intake: InboundIntake, form: FormData, now: datetime) -> bool:
    """`verify_inbound` of the post's signature fields: False for a token already claimed.
    The claim is a write: when it fails (the table unreachable), raises `ServiceUnavailable`
    (503 `intake_unavailable`) so Mailgun retries; a refused signature raises as before."""
    from chalicelib.providers.mailgun_webhooks import verify_inbound

    try:
        return verify_inbound(form, intake.signing_key, intake.guard, now.timestamp())
    except HelptalError:
        raise
    except Exception as e:
        raise ServiceUnavailable(
            "Could not record the delivery; it will be retried.", code="intake_unavailable"
        ) from e


def _keep_and_queue(
    intake: InboundIntake, token: str, key: str, raw: bytes, queued: dict[str, Any]
) -> None:
    """Keeps `raw` at `key` and queues `queued`; on failure releases `token` and raises
    `ServiceUnavailable`, so Mailgun's retry is accepted again."""
    try:
        # The object is the raw request body; its media type travels in the queue message.
        intake.blobs.put(key, raw, "application/octet-stream")
        intake.queue.send(json.dumps(queued))
    except Exception as e:
        intake.guard.release(token)
        if isinstance(e, ServiceUnavailable):
            raise
        raise ServiceUnavailable(
            "Could not keep the delivery; it will be retried.", code="intake_unavailable"
        ) from e


def load_inbound_delivery(blobs: BlobStore, queued: dict[str, Any]) -> Any:
    """The parsed e-mail of a queued delivery (for the worker)."""
    from chalicelib.mail.inbound import parse_mailgun_form, parse_mime

    raw = blobs.get(queued["raw_key"])
    form = parse_form(
        raw,
        queued.get("content_type"),
        max_body_bytes=MAX_INBOUND_BYTES,
        binary_fields=BINARY_FIELDS,
    )
    if "body-mime" in form.files:
        return parse_mime(
            form.files["body-mime"].content,
            recipient=form.fields.get("recipient"),
            sender=form.fields.get("sender"),
        )
    files = {name: (f.filename, f.content_type, f.content) for name, f in form.files.items()}
    return parse_mailgun_form(form.fields, files)


@dataclass(frozen=True)
class FetchedDelivery:
    """A stored message, fetched, kept in S3 as a delivery (`raw_key`, `content_type`, as
    `load_inbound_delivery` reads it) and read."""

    raw_key: str
    content_type: str
    mail: InboundMail


def fetch_stored_delivery(
    blobs: BlobStore, stored: StoredMessages, queued: dict[str, Any], now: datetime
) -> FetchedDelivery | None:
    """The message a queued stored-message notification points at (for the worker).

    The message is fetched, kept beside the notification as the delivery a MIME-mode route
    post of it would have been (so holding and releasing it work as for any delivery), and
    read.  None when it will never be fetched (a URL off Mailgun's storage hosts, an expired
    message, one too large): that is recorded at `inbound/refused/...` and logged, not
    retried.  Raises `ProviderUnavailable` or `ServiceUnavailable` to be retried through the
    queue.  External call: one GET.  Writes: the delivery, or the refusal record, in S3."""
    from chalicelib.mail.inbound import parse_mime
    from chalicelib.mail.inbound.stored import StoredMessageRefused, read_stored_notification

    notification_key = queued["notification_key"]
    form = parse_form(
        blobs.get(notification_key),
        queued.get("content_type"),
        max_body_bytes=MAX_NOTIFICATION_BYTES,
    )
    notification = read_stored_notification(form.fields)
    try:
        mime = stored.fetch(notification.message_url, MAX_STORED_MIME_BYTES)
    except StoredMessageRefused as refused:
        _record_refusal(blobs, notification_key, notification, refused, now)
        return None
    raw_key = f"{notification_key}/message"
    body, content_type = mime_delivery(notification, mime)
    blobs.put(raw_key, body, "application/octet-stream")
    del body  # a 25 MB message is held once more while parsing; not three times
    mail = parse_mime(mime, recipient=notification.recipient, sender=notification.sender)
    return FetchedDelivery(raw_key=raw_key, content_type=content_type, mail=mail)


def mime_delivery(notification: StoredNotification, mime: bytes) -> tuple[bytes, str]:
    """`(body, content_type)` of the multipart form a MIME-mode route post of `mime` would
    have been: the envelope fields the notification gave, and `body-mime` as a file."""
    fields = [("recipient", notification.recipient), ("sender", notification.sender)]
    texts = [value.encode("utf-8") for _, value in fields if value is not None]
    boundary = secrets.token_hex(16)
    while any(boundary.encode() in part for part in (mime, *texts)):
        boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields:
        if value is not None:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
    parts.append(
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="body-mime"; filename="message.eml"\r\n'
        "Content-Type: message/rfc822\r\n\r\n".encode()
    )
    parts += [mime, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _record_refusal(
    blobs: BlobStore,
    notification_key: str,
    notification: StoredNotification,
    refused: StoredMessageRefused,
    now: datetime,
) -> None:
    """Keeps what operators need to chase a stored message that will never be fetched.  One
    record per notification (a redelivery overwrites it)."""
    from chalicelib.observability import logger

    record = {
        "reason": refused.reason,
        "detail": refused.detail,
        "notification_key": notification_key,
        "message_url": notification.message_url,
        "recipient": notification.recipient,
        "sender": notification.sender,
        "from": notification.from_header,
        "subject": notification.subject,
        "refused_at": now.isoformat(),
    }
    key = f"{REFUSED_PREFIX}{notification_key.removeprefix('inbound/')}.json"
    blobs.put(key, json.dumps(record).encode(), "application/json")
    logger.error(
        "stored mail refused",
        extra={"reason": refused.reason, "detail": refused.detail, "record_key": key},
    )
