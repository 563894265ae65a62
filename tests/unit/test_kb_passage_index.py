import hashlib
import math
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.kb.analysis import analyse, highlight
from chalicelib.kb.chunking import MAX_WORDS, OVERLAP_WORDS, chunk_article
from chalicelib.kb.index_segments import Segment
from chalicelib.kb.passage_index import Hit, KbIndex, SearchableArticle, is_weak


def article(
    id_: str,
    title: str,
    body: str,
    *,
    locale: str = "en",
    status: str = "published",
) -> SearchableArticle:
    return SearchableArticle(id_, title, body, f"/hc/acme/{locale}/articles/{id_}", locale, status)


class FakeEmbedder:
    """Deterministic bag-of-concepts vectors: words sharing a concept point the same way."""

    model = "fake-concepts-v1"
    concepts = (
        ("refund", "money", "reimburse", "chargeback"),
        ("password", "login", "sign", "credentials"),
        ("export", "download", "csv", "backup"),
        ("invoice", "billing", "receipt"),
    )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            words = text.lower().split()
            vector = [
                float(sum(any(w.startswith(stem) for stem in group) for w in words))
                for group in self.concepts
            ]
            # A small text-dependent component keeps unrelated texts apart.
            digest = hashlib.sha256(text.encode()).digest()
            vector.append(digest[0] / 2550)
            vectors.append(vector)
        return vectors


HELP_CENTRE = [
    article(
        "exp",
        "Exporting your tickets",
        "# From the inbox\nOpen settings and choose export to download every ticket as CSV.",
    ),
    article("pwd", "Resetting a password", "Use the forgotten password link on the login page."),
    article("ref", "Getting your money back", "We reimburse within 14 days of the purchase."),
    article("inv", "Billing", "Invoices are e-mailed on the first day of each month."),
    article(
        "fr-exp",
        "Exporter vos tickets",
        "Ouvrez les réglages et choisissez l'exportation pour télécharger les tickets.",
        locale="fr",
    ),
]


def ids(hits: list[Hit]) -> list[str]:
    return [hit.article_id for hit in hits]


def test_long_body_is_cut_into_passages_that_keep_their_heading_and_overlap():
    section = " ".join(f"word{i}" for i in range(450))
    body = f"Intro paragraph.\n\n## Setup\n\n{section}\n\n## Billing\n\nShort section."
    passages = chunk_article("a1", body)

    assert passages[0].heading == ""
    setup = [p for p in passages if p.heading == "Setup"]
    assert len(setup) >= 2
    assert all(len(p.text.split()) <= MAX_WORDS for p in passages)
    first_tail = setup[0].text.split()[-OVERLAP_WORDS:]
    assert setup[1].text.split()[:OVERLAP_WORDS] == first_tail
    assert passages[-1].heading == "Billing"
    assert passages[-1].text == "Short section."
    assert all(p.article_id == "a1" for p in passages)


def test_markdown_marks_are_dropped_but_link_text_and_code_stay():
    body = (
        "Read **the [guide](https://x.test/g)** and run `helptal export`.\n\n```\nERR_42 boom\n```"
    )
    (passage,) = chunk_article("a1", body)
    assert passage.text == "Read the guide and run helptal export. ERR_42 boom"


def test_empty_body_gives_no_passage_but_the_article_is_found_by_title():
    assert chunk_article("a1", "  \n\n") == []
    index = KbIndex.build([article("a1", "Keyboard shortcuts", "")])
    assert ids(index.search("shortcuts")) == ["a1"]


def test_stemming_lets_exporting_find_export():
    index = KbIndex.build(
        [
            article("a1", "Data", "You can export the report from the dashboard."),
            article("a2", "Other", "Nothing to see here."),
        ]
    )
    hits = index.search("exporting")
    assert ids(hits) == ["a1"]
    assert "<mark>export</mark>" in hits[0].highlighted_passage


def test_french_words_are_stemmed_with_the_french_stemmer():
    assert analyse("exportation", "french") == analyse("exporter", "french")
    index = KbIndex.build(HELP_CENTRE)
    hits = index.search("exportations des réglages", locale="fr")
    assert ids(hits) == ["fr-exp"]
    assert "<mark>exportation</mark>" in hits[0].highlighted_passage


def test_stopwords_alone_find_nothing():
    index = KbIndex.build(HELP_CENTRE)
    assert index.search("the and of") == []


def test_title_words_weigh_more_than_body_words():
    index = KbIndex.build(
        [
            article("body", "Account settings", "Webhooks are configured in account settings."),
            article("title", "Webhooks", "Configure the endpoints that receive events."),
        ]
    )
    assert ids(index.search("webhooks"))[0] == "title"


def test_locale_filter_returns_only_that_locale():
    index = KbIndex.build(HELP_CENTRE)
    assert ids(index.search("tickets", locale="fr")) == ["fr-exp"]
    assert ids(index.search("tickets", locale="en")) == ["exp"]
    assert set(ids(index.search("tickets"))) == {"exp", "fr-exp"}


def test_internal_articles_only_when_asked_and_drafts_never():
    index = KbIndex.build(
        [
            article("pub", "Refund policy", "Refunds within 14 days."),
            article(
                "int", "Refund escalation", "Refunds over 500 need a manager.", status="internal"
            ),
            article("draft", "Refund draft", "Refunds unpublished text.", status="draft"),
        ]
    )
    assert ids(index.search("refund")) == ["pub"]
    assert set(ids(index.search("refund", include_internal=True))) == {"pub", "int"}
    assert len(index) == 2


def test_one_hit_per_article_with_its_best_passage():
    filler = " ".join(["general words about the product"] * 40)
    body = f"{filler}\n\n## Webhook retries\n\nFailed webhook deliveries are retried five times."
    index = KbIndex.build([article("a1", "Integrations", body)])
    hits = index.search("webhook retries")
    assert len(hits) == 1
    assert hits[0].heading == "Webhook retries"
    assert "retried" in hits[0].passage


def test_highlight_marks_query_words_and_escapes_html():
    body = "Paste this:\n\n```\n<script>alert('x')</script> then export\n```"
    index = KbIndex.build([article("a1", "Embed code", body)])
    (hit,) = index.search("export script")
    assert "<script>" not in hit.highlighted_passage
    assert "&lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)" in hit.highlighted_passage
    assert "<mark>export</mark>" in hit.highlighted_passage
    assert highlight("a < b & <c>", ["b"], "english") == "a &lt; <mark>b</mark> &amp; &lt;c&gt;"


def reloaded(index: KbIndex, version: str = "") -> KbIndex:
    return KbIndex([Segment.from_bytes(s.to_bytes()) for s in index.segments], version)


def test_index_round_trips_through_bytes():
    index = KbIndex.build(HELP_CENTRE, embedder=FakeEmbedder(), version="v7")
    loaded = reloaded(index, "v7")

    assert loaded.version == "v7"
    assert loaded.embedding_model == "fake-concepts-v1"
    assert loaded.has_embeddings
    for query in ("exporting tickets", "password", "facture"):
        assert loaded.search(query) == index.search(query)
    vector = FakeEmbedder().embed(["money back"])[0]
    assert loaded.search("refund", query_embedding=vector) == index.search(
        "refund", query_embedding=vector
    )


def test_bytes_that_are_not_an_index_are_refused():
    with pytest.raises(ValueError):
        Segment.from_bytes(b"not an index")


def test_hybrid_finds_a_synonym_that_lexical_misses():
    embedder = FakeEmbedder()
    index = KbIndex.build(HELP_CENTRE, embedder=embedder)
    query = "chargeback"
    assert index.search(query) == []

    hits = index.search(query, query_embedding=embedder.embed([query])[0])
    assert ids(hits)[0] == "ref"
    assert is_weak(hits)  # no word of the query is in the article: a content gap


def test_hybrid_keeps_the_lexical_winner_on_top_when_both_agree():
    embedder = FakeEmbedder()
    index = KbIndex.build(HELP_CENTRE, embedder=embedder)
    query = "download tickets csv"
    for fusion in ("rrf", "score"):
        hits = index.search(query, query_embedding=embedder.embed([query])[0], fusion=fusion)
        assert ids(hits)[0] == "exp"
        assert all(math.isfinite(hit.score) for hit in hits)


def test_query_embedding_of_the_wrong_size_is_refused():
    index = KbIndex.build(HELP_CENTRE, embedder=FakeEmbedder())
    with pytest.raises(ValueError):
        index.search("refund", query_embedding=[1.0, 0.0])


def test_index_without_vectors_searches_lexically_even_with_a_query_embedding():
    index = KbIndex.build(HELP_CENTRE)
    assert not index.has_embeddings
    assert ids(index.search("password", query_embedding=[0.1] * 5)) == ["pwd"]


def test_empty_index_and_blank_query_return_nothing():
    empty = KbIndex.build([article("d", "Draft only", "text", status="draft")])
    assert len(empty) == 0
    assert empty.search("anything") == []
    assert reloaded(empty).search("anything") == []
    assert KbIndex.build(HELP_CENTRE).search("   ") == []
    assert KbIndex.build(HELP_CENTRE).search("password", limit=0) == []


def test_limit_caps_the_hits():
    index = KbIndex.build(
        [article(str(i), f"Topic {i}", "shared word everywhere") for i in range(30)]
    )
    assert len(index.search("shared", limit=5)) == 5


def test_weak_results_are_no_hits_or_a_top_hit_missing_most_query_words():
    index = KbIndex.build(HELP_CENTRE)
    assert is_weak([])
    assert not is_weak(index.search("reset password"))
    assert is_weak(index.search("password quantum teleportation gateway"))


def test_importing_app_does_not_load_the_search_libraries():
    script = (
        "import sys, app; loaded = [m for m in ('bm25s', 'numpy', 'Stemmer', "
        "'chalicelib.kb.passage_index') if m in sys.modules]; print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""
