"""A workspace's mailbox settings: forwarding addresses, the acknowledgement auto-reply and
the per-sender rate above which mail is held back rather than ticketed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

DEFAULT_SENDER_RATE_PER_HOUR = 20
ACK_PLACEHOLDERS = (
    "{{ticket.number}}",
    "{{ticket.subject}}",
    "{{requester.name}}",
    "{{workspace.name}}",
)

DEFAULT_ACK = {
    "en": (
        "[#{{ticket.number}}] We received your request",
        "Hello {{requester.name}},\n\nThanks for writing to {{workspace.name}}. Your request "
        '#{{ticket.number}} ("{{ticket.subject}}") has reached our team and we will answer '
        "as soon as we can. You can add details by replying to this e-mail.\n",
    ),
    "fr": (
        "[#{{ticket.number}}] Nous avons bien reçu ta demande",
        "Bonjour {{requester.name}},\n\nMerci d'avoir écrit à {{workspace.name}}. Ta demande "
        "n°{{ticket.number}} (« {{ticket.subject}} ») est arrivée chez notre équipe et nous te "
        "répondrons dès que possible. Tu peux ajouter des détails en répondant à cet e-mail.\n",
    ),
}


@dataclass(frozen=True)
class Acknowledgement:
    enabled: bool = True
    subject: str | None = None  # None: the default wording in the workspace's language
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


class MailboxStore(Protocol):
    def get_settings(self, workspace_id: str) -> MailboxSettings: ...
    def save_settings(self, workspace_id: str, settings: MailboxSettings) -> None:
        """Raises StaleMailboxSettings when they changed since `settings` was read."""

    def claim_address(self, workspace_id: str, settings: MailboxSettings, address: str) -> None:
        """Adds the address to `settings` (as read) and claims it, atomically.  Raises
        AddressTaken when another workspace has it, StaleMailboxSettings as above."""

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


class AddressTaken(Exception):
    pass


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
    settings: MailboxSettings, locale: str, values: dict[str, str]
) -> tuple[str, str]:
    default_subject, default_body = DEFAULT_ACK.get(locale, DEFAULT_ACK["en"])
    ack = settings.acknowledgement
    return (
        render(ack.subject or default_subject, values),
        render(ack.body or default_body, values),
    )
