"""The knowledge-base entities: articles, their saved versions, and categories."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

LOCALES = ("en", "fr")


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    INTERNAL = "internal"  # agents and the AI only, never on the public help centre

    @property
    def searchable(self) -> bool:
        """Whether the search index holds the article in this status."""
        return self is not ArticleStatus.DRAFT


@dataclass(frozen=True)
class Article:
    """The current version of one article in one locale."""

    id: str
    workspace_id: str
    translation_group: str  # shared by the versions of one article in several locales
    locale: str
    slug: str
    title: str
    body: str  # Markdown, as written
    html: str  # the body rendered and sanitised (chalicelib.kb.render)
    status: ArticleStatus
    category_id: str | None
    tags: list[str]
    author: str  # actor who created it
    updated_by: str
    created_at: datetime
    updated_at: datetime
    version: int  # number of the latest saved version; also the optimistic lock


@dataclass(frozen=True)
class ArticleVersion:
    """What an article looked like after one save (version 1 is its creation)."""

    article_id: str
    number: int
    title: str
    body: str
    html: str
    slug: str
    status: ArticleStatus
    category_id: str | None
    tags: list[str]
    saved_by: str
    saved_at: datetime


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    next_cursor: str | None


@dataclass(frozen=True)
class VersionPage:
    versions: list[ArticleVersion]
    next_cursor: str | None


@dataclass(frozen=True)
class SlugTarget:
    """Where a slug leads: the article, and its current slug (differs for a redirect)."""

    article_id: str
    locale: str
    slug: str
    redirect: bool
    article: Article  # as read to resolve the slug (callers need not read it again)


@dataclass(frozen=True)
class Translation:
    locale: str
    article_id: str


@dataclass(frozen=True)
class CategoryTranslation:
    """A category's name, description and slug in one locale (slug empty: from the name)."""

    name: str
    description: str = ""
    slug: str = ""


@dataclass(frozen=True)
class Category:
    id: str
    workspace_id: str
    name: str
    description: str
    position: int  # categories are shown by position, then name
    created_at: datetime
    updated_at: datetime
    revision: int = 0
    # By locale; a locale without one shows the name and description above.
    translations: Mapping[str, CategoryTranslation] = field(default_factory=dict)

    def name_in(self, locale: str) -> str:
        translation = self.translations.get(locale)
        return translation.name if translation else self.name

    def description_in(self, locale: str) -> str:
        translation = self.translations.get(locale)
        if translation and translation.description:
            return translation.description
        return self.description
