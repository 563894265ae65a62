"""Keeping a workspace's knowledge-base search index current, and loading it for queries.

The index (chalicelib/kb/passage_index.py) is rebuilt from the workspace's published and
internal articles when one is published, changed, unpublished or deleted, written to S3 under
a new version, and a pointer item names the current version.  A container keeps the indexes
it loaded and reloads one only when its version changes: one GetItem per query."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.model import Article, ArticleStatus

if TYPE_CHECKING:
    from chalicelib.kb.embedder import Embedder
    from chalicelib.kb.passage_index import KbIndex

MAX_INDEXED_ARTICLES = 20_000
PAGE = 100


class IndexStore(Protocol):
    def current_version(self, workspace_id: str) -> str | None: ...
    def save(self, workspace_id: str, version: str, blob: bytes) -> None:
        """Stores the index, then points the workspace at it."""

    def load(self, workspace_id: str, version: str) -> bytes: ...


def searchable_articles(kb: KbDeps, workspace_id: str) -> list[Article]:
    """Every published and internal article of the workspace (all locales), bounded."""
    found: list[Article] = []
    for status in (ArticleStatus.PUBLISHED, ArticleStatus.INTERNAL):
        cursor: str | None = None
        while len(found) < MAX_INDEXED_ARTICLES:
            page = kb.store.list_articles(workspace_id, status, None, None, cursor, PAGE)
            found += page.articles
            cursor = page.next_cursor
            if not cursor:
                break
    return found[:MAX_INDEXED_ARTICLES]


def article_path(article: Article) -> str:
    """An article's path below its help centre's root (the root differs by address)."""
    return f"/{article.locale}/articles/{article.slug}"


def rebuild_index(
    kb: KbDeps, indexes: IndexStore, workspace_id: str, embedder: Embedder | None = None
) -> str:
    """Builds and stores a new index version; returns it.  Hits carry `article_path`, made
    absolute by whoever shows them.  Lexical only until the workspace has AI enabled (dense
    retrieval then adds an Embedder; no content leaves otherwise)."""
    from chalicelib.kb.passage_index import KbIndex, SearchableArticle

    articles = searchable_articles(kb, workspace_id)
    version = new_id()
    index = KbIndex.build(
        (
            SearchableArticle(
                id=a.id,
                title=a.title,
                body=a.body,
                url=article_path(a),
                locale=a.locale,
                status=a.status.value,
            )
            for a in articles
        ),
        embedder=embedder,
        version=version,
    )
    indexes.save(workspace_id, version, index.to_bytes())
    return version


@dataclass
class _Loaded:
    version: str
    index: KbIndex


class IndexCache:
    """Indexes loaded by this container, by workspace (reloaded when the version changes)."""

    def __init__(self, indexes: IndexStore, capacity: int = 64) -> None:
        self._indexes = indexes
        self._capacity = capacity
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def get(self, workspace_id: str) -> KbIndex | None:
        from chalicelib.kb.passage_index import KbIndex

        version = self._indexes.current_version(workspace_id)
        if version is None:
            return None
        with self._lock:
            loaded = self._loaded.get(workspace_id)
            if loaded is not None and loaded.version == version:
                return loaded.index
        index = KbIndex.from_bytes(self._indexes.load(workspace_id, version))
        with self._lock:
            if len(self._loaded) >= self._capacity:
                self._loaded.pop(next(iter(self._loaded)))
            self._loaded[workspace_id] = _Loaded(version, index)
        return index
