"""The workspace deletion mails' words: the same messages and placeholders in English and
French, French saying "vous", the date and time in the workspace's zone, and names people
wrote escaped in the HTML part."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.privacy.workspace_deletion import DeletionStatus, WorkspaceDeletion
from chalicelib.privacy.workspace_deletion_mails import KINDS, WORDS, render
from tests.billing_fakes import NOW, WS, FakeAccounts
from tests.deletion_fakes import OWNER_ACTOR, SETTINGS_LINK

DELETION = WorkspaceDeletion(
    workspace_id=WS,
    id="01JDELETION000000000000001",
    status=DeletionStatus.SCHEDULED,
    delete_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
    requested_by=OWNER_ACTOR,
    requested_at=NOW,
    next_run_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
)


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


def test_the_date_is_the_workspaces_own_day_and_time():
    accounts = FakeAccounts()
    accounts.add_workspace(WS)  # Europe/Paris: 22:30 UTC on 1 July is 00:30 on 2 July
    workspace = accounts.get_workspace(WS)
    assert workspace is not None

    english = render("scheduled", workspace, DELETION, "Bob", "Ann", "en", SETTINGS_LINK)
    french = render("scheduled", workspace, DELETION, "Chloé", "Ann", "fr", SETTINGS_LINK)

    assert english[0].endswith("deleted on July 2, 2026")
    assert "on July 2, 2026 at 00:30 (Europe/Paris)" in english[1]
    assert "le 2 juillet 2026 à 00:30 (Europe/Paris)" in french[1]


def test_every_kind_renders_in_both_languages_with_the_link_and_escaped_names():
    accounts = FakeAccounts()
    accounts.add_workspace(WS, name="<b>Acme</b> & co")
    workspace = accounts.get_workspace(WS)
    assert workspace is not None
    broken = replace(workspace, timezone="Nowhere/Atlantis")
    for kind in KINDS:
        for language in ("en", "fr"):
            subject, text, html = render(
                kind, broken, DELETION, "Olivia", "<i>Ann</i>", language, SETTINGS_LINK
            )
            assert workspace.name in subject and "Olivia" in text and "<i>Ann</i>" in text
            assert SETTINGS_LINK in text and SETTINGS_LINK in html
            assert "<b>" not in html and "<i>" not in html
            assert "&lt;b&gt;Acme&lt;/b&gt; &amp; co" in html
            if kind == "scheduled":
                assert "(UTC)" in text  # a zone that no longer opens is said in UTC


def test_a_request_by_someone_not_among_the_members_names_an_owner():
    accounts = FakeAccounts()
    accounts.add_workspace(WS)
    workspace = accounts.get_workspace(WS)
    assert workspace is not None
    _, english, _ = render("cancelled", workspace, DELETION, "", None, "en", SETTINGS_LINK)
    _, french, _ = render("cancelled", workspace, DELETION, "", None, "fr", SETTINGS_LINK)
    assert english.startswith("Hello,\n\nAn owner cancelled")
    assert french.startswith("Bonjour,\n\nUn propriétaire a annulé")
