"""Sign-up, login, logout and "who am I"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

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
        TwoFactorLoginIn,
    )

# Loaded by the first request that needs them, not when `app` is imported (cold start);
# sessions authenticate every request, so they load with routing.
schemas = lazy_module("chalicelib.api.schemas")
signup = lazy_module("chalicelib.accounts.signup")
members = lazy_module("chalicelib.accounts.members")
workspaces = lazy_module("chalicelib.accounts.workspaces")
two_factor = lazy_module("chalicelib.accounts.two_factor")
bp = Blueprint(__name__)

_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def client_summary(request: Request) -> str:
    """What a session's list shows of the client that opened it: "Firefox on Linux,
    203.0.113.9" (a program's own name when it is not a browser)."""
    agent = request.headers.get("user-agent", "")
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    if browser is None and "Safari/" in agent:
        browser = "Safari"
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser:
        shown = f"{browser} on {system}" if system else browser
    else:
        program = re.match(r"[\w.-]{1,40}", agent)
        shown = program.group(0) if program else "Unknown client"
    address = str((request.context or {}).get("identity", {}).get("sourceIp") or "")[:45]
    return f"{shown}, {address}" if address else shown


def _login_answer(call: Call, result: sessions.LoginResult) -> LoginOut | Response:
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
    description="With two-factor sign-in on, the answer opens no session: it is "
    '`{"two_factor_required": true, "challenge": "htc_…", "challenge_expires_at": …}` '
    "(token, user and workspace_id null), and `POST /v1/auth/login/two-factor` with the "
    "challenge and a code opens it (within 5 minutes).",
    tag="accounts",
    body="LoginIn",
    response="LoginOut",
    auth=False,
    errors=(400, 401, 422, 429),
)
def log_in(call: Call) -> LoginOut | Response:
    body: LoginIn = call.body
    result = sessions.log_in(
        bootstrap.account_deps(), body.email, body.password, client_summary(call.request)
    )
    if isinstance(result, sessions.TwoFactorDue):
        return schemas.LoginOut(
            two_factor_required=True,
            challenge=result.challenge,
            challenge_expires_at=result.expires_at,
            token=None,
            user=None,
            workspace_id=None,
            workspaces=[],
        )
    return _login_answer(call, result)


@operation(
    bp,
    "POST",
    "/v1/auth/login/two-factor",
    summary="Second step of a login with two-factor sign-in: the challenge and a code open "
    "the session",
    description="Send the `challenge` the login answered and either the 6-digit `code` of "
    "the authenticator app or one unused `recovery_code` (each works once). The answer is "
    "the login's, with the session (as a cookie for the web client, as at login). A wrong "
    "or already used code answers 401 `invalid_two_factor_code` (the challenge stays usable "
    "until it expires); an unknown, used or expired challenge 401 `invalid_challenge`; too "
    "many wrong codes 429 `login_throttled`.",
    tag="accounts",
    body="TwoFactorLoginIn",
    response="LoginOut",
    auth=False,
    errors=(400, 401, 422, 429),
)
def log_in_two_factor(call: Call) -> LoginOut | Response:
    body: TwoFactorLoginIn = call.body
    result = two_factor.complete_login(
        bootstrap.account_deps(),
        body.challenge,
        body.code,
        body.recovery_code,
        client_summary(call.request),
    )
    return _login_answer(call, result)


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
