"""What the public help centre shows: only published articles of one workspace, found by
its slug or by a verified custom domain; never drafts, internal articles or another
workspace's content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.accounts.ports import AccountsStore
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.helpcentre_settings import current
from chalicelib.kb.helpcentre_site import HelpCentreSettings, Site, category_slug
from chalicelib.kb.model import LOCALES, Article, ArticleStatus, Category

ARTICLES_PER_SECTION = 10
HOME_ARTICLES_READ = 500
MAX_CATEGORY_ARTICLES = 100


class HelpCentreStore(Protocol):
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None: ...
    def workspace_of_domain(self, host: str) -> str | None: ...


class ArticleFeedback(Protocol):
    def record_vote(
        self, workspace_id: str, article_id: str, visitor: str, helpful: bool, now: int
    ) -> bool:
        """Counts the vote unless this visitor voted on this article in the last day."""

    def feedback(self, workspace_id: str, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes of an article."""


def site_by_slug(
    accounts: AccountsStore, store: HelpCentreStore, slug: str, public_base_url: str
) -> Site | None:
    workspace = accounts.find_workspace_by_slug(slug)
    if workspace is None:
        return None
    settings = current(store, workspace.id, workspace.name, workspace.locale)
    return Site(
        workspace.id,
        workspace.slug,
        settings,
        f"{public_base_url.rstrip('/')}/hc/{workspace.slug}",
        formality=workspace.formality,
    )


def site_by_host(
    accounts: AccountsStore, store: HelpCentreStore, host: str, scheme: str = "https"
) -> Site | None:
    """The help centre served at `/` of a verified custom domain; None for any other host.
    Links are built from the verified name, keeping only a numeric port (local development)
    and an http(s) scheme: nothing else from the request's headers reaches a link."""
    name, _, port = host.strip().lower().partition(":")
    name = name.rstrip(".")
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    if scheme not in ("http", "https"):
        scheme = "https"
    workspace_id = store.workspace_of_domain(name) if name else None
    if workspace_id is None:
        return None
    workspace = accounts.get_workspace(workspace_id)
    settings = store.get_settings(workspace_id)
    if (
        workspace is None
        or settings is None
        or not settings.domain_verified
        or settings.custom_domain != name
    ):
        return None
    return Site(
        workspace.id,
        workspace.slug,
        settings,
        f"{scheme}://{name}{':' + port if port else ''}",
        formality=workspace.formality,
    )


@dataclass(frozen=True)
class Section:
    category: Category | None
    articles: list[Article]


def home_sections(kb: KbDeps, site: Site, locale: str) -> list[Section]:
    """One section per category with published articles in `locale` (most recently updated
    first), in the categories' order, then the articles in no category.  Reads the newest
    `HOME_ARTICLES_READ` published articles: one Query for the categories, at most five for
    the articles, however many categories there are."""
    categories = kb.store.list_categories(site.workspace_id)
    by_category: dict[str | None, list[Article]] = {}
    cursor: str | None = None
    read = 0
    while read < HOME_ARTICLES_READ:
        page = kb.store.list_articles(
            site.workspace_id, ArticleStatus.PUBLISHED, locale, None, cursor, 100
        )
        read += len(page.articles)
        for article in page.articles:
            shown = by_category.setdefault(article.category_id, [])
            if len(shown) < ARTICLES_PER_SECTION:
                shown.append(article)
        cursor = page.next_cursor
        if cursor is None:
            break
    known = {c.id for c in categories}
    sections = [Section(c, by_category[c.id]) for c in categories if by_category.get(c.id)]
    others = [a for cid, found in by_category.items() if cid not in known for a in found]
    if others:  # no category, or one deleted meanwhile
        sections.append(Section(None, others[:ARTICLES_PER_SECTION]))
    return sections


def category_by_slug(kb: KbDeps, site: Site, slug: str, locale: str) -> Category | None:
    """The category with this slug in `locale`, else the one with it as its default slug
    (a link made before the category was translated)."""
    found = kb.store.list_categories(site.workspace_id)
    return next((c for c in found if category_slug(c, locale) == slug), None) or next(
        (c for c in found if category_slug(c) == slug), None
    )


def category_articles(kb: KbDeps, site: Site, locale: str, category: Category) -> list[Article]:
    return kb.store.list_articles(
        site.workspace_id, ArticleStatus.PUBLISHED, locale, category.id, None, MAX_CATEGORY_ARTICLES
    ).articles


@dataclass(frozen=True)
class ArticleLookup:
    article: Article | None
    redirect_to: str | None = None  # the current URL when an old slug was asked for


def published_article(kb: KbDeps, site: Site, locale: str, slug: str) -> ArticleLookup:
    if locale not in LOCALES:
        return ArticleLookup(None)
    target = kb.store.find_slug(site.workspace_id, locale, slug)
    if target is None:
        return ArticleLookup(None)
    article = target.article
    if article.status is not ArticleStatus.PUBLISHED:
        return ArticleLookup(None)
    if target.redirect:
        return ArticleLookup(article, site.article(article.locale, article.slug))
    return ArticleLookup(article)


def published_translations(kb: KbDeps, site: Site, article: Article) -> list[Article]:
    """The article in every locale it is published in (itself included)."""
    found = []
    for translation in kb.store.translations(site.workspace_id, article.translation_group):
        other = (
            article
            if translation.article_id == article.id
            else kb.store.get_article(site.workspace_id, translation.article_id)
        )
        if other is not None and other.status is ArticleStatus.PUBLISHED:
            found.append(other)
    return sorted(found, key=lambda a: a.locale)


def published_articles(kb: KbDeps, site: Site, limit: int = 5000) -> list[Article]:
    found: list[Article] = []
    cursor: str | None = None
    while len(found) < limit:
        page = kb.store.list_articles(
            site.workspace_id, ArticleStatus.PUBLISHED, None, None, cursor, 100
        )
        found += page.articles
        cursor = page.next_cursor
        if not cursor:
            break
    return found[:limit]


def category_of(kb: KbDeps, site: Site, article: Article) -> Category | None:
    """The category a published article is filed in, if any."""
    if not article.category_id:
        return None
    return kb.store.get_category(site.workspace_id, article.category_id)


def record_feedback(
    feedback: ArticleFeedback, site: Site, article: Article, visitor: str, helpful: bool, now: int
) -> bool:
    """A visitor's "was this helpful?" vote on a published article of this site (one per
    visitor and article a day).  Returns whether it was counted."""
    return feedback.record_vote(site.workspace_id, article.id, visitor, helpful, now)


def feedback_of(feedback: ArticleFeedback, article: Article) -> tuple[int, int]:
    """(helpful, not helpful) votes of one of the caller's articles."""
    return feedback.feedback(article.workspace_id, article.id)
