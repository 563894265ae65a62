"""The objection mails' words: the same messages and placeholders in English and French,
French saying "vous", and what people wrote escaped in the HTML part."""

from __future__ import annotations

import re
from dataclasses import replace

from chalicelib.billing.mails import format_money
from chalicelib.billing.model import Money, Processor
from chalicelib.privacy.objection_mails import KINDS, WORDS, render
from chalicelib.privacy.objections import Objection, ObjectionStatus
from tests.billing_fakes import NOW, WS
from tests.objection_fakes import PRIVACY_SCREEN, ObjectionWorld


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def test_both_languages_have_the_same_messages_with_the_same_placeholders():
    assert WORDS["en"].keys() == WORDS["fr"].keys()
    for key, english in WORDS["en"].items():
        assert _placeholders(english) == _placeholders(WORDS["fr"][key]), key


def test_french_says_vous_and_never_rendez_vous():
    french = " ".join(WORDS["fr"].values()).lower()
    assert "vous" in french and "rendez-vous" not in french
    assert not re.search(r"\b(tu|ton|ta|tes|toi)\b", french)


def test_every_kind_renders_in_both_languages_with_the_change_and_the_link():
    world = ObjectionWorld()
    change = world.plan_change()
    workspace = world.billing.accounts.get_workspace(WS)
    assert workspace is not None
    objection = Objection("01JOBJECTION00000000000001", WS, change.id, "<b>No</b> & no", "u", NOW)
    terminated = replace(
        objection,
        status=ObjectionStatus.TERMINATED,
        refund=Money(145_791, "usd"),
        refunded_through=Processor.PAYPAL,
    )
    for kind, told in zip(KINDS, (objection, terminated), strict=True):
        for language in ("en", "fr"):
            subject, text, html = render(
                kind, told, change, workspace, "Olivia", language, PRIVACY_SCREEN
            )
            summary = change.summary.fr if language == "fr" else change.summary.en
            assert workspace.name in subject and "Olivia" in text
            assert summary in text and PRIVACY_SCREEN in text and PRIVACY_SCREEN in html
            assert "<b>" not in html
            if kind == "subscription_terminated":
                assert "PayPal" in text
                assert format_money(Money(145_791, "usd"), language) in text
            else:
                assert "&lt;b&gt;No&lt;/b&gt; &amp; no" in html
