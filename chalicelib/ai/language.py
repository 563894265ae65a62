"""Offline language detection for ticket text: no provider call, nothing leaves the function.

Uses py3langid (langid.py's naive Bayes model over byte n-grams, bundled with the package,
about 4.5 MB), restricted to the languages the help desk serves so that short messages are not
mistaken for a close neighbour (Spanish for Galician).  The model loads on first use."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.tickets.model import Message

# The languages drafts and the help centre are written in.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "nl", "pt", "ja")
MIN_LETTERS = 4
MIN_CONFIDENCE = 0.6

# Redaction placeholders, links, addresses and numbers say nothing about the language.
_NOISE = re.compile(r"\[[a-z -]+\]|https?://\S+|\S+@\S+|[\d_]+")
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=4)
def _identifier(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def detect_language(
    text: str,
    *,
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES,
    min_confidence: float = MIN_CONFIDENCE,
) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, among `languages`; None when
    the text is too short to tell or no candidate is likely enough (e.g. a language outside
    `languages`).  Loads the bundled model on first call; no network."""
    cleaned = _NOISE.sub(" ", text)
    if len(_LETTER.findall(cleaned)) < MIN_LETTERS:
        return None
    language, confidence = _identifier(tuple(languages)).classify(cleaned)
    if confidence < min_confidence or language not in languages:
        return None
    return str(language)


def customer_locale(
    detected: str | None, known: str | None, fallback: str, supported: tuple[str, ...]
) -> str:
    """The language to write to a customer in, among `supported`: the one their mail was
    detected in, else the one kept on their contact, else `fallback` (the workspace's)."""
    for candidate in (detected, known, fallback):
        if candidate in supported:
            return str(candidate)
    return supported[0]


def customer_language(messages: list[Message]) -> str | None:
    """The language of the customer's latest message that says enough to tell."""
    from chalicelib.tickets.model import MessageKind

    for message in reversed(messages):
        if message.kind is MessageKind.CUSTOMER:
            language = detect_language(message.text)
            if language:
                return language
    return None
