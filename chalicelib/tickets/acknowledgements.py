"""Who may receive the "we received your request" auto-reply, and what of the sender's own
words it may repeat.

The acknowledgement goes out under the workspace's brand to the From address of a mail, so
a forged From would make us mail a stranger (backscatter).  It is sent only to a sender
SPF/DKIM proved, at most `ACKS_PER_RECIPIENT_PER_HOUR` times an hour to one address and
`ACKS_PER_WORKSPACE_PER_HOUR` times an hour per workspace, never to an address whose mail
from the workspace bounced or complained; and it repeats the sender's name and subject only
without anything that looks like a link or an address, and shortened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.mail.outbound import OutboundMail

ACKS_PER_RECIPIENT_PER_HOUR = 3
ACKS_PER_WORKSPACE_PER_HOUR = 200
MAX_NAME_CHARS = 40
MAX_NAME_WORDS = 4
MAX_SUBJECT_CHARS = 80

# A scheme (http:, mailto:, javascript:), "www.", an address, or a dotted host name.
_LINK_LIKE = re.compile(
    r"(?i)([a-z][a-z0-9+.-]*:\S|www\.|@|[\w-]\.[^\W\d_]{2,}|[\w-]\.[\w-]+[/:?#]|%[0-9a-f]{2})"
)
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\u2019.\-]+[^\W\d_]+)*\.?$")


def _without_links(text: str) -> list[str]:
    return [word for word in text.split() if not _LINK_LIKE.search(word)]


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def safe_subject(subject: str) -> str:
    """The subject as the acknowledgement may repeat it: words that look like links, hosts
    or addresses left out, at most `MAX_SUBJECT_CHARS` characters."""
    return _shortened(" ".join(_without_links(subject)), MAX_SUBJECT_CHARS)


def safe_name(name: str, locale: str, formality: str = "formal") -> str:
    """The sender's display name when it looks like a person's name (letters, at most four
    words, no links); otherwise a neutral greeting word in `locale` ("Hello there,")."""
    words = _without_links(name)
    candidate = " ".join(words)
    if (
        words
        and len(words) == len(name.split())
        and len(words) <= MAX_NAME_WORDS
        and len(candidate) <= MAX_NAME_CHARS
        and _NAME.match(candidate)
    ):
        return candidate
    from chalicelib.translations import words as words_of

    return words_of(locale, formality)["ack.nameless"]


@dataclass(frozen=True)
class AcknowledgementToSend:
    """An acknowledgement written with the ticket it acknowledges: the hour's claim on the
    caps (refused for a suppressed recipient or a full cap) and the mail's outbound record,
    in the ticket's transaction; the mail is queued once that transaction succeeded."""

    mail: OutboundMail
    recipient: str
    hour: int
    recorded_at: datetime
    per_recipient: int
    per_workspace: int


class AcknowledgementLedger(Protocol):
    """Remembers the addresses never to acknowledge again (acknowledgements are counted in
    the transaction of the ticket they acknowledge, see AcknowledgementToSend)."""

    def suppress_acknowledgements(
        self, workspace_id: str, address: str, reason: str, at: datetime
    ) -> None:
        """Never acknowledge `address` in this workspace again (idempotent)."""
        ...

    def acknowledgements_suppressed(self, workspace_id: str, address: str) -> bool: ...
