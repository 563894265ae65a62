"""Mailbox settings schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing


class AcknowledgementIn(Incoming):
    enabled: bool | None = None
    subject: Annotated[str, StringConstraints(max_length=250)] | None = Field(
        default=None, description="Empty string: back to the default wording."
    )
    body: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class MailboxSettingsIn(Incoming):
    acknowledgement: AcknowledgementIn | None = None
    sender_rate_per_hour: int | None = Field(default=None, ge=1, le=10_000)


class AcknowledgementOut(Outgoing):
    enabled: bool
    subject: str | None = Field(
        description="null: the default wording, in the workspace's language"
    )
    body: str | None
    placeholders: list[str]


class MailboxSettingsOut(Outgoing):
    inbound_address: str
    forwarding_addresses: list[str]
    acknowledgement: AcknowledgementOut
    sender_rate_per_hour: int = Field(
        description="More mail than this from one sender in an hour is held back for review."
    )


class ForwardingAddressIn(Incoming):
    address: EmailStr


class HeldMailOut(Outgoing):
    id: str
    sender: str
    subject: str
    reason: str
    held_at: datetime


class HeldMailListOut(Outgoing):
    held: list[HeldMailOut]


class ReleasedOut(Outgoing):
    ticket_id: str | None
