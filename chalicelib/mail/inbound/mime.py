"""Reading a raw RFC 5322 message (what Mailgun posts as `body-mime`)."""

from __future__ import annotations

import base64
import binascii
import email
import re
from email import policy
from email.message import Message
from email.utils import collapse_rfc2231_value

from chalicelib.mail.inbound.assemble import (
    Limits,
    body_text,
    build_mail,
    normalise_content_id,
    safe_filename,
)
from chalicelib.mail.inbound.charsets import decode_text
from chalicelib.mail.inbound.headers import decode_words, single_line, unescape_header
from chalicelib.mail.inbound.model import InboundAttachment, InboundMail

_BODY_TYPES = ("text/plain", "text/html")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_NOT_BASE64_OR_SPACE = re.compile(rb"[^A-Za-z0-9+/\s]")
_ATTACHED_MESSAGE_TYPES = ("message/rfc822", "message/global")


def parse_mime(
    raw: bytes,
    *,
    recipient: str | None = None,
    sender: str | None = None,
    max_attachments: int = 100,
    max_parts: int = 200,
    max_depth: int = 20,
    max_headers: int = 1000,
) -> InboundMail:
    """The mail in `raw`.  `recipient` and `sender` are the SMTP envelope (RCPT TO and
    MAIL FROM, `""` for `<>`); without them the Delivered-To and Return-Path headers stand
    in.  Broken encodings are repaired, unknown charsets guessed, and parts beyond the
    limits dropped with a warning: it never raises on the content of `raw`."""
    limits = Limits(
        max_attachments=max_attachments,
        max_parts=max_parts,
        max_depth=max_depth,
        max_headers=max_headers,
    )
    try:
        return _read(raw, recipient, sender, limits)
    except Exception as e:  # a reader bug must not lose the mail: keep it as plain text
        return build_mail(
            [],
            recipient=recipient,
            sender=sender,
            text=decode_text(raw, None),
            html=None,
            attachments=[],
            content_type="text/plain",
            warnings=[f"mail could not be read ({type(e).__name__}): kept as plain text"],
        )


def _read(raw: bytes, recipient: str | None, sender: str | None, limits: Limits) -> InboundMail:
    warnings: list[str] = []
    message = _parse(raw, warnings)
    reader = _PartReader(limits, warnings)
    reader.read(message)

    headers = list(message.raw_items())
    if len(headers) > limits.max_headers:
        warnings.append(f"{len(headers) - limits.max_headers} headers over the limit dropped")
        headers = headers[: limits.max_headers]
    return build_mail(
        headers,
        recipient=recipient,
        sender=sender,
        text=reader.text(),
        html=reader.html(),
        attachments=reader.attachments,
        content_type=_content_type(message),
        warnings=warnings,
        dropped_attachments=reader.dropped_attachments,
    )


def _parse(raw: bytes, warnings: list[str]) -> Message:
    # compat32 keeps header values as raw strings: nothing parses a hostile header lazily
    # (policy.default's header classes can raise or backtrack on some), and we decode them
    # ourselves.
    try:
        return email.message_from_bytes(raw, policy=policy.compat32)
    except RecursionError:
        warnings.append("MIME structure nested too deeply: body read as plain text")
    except Exception:  # the feed parser should never raise, but a lost mail costs more
        warnings.append("MIME structure unreadable: body read as plain text")
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        header_end = raw.find(b"\n\n")
    headers_only = raw if header_end < 0 else raw[:header_end]
    try:
        message = email.message_from_bytes(headers_only, policy=policy.compat32)
    except Exception:
        message = Message()
    for name in ("Content-Type", "Content-Transfer-Encoding"):
        del message[name]
    body = b"" if header_end < 0 else raw[header_end:].lstrip(b"\r\n")
    message.set_payload(body.decode("ascii", "surrogateescape"))
    return message


class _PartReader:
    """Walks the part tree once, iteratively, collecting body text, HTML and attachments."""

    def __init__(self, limits: Limits, warnings: list[str]) -> None:
        self.limits = limits
        self.warnings = warnings
        self.attachments: list[InboundAttachment] = []
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.attached_message_texts: list[str] = []
        self.dropped_attachments: list[str] = []  # names of the files over the limit

    def read(self, message: Message) -> None:
        stack: list[tuple[Message, int]] = [(message, 0)]
        seen = 0
        too_deep = 0
        while stack:
            part, depth = stack.pop()
            seen += 1
            if seen > self.limits.max_parts:
                self.warnings.append(
                    f"more than {self.limits.max_parts} MIME parts: the rest was dropped"
                )
                break
            content_type = _content_type(part)
            if content_type in _ATTACHED_MESSAGE_TYPES or (
                content_type.startswith("message/") and part.is_multipart()
            ):
                self._attach_message(part, content_type)
                continue
            if part.is_multipart():
                if depth >= self.limits.max_depth:
                    too_deep += 1
                    continue
                children = _payload_list(part)
                stack.extend((child, depth + 1) for child in reversed(children))
                continue
            self._read_leaf(part, content_type)
        if too_deep:
            self.warnings.append(
                f"{too_deep} MIME parts nested deeper than {self.limits.max_depth} dropped"
            )
        if self.dropped_attachments:
            self.warnings.append(
                f"{len(self.dropped_attachments)} attachments over the limit of "
                f"{self.limits.max_attachments} dropped"
            )

    def text(self) -> str:
        if self.text_parts:
            return "\n".join(self.text_parts)
        html = self.html()
        if html is not None:
            from chalicelib.mail.sanitize import html_to_text

            return html_to_text(html)
        # A forward sent as a bare attachment: the forwarded text is all there is to read.
        return "\n".join(self.attached_message_texts)

    def html(self) -> str | None:
        return "\n".join(self.html_parts) if self.html_parts else None

    def _read_leaf(self, part: Message, content_type: str) -> None:
        disposition = _disposition(part)
        filename = _param(part, "filename", "content-disposition") or _param(
            part, "name", "content-type"
        )
        if content_type in _BODY_TYPES and disposition != "attachment" and not filename:
            body = decode_text(_payload_bytes(part, self.warnings), _charset(part))
            if content_type == "text/plain":
                self.text_parts.append(body_text(body))
            else:
                self.html_parts.append(body)
            return
        content_id = normalise_content_id(_header(part, "content-id"))
        self._add_attachment(
            InboundAttachment(
                filename=safe_filename(filename, content_type, len(self.attachments) + 1),
                content_type=content_type,
                content=_payload_bytes(part, self.warnings),
                content_id=content_id,
                inline=content_id is not None and disposition != "attachment",
            )
        )

    def _attach_message(self, part: Message, content_type: str) -> None:
        inner = next(iter(_payload_list(part)), None)
        try:
            if content_type in _ATTACHED_MESSAGE_TYPES and isinstance(inner, Message):
                content = inner.as_bytes()
            elif part.is_multipart():
                content = b"\n".join(child.as_bytes() for child in _payload_list(part))
            else:
                content = _payload_bytes(part, self.warnings)
        except Exception:  # re-serialising a broken inner message; keep what we can show
            content = b""
            self.warnings.append(f"attached {content_type} could not be re-serialised")
        filename = _param(part, "filename", "content-disposition")
        if not filename and content_type in _ATTACHED_MESSAGE_TYPES and inner is not None:
            subject = single_line(decode_words(_header(inner, "subject") or ""))
            filename = f"{subject[:150]}.eml" if subject else "forwarded-message.eml"
        self._add_attachment(
            InboundAttachment(
                filename=safe_filename(filename, content_type, len(self.attachments) + 1),
                content_type=content_type,
                content=content,
                content_id=normalise_content_id(_header(part, "content-id")),
                inline=False,
            )
        )
        if content_type in _ATTACHED_MESSAGE_TYPES and isinstance(inner, Message):
            forwarded = _PartReader(
                Limits(max_attachments=0, max_parts=self.limits.max_parts, max_depth=5),
                [],
            )
            forwarded.read(inner)
            if forwarded.text_parts or forwarded.html_parts:
                self.attached_message_texts.append(forwarded.text())

    def _add_attachment(self, attachment: InboundAttachment) -> None:
        if len(self.attachments) >= self.limits.max_attachments:
            self.dropped_attachments.append(attachment.filename)
            return
        self.attachments.append(attachment)


def _content_type(part: Message) -> str:
    try:
        return str(part.get_content_type()).lower()
    except Exception:  # a Content-Type header the stdlib cannot split
        return "text/plain"


def _payload_list(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [child for child in payload if isinstance(child, Message)]


def _payload_bytes(part: Message, warnings: list[str]) -> bytes:
    """The decoded payload: base64 and quoted-printable repaired where broken."""
    encoding = (_header(part, "content-transfer-encoding") or "").strip().lower()
    if encoding == "base64":
        return _decode_base64(part, warnings)
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # e.g. a uuencoded payload the stdlib gives up on
        warnings.append("a part could not be decoded and was kept as sent")
        return _raw_payload(part)
    return payload if isinstance(payload, bytes) else b""


def _decode_base64(part: Message, warnings: list[str]) -> bytes:
    # The stdlib hands back the still-encoded text when base64 is broken; decode what is
    # there instead: drop stray characters, complete or drop the last partial quantum.
    sent = _raw_payload(part).split(b"=", 1)[0]
    encoded = _NOT_BASE64.sub(b"", sent)
    remainder = len(encoded) % 4
    if remainder or _NOT_BASE64_OR_SPACE.search(sent):
        warnings.append("a base64 part was truncated or damaged: decoded what was there")
    if remainder == 1:
        encoded = encoded[:-1]
    elif remainder:
        encoded += b"=" * (4 - remainder)
    try:
        return base64.b64decode(encoded)
    except (binascii.Error, ValueError):
        warnings.append("a base64 part could not be decoded and was kept as sent")
        return _raw_payload(part)


def _raw_payload(part: Message) -> bytes:
    raw = part.get_payload()
    if not isinstance(raw, str):
        return b""
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates the parser did not put there
        return raw.encode("utf-8", "replace")


def _header(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return unescape_header(value)
    return None


def _disposition(part: Message) -> str | None:
    value = _header(part, "content-disposition")
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _param(part: Message, name: str, header: str) -> str | None:
    """A parameter (RFC 2231 and RFC 2047 encodings decoded) of a part's header."""
    value = _header(part, header)
    if not value:
        return None
    probe = Message()
    probe[header] = value
    try:
        found = probe.get_param(name, header=header)
        if found is None:
            return None
        text = collapse_rfc2231_value(found)
    except Exception:  # malformed parameters: treat as absent
        return None
    decoded = single_line(decode_words(str(text)))
    return decoded or None


def _charset(part: Message) -> str | None:
    return _param(part, "charset", "content-type")
