"""Keeping a workspace's knowledge-base search index current, and loading it for queries.

The index is `SHARDS` segments (chalicelib/kb/index_segments.py) named by a manifest (the
workspace's index pointer item). A change to some articles rewrites the segments of their
shards only: the shard's other articles are neither chunked nor embedded again, and a passage
whose content hash the old segment holds keeps its vector. A new manifest version then names
the new segments (a conditional write: two updates of one workspace never lose each other's
change) and the segments it replaced are deleted.

A container keeps the indexes it loaded with their segments; when the manifest's version
changes it reads only the segments it does not hold: one GetItem per query, plus one S3 read
per changed segment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.model import Article, ArticleStatus

if TYPE_CHECKING:
    from chalicelib.kb.embedder import Embedder
    from chalicelib.kb.index_segments import IndexedArticle, SearchableArticle, Segment
    from chalicelib.kb.passage_index import KbIndex

MAX_INDEXED_ARTICLES = 20_000
PAGE = 100
MAX_ATTEMPTS = 5  # of an update racing another update of the same workspace
SEARCHABLE = (ArticleStatus.PUBLISHED, ArticleStatus.INTERNAL)


@dataclass(frozen=True)
class IndexManifest:
    """Which segment holds each shard (None: no article); `version` changes with every update.
    `segments` is empty for an index written in an older format (rebuilt on the next change)."""

    version: str
    embedding_model: str | None
    segments: tuple[str | None, ...]


class StaleIndex(Exception):
    """The manifest changed since it was read (another update won)."""


class SegmentGone(Exception):
    """A segment named by a manifest read earlier was replaced and deleted since."""


class IndexStore(Protocol):
    def manifest(self, workspace_id: str) -> IndexManifest | None: ...
    def load_segment(self, workspace_id: str, name: str) -> bytes:
        """Raises SegmentGone when there is no such segment (any more)."""

    def save_segment(self, workspace_id: str, name: str, blob: bytes) -> None: ...
    def switch(self, workspace_id: str, manifest: IndexManifest, replacing: str | None) -> None:
        """Makes `manifest` current if the current version is still `replacing` (None: no
        manifest yet); raises StaleIndex otherwise."""

    def delete_segment(self, workspace_id: str, name: str) -> None: ...


def searchable_articles(kb: KbDeps, workspace_id: str) -> list[Article]:
    """Every published and internal article of the workspace (all locales), bounded."""
    found: list[Article] = []
    for status in SEARCHABLE:
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


def _searchable(article: Article) -> SearchableArticle:
    from chalicelib.kb.index_segments import SearchableArticle

    return SearchableArticle(
        id=article.id,
        title=article.title,
        body=article.body,
        url=article_path(article),
        locale=article.locale,
        status=article.status.value,
        version=article.version,
    )


def update_index(
    kb: KbDeps,
    indexes: IndexStore,
    workspace_id: str,
    embedder: Embedder | None = None,
    article_ids: Iterable[str] | None = None,
) -> IndexManifest:
    """Brings the index up to date with the articles `article_ids` (None: every article; so
    too when the index has none yet, or vectors of another model than `embedder`'s). Only
    articles whose content differs from what the index holds (a fingerprint of title, body,
    path, locale and status, kept with each article) are chunked, and only passages
    whose content hash their shard's segment lacks are embedded (external calls). Lexical
    only while the workspace has AI off (no embedder: no content leaves).
    Reads one GetItem per article given (else the article list), the segments of their
    shards; writes the changed segments, the manifest, deletes the replaced segments."""
    from chalicelib.kb.index_segments import SHARDS, shard_of

    given = None if article_ids is None else set(article_ids)
    model = embedder.model if embedder is not None else None
    for _ in range(MAX_ATTEMPTS):
        read = indexes.manifest(workspace_id)
        current = read if read is not None and read.segments else None
        whole = given is None or current is None or current.embedding_model != model
        touched: set[str] | None = None if whole else given
        if touched is None:
            found = {a.id: a for a in searchable_articles(kb, workspace_id)}
            shards: Iterable[int] = range(SHARDS)
        else:
            found = {}
            for article_id in touched:
                article = kb.store.get_article(workspace_id, article_id)
                if article is not None and article.status in SEARCHABLE:
                    found[article_id] = article
            shards = sorted({shard_of(article_id) for article_id in touched})
        try:
            changed = {
                shard: _shard_after(indexes, workspace_id, current, shard, found, touched, embedder)
                for shard in shards
            }
        except SegmentGone:
            continue  # another update replaced a segment we read: start again
        replaced = {
            shard: segment
            for shard, segment in changed.items()
            if (segment.name if segment else None) != (current.segments[shard] if current else None)
        }
        if current is not None and not replaced and current.embedding_model == model:
            return current
        for segment in replaced.values():
            if segment is not None:
                indexes.save_segment(workspace_id, segment.name, segment.to_bytes())
        names: list[str | None] = list(current.segments) if current else [None] * SHARDS
        for shard, segment in replaced.items():
            names[shard] = segment.name if segment else None
        manifest = IndexManifest(new_id(), model, tuple(names))
        try:
            indexes.switch(workspace_id, manifest, read.version if read else None)
        except StaleIndex:
            continue
        for shard in replaced:
            old = current.segments[shard] if current else None
            if old is not None:
                indexes.delete_segment(workspace_id, old)
        return manifest
    raise StaleIndex(f"the index of {workspace_id} kept changing during {MAX_ATTEMPTS} updates")


def _shard_after(
    indexes: IndexStore,
    workspace_id: str,
    current: IndexManifest | None,
    shard: int,
    found: dict[str, Article],
    touched: set[str] | None,
    embedder: Embedder | None,
) -> Segment | None:
    """The shard's segment once `found` is applied (None: no article left in it). With
    `touched` None, `found` is every article; otherwise the shard's articles not touched stay
    as they are, and touched ones not found (deleted, unpublished) leave."""
    from chalicelib.kb.index_segments import (
        Segment,
        build_segment,
        fingerprint_of,
        index_article,
        shard_of,
    )

    name = current.segments[shard] if current else None
    previous = Segment.from_bytes(indexes.load_segment(workspace_id, name)) if name else None
    held = {a.id: a for a in previous.indexed_articles()} if previous else {}
    mine = {article_id: a for article_id, a in found.items() if shard_of(article_id) == shard}
    entries: list[IndexedArticle] = []
    if touched is not None:
        entries = [a for article_id, a in held.items() if article_id not in touched]
    for article_id, article in mine.items():
        searchable = _searchable(article)
        old = held.get(article_id)
        if old is not None and old.fingerprint == fingerprint_of(searchable):
            # Same content: neither chunked nor embedded again (a newer version number, from a
            # save that changed tags or category only, is recorded).
            entries.append(replace(old, version=article.version))
        else:
            entries.append(index_article(searchable))
    if not entries:
        return None
    return build_segment(shard, entries, embedder, previous)


@dataclass
class _Loaded:
    version: str
    index: KbIndex
    segments: dict[str, Segment] = field(default_factory=dict)


class IndexCache:
    """Indexes loaded by this container, by workspace, with their segments: a new manifest
    version costs the reads of the segments it changed only."""

    def __init__(
        self,
        indexes: IndexStore,
        capacity: int = 64,
        readers: int = 8,
        on_outdated: Callable[[str], None] | None = None,
    ) -> None:
        self._indexes = indexes
        self._capacity = capacity
        self._readers = readers
        # Asked (once per workspace and container) to have an index of an older format rebuilt.
        self._on_outdated = on_outdated
        self._outdated_reported: set[str] = set()
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def get(self, workspace_id: str) -> KbIndex | None:
        """The workspace's current index, or None when it has none (or one of an older format,
        reported to `on_outdated` for a rebuild). One GetItem; S3 reads of the segments this
        container does not hold yet."""
        from chalicelib.kb.passage_index import KbIndex

        for _ in range(MAX_ATTEMPTS):
            manifest = self._indexes.manifest(workspace_id)
            if manifest is not None and not manifest.segments:
                self._report_outdated(workspace_id)
                return None
            if manifest is None or not any(manifest.segments):
                return None
            with self._lock:
                loaded = self._loaded.get(workspace_id)
            if loaded is not None and loaded.version == manifest.version:
                return loaded.index
            try:
                segments = self._segments(workspace_id, manifest, loaded)
            except SegmentGone:
                continue  # replaced since the manifest was read
            index = KbIndex(segments.values(), manifest.version)
            with self._lock:
                self._loaded.pop(workspace_id, None)
                if len(self._loaded) >= self._capacity:
                    self._loaded.pop(next(iter(self._loaded)))
                self._loaded[workspace_id] = _Loaded(manifest.version, index, segments)
            return index
        raise SegmentGone(f"the index of {workspace_id} kept changing while being read")

    def _report_outdated(self, workspace_id: str) -> None:
        with self._lock:
            if self._on_outdated is None or workspace_id in self._outdated_reported:
                return
            self._outdated_reported.add(workspace_id)
        self._on_outdated(workspace_id)

    def _segments(
        self, workspace_id: str, manifest: IndexManifest, loaded: _Loaded | None
    ) -> dict[str, Segment]:
        from chalicelib.kb.index_segments import Segment

        held = loaded.segments if loaded is not None else {}
        names = [name for name in manifest.segments if name]
        missing = [name for name in names if name not in held]

        def read(name: str) -> Segment:
            return Segment.from_bytes(self._indexes.load_segment(workspace_id, name))

        if len(missing) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(self._readers, len(missing))) as pool:
                fresh = dict(zip(missing, pool.map(read, missing), strict=True))
        else:
            fresh = {name: read(name) for name in missing}
        return {name: held[name] if name in held else fresh[name] for name in names}
