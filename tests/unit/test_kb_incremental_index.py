"""The knowledge-base index grows by what changed: against in-memory fakes of the article
store, the index store (manifest + segments) and the embedder."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.kb import index_segments
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.indexing import (
    IndexCache,
    IndexManifest,
    SegmentGone,
    StaleIndex,
    article_path,
    update_index,
)
from chalicelib.kb.model import Article, ArticlePage, ArticleStatus
from chalicelib.kb.passage_index import KbIndex, SearchableArticle
from chalicelib.workers.search_indexer import KbChanges

WS = "ws1"
T0 = datetime(2026, 5, 1, tzinfo=UTC)
WORDS = [
    "refund",
    "invoice",
    "password",
    "export",
    "csv",
    "login",
    "billing",
    "receipt",
    "ticket",
    "inbox",
    "macro",
    "tag",
    "report",
    "chart",
    "widget",
    "chat",
    "bubble",
    "booking",
    "calendar",
    "meeting",
    "reminder",
    "domain",
    "certificate",
]


class Articles:
    """The article store, as the indexer reads it."""

    def __init__(self) -> None:
        self.by_id: dict[str, Article] = {}
        self.versions: dict[str, int] = {}

    def save(self, article_id: str, title: str, body: str, status: str = "published") -> None:
        self.versions[article_id] = self.versions.get(article_id, 0) + 1
        self.by_id[article_id] = Article(
            id=article_id,
            workspace_id=WS,
            translation_group=article_id,
            locale="en",
            slug=article_id,
            title=title,
            body=body,
            html="",
            status=ArticleStatus(status),
            category_id=None,
            tags=[],
            author="user:1",
            updated_by="user:1",
            created_at=T0,
            updated_at=T0,
            version=self.versions[article_id],
        )

    def delete(self, article_id: str) -> None:
        self.by_id.pop(article_id, None)

    def get_article(self, workspace_id: str, article_id: str) -> Article | None:
        return self.by_id.get(article_id)

    def list_articles(self, workspace_id, status, locale, category_id, cursor, limit):
        matching = sorted(
            (a for a in self.by_id.values() if a.status is status), key=lambda a: a.id
        )
        start = int(cursor or 0)
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        return ArticlePage(page, str(start + limit) if more else None)

    def searchable(self) -> list[SearchableArticle]:
        return [
            SearchableArticle(
                a.id, a.title, a.body, article_path(a), a.locale, a.status.value, a.version
            )
            for a in self.by_id.values()
        ]


class Indexes:
    """The index store: manifest per workspace, segments by name; counts what it is asked."""

    def __init__(self) -> None:
        self.manifests: dict[str, IndexManifest] = {}
        self.segments: dict[str, bytes] = {}
        self.loads = 0
        self.saves = 0
        self.switches = 0
        self.lose_next_switch = False

    def manifest(self, workspace_id: str) -> IndexManifest | None:
        return self.manifests.get(workspace_id)

    def load_segment(self, workspace_id: str, name: str) -> bytes:
        self.loads += 1
        if name not in self.segments:
            raise SegmentGone(name)
        return self.segments[name]

    def save_segment(self, workspace_id: str, name: str, blob: bytes) -> None:
        self.saves += 1
        self.segments[name] = blob

    def switch(self, workspace_id: str, manifest: IndexManifest, replacing: str | None) -> None:
        current = self.manifests.get(workspace_id)
        if self.lose_next_switch:  # another update won meanwhile
            self.lose_next_switch = False
            raise StaleIndex(workspace_id)
        if (current.version if current else None) != replacing:
            raise StaleIndex(workspace_id)
        self.switches += 1
        self.manifests[workspace_id] = manifest

    def delete_segment(self, workspace_id: str, name: str) -> None:
        self.segments.pop(name, None)


class CountingEmbedder:
    """Deterministic vectors from the text's hash; remembers every text it was sent."""

    model = "fake-hash-v1"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return [[b / 255 for b in hashlib.sha256(t.encode()).digest()[:8]] for t in texts]


def kb_of(articles: Articles) -> KbDeps:
    return KbDeps(store=articles, clock=None, events=None, images=None, policy=None)  # type: ignore[arg-type]


def long_body(topic: str, paragraphs: int = 4) -> str:
    """About `paragraphs` passages' worth of text on a topic."""
    return "\n\n".join(
        f"## {topic} part {p}\n"
        + " ".join(f"{topic} {WORDS[(p * 7 + i) % len(WORDS)]}" for i in range(90))
        for p in range(paragraphs)
    )


def knowledge_base(count: int = 12) -> Articles:
    articles = Articles()
    for n in range(count):
        articles.save(
            f"a{n:02d}",
            f"Article {n} about {WORDS[n % len(WORDS)]}",
            long_body(WORDS[n % len(WORDS)]),
        )
    return articles


def passages_of(articles: Articles, article_id: str) -> int:
    [only] = [a for a in articles.searchable() if a.id == article_id]
    return len(index_segments.index_article(only).passages)


def test_editing_one_article_embeds_only_its_passages():
    articles, indexes, embedder = knowledge_base(), Indexes(), CountingEmbedder()
    update_index(kb_of(articles), indexes, WS, embedder)
    assert len(embedder.texts) == sum(passages_of(articles, a) for a in articles.by_id)

    embedder.texts.clear()
    articles.save("a03", "Refunds, rewritten", long_body("refund", paragraphs=3))
    update_index(kb_of(articles), indexes, WS, embedder, ["a03"])

    assert len(embedder.texts) == passages_of(articles, "a03") == 3
    assert all(text.startswith("Refunds, rewritten") for text in embedder.texts)


def test_an_edit_that_keeps_some_passages_embeds_only_the_changed_ones():
    articles, indexes, embedder = knowledge_base(), Indexes(), CountingEmbedder()
    update_index(kb_of(articles), indexes, WS, embedder)
    embedder.texts.clear()
    body = articles.by_id["a05"].body
    articles.save(
        "a05", articles.by_id["a05"].title, body + "\n\n## New part\nA brand new section."
    )
    update_index(kb_of(articles), indexes, WS, embedder, ["a05"])
    assert embedder.texts == [f"{articles.by_id['a05'].title}\nNew part\nA brand new section."]


def test_an_event_delivered_twice_changes_nothing_the_second_time():
    articles, indexes, embedder = knowledge_base(), Indexes(), CountingEmbedder()
    update_index(kb_of(articles), indexes, WS, embedder)
    articles.save("a01", "Edited", "Edited body")
    first = update_index(kb_of(articles), indexes, WS, embedder, ["a01"])
    embedder.texts.clear()
    saves = indexes.saves
    assert update_index(kb_of(articles), indexes, WS, embedder, ["a01"]) == first
    assert embedder.texts == [] and indexes.saves == saves


def test_unchanged_articles_are_not_chunked_again(monkeypatch):
    articles, indexes = knowledge_base(), Indexes()
    update_index(kb_of(articles), indexes, WS)
    chunked: list[str] = []
    real = index_segments.chunk_article
    monkeypatch.setattr(
        index_segments, "chunk_article", lambda i, body: chunked.append(i) or real(i, body)
    )
    articles.save("a07", "Edited title", "A short new body.")
    articles.save("a09", "Another edit", "Another short body.")
    update_index(kb_of(articles), indexes, WS, None, ["a07", "a09"])
    assert sorted(chunked) == ["a07", "a09"]

    chunked.clear()
    update_index(kb_of(articles), indexes, WS, None)  # everything, e.g. after AI settings
    assert chunked == []


def test_a_save_that_changes_nothing_search_reads_is_not_chunked_again(monkeypatch):
    articles, indexes = knowledge_base(), Indexes()
    update_index(kb_of(articles), indexes, WS)
    chunked: list[str] = []
    real = index_segments.chunk_article
    monkeypatch.setattr(
        index_segments, "chunk_article", lambda i, body: chunked.append(i) or real(i, body)
    )
    same = articles.by_id["a02"]
    articles.save("a02", same.title, same.body)  # a new version: tags or category changed
    update_index(kb_of(articles), indexes, WS, None, ["a02"])
    assert chunked == []
    held = [
        a
        for name in indexes.manifests[WS].segments
        if name
        for a in index_segments.Segment.from_bytes(indexes.segments[name]).articles
    ]
    assert [a.version for a in held if a.id == "a02"] == [2]


def test_a_container_holding_the_index_reads_only_the_changed_segment_after_an_edit():
    articles, indexes = knowledge_base(40), Indexes()
    update_index(kb_of(articles), indexes, WS)
    cache = IndexCache(indexes)
    segments = len([n for n in indexes.manifests[WS].segments if n])
    assert segments > 10
    assert cache.get(WS) is not None and indexes.loads == segments

    articles.save("a11", "Quokka care", "Feed the quokka twice a day.")
    update_index(kb_of(articles), indexes, WS, None, ["a11"])
    indexes.loads = 0
    hits = cache.get(WS).search("quokka")

    assert [h.article_id for h in hits] == ["a11"]
    assert indexes.loads == 1


def test_a_segment_replaced_while_a_container_reads_is_read_again_from_the_new_manifest():
    articles, indexes = knowledge_base(), Indexes()
    update_index(kb_of(articles), indexes, WS)
    cache = IndexCache(indexes)
    stale = indexes.manifests[WS]
    articles.save("a02", "Wombat", "Wombats dig burrows.")
    fresh = update_index(kb_of(articles), indexes, WS, None, ["a02"])
    reads = iter([stale, fresh])
    indexes.manifest = lambda workspace_id: next(reads)  # read just before the switch
    assert [h.article_id for h in cache.get(WS).search("wombat")] == ["a02"]


def test_deleted_and_unpublished_articles_leave_the_index():
    articles, indexes = knowledge_base(), Indexes()
    update_index(kb_of(articles), indexes, WS)
    cache = IndexCache(indexes)
    assert {h.article_id for h in cache.get(WS).search("refund invoice", limit=20)} >= {
        "a00",
        "a01",
    }
    articles.delete("a00")
    articles.save("a01", articles.by_id["a01"].title, articles.by_id["a01"].body, "draft")
    update_index(kb_of(articles), indexes, WS, None, ["a00", "a01"])
    found = {h.article_id for h in cache.get(WS).search("refund invoice", limit=20)}
    assert found and not found & {"a00", "a01"}
    assert len(cache.get(WS)) == len(articles.by_id) - 1


def test_the_last_article_leaving_empties_the_index():
    articles, indexes = Articles(), Indexes()
    articles.save("only", "Only one", "Just this.")
    update_index(kb_of(articles), indexes, WS)
    articles.delete("only")
    update_index(kb_of(articles), indexes, WS, None, ["only"])
    assert IndexCache(indexes).get(WS) is None
    assert indexes.segments == {}


def test_an_update_that_lost_a_race_starts_again_from_the_winners_manifest():
    articles, indexes = knowledge_base(), Indexes()
    update_index(kb_of(articles), indexes, WS)
    articles.save("a04", "Platypus", "The platypus lays eggs.")
    indexes.lose_next_switch = True
    update_index(kb_of(articles), indexes, WS, None, ["a04"])
    assert [h.article_id for h in IndexCache(indexes).get(WS).search("platypus")] == ["a04"]


def test_turning_ai_on_embeds_every_passage_once_and_off_drops_the_vectors():
    articles, indexes, embedder = knowledge_base(), Indexes(), CountingEmbedder()
    update_index(kb_of(articles), indexes, WS)
    assert not IndexCache(indexes).get(WS).has_embeddings
    update_index(kb_of(articles), indexes, WS, embedder)
    assert len(embedder.texts) == len(set(embedder.texts)) > 0
    assert IndexCache(indexes).get(WS).has_embeddings
    update_index(kb_of(articles), indexes, WS, None)
    assert not IndexCache(indexes).get(WS).has_embeddings


def test_events_of_one_batch_are_applied_once_per_workspace():
    bodies = [
        '{"type": "article.published", "workspace_id": "w1", "article_id": "a1"}',
        '{"type": "article.deleted", "workspace_id": "w1", "article_id": "a2"}',
        '{"type": "ticket.created", "workspace_id": "w1", "ticket_id": "t1"}',
        '{"type": "article.published", "workspace_id": "w2", "article_id": "b1"}',
        '{"type": "ai.settings_changed", "workspace_id": "w2"}',
        "not json",
    ]
    changes = KbChanges(bodies)
    updates: list[tuple[str, set[str] | None]] = []
    for workspace_id in ("w1", "w1", "w2", "w2"):
        changes.apply(workspace_id, lambda ws, ids: updates.append((ws, ids)))
    assert updates == [("w1", {"a1", "a2"}), ("w2", None)]


def test_a_failed_update_fails_every_record_of_its_workspace():
    changes = KbChanges(['{"type": "article.published", "workspace_id": "w1", "article_id": "a"}'])
    calls = []

    def failing(workspace_id, article_ids):
        calls.append(workspace_id)
        raise RuntimeError("S3 is down")

    for _ in range(2):
        try:
            changes.apply("w1", failing)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the record should fail")
    assert calls == ["w1"]


QUERIES = ["refund", "invoice billing", "quokka", "export csv login", "calendar meeting"]
article_ids = st.sampled_from([f"a{n:02d}" for n in range(8)])
edits = st.lists(
    st.tuples(
        article_ids,
        st.sampled_from(["published", "internal", "draft", "deleted"]),
        st.lists(st.sampled_from([*WORDS, "quokka"]), min_size=1, max_size=30),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edits, batch=st.integers(min_value=1, max_value=3), ai=st.booleans())
def test_incremental_updates_search_like_a_full_rebuild(edits, batch, ai):
    articles, indexes = knowledge_base(6), Indexes()
    embedder = CountingEmbedder() if ai else None
    update_index(kb_of(articles), indexes, WS, embedder)
    cache = IndexCache(indexes)
    for first in range(0, len(edits), batch):
        touched = []
        for article_id, status, words in edits[first : first + batch]:
            if status == "deleted":
                articles.delete(article_id)
            else:
                articles.save(article_id, " ".join(words[:3]), " ".join(words), status)
            touched.append(article_id)
        update_index(kb_of(articles), indexes, WS, embedder, touched)
        cache.get(WS)  # a container refreshing along the way

    rebuilt = KbIndex.build(articles.searchable(), embedder=CountingEmbedder() if ai else None)
    incremental = cache.get(WS)
    if incremental is None:  # every article left
        assert rebuilt.segments == [] and indexes.segments == {}
        return
    kept = [n for n in indexes.manifests[WS].segments if n]
    assert kept == [s.name for s in rebuilt.segments]
    assert sorted(indexes.segments) == sorted(kept)  # replaced segments were deleted
    for query in QUERIES:
        vector = CountingEmbedder().embed([query])[0] if ai else None
        for internal in (False, True):
            expected = rebuilt.search(query, include_internal=internal, query_embedding=vector)
            got = incremental.search(query, include_internal=internal, query_embedding=vector)
            assert [dataclasses.astuple(h) for h in got] == [
                dataclasses.astuple(h) for h in expected
            ]


def test_an_index_of_the_older_format_is_reported_once_for_a_rebuild():
    articles, indexes = knowledge_base(3), Indexes()
    indexes.manifests[WS] = IndexManifest("old-version", None, ())  # the one-object format
    reported: list[str] = []
    cache = IndexCache(indexes, on_outdated=reported.append)
    assert cache.get(WS) is None and cache.get(WS) is None
    assert reported == [WS]

    changes = KbChanges(['{"type": "kb.index_outdated", "workspace_id": "ws1"}'])
    changes.apply(WS, lambda ws, ids: update_index(kb_of(articles), indexes, ws, None, ids))
    assert cache.get(WS).search("refund")[0].article_id == "a00"
