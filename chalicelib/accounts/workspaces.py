"""The workspace itself: its name, time zone, language, and whether its members must sign
in with two factors."""

from __future__ import annotations

from typing import Protocol

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import Principal, Workspace
from chalicelib.errors import Conflict, Forbidden, NotFound


class WorkspaceReader(Protocol):
    def get_workspace(self, workspace_id: str) -> Workspace | None: ...


def existing_workspace(store: WorkspaceReader, workspace_id: str) -> Workspace:
    """The workspace; 404 `workspace_not_found` when it does not exist (deleted meanwhile)."""
    workspace = store.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.", code="workspace_not_found")
    return workspace


def current_workspace(deps: AccountDeps, principal: Principal) -> Workspace:
    return existing_workspace(deps.store, principal.workspace_id)


def update_workspace(
    deps: AccountDeps,
    principal: Principal,
    *,
    name: str | None,
    timezone: str | None,
    locale: str | None,
    formality: str | None = None,
    two_factor_required: bool | None = None,
) -> Workspace:
    if not principal.role.can_manage_members:
        raise Forbidden(
            "Only owners and admins can change workspace settings.", code="forbidden_role"
        )
    if (
        name is None
        and timezone is None
        and locale is None
        and formality is None
        and two_factor_required is None
    ):
        return current_workspace(deps, principal)
    if two_factor_required and not _signs_in_with_two_factor(deps, principal):
        # Requiring it first would shut the one asking out of the workspace's settings.
        raise Conflict(
            "Turn on two-factor sign-in for yourself before requiring it of everyone.",
            code="two_factor_needed_first",
        )
    return deps.store.update_workspace(
        principal.workspace_id,
        name=name,
        timezone=timezone,
        locale=locale,
        updated_at=deps.clock.now(),
        formality=formality,
        two_factor_required=two_factor_required,
    )


def _signs_in_with_two_factor(deps: AccountDeps, principal: Principal) -> bool:
    """Whether the caller is a person with two-factor sign-in on (an API key is not)."""
    user = deps.store.get_user(principal.user_id) if principal.user_id else None
    return user is not None and user.two_factor is not None and user.two_factor.enabled
