"""What the knowledge-base services need from storage and S3 (ports; adapters in
chalicelib/store/kb_repo.py)."""

from __future__ import annotations

from typing import Protocol

from chalicelib.kb.model import (
    Article,
    ArticlePage,
    ArticleStatus,
    ArticleVersion,
    Category,
    SlugTarget,
    Translation,
    VersionPage,
)


class SlugTaken(Exception):
    """Another article of the workspace holds (or held) this slug in this locale."""


class TranslationExists(Exception):
    """The translation group already has an article in this locale."""


class StaleArticle(Exception):
    """The article or category changed or went since it was read: read again and retry."""


class CategoryInUse(Exception):
    """Articles still belong to the category."""


class KnowledgeBaseStore(Protocol):
    """Persistence of articles, versions, slugs and categories; bounded calls each."""

    def create_article(self, article: Article, first: ArticleVersion) -> None:
        """Atomically: the article, its version 1, its slug claim and its translation claim.
        Raises SlugTaken, TranslationExists or StaleArticle (a concurrent write)."""

    def save_article(self, before: Article, after: Article, version: ArticleVersion) -> None:
        """Atomically writes `after` if still at `before.version`, adds `version`, and claims
        a new slug (old slugs keep pointing at the article).  Raises StaleArticle or
        SlugTaken."""

    def delete_article(self, article: Article) -> None:
        """Deletes the article (if still at its version), its slug claims, translation claim
        and versions.  Raises StaleArticle."""

    def get_article(self, workspace_id: str, article_id: str) -> Article | None: ...

    def list_articles(
        self,
        workspace_id: str,
        status: ArticleStatus | None,
        locale: str | None,
        category_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> ArticlePage: ...

    def get_version(
        self, workspace_id: str, article_id: str, number: int
    ) -> ArticleVersion | None: ...

    def list_versions(
        self, workspace_id: str, article_id: str, cursor: str | None, limit: int
    ) -> VersionPage:
        """Newest first."""

    def find_slug(self, workspace_id: str, locale: str, slug: str) -> SlugTarget | None:
        """The article a slug (current or old) leads to, if it still exists."""

    def translations(self, workspace_id: str, translation_group: str) -> list[Translation]: ...

    def create_category(self, category: Category) -> None: ...
    def get_category(self, workspace_id: str, category_id: str) -> Category | None: ...
    def list_categories(self, workspace_id: str) -> list[Category]:
        """At most 200, by position then name."""

    def save_category(self, before: Category, after: Category) -> None:
        """Raises StaleArticle when the category changed since `before`."""

    def delete_category(self, category: Category) -> None:
        """Raises CategoryInUse when an article still belongs to it, StaleArticle when it
        changed."""


class ImageStorage(Protocol):
    """Where article images go (S3)."""

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST: the URL and the form fields to send with the file."""

    def download_url(self, key: str, expires_seconds: int) -> str: ...
