"""Knowledge-base retrieval: BM25 over article passages, fused with dense vectors when present.

Pure code: a `KbIndex` is the union of a workspace's index segments
(chalicelib/kb/index_segments.py), put together in memory without copying their arrays, so a
container that holds an index and sees one segment change reads that segment only. numpy and
the stemmers are imported on first use, never at `import app` time
(docs/decisions/0002-lazy-imports-for-cold-start.md).

- Lexical: BM25 (Lucene's variant, k1 1.5, b 0.75) computed at query time from each segment's
  term counts and the statistics of the union (passages, mean length, document frequency), so
  the scores are those of one index over every passage. Each passage is indexed as title
  (repeated `TITLE_WEIGHT` times), heading and text, analysed per locale
  (chalicelib/kb/analysis.py).
- Dense: cosine similarity of the query vector with normalised passage vectors; an index whose
  segments have no vectors (or vectors of different models) searches lexically.
- Hybrid: normalised score fusion of the two article scores; it beat reciprocal rank fusion
  at every setting tried on the FAQ bench (`bench/kb_retrieval.py` prints both).
- Drafts are never indexed; internal articles are returned only with `include_internal=True`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.kb.analysis import WORD, analyse, language_of, marked, normalise
from chalicelib.kb.embedder import Embedder
from chalicelib.kb.index_segments import (
    SearchableArticle,
    Segment,
    build_segments,
    unit_rows,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["Fusion", "Hit", "KbIndex", "SearchableArticle", "is_weak"]

# BM25, Lucene's variant (as bm25s computes it).
BM25_K1 = 1.5
BM25_B = 0.75
# Reciprocal rank fusion constant (the usual 60) and how deep each ranking is read.
RRF_K = 60
FUSION_DEPTH = 100
# Normalised score fusion: share of the lexical score. 0.2 to 0.3 did best on the FAQ bench
# (0.5 and over, worse); 0.3 keeps exact words (error codes, product names) weighty.
LEXICAL_SHARE = 0.3
# A top hit that matches fewer than half of the query's words is a weak answer.
WEAK_COVERAGE = 0.5

Fusion = Literal["rrf", "score"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One article found, with its best passage (`highlighted_passage` is safe HTML)."""

    article_id: str
    title: str
    url: str
    passage: str
    highlighted_passage: str
    score: float
    heading: str = ""
    locale: str = ""
    internal: bool = False  # for agents only: no public URL opens it
    # Share of the query's words (after stemming) found in the title, heading or passage.
    coverage: float = 0.0


def is_weak(hits: Sequence[Hit]) -> bool:
    """True when a search found nothing, or its top hit covers under `WEAK_COVERAGE` of the
    query's words: such queries are recorded as content gaps."""
    return not hits or hits[0].coverage < WEAK_COVERAGE


class KbIndex:
    """A searchable snapshot of one workspace's visible articles (all locales): the union of
    its segments, in shard order."""

    def __init__(self, segments: Iterable[Segment], version: str = "") -> None:
        import numpy as np

        self.version = version
        self._segments = sorted((s for s in segments if s.passage_count), key=lambda s: s.shard)
        segments_ = self._segments
        self._articles = list(chain.from_iterable(s.articles for s in segments_))
        self._headings = list(chain.from_iterable(s.headings for s in segments_))
        self._passages = list(chain.from_iterable(s.texts for s in segments_))
        counts = np.concatenate([[0], *(s.article_passage_counts for s in segments_)])
        self._article_starts: Any = np.cumsum(counts, dtype=np.int64)[:-1]
        sizes = [s.passage_count for s in segments_]
        self._offsets = [0, *np.cumsum(sizes).tolist()]
        models = {s.embedding_model for s in segments_}
        self.embedding_model = models.pop() if len(models) == 1 else None
        total = sum(float(s.passage_lengths.sum()) for s in segments_)
        mean = total / len(self._passages) if self._passages else 1.0
        # The length part of BM25's denominator, per passage of each segment.
        self._length_norms = [
            BM25_K1 * (1 - BM25_B + BM25_B * s.passage_lengths / (mean or 1.0)) for s in segments_
        ]
        self._languages = sorted(set().union(*(s.languages for s in segments_)))
        self._internal: Any = np.concatenate([[False], *(s.internal for s in segments_)])[1:]
        self._locales: Any = (
            np.concatenate([s.locales for s in segments_]) if segments_ else np.array([])
        )
        self._language_masks: dict[str, Any] = {}

    @classmethod
    def build(
        cls,
        articles: Iterable[SearchableArticle],
        embedder: Embedder | None = None,
        version: str = "",
    ) -> KbIndex:
        """Chunk and index the published and internal articles (drafts are skipped). With an
        embedder, every passage is embedded too (external calls, in batches)."""
        return cls(build_segments(articles, embedder), version)

    @property
    def segments(self) -> list[Segment]:
        return list(self._segments)

    def __len__(self) -> int:
        return len(self._articles)

    @property
    def passage_count(self) -> int:
        return len(self._passages)

    @property
    def has_embeddings(self) -> bool:
        return self.embedding_model is not None

    def search(
        self,
        query: str,
        locale: str | None = None,
        limit: int = 10,
        include_internal: bool = False,
        query_embedding: Sequence[float] | None = None,
        *,
        fusion: Fusion = "score",
    ) -> list[Hit]:
        """The best `limit` articles for a query, one hit per article with its best passage.
        Hybrid when both a query embedding and passage vectors exist, lexical otherwise."""
        import numpy as np

        if not self._articles or not query.strip() or limit <= 0:
            return []
        visible = self._visible_articles(locale, include_internal)
        if not visible.any():
            return []
        starts = self._article_starts
        lexical = self._lexical_scores(query, locale)
        lexical_by_article = np.maximum.reduceat(lexical, starts)
        lexical_by_article[~visible] = 0.0

        dense = None
        dense_by_article = None
        if query_embedding is not None and self.has_embeddings:
            query_vector = np.asarray(query_embedding, dtype=np.float32)
            if query_vector.shape != (self._segments[0].vectors.shape[1],):
                raise ValueError("query embedding does not match the index's embedding size")
            unit = unit_rows(query_vector[None, :])[0]
            dense = np.zeros(len(self._passages), dtype=np.float32)
            for offset, segment in zip(self._offsets, self._segments, strict=False):
                # einsum, not BLAS: one thread, no thread spin-up jitter on a small Lambda CPU.
                dense[offset : offset + segment.passage_count] = np.einsum(
                    "ij,j->i", segment.vectors, unit
                )
            dense_by_article = np.maximum.reduceat(dense, starts)
            dense_by_article[~visible] = -np.inf

        if dense_by_article is None:
            ranked = _top(lexical_by_article, limit, minimum=0.0)
            scores = lexical_by_article
        elif fusion == "rrf":
            scores = _rrf(lexical_by_article, dense_by_article)
            ranked = _top(scores, limit, minimum=0.0)
        else:
            scores = _score_fusion(lexical_by_article, dense_by_article)
            ranked = _top(scores, limit, minimum=0.0)
        return [
            self._hit(int(article), float(scores[article]), query, lexical, dense)
            for article in ranked
        ]

    def _visible_articles(self, locale: str | None, include_internal: bool) -> Any:
        import numpy as np

        visible = np.ones(len(self._articles), dtype=bool)
        if not include_internal:
            visible &= ~self._internal
        if locale:
            visible &= self._locales == locale.lower()
        return visible

    def _lexical_scores(self, query: str, locale: str | None) -> Any:
        """BM25 score of every passage, each language's passages scored with its analyser."""
        import numpy as np

        scores = np.zeros(len(self._passages), dtype=np.float32)
        if not self._passages:
            return scores
        languages = [language_of(locale) or ""] if locale else self._languages
        for language in languages:
            terms = analyse(query, language or None)
            if not terms:
                continue
            language_scores = self._bm25(terms)
            if len(self._languages) == 1:
                return language_scores
            own = self._passage_language_mask(language)
            scores[own] = language_scores[own]
        return scores

    def _bm25(self, terms: list[str]) -> Any:
        """BM25 of every passage for these query terms (a repeated term counts again)."""
        import numpy as np

        scores = np.zeros(len(self._passages), dtype=np.float32)
        passages = len(self._passages)
        for term in terms:
            found = [segment.postings(term) for segment in self._segments]
            frequency = sum(len(holders) for holders, _ in found)
            if not frequency:
                continue
            idf = math.log(1 + (passages - frequency + 0.5) / (frequency + 0.5))
            for offset, norms, (holders, counts) in zip(
                self._offsets, self._length_norms, found, strict=False
            ):
                if len(holders):
                    tf = counts.astype(np.float64)
                    scores[offset + holders] += (idf * tf / (tf + norms[holders])).astype(
                        np.float32
                    )
        return scores

    def _passage_language_mask(self, language: str) -> Any:
        import numpy as np

        if language not in self._language_masks:
            by_article = np.fromiter(
                ((language_of(a.locale) or "") == language for a in self._articles), dtype=bool
            )
            counts = np.diff(np.append(self._article_starts, len(self._passages)))
            self._language_masks[language] = np.repeat(by_article, counts)
        return self._language_masks[language]

    def _hit(self, article: int, score: float, query: str, lexical: Any, dense: Any) -> Hit:
        import numpy as np

        entry = self._articles[article]
        first = int(self._article_starts[article])
        last = (
            int(self._article_starts[article + 1])
            if article + 1 < len(self._articles)
            else len(self._passages)
        )
        local = lexical[first:last].astype(np.float64)
        if local.max() > 0:
            local = local / local.max()
        if dense is not None:
            local = local + dense[first:last]
        best = first + int(np.argmax(local))
        language = language_of(entry.locale)
        query_terms = set(analyse(query, language))
        heading = self._headings[best]
        passage = self._passages[best]
        matches = list(WORD.finditer(passage))
        terms = normalise([match.group() for match in matches], language)
        found = set(analyse(f"{entry.title} {heading}", language)).union(terms)
        coverage = len(query_terms & found) / len(query_terms) if query_terms else 0.0
        return Hit(
            article_id=entry.id,
            title=entry.title,
            url=entry.url,
            passage=passage,
            highlighted_passage=marked(passage, matches, terms, query_terms),
            score=score,
            heading=heading,
            locale=entry.locale,
            internal=bool(self._internal[article]),
            coverage=coverage,
        )


def _top(scores: Any, limit: int, minimum: float) -> list[int]:
    """Indices of the `limit` highest scores above `minimum`, best first (ties: index order)."""
    import numpy as np

    candidates = np.flatnonzero(scores > minimum)
    if candidates.size > limit:
        keep = np.argpartition(-scores[candidates], limit - 1)[:limit]
        candidates = candidates[keep]
    order = np.lexsort((candidates, -scores[candidates]))
    return [int(i) for i in candidates[order]]


def _rrf(lexical: Any, dense: Any) -> Any:
    """Reciprocal rank fusion of two article rankings, each read `FUSION_DEPTH` deep."""
    import numpy as np

    fused = np.zeros(lexical.shape[0], dtype=np.float64)
    for scores, floor in ((lexical, 0.0), (dense, -np.inf)):
        for rank, article in enumerate(_top(scores, FUSION_DEPTH, minimum=floor)):
            fused[article] += 1.0 / (RRF_K + rank + 1)
    return fused


def _score_fusion(lexical: Any, dense: Any) -> Any:
    """`LEXICAL_SHARE` of the max-normalised BM25 score plus the rest of the min-max
    normalised cosine, over the articles either ranking reads `FUSION_DEPTH` deep."""
    import numpy as np

    fused = np.zeros(lexical.shape[0], dtype=np.float64)
    pool = sorted(set(_top(lexical, FUSION_DEPTH, 0.0)) | set(_top(dense, FUSION_DEPTH, -np.inf)))
    if not pool:
        return fused
    ids = np.asarray(pool)
    top_lexical = lexical[ids].max()
    lexical_part = lexical[ids] / top_lexical if top_lexical > 0 else np.zeros(ids.size)
    dense_pool = dense[ids]
    finite = np.isfinite(dense_pool)
    low, high = dense_pool[finite].min(), dense_pool[finite].max()
    dense_part = np.where(finite, (dense_pool - low) / (high - low or 1.0), 0.0)
    fused[ids] = LEXICAL_SHARE * lexical_part + (1 - LEXICAL_SHARE) * dense_part + 1e-9
    return fused
