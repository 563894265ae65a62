"""Knowledge-base retrieval: BM25 over article passages, fused with dense vectors when present.

Pure code: it takes articles and (optionally) an Embedder, and gives an index that is saved as
bytes (S3) and loaded again. bm25s, PyStemmer and numpy are imported on first use, never at
`import app` time (docs/decisions/0002-lazy-imports-for-cold-start.md).

- Lexical: each passage is indexed as title (repeated `TITLE_WEIGHT` times), heading and text,
  analysed per locale (Snowball stemmer, stopwords, accents folded after stemming).
- Dense: cosine similarity of the query vector with normalised passage vectors; an index built
  without an Embedder has none and searches lexically.
- Hybrid: normalised score fusion of the two article scores; it beat reciprocal rank fusion
  at every setting tried on the FAQ bench (`bench/kb_retrieval.py` prints both).
- Drafts are never indexed; internal articles are returned only with `include_internal=True`.
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.kb.chunking import chunk_article
from chalicelib.kb.embedder import Embedder

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

INDEX_FORMAT = "helptal-kb-index/1"
# Title words count as if written this many times in every passage of the article.
TITLE_WEIGHT = 3
INDEXED_STATUSES = frozenset({"published", "internal"})
# Reciprocal rank fusion constant (the usual 60) and how deep each ranking is read.
RRF_K = 60
FUSION_DEPTH = 100
# Normalised score fusion: share of the lexical score. 0.2 to 0.3 did best on the FAQ bench
# (0.5 and over, worse); 0.3 keeps exact words (error codes, product names) weighty.
LEXICAL_SHARE = 0.3
# A top hit that matches fewer than half of the query's words is a weak answer.
WEAK_COVERAGE = 0.5
EMBED_BATCH = 64

Fusion = Literal["rrf", "score"]

# Snowball stemmers by primary language subtag; other locales are lower-cased and folded only.
LANGUAGES = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
}
_STOPWORD_LISTS = {
    "english": "STOPWORDS_EN",
    "french": "STOPWORDS_FRENCH",
    "german": "STOPWORDS_GERMAN",
    "spanish": "STOPWORDS_SPANISH",
    "italian": "STOPWORDS_ITALIAN",
    "portuguese": "STOPWORDS_PORTUGUESE",
    "dutch": "STOPWORDS_DUTCH",
}
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchableArticle:
    """What search needs of an article; `status` is draft, published or internal."""

    id: str
    title: str
    body: str
    url: str
    locale: str
    status: str


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
    # Share of the query's words (after stemming) found in the title, heading or passage.
    coverage: float = 0.0


def is_weak(hits: Sequence[Hit]) -> bool:
    """True when a search found nothing, or its top hit covers under `WEAK_COVERAGE` of the
    query's words: such queries are recorded as content gaps."""
    return not hits or hits[0].coverage < WEAK_COVERAGE


def language_of(locale: str) -> str | None:
    """The Snowball language for a locale such as `fr-CA`, or None (no stemming)."""
    return LANGUAGES.get(locale.split("-")[0].split("_")[0].lower())


@lru_cache(maxsize=16)
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


@lru_cache(maxsize=16)
def _stopwords(language: str | None) -> frozenset[str]:
    if language is None:
        return frozenset()
    from bm25s import stopwords

    words = getattr(stopwords, _STOPWORD_LISTS[language])
    return frozenset(_fold(word.lower()) for word in words) | frozenset(
        word.lower() for word in words
    )


@lru_cache(maxsize=65536)
def _fold(term: str) -> str:
    if term.isascii():
        return term
    decomposed = unicodedata.normalize("NFKD", term)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _normalise(words: list[str], language: str | None) -> list[str | None]:
    """Each word as an index term, or None for a stopword; order kept."""
    lowered = [word.lower() for word in words]
    stop = _stopwords(language)
    stemmed = _stemmer(language).stemWords(lowered) if language else lowered
    return [
        None if word in stop or _fold(word) in stop else _fold(stem)
        for word, stem in zip(lowered, stemmed, strict=True)
    ]


def analyse(text: str, language: str | None) -> list[str]:
    """The index terms of a text: words, lower-cased, stopwords out, stemmed, accents folded."""
    return [term for term in _normalise(_WORD.findall(text), language) if term]


def highlight(passage: str, query_terms: Iterable[str], language: str | None) -> str:
    """The passage as HTML: words matching a query term wrapped in <mark>, the rest escaped."""
    matches = list(_WORD.finditer(passage))
    terms = _normalise([match.group() for match in matches], language)
    return _marked(passage, matches, terms, set(query_terms))


def _marked(
    passage: str, matches: list[re.Match[str]], terms: list[str | None], wanted: set[str]
) -> str:
    parts: list[str] = []
    cursor = 0
    for match, term in zip(matches, terms, strict=True):
        if term is None or term not in wanted:
            continue
        parts.append(html.escape(passage[cursor : match.start()]))
        parts.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    parts.append(html.escape(passage[cursor:]))
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _ArticleEntry:
    id: str
    title: str
    url: str
    locale: str
    internal: bool


class KbIndex:
    """A searchable snapshot of one workspace's visible articles (all locales)."""

    def __init__(
        self,
        *,
        version: str,
        articles: list[_ArticleEntry],
        headings: list[str],
        passages: list[str],
        article_starts: Any,
        bm25: Any,
        vectors: Any,
        embedding_model: str | None,
    ) -> None:
        self.version = version
        self.embedding_model = embedding_model
        self._articles = articles
        self._headings = headings
        self._passages = passages
        # Passages of an article are contiguous: article i owns [starts[i], starts[i+1]).
        self._article_starts = article_starts
        self._bm25 = bm25
        self._vectors = vectors
        self._languages = sorted({language_of(a.locale) or "" for a in articles})
        self._internal: Any = None
        self._locales: Any = None
        self._language_masks: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self._articles)

    @property
    def passage_count(self) -> int:
        return len(self._passages)

    @property
    def has_embeddings(self) -> bool:
        return self._vectors is not None

    @classmethod
    def build(
        cls,
        articles: Iterable[SearchableArticle],
        embedder: Embedder | None = None,
        version: str = "",
    ) -> KbIndex:
        """Chunk and index the published and internal articles (drafts are skipped). With an
        embedder, every passage is embedded too (external calls, in batches)."""
        import bm25s
        import numpy as np

        entries: list[_ArticleEntry] = []
        headings: list[str] = []
        passages: list[str] = []
        starts: list[int] = []
        corpus_terms: list[list[str]] = []
        embed_texts: list[str] = []
        for article in articles:
            if article.status not in INDEXED_STATUSES:
                continue
            language = language_of(article.locale)
            title_terms = analyse(article.title, language)
            chunks = chunk_article(article.id, article.body)
            starts.append(len(passages))
            entries.append(
                _ArticleEntry(
                    article.id,
                    article.title,
                    article.url,
                    article.locale,
                    article.status != "published",
                )
            )
            pieces = [(c.heading, c.text) for c in chunks] or [("", "")]
            for heading, text in pieces:
                headings.append(heading)
                passages.append(text)
                corpus_terms.append(
                    title_terms * TITLE_WEIGHT
                    + analyse(heading, language)
                    + analyse(text, language)
                )
                embed_texts.append(
                    "\n".join(part for part in (article.title, heading, text) if part)
                )

        bm25 = None
        if corpus_terms:
            bm25 = bm25s.BM25()
            bm25.index(corpus_terms, show_progress=False)
        vectors = None
        model = None
        if embedder is not None and embed_texts:
            model = embedder.model
            rows: list[list[float]] = []
            for first in range(0, len(embed_texts), EMBED_BATCH):
                rows.extend(embedder.embed(embed_texts[first : first + EMBED_BATCH]))
            vectors = _unit_rows(np.asarray(rows, dtype=np.float32))
        return cls(
            version=version,
            articles=entries,
            headings=headings,
            passages=passages,
            article_starts=np.asarray(starts, dtype=np.int64),
            bm25=bm25,
            vectors=vectors,
            embedding_model=model,
        )

    def to_bytes(self) -> bytes:
        """The index as one blob (numpy .npz, no pickles) for object storage."""
        import numpy as np

        meta: dict[str, Any] = {
            "format": INDEX_FORMAT,
            "version": self.version,
            "embedding_model": self.embedding_model,
            "articles": [[a.id, a.title, a.url, a.locale, a.internal] for a in self._articles],
            "headings": self._headings,
            "passages": self._passages,
        }
        arrays: dict[str, Any] = {"article_starts": self._article_starts}
        if self._bm25 is not None:
            vocab = sorted(self._bm25.vocab_dict, key=self._bm25.vocab_dict.__getitem__)
            meta["bm25"] = {
                "k1": self._bm25.k1,
                "b": self._bm25.b,
                "method": self._bm25.method,
                "num_docs": int(self._bm25.scores["num_docs"]),
                "vocab": vocab,
            }
            for name in ("data", "indices", "indptr"):
                arrays[f"bm25_{name}"] = self._bm25.scores[name]
        if self._vectors is not None:
            arrays["vectors"] = self._vectors
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> KbIndex:
        """An index saved by `to_bytes`; ValueError when the blob is not one."""
        import bm25s
        import numpy as np

        try:
            stored = np.load(io.BytesIO(blob), allow_pickle=False)
            meta = json.loads(stored["meta"].tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError) as error:
            raise ValueError("not a knowledge-base index") from error
        if meta.get("format") != INDEX_FORMAT:
            raise ValueError(f"unsupported index format {meta.get('format')!r}")
        bm25 = None
        if "bm25" in meta:
            params = meta["bm25"]
            bm25 = bm25s.BM25(k1=params["k1"], b=params["b"], method=params["method"])
            bm25.scores = {
                "data": stored["bm25_data"],
                "indices": stored["bm25_indices"],
                "indptr": stored["bm25_indptr"],
                "num_docs": params["num_docs"],
            }
            bm25.vocab_dict = {term: i for i, term in enumerate(params["vocab"])}
            bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
            bm25.nonoccurrence_array = None
        return cls(
            version=meta["version"],
            articles=[_ArticleEntry(*row) for row in meta["articles"]],
            headings=meta["headings"],
            passages=meta["passages"],
            article_starts=stored["article_starts"],
            bm25=bm25,
            vectors=stored["vectors"] if "vectors" in stored.files else None,
            embedding_model=meta["embedding_model"],
        )

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
        if query_embedding is not None and self._vectors is not None:
            query_vector = np.asarray(query_embedding, dtype=np.float32)
            if query_vector.shape != (self._vectors.shape[1],):
                raise ValueError("query embedding does not match the index's embedding size")
            # einsum, not BLAS: one thread, so no thread spin-up jitter on a small Lambda CPU.
            dense = np.einsum("ij,j->i", self._vectors, _unit_rows(query_vector[None, :])[0])
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

        if self._internal is None:
            self._internal = np.array([a.internal for a in self._articles], dtype=bool)
            self._locales = np.array([a.locale.lower() for a in self._articles])
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
        if self._bm25 is None:
            return scores
        languages = [language_of(locale) or ""] if locale else self._languages
        for language in languages:
            ids = self._bm25.get_tokens_ids(analyse(query, language or None))
            if not ids:
                continue
            language_scores = self._bm25.get_scores_from_ids(ids)
            if len(self._languages) == 1:
                return language_scores
            own = self._passage_language_mask(language)
            scores[own] = language_scores[own]
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
        matches = list(_WORD.finditer(passage))
        terms = _normalise([match.group() for match in matches], language)
        found = set(analyse(f"{entry.title} {heading}", language)).union(terms)
        coverage = len(query_terms & found) / len(query_terms) if query_terms else 0.0
        return Hit(
            article_id=entry.id,
            title=entry.title,
            url=entry.url,
            passage=passage,
            highlighted_passage=_marked(passage, matches, terms, query_terms),
            score=score,
            heading=heading,
            locale=entry.locale,
            coverage=coverage,
        )


def _unit_rows(matrix: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


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
