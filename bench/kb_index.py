"""Knowledge-base index updates: what one edited article costs, against a full rebuild.

Runs the real indexer and index cache (`chalicelib/kb/indexing.py`) with the S3 index store
on a private moto server; articles come from an in-memory article store (the FAQ corpus of
`bench/kb_corpus.py` blended to size, or generated text when the FAQ is not installed).

1. Embedding calls, 1,000 articles, AI on: a full rebuild (what every article event cost
   before the index grew by what changed) against the update after one article is edited
   (title and body, so every one of its passages is new). Target: exactly that article's
   passages are embedded.
2. Index load, 10,000 articles (lexical): a fresh container's first load (manifest, every
   segment, the union put together) against the refresh of a container holding the index
   after one article changed (manifest, the changed segment). Target: refresh <= 0.2 x the
   full load. Also shown: the indexer's update after one edit against a full rebuild.

    .venv/bin/python bench/kb_index.py [--strict] [--small 1000] [--large 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
from datetime import UTC, datetime

import _emulator  # first: it sets the environment the settings read
import botocore.endpoint

sys.path.insert(0, str(_emulator.PROJECT_DIR / "bench"))

REFRESH_TARGET = 0.2
CALLS: list[str] = []
_original = botocore.endpoint.Endpoint.make_request


def _counting(self, operation_model, request_dict):  # type: ignore[no-untyped-def]
    CALLS.append(operation_model.name)
    return _original(self, operation_model, request_dict)


botocore.endpoint.Endpoint.make_request = _counting

from chalicelib.kb.deps import KbDeps  # noqa: E402
from chalicelib.kb.model import Article, ArticlePage, ArticleStatus  # noqa: E402

T0 = datetime(2026, 5, 1, tzinfo=UTC)


class Articles:
    """The article store as the indexer reads it (list by status, get by id)."""

    def __init__(self, corpus: list[tuple[str, str]]) -> None:
        self.by_id: dict[str, Article] = {}
        for n, (title, body) in enumerate(corpus):
            self.save(f"art{n:06d}", title, body)

    def save(self, article_id: str, title: str, body: str) -> None:
        before = self.by_id.get(article_id)
        self.by_id[article_id] = Article(
            id=article_id,
            workspace_id="bench",
            translation_group=article_id,
            locale="en",
            slug=article_id,
            title=title,
            body=body,
            html="",
            status=ArticleStatus.PUBLISHED,
            category_id=None,
            tags=[],
            author="user:bench",
            updated_by="user:bench",
            created_at=T0,
            updated_at=T0,
            version=before.version + 1 if before else 1,
        )

    def get_article(self, workspace_id: str, article_id: str) -> Article | None:
        return self.by_id.get(article_id)

    def list_articles(self, workspace_id, status, locale, category_id, cursor, limit):  # type: ignore[no-untyped-def]
        matching = [a for a in self.by_id.values() if a.status is status]
        start = int(cursor or 0)
        more = start + limit < len(matching)
        return ArticlePage(matching[start : start + limit], str(start + limit) if more else None)


class CountingEmbedder:
    """Hash vectors (384 floats, MiniLM's size); counts texts and provider calls."""

    model = "bench-hash-384"

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += texts
        return [[b / 255 for b in hashlib.sha256(t.encode()).digest() * 12] for t in texts]


def corpus_of(size: int) -> list[tuple[str, str]]:
    from kb_corpus import FAQ_DIR, load_faq, synthetic_corpus

    if FAQ_DIR.is_dir():
        return [(e.question, e.answer) for e in synthetic_corpus(load_faq(), size)]
    rng = random.Random(7)
    words = [f"word{i}" for i in range(5000)]
    return [
        (
            " ".join(rng.sample(words, 6)),
            "\n\n".join(" ".join(rng.choices(words, k=120)) for _ in range(rng.randint(1, 4))),
        )
        for _ in range(size)
    ]


def kb_of(articles: Articles) -> KbDeps:
    return KbDeps(store=articles, clock=None, events=None, images=None, policy=None)  # type: ignore[arg-type]


def edit(articles: Articles, article_id: str, round_: int) -> None:
    title = f"Edited article, round {round_}"
    body = articles.by_id[article_id].body + f"\n\nA note added in round {round_}."
    articles.save(article_id, title, body)


def embedding_calls(size: int) -> bool:
    from chalicelib import bootstrap
    from chalicelib.kb.index_segments import embedded_text, index_article
    from chalicelib.kb.indexing import _searchable, update_index

    articles = Articles(corpus_of(size))
    indexes = bootstrap.kb_index_store()
    full = CountingEmbedder()
    update_index(kb_of(articles), indexes, "ws-embed", full)
    # An article of several passages, so that "only its passages" means more than one.
    edited = max(sorted(articles.by_id), key=lambda a: len(articles.by_id[a].body))
    edit(articles, edited, 1)
    incremental = CountingEmbedder()
    update_index(kb_of(articles), indexes, "ws-embed", incremental, [edited])

    indexed = index_article(_searchable(articles.by_id[edited]))
    expected = sorted(embedded_text(indexed.title, p) for p in indexed.passages)
    print(f"1. embedding, {size:,} articles, AI on, one article edited (title and body)")
    print(
        f"   full rebuild (before):  {len(full.texts):6,} passages embedded in"
        f" {full.calls:3} provider calls"
    )
    ratio = len(incremental.texts) / len(full.texts)
    print(
        f"   incremental update:     {len(incremental.texts):6,} passages embedded in"
        f" {incremental.calls:3} provider calls (ratio {ratio:.4f})"
    )
    passed = sorted(incremental.texts) == expected
    print(
        f"   target: exactly the edited article's {len(expected)} passages:"
        f" {'PASS' if passed else 'FAIL'}"
    )
    return passed


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def load_and_refresh(size: int, rounds: int) -> bool:
    from chalicelib import bootstrap
    from chalicelib.kb.indexing import IndexCache, update_index
    from chalicelib.kb.passage_index import KbIndex

    articles = Articles(corpus_of(size))
    indexes = bootstrap.kb_index_store()
    workspace = "ws-load"
    rebuild_seconds = timed(lambda: update_index(kb_of(articles), indexes, workspace))
    manifest = indexes.manifest(workspace)
    segments = [n for n in manifest.segments if n]

    full_loads, full_gets = [], []
    for _ in range(rounds):
        fresh = IndexCache(indexes)  # a fresh container: nothing held
        CALLS.clear()
        full_loads.append(timed(lambda cache=fresh: cache.get(workspace)))
        full_gets.append(CALLS.count("GetObject"))
    index = fresh.get(workspace)

    holding = IndexCache(indexes)
    holding.get(workspace)
    ids = sorted(articles.by_id)
    refreshes, refresh_gets, updates, assembled = [], [], [], []
    for round_ in range(rounds):
        edited = ids[(round_ * 997) % len(ids)]
        edit(articles, edited, round_)
        updates.append(
            timed(lambda a=edited: update_index(kb_of(articles), indexes, workspace, None, [a]))
        )
        CALLS.clear()
        refreshes.append(timed(lambda: holding.get(workspace)))
        refresh_gets.append(CALLS.count("GetObject"))
        refreshed = holding.get(workspace)
        assert refreshed.search(f"edited round {round_}")[0].article_id == edited
        assembled.append(timed(lambda r=refreshed: KbIndex(r.segments, "x")))
    CALLS.clear()
    steady = timed(lambda: holding.get(workspace))
    steady_calls = list(CALLS)

    full, refresh = statistics.median(full_loads), statistics.median(refreshes)
    update = statistics.median(updates)
    print(
        f"2. index load, {size:,} articles, {index.passage_count:,} passages, lexical;"
        f" {len(segments)} segments; medians of {rounds}"
    )
    print(
        f"   fresh container, full load:        {full * 1000:7.1f} ms"
        f" ({statistics.median(full_gets):.0f} S3 GETs)"
    )
    print(
        f"   holding it, refresh after 1 edit:  {refresh * 1000:7.1f} ms"
        f" ({statistics.median(refresh_gets):.0f} S3 GET; the union of segments put together"
        f" in {statistics.median(assembled) * 1000:.1f} ms) ratio {refresh / full:.3f}"
    )
    print(
        f"   holding it, nothing changed:       {steady * 1000:7.1f} ms ({', '.join(steady_calls)})"
    )
    print(
        f"   indexer: update after 1 edit {update * 1000:7.1f} ms vs full rebuild"
        f" {rebuild_seconds * 1000:7.1f} ms (ratio {update / rebuild_seconds:.3f})"
    )
    passed = refresh <= REFRESH_TARGET * full and max(refresh_gets) == 1
    print(
        f"   target: refresh <= {REFRESH_TARGET} x full load, one S3 GET:"
        f" {'PASS' if passed else 'FAIL'}"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    server = _emulator.start()
    try:
        passed = embedding_calls(args.small)
        passed = load_and_refresh(args.large, args.rounds) and passed
    finally:
        server.stop()
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
