"""Accepting Mailgun's inbound posts: verify, keep the raw delivery, queue it for the worker.

The webhook answers as soon as the delivery is safe in S3 and on the inbound-mail queue; the
worker (`chalicelib/workers/inbound_mail.py`) parses, routes and threads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.clock import Clock, epoch
from chalicelib.errors import ServiceUnavailable
from chalicelib.http_forms import parse_form
from chalicelib.ids import new_id
from chalicelib.tickets.deps import BlobStore

MAX_INBOUND_BYTES = 30 * 1024 * 1024  # Mailgun accepts messages up to 25 MB
# The raw message of a MIME-mode post: bytes in whatever charsets the mail uses.
BINARY_FIELDS = ("body-mime",)


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
    from chalicelib.providers.mailgun_webhooks import verify_inbound

    form = parse_form(
        raw, content_type, max_body_bytes=MAX_INBOUND_BYTES, binary_fields=BINARY_FIELDS
    )
    now = intake.clock.now()
    if not verify_inbound(form, intake.signing_key, intake.guard, now.timestamp()):
        return "duplicate"
    token = form.fields.get("token", "")
    key = f"inbound/{now:%Y/%m/%d}/{new_id()}"
    try:
        # The object is the raw request body; its media type travels in the queue message.
        intake.blobs.put(key, raw, "application/octet-stream")
        intake.queue.send(
            json.dumps({"raw_key": key, "content_type": content_type, "received_at": epoch(now)})
        )
    except Exception as e:
        intake.guard.release(token)
        if isinstance(e, ServiceUnavailable):
            raise
        raise ServiceUnavailable(
            "Could not keep the delivery; it will be retried.", code="intake_unavailable"
        ) from e
    return "queued"


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
