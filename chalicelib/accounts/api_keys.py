"""API keys: workspace credentials for scripts and integrations, shown once, stored hashed."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import ApiKey, Credential, CredentialKind, Principal, Role
from chalicelib.accounts.ports import ApiKeyChanged
from chalicelib.accounts.sessions import API_KEY_PREFIX
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.ids import new_id, new_secret_token, token_hash

DISPLAY_PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # returned once, never stored


def _require_manager(principal: Principal) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can manage API keys.", code="forbidden_role")


def _holder(principal: Principal) -> str:
    """The member a new key belongs to: the caller, or the member of the key calling."""
    holder = principal.user_id or principal.credential.member_id
    if holder is None:
        raise Forbidden(
            "This API key belongs to no member; an owner must transfer it to one first.",
            code="api_key_without_member",
        )
    return holder


def create_api_key(deps: AccountDeps, principal: Principal, name: str, role: Role) -> IssuedApiKey:
    """Issues a key held by the calling member (or by the member of the calling key).

    Writes: the key and its credential, in one transaction."""
    _require_manager(principal)
    if role is Role.OWNER:
        raise Forbidden("API keys can be admin or agent, not owner.", code="forbidden_role")
    holder = _holder(principal)
    secret = new_secret_token(API_KEY_PREFIX)
    now = deps.clock.now()
    api_key = ApiKey(
        id=new_id(),
        workspace_id=principal.workspace_id,
        name=name.strip(),
        role=role,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        token_hash=token_hash(secret),
        created_by=principal.actor,
        created_at=now,
        member_id=holder,
    )
    credential = Credential(
        token_hash=api_key.token_hash,
        kind=CredentialKind.API_KEY,
        workspace_id=principal.workspace_id,
        expires_at=None,
        created_at=now,
        api_key_id=api_key.id,
        role=role,
        member_id=holder,
    )
    deps.store.create_api_key(api_key, credential)
    return IssuedApiKey(api_key, secret)


def list_api_keys(deps: AccountDeps, principal: Principal) -> list[ApiKey]:
    _require_manager(principal)
    return deps.store.list_api_keys(principal.workspace_id)


def _api_key(deps: AccountDeps, principal: Principal, api_key_id: str) -> ApiKey:
    api_key = deps.store.get_api_key(principal.workspace_id, api_key_id)
    if api_key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    return api_key


def revoke_api_key(deps: AccountDeps, principal: Principal, api_key_id: str) -> None:
    _require_manager(principal)
    deps.store.delete_api_key(_api_key(deps, principal, api_key_id))


def transfer_api_key(
    deps: AccountDeps, principal: Principal, api_key_id: str, member_id: str
) -> ApiKey:
    """An owner gives a key to another member (so it survives its holder leaving); an admin
    key only to an owner or admin.  Writes: the key and its credential, in one transaction."""
    if principal.role is not Role.OWNER:
        raise Forbidden("Only an owner can transfer API keys.", code="owner_required")
    api_key = _api_key(deps, principal, api_key_id)
    member = deps.store.get_member(principal.workspace_id, member_id)
    if member is None:
        raise NotFound("No such member in this workspace.", code="member_not_found")
    if api_key.role is Role.ADMIN and not member.role.can_manage_members:
        raise Conflict(
            "An admin key can only be held by an owner or admin.", code="member_role_too_low"
        )
    if api_key.member_id == member.user_id:
        return api_key
    try:
        return deps.store.transfer_api_key(api_key, member.user_id)
    except ApiKeyChanged:
        raise Conflict(
            "This key was changed or revoked meanwhile; reload and try again.",
            code="api_key_changed",
        ) from None


def keys_held_by(deps: AccountDeps, workspace_id: str, user_id: str) -> list[ApiKey]:
    """The keys a member holds, and the keys they created before keys had a holder."""
    held = deps.store.list_member_api_keys(workspace_id, user_id)
    created = f"user:{user_id}"
    older = [
        k
        for k in deps.store.list_api_keys(workspace_id)
        if k.member_id is None and k.created_by == created
    ]
    return held + older


def revoke_keys_of(deps: AccountDeps, workspace_id: str, user_id: str) -> None:
    """Revokes every key a member holds (each key and its credential in one transaction)."""
    for api_key in keys_held_by(deps, workspace_id, user_id):
        deps.store.delete_api_key(api_key)
