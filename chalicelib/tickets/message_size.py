"""How big a message is once stored, and cutting text to a size in UTF-8 bytes.

A message is one DynamoDB item, and an item holds at most 400 KB: sizes here are UTF-8
bytes (what DynamoDB counts), never characters."""

from __future__ import annotations

import json
from dataclasses import asdict

from chalicelib.errors import PayloadTooLarge
from chalicelib.tickets.model import Message

# Under DynamoDB's 400 KB: the rest is keys, index keys and attribute names.
MESSAGE_ITEM_MAX_BYTES = 380_000


def utf8_size(text: str | None) -> int:
    return len(text.encode("utf-8")) if text else 0


def stored_size(message: Message) -> int:
    """The UTF-8 bytes of everything the message item holds (its texts, addresses,
    references and attachment list)."""
    texts = [
        message.author,
        message.from_address,
        message.subject,
        message.text,
        message.html,
        message.quoted_text,
        message.message_id,
        message.delivery_detail,
        message.raw_s3_key,
        message.original_text,
        message.original_language,
        *message.to,
        *message.cc,
        *message.in_reply_to,
        *message.references,
    ]
    attachments = json.dumps([asdict(a) for a in message.attachments])
    return sum(utf8_size(t) for t in texts) + utf8_size(attachments)


def require_storable(message: Message) -> None:
    """413 `message_too_large` when the message would not fit in one item, e.g. text whose
    HTML form (every `&` as `&amp;`) or whose filled-in placeholders make it too big."""
    size = stored_size(message)
    if size > MESSAGE_ITEM_MAX_BYTES:
        raise PayloadTooLarge(
            f"The message is too large to keep: {size} bytes with its HTML form and "
            f"addresses, at most {MESSAGE_ITEM_MAX_BYTES} (UTF-8 bytes). Shorten the text.",
            code="message_too_large",
        )


def cut_to_bytes(text: str, max_bytes: int) -> str:
    """The longest start of `text` that is at most `max_bytes` in UTF-8, never splitting a
    character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def cut_html_to_bytes(html: str, max_bytes: int) -> str:
    """Like `cut_to_bytes`, and a tag cut in two is dropped whole (a browser closes the
    elements left open)."""
    cut = cut_to_bytes(html, max_bytes)
    if cut == html:
        return html
    last_open = cut.rfind("<")
    if last_open > cut.rfind(">"):
        cut = cut[:last_open]
    return cut
