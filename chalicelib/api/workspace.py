"""The current workspace's settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        WorkspaceOut,
        WorkspacePatchIn,
    )

schemas = lazy_module("chalicelib.api.schemas")
workspaces = lazy_module("chalicelib.accounts.workspaces")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/workspace",
    summary="The current workspace",
    tag="workspace",
    response="WorkspaceOut",
    errors=(401, 404),
)
def get_workspace(call: Call) -> WorkspaceOut:
    return schemas.WorkspaceOut.of(
        workspaces.current_workspace(bootstrap.account_deps(), call.member),
        get_settings().inbound_mail_domain,
    )


@operation(
    bp,
    "PATCH",
    "/v1/workspace",
    summary="Rename, or change time zone, language, the French form of address, or whether "
    "members must sign in with two factors",
    description="`two_factor_required: true`: a member without two-factor sign-in can still "
    "log in, but every request other than their profile's (`/v1/me…`) and logging out answers "
    "403 `two_factor_required` until they turn it on. API keys are not affected.",
    tag="workspace",
    body="WorkspacePatchIn",
    response="WorkspaceOut",
    errors=(400, 401, 403, 404, 422),
)
def patch_workspace(call: Call) -> WorkspaceOut:
    body: WorkspacePatchIn = call.body
    updated = workspaces.update_workspace(
        bootstrap.account_deps(),
        call.member,
        name=body.name,
        timezone=body.timezone,
        locale=body.locale,
        formality=body.formality,
        two_factor_required=body.two_factor_required,
    )
    return schemas.WorkspaceOut.of(updated, get_settings().inbound_mail_domain)
