"""The public help centre: its settings, its URLs, and the small documents around the pages
(sitemap, robots.txt, ETags).  Pure: the pages are assembled in
chalicelib/api/helpcentre_pages.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from chalicelib.accounts.slugs import slugify
from chalicelib.kb.model import LOCALES, Article, Category

DEFAULT_BRAND_COLOR = "#3553d6"
LOCALE_LABELS = {"en": "English", "fr": "Français"}


@dataclass(frozen=True)
class HelpCentreSettings:
    name: str
    brand_color: str = DEFAULT_BRAND_COLOR
    logo_url: str | None = None
    default_locale: str = "en"
    custom_domain: str | None = None
    domain_verified: bool = False


@dataclass(frozen=True)
class Site:
    """One help centre as a visitor reaches it: at /hc/<slug> or on its own domain."""

    workspace_id: str
    slug: str
    settings: HelpCentreSettings
    base_url: str  # https://help.acme.com or https://api.helptal.com/hc/acme
    locales: tuple[str, ...] = field(default=LOCALES)
    formality: str = "formal"  # the workspace's "vous" or "tu" in French

    def home(self, locale: str) -> str:
        return f"{self.base_url}/?lang={locale}"

    def article(self, locale: str, slug: str) -> str:
        return f"{self.base_url}/{locale}/articles/{quote(slug)}"

    def category(self, locale: str, category: Category) -> str:
        return f"{self.base_url}/{locale}/categories/{quote(category_slug(category, locale))}"

    def search(self) -> str:
        return f"{self.base_url}/search"

    def feedback(self, locale: str, slug: str) -> str:
        return f"{self.article(locale, slug)}/feedback"

    def sitemap(self) -> str:
        return f"{self.base_url}/sitemap.xml"

    def contact(self, locale: str) -> str:
        return f"{self.base_url}/{locale}/contact"

    def favicon(self) -> str:
        return f"{self.base_url}/favicon.svg"


def category_slug(category: Category, locale: str | None = None) -> str:
    """The category's slug in `locale`: its translation's own, or from its name there."""
    translation = category.translations.get(locale) if locale else None
    if translation is None:
        return slugify(category.name)
    return translation.slug or slugify(translation.name)


def favicon_svg(settings: HelpCentreSettings) -> str:
    """A square in the brand colour with the centre's initial, for sites without a logo."""
    initial = escape((settings.name.strip()[:1] or "?").upper())
    color = escape(settings.brand_color)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="7" fill="{color}"/>'
        '<text x="16" y="22.5" font-family="system-ui, sans-serif" font-size="18" '
        f'font-weight="700" text-anchor="middle" fill="#fff">{initial}</text></svg>'
    )


def etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'


def robots_txt(site: Site) -> str:
    return f"User-agent: *\nAllow: /\nSitemap: {site.sitemap()}\n"


def sitemap_xml(site: Site, articles: list[Article], translations: dict[str, list[Article]]) -> str:
    """Every published article, with `hreflang` alternates for its translations."""
    entries = []
    for article in articles:
        alternates = "".join(
            f'<xhtml:link rel="alternate" hreflang="{escape(other.locale)}" '
            f'href="{escape(site.article(other.locale, other.slug))}"/>'
            for other in translations.get(article.translation_group, [])
        )
        entries.append(
            f"<url><loc>{escape(site.article(article.locale, article.slug))}</loc>"
            f"<lastmod>{article.updated_at.date().isoformat()}</lastmod>{alternates}</url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">' + "".join(entries) + "</urlset>\n"
    )


def description_of(article: Article, limit: int = 160) -> str:
    """A plain-text summary of the article for `<meta name="description">`."""
    from chalicelib.mail.sanitize import html_to_text

    text = " ".join(html_to_text(article.html).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
