"""Words of the public pages, per locale, and picking the visitor's language.

The words come from the gettext catalogs (chalicelib/translations.py, sources in
chalicelib/locales/*/LC_MESSAGES/helptal.po); tests/unit/test_translation_catalogs.py checks
that every id has both languages."""

from __future__ import annotations

from chalicelib.translations import LOCALES, Formality, Words

SUPPORTED = LOCALES


def pick_locale(requested: str | None, accept_language: str | None, default: str) -> str:
    """`?lang=` first, then the browser's Accept-Language, then the workspace's language."""
    if requested in SUPPORTED:
        return str(requested)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED:
            return tag
    return default if default in SUPPORTED else "en"


def translator(locale: str, formality: str = "formal") -> Words:
    """The words of `locale` (`t["join.title"]`); French says "tu" when `formality` is
    `informal` (the workspace's choice), "vous" otherwise."""
    chosen = locale if locale in SUPPORTED else "en"
    form: Formality = "informal" if formality == "informal" else "formal"
    return Words(chosen, form)


def reason(t: Words, code: str) -> str:
    """The visitor-facing sentence for an error code."""
    return t.get(f"reason.{code}", t["reason.unknown"])
