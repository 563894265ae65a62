"""Schemas of a person's profile and account security: name, language, avatar, password,
sessions and two-factor sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.accounts.model import User
from chalicelib.api.schemas.common import Incoming, Locale, Name, Outgoing, Password

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class TwoFactorOut(Outgoing):
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int
    required_by_workspace: bool


class ProfileOut(Outgoing):
    id: str
    email: str
    name: str
    locale: Locale | None
    avatar: str | None
    avatar_url: str | None
    email_confirmed: bool
    two_factor: TwoFactorOut

    @classmethod
    def of(cls, user: User, avatar_url: str | None, two_factor: TwoFactorOut) -> ProfileOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            locale="fr" if user.locale == "fr" else "en" if user.locale == "en" else None,
            avatar=user.avatar,
            avatar_url=avatar_url,
            email_confirmed=user.email_confirmed_at is not None,
            two_factor=two_factor,
        )


class ProfilePatchIn(Incoming):
    name: Name | None = None
    locale: Locale | None = None
    avatar: Annotated[str, StringConstraints(max_length=40)] | None = None


class AvatarUploadIn(Incoming):
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    size: int = Field(ge=1)


class AvatarUploadOut(Outgoing):
    method: Literal["POST"] = "POST"
    upload_url: str
    fields: dict[str, str]
    avatar: str
    max_bytes: int
    expires_at: datetime


class PasswordChangeIn(Incoming):
    current_password: Password
    new_password: Password


class SignedOutOut(Outgoing):
    signed_out: int


class SessionOut(Outgoing):
    id: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    client: str | None
    current: bool


class SessionsOut(Outgoing):
    sessions: list[SessionOut]


class TwoFactorEnrolmentOut(Outgoing):
    secret: str
    otpauth_uri: str
    qr_code: str


class TwoFactorCodeIn(Incoming):
    code: Code


class RecoveryCodesOut(Outgoing):
    recovery_codes: list[str]


class TwoFactorDisableIn(Incoming):
    code: Code | None = None
    password: Password | None = None


class TwoFactorLoginIn(Incoming):
    challenge: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    code: Code | None = None
    recovery_code: Code | None = None
