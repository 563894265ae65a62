"""Words of the public pages, per locale, and picking the visitor's language.

The words come from the gettext catalogs (chalicelib/translations.py, sources in
chalicelib/locales/*/LC_MESSAGES/helptal.po); tests/unit/test_translation_catalogs.py checks
that every id has both languages."""

from __future__ import annotations

from chalicelib.translations import LOCALES, Formality, Words

SUPPORTED = LOCALES


def pick_locale(requested: str | None, accept_language: str | None, default: str) -> str:
    """`?lang=` first, then the browser's Accept-Language (its most wanted language we speak;
    `q=0` means "not this one"), then the workspace's language."""
    if requested in SUPPORTED:
        return str(requested)
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = tag.lower()[:2]
        if language in SUPPORTED and 0 < weight <= 1:
            wanted.append((-weight, position, language))
    if wanted:
        return min(wanted)[2]
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
