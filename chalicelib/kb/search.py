"""Searching a workspace's knowledge base (agents: internal articles too; the public help
centre and the chat widget: published only), and remembering the searches that found
nothing useful (content gaps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.kb.indexing import IndexCache

if TYPE_CHECKING:
    from chalicelib.accounts.model import Principal
    from chalicelib.ai.ports import Passage
    from chalicelib.kb.embedder import Embedder
    from chalicelib.kb.passage_index import Hit, KbIndex


class SearchGaps(Protocol):
    def record(self, workspace_id: str, folded_query: str, query: str, at: datetime) -> None: ...
    def top(self, workspace_id: str, limit: int) -> list[tuple[str, int, datetime | None]]: ...


EmbedderFor = Callable[[str], "Embedder | None"]
CONTENT_GAPS_SHOWN = 50


def content_gaps(
    gaps: SearchGaps, principal: Principal, limit: int = CONTENT_GAPS_SHOWN
) -> list[tuple[str, int, datetime | None]]:
    """The caller's workspace's searches that found nothing useful, most frequent first:
    (query, searches, last searched at)."""
    return gaps.top(principal.workspace_id, limit)


def _query_embedding(
    index: KbIndex, embedder_for: EmbedderFor | None, workspace_id: str, query: str
) -> Any:
    """The query's vector (one provider call) when the index has vectors; None without an
    embedder (AI off: asked only when the index has vectors), or when the provider fails:
    the words still find articles."""
    from chalicelib.errors import ProviderRejected, ProviderUnavailable

    if embedder_for is None or not index.has_embeddings or not query.strip():
        return None
    embedder = embedder_for(workspace_id)
    if embedder is None:
        return None
    try:
        return embedder.embed([query])[0]
    except (ProviderUnavailable, ProviderRejected):
        return None


def search_kb(
    cache: IndexCache,
    gaps: SearchGaps,
    workspace_id: str,
    query: str,
    locale: str | None,
    limit: int,
    include_internal: bool,
    now: datetime,
    embedder_for: EmbedderFor | None = None,
) -> list[Hit]:
    """Best article per hit; a search with no or weak results is recorded as a content gap.
    Hybrid (the query embedded by the workspace's embedder: one provider call) when its
    index has vectors and AI is on; lexical otherwise, or when the provider fails.
    Calls: one GetItem (index version), an S3 read when the index changed, one UpdateItem
    for a gap."""
    from chalicelib.kb.passage_index import is_weak

    index = cache.get(workspace_id)
    if index is None:
        hits = []
    else:
        hits = index.search(
            query,
            locale=locale,
            limit=limit,
            include_internal=include_internal,
            query_embedding=_query_embedding(index, embedder_for, workspace_id, query),
        )
    if is_weak(hits):
        folded = " ".join(query.lower().split())
        if folded:
            gaps.record(workspace_id, folded, query.strip(), now)
    return hits


ARTICLE_CHARS = 6000  # of each article given to the model (about 1,500 tokens)


def excerpt(body: str, limit: int = ARTICLE_CHARS) -> str:
    """The article's Markdown up to `limit` characters, cut at a paragraph (or word) end."""
    if len(body) <= limit:
        return body.strip()
    cut = body[:limit]
    end = cut.rfind("\n\n")
    if end < limit // 2:
        end = cut.rfind(" ")
    return cut[: end if end > 0 else limit].rstrip() + " …"


class KnowledgePassages:
    """The knowledge base as the AI teammate's source: the published articles that best
    match a conversation, each given whole (up to `ARTICLE_CHARS`), so that an answer is not
    cut off at a passage's edge and the prompt's stable part is long enough to be cached.
    Internal articles are left out: the customer could not open a link to them.  Not
    recorded as a content gap: no one typed this query.  Calls: the index (cached) and one
    GetItem per article."""

    def __init__(
        self,
        cache: IndexCache,
        embedder_for: EmbedderFor,
        articles: Callable[[str, str], Any],
    ) -> None:
        self._cache = cache
        self._embedder_for = embedder_for
        self._articles = articles  # (workspace id, article id) -> Article | None

    def passages(
        self, workspace_id: str, query: str, locale: str | None, limit: int
    ) -> list[Passage]:
        from chalicelib.ai.ports import Passage
        from chalicelib.kb.model import ArticleStatus

        index = self._cache.get(workspace_id)
        if index is None or not query.strip():
            return []
        hits = index.search(
            query,
            locale=locale,
            limit=limit,
            include_internal=False,
            query_embedding=_query_embedding(index, self._embedder_for, workspace_id, query),
        )
        passages = []
        for hit in hits:
            article = self._articles(workspace_id, hit.article_id)
            if article is None or article.status is not ArticleStatus.PUBLISHED:
                continue  # changed since the index was built
            passages.append(
                Passage(
                    article_id=hit.article_id,
                    title=article.title,
                    url=hit.url,
                    text=excerpt(article.body),
                )
            )
        return passages
