"""Logging in and out, and resolving a bearer token (or a browser's session cookie) to a
principal on every request."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import (
    Credential,
    CredentialKind,
    Member,
    Principal,
    Role,
    User,
    Workspace,
)
from chalicelib.accounts.password_attempts import verify_password
from chalicelib.clock import epoch
from chalicelib.errors import NotFound, Unauthenticated
from chalicelib.ids import new_secret_token, token_hash

SESSION_PREFIX = "hts"
API_KEY_PREFIX = "htk"
MAX_WORKSPACES_LISTED = 100


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


def open_session(deps: AccountDeps, user_id: str, workspace_id: str) -> tuple[str, Credential]:
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
    )
    return token, credential


def log_in(deps: AccountDeps, email: str, password: str) -> LoginResult:
    """Checks the password behind the per-e-mail throttle (429 once the window's attempts are
    used up), without revealing whether the e-mail exists.  Writes: the attempt counter and,
    on success, a session credential."""
    address = normalise_email(email)
    user = deps.store.find_user_by_email(address)
    if not verify_password(deps, address, user, password) or user is None:
        raise Unauthenticated("The e-mail or password is not right.", code="invalid_credentials")
    memberships = deps.store.list_memberships_of_user(user.id, MAX_WORKSPACES_LISTED)
    if not memberships:
        raise Unauthenticated(
            "This account no longer belongs to any workspace.", code="no_workspace"
        )
    memberships.sort(key=lambda m: m.joined_at)
    workspaces = deps.store.get_workspaces([m.workspace_id for m in memberships])
    token, credential = open_session(deps, user.id, memberships[0].workspace_id)
    deps.store.put_credential(credential)
    return LoginResult(Session(token, user, memberships[0].workspace_id), memberships, workspaces)


def log_out(deps: AccountDeps, principal: Principal) -> None:
    """Revokes the session the request came with (API keys are revoked by deleting them)."""
    if principal.credential.kind is CredentialKind.SESSION:
        deps.store.delete_credential(principal.credential.token_hash)


API_KEY_USE_RESOLUTION_SECONDS = 60


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
) -> Principal:
    """Resolves `Authorization: Bearer <token>` (and an optional workspace switch) to a
    principal; without that header, the browser's session cookie (a session token, never an
    API key).  Two GetItems at most (and, once a minute, a write of an API key's last use).
    A workspace the caller is not a member of is 404."""
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
    member = deps.store.get_member(workspace_id, credential.user_id)
    if member is None:
        if requested_workspace_id:
            raise NotFound("No such workspace.", code="workspace_not_found")
        raise Unauthenticated(
            "You are no longer a member of this workspace.", code="membership_ended"
        )
    return Principal(
        workspace_id=workspace_id,
        role=Role(member.role),
        credential=credential,
        user_id=credential.user_id,
    )
