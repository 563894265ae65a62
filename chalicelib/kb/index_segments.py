"""One shard of a workspace's knowledge-base index: the articles whose id hashes to it, cut
into passages, each passage with its index terms, its content hash and (AI on) its vector.

A workspace's index is `SHARDS` segments, named by its manifest. Changing an article rewrites
the segment of its shard only: the shard's other articles keep their passages and terms (not
chunked again), and a passage whose content hash the old segment holds keeps its vector (not
embedded again: vectors are keyed by content hash and embedding model). Pure; numpy is
imported on first use.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.kb.analysis import analyse, language_of
from chalicelib.kb.chunking import chunk_article

if TYPE_CHECKING:
    from chalicelib.kb.embedder import Embedder

SEGMENT_FORMAT = "helptal-kb-segment/1"
# An edit rewrites 1/SHARDS of the index; a fresh container reads SHARDS objects at most.
SHARDS = 32
# Title words count as if written this many times in every passage of the article.
TITLE_WEIGHT = 3
INDEXED_STATUSES = frozenset({"published", "internal"})
EMBED_BATCH = 64


@dataclass(frozen=True, slots=True)
class SearchableArticle:
    """What search needs of an article; `status` is draft, published or internal; `version`
    (the article's saved version) is recorded with it."""

    id: str
    title: str
    body: str
    url: str
    locale: str
    status: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class IndexedPassage:
    heading: str
    text: str
    digest: str  # hash of the text embedded (title, heading, passage): keys its vector
    terms: tuple[tuple[str, int], ...]  # index terms with their counts, first seen first


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """An article as the index holds it: chunked and analysed."""

    id: str
    version: int
    title: str
    url: str
    locale: str
    internal: bool
    passages: tuple[IndexedPassage, ...]
    fingerprint: str  # of what was indexed: an article saved with the same content matches


def fingerprint_of(article: SearchableArticle) -> str:
    """A hash of everything indexing reads of an article (not its version number: a save
    that changed only tags or category needs no chunking)."""
    fields = [article.title, article.body, article.url, article.locale, article.status]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def shard_of(article_id: str) -> int:
    return int.from_bytes(hashlib.sha256(article_id.encode()).digest()[:4], "big") % SHARDS


def embedded_text(title: str, passage: IndexedPassage) -> str:
    return "\n".join(part for part in (title, passage.heading, passage.text) if part)


def index_article(article: SearchableArticle) -> IndexedArticle:
    """Chunks and analyses one article (the title weighs `TITLE_WEIGHT` times in every
    passage; an empty body gives one empty passage, so the title still finds it)."""
    language = language_of(article.locale)
    title_terms = analyse(article.title, language)
    pieces = [(c.heading, c.text) for c in chunk_article(article.id, article.body)] or [("", "")]
    passages = []
    for heading, text in pieces:
        terms = title_terms * TITLE_WEIGHT + analyse(heading, language) + analyse(text, language)
        embedded = "\n".join(part for part in (article.title, heading, text) if part)
        passages.append(
            IndexedPassage(
                heading,
                text,
                hashlib.sha256(embedded.encode()).hexdigest()[:32],
                tuple(Counter(terms).items()),
            )
        )
    return IndexedArticle(
        article.id,
        article.version,
        article.title,
        article.url,
        article.locale,
        article.status != "published",
        tuple(passages),
        fingerprint_of(article),
    )


@dataclass(frozen=True, slots=True)
class SegmentArticle:
    """What a search hit shows of an article, and how many passages it has in the segment."""

    id: str
    version: int
    title: str
    url: str
    locale: str
    internal: bool
    passage_count: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class SegmentPassage:
    heading: str
    text: str
    digest: str


class Segment:
    """The indexed articles of one shard (sorted by id), their passages in that order, the
    passages' term counts (a sparse passage x term matrix) and, when built with an embedder,
    their unit vectors. Loading one parses no per-term Python objects: what search needs
    stays in arrays, and the articles' term lists are made only when the segment is rewritten.
    """

    def __init__(
        self,
        shard: int,
        articles: list[SegmentArticle],
        passages: list[SegmentPassage],
        vocab: list[str],
        bag: tuple[Any, Any, Any],  # passage -> (term ids, counts), CSR arrays
        embedding_model: str | None = None,
        vectors: Any = None,
    ) -> None:
        self.shard = shard
        self.articles = articles
        self.passages = passages
        self.embedding_model = embedding_model if vectors is not None else None
        self.vectors = vectors
        self._vocab_list = vocab
        self._vocab: dict[str, int] | None = None
        self._bag = bag
        self._postings: tuple[Any, Any, Any] | None = None
        self._digest: str | None = None

    @classmethod
    def of(
        cls,
        shard: int,
        articles: Iterable[IndexedArticle],
        embedding_model: str | None = None,
        vectors: Any = None,
    ) -> Segment:
        import numpy as np

        ordered = sorted(articles, key=lambda a: a.id)
        vocab: dict[str, int] = {}
        bag_terms: list[int] = []
        bag_counts: list[int] = []
        indptr = [0]
        passages = []
        for article in ordered:
            for passage in article.passages:
                passages.append(SegmentPassage(passage.heading, passage.text, passage.digest))
                for term, count in passage.terms:
                    bag_terms.append(vocab.setdefault(term, len(vocab)))
                    bag_counts.append(count)
                indptr.append(len(bag_terms))
        rows = [
            SegmentArticle(
                a.id,
                a.version,
                a.title,
                a.url,
                a.locale,
                a.internal,
                len(a.passages),
                a.fingerprint,
            )
            for a in ordered
        ]
        bag = (
            np.asarray(indptr, dtype=np.int64),
            np.asarray(bag_terms, dtype=np.int32),
            np.asarray(bag_counts, dtype=np.int32),
        )
        return cls(shard, rows, passages, list(vocab), bag, embedding_model, vectors)

    @property
    def passage_count(self) -> int:
        return len(self.passages)

    def indexed_articles(self) -> list[IndexedArticle]:
        """The articles with their passages' terms, as `index_article` made them."""
        indptr, terms, counts = (a.tolist() for a in self._bag)
        vocab = self._vocab_list
        found = []
        cursor = 0
        for article in self.articles:
            passages = []
            for passage in self.passages[cursor : cursor + article.passage_count]:
                first, last = indptr[cursor], indptr[cursor + 1]
                bag = tuple(
                    (vocab[t], c)
                    for t, c in zip(terms[first:last], counts[first:last], strict=True)
                )
                passages.append(IndexedPassage(passage.heading, passage.text, passage.digest, bag))
                cursor += 1
            found.append(
                IndexedArticle(
                    article.id,
                    article.version,
                    article.title,
                    article.url,
                    article.locale,
                    article.internal,
                    tuple(passages),
                    article.fingerprint,
                )
            )
        return found

    # What a KbIndex concatenates, made once per segment: a refresh after one edit puts the
    # union together again from the segments it holds, at the cost of list concatenation.
    @cached_property
    def passage_lengths(self) -> Any:
        """Index terms per passage (the BM25 document length)."""
        import numpy as np

        indptr, _, counts = self._bag
        totals = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
        return (totals[indptr[1:]] - totals[indptr[:-1]]).astype(np.float64)

    @cached_property
    def headings(self) -> list[str]:
        return [p.heading for p in self.passages]

    @cached_property
    def texts(self) -> list[str]:
        return [p.text for p in self.passages]

    @cached_property
    def article_passage_counts(self) -> Any:
        import numpy as np

        return np.fromiter((a.passage_count for a in self.articles), dtype=np.int64)

    @cached_property
    def internal(self) -> Any:
        import numpy as np

        return np.fromiter((a.internal for a in self.articles), dtype=bool)

    @cached_property
    def locales(self) -> Any:
        import numpy as np

        return np.array([a.locale.lower() for a in self.articles])

    @cached_property
    def languages(self) -> frozenset[str]:
        return frozenset(language_of(a.locale) or "" for a in self.articles)

    def postings(self, term: str) -> tuple[Any, Any]:
        """The passages (positions in this segment) holding `term`, and its count in each."""
        import numpy as np

        if self._vocab is None:
            self._vocab = {t: i for i, t in enumerate(self._vocab_list)}
        local = self._vocab.get(term)
        if local is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        if self._postings is None:
            indptr, terms, counts = self._bag
            owners = np.repeat(np.arange(len(self.passages)), np.diff(indptr))
            order = np.argsort(terms, kind="stable")
            starts = np.searchsorted(terms[order], np.arange(len(self._vocab_list) + 1))
            self._postings = (starts, owners[order], counts[order])
        starts, owners, counts = self._postings
        return owners[starts[local] : starts[local + 1]], counts[starts[local] : starts[local + 1]]

    def vectors_by_digest(self, model: str) -> dict[str, Any]:
        """This segment's passage vectors keyed by content hash, when made by `model`."""
        if self.vectors is None or self.embedding_model != model:
            return {}
        return {p.digest: self.vectors[i] for i, p in enumerate(self.passages)}

    @property
    def digest(self) -> str:
        """A hash of everything the segment holds: the same articles give the same name."""
        if self._digest is None:
            meta, arrays = self._parts()
            hashed = hashlib.sha256(meta)
            for name in sorted(arrays):
                hashed.update(arrays[name].tobytes())
            self._digest = hashed.hexdigest()[:24]
        return self._digest

    @property
    def name(self) -> str:
        return f"{self.shard:02d}-{self.digest}"

    def _parts(self) -> tuple[bytes, dict[str, Any]]:
        meta = {
            "format": SEGMENT_FORMAT,
            "shard": self.shard,
            "embedding_model": self.embedding_model,
            "articles": [
                [
                    a.id,
                    a.version,
                    a.title,
                    a.url,
                    a.locale,
                    a.internal,
                    a.passage_count,
                    a.fingerprint,
                ]
                for a in self.articles
            ],
            "passages": [[p.heading, p.text, p.digest] for p in self.passages],
            "vocab": self._vocab_list,
        }
        indptr, terms, counts = self._bag
        arrays = {"bag_indptr": indptr, "bag_terms": terms, "bag_counts": counts}
        if self.vectors is not None:
            arrays["vectors"] = self.vectors
        return json.dumps(meta, ensure_ascii=False).encode("utf-8"), arrays

    def to_bytes(self) -> bytes:
        """numpy .npz (no pickles) for object storage."""
        import numpy as np

        meta, arrays = self._parts()
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, meta=np.frombuffer(meta, dtype=np.uint8), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Segment:
        """A segment saved by `to_bytes`; ValueError when the blob is not one."""
        import numpy as np

        try:
            stored = np.load(io.BytesIO(blob), allow_pickle=False)
            meta = json.loads(stored["meta"].tobytes().decode("utf-8"))
            bag = (stored["bag_indptr"], stored["bag_terms"], stored["bag_counts"])
        except (OSError, ValueError, KeyError) as error:
            raise ValueError("not a knowledge-base index segment") from error
        if meta.get("format") != SEGMENT_FORMAT:
            raise ValueError(f"unsupported segment format {meta.get('format')!r}")
        return cls(
            meta["shard"],
            [SegmentArticle(*row) for row in meta["articles"]],
            [SegmentPassage(*row) for row in meta["passages"]],
            meta["vocab"],
            bag,
            meta["embedding_model"],
            stored["vectors"] if "vectors" in stored.files else None,
        )


def unit_rows(matrix: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def build_segment(
    shard: int,
    articles: Iterable[IndexedArticle],
    embedder: Embedder | None = None,
    previous: Segment | None = None,
) -> Segment:
    """A segment of `articles`; with an embedder, each passage gets a vector: the one
    `previous` holds for the same content hash and model, else one from the embedder (only
    passages never embedded before are sent, in batches of `EMBED_BATCH`)."""
    import numpy as np

    ordered = sorted(articles, key=lambda a: a.id)
    if embedder is None:
        return Segment.of(shard, ordered)
    known = previous.vectors_by_digest(embedder.model) if previous is not None else {}
    missing: dict[str, str] = {}  # digest -> text to embed
    for article in ordered:
        for passage in article.passages:
            if passage.digest not in known:
                missing.setdefault(passage.digest, embedded_text(article.title, passage))
    digests = list(missing)
    for first in range(0, len(digests), EMBED_BATCH):
        batch = digests[first : first + EMBED_BATCH]
        rows = unit_rows(np.asarray(embedder.embed([missing[d] for d in batch]), dtype=np.float32))
        known.update(zip(batch, rows, strict=True))
    passages = [p for a in ordered for p in a.passages]
    if not passages:
        return Segment.of(shard, ordered)
    vectors = np.stack([known[p.digest] for p in passages]).astype(np.float32)
    return Segment.of(shard, ordered, embedder.model, vectors)


def build_segments(
    articles: Iterable[SearchableArticle], embedder: Embedder | None = None
) -> list[Segment]:
    """Every non-empty segment of a whole corpus, built from scratch (drafts are skipped)."""
    by_shard: dict[int, list[IndexedArticle]] = {}
    for article in articles:
        if article.status in INDEXED_STATUSES:
            by_shard.setdefault(shard_of(article.id), []).append(index_article(article))
    return [build_segment(s, by_shard[s], embedder) for s in sorted(by_shard)]
