"""The public help centre: server-rendered pages (no JavaScript needed), at
`/hc/<workspace slug>/...` and at `/` of a workspace's verified custom domain."""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.routing import HTML, JSON, Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.kb.helpcentre_site import Site
    from chalicelib.kb.model import Article

# Loaded by the first request that needs them, not when `app` is imported (cold start).
content = lazy_module("chalicelib.kb.helpcentre_content")
helpcentre_site = lazy_module("chalicelib.kb.helpcentre_site")
csp = lazy_module("chalicelib.web.csp")
i18n = lazy_module("chalicelib.web.i18n")
render = lazy_module("chalicelib.web.render")
words = lazy_module("chalicelib.web.helpcentre_words")
bp = Blueprint(__name__)
PAGE_CACHE = "public, max-age=300"
# Articles and logos show images from this site or any https URL (the editor allows both).
PAGE_IMAGES = ("'self'", "https:")
SEARCH_LIMIT = 10


def _site(call: Call) -> Site | None:
    accounts = bootstrap.account_deps().store
    store = bootstrap.helpcentre_store()
    if "workspace_slug" in call.params:
        return content.site_by_slug(
            accounts, store, call.params["workspace_slug"], get_settings().public_base_url
        )
    # Behind the CDN the scheme is https; locally it is that of PUBLIC_BASE_URL.
    scheme = call.request.headers.get("x-forwarded-proto") or (
        "http" if get_settings().public_base_url.startswith("http://") else "https"
    )
    return content.site_by_host(accounts, store, _requested_host(call), scheme)


EDGE_SECRET_HEADER = "x-helptal-edge-secret"


def _requested_host(call: Call) -> str:
    """The name the visitor asked for. A tenant's domain reaches us through Cloudflare for
    SaaS, whose worker calls the API's own domain and names the tenant's in X-Forwarded-Host,
    with the shared edge secret; without that secret the header is ignored."""
    headers = call.request.headers
    secret = get_settings().help_centre_edge_secret
    if secret and hmac.compare_digest(
        headers.get(EDGE_SECRET_HEADER, "").encode(), secret.encode()
    ):
        return str(headers.get("x-forwarded-host", ""))
    return str(headers.get("host", ""))


def _locale(call: Call, site: Site | None) -> str:
    asked = call.params.get("locale") or dict(call.request.query_params or {}).get("lang")
    default = site.settings.default_locale if site else "en"
    return i18n.pick_locale(asked, call.request.headers.get("accept-language"), default)


def _send(
    call: Call,
    body: str,
    status: int = 200,
    content_type: str = HTML,
    cache: str = PAGE_CACHE,
    widget: tuple[str, ...] = (),
) -> Response:
    """A page for the CDN in front: ETag and Cache-Control; 304 when the client has it."""
    tag = helpcentre_site.etag(body)
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Cache-Control": cache,
        "ETag": tag,
        "X-Frame-Options": "SAMEORIGIN",
        # Without a locale in the URL the language comes from Accept-Language.
        "Vary": "Accept-Language",
    }
    if content_type == HTML:  # on a 304 too: it replaces the cached page's headers
        headers["Content-Security-Policy"] = csp.content_security_policy(
            body, images=PAGE_IMAGES, frame_ancestors="'self'", scripts_and_frames=widget
        )
    if status == 200 and call.request.headers.get("if-none-match") == tag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=status, headers=headers)


def _words(locale: str, site: Site | None) -> Any:
    """The page's words; French says "tu" or "vous" as the workspace chose."""
    return i18n.translator(locale, site.formality if site else "formal")


def _languages(urls: dict[str, str]) -> list[dict[str, str]]:
    """The language switcher: every locale of the help centre, each to its page."""
    return [
        {"locale": other, "label": label, "url": urls[other]}
        for other, label in helpcentre_site.LOCALE_LABELS.items()
    ]


def _page(
    call: Call,
    site: Site,
    locale: str,
    template: str,
    status: int = 200,
    cache: str | None = None,
    widget: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    t = _words(locale, site)
    context.setdefault("alternates", [])
    context.setdefault(
        "languages",
        _languages({other: site.home(other) for other in helpcentre_site.LOCALE_LABELS}),
    )
    context.setdefault("description", None)
    context.setdefault("canonical", site.home(locale))
    body = render.render_page(
        template,
        locale=locale,
        t=t,
        centre=site.settings,
        favicon_url=site.settings.logo_url or site.favicon(),
        home_url=site.home(locale),
        search_url=site.search(),
        contact_url=site.contact(locale),
        noindex=status != 200,
        **context,
    )
    return _send(
        call,
        body,
        status,
        cache=cache or (PAGE_CACHE if status == 200 else "no-store"),
        widget=widget,
    )


def _not_found(call: Call, site: Site | None) -> Response:
    locale = _locale(call, site)
    if site is None:  # unknown slug or host: nothing of any workspace is shown
        # In every language, the visitor's first: nothing tells which one the centre uses.
        shown = [locale] + [other for other in helpcentre_site.LOCALE_LABELS if other != locale]
        body = render.render_page(
            "hc/unknown.html", locale=locale, words=[_words(other, None) for other in shown]
        )
        return _send(call, body, 404, cache="no-store")
    return _page(
        call, site, locale, "hc/not_found.html", 404, title=_words(locale, site)["hc.not_found"]
    )


def _article_link(site: Site, article: Article) -> dict[str, str]:
    return {"title": article.title, "url": site.article(article.locale, article.slug)}


def home(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    locale = _locale(call, site)
    kb = bootstrap.kb_deps()
    sections = [
        {
            "name": s.category.name_in(locale)
            if s.category
            else _words(locale, site)["hc.other_articles"],
            "url": site.category(locale, s.category) if s.category else site.home(locale),
            "description": s.category.description_in(locale) if s.category else "",
            "articles": [_article_link(site, a) for a in s.articles],
        }
        for s in content.home_sections(kb, site, locale)
    ]
    alternates = [
        {"locale": other, "url": site.home(other), "label": helpcentre_site.LOCALE_LABELS[other]}
        for other in helpcentre_site.LOCALE_LABELS
    ]
    return _page(
        call,
        site,
        locale,
        "hc/home.html",
        title=site.settings.name,
        sections=sections,
        alternates=alternates,
        canonical=site.home(locale),
    )


def category(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    locale = _locale(call, site)
    kb = bootstrap.kb_deps()
    if call.params["locale"] not in helpcentre_site.LOCALE_LABELS:
        return _not_found(call, site)
    found = content.category_by_slug(kb, site, call.params["category_slug"], locale)
    if found is None:
        return _not_found(call, site)
    articles = [_article_link(site, a) for a in content.category_articles(kb, site, locale, found)]
    alternates = _languages(
        {other: site.category(other, found) for other in helpcentre_site.LOCALE_LABELS}
    )
    return _page(
        call,
        site,
        locale,
        "hc/category.html",
        title=found.name_in(locale),
        category={"name": found.name_in(locale), "description": found.description_in(locale)},
        articles=articles,
        alternates=alternates,
        languages=alternates,
        canonical=site.category(locale, found),
    )


def article(call: Call, thanks: bool = False) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    kb = bootstrap.kb_deps()
    lookup = content.published_article(kb, site, call.params["locale"], call.params["article_slug"])
    if lookup.article is None:
        return _not_found(call, site)
    if lookup.redirect_to:
        return Response(
            body="",
            status_code=301,
            headers={"Location": lookup.redirect_to, "Cache-Control": PAGE_CACHE},
        )
    shown = lookup.article
    locale = shown.locale
    translations = content.published_translations(kb, site, shown)
    alternates = [
        {
            "locale": a.locale,
            "url": site.article(a.locale, a.slug),
            "label": helpcentre_site.LOCALE_LABELS[a.locale],
        }
        for a in translations
    ]
    category_of = content.category_of(kb, site, shown)
    # An article not translated into a language leads to that language's home page.
    languages = _languages(
        {
            other: next((a["url"] for a in alternates if a["locale"] == other), site.home(other))
            for other in helpcentre_site.LOCALE_LABELS
        }
    )
    return _page(
        call,
        site,
        locale,
        "hc/article.html",
        title=shown.title,
        description=helpcentre_site.description_of(shown),
        canonical=site.article(locale, shown.slug),
        alternates=alternates if len(alternates) > 1 else [],
        languages=languages,
        thanks=thanks,
        feedback_url=site.feedback(locale, shown.slug),
        category={"name": category_of.name_in(locale), "url": site.category(locale, category_of)}
        if category_of
        else None,
        article={
            "title": shown.title,
            "html": shown.html,
            "updated_iso": shown.updated_at.isoformat(),
            "updated_text": words.format_date(shown.updated_at.date(), locale),
        },
    )


def feedback(call: Call) -> Response:
    from chalicelib.api.routing import parse_form, schema

    site = _site(call)
    if site is None:
        return _not_found(call, None)
    kb = bootstrap.kb_deps()
    lookup = content.published_article(kb, site, call.params["locale"], call.params["article_slug"])
    if lookup.article is None:
        return _not_found(call, site)
    form = parse_form(call.request, schema("ArticleFeedbackForm"))
    visitor = (call.request.context or {}).get("identity", {}).get("sourceIp", "unknown")
    content.record_feedback(
        bootstrap.helpcentre_store(),
        site,
        lookup.article,
        f"{visitor}|{call.request.headers.get('user-agent', '')}",
        form.model_dump().get("helpful") == "yes",
        int(bootstrap.clock().now().timestamp()),
    )
    return Response(
        body="",
        status_code=303,
        headers={
            "Location": site.article(lookup.article.locale, lookup.article.slug) + "?thanks=1",
            "Cache-Control": "no-store",
        },
    )


def _hits(call: Call, site: Site, query: str, locale: str | None) -> list[Any]:
    from chalicelib.kb.search import search_kb

    return search_kb(
        bootstrap.kb_index_cache(),
        bootstrap.kb_search_gaps(),
        site.workspace_id,
        query,
        locale,
        SEARCH_LIMIT,
        include_internal=False,
        now=bootstrap.clock().now(),
        embedder_for=bootstrap.kb_embedder_for,
    )


def search_page(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    locale = _locale(call, site)
    query = dict(call.request.query_params or {}).get("q", "").strip()[:200]
    hits = _hits(call, site, query, locale) if query else []
    return _page(
        call,
        site,
        locale,
        "hc/search.html",
        title=query or site.settings.name,
        query=query,
        hits=[
            {"title": h.title, "url": site.base_url + h.url, "passage_html": h.highlighted_passage}
            for h in hits
        ],
        canonical=site.search(),
        languages=_languages(
            {
                other: site.search() + "?" + urlencode({"q": query, "lang": other})
                for other in helpcentre_site.LOCALE_LABELS
            }
        ),
        noindex_search=True,
    )


def search_api(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return Response(
            body=json.dumps({"error": {"code": "not_found", "message": "No such help centre."}}),
            status_code=404,
            headers={"Content-Type": JSON},
        )
    query = dict(call.request.query_params or {}).get("q", "").strip()[:200]
    locale = dict(call.request.query_params or {}).get("locale")
    hits = _hits(call, site, query, locale) if query else []
    body = json.dumps(
        {
            "hits": [
                {
                    "article_id": h.article_id,
                    "title": h.title,
                    "url": site.base_url + h.url,
                    "passage": h.highlighted_passage,
                    "score": round(h.score, 4),
                }
                for h in hits
            ]
        }
    )
    return _send(call, body, content_type=JSON, cache="public, max-age=60")


def sitemap(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    kb = bootstrap.kb_deps()
    articles = content.published_articles(kb, site)
    groups: dict[str, list[Article]] = {}
    for a in articles:
        groups.setdefault(a.translation_group, []).append(a)
    multi = {group: found for group, found in groups.items() if len(found) > 1}
    body = helpcentre_site.sitemap_xml(site, articles, multi)
    return _send(call, body, content_type="application/xml")


CONTACT_COOKIE = "hc_contact"
TURNSTILE_ORIGIN = "https://challenges.cloudflare.com"


def _contact_form(
    call: Call,
    site: Site,
    locale: str,
    status: int = 200,
    problem: str | None = None,
    fields: dict[str, str] | None = None,
) -> Response:
    """The form with a fresh anti-forgery token, in the form and in a cookie (a page on
    another site can read neither, so it cannot post a form that matches)."""
    import secrets

    token = secrets.token_urlsafe(24)
    sent = status == 200 and bool(dict(call.request.query_params or {}).get("sent"))
    # Turnstile's widget is the only script any page loads, and only when it is configured.
    turnstile = get_settings().turnstile_site_key if bootstrap.human_check() else ""
    response = _page(
        call,
        site,
        locale,
        "hc/contact.html",
        status,
        cache="no-store",
        title=_words(locale, site)["hc.contact_title"],
        token=token,
        sent=sent,
        problem=problem,
        fields=fields or {},
        turnstile_site_key=turnstile,
        widget=(TURNSTILE_ORIGIN,) if turnstile and not sent else (),
        languages=_languages(
            {other: site.contact(other) for other in helpcentre_site.LOCALE_LABELS}
        ),
        canonical=site.contact(locale),
        noindex_search=True,
    )
    secure = "; Secure" if site.base_url.startswith("https://") else ""
    response.headers["Set-Cookie"] = (
        f"{CONTACT_COOKIE}={token}; Path=/; Max-Age=7200; HttpOnly; SameSite=Strict{secure}"
    )
    return response


def contact(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    if call.params["locale"] not in helpcentre_site.LOCALE_LABELS:
        return _not_found(call, site)
    return _contact_form(call, site, call.params["locale"])


def _cookie(call: Call, name: str) -> str:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(call.request.headers.get("cookie", ""))
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel else ""


def _same_origin(call: Call, site: Site) -> bool:
    """No Origin (an old browser, a test client), or this site's own."""
    from urllib.parse import urlsplit

    origin = call.request.headers.get("origin")
    if not origin:
        return True
    own = urlsplit(site.base_url)
    return origin.rstrip("/") == f"{own.scheme}://{own.netloc}"


def contact_send(call: Call) -> Response:
    """Opens a ticket from the contact form; the form again (with the reason) when it is
    forged, stale, invalid, refused by the human check or over the hourly limit."""
    from chalicelib.api.routing import parse_form, schema
    from chalicelib.errors import ValidationFailed
    from chalicelib.kb import helpcentre_contact as contact_form

    site = _site(call)
    if site is None:
        return _not_found(call, None)
    locale = call.params["locale"]
    if locale not in helpcentre_site.LOCALE_LABELS:
        return _not_found(call, site)
    t = _words(locale, site)
    try:
        form = parse_form(call.request, schema("HelpCentreContactForm"))
    except ValidationFailed:
        return _contact_form(call, site, locale, 422, t["hc.contact_invalid"])
    given = form.model_dump()
    fields = {k: str(given[k]) for k in ("name", "email", "subject", "message")}
    cookie = _cookie(call, CONTACT_COOKIE)
    if not (cookie and hmac.compare_digest(cookie, given["token"]) and _same_origin(call, site)):
        return _contact_form(call, site, locale, 403, t["hc.contact_expired"], fields)
    visitor = (call.request.context or {}).get("identity", {}).get("sourceIp", "unknown")
    try:
        contact_form.send_contact_message(
            bootstrap.ticket_deps(),
            bootstrap.helpcentre_store(),
            bootstrap.human_check(),
            site,
            contact_form.ContactMessage(locale=locale, **fields),
            visitor_ip=visitor,
            human_token=given["turnstile"],
            now=int(bootstrap.clock().now().timestamp()),
        )
    except contact_form.NotHuman:
        return _contact_form(call, site, locale, 403, t["hc.contact_not_verified"], fields)
    except contact_form.TooManyContacts:
        return _contact_form(call, site, locale, 429, t["hc.contact_too_many"], fields)
    return Response(
        body="",
        status_code=303,
        headers={"Location": site.contact(locale) + "?sent=1", "Cache-Control": "no-store"},
    )


def favicon(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return _not_found(call, None)
    body = helpcentre_site.favicon_svg(site.settings)
    return _send(call, body, content_type="image/svg+xml", cache="public, max-age=86400")


def robots(call: Call) -> Response:
    site = _site(call)
    if site is None:
        return Response(
            body="User-agent: *\nAllow: /hc/\nDisallow: /v1/\nDisallow: /join/\n",
            status_code=200,
            headers={"Content-Type": "text/plain"},
        )
    return _send(call, helpcentre_site.robots_txt(site), content_type="text/plain")


_PAGES = [
    ("GET", "", "home", home, "Help centre home"),
    ("GET", "/{locale}/categories/{category_slug}", "category", category, "A category"),
    ("GET", "/{locale}/articles/{article_slug}", "article", article, "A published article"),
    (
        "POST",
        "/{locale}/articles/{article_slug}/feedback",
        "feedback",
        feedback,
        "Was this article helpful? (yes/no, once a day per visitor)",
    ),
    ("GET", "/search", "search", search_page, "Search results page"),
    ("GET", "/{locale}/contact", "contact", contact, "The contact form"),
    (
        "POST",
        "/{locale}/contact",
        "contact_send",
        contact_send,
        "Send the contact form: opens a ticket (5 an hour per visitor)",
    ),
    (
        "GET",
        "/api/search",
        "search_api",
        search_api,
        "Search as JSON (published articles only), for the chat widget",
    ),
    ("GET", "/sitemap.xml", "sitemap", sitemap, "Sitemap with hreflang alternates"),
    ("GET", "/favicon.svg", "favicon", favicon, "The icon of a help centre without a logo"),
]


# What each page answers with (default: HTML), and the query parameters it reads.
_PRODUCES = {"search_api": JSON, "sitemap": "application/xml", "favicon": "image/svg+xml"}
_PAGE_QUERIES = {
    "home": "HelpCentrePageQuery",
    "article": "HelpCentreArticleQuery",
    "search": "HelpCentreSearchQuery",
    "search_api": "HelpCentreSearchApiQuery",
}


def _register() -> None:
    for method, suffix, name, view, summary in _PAGES:
        for prefix, where in (("/hc/{workspace_slug}", "slug"), ("", "domain")):
            path = (prefix + suffix) or "/"
            produces = _PRODUCES.get(name, HTML)

            def handler(call: Call, _view: Any = view) -> Response:
                if _view is article and dict(call.request.query_params or {}).get("thanks"):
                    return article(call, thanks=True)
                return _view(call)

            handler.__name__ = f"hc_{name}_by_{where}"
            operation(
                bp,
                method,
                path,
                summary=f"{summary} ({'by slug' if where == 'slug' else 'on a custom domain'})",
                tag="help-centre",
                auth=False,
                produces=produces,
                form={
                    "feedback": "ArticleFeedbackForm",
                    "contact_send": "HelpCentreContactForm",
                }.get(name),
                page_query=_PAGE_QUERIES.get(name),
                errors=(404,),
            )(handler)
    operation(
        bp,
        "GET",
        "/robots.txt",
        summary="robots.txt of a custom-domain help centre",
        tag="help-centre",
        auth=False,
        produces="text/plain",
    )(robots)


_register()
