"""The web client's words: every message in English and in French, with the same
placeholders, and every message the app's code asks for exists."""

import json
import re
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
LANGUAGES = ("en", "fr")
# Ids the code builds from a value (`t(\`status.${status}\`)`): every value the API can send.
BUILT_IDS = {
    "status": ["new", "open", "pending", "on_hold", "solved", "closed"],
    "priority": ["low", "normal", "high", "urgent"],
    "delivery": ["received", "queued", "sent", "delivered", "failed", "bounced", "not_sent"],
    "role": ["owner", "admin", "agent"],
    "article.status": ["draft", "published", "internal"],
    "language": ["en", "fr"],
    "message.kind": ["customer", "reply", "note"],
    "message.kind_label": ["customer", "reply", "note"],
    "inbox.view": ["mine", "unassigned", "all"],
}
_LITERAL_ID = re.compile(r"""\bt\(\s*"([^"]+)\"""")
_BUILT_ID = re.compile(r"\bt\(\s*`([a-z_.]+)\.\$\{")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _messages(language: str) -> dict:
    return json.loads((WEBAPP / "i18n" / f"{language}.json").read_text(encoding="utf-8"))


def _forms(message) -> list[str]:
    return list(message.values()) if isinstance(message, dict) else [message]


def _code() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in (WEBAPP / "js").rglob("*.js"))


def test_every_message_exists_in_english_and_french():
    english, french = _messages("en"), _messages("fr")

    assert sorted(set(english) - set(french)) == []
    assert sorted(set(french) - set(english)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_blank(language):
    for message_id, message in _messages(language).items():
        assert all(isinstance(f, str) and f.strip() for f in _forms(message)), message_id


def test_translations_keep_the_placeholders():
    english, french = _messages("en"), _messages("fr")
    for message_id, message in english.items():
        wanted = {p for form in _forms(message) for p in _PLACEHOLDER.findall(form)}
        for form in _forms(french[message_id]):
            assert set(_PLACEHOLDER.findall(form)) <= wanted, message_id
        if isinstance(message, dict):
            assert set(french[message_id]) >= {"one", "other"}, message_id


def test_every_message_the_code_asks_for_exists():
    code = _code()
    asked = set(_LITERAL_ID.findall(code))
    for prefix in set(_BUILT_ID.findall(code)):
        assert prefix in BUILT_IDS, f"t(`{prefix}.${{...}}`): list its values in BUILT_IDS"
        asked |= {f"{prefix}.{value}" for value in BUILT_IDS[prefix]}
    for language in LANGUAGES:
        assert sorted(asked - set(_messages(language))) == [], language


def test_french_addresses_the_agent_formally():
    informal = re.compile(r"\b(tu|te|toi|ton|ta|tes|t')\b", re.IGNORECASE)
    quoted = re.compile(r"«[^»]*»")  # a word named, not said ("« tu »" in the settings)
    for message_id, message in _messages("fr").items():
        for form in _forms(message):
            assert not informal.search(quoted.sub("", form)), (message_id, form)


def test_the_login_form_says_what_the_tests_and_the_issue_name():
    english, french = _messages("en"), _messages("fr")
    assert (english["login.email"], english["login.password"], english["login.submit"]) == (
        "Email",
        "Password",
        "Log in",
    )
    assert (french["login.email"], french["login.password"], french["login.submit"]) == (
        "Adresse e-mail",
        "Mot de passe",
        "Se connecter",
    )
