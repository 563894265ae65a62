"""The account entities, as the rest of the product sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"

    @property
    def can_manage_members(self) -> bool:
        return self in (Role.OWNER, Role.ADMIN)


MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


@dataclass(frozen=True)
class Workspace:
    id: str
    slug: str
    name: str
    timezone: str
    locale: str
    owner_count: int
    created_at: datetime
    updated_at: datetime
    # How French text to customers and invitees says "you": formal ("vous") or informal ("tu").
    formality: str = "formal"
    # When the owner who created it confirmed their e-mail address: until then no mail goes
    # to customers (no acknowledgement, replies refused), so a sign-up cannot send as anyone.
    email_confirmed_at: datetime | None = None
    # Members must sign in with a second factor: until they enrol, only their profile and
    # two-factor routes answer (403 `two_factor_required` elsewhere).
    two_factor_required: bool = False

    @property
    def customer_mail_enabled(self) -> bool:
        return self.email_confirmed_at is not None


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    email_confirmed_at: datetime | None = None  # the owner of the address followed our link
    # The language of the app and of the mail Helptal sends this person (None: not chosen).
    locale: str | None = None
    avatar: str | None = None  # the avatar's file name (`<ulid>.<ext>`), when they set one
    two_factor: TwoFactor | None = None


@dataclass(frozen=True)
class TwoFactor:
    """A user's TOTP second factor (the secret is never shown again after enrolment).  The
    secrets are as stored, sealed with the deployment's key: `AccountsStore.two_factor_secret`
    opens them."""

    sealed_secret: str | None  # None while only an enrolment is pending
    sealed_pending_secret: str | None  # offered at enrolment, until a code confirms it
    enabled_at: datetime | None
    last_step: int = 0  # the newest 30-second step a code was accepted for (no replay)

    @property
    def enabled(self) -> bool:
        return self.sealed_secret is not None

    @property
    def pending(self) -> bool:
        return self.sealed_pending_secret is not None


@dataclass(frozen=True)
class Member:
    workspace_id: str
    user_id: str
    role: Role
    email: str
    name: str
    joined_at: datetime
    # A copy of the user's "two-factor sign-in is on", read with the membership on every
    # request (a workspace that requires it then needs no other read).
    two_factor: bool = False


class CredentialKind(StrEnum):
    SESSION = "session"
    API_KEY = "api_key"


@dataclass(frozen=True)
class Credential:
    """What a bearer token stands for (only its hash is stored)."""

    token_hash: str
    kind: CredentialKind
    workspace_id: str
    expires_at: int | None
    created_at: datetime
    user_id: str | None = None
    api_key_id: str | None = None
    role: Role | None = None
    # API keys: the member the key belongs to (it works while they are a member) and when
    # its use was last recorded (epoch seconds; recorded at most once a minute).
    member_id: str | None = None
    last_used_at: int | None = None
    # Sessions: the browser or program and address that opened it ("Firefox on Linux,
    # 203.0.113.9"), kept to list the user's sessions.
    client: str | None = None


@dataclass(frozen=True)
class ApiKey:
    id: str
    workspace_id: str
    name: str
    role: Role
    prefix: str
    token_hash: str
    created_by: str
    created_at: datetime
    # The member the key belongs to: revoked when they leave, unless an owner transfers it.
    member_id: str | None = None
    last_used_at: datetime | None = None


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Invitation:
    id: str
    workspace_id: str
    email: str
    role: Role
    status: InvitationStatus
    token_hash: str
    invited_by: str
    created_at: datetime
    valid_until: int
    accepted_by: str | None = None
    locale: str | None = None  # of the e-mail and the join page; None: the workspace's


@dataclass(frozen=True)
class Principal:
    """Who is calling, in which workspace, with which role (resolved on every request)."""

    workspace_id: str
    role: Role
    credential: Credential
    user_id: str | None = None
    # The workspace requires two-factor sign-in and this member has not enrolled yet.
    two_factor_missing: bool = False

    @property
    def actor(self) -> str:
        """How the activity log names this caller."""
        if self.user_id:
            return f"user:{self.user_id}"
        return f"api_key:{self.credential.api_key_id}"


@dataclass(frozen=True)
class Page(Generic[T]):
    entries: list[T]
    next_cursor: str | None


class LinkPurpose(StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"


@dataclass(frozen=True)
class EmailLink:
    """A single-use link e-mailed to a user (only the hash of its token is stored): it
    confirms their address, or lets them choose a new password."""

    token_hash: str
    purpose: LinkPurpose
    user_id: str
    email: str
    created_at: datetime
    expires_at: int  # epoch seconds
    locale: str = "en"  # the language of the mail, and of the page it opens
    workspace_id: str | None = None  # confirmation: the workspace its owner created


@dataclass(frozen=True)
class LoginChallenge:
    """The password was right and a second factor is due: a short-lived, single-use token
    (only its hash stored) that the second step of the login exchanges for a session."""

    token_hash: str
    user_id: str
    workspace_id: str
    created_at: datetime
    expires_at: int  # epoch seconds
    client: str | None = None
