"""Mailbox settings schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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


class ForwardingAddressOut(Outgoing):
    """An address of yours whose mail lands in this inbox once its owner confirmed it."""

    address: str
    status: Literal["pending", "confirmed"] = Field(
        description="pending: a confirmation e-mail was sent to the address; it routes no "
        "mail until confirmed, by that e-mail arriving forwarded at `forward_to` or by its "
        "code entered with POST /v1/mail/addresses/{address}/confirm. confirmed: its mail "
        "lands in this inbox."
    )
    forward_to: str = Field(
        description="This workspace's inbound address: have the mailbox forward its mail here."
    )
    expires_at: datetime | None = Field(
        default=None,
        description="When a pending claim lapses unconfirmed (7 days after the last "
        "confirmation e-mail); null once confirmed.",
    )


class MailboxSettingsOut(Outgoing):
    inbound_address: str = Field(
        description="Mail sent here lands in this inbox; forward your own addresses to it."
    )
    forwarding_addresses: list[str] = Field(
        description="Confirmed forwarding addresses only (see `forwarding` for pending ones)."
    )
    forwarding: list[ForwardingAddressOut] = Field(
        description="Every forwarding address, confirmed first, then those awaiting confirmation."
    )
    acknowledgement: AcknowledgementOut
    sender_rate_per_hour: int = Field(
        description="More mail than this from one sender in an hour is held back for review."
    )


class ForwardingAddressIn(Incoming):
    address: EmailStr = Field(
        description="An address of yours (not a Helptal one). It starts pending: a "
        "confirmation e-mail with a code goes to it. Adding a pending address again sends "
        "the code again (at most once a minute)."
    )


class ForwardingConfirmationIn(Incoming):
    code: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="The code from the confirmation e-mail (XXXX-XXXX; case, spaces and "
        "dashes do not matter). Five wrong codes end the claim."
    )


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
