"""HTML form bodies (`application/x-www-form-urlencoded`, `multipart/form-data`) from raw bytes.

Pure: no framework, no I/O; the body is already in memory (API Gateway hands Lambda the whole
request).  Used by the Mailgun webhooks, which post forms rather than JSON.

Choices a caller may wonder about:
- A repeated field name keeps its **first** value; the later values are dropped and the name is
  listed in `FormData.repeated`, so a later part can never override an earlier one.  (Mailgun
  does not repeat names; a handler that cares can reject on `repeated`.)
- Text is decoded as **strict UTF-8**; invalid bytes are a 400, never guessed at (a wrong guess
  would store mojibake silently).  A multipart text part that declares its own
  `Content-Type: ...; charset=...` is decoded with that charset (RFC 7578 section 5.1.2), so
  a declared latin-1 part is read correctly.
- A multipart part with a `filename` (even empty) is a file and kept as bytes; every other part
  is a text field.  Files count towards `max_body_bytes` only; text fields also towards
  `max_field_bytes`.

Multipart parsing uses the `multipart` package (2.x, pure Python, no dependencies), imported
on first use so that cold starts of routes without forms do not pay for it.
"""

from __future__ import annotations

import codecs
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.errors import BadRequest, HelptalError, PayloadTooLarge

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

# API Gateway (REST) refuses bodies over 10 MB, so a larger limit would never be reached.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PARTS = 1000
DEFAULT_MAX_FIELD_BYTES = 10 * 1024 * 1024

_MALFORMED = "malformed_form"


class UnsupportedMediaType(HelptalError):
    """The body is not a form this module can read (415)."""

    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class FormData:
    """A parsed form: text fields and files by name (first occurrence of each name wins)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    repeated: tuple[str, ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get(name, default)


def media_type(content_type: str | None) -> str:
    """The lower-cased `type/subtype` of a Content-Type header, without parameters."""
    return (content_type or "").partition(";")[0].strip().lower()


def parse_form(
    body: bytes,
    content_type: str | None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    binary_fields: Collection[str] = (),
) -> FormData:
    """Parse `body` according to `content_type` (the request's Content-Type header).

    Raises `PayloadTooLarge` (413) when the body, the number of parts or one text field is over
    its limit, `BadRequest` (400, code `malformed_form`) for a body that does not match its
    declared type (missing boundary, truncated, invalid UTF-8), and `UnsupportedMediaType`
    (415) for any other content type.  Fields named in `binary_fields` (e.g. Mailgun's
    `body-mime`, whose bytes may be in any charset) are kept as bytes, in `files`, with an
    empty filename.
    """
    kind = media_type(content_type)
    if kind not in (URLENCODED, MULTIPART):
        raise UnsupportedMediaType(
            f"expected {URLENCODED} or {MULTIPART}, got {kind or 'no content type'}"
        )
    if len(body) > max_body_bytes:
        raise PayloadTooLarge(f"the form is larger than {max_body_bytes} bytes")
    collector = _Collector(
        max_parts=max_parts, max_field_bytes=max_field_bytes, binary_fields=binary_fields
    )
    if kind == URLENCODED:
        _parse_urlencoded(body, collector)
    else:
        _parse_multipart(body, content_type or "", collector)
    return collector.form()


class _Collector:
    def __init__(
        self, *, max_parts: int, max_field_bytes: int, binary_fields: Collection[str]
    ) -> None:
        self.binary_fields = frozenset(binary_fields)
        self.max_parts = max_parts
        self.max_field_bytes = max_field_bytes
        self.parts = 0
        self.fields: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        self.repeated: list[str] = []

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise PayloadTooLarge(f"the form has more than {self.max_parts} parts")

    def check_field_size(self, name: str, size: int) -> None:
        if size > self.max_field_bytes:
            raise PayloadTooLarge(
                f"form field {name!r} is larger than {self.max_field_bytes} bytes"
            )

    def _is_new(self, name: str) -> bool:
        if name in self.fields or name in self.files:
            if name not in self.repeated:
                self.repeated.append(name)
            return False
        return True

    def add_field(self, name: str, value: str) -> None:
        if self._is_new(name):
            self.fields[name] = value

    def add_binary(self, name: str, content: bytes) -> None:
        self.add_file(name, UploadedFile("", "application/octet-stream", content))

    def add_file(self, name: str, upload: UploadedFile) -> None:
        if self._is_new(name):
            self.files[name] = upload

    def form(self) -> FormData:
        return FormData(fields=self.fields, files=self.files, repeated=tuple(self.repeated))


def _parse_urlencoded(body: bytes, collector: _Collector) -> None:
    # Decoded as latin-1 first, which maps every byte to one character, so each value's exact
    # bytes are known; text fields must then be valid UTF-8 (raw UTF-8 is common and harmless).
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    for raw_name, raw_value in pairs:
        collector.count_part()
        content = raw_value.encode("latin-1")
        try:
            name = raw_name.encode("latin-1").decode("utf-8")
            if name in collector.binary_fields:
                collector.add_binary(name, content)
                continue
            collector.check_field_size(name, len(content))
            collector.add_field(name, content.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise BadRequest("urlencoded form is not valid UTF-8", code=_MALFORMED) from e


def _parse_multipart(body: bytes, content_type: str, collector: _Collector) -> None:
    import multipart  # imported here: only form webhooks need it

    _, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if not boundary:
        raise BadRequest("multipart/form-data without a boundary parameter", code=_MALFORMED)
    if len(boundary) > 70 or not boundary.isascii():
        raise BadRequest("multipart boundary is not valid (RFC 2046)", code=_MALFORMED)
    try:
        parser = multipart.PushMultipartParser(boundary, content_length=len(body))
        segment: Any = None
        chunks: list[bytes] = []
        size = 0
        with parser:  # leaving the block checks that the closing boundary was reached
            for event in parser.parse(body):
                if isinstance(event, multipart.MultipartSegment):
                    collector.count_part()
                    segment, chunks, size = event, [], 0
                elif event is None:
                    _finish_part(segment, b"".join(chunks), collector)
                    segment = None
                else:
                    size += len(event)
                    if segment.filename is None:
                        collector.check_field_size(segment.name, size)
                    chunks.append(event)
    except multipart.MultipartError as e:
        raise BadRequest(f"malformed multipart body: {e}", code=_MALFORMED) from e


def _finish_part(segment: Any, content: bytes, collector: _Collector) -> None:
    name = segment.name or ""
    if segment.filename is not None:
        collector.add_file(
            name,
            UploadedFile(
                filename=segment.filename,
                content_type=segment.content_type or "application/octet-stream",
                content=content,
            ),
        )
        return
    if name in collector.binary_fields:
        collector.add_binary(name, content)
        return
    charset = segment.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError as e:
        raise BadRequest(
            f"form field {name!r} declares an unknown charset {charset!r}", code=_MALFORMED
        ) from e
    try:
        value = content.decode(charset)
    except UnicodeDecodeError as e:
        raise BadRequest(f"form field {name!r} is not valid {charset}", code=_MALFORMED) from e
    collector.add_field(name, value)
