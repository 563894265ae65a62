"""The ports and policy values the ticket services work with (built in bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.accounts.ports import AccountsStore, MailOutbox
from chalicelib.clock import Clock
from chalicelib.tickets.agent_attachments import AttachmentLimits, UploadedFiles, UploadStore
from chalicelib.tickets.mailbox import MailboxStore
from chalicelib.tickets.ports import TicketStore


class EventPublisher(Protocol):
    def publish(self, event_type: str, workspace_id: str, payload: dict[str, object]) -> None:
        """Puts `ticket.created`, `message.received`, ... on the events queue (best effort:
        a failure is logged, never raised)."""

    def publish_later(
        self,
        event_type: str,
        workspace_id: str,
        payload: dict[str, object],
        delay_seconds: int,
    ) -> None:
        """Puts an event on the events queue, delivered no sooner than `delay_seconds` (at
        most 900) from now.  Raises ServiceUnavailable when it could not be queued."""


class BlobStore(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def download_url(self, key: str, filename: str, expires_seconds: int) -> str: ...


@dataclass(frozen=True)
class TicketPolicy:
    inbound_mail_domain: str
    mail_domain: str  # our Message-IDs end in @<mail_domain>
    reply_address_secret: str
    # Mailgun accepts messages up to 25 MB: any one file of such a message is kept.
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_message_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 100_000  # longer bodies are cut for display; the raw mail is kept
    # Files agents attach to replies and notes (uploaded first, see agent_attachments.py).
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    # When the check that finishes a merge cut short is delivered: longer than any request
    # that merges can run (the API's Lambda stops at 29 s), within SQS's 900 s.
    merge_check_delay_seconds: int = 5 * 60


@dataclass(frozen=True)
class TicketDeps:
    store: TicketStore
    accounts: AccountsStore
    clock: Clock
    outbox: MailOutbox
    events: EventPublisher
    blobs: BlobStore
    policy: TicketPolicy
    mailbox: MailboxStore
    uploads: UploadStore
    files: UploadedFiles
