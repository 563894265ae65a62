"""The pages of the e-mail subscription to sub-processor change notices: the form's answer
(always the same "check your mail", so nobody learns whether an address is subscribed), the
confirmation page (GET shows a button, POST confirms: a link scanner confirms nothing) and
the unsubscribe page (GET shows a button; POST unsubscribes, also as RFC 8058's one-click
`List-Unsubscribe-Post` from a mail client).  Plain HTML in English or French, no script,
the strict CSP, never cached."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.pages import secret_link_page
from chalicelib.api.routing import FORM, HTML, MULTIPART, Call, operation, parse_form, schema
from chalicelib.errors import HelptalError, TooManyRequests
from chalicelib.lazy import lazy_module

# Loaded by the first request that needs them, not when `app` is imported (cold start).
subscriptions = lazy_module("chalicelib.privacy.subscriptions")
notice_words = lazy_module("chalicelib.privacy.notice_words")
i18n = lazy_module("chalicelib.web.i18n")
bp = Blueprint(__name__)

LIST_PAGE = "/legal/subprocessors"
CONFIRM = "/legal/subprocessors/subscriptions/confirm/{token}"
UNSUBSCRIBE = "/legal/subprocessors/subscriptions/unsubscribe/{token}"


def _locale(call: Call, chosen: str | None = None) -> str:
    """`?lang=` first, then the language the link or form chose, then the browser's."""
    asked = dict(call.request.query_params or {}).get("lang")
    return str(
        i18n.pick_locale(
            str(asked) if asked else chosen,
            None if chosen else call.request.headers.get("accept-language"),
            chosen or "en",
        )
    )


def _page(
    locale: str,
    status: int,
    title: str,
    paragraphs: list[str],
    *,
    action: str = "",
    button: str = "",
) -> Response:
    w = notice_words.words(locale)
    return secret_link_page(
        "notices/page.html",
        status,
        locale=locale,
        title=w[title],
        paragraphs=[w[p] for p in paragraphs],
        action=action,
        button=w[button] if button else "",
        back_url=f"{LIST_PAGE}?lang={locale}",
        back_label=w["page.back"],
    )


def _invalid_link(call: Call) -> Response:
    return _page(_locale(call), 404, "page.invalid_title", ["page.invalid"])


def _visitor(call: Call) -> str:
    identity = (call.request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


@operation(
    bp,
    "POST",
    "/legal/subprocessors/subscribe",
    summary="Subscribe an address to sub-processor change notices (it confirms by mail)",
    description='Always the same page (200 "check your mail"), whether or not the address '
    "is subscribed; the address gets a confirmation link unless it is confirmed already. "
    "10 requests an hour per visitor (then 429); 3 confirmation mails a day per address.",
    tag="pages",
    auth=False,
    produces=HTML,
    form="SubprocessorSubscribeForm",
    errors=(400, 413, 422, 429),
)
def subscription_subscribe(call: Call) -> Response:
    try:
        form = parse_form(call.request, schema("SubprocessorSubscribeForm"))
    except HelptalError as e:  # not an address (422), not a form (400, 413)
        title, text = "page.invalid_address_title", "page.invalid_address"
        return _page(_locale(call), e.status, title, [text])
    given = form.model_dump()
    email, chosen = str(given["email"]), str(given["lang"]).strip().lower()
    locale = _locale(call, chosen if chosen in ("en", "fr") else None)
    try:
        subscriptions.subscribe(bootstrap.subscription_deps(), email, locale, _visitor(call))
    except TooManyRequests as e:
        page = _page(locale, 429, "page.too_many_title", ["page.too_many"])
        page.headers.update(e.headers)
        return page
    return _page(locale, 200, "page.sent_title", ["page.sent", "page.sent_hint"])


@operation(
    bp,
    "GET",
    CONFIRM,
    summary="The page a subscription's confirmation mail links to: a button that confirms",
    tag="pages",
    auth=False,
    produces=HTML,
    page_query="SubscriptionPageQuery",
    errors=(404,),
)
def subscription_confirm_page(call: Call) -> Response:
    token = call.params["token"]
    try:
        grant = subscriptions.confirmation_asked(bootstrap.subscription_deps(), token)
    except HelptalError:
        return _invalid_link(call)
    locale = _locale(call, grant.lang)
    return _page(
        locale,
        200,
        "page.confirm_title",
        ["page.confirm"],
        action=f"/legal/subprocessors/subscriptions/confirm/{token}?lang={locale}",
        button="page.confirm_button",
    )


@operation(
    bp,
    "POST",
    CONFIRM,
    summary="Confirm the subscription from its confirmation page (again: no change)",
    tag="pages",
    auth=False,
    produces=HTML,
    accepts=(FORM, MULTIPART),
    page_query="SubscriptionPageQuery",
    errors=(404,),
)
def subscription_confirm(call: Call) -> Response:
    try:
        subscriber = subscriptions.confirm(bootstrap.subscription_deps(), call.params["token"])
    except HelptalError:
        return _invalid_link(call)
    return _page(_locale(call, subscriber.lang), 200, "page.confirmed_title", ["page.confirmed"])


@operation(
    bp,
    "GET",
    UNSUBSCRIBE,
    summary="The page a notice's unsubscribe link opens: a button that unsubscribes",
    tag="pages",
    auth=False,
    produces=HTML,
    page_query="SubscriptionPageQuery",
    errors=(404,),
)
def subscription_unsubscribe_page(call: Call) -> Response:
    token = call.params["token"]
    try:
        subscriptions.unsubscribe_asked(bootstrap.subscription_deps(), token)
    except HelptalError:
        return _invalid_link(call)
    locale = _locale(call)
    return _page(
        locale,
        200,
        "page.unsubscribe_title",
        ["page.unsubscribe"],
        action=f"/legal/subprocessors/subscriptions/unsubscribe/{token}?lang={locale}",
        button="page.unsubscribe_button",
    )


@operation(
    bp,
    "POST",
    UNSUBSCRIBE,
    summary="Unsubscribe: from the unsubscribe page, or one click from a mail client "
    "(RFC 8058 `List-Unsubscribe=One-Click`); unsubscribed already: the same page",
    tag="pages",
    auth=False,
    produces=HTML,
    accepts=(FORM, MULTIPART),
    page_query="SubscriptionPageQuery",
    errors=(404,),
)
def subscription_unsubscribe(call: Call) -> Response:
    try:
        subscriptions.unsubscribe(bootstrap.subscription_deps(), call.params["token"])
    except HelptalError:
        return _invalid_link(call)
    return _page(_locale(call), 200, "page.unsubscribed_title", ["page.unsubscribed"])
