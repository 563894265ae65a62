"""A person's own profile and account security: name, language, avatar, password, and their
sessions (listed, signed out one by one or all but the current one)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import Credential, CredentialKind, Principal, User
from chalicelib.accounts.password_attempts import verify_password
from chalicelib.accounts.passwords import check_password_policy
from chalicelib.accounts.ports import PasswordChanged
from chalicelib.accounts.sessions import SESSIONS_LISTED, session_id
from chalicelib.accounts.two_factor import person
from chalicelib.clock import epoch
from chalicelib.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from chalicelib.ids import new_id

# The name's copy on memberships is written with the user (one transaction of 100 items).
MEMBERSHIPS_RENAMED = 99
AVATAR_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
MAX_AVATAR_BYTES = 1024 * 1024
AVATAR_UPLOAD_SECONDS = 300
AVATAR_LINK_SECONDS = 3600
_AVATAR_NAME = re.compile(r"^[0-9A-Z]{26}\.(png|jpg|gif|webp)$")
_USER_ID = re.compile(r"^[0-9A-Z]{26}$")


class AvatarImages(Protocol):
    """Where avatars are kept (S3): uploaded by the browser, read through short links."""

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]: ...
    def download_url(self, key: str, expires_seconds: int) -> str: ...


def avatar_key(user_id: str, name: str) -> str:
    return f"users/{user_id}/avatar/{name}"


def avatar_url(public_base_url: str, user: User) -> str | None:
    if not user.avatar:
        return None
    return f"{public_base_url.rstrip('/')}/v1/users/{user.id}/avatar/{user.avatar}"


@dataclass(frozen=True)
class AvatarUpload:
    upload_url: str  # POST the `fields`, then the file (`file`), as multipart/form-data
    fields: dict[str, str]
    avatar: str  # the name to set with PATCH /v1/me/profile once uploaded
    max_bytes: int
    expires_at: datetime


@dataclass(frozen=True)
class SessionView:
    id: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    client: str | None
    current: bool


def my_profile(deps: AccountDeps, principal: Principal) -> User:
    return person(deps, principal)


def update_profile(
    deps: AccountDeps,
    principal: Principal,
    *,
    name: str | None,
    locale: str | None,
    avatar: str | None,
    remove_avatar: bool,
) -> User:
    """Changes the caller's name (also the copy on their memberships), language or avatar
    (a name `start_avatar_upload` gave; `remove_avatar` takes it away).  Writes: one
    transaction."""
    user = person(deps, principal)
    if avatar is not None and not _AVATAR_NAME.match(avatar):
        raise ValidationFailed(
            "Set the `avatar` that POST /v1/me/avatar gave.",
            details=[{"field": "avatar", "message": "not an avatar name"}],
        )
    memberships = (
        deps.store.list_memberships_of_user(user.id, MEMBERSHIPS_RENAMED)
        if name is not None and name != user.name
        else []
    )
    deps.store.update_profile(
        user,
        name=name,
        locale=locale,
        avatar=avatar,
        remove_avatar=remove_avatar,
        memberships=memberships,
    )
    return User(
        id=user.id,
        email=user.email,
        name=name if name is not None else user.name,
        password_hash=user.password_hash,
        created_at=user.created_at,
        email_confirmed_at=user.email_confirmed_at,
        locale=locale if locale is not None else user.locale,
        avatar=avatar if avatar is not None else (None if remove_avatar else user.avatar),
        two_factor=user.two_factor,
    )


def start_avatar_upload(
    deps: AccountDeps, images: AvatarImages, principal: Principal, content_type: str, size: int
) -> AvatarUpload:
    """A presigned POST for one image (PNG, JPEG, GIF, WebP) of at most 1 MB; S3 enforces
    the type and the size.  Touches nothing until the profile is patched with its name."""
    user = person(deps, principal)
    extension = AVATAR_TYPES.get(content_type.lower())
    if extension is None:
        raise ValidationFailed(
            f"An avatar is one of {', '.join(AVATAR_TYPES)}.",
            code="unsupported_image_type",
            details=[{"field": "content_type", "message": "not an accepted image type"}],
        )
    if size > MAX_AVATAR_BYTES:
        raise PayloadTooLarge("An avatar has at most 1 MB.", code="image_too_large")
    name = f"{new_id()}.{extension}"
    url, fields = images.presign_upload(
        avatar_key(user.id, name), content_type.lower(), MAX_AVATAR_BYTES, AVATAR_UPLOAD_SECONDS
    )
    return AvatarUpload(
        upload_url=url,
        fields=fields,
        avatar=name,
        max_bytes=MAX_AVATAR_BYTES,
        expires_at=deps.clock.now() + timedelta(seconds=AVATAR_UPLOAD_SECONDS),
    )


def avatar_link(images: AvatarImages, user_id: str, name: str) -> str:
    """A short-lived link to an avatar; 404 for what is not an avatar's name."""
    if not _USER_ID.match(user_id) or not _AVATAR_NAME.match(name):
        raise NotFound("No such avatar.", code="avatar_not_found")
    return images.download_url(avatar_key(user_id, name), AVATAR_LINK_SECONDS)


def change_password(
    deps: AccountDeps, principal: Principal, current_password: str, new_password: str
) -> int:
    """Sets a new password once the current one is right (behind the e-mail's throttle, as
    at login; 422 `invalid_password`), under the sign-up policy (422 `weak_password`), and
    signs out the user's other sessions; the one in use stays.  Returns how many were
    signed out.  Writes one transaction."""
    user = person(deps, principal)
    if not verify_password(deps, user.email, user, current_password):
        raise ValidationFailed(
            "The current password is not right.",
            code="invalid_password",
            details=[{"field": "current_password", "message": "not the account's password"}],
        )
    check_password_policy(new_password, user.email)
    others = [
        s.token_hash
        for s in deps.store.list_sessions_of_user(user.id, SESSIONS_LISTED)
        if s.token_hash != principal.credential.token_hash
    ]
    try:
        deps.store.change_password(user, deps.hasher.hash(new_password), others)
    except PasswordChanged:
        raise Conflict("The password was changed meanwhile.", code="password_changed") from None
    return len(others)


def _view(credential: Credential, current: str, now: int) -> SessionView | None:
    if credential.expires_at is not None and credential.expires_at <= now:
        return None  # expired: TTL deletes it soon
    tz = credential.created_at.tzinfo
    return SessionView(
        id=session_id(credential),
        created_at=credential.created_at,
        last_used_at=datetime.fromtimestamp(credential.last_used_at, tz=tz)
        if credential.last_used_at is not None
        else None,
        expires_at=datetime.fromtimestamp(credential.expires_at, tz=tz)
        if credential.expires_at is not None
        else None,
        client=credential.client,
        current=credential.token_hash == current,
    )


def list_sessions(deps: AccountDeps, principal: Principal) -> list[SessionView]:
    """The caller's open sessions, newest first (90 at most), the current one flagged.
    One Query."""
    user = person(deps, principal)
    now = epoch(deps.clock.now())
    views = (
        _view(s, principal.credential.token_hash, now)
        for s in deps.store.list_sessions_of_user(user.id, SESSIONS_LISTED)
        if s.kind is CredentialKind.SESSION
    )
    return [v for v in views if v is not None]


def sign_out_session(deps: AccountDeps, principal: Principal, wanted: str) -> None:
    """Signs out one of the caller's sessions (the current one too, like logging out); 404
    `session_not_found` for an id that is not one of theirs."""
    user = person(deps, principal)
    for credential in deps.store.list_sessions_of_user(user.id, SESSIONS_LISTED):
        if session_id(credential) == wanted and credential.user_id == user.id:
            deps.store.delete_credential(credential.token_hash)
            return
    raise NotFound("No such session.", code="session_not_found")


def sign_out_other_sessions(deps: AccountDeps, principal: Principal) -> int:
    """Signs out every session of the caller but the current one (one transaction);
    returns how many."""
    user = person(deps, principal)
    others = [
        s.token_hash
        for s in deps.store.list_sessions_of_user(user.id, SESSIONS_LISTED)
        if s.token_hash != principal.credential.token_hash
    ]
    deps.store.delete_credentials(others)
    return len(others)
