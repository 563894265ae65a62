"""Help-centre dates and words in English and French."""

from datetime import date

from chalicelib.web.helpcentre_words import format_date
from chalicelib.web.i18n import translator


def test_dates_are_written_the_way_each_language_writes_them():
    assert format_date(date(2026, 11, 30), "en") == "30 November 2026"
    assert format_date(date(2026, 11, 30), "fr") == "30 novembre 2026"
    assert format_date(date(2026, 8, 1), "fr") == "1er août 2026"
    assert format_date(date(2026, 2, 3), "de") == "3 February 2026"


def test_help_centre_words_come_from_the_catalogs_in_both_languages():
    assert translator("en")["hc.contact"] == "Contact us"
    assert translator("fr")["hc.contact"] == "Nous contacter"


def test_the_contact_form_says_tu_when_the_workspace_chose_it_and_vous_otherwise():
    assert translator("fr")["hc.contact_name"] == "Votre nom"
    assert translator("fr", "informal")["hc.contact_name"] == "Ton nom"
    # Words that address nobody are the same in both forms.
    assert translator("fr", "informal")["hc.contact_send"] == "Envoyer"
