"""An e-mail on its way out, as queued for the mail-out worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from chalicelib.errors import BadRequest


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class MailAttachment:
    """A file sent with the mail, read from the content bucket when it is sent, or carried
    in the queued message itself when small (`inline_base64`: a booking's .ics)."""

    filename: str
    content_type: str
    size: int
    s3_key: str
    inline_base64: str | None = None  # the bytes, base64; then `s3_key` is not read


@dataclass(frozen=True)
class OutboundMail:
    """One message to send.  `mail_id` makes delivery idempotent across redeliveries."""

    mail_id: str
    workspace_id: str
    purpose: str  # "invitation", later "ticket_reply", ...
    from_name: str
    to: list[str]
    subject: str
    text: str
    html: str
    from_address: str | None = None  # default: the deployment's no-reply address
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    # Set for ticket replies: the worker records the delivery on that message.
    ticket_id: str | None = None
    ticket_message_id: str | None = None
    # References only (the queue message stays small); the sender reads the bytes.
    attachments: list[MailAttachment] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> OutboundMail:
        data = json.loads(raw)
        data["attachments"] = [MailAttachment(**a) for a in data.get("attachments", [])]
        return cls(**data)


def header_safe(value: str) -> str:
    """A header value with line breaks removed (no header injection from names/subjects)."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def display_address(name: str, address: str) -> str:
    """`"Name" <address>` with the name quoted and stripped of anything that breaks headers."""
    clean = header_safe(name).replace("\\", "").replace('"', "'")
    if "\r" in address or "\n" in address or "<" in address or ">" in address:
        raise BadRequest("invalid e-mail address", code="invalid_address")
    return f'"{clean}" <{address}>' if clean else address
