"""Sign-up, login, logout and "who am I"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.accounts import sessions
from chalicelib.api import browser_session
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        LoginIn,
        LoginOut,
        MeOut,
        SignupIn,
        SignupOut,
    )

# Loaded by the first request that needs them, not when `app` is imported (cold start);
# sessions authenticate every request, so they load with routing.
schemas = lazy_module("chalicelib.api.schemas")
signup = lazy_module("chalicelib.accounts.signup")
members = lazy_module("chalicelib.accounts.members")
workspaces = lazy_module("chalicelib.accounts.workspaces")
bp = Blueprint(__name__)


@operation(
    bp,
    "POST",
    "/v1/signup",
    summary="Create a workspace and its first owner (an e-mail that has an account gets the "
    "same answer, nothing is created and its owner is told by e-mail)",
    tag="accounts",
    body="SignupIn",
    response="SignupOut",
    status=201,
    auth=False,
    errors=(400, 409, 422),
)
def sign_up(call: Call) -> SignupOut | Response:
    body: SignupIn = call.body
    result = signup.sign_up(
        bootstrap.account_deps(),
        workspace_name=body.workspace_name,
        name=body.name,
        email=str(body.email),
        password=body.password,
        login_url=f"{get_settings().app_base_url.rstrip('/')}/login",
        slug=body.slug,
        locale=body.locale,
        timezone=body.timezone,
    )
    answer = schemas.SignupOut(
        workspace=schemas.WorkspaceOut.of(result.workspace, get_settings().inbound_mail_domain),
        user=schemas.UserOut.of(result.user, result.owner.role),
        token=result.token,
    )
    return browser_session.hand_over_session(call.request, answer, status=201)


@operation(
    bp,
    "POST",
    "/v1/auth/login",
    summary="Log in with e-mail and password",
    tag="accounts",
    body="LoginIn",
    response="LoginOut",
    auth=False,
    errors=(400, 401, 422, 429),
)
def log_in(call: Call) -> LoginOut | Response:
    body: LoginIn = call.body
    result = sessions.log_in(bootstrap.account_deps(), body.email, body.password)
    names = {w.id: w for w in result.workspaces}
    roles = {m.workspace_id: m.role for m in result.memberships}
    answer = schemas.LoginOut(
        token=result.session.token,
        user=schemas.UserOut.of(result.session.user, roles[result.session.workspace_id]),
        workspace_id=result.session.workspace_id,
        workspaces=[
            schemas.WorkspaceMembershipOut(
                id=m.workspace_id,
                slug=names[m.workspace_id].slug,
                name=names[m.workspace_id].name,
                role=m.role,
            )
            for m in result.memberships
            if m.workspace_id in names
        ],
    )
    return browser_session.hand_over_session(call.request, answer, status=200)


@operation(
    bp,
    "POST",
    "/v1/auth/logout",
    summary="Revoke the session token used",
    tag="accounts",
    status=204,
    errors=(401,),
)
def log_out(call: Call) -> Response:
    sessions.log_out(bootstrap.account_deps(), call.member)
    return browser_session.end_session(call.request)


@operation(
    bp,
    "GET",
    "/v1/me",
    summary="The caller, its role and current workspace",
    tag="accounts",
    response="MeOut",
    errors=(401, 404),
)
def me(call: Call) -> MeOut:
    deps = bootstrap.account_deps()
    principal = call.member
    workspace = schemas.WorkspaceOut.of(
        workspaces.current_workspace(deps, principal), get_settings().inbound_mail_domain
    )
    user = members.caller(deps, principal)
    return schemas.MeOut(
        user=schemas.UserOut.of(user, principal.role) if user else None,
        api_key_id=principal.credential.api_key_id,
        role=principal.role,
        workspace=workspace,
    )
