"""From headers and body parts to one `InboundMail`: the part both readers share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.mail.inbound.headers import (
    decode_words,
    normalise_message_id,
    parse_address_list,
    parse_date,
    parse_message_ids,
    single_line,
    unescape_header,
)
from chalicelib.mail.inbound.machine import judge_machine_mail
from chalicelib.mail.inbound.model import InboundAttachment, InboundMail

MAX_REFERENCES = 100

_UNSAFE_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/gif": ".gif",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "message/delivery-status": ".txt",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/rfc822-headers": ".txt",
}


@dataclass(frozen=True)
class Limits:
    """How much of a mail we read; the rest is dropped with a warning."""

    max_attachments: int = 100
    max_parts: int = 200
    max_depth: int = 20
    max_headers: int = 1000


def safe_filename(name: str | None, content_type: str, position: int) -> str:
    """A file name safe to show and to use in a storage key: no directories, no control
    characters, at most 200 characters with the extension kept.  Falls back to
    `attachment-<position><extension>`."""
    cleaned = ""
    if name:
        base = re.split(r"[/\\]", decode_words(name))[-1]
        cleaned = _UNSAFE_FILENAME_CHARS.sub("_", base).strip(" ._")
    if not cleaned:
        return f"attachment-{position}{_EXTENSIONS.get(content_type, '.bin')}"
    if len(cleaned) > 200:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = f"{stem[: 199 - len(extension)]}.{extension}"
        else:
            cleaned = cleaned[:200]
    return cleaned


def normalise_content_id(value: str | None) -> str | None:
    if not value:
        return None
    content_id = single_line(value).strip().strip("<>").strip()
    return content_id or None


def body_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def build_mail(
    headers: Sequence[tuple[str, str]],
    *,
    recipient: str | None,
    sender: str | None,
    text: str,
    html: str | None,
    attachments: list[InboundAttachment],
    content_type: str,
    warnings: list[str],
    overrides: Mapping[str, str] | None = None,
    dropped_attachments: Sequence[str] = (),
) -> InboundMail:
    """The mail with every header read the same way, whichever reader found it.
    `overrides` (by lowercase header name) win over `headers`; `dropped_attachments` names
    the files left out over the attachment limit."""
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.strip().lower(), value)
    for name, value in (overrides or {}).items():
        if value:
            first[name.lower()] = value

    def get(name: str) -> str | None:
        value = first.get(name)
        return unescape_header(value) if value is not None else None

    from_pairs = parse_address_list(get("from"))
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    to = _unique_addresses(get("to"))
    cc = _unique_addresses(get("cc"))
    reply_to_pairs = parse_address_list(get("reply-to"))
    subject = single_line(decode_words(get("subject") or ""))

    references = parse_message_ids(get("references"))
    if len(references) > MAX_REFERENCES:
        # The root and the most recent ids are the ones threading needs.
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
        warnings.append(f"references cut to {MAX_REFERENCES} ids")

    envelope_sender = _envelope_sender(sender, get("return-path"))
    verdict = judge_machine_mail(
        list(first.items()),
        sender=envelope_sender,
        from_address=from_address,
        content_type=content_type,
        subject=subject,
    )
    return InboundMail(
        recipient=_recipient(recipient, get("delivered-to"), get("x-original-to"), to),
        sender=envelope_sender,
        from_address=from_address,
        from_name=from_name,
        to=to,
        cc=cc,
        reply_to=reply_to_pairs[0][1] if reply_to_pairs else None,
        subject=subject,
        message_id=normalise_message_id(get("message-id")),
        in_reply_to=parse_message_ids(get("in-reply-to")),
        references=references,
        date=parse_date(get("date")),
        text=body_text(text),
        html=html,
        attachments=attachments,
        headers=[(name, unescape_header(value)) for name, value in headers],
        auto_submitted=verdict.auto_submitted,
        bulk=verdict.bulk,
        machine_reason=verdict.reason,
        warnings=warnings,
        dropped_attachments=list(dropped_attachments),
    )


def _unique_addresses(value: str | None) -> list[str]:
    addresses: list[str] = []
    for _, address in parse_address_list(value):
        if "@" in address and address not in addresses:
            addresses.append(address)
    return addresses


def _envelope_sender(sender: str | None, return_path: str | None) -> str | None:
    value = sender if sender is not None else return_path
    if value is None:
        return None
    return single_line(value).strip().strip("<>").strip().lower()


def _recipient(
    recipient: str | None, delivered_to: str | None, original_to: str | None, to: list[str]
) -> str:
    for candidate in (recipient, delivered_to, original_to):
        if candidate:
            pairs = parse_address_list(candidate)
            if pairs:
                return pairs[0][1]
    return to[0] if to else ""
