"""A workspace's mailbox settings: forwarding addresses, the acknowledgement auto-reply and
the per-sender rate above which mail is held back rather than ticketed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chalicelib.accounts.model import Workspace
from chalicelib.tickets.acknowledgements import AcknowledgementLedger
from chalicelib.tickets.model import Contact

DEFAULT_SENDER_RATE_PER_HOUR = 20
ACK_PLACEHOLDERS = (
    "{{ticket.number}}",
    "{{ticket.subject}}",
    "{{requester.name}}",
    "{{workspace.name}}",
)


@dataclass(frozen=True)
class Acknowledgement:
    enabled: bool = True
    subject: str | None = None  # None: the default wording, in the customer's language
    body: str | None = None


@dataclass(frozen=True)
class MailboxSettings:
    acknowledgement: Acknowledgement = field(default_factory=Acknowledgement)
    sender_rate_per_hour: int = DEFAULT_SENDER_RATE_PER_HOUR
    forwarding_addresses: list[str] = field(default_factory=list)
    revision: int = 0  # optimistic lock: every write checks and bumps it


@dataclass(frozen=True)
class HeldMail:
    id: str
    workspace_id: str
    sender: str
    subject: str
    raw_key: str
    reason: str
    held_at: datetime
    content_type: str | None = None  # of the raw delivery, to read it again on release


@dataclass(frozen=True)
class MailReads:
    """What filing one e-mail needs to know, read together (see MailboxStore.read_for_mail).
    `workspace` and `settings` are None unless asked for (settings: the defaults when the
    workspace never saved any)."""

    filed_ticket_id: str | None  # the ticket already holding this Message-ID
    sender_contact: Contact | None  # the workspace's contact for the From address
    sender_user_id: str | None  # an account with the From address (a member? ask)
    last_ticket_number: int
    cited_tickets: dict[str, str]  # cited Message-ID -> its ticket, for those found
    workspace: Workspace | None = None
    settings: MailboxSettings | None = None


class MailboxStore(AcknowledgementLedger, Protocol):
    def read_for_mail(
        self,
        workspace_id: str,
        message_key: str,
        sender: str,
        cited: list[str],
        *,
        with_workspace: bool,
        with_settings: bool,
    ) -> MailReads:
        """In one consistent BatchGetItem: the Message-ID lookups of the mail (`message_key`)
        and of the Message-IDs it cites, the sender's contact and account lookups, the
        ticket counter, and the workspace and its mailbox settings when asked."""

    def workspace_of_slug(self, slug: str) -> str | None:
        """The workspace whose inbound address is `<slug>@...` (its slug lookup only)."""

    def get_settings(self, workspace_id: str) -> MailboxSettings: ...
    def save_settings(self, workspace_id: str, settings: MailboxSettings) -> None:
        """Raises StaleMailboxSettings when they changed since `settings` was read."""

    def confirm_claim(
        self, workspace_id: str, settings: MailboxSettings, claim: ForwardingClaim
    ) -> None:
        """Atomically: takes the address (unique across workspaces), adds it to `settings`
        (as read) and ends the pending claim.  Raises AddressTaken when another workspace
        has it, StaleMailboxSettings as above, ClaimGone when the claim was removed."""

    def save_claim(self, claim: ForwardingClaim) -> None:
        """Writes a pending claim (replacing the workspace's earlier one for the address)."""

    def get_claim(self, workspace_id: str, address: str) -> ForwardingClaim | None: ...
    def list_claims(self, workspace_id: str, limit: int) -> list[ForwardingClaim]:
        """The workspace's pending claims, expired ones included (callers check)."""

    def drop_claim(self, workspace_id: str, address: str) -> None: ...
    def note_wrong_code(self, workspace_id: str, address: str) -> int:
        """Adds one to the claim's wrong confirmation codes; returns the new count."""

    def release_address(self, workspace_id: str, settings: MailboxSettings, address: str) -> None:
        """Removes the address from `settings` (as read) and frees it, atomically."""

    def workspace_of_address(self, address: str) -> str | None: ...
    def count_sender(self, workspace_id: str, sender: str, hour: int) -> int:
        """Adds one to the sender's count for this hour; returns the new count."""

    def hold(self, held: HeldMail) -> None: ...
    def list_held(self, workspace_id: str, limit: int) -> list[HeldMail]: ...
    def get_held(self, workspace_id: str, held_id: str) -> HeldMail | None: ...
    def drop_held(self, workspace_id: str, held_id: str) -> None: ...
    def record_unrouted(self, recipient: str, sender: str, raw_key: str, at: datetime) -> None:
        """Mail for no workspace: kept (30 days) for the operators, never dropped silently."""


@dataclass(frozen=True)
class ForwardingClaim:
    """A workspace's pending claim on a forwarding address, until confirmed.  `nonce` keys
    its confirmation code and token; another workspace may hold a claim on the same address."""

    workspace_id: str
    address: str
    nonce: str
    requested_at: datetime
    sent_at: datetime
    expires_at: datetime
    wrong_codes: int = 0


class AddressTaken(Exception):
    pass


class ClaimGone(Exception):
    """The pending claim was removed (or replaced) while it was being confirmed."""


class StaleMailboxSettings(Exception):
    """The settings were changed by someone else since they were read."""


def render(template: str, values: dict[str, str]) -> str:
    """Fills `{{name}}` placeholders once (values are never expanded again)."""
    out = template
    for placeholder in ACK_PLACEHOLDERS:
        out = out.replace(placeholder, "\x00" + placeholder + "\x00")
    parts = out.split("\x00")
    return "".join(values.get(part, part) if part in ACK_PLACEHOLDERS else part for part in parts)


def acknowledgement_text(
    settings: MailboxSettings, locale: str, values: dict[str, str], formality: str = "formal"
) -> tuple[str, str]:
    """The acknowledgement's subject and body: the workspace's own wording, else the default
    one in `locale` (and, in French, the workspace's `formality`)."""
    from chalicelib.translations import words

    w = words(locale, formality)
    default_subject, default_body = w["ack.subject"], w["ack.body"]
    ack = settings.acknowledgement
    return (
        render(ack.subject or default_subject, values),
        render(ack.body or default_body, values),
    )
