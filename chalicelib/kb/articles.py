"""Help articles: writing, publishing, versions and restoring them, slugs and translations.

Every save (creation included) is kept as a numbered version; the article item carries the
number of its latest version, which is also its optimistic lock.  A change of slug keeps the
old one pointing at the article (a redirect).  Whenever what the search index should hold
changes, an event goes on the events queue (see `_announce`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from chalicelib.accounts.model import Principal
from chalicelib.concurrency import retry_stale
from chalicelib.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.model import (
    LOCALES,
    Article,
    ArticlePage,
    ArticleStatus,
    ArticleVersion,
    SlugTarget,
    Translation,
    VersionPage,
)
from chalicelib.kb.ports import SlugTaken, StaleArticle, TranslationExists
from chalicelib.kb.render import render_markdown
from chalicelib.tickets.lifecycle import normalise_tags

T = TypeVar("T")

WRITE_ATTEMPTS = 5
MAX_SLUG_CHARS = 80
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

ARTICLE_PUBLISHED = "article.published"
ARTICLE_UNPUBLISHED = "article.unpublished"
ARTICLE_DELETED = "article.deleted"


def _retrying(write: Callable[[], T]) -> T:
    return retry_stale(
        write,
        (StaleArticle,),
        Conflict("The article is being changed by others; try again.", code="article_busy"),
        WRITE_ATTEMPTS,
    )


def slugify(title: str) -> str:
    """`How do I reset my password?` → `how-do-i-reset-my-password` (accents dropped)."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:MAX_SLUG_CHARS].strip("-")
    return slug or "article"


def _checked_slug(slug: str) -> str:
    if len(slug) > MAX_SLUG_CHARS or not SLUG_PATTERN.match(slug):
        raise ValidationFailed(
            "A slug is lower-case letters, digits and single hyphens (at most 80).",
            details=[{"field": "slug", "message": "lower-case letters, digits and hyphens"}],
        )
    return slug


def _checked_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationFailed(
            f"Articles are written in {', '.join(LOCALES)}.",
            details=[{"field": "locale", "message": "unsupported locale"}],
        )
    return locale


def _checked_body(deps: KbDeps, body: str) -> str:
    if len(body) > deps.policy.max_body_chars:
        raise ValidationFailed(
            f"An article body has at most {deps.policy.max_body_chars} characters.",
            details=[{"field": "body", "message": "too long"}],
        )
    return body


# Each article and version item holds the Markdown and its HTML: both under DynamoDB's 400 KB.
ARTICLE_TEXT_MAX_BYTES = 360_000


def preview(body: str) -> str:
    """The HTML the help centre would show for `body` (nothing stored): the editor's live
    preview.  413 `article_too_large` as on save."""
    return _rendered(body)


def _rendered(body: str) -> str:
    """The body's HTML; 413 `article_too_large` when the body and its HTML would not fit in
    one item (Markdown that renders much larger than it is written)."""
    html = render_markdown(body)
    size = len(body.encode("utf-8")) + len(html.encode("utf-8"))
    if size > ARTICLE_TEXT_MAX_BYTES:
        raise PayloadTooLarge(
            f"The article is too large to keep: {size} bytes with its HTML form, at most "
            f"{ARTICLE_TEXT_MAX_BYTES} (UTF-8 bytes). Shorten the body.",
            code="article_too_large",
        )
    return html


def _tags(tags: list[str]) -> list[str]:
    try:
        return normalise_tags(tags)
    except ValidationFailed as e:
        raise ValidationFailed(e.message, details=[{"field": "tags", "message": e.message}]) from e


def _checked_category(deps: KbDeps, workspace_id: str, category_id: str | None) -> None:
    if category_id is not None and (
        len(category_id) != 26 or deps.store.get_category(workspace_id, category_id) is None
    ):
        raise ValidationFailed(
            "No such category in this workspace.",
            code="unknown_category",
            details=[{"field": "category_id", "message": "no such category"}],
        )


def _slug_taken(locale: str, slug: str) -> Conflict:
    return Conflict(
        f"Another article uses (or used) the slug {slug!r} in {locale!r}.",
        code="article_slug_taken",
    )


def _version_of(article: Article, number: int) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id,
        number=number,
        title=article.title,
        body=article.body,
        html=article.html,
        slug=article.slug,
        status=article.status,
        category_id=article.category_id,
        tags=list(article.tags),
        saved_by=article.updated_by,
        saved_at=article.updated_at,
    )


def _announce(deps: KbDeps, before: Article | None, after: Article | None) -> None:
    """Tells the search index what changed (best effort, after the write):
    `article.published` when the article is searchable (published, or internal: agents and
    the AI search those too) after a save, `article.unpublished` when a save took it out
    (back to draft), `article.deleted` when a searchable article was deleted.  Payload:
    `article_id`, `locale` and the `status` it now has."""
    was = before is not None and before.status.searchable
    if after is not None and after.status.searchable:
        event = ARTICLE_PUBLISHED
    elif after is not None and was:
        event = ARTICLE_UNPUBLISHED
    elif after is None and was:
        event = ARTICLE_DELETED
    else:
        return
    article = after or before
    if article is None:  # neither before nor after: nothing happened to announce
        return
    deps.events.publish(
        event,
        article.workspace_id,
        {
            "article_id": article.id,
            "locale": article.locale,
            "status": after.status.value if after else "deleted",
        },
    )


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    body: str
    locale: str = "en"
    slug: str | None = None  # default: made from the title
    status: ArticleStatus = ArticleStatus.DRAFT
    category_id: str | None = None
    tags: list[str] | None = None
    translation_of: str | None = None  # an article this one translates


def create_article(deps: KbDeps, principal: Principal, draft: ArticleDraft) -> Article:
    """Writes the article and its version 1, claiming its slug in its locale (409 when
    taken) and its locale in the translation group (409 when that article already has a
    translation in this locale).  Publishes `article.published` when created searchable."""
    workspace_id = principal.workspace_id
    locale = _checked_locale(draft.locale)
    body = _checked_body(deps, draft.body)
    slug = _checked_slug(draft.slug) if draft.slug else slugify(draft.title)
    _checked_category(deps, workspace_id, draft.category_id)
    article_id = new_id()
    group = article_id
    if draft.translation_of is not None:
        original = get_article(deps, workspace_id, draft.translation_of)
        group = original.translation_group
    now = deps.clock.now()
    article = Article(
        id=article_id,
        workspace_id=workspace_id,
        translation_group=group,
        locale=locale,
        slug=slug,
        title=draft.title.strip(),
        body=body,
        html=_rendered(body),
        status=draft.status,
        category_id=draft.category_id,
        tags=_tags(draft.tags or []),
        author=principal.actor,
        updated_by=principal.actor,
        created_at=now,
        updated_at=now,
        version=1,
    )
    try:
        deps.store.create_article(article, _version_of(article, 1))
    except SlugTaken as e:
        raise _slug_taken(locale, slug) from e
    except TranslationExists as e:
        raise Conflict(
            f"This article already has a translation in {locale!r}.",
            code="translation_exists",
        ) from e
    except StaleArticle as e:
        raise Conflict("The article could not be created; try again.", code="article_busy") from e
    _announce(deps, None, article)
    return article


def get_article(deps: KbDeps, workspace_id: str, article_id: str) -> Article:
    """404 for an id of another workspace (or none at all)."""
    article = deps.store.get_article(workspace_id, article_id) if len(article_id) == 26 else None
    if article is None:
        raise NotFound("No such article.", code="article_not_found")
    return article


def translations_of(deps: KbDeps, article: Article) -> list[Translation]:
    """The other locales of the article (one Query)."""
    return [
        t
        for t in deps.store.translations(article.workspace_id, article.translation_group)
        if t.article_id != article.id
    ]


def list_articles(
    deps: KbDeps,
    workspace_id: str,
    status: ArticleStatus | None,
    locale: str | None,
    category_id: str | None,
    cursor: str | None,
    limit: int,
) -> ArticlePage:
    """By status, locale, then newest update first (one Query)."""
    return deps.store.list_articles(workspace_id, status, locale, category_id, cursor, limit)


def find_by_slug(deps: KbDeps, workspace_id: str, locale: str, slug: str) -> SlugTarget:
    """The article a slug leads to; `redirect` when it is an old slug."""
    target = deps.store.find_slug(workspace_id, locale, slug)
    if target is None:
        raise NotFound("No article has this slug.", code="article_not_found")
    return target


@dataclass(frozen=True)
class ArticleChanges:
    title: str | None = None
    body: str | None = None
    slug: str | None = None
    status: ArticleStatus | None = None
    category_id: str | None = None
    clear_category: bool = False
    tags: list[str] | None = None


def _save(
    deps: KbDeps, principal: Principal, current: Article, changed: Article
) -> tuple[Article, bool]:
    """Writes `changed` as the next version of `current` (nothing when nothing changed)."""
    if changed == current:
        return current, False
    number = current.version + 1
    saved = replace(
        changed, version=number, updated_by=principal.actor, updated_at=deps.clock.now()
    )
    try:
        deps.store.save_article(current, saved, _version_of(saved, number))
    except SlugTaken as e:
        raise _slug_taken(saved.locale, saved.slug) from e
    return saved, True


def update_article(
    deps: KbDeps, principal: Principal, article_id: str, changes: ArticleChanges
) -> Article:
    """Applies the changes to the current article as a new version (re-read and retried on
    a concurrent change); 409 when the new slug is another article's, 404 when gone.
    Publishes an event when the article is or was searchable (see `_announce`)."""
    workspace_id = principal.workspace_id
    body = _checked_body(deps, changes.body) if changes.body is not None else None
    html = _rendered(body) if body is not None else None
    slug = _checked_slug(changes.slug) if changes.slug is not None else None
    tags = _tags(changes.tags) if changes.tags is not None else None
    if changes.category_id is not None:
        _checked_category(deps, workspace_id, changes.category_id)

    def write() -> tuple[Article, Article, bool]:
        current = get_article(deps, workspace_id, article_id)
        changed = replace(
            current,
            title=changes.title.strip() if changes.title is not None else current.title,
            body=body if body is not None else current.body,
            html=html if html is not None else current.html,
            slug=slug or current.slug,
            status=changes.status or current.status,
            category_id=None
            if changes.clear_category
            else changes.category_id or current.category_id,
            tags=tags if tags is not None else current.tags,
        )
        saved, wrote = _save(deps, principal, current, changed)
        return current, saved, wrote

    before, after, wrote = _retrying(write)
    if wrote:
        _announce(deps, before, after)
    return after


def delete_article(deps: KbDeps, workspace_id: str, article_id: str) -> None:
    """Deletes the article, its versions and its slugs (which become free); 404 when gone.
    Publishes `article.deleted` when it was searchable."""

    def write() -> Article:
        article = get_article(deps, workspace_id, article_id)
        deps.store.delete_article(article)
        return article

    _announce(deps, _retrying(write), None)


def list_versions(
    deps: KbDeps, workspace_id: str, article_id: str, cursor: str | None, limit: int
) -> VersionPage:
    """Newest first; 404 for an article of another workspace."""
    get_article(deps, workspace_id, article_id)
    return deps.store.list_versions(workspace_id, article_id, cursor, limit)


def restore_version(deps: KbDeps, principal: Principal, article_id: str, number: int) -> Article:
    """Saves the title, body, category and tags of version `number` as a new version.  The
    slug and status stay as they are now (restoring old text never unpublishes, nor takes
    back a slug); 404 when there is no such version."""
    workspace_id = principal.workspace_id
    get_article(deps, workspace_id, article_id)
    version = deps.store.get_version(workspace_id, article_id, number) if number > 0 else None
    if version is None:
        raise NotFound("The article has no such version.", code="version_not_found")
    category_id = version.category_id
    if category_id is not None and deps.store.get_category(workspace_id, category_id) is None:
        category_id = None  # deleted since

    def write() -> tuple[Article, Article, bool]:
        current = get_article(deps, workspace_id, article_id)
        changed = replace(
            current,
            title=version.title,
            body=version.body,
            html=_rendered(version.body),
            category_id=category_id,
            tags=list(version.tags),
        )
        saved, wrote = _save(deps, principal, current, changed)
        return current, saved, wrote

    before, after, wrote = _retrying(write)
    if wrote:
        _announce(deps, before, after)
    return after
