"""The search index's words and its paging (exact pages, bounded reads), on an in-memory index."""

import pytest

from chalicelib.tickets.search import search
from chalicelib.tickets.search_terms import query_terms, terms


class MemoryIndex:
    def __init__(self):
        self.postings_by_word: dict[str, set[str]] = {}
        self.queries = 0

    def add(self, workspace_id, ticket_id, words):
        for word in words:
            self.postings_by_word.setdefault(f"{workspace_id}:{word}", set()).add(ticket_id)

    def postings(self, workspace_id, word, below, limit):
        self.queries += 1
        ids = sorted(
            (
                t
                for t in self.postings_by_word.get(f"{workspace_id}:{word}", ())
                if below is None or t < below
            ),
            reverse=True,
        )
        return ids[:limit], len(ids) > limit


def test_words_are_folded_and_addresses_split():
    assert terms("Problème de connexion, carla@Customer.test !") == [
        "probleme",
        "connexion",
        "carla@customer.test",
        "carla",
        "customer",
        "test",
    ]


def test_stopwords_and_single_letters_are_not_indexed():
    assert terms("I am on the x road") == ["am", "road"]


def test_query_uses_at_most_five_words_longest_first():
    assert query_terms("refund invoice march broken printer toner cartridge") == [
        "cartridge",
        "invoice",
        "printer",
        "refund",
        "broken",
    ]


def _ids(n):
    return [f"01J{i:023d}" for i in range(n)]


def test_every_word_must_match_and_newest_come_first():
    index = MemoryIndex()
    a, b, c = _ids(3)
    index.add("w", a, ["refund", "printer"])
    index.add("w", b, ["refund"])
    index.add("w", c, ["refund", "printer"])
    assert search(index, "w", "printer refund", None, 10).ticket_ids == [c, a]
    assert search(index, "other", "printer", None, 10).ticket_ids == []


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_paging_through_large_postings_finds_every_match_exactly_once(limit):
    index = MemoryIndex()
    ids = _ids(1000)
    expected = []
    for n, ticket_id in enumerate(ids):
        words = ["refund"] + (["printer"] if n % 3 == 0 else [])
        index.add("w", ticket_id, words)
        if n % 3 == 0:
            expected.append(ticket_id)
    found, cursor, pages = [], None, 0
    while True:
        index.queries = 0
        page = search(index, "w", "refund printer", cursor, limit)
        assert index.queries <= 2  # one page of postings per word, whatever the size
        found += page.ticket_ids
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert found == sorted(expected, reverse=True)
    assert len(found) == len(set(found))
