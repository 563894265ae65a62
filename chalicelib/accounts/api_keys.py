"""API keys: workspace credentials for scripts and integrations, shown once, stored hashed."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import ApiKey, Credential, CredentialKind, Principal, Role
from chalicelib.accounts.sessions import API_KEY_PREFIX
from chalicelib.errors import Forbidden, NotFound
from chalicelib.ids import new_id, new_secret_token, token_hash

DISPLAY_PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # returned once, never stored


def _require_manager(principal: Principal) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can manage API keys.", code="forbidden_role")


def create_api_key(deps: AccountDeps, principal: Principal, name: str, role: Role) -> IssuedApiKey:
    _require_manager(principal)
    if role is Role.OWNER:
        raise Forbidden("API keys can be admin or agent, not owner.", code="forbidden_role")
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
    )
    credential = Credential(
        token_hash=api_key.token_hash,
        kind=CredentialKind.API_KEY,
        workspace_id=principal.workspace_id,
        expires_at=None,
        created_at=now,
        api_key_id=api_key.id,
        role=role,
    )
    deps.store.create_api_key(api_key, credential)
    return IssuedApiKey(api_key, secret)


def list_api_keys(deps: AccountDeps, principal: Principal) -> list[ApiKey]:
    _require_manager(principal)
    return deps.store.list_api_keys(principal.workspace_id)


def revoke_api_key(deps: AccountDeps, principal: Principal, api_key_id: str) -> None:
    _require_manager(principal)
    api_key = deps.store.get_api_key(principal.workspace_id, api_key_id)
    if api_key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    deps.store.delete_api_key(api_key)
