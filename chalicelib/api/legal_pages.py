"""The public sub-processor pages: `/legal/subprocessors` (the list, where data is stored,
the notice and objection terms, upcoming changes, the integrations that are not
sub-processors, the form to get notices by e-mail) and `/legal/subprocessors/changelog`.

Server-rendered, no script, the strict CSP; English (authoritative) and French, chosen by
`?lang=`, else Accept-Language; cacheable a few minutes by the CDN (ETag, 304)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.routing import HTML, Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.privacy.model import PlannedChange, SubProcessor
    from chalicelib.privacy.registry import Published

# Loaded by the first request that needs them, not when `app` is imported (cold start).
csp = lazy_module("chalicelib.web.csp")
i18n = lazy_module("chalicelib.web.i18n")
render = lazy_module("chalicelib.web.render")
dates = lazy_module("chalicelib.web.helpcentre_words")
legal_words = lazy_module("chalicelib.web.legal_words")
registry = lazy_module("chalicelib.privacy.registry")
seed = lazy_module("chalicelib.privacy.subprocessors")
bp = Blueprint(__name__)

LIST_PATH = "/legal/subprocessors"
CHANGELOG_PATH = "/legal/subprocessors/changelog"
SUBSCRIBE_PATH = "/legal/subprocessors/subscribe"
PAGE_CACHE = "public, max-age=300"


def _locale(call: Call) -> str:
    asked = dict(call.request.query_params or {}).get("lang")
    return str(i18n.pick_locale(asked, call.request.headers.get("accept-language"), "en"))


def _date(moment: Any, locale: str) -> str:
    return str(dates.format_date(moment.date(), locale))


def _provider(provider: SubProcessor, locale: str) -> dict[str, Any]:
    return {
        "id": provider.id,
        "name": provider.name,
        "location": getattr(provider.location, locale),
        "purpose": getattr(provider.purpose, locale),
        "content": provider.processes_workspace_content,
    }


def _change(
    change: PlannedChange, names: dict[str, SubProcessor], locale: str, upcoming: bool
) -> dict[str, Any]:
    t = legal_words.words(locale)
    newcomer = change.subprocessor
    # A provider "replaced" by itself is one whose description changes: it does not leave.
    leaving = [
        names[r].name if r in names else r
        for r in change.replaces
        if newcomer is None or r != newcomer.id
    ]
    return {
        "id": change.id,
        "upcoming": upcoming,
        "kind": t[f"kind_{change.kind.value}"],
        "headline": newcomer.name if newcomer else legal_words.joined(leaving, locale),
        "summary": getattr(change.summary, locale),
        "effective_text": _date(change.effective_at, locale),
        "announced_text": _date(change.announced_at, locale),
        "newcomer": _provider(newcomer, locale) if newcomer else None,
        "leaving": legal_words.joined(leaving, locale),
    }


def _categories(shown: Published, locale: str) -> list[dict[str, Any]]:
    """The providers in force by category; those an upcoming change takes off the list say
    when they leave."""
    from chalicelib.privacy.model import Category

    leaving = {
        r: _date(c.effective_at, locale)
        for c in reversed(shown.view.upcoming)  # the soonest wins
        for r in c.replaces
        if c.subprocessor is None or r != c.subprocessor.id
    }
    found = []
    for category in Category:
        providers = [p for p in shown.view.current if p.category is category]
        if providers:
            found.append(
                {
                    "id": category.value,
                    "title": getattr(seed.CATEGORY_TITLES[category], locale),
                    "note": getattr(seed.CATEGORY_NOTES[category], locale),
                    "providers": [
                        {**_provider(p, locale), "leaves_on": leaving.get(p.id)} for p in providers
                    ],
                }
            )
    return found


def _integrations(shown: Published, locale: str) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "name": i.name,
            "location": getattr(i.location, locale),
            "purpose": getattr(i.purpose, locale),
        }
        for i in shown.view.integrations
    ]


def _send(call: Call, body: str) -> Response:
    """The page with its ETag (304 when the browser or the CDN has it) and the strict CSP."""
    import hashlib

    tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {
        "Content-Type": HTML,
        "Cache-Control": PAGE_CACHE,
        "ETag": tag,
        "Vary": "Accept-Language",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": csp.content_security_policy(body),
    }
    if call.request.headers.get("if-none-match") == tag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=200, headers=headers)


def _shown() -> Published:
    return registry.published(bootstrap.subprocessor_changes(), bootstrap.clock().now())


def _page(
    call: Call, template: str, path: str, locale: str, shown: Published, **context: Any
) -> Response:
    """`template` with what every legal page shows (header, language switcher, dates, the
    upcoming changes) and `context`."""
    t = legal_words.words(locale)
    base = get_settings().public_base_url.rstrip("/")
    languages = [
        {
            "locale": other,
            "label": label,
            "url": f"{path}?lang={other}",
            "absolute_url": f"{base}{path}?lang={other}",
        }
        for other, label in legal_words.LANGUAGES.items()
    ]
    body = render.render_page(
        template,
        locale=locale,
        t=t,
        title=t["changelog_title" if path == CHANGELOG_PATH else "title"],
        canonical=f"{base}{path}?lang={locale}",
        languages=languages,
        english_url=f"{path}?lang=en",
        list_url=f"{LIST_PATH}?lang={locale}",
        changelog_url=f"{CHANGELOG_PATH}?lang={locale}",
        subscribe_url=SUBSCRIBE_PATH,
        last_updated_iso=shown.view.last_updated.date().isoformat(),
        last_updated_text=_date(shown.view.last_updated, locale),
        upcoming=[_change(c, shown.providers, locale, True) for c in shown.view.upcoming],
        **context,
    )
    return _send(call, body)


@operation(
    bp,
    "GET",
    LIST_PATH,
    summary="The sub-processor list (HTML, English or French)",
    tag="legal",
    auth=False,
    produces=HTML,
    page_query="LegalPageQuery",
    description="Helptal's sub-processors by category (name, location, purpose, whether "
    "each processes Workspace content), where data is stored, the notice and objection "
    "terms, the upcoming changes with their effective dates, the integrations that are not "
    "sub-processors, and a form posting `email` and `lang` to "
    f"`{SUBSCRIBE_PATH}`. `?lang=en|fr`, else Accept-Language; the English text is "
    "authoritative. The same as JSON: `GET /v1/public/subprocessors`.",
)
def legal_subprocessors_page(call: Call) -> Response:
    locale, shown = _locale(call), _shown()
    return _page(
        call,
        "legal/list.html",
        LIST_PATH,
        locale,
        shown,
        categories=_categories(shown, locale),
        integrations=_integrations(shown, locale),
    )


@operation(
    bp,
    "GET",
    CHANGELOG_PATH,
    summary="The sub-processor changelog (HTML, English or French)",
    tag="legal",
    auth=False,
    produces=HTML,
    page_query="LegalPageQuery",
    description="Additions, replacements and removals of sub-processors with the date each "
    "took effect (the last 24 months at least, newest first), after the announced changes "
    "not yet in force. The same as JSON: `GET /v1/public/subprocessors/changelog`.",
)
def legal_subprocessors_changelog_page(call: Call) -> Response:
    locale, shown = _locale(call), _shown()
    return _page(
        call,
        "legal/changelog.html",
        CHANGELOG_PATH,
        locale,
        shown,
        changelog=[_change(c, shown.providers, locale, False) for c in shown.view.changelog],
        published_text=_date(seed.SEED_DATE, locale),
    )
