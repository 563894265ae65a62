"""The gettext catalogs of customer-facing text: every message in English and French, the same
placeholders in both, French that says "vous" (and "tu" only in the informal catalog), no
unelided "que" before a vowel, and compiled files that match their sources."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from chalicelib.translations import LOCALES_DIR, words
from infra import catalogs

PLACEHOLDER = re.compile(r"\{\{?[a-z_.]+\}?\}")
# "tu", "te", "t'" (either apostrophe), "toi", "ton", "ta", "tes", "tien(ne)".
TUTOIEMENT = re.compile(r"(?i)\b(tu|te|toi|ton|ta|tes|tienne?s?)\b|\bt['\u2019]")
VOUVOIEMENT = re.compile(r"(?i)\b(vous|votre|vos|vôtre)\b")
UNELIDED = re.compile(r"(?i)\b(que|de|le|la|ne|se|je|me)\s+[aeiouéèêàâîôûh]\w*")
ELISION_EXCEPTIONS = {"de helptal"}  # a brand, not a word that elides


def _messages(locale):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "helptal.po").open("rb") as fh:
        catalog = read_po(fh)
    found = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{locale}: {key} is fuzzy"
        found[key] = texts
    return found


EN, FR, FR_INFORMAL = _messages("en"), _messages("fr"), _messages("fr@informal")


def test_every_message_has_an_english_and_a_french_text():
    assert set(EN) == set(FR)
    for key in EN:
        assert all(EN[key]) and all(FR[key]), f"{key} is untranslated"


@pytest.mark.parametrize("key", sorted(EN))
def test_a_translation_keeps_the_placeholders_of_the_english(key):
    expected = {frozenset(PLACEHOLDER.findall(text)) for text in EN[key]}
    for texts in (FR[key], FR_INFORMAL.get(key, FR[key])):
        assert {frozenset(PLACEHOLDER.findall(text)) for text in texts} == expected, key


def test_french_says_vous_and_the_informal_catalog_says_tu():
    for key, texts in FR.items():
        for text in texts:
            assert not TUTOIEMENT.search(text), f"fr {key} says tu: {text}"
    assert set(FR_INFORMAL) <= set(FR), "an informal message has no formal one"
    for key, texts in FR.items():
        if any(VOUVOIEMENT.search(text) for text in texts):
            assert key in FR_INFORMAL, f"{key} says vous but has no informal form"
    for key, texts in FR_INFORMAL.items():
        for text in texts:
            assert not VOUVOIEMENT.search(text), f"fr@informal {key} says vous: {text}"


def test_french_elides_before_a_vowel_and_has_no_inclusive_dots():
    for catalog in (FR, FR_INFORMAL):
        for key, texts in catalog.items():
            for text in texts:
                for match in UNELIDED.finditer(PLACEHOLDER.sub("X", text)):
                    assert match.group(0).lower() in ELISION_EXCEPTIONS, f"{key}: {match[0]}"
                assert "·" not in text, key


def test_an_informal_workspace_reads_tu_and_the_rest_falls_back_to_formal_french():
    informal = words("fr", "informal")
    assert informal["join.name"] == "Ton nom"
    assert informal["join.title"] == words("fr")["join.title"]
    assert words("en", "informal")["join.name"] == "Your name"


def test_compiled_catalogs_match_their_sources():
    sources = catalogs.catalog_sources()
    assert {p.parent.parent.name for p in sources} == {"en", "fr", "fr@informal"}
    for po_path in sources:
        mo_path = Path(po_path).with_suffix(".mo")
        assert mo_path.exists() and mo_path.read_bytes() == catalogs.compiled(po_path), (
            f"{mo_path} is out of date: run python -m infra.catalogs"
        )
