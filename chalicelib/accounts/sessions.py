"""Logging in and out, and resolving a bearer token (or a browser's session cookie) to a
principal on every request."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import (
    Credential,
    CredentialKind,
    LoginChallenge,
    Member,
    Principal,
    Role,
    User,
    Workspace,
)
from chalicelib.accounts.password_attempts import verify_password
from chalicelib.clock import epoch
from chalicelib.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.ids import new_secret_token, token_hash

SESSION_PREFIX = "hts"
API_KEY_PREFIX = "htk"
CHALLENGE_PREFIX = "htc"
MAX_WORKSPACES_LISTED = 100
# A password was right and a second factor is due: the challenge lasts this long.
CHALLENGE_TTL_SECONDS = 300
# A user's sessions listed (and signed out together): the newest ones.
SESSIONS_LISTED = 90
# A member whose workspace requires two-factor sign-in and who has not enrolled may still
# reach these (their profile, password, sessions and two-factor enrolment, and logging out).
OPEN_WITHOUT_TWO_FACTOR = frozenset({"/v1/me", "/v1/auth/logout"})
OPEN_WITHOUT_TWO_FACTOR_UNDER = "/v1/me/"

_WORKSPACE_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def open_without_two_factor(path: str | None) -> bool:
    return path is not None and (
        path in OPEN_WITHOUT_TWO_FACTOR or path.startswith(OPEN_WITHOUT_TWO_FACTOR_UNDER)
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Session:
    token: str
    user: User
    workspace_id: str


@dataclass(frozen=True)
class LoginResult:
    session: Session
    memberships: list[Member]
    workspaces: list[Workspace]


@dataclass(frozen=True)
class TwoFactorDue:
    """The password was right; `challenge` (returned once) and a code open the session."""

    challenge: str
    expires_at: datetime


def open_session(
    deps: AccountDeps, user_id: str, workspace_id: str, client: str | None = None
) -> tuple[str, Credential]:
    """A new session token (returned once) and its credential record (not yet stored)."""
    token = new_secret_token(SESSION_PREFIX)
    now = deps.clock.now()
    credential = Credential(
        token_hash=token_hash(token),
        kind=CredentialKind.SESSION,
        workspace_id=workspace_id,
        user_id=user_id,
        created_at=now,
        expires_at=epoch(now) + deps.policy.session_ttl_seconds,
        client=client,
        last_used_at=epoch(now),
    )
    return token, credential


def memberships_of(deps: AccountDeps, user: User) -> tuple[list[Member], list[Workspace]]:
    """The user's memberships, oldest first, and their workspaces (401 `no_workspace` when
    there is none left).  One Query and one BatchGetItem."""
    memberships = deps.store.list_memberships_of_user(user.id, MAX_WORKSPACES_LISTED)
    if not memberships:
        raise Unauthenticated(
            "This account no longer belongs to any workspace.", code="no_workspace"
        )
    memberships.sort(key=lambda m: m.joined_at)
    return memberships, deps.store.get_workspaces([m.workspace_id for m in memberships])


def log_in(
    deps: AccountDeps, email: str, password: str, client: str | None = None
) -> LoginResult | TwoFactorDue:
    """Checks the password behind the per-e-mail throttle (429 once the window's attempts are
    used up), without revealing whether the e-mail exists.  With two-factor sign-in on, no
    session yet: a short-lived challenge for `two_factor.complete_login`.  Writes: the
    attempt counter and, on success, a session credential (or the challenge)."""
    address = normalise_email(email)
    user = deps.store.find_user_by_email(address)
    if not verify_password(deps, address, user, password) or user is None:
        raise Unauthenticated("The e-mail or password is not right.", code="invalid_credentials")
    memberships, workspaces = memberships_of(deps, user)
    if user.two_factor is not None and user.two_factor.enabled:
        challenge = new_secret_token(CHALLENGE_PREFIX)
        now = deps.clock.now()
        expires_at = epoch(now) + CHALLENGE_TTL_SECONDS
        deps.store.put_login_challenge(
            LoginChallenge(
                token_hash=token_hash(challenge),
                user_id=user.id,
                workspace_id=memberships[0].workspace_id,
                created_at=now,
                expires_at=expires_at,
                client=client,
            )
        )
        return TwoFactorDue(challenge, datetime.fromtimestamp(expires_at, tz=now.tzinfo))
    token, credential = open_session(deps, user.id, memberships[0].workspace_id, client)
    deps.store.put_credential(credential)
    return LoginResult(Session(token, user, memberships[0].workspace_id), memberships, workspaces)


def log_out(deps: AccountDeps, principal: Principal) -> None:
    """Revokes the session the request came with (API keys are revoked by deleting them)."""
    if principal.credential.kind is CredentialKind.SESSION:
        deps.store.delete_credential(principal.credential.token_hash)


API_KEY_USE_RESOLUTION_SECONDS = 60
SESSION_USE_RESOLUTION_SECONDS = 300


def session_id(credential: Credential) -> str:
    """The public id of a session: derived from, and revealing nothing of, its token hash."""
    return hashlib.sha256(f"session-id:{credential.token_hash}".encode()).hexdigest()[:26]


def _record_use(deps: AccountDeps, credential: Credential) -> None:
    """At most one write a minute per key: the credential read says when it was last done."""
    now = deps.clock.now()
    last = credential.last_used_at
    if last is None or epoch(now) - last >= API_KEY_USE_RESOLUTION_SECONDS:
        deps.store.record_api_key_use(credential, now)


def authenticate(
    deps: AccountDeps,
    authorization: str | None,
    requested_workspace_id: str | None,
    session_cookie: str | None = None,
    path: str | None = None,
) -> Principal:
    """Resolves `Authorization: Bearer <token>` (and an optional workspace switch) to a
    principal; without that header, the browser's session cookie (a session token, never an
    API key).  Two reads (a GetItem, then a GetItem or a BatchGetItem), a third only for a
    member who has not enrolled in a workspace requiring two-factor sign-in; and a write of
    the last use, at most once a minute per API key and once per 5 minutes per session.
    A workspace the caller is not a member of is 404; a member who must enrol first gets
    403 `two_factor_required` on any `path` but OPEN_WITHOUT_TWO_FACTOR's."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Send `Authorization: Bearer <token>`.", code="missing_token")
        prefixes: tuple[str, ...] = (SESSION_PREFIX + "_", API_KEY_PREFIX + "_")
    elif session_cookie:
        token = session_cookie.strip()
        prefixes = (SESSION_PREFIX + "_",)
    else:
        raise Unauthenticated("Send `Authorization: Bearer <token>`.", code="missing_token")
    if not token.startswith(prefixes) or len(token) > 200:
        raise Unauthenticated("The token is not valid.", code="invalid_token")
    # A workspace id is a ULID: anything else names no workspace (and must never reach a key).
    if requested_workspace_id is not None and not _WORKSPACE_ID.fullmatch(requested_workspace_id):
        raise NotFound("No such workspace.", code="workspace_not_found")
    credential = deps.store.get_credential(token_hash(token))
    if credential is None:
        raise Unauthenticated("The token is not valid or was revoked.", code="invalid_token")
    if credential.expires_at is not None and credential.expires_at <= epoch(deps.clock.now()):
        raise Unauthenticated("The session has expired; log in again.", code="token_expired")
    if credential.kind is CredentialKind.API_KEY:
        if not authorization:  # only ever sent as a header, never stored by a browser
            raise Unauthenticated("The token is not valid.", code="invalid_token")
        if requested_workspace_id and requested_workspace_id != credential.workspace_id:
            raise NotFound("No such workspace.", code="workspace_not_found")
        # A key works while the member holding it is a member (its removal revokes it too).
        if credential.member_id and not deps.store.get_member(
            credential.workspace_id, credential.member_id
        ):
            raise Unauthenticated("The token is not valid or was revoked.", code="invalid_token")
        _record_use(deps, credential)
        if credential.role is None:
            raise Unauthenticated("The token is not valid or was revoked.", code="invalid_token")
        return Principal(
            workspace_id=credential.workspace_id, role=credential.role, credential=credential
        )
    if credential.user_id is None:
        raise Unauthenticated("The token is not valid or was revoked.", code="invalid_token")
    workspace_id = requested_workspace_id or credential.workspace_id
    member, workspace = deps.store.get_member_and_workspace(workspace_id, credential.user_id)
    if member is None:
        if requested_workspace_id:
            raise NotFound("No such workspace.", code="workspace_not_found")
        raise Unauthenticated(
            "You are no longer a member of this workspace.", code="membership_ended"
        )
    missing = (
        workspace is not None
        and workspace.two_factor_required
        and not _has_two_factor(deps, member)
    )
    if missing and not open_without_two_factor(path):
        raise Forbidden(
            "This workspace requires two-factor sign-in: turn it on in your profile first.",
            code="two_factor_required",
        )
    last = credential.last_used_at
    now = deps.clock.now()
    if last is None or epoch(now) - last >= SESSION_USE_RESOLUTION_SECONDS:
        deps.store.record_session_use(credential, now)
    return Principal(
        workspace_id=workspace_id,
        role=Role(member.role),
        credential=credential,
        user_id=credential.user_id,
        two_factor_missing=missing,
    )


def _has_two_factor(deps: AccountDeps, member: Member) -> bool:
    """Whether the member signs in with a second factor: the membership's copy says so, or
    (for a membership made before, or missed by, the copy) the user item does."""
    if member.two_factor:
        return True
    user = deps.store.get_user(member.user_id)
    on = user is not None and user.two_factor is not None and user.two_factor.enabled
    if on:
        deps.store.mark_member_two_factor(member, True)
    return on
