"""The web client's live chat code keeps the chat's rules where the browser tests cannot reach
every path: a bot message has its words in both languages, nothing a visitor or the answer
bot sends is put into the page as HTML, and a citation opens only as an http(s) link that
passes no opener and no referrer."""

import json
import re
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
CHAT_MODULES = ("ticket_chat.js", "settings_chat.js", "chat_insights.js")


def _source(name: str) -> str:
    return (WEBAPP / "js" / "screens" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_bot_message_is_named_and_labelled_in_both_languages(language):
    words = json.loads((WEBAPP / "i18n" / f"{language}.json").read_text(encoding="utf-8"))

    assert "{author}" in words["message.kind.bot"]
    assert words["message.kind_label.bot"].strip()
    assert words["chat.answer_bot"].strip()


@pytest.mark.parametrize("module", [*CHAT_MODULES, "ticket.js", "inbox.js"])
def test_chat_text_is_never_put_into_the_page_as_html(module):
    code = _source(module)

    assert "dangerouslySetInnerHTML" not in code
    assert not re.search(r"\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write", code)


def test_a_citation_links_only_to_http_and_opens_without_opener_or_referrer():
    code = _source("ticket_chat.js")

    assert re.search(r'parsed\.protocol === "http:" \|\| parsed\.protocol === "https:"', code)
    links = re.findall(r"<a [^>]*>", code)
    assert links, "the citations are links"
    for link in links:
        assert "href=${link}" in link  # the checked URL, never the raw one
        assert 'rel="noopener noreferrer"' in link
