"""The words of the legal pages: both languages, the same placeholders, French that says
"vous", and the French page's statement that the English text is authoritative."""

import re

from chalicelib.privacy.subprocessors import CATEGORY_NOTES, CATEGORY_TITLES, INTEGRATIONS, SEED
from chalicelib.web.legal_words import WORDS, joined, words

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TUTOIEMENT = re.compile(r"(?i)\b(tu|te|toi|ton|ta|tes)\b|\bt'")


def _french_texts():
    yield from ((key, text.fr) for key, text in WORDS.items())
    for p in SEED:
        yield p.id, p.purpose.fr
    for i in INTEGRATIONS:
        yield i.id, i.purpose.fr
    for category, text in {**CATEGORY_TITLES, **CATEGORY_NOTES}.items():
        yield category.value, text.fr


def test_every_text_has_english_and_french_with_the_same_placeholders():
    for key, text in WORDS.items():
        if key == "translation_notice":  # said on the French page only
            assert text.en == "" and text.fr
            continue
        assert text.en and text.fr, key
        assert set(PLACEHOLDER.findall(text.en)) == set(PLACEHOLDER.findall(text.fr)), key


def test_french_says_vous():
    for key, text in _french_texts():
        assert not TUTOIEMENT.search(text), f"{key} says tu: {text}"


def test_the_french_page_says_the_english_text_is_authoritative():
    assert words("fr")["translation_notice"] == (
        "Cette traduction est fournie à titre indicatif. "
        "La version anglaise fait juridiquement foi."
    )


def test_notice_and_changelog_periods_are_filled_in():
    english = words("en")
    assert "thirty (30) days" in english["notice"]
    assert "24 months" in english["changelog_link_intro"]
    assert "trente (30) jours" in words("fr")["notice"]
    assert words("de") == english


def test_names_are_joined_as_each_language_writes_a_list():
    names = ["Vultr", "DigitalOcean", "Neon", "Upstash"]
    assert joined(names, "en") == "Vultr, DigitalOcean, Neon and Upstash"
    assert joined(names, "fr") == "Vultr, DigitalOcean, Neon et Upstash"
    assert joined(["Neon"], "fr") == "Neon"
