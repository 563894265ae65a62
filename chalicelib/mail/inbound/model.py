"""One received e-mail, as the ticketing worker sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with the mail.  `inline` marks an image the HTML shows through
    `cid:` (`content_id` without angle brackets) rather than a file the sender attached."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class InboundMail:
    """A received e-mail.  Addresses are lowercased; message ids carry no angle brackets;
    `text` is the whole plain body (derived from the HTML when the mail had only HTML) and
    `html` the HTML as received, unsafe until sanitised.  `headers` keeps every header in
    order, unfolded, with encoded words left as sent.  `warnings` lists what was dropped or
    repaired while reading a broken or oversized mail."""

    recipient: str
    sender: str | None  # envelope MAIL FROM; "" for the null sender <>, None when unknown
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: str | None
    subject: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    date: datetime | None
    text: str
    html: str | None
    attachments: list[InboundAttachment]
    headers: list[tuple[str, str]]
    auto_submitted: bool
    bulk: bool
    machine_reason: str | None
    warnings: list[str] = field(default_factory=list)
    # Files beyond the attachment limit, by name: left out of the ticket, kept in the raw mail.
    dropped_attachments: list[str] = field(default_factory=list)

    @property
    def is_machine_generated(self) -> bool:
        """True for auto-replies, bounces, list and bulk mail: never answer these."""
        return self.machine_reason is not None

    def header(self, name: str) -> str | None:
        """The first header called `name` (any case), as sent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)
