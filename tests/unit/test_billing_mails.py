"""The billing mails: every one in English and French with the same placeholders, French
that says "vous" and elides, amounts with their currency, each reader in their language,
owners and the billing address only, one id per mail and reader."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.accounts.model import Role
from chalicelib.accounts.owner_readers import LANGUAGES
from chalicelib.billing import mails
from chalicelib.billing.mails import BillingNotice, format_money
from chalicelib.billing.model import Money, Processor
from tests.billing_fakes import BACKUP_VISA, OWNER, WS, BillingWorld

PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
TUTOIEMENT = re.compile(r"(?i)\b(tu|te|toi|ton|ta|tes|tienne?s?)\b|\bt['\u2019]")
UNELIDED = re.compile(r"(?i)\b(que|de|le|la|ne|se|je|me)\s+[aeiouéèêàâîôûh]\w*")

NOTICES = {
    "payment_failed": BillingNotice("payment_failed", "in_1", amount=Money(14_700, "usd")),
    "grace_started": BillingNotice(
        "grace_started",
        "grace-1",
        amount=Money(14_700, "usd"),
        date=datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
    ),
    "read_only": BillingNotice("read_only", "grace-1"),
    "restored": BillingNotice("restored", "in_1", amount=Money(14_700, "usd"), card=BACKUP_VISA),
    "trial_ended": BillingNotice("trial_ended", "trial", plan_name="Pro", days=14, seats=2),
    "refund_issued": BillingNotice(
        "refund_issued", "in_1:cancellation", amount=Money(9_850, "usd"), processor=Processor.STRIPE
    ),
    "subscription_canceled": BillingNotice("subscription_canceled", "sub_1", plan_name="Pro"),
}


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    english, french = mails.WORDS["en"], mails.WORDS["fr"]
    assert set(english) == set(french)
    for key in english:
        assert set(PLACEHOLDER.findall(english[key])) == set(PLACEHOLDER.findall(french[key])), key
    assert set(mails.PARAGRAPHS) == set(mails.KINDS) == set(NOTICES)


def test_french_says_vous_elides_and_avoids_rendez_vous() -> None:
    for key, text in mails.WORDS["fr"].items():
        assert not TUTOIEMENT.search(text), key
        assert "rendez-vous" not in text.lower(), key
        assert "·" not in text, key
        assert not UNELIDED.search(PLACEHOLDER.sub("X", text)), key


@pytest.mark.parametrize("kind", mails.KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_mail_renders_whole_in_each_language(kind: str, language: str) -> None:
    world = BillingWorld()
    workspace = world.accounts.workspaces[WS]
    reader = mails.Reader("user-1", "Olivia", "olivia@acme.test", language)
    subject, text, html = mails.render(NOTICES[kind], workspace, reader, "https://app.test/b")
    assert subject and "{" not in subject + text + html
    assert text.startswith("Hello Olivia," if language == "en" else "Bonjour Olivia,")
    assert "Acme Support" in subject or "Acme Support" in text
    if kind in mails.WITH_LINK:
        assert "https://app.test/b" in text and 'href="https://app.test/b"' in html
    paragraphs = text.strip().split("\n\n")
    assert len(paragraphs) >= 3, paragraphs


def test_amounts_and_days_are_written_as_each_language_writes_them() -> None:
    assert format_money(Money(14_700, "usd"), "en") == "$147.00"
    assert format_money(Money(14_700, "usd"), "fr").replace("\xa0", " ") == "147,00 $US"
    assert format_money(Money(500, "jpy"), "en") == "¥500"
    world = BillingWorld()
    workspace = world.accounts.workspaces[WS]
    french = mails.Reader("user-1", "Olivia", "o@acme.test", "fr")
    subject, text, _ = mails.render(NOTICES["grace_started"], workspace, french, "x")
    assert "9 mars 2026" in subject and "147,00" in text
    english = mails.Reader("user-1", "Olivia", "o@acme.test", "en")
    subject, text, _ = mails.render(NOTICES["restored"], workspace, english, "x")
    assert "$147.00" in text and "Visa ending in 1881" in text


def test_each_owner_reads_their_language_and_the_billing_address_the_workspaces() -> None:
    world = BillingWorld()
    world.accounts.workspaces[WS] = replace(
        world.accounts.workspaces[WS], locale="fr", name="Durand & Fils"
    )
    world.accounts.add_member(WS, "01HUSERFRENCHOWNER00000002", role=Role.OWNER, locale="en")
    world.accounts.add_member(WS, "01HUSERAGENT00000000000003", role=Role.AGENT)
    world.accounts.add_member(
        WS, "01HUSERSAMEADDRESS00000004", role=Role.OWNER, email="OLIVIA@acme.test"
    )

    sent = mails.send(world.deps(), WS, NOTICES["payment_failed"], "compta@durand.test")
    again = mails.send(world.deps(), WS, NOTICES["payment_failed"], "compta@durand.test")

    assert (sent, again) == (3, 0)
    by_reader = {m.mail_id.rsplit(":", 1)[1]: m for m in world.mail.mails}
    assert set(by_reader) == {f"user-{OWNER}", "user-01HUSERFRENCHOWNER00000002", "billing-email"}
    assert by_reader[f"user-{OWNER}"].subject.startswith("Le paiement")  # no own choice: fr
    assert by_reader["user-01HUSERFRENCHOWNER00000002"].subject.startswith("The payment")
    assert by_reader["billing-email"].to == ["compta@durand.test"]
    assert by_reader["billing-email"].text.startswith("Bonjour,")
    assert "Durand &amp; Fils" in by_reader["billing-email"].html
    assert all(m.mail_id.startswith(f"billing:{WS}:in_1:payment_failed:") for m in world.mail.mails)
    assert all(m.purpose == "billing" and m.from_name == "Helptal" for m in world.mail.mails)
