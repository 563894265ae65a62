"""E-mailed account links: confirming the address a workspace was signed up with, and
choosing a new password.

The JSON routes ask for a mail; the pages the mails link to use the link.  A page shows a
button or a form, and only its POST uses the link (a mail scanner fetching the URL changes
nothing).  Pages speak the mail's language (`?lang=` switches), in plain HTML forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.pages import secret_link_page
from chalicelib.api.routing import HTML, Call, operation, parse_form, schema
from chalicelib.errors import HelptalError
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import ConfirmationSentOut, PasswordResetIn

# Loaded by the first request that needs them, not when `app` is imported (cold start).
email_links = lazy_module("chalicelib.accounts.email_links")
passwords = lazy_module("chalicelib.accounts.passwords")
model = lazy_module("chalicelib.accounts.model")
schemas = lazy_module("chalicelib.api.schemas")
i18n = lazy_module("chalicelib.web.i18n")
bp = Blueprint(__name__)


@operation(
    bp,
    "POST",
    "/v1/auth/email-confirmation/resend",
    summary="Mail the caller a new link to confirm their e-mail address (at most 3 an hour)",
    description="Until the owner who signed the workspace up confirms their address, Helptal "
    "sends no mail to the workspace's customers: acknowledgements are skipped and replies are "
    "refused with 409 `email_not_confirmed` (`customer_mail_enabled` on the workspace).",
    tag="accounts",
    response="ConfirmationSentOut",
    status=202,
    errors=(401, 404, 409, 429),
)
def resend_confirmation(call: Call) -> ConfirmationSentOut:
    sent_to = email_links.resend_confirmation(bootstrap.account_deps(), call.member)
    return schemas.ConfirmationSentOut(sent_to=sent_to)


@operation(
    bp,
    "POST",
    "/v1/auth/password-reset",
    summary="Mail a link to choose a new password (the same answer whether or not the "
    "address has an account)",
    description="The link works once, for one hour, and opens a page where the user chooses "
    "a new password; doing so closes their other sessions. At most 3 mails an hour per "
    "address; beyond that, none is sent and the answer stays the same.",
    tag="accounts",
    body="PasswordResetIn",
    status=202,
    auth=False,
    errors=(400, 415, 422),
)
def request_password_reset(call: Call) -> None:
    body: PasswordResetIn = call.body
    email_links.request_password_reset(bootstrap.account_deps(), body.email, body.locale)


def _locale(call: Call, chosen: str | None) -> str:
    """`?lang=` when the visitor switched, else the mail's language, else the browser's."""
    asked = dict(call.request.query_params or {}).get("lang")
    return str(
        i18n.pick_locale(
            str(asked) if asked else None,
            None if chosen else call.request.headers.get("accept-language"),
            chosen or "en",
        )
    )


def _invalid(call: Call, error: HelptalError) -> Response:
    locale = _locale(call, None)
    t = i18n.translator(locale)
    return secret_link_page(
        "account_invalid.html",
        error.status,
        locale=locale,
        t=t,
        title=t["account.invalid_title"],
        reason=i18n.reason(t, error.code),
    )


def _app_url(path: str = "") -> str:
    return f"{get_settings().app_base_url.rstrip('/')}{path}"


@operation(
    bp,
    "GET",
    "/account/confirm/{link_token}",
    summary="The page a confirmation mail links to: a button that confirms the address",
    tag="pages",
    auth=False,
    produces=HTML,
    page_query="AccountPageQuery",
    errors=(404, 410),
)
def confirm_page(call: Call) -> Response:
    token = call.params["link_token"]
    try:
        found = email_links.usable_link(
            bootstrap.account_deps(), token, model.LinkPurpose.CONFIRM_EMAIL
        )
    except HelptalError as e:
        return _invalid(call, e)
    locale = _locale(call, found.link.locale)
    t = i18n.translator(locale)
    return secret_link_page(
        "account_confirm.html",
        200,
        locale=locale,
        t=t,
        title=t["account.confirm_title"],
        email=found.link.email,
        action=f"/account/confirm/{token}?lang={locale}",
    )


@operation(
    bp,
    "POST",
    "/account/confirm/{link_token}",
    summary="Confirm the address from the confirmation page (the link then stops working)",
    tag="pages",
    auth=False,
    produces=HTML,
    accepts=("application/x-www-form-urlencoded",),
    page_query="AccountPageQuery",
    errors=(404, 410),
)
def confirm_submit(call: Call) -> Response:
    try:
        found = email_links.confirm_email(bootstrap.account_deps(), call.params["link_token"])
    except HelptalError as e:
        return _invalid(call, e)
    locale = _locale(call, found.link.locale)
    t = i18n.translator(locale)
    return secret_link_page(
        "account_done.html",
        200,
        locale=locale,
        t=t,
        title=t["account.confirmed_title"],
        message=t["account.confirmed"],
        next_url=_app_url("/"),
        next_label=t["account.open_app"],
    )


def _new_password_form(
    call: Call, token: str, locale: str, email: str, status: int, errors: list[str]
) -> Response:
    t = i18n.translator(locale)
    return secret_link_page(
        "account_new_password.html",
        status,
        locale=locale,
        t=t,
        title=t["account.reset_title"],
        email=email,
        errors=errors,
        action=f"/account/reset-password/{token}?lang={locale}",
    )


@operation(
    bp,
    "GET",
    "/account/reset-password/{link_token}",
    summary="The page a password-reset mail links to: a form for the new password",
    tag="pages",
    auth=False,
    produces=HTML,
    page_query="AccountPageQuery",
    errors=(404, 410),
)
def reset_page(call: Call) -> Response:
    token = call.params["link_token"]
    try:
        found = email_links.usable_link(
            bootstrap.account_deps(), token, model.LinkPurpose.RESET_PASSWORD
        )
    except HelptalError as e:
        return _invalid(call, e)
    return _new_password_form(
        call, token, _locale(call, found.link.locale), found.link.email, 200, []
    )


@operation(
    bp,
    "POST",
    "/account/reset-password/{link_token}",
    summary="Set the new password from the reset page (closes the user's other sessions)",
    tag="pages",
    auth=False,
    produces=HTML,
    form="NewPasswordForm",
    page_query="AccountPageQuery",
    errors=(400, 404, 410, 422),
)
def reset_submit(call: Call) -> Response:
    deps = bootstrap.account_deps()
    token = call.params["link_token"]
    try:
        found = email_links.usable_link(deps, token, model.LinkPurpose.RESET_PASSWORD)
    except HelptalError as e:
        return _invalid(call, e)
    locale = _locale(call, found.link.locale)
    t = i18n.translator(locale)
    try:
        form = parse_form(call.request, schema("NewPasswordForm"))
        email_links.reset_password(deps, token, str(getattr(form, "password", "")))
    except passwords.WeakPassword as e:
        problems = [t[f"password.{p}"] for p in e.problems]
        return _new_password_form(call, token, locale, found.link.email, e.status, problems)
    except HelptalError as e:
        if e.code.startswith("link_"):
            return _invalid(call, e)
        errors = [i18n.reason(t, e.code)]
        return _new_password_form(call, token, locale, found.link.email, e.status, errors)
    return secret_link_page(
        "account_done.html",
        200,
        locale=locale,
        t=t,
        title=t["account.reset_done_title"],
        message=t["account.reset_done"],
        next_url=_app_url("/login"),
        next_label=t["join.login"],
    )
