"""Help-centre dates and words in English and French."""

from datetime import date

from chalicelib.web.helpcentre_words import HC_MESSAGES, PageWords, format_date


def test_dates_are_written_the_way_each_language_writes_them():
    assert format_date(date(2026, 11, 30), "en") == "30 November 2026"
    assert format_date(date(2026, 11, 30), "fr") == "30 novembre 2026"
    assert format_date(date(2026, 8, 1), "fr") == "1er août 2026"
    assert format_date(date(2026, 2, 3), "de") == "3 February 2026"


def test_every_help_centre_word_has_both_languages():
    assert set(HC_MESSAGES["en"]) == set(HC_MESSAGES["fr"])
    assert all(text.strip() for words in HC_MESSAGES.values() for text in words.values())


def test_page_words_fall_back_to_the_shared_ones():
    t = PageWords("fr", {"hc.search": "Rechercher"})
    assert (t["hc.contact"], t["hc.search"]) == ("Nous contacter", "Rechercher")
