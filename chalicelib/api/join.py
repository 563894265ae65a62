"""The page an invitation e-mail links to: see who invited you, choose a password, join.

Plain HTML forms (no JavaScript needed); errors are shown on the page, never as JSON.  The
page speaks the invitation's language (the inviter's choice, else the workspace's), not the
browser's; `?lang=` switches it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.pages import secret_link_page
from chalicelib.api.routing import HTML, Call, operation, parse_form, schema
from chalicelib.errors import HelptalError, ValidationFailed
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.invitations import InvitationPreview

# Loaded by the first request that needs them, not when `app` is imported (cold start).
invitations = lazy_module("chalicelib.accounts.invitations")
passwords = lazy_module("chalicelib.accounts.passwords")
i18n = lazy_module("chalicelib.web.i18n")
bp = Blueprint(__name__)


def _asked(call: Call) -> str | None:
    query: dict[str, str] = dict(call.request.query_params or {})
    lang = query.get("lang")
    return str(lang) if lang else None


def _locale(call: Call, found: InvitationPreview) -> str:
    """`?lang=` when the visitor switched, else the invitation's language."""
    chosen = found.invitation.locale or found.workspace.locale
    return i18n.pick_locale(_asked(call), None, chosen)


def _invalid(call: Call, error: HelptalError) -> Response:
    # No invitation to follow: the browser's language is all there is.
    locale = i18n.pick_locale(_asked(call), call.request.headers.get("accept-language"), "en")
    t = i18n.translator(locale)  # no workspace known: formal
    return secret_link_page(
        "join_invalid.html",
        error.status,
        locale=locale,
        t=t,
        title=t["join.invalid_title"],
        reason=i18n.reason(t, error.code),
    )


def _form(
    call: Call, found: InvitationPreview, status: int, errors: list[str], name: str = ""
) -> Response:
    locale = _locale(call, found)
    t = i18n.translator(locale, found.workspace.formality)
    return secret_link_page(
        "join.html",
        status,
        locale=locale,
        t=t,
        title=t["join.title"].format(workspace=found.workspace.name),
        workspace=found.workspace.name,
        email=found.invitation.email,
        role=found.invitation.role.value,
        existing_account=found.existing_account,
        errors=errors,
        name=name,
        action=f"/join/{call.params['token']}?lang={locale}",
    )


@operation(
    bp,
    "GET",
    "/join/{token}",
    summary="The invitation page: who invited you, and a form to join",
    tag="pages",
    auth=False,
    produces=HTML,
    page_query="JoinPageQuery",
    errors=(404, 410),
)
def join_page(call: Call) -> Response:
    try:
        found = invitations.preview(bootstrap.account_deps(), call.params["token"])
    except HelptalError as e:
        return _invalid(call, e)
    return _form(call, found, 200, [])


@operation(
    bp,
    "POST",
    "/join/{token}",
    summary="Join the workspace from the invitation page's form",
    tag="pages",
    auth=False,
    produces=HTML,
    form="JoinForm",
    page_query="JoinPageQuery",
    errors=(400, 401, 402, 404, 409, 410, 422, 429),
)
def join_submit(call: Call) -> Response:
    deps = bootstrap.account_deps()
    token = call.params["token"]
    try:
        found = invitations.preview(deps, token)
    except HelptalError as e:
        return _invalid(call, e)
    locale = _locale(call, found)
    t = i18n.translator(locale, found.workspace.formality)
    name = ""
    try:
        form = parse_form(call.request, schema("JoinForm"))
        name, password = str(getattr(form, "name", "")), str(getattr(form, "password", ""))
        if not found.existing_account and not name:
            raise ValidationFailed("name is required", code="name_required")
        accepted = invitations.accept(deps, token, name or "-", password)
    except passwords.WeakPassword as e:
        return _form(call, found, e.status, [t[f"password.{p}"] for p in e.problems], name)
    except HelptalError as e:
        if e.code.startswith("invitation_"):
            return _invalid(call, e)
        return _form(call, found, e.status, [i18n.reason(t, e.code)], name)
    return secret_link_page(
        "join_done.html",
        200,
        locale=locale,
        t=t,
        title=t["join.done_title"].format(workspace=accepted.workspace.name),
        workspace=accepted.workspace.name,
        login_url=f"{get_settings().app_base_url.rstrip('/')}/login",
    )
