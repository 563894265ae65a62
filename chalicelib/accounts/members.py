"""The team: listing members, changing roles, removing people."""

from __future__ import annotations

from chalicelib.accounts.api_keys import keys_held_by, revoke_keys_of
from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import Member, Page, Principal, Role, User
from chalicelib.accounts.ports import LastOwner, MemberChanged
from chalicelib.errors import Conflict, Forbidden, NotFound

# Each key is two deletes; with the membership and the owner count, well within a transaction.
KEYS_REVOKED_WITH_MEMBERSHIP = 40


def caller(deps: AccountDeps, principal: Principal) -> User | None:
    """The signed-in person's own profile; None for an API key that acts for nobody."""
    return deps.store.get_user(principal.user_id) if principal.user_id else None


def list_members(
    deps: AccountDeps, principal: Principal, cursor: str | None, limit: int
) -> Page[Member]:
    return deps.store.list_members(principal.workspace_id, cursor, limit)


def _member_of_workspace(deps: AccountDeps, principal: Principal, user_id: str) -> Member:
    member = deps.store.get_member(principal.workspace_id, user_id)
    if member is None:
        raise NotFound("No such member in this workspace.", code="member_not_found")
    return member


def member_under_authority(deps: AccountDeps, principal: Principal, user_id: str) -> Member:
    """The member `user_id` of the caller's workspace, if the caller may manage them (404
    for a stranger, 403 for an agent, or an admin acting on an owner)."""
    target = _member_of_workspace(deps, principal, user_id)
    _require_authority_over(principal, target, None)
    return target


def _require_authority_over(principal: Principal, target: Member, new_role: Role | None) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can manage members.", code="forbidden_role")
    touches_owner = target.role is Role.OWNER or new_role is Role.OWNER
    if touches_owner and principal.role is not Role.OWNER:
        raise Forbidden(
            "Only an owner can grant, change or remove the owner role.", code="owner_required"
        )


def change_role(deps: AccountDeps, principal: Principal, user_id: str, role: Role) -> Member:
    """Writes the membership (and the workspace's owner count, atomically)."""
    target = _member_of_workspace(deps, principal, user_id)
    _require_authority_over(principal, target, role)
    if target.role is role:
        return target
    try:
        return deps.store.change_role(target, role)
    except LastOwner:
        raise Conflict(
            "A workspace needs at least one owner; make someone else owner first.",
            code="last_owner",
        ) from None
    except MemberChanged:
        raise _changed_meanwhile() from None


def remove_member(deps: AccountDeps, principal: Principal, user_id: str) -> None:
    """Members may remove themselves (leave); owners/admins may remove others.  The API keys
    the member holds are revoked with the membership (an owner transfers those to keep first).

    Writes: the membership, the owner count and the first keys in one transaction; any
    further keys after it (they stop working with the membership anyway)."""
    target = _member_of_workspace(deps, principal, user_id)
    if target.user_id != principal.user_id:
        _require_authority_over(principal, target, None)
    held = keys_held_by(deps, target.workspace_id, target.user_id)
    try:
        deps.store.remove_member(target, held[:KEYS_REVOKED_WITH_MEMBERSHIP])
    except LastOwner:
        raise Conflict(
            "A workspace needs at least one owner; make someone else owner first.",
            code="last_owner",
        ) from None
    except MemberChanged:
        raise _changed_meanwhile() from None
    # The rest, and any key made while the member was being removed.
    revoke_keys_of(deps, target.workspace_id, target.user_id)


def _changed_meanwhile() -> Conflict:
    return Conflict(
        "This member was changed or removed by someone else meanwhile; reload and try again.",
        code="member_changed",
    )
