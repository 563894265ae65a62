"""Reading what a Mailgun inbound route posts (the parsed form, or `body-mime`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from chalicelib.mail.inbound.assemble import (
    Limits,
    build_mail,
    normalise_content_id,
    safe_filename,
)
from chalicelib.mail.inbound.mime import parse_mime
from chalicelib.mail.inbound.model import InboundAttachment, InboundMail

_ATTACHMENT_FIELD = re.compile(r"^attachment-(\d{1,6})$")
# Form fields Mailgun copies from the message headers; read when message-headers is absent.
_HEADER_FIELDS = (
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-Id", "In-Reply-To",
    "References", "Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe",
    "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "Content-Type",
    "Return-Path", "Delivered-To", "X-Original-To", "X-Loop", "X-Mailgun-Spf",
    "X-Mailgun-Dkim-Check-Result", "DKIM-Signature",
)  # fmt: skip


def parse_mailgun_form(
    fields: Mapping[str, str],
    files: Mapping[str, tuple[str, str, bytes]],
    *,
    max_attachments: int = 100,
    max_parts: int = 200,
    max_depth: int = 20,
    max_headers: int = 1000,
) -> InboundMail:
    """The mail in a Mailgun inbound route post: `fields` are the form fields, `files` the
    uploaded `attachment-N` files as (filename, content type, bytes).  A post carrying
    `body-mime` is read as raw MIME.  Missing or malformed fields are tolerated (and noted in
    `warnings`); it never raises on the content of the post."""
    if fields.get("body-mime"):
        raw = fields["body-mime"]
        try:
            raw_bytes = raw.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:
            raw_bytes = raw.encode("utf-8", errors="replace")
        return parse_mime(
            raw_bytes,
            recipient=fields.get("recipient"),
            sender=fields.get("sender"),
            max_attachments=max_attachments,
            max_parts=max_parts,
            max_depth=max_depth,
            max_headers=max_headers,
        )

    limits = Limits(
        max_attachments=max_attachments,
        max_parts=max_parts,
        max_depth=max_depth,
        max_headers=max_headers,
    )
    warnings: list[str] = []
    headers = _message_headers(fields, limits, warnings)
    inline_ids = _content_id_map(fields.get("content-id-map"), warnings)
    dropped: list[str] = []
    attachments = _attachments(files, inline_ids, limits, warnings, dropped)
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    html = fields.get("body-html") or None
    text = fields.get("body-plain") or ""
    if not text.strip() and html:
        from chalicelib.mail.sanitize import html_to_text

        text = html_to_text(html)
    return build_mail(
        headers,
        recipient=fields.get("recipient"),
        sender=fields.get("sender"),
        text=text,
        html=html,
        attachments=attachments,
        content_type=content_type.split(";", 1)[0].strip().lower(),
        warnings=warnings,
        dropped_attachments=dropped,
        overrides={
            "from": fields.get("from", ""),
            "subject": fields.get("subject", ""),
            "message-id": fields.get("Message-Id", ""),
            "in-reply-to": fields.get("In-Reply-To", ""),
            "references": fields.get("References", ""),
        },
    )


def _message_headers(
    fields: Mapping[str, str], limits: Limits, warnings: list[str]
) -> list[tuple[str, str]]:
    """`message-headers` (a JSON list of [name, value] pairs, in order), or the header
    fields Mailgun also posts one by one when it is missing or malformed."""
    raw = fields.get("message-headers")
    pairs: list[tuple[str, str]] = []
    if raw:
        try:
            decoded = json.loads(raw)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, list):
            for entry in decoded:
                if (
                    isinstance(entry, list | tuple)
                    and len(entry) == 2
                    and isinstance(entry[0], str)
                    and isinstance(entry[1], str)
                ):
                    pairs.append((entry[0], entry[1]))
            if len(pairs) > limits.max_headers:
                warnings.append(f"{len(pairs) - limits.max_headers} headers over the limit dropped")
                pairs = pairs[: limits.max_headers]
            return pairs
        warnings.append("message-headers is not a JSON list of [name, value] pairs")
    else:
        warnings.append("message-headers missing")
    lowered = {name.lower(): value for name, value in fields.items()}
    for name in _HEADER_FIELDS:
        value = lowered.get(name.lower())
        if isinstance(value, str) and value:
            pairs.append((name, value))
    return pairs


def _content_id_map(raw: str | None, warnings: list[str]) -> dict[str, str]:
    """`attachment-N` -> Content-ID (without angle brackets), from `content-id-map`."""
    if not raw:
        return {}
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        decoded = None
    if not isinstance(decoded, dict):
        warnings.append("content-id-map is not a JSON object")
        return {}
    by_field: dict[str, str] = {}
    for content_id, field_name in decoded.items():
        normalised = normalise_content_id(content_id) if isinstance(content_id, str) else None
        if normalised and isinstance(field_name, str):
            by_field.setdefault(field_name, normalised)
    return by_field


def _attachments(
    files: Mapping[str, tuple[str, str, bytes]],
    inline_ids: Mapping[str, str],
    limits: Limits,
    warnings: list[str],
    dropped: list[str],
) -> list[InboundAttachment]:
    """The uploads as attachments, up to the limit; the names of the rest go to `dropped`."""
    numbered = sorted(
        (int(match.group(1)), name) for name in files if (match := _ATTACHMENT_FIELD.match(name))
    )
    attachments: list[InboundAttachment] = []
    for position, (_, name) in enumerate(numbered, start=1):
        if len(attachments) >= limits.max_attachments:
            warnings.append(
                f"{len(numbered) - limits.max_attachments} attachments over the limit of "
                f"{limits.max_attachments} dropped"
            )
            dropped.extend(
                _dropped_name(files[later], later_position)
                for later_position, (_, later) in enumerate(
                    numbered[position - 1 :], start=position
                )
            )
            break
        upload = files[name]
        try:
            filename, content_type, content = upload
        except (TypeError, ValueError):
            warnings.append(f"{name} is not a (filename, content type, bytes) upload")
            continue
        content_type = (
            str(content_type or "").split(";", 1)[0].strip().lower() or "application/octet-stream"
        )
        content_id = inline_ids.get(name)
        attachments.append(
            InboundAttachment(
                filename=safe_filename(str(filename or ""), content_type, position),
                content_type=content_type,
                content=content if isinstance(content, bytes) else b"",
                content_id=content_id,
                inline=content_id is not None,
            )
        )
    return attachments


def _dropped_name(upload: object, position: int) -> str:
    """The safe name of an upload left out (only its name is read)."""
    filename = upload[0] if isinstance(upload, tuple) and upload else ""
    return safe_filename(str(filename or ""), "application/octet-stream", position)
