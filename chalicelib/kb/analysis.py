"""Words to index terms: per-locale Snowball stemming, stopwords out, accents folded after
stemming; and highlighting the words of a passage that match a query.

Pure code; PyStemmer and bm25s' stopword lists are imported on first use, never at
`import app` time (docs/decisions/0002-lazy-imports-for-cold-start.md)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

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
WORD = re.compile(r"[^\W_]+")


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


def normalise(words: list[str], language: str | None) -> list[str | None]:
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
    return [term for term in normalise(WORD.findall(text), language) if term]


def highlight(passage: str, query_terms: Iterable[str], language: str | None) -> str:
    """The passage as HTML: words matching a query term wrapped in <mark>, the rest escaped."""
    matches = list(WORD.finditer(passage))
    terms = normalise([match.group() for match in matches], language)
    return marked(passage, matches, terms, set(query_terms))


def marked(
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
