"""Reading header values: encoded words, addresses, message ids and dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime

from chalicelib.mail.inbound.charsets import decode_text

# A header longer than this is cut before parsing: address and id parsing stay linear-ish.
MAX_HEADER_CHARS = 64 * 1024
MAX_ADDRESSES = 500
MAX_MESSAGE_ID_CHARS = 998

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BRACKETED_ID = re.compile(r"<([^<>\s]{1,998})>")


def unescape_header(value: str) -> str:
    """A raw header value as text: 8-bit bytes (kept as surrogates by the parser) read as
    UTF-8, or Windows-1252 when they are not UTF-8; folding undone."""
    if any("\udc80" <= char <= "\udcff" for char in value):
        raw = value.encode("utf-8", errors="surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", errors="replace")
    return _FOLD.sub("", value)


def decode_words(value: str) -> str:
    """`value` with RFC 2047 encoded words (`=?utf-8?q?...?=`) decoded; never raises."""
    value = value[:MAX_HEADER_CHARS]
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # an unknown charset or a broken word: decode chunk by chunk
        return _decode_chunks(value)


def _decode_chunks(value: str) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # a word that cannot even be split: show it as sent
        return value
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            decoded.append(chunk)
        elif charset is None:
            decoded.append(chunk.decode("latin-1"))
        else:
            decoded.append(decode_text(chunk, charset))
    return "".join(decoded)


def single_line(value: str) -> str:
    """`value` without line breaks or control characters, trimmed (safe to show and to put
    back into a header)."""
    return _CONTROL_CHARS.sub("", _LINE_BREAKS.sub("", value)).strip()


def normalise_message_id(value: str | None) -> str | None:
    """The first message id in `value`, without angle brackets or surrounding space, or
    None when there is none (`" <Abc@x.test> "` -> `"Abc@x.test"`)."""
    if not value:
        return None
    value = value[:MAX_HEADER_CHARS]
    match = _BRACKETED_ID.search(value)
    if match:
        return match.group(1)
    tokens = single_line(value).strip("<>").split()
    if not tokens:
        return None
    token = tokens[0].strip("<>,")
    if not token or len(token) > MAX_MESSAGE_ID_CHARS:
        return None
    return token


def parse_message_ids(value: str | None) -> list[str]:
    """Every message id in a References or In-Reply-To value, in order, without repeats."""
    if not value:
        return []
    value = value[:MAX_HEADER_CHARS]
    found = _BRACKETED_ID.findall(value)
    if not found:
        # Some clients drop the brackets: ids separated by spaces or commas.
        found = [
            token.strip("<>")
            for token in re.split(r"[\s,]+", single_line(value))
            if "@" in token and len(token) <= MAX_MESSAGE_ID_CHARS
        ]
    ids: list[str] = []
    seen: set[str] = set()
    for message_id in found:
        if message_id and message_id not in seen:
            seen.add(message_id)
            ids.append(message_id)
    return ids


def parse_address_list(value: str | None) -> list[tuple[str, str]]:
    """The `(name, address)` pairs of an address header, names decoded and addresses
    lowercased; groups flattened, empty entries dropped.  Never raises."""
    if not value:
        return []
    value = single_line(unescape_header(value[:MAX_HEADER_CHARS]))
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib parser has raised on hostile input before
        pairs = [("", part) for part in value.split(",")]
    addresses: list[tuple[str, str]] = []
    for name, address in pairs[:MAX_ADDRESSES]:
        address = address.strip().strip("<>").strip().lower()
        if not address or any(char.isspace() or char in "<>\"'," for char in address):
            continue
        addresses.append((single_line(decode_words(name)).strip("\"' "), address))
    return addresses


def parse_date(value: str | None) -> datetime | None:
    """The Date header as an aware UTC datetime; a date without a zone is read as UTC.
    None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(single_line(value[:500]))
    except Exception:  # (ValueError, TypeError, IndexError, OverflowError) on broken dates
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
