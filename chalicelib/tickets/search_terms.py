"""Words of a ticket, as the ticket search indexes and queries them (pure functions)."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS_PER_TEXT = 300
MIN_TERM = 2
MAX_TERM = 40
MAX_QUERY_TERMS = 5
_WORD = re.compile(r"[a-z0-9]+(?:[@._+-][a-z0-9]+)*")
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "de",
        "des",
        "du",
        "en",
        "et",
        "for",
        "from",
        "has",
        "have",
        "hi",
        "hello",
        "i",
        "in",
        "is",
        "it",
        "la",
        "le",
        "les",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "pas",
        "please",
        "pour",
        "que",
        "qui",
        "re",
        "sur",
        "the",
        "this",
        "to",
        "un",
        "une",
        "we",
        "with",
        "you",
        "your",
        "vous",
        "nous",
        "je",
        "tu",
        "il",
        "elle",
        "ce",
        "cette",
        "mais",
        "ou",
    }
)


def _fold(text: str) -> str:
    """Lowercase ASCII: accents removed, so "Problème" finds "probleme" and vice versa."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return decomposed.encode("ascii", "ignore").decode()


def terms(text: str, limit: int = MAX_TERMS_PER_TEXT) -> list[str]:
    """Distinct searchable terms of `text`, in order: words, and for e-mail addresses and
    dotted names also the whole token and its parts (so `carla@customer.test` is found by
    `carla`, `customer` or the whole address)."""
    found: dict[str, None] = {}
    for token in _WORD.findall(_fold(text)):
        pieces = (
            [token] if not re.search(r"[@._+-]", token) else [token, *re.split(r"[@._+-]", token)]
        )
        for piece in pieces:
            if MIN_TERM <= len(piece) <= MAX_TERM and piece not in STOPWORDS:
                found.setdefault(piece, None)
                if len(found) >= limit:
                    return list(found)
    return list(found)


def query_terms(query: str) -> list[str]:
    """The terms a search asks for (all must match), longest first (likely the rarest)."""
    return sorted(terms(query, limit=MAX_QUERY_TERMS * 4), key=len, reverse=True)[:MAX_QUERY_TERMS]
