"""Mail Mailgun keeps for us: its stored-message notification, read, and the port that
fetches the message.

A route with the action `store(notify="<url>")` keeps the message on Mailgun (for 3 days or
more) and posts a small signed notification: the parsed fields plus `message-url`, where the
raw message is fetched.  Mail too large for API Gateway and Lambda (over about 4.5 MB) can
only arrive this way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from chalicelib.errors import BadRequest, ProviderRejected

MAX_MESSAGE_URL_CHARS = 2048


@dataclass(frozen=True)
class StoredNotification:
    """What a stored-message notification says about the message.  `recipient` and `sender`
    are the SMTP envelope (RCPT TO, MAIL FROM; `""` for the null sender `<>`, None when the
    field is missing); the rest is read from the message itself once it is fetched."""

    message_url: str
    recipient: str | None
    sender: str | None
    from_header: str
    subject: str


def read_stored_notification(fields: Mapping[str, str]) -> StoredNotification:
    """The notification in a stored-message post's form `fields`.

    Raises `BadRequest` (code `missing_message_url`) without a one-line `message-url` of at
    most 2048 characters.  Whether the URL may be fetched is the fetcher's call (it knows the
    provider's hosts)."""
    message_url = (fields.get("message-url") or "").strip()
    if (
        not message_url
        or len(message_url) > MAX_MESSAGE_URL_CHARS
        or any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in message_url)
    ):
        raise BadRequest(
            "A stored-message notification needs a message-url.", code="missing_message_url"
        )
    return StoredNotification(
        message_url=message_url,
        recipient=fields.get("recipient"),
        sender=fields.get("sender"),
        from_header=fields.get("from", ""),
        subject=fields.get("subject", ""),
    )


class StoredMessageRefused(ProviderRejected):
    """A stored message that will never be fetched: retrying cannot help, so the delivery is
    recorded for operators instead.  `reason` is one of `message_url_not_allowed`,
    `stored_message_gone`, `stored_message_too_large`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StoredMessages(Protocol):
    """Where stored messages are fetched (the Mailgun adapter)."""

    def fetch(self, message_url: str, max_bytes: int) -> bytes:
        """The raw RFC 5322 message at `message_url`, at most `max_bytes` long.

        Raises `StoredMessageRefused` for a URL it will not fetch, a message that is gone
        (expired) or one over `max_bytes`; `ProviderUnavailable` for anything worth retrying
        (network errors, timeouts, 429, 5xx, a wrong key).  External call: one GET."""
        ...
