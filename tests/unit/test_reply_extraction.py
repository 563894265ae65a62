import time
from pathlib import Path

import pytest

from chalicelib.mail.inbound import InboundMail, parse_mime
from chalicelib.mail.replies import VisibleReply, visible_reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def fixture(name: str) -> InboundMail:
    return parse_mime((FIXTURES / name).read_bytes())


# --- real client output ---------------------------------------------------------------------


def test_gmail_reply_shows_only_the_new_text_and_folds_the_signature():
    mail = fixture("gmail_reply.eml")

    reply = visible_reply(mail.text, mail.html)

    assert reply.text == (
        "Hi Ann,\n\n"
        "That fixed the export, thanks! One more thing: the CSV still has the old column names."
        "\n\nBest,\nBob"
    )
    assert reply.signature == "Bob Martin\nHead of Operations, Nordwind Logistics\n+49 30 1234567"
    assert reply.quoted.startswith("On Tue, 3 Nov 2026 at 10:00, Ann from Acme Support")
    assert "Could you try clearing the cache" in reply.quoted


def test_outlook_reply_shows_only_the_new_text():
    mail = fixture("outlook_reply.eml")

    reply = visible_reply(mail.text, mail.html)

    assert reply.text == (
        "It still fails with the same error, see below. Our accountant can't close the month."
        "\n\nKind regards\nJürgen Weiß\nFinance, Nordwind Logistics"
    )
    assert reply.quoted.startswith("________________________________\nFrom: Ann from Acme Support")
    assert "We deployed a fix" in reply.quoted


def test_outlook_html_only_reply_is_cut_at_the_reply_header_block():
    mail = fixture("outlook_reply.eml")
    assert mail.html is not None

    reply = visible_reply("", mail.html)

    assert reply.text.startswith("It still fails with the same error")
    assert "We deployed a fix" not in reply.text
    assert reply.quoted.startswith("From: Ann from Acme Support")


def test_apple_mail_reply_folds_the_iphone_signature_and_the_quote():
    mail = fixture("apple_mail_reply.eml")

    reply = visible_reply(mail.text, mail.html)

    assert reply == VisibleReply(
        text="Yes please, go ahead and close it.",
        quoted=reply.quoted,
        signature="Sent from my iPhone",
    )
    assert reply.quoted.startswith("> On 3 Nov 2026, at 10:00, Ann from Acme Support")


def test_french_gmail_reply_folds_le_a_ecrit_and_envoye_de_mon_iphone():
    mail = fixture("gmail_reply_fr.eml")

    reply = visible_reply(mail.text, mail.html)

    assert reply.text == "Bonjour Ann,\n\nMerci, c'est réglé : l'export fonctionne à nouveau."
    assert reply.signature == "Envoyé de mon iPhone"
    assert reply.quoted.startswith("Le mar. 3 nov. 2026 à 10:00, Ann de Acme Support")


# --- plain-text patterns --------------------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [
        "On Tue, 3 Nov 2026 at 10:00, Ann <ann@x.test> wrote:\n> Try again.",
        "On Tue, 3 Nov 2026 at 10:00, Ann Support <ann@helptal-support.example.com>\nwrote:\n"
        "\n> Try again.",
        "On 3 Nov 2026, at 10:00, Ann <ann@x.test> wrote:\n\n> Try again.",
        "Le mar. 3 nov. 2026 à 10:00, Ann <ann@x.test> a écrit :\n> Réessayez.",
        "Am Di., 3. Nov. 2026 um 10:00 Uhr schrieb Ann <ann@x.test>:\n> Nochmal.",
        "-----Original Message-----\nFrom: Ann <ann@x.test>\nSent: Tuesday, November 3, 2026 "
        "10:00 AM\nTo: Bob <bob@y.test>\nSubject: RE: Export\n\nTry again.",
        "________________________________\nFrom: Ann <ann@x.test>\nSent: Tuesday, November 3, "
        "2026 10:00 AM\nTo: Bob <bob@y.test>\nSubject: RE: Export\n\nTry again.",
        "From: Ann <ann@x.test>\nDate: Tuesday, 3 November 2026 at 10:00\nTo: Bob <bob@y.test>\n"
        "Subject: Re: Export\n\nTry again.",
        "De : Ann <ann@x.test>\nEnvoyé : mardi 3 novembre 2026 10:00\nÀ : Bob <bob@y.test>\n"
        "Objet : RE: Export\n\nRéessayez.",
        "________________________________\nDe : Ann <ann@x.test>\nEnvoyé : mardi 3 novembre "
        "2026 10:00\nÀ : Bob <bob@y.test>\nObjet : RE: Export\n\nRéessayez.",
        "> Try again.\n> Ann",
        "Ann <ann@x.test> schrieb am 03.11.2026 um 10:00:\n> Nochmal.",
    ],
)
def test_quoted_history_is_folded_away(history):
    reply = visible_reply(f"Still broken.\n\n{history}\n")

    assert reply.text == "Still broken."
    assert reply.quoted == history.strip()
    assert reply.signature is None


def test_reply_without_history_is_returned_whole():
    text = "Hello,\n\nthe booking page shows an error since this morning.\n\nLena"
    assert visible_reply(text) == VisibleReply(text=text, quoted="", signature=None)


def test_sign_off_words_are_not_taken_for_a_signature():
    text = "Hi,\n\nThanks, I'll try that tomorrow.\nBest regards, and one more question: why?"
    assert visible_reply(text).text == text


def test_dash_dash_space_starts_the_signature():
    reply = visible_reply("Please call me.\n\n-- \nBob Martin\n+49 30 1234567\n")
    assert reply.text == "Please call me."
    assert reply.signature == "Bob Martin\n+49 30 1234567"


def test_signature_delimiter_without_text_above_is_kept_as_text():
    assert visible_reply("-- \nBob").text == "-- \nBob"


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Envoyé de mon iPhone",
        "Télécharger Outlook pour Android",
        "Von meinem iPhone gesendet",
    ],
)
def test_mobile_signatures_are_folded(signature):
    reply = visible_reply(f"Ok, go ahead.\n\n{signature}\n")
    assert reply.text == "Ok, go ahead."
    assert reply.signature == signature


def test_interleaved_answers_keep_the_quotes_they_answer():
    text = "> Which browser?\nFirefox 140.\n\n> Since when?\nMonday.\n"
    assert visible_reply(text).text == text.strip()


def test_forward_comes_back_whole_rather_than_empty():
    text = (
        "---------- Forwarded message ---------\nFrom: Carl <carl@z.test>\n"
        "Date: Tue, 3 Nov 2026\nSubject: Broken\nTo: <bob@y.test>\n\nIt is broken.\n"
    )
    reply = visible_reply(text)
    assert reply.text == text.strip()
    assert reply.quoted == ""


def test_message_that_is_all_quote_comes_back_whole():
    text = "> old question\n> more of it\n"
    assert visible_reply(text).text == text.strip()


def test_text_above_a_forward_is_the_reply():
    text = (
        "Can you help this customer?\n\n---------- Forwarded message ---------\n"
        "From: Carl <carl@z.test>\nSubject: Broken\n\nIt is broken.\n"
    )
    reply = visible_reply(text)
    assert reply.text == "Can you help this customer?"
    assert "It is broken." in reply.quoted


# --- HTML markers ---------------------------------------------------------------------------


def test_gmail_quote_in_html_is_used_when_the_text_shows_no_quote():
    html = (
        '<div dir="ltr">Merci !</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "Am Di., 3. Nov. 2026 hat Ann geschrieben:</div><blockquote>Alt</blockquote></div>"
    )
    reply = visible_reply("", html)
    assert reply.text == "Merci !"
    assert reply.quoted.startswith("Am Di., 3. Nov. 2026 hat Ann geschrieben:")


def test_thunderbird_and_apple_cite_blocks_in_html_are_quotes():
    html = '<p>New text</p><blockquote type="cite"><p>old text</p></blockquote>'
    assert visible_reply("", html).text == "New text"


def test_outlook_desktop_border_block_in_html_is_a_quote():
    html = (
        "<div><p>Neuer Text</p></div><div style='border:none;border-top:solid #E1E1E1 1.0pt;"
        "padding:3.0pt 0cm 0cm 0cm'><p><b>Von:</b> Ann</p></div><p>Alter Text</p>"
    )
    reply = visible_reply("", html)
    assert reply.text == "Neuer Text"
    assert "Alter Text" in reply.quoted


def test_plain_text_wins_when_it_shows_the_quote():
    mail = fixture("gmail_reply.eml")
    assert visible_reply(mail.text, mail.html) == visible_reply(mail.text)


# --- robustness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("", None),
        ("", ""),
        ("\r\n\r\n", None),
        ("On " + "a " * 50_000 + "wrote:", None),
        ("On " + "a" * 100_000, None),
        ("From: x\n" * 5_000 + "Sent: y", None),
        ("> q\n" * 20_000 + "answer", None),
        ("line\n" * 50_000, "<div>" * 50_000),
        ("\x00\ud800", "<blockquote type=cite>" * 1000),
    ],
)
def test_hostile_text_never_raises_and_stays_fast(text, html):
    started = time.monotonic()
    reply = visible_reply(text, html)
    assert isinstance(reply, VisibleReply)
    assert time.monotonic() - started < 5
