"""The notice and subscription mails say the same in English and French, escape what they
quote, and belong to no workspace."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from datetime import timedelta

from chalicelib.privacy.model import ChangeKind, Words
from chalicelib.privacy.notice_mails import PLATFORM_MAILS, confirmation_mail, notice_mail
from chalicelib.privacy.notice_words import WORDS
from tests.notice_fakes import AWS, NOW, NoticeWorld


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_word_has_both_languages_with_the_same_placeholders():
    assert WORDS["en"].keys() == WORDS["fr"].keys()
    for key, english in WORDS["en"].items():
        assert _placeholders(english) == _placeholders(WORDS["fr"][key]), key
        assert WORDS["fr"][key].strip() and english.strip(), key


def test_french_says_vous_never_tu():
    for key, text in WORDS["fr"].items():
        assert not re.search(r"\b(tu|ton|ta|tes|toi)\b", text, re.IGNORECASE), key


def test_a_notice_escapes_what_it_quotes_and_is_logged_under_no_workspace():
    world = NoticeWorld()
    change = world.add_change(days_out=31)
    hostile = replace(
        change,
        summary=Words("<script>alert(1)</script> & more", "<b>gras</b>"),
        subprocessor=replace(AWS, name='Evil "Corp" <img src=x>'),
    )
    mail = notice_mail(
        hostile,
        to="dpo@example.com",
        lang="en",
        name="<Ann>",
        now=NOW,
        links=world.links,
        providers={"vultr": "Vultr"},
        member=True,
        unsubscribe_token=None,
    )
    assert mail.workspace_id == PLATFORM_MAILS
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<img" not in mail.html and "&lt;Ann&gt;" in mail.html
    assert "It replaces: Vultr, digitalocean, neon, upstash." in mail.text
    assert "31 days from now" in mail.text


def test_a_removal_names_who_leaves_and_no_newcomer():
    world = NoticeWorld()
    change = replace(
        world.add_change(days_out=35),
        kind=ChangeKind.REMOVE,
        subprocessor=None,
        replaces=("upstash",),
        effective_at=NOW + timedelta(days=35),
    )
    mail = notice_mail(
        change,
        to="dpo@example.com",
        lang="fr",
        name="",
        now=NOW,
        links=world.links,
        providers={"upstash": "Upstash"},
        member=False,
        unsubscribe_token="tok",
    )
    assert "Quitte la liste : Upstash." in mail.text
    assert "Nouveau sous-traitant" not in mail.text
    assert mail.text.startswith("Bonjour,")


def test_the_confirmation_mail_links_to_its_page_and_offers_one_click_unsubscribe():
    world = NoticeWorld()
    mail = confirmation_mail(
        to="dpo@example.com",
        lang="en",
        nonce="n1",
        confirm_token="c.t",
        unsubscribe_token="u.t",
        links=world.links,
    )
    assert "https://api.helptal.test/legal/subprocessors/subscriptions/confirm/c.t" in mail.text
    assert mail.headers == {
        "List-Unsubscribe": "<https://api.helptal.test/legal/subprocessors/subscriptions/"
        "unsubscribe/u.t>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert mail.workspace_id == PLATFORM_MAILS and mail.mail_id == "subprocessor-subscription:n1"
