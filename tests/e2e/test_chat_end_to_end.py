"""Live chat end to end, in headless Chromium, on the stack `make run AI=local` runs (the
local stand-in model answers for Claude): the demo host page (devstack/demo_site.py, a
customer's site on another origin) embeds the demo workspace's widget; the workspace has a
published help-centre article that answers the question.  The visitor asks; the answer bot
answers, marked as the bot's, with a citation linking that article on the help centre (the
link opens the article); the visitor asks for a person; the owner, logged into the web
client, finds the conversation in the inbox (Chat, open), opens it, sees the bot's answer
marked and the hand-off note, and replies; the reply appears in the widget without a reload.

In English and in French (`<html lang="fr">`, a French question).  Screenshots (widget
closed, open, the bot's answer, the agent's reply) go to test-artifacts/screenshots/;
axe-core checks the open widget with the bot's answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from playwright.sync_api import expect

from devstack.demo_site import DemoSite, origin_of
from devstack.seed import DEMO_EMAIL, DEMO_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.test_local_stand_in_model_on_the_local_stack import (  # noqa: F401 - fixture
    MARKER,
    local_ai_stack,
)

BOT_ANSWER_SECONDS = 45  # the answer goes through the AI-jobs queue and the event pump
REPLY_WITHIN_SECONDS = 5


@dataclass(frozen=True)
class Demo:
    api: str
    auth: dict[str, str]
    site: DemoSite
    help_centre: str  # the demo workspace's help centre, e.g. http://127.0.0.1:8000/hc/demo


WORDS = {
    "en": {
        "path": "",
        "bubble": "Chat with us",
        "send": "Send",
        "bot": "Answer bot",
        "person": "Talk to a person",
        "handed_off": "A person from the team will answer here.",
        "question": "How do I reset my password?",
        "article": "How to reset your password",
        "article_path": "/en/articles/reset-password",
        "reply": "I have sent you a new link by e-mail.",
    },
    "fr": {
        "path": "fr",
        "bubble": "Discuter avec nous",
        "send": "Envoyer",
        "bot": "Assistant automatique",
        "person": "Parler à une personne",
        "handed_off": "Une personne de l\u2019équipe va vous répondre ici.",
        "question": "Comment réinitialiser mon mot de passe ?",
        "article": "Réinitialiser ton mot de passe",
        "article_path": "/fr/articles/reinitialiser-mot-de-passe",
        "reply": "Je vous ai envoyé un nouveau lien par e-mail.",
    },
}


@pytest.fixture(scope="module")
def demo(local_ai_stack) -> Iterator[Demo]:  # noqa: F811 - the imported fixture
    """The demo workspace (AI on, the chat's AI answers on, its articles published) and its
    demo host page on a free port, allowed by the workspace's chat settings."""
    api = local_ai_stack.api_url
    login = requests.post(
        f"{api}/v1/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    site = DemoSite(api, port=0).start()
    settings = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()
    assert settings["enabled"] and settings["ai_answers_effective"], settings
    origins = [*settings["allowed_origins"], origin_of(site.url)]
    put = requests.put(
        f"{api}/v1/chat/settings", json={"allowed_origins": origins}, headers=auth, timeout=10
    )
    assert put.status_code == 200, put.text
    help_centre = requests.get(f"{api}/v1/kb/settings", headers=auth, timeout=10).json()["url"]
    yield Demo(api, auth, site, help_centre.rstrip("/"))
    site.stop()


def _shot(page, screenshot_path, name: str) -> None:
    page.screenshot(path=str(screenshot_path).replace(".png", f"-{name}.png"))


def _conversation_id(page) -> str:
    stored = page.wait_for_function(
        """() => Object.keys(localStorage)
            .filter((k) => k.startsWith('helptal-chat:'))
            .map((k) => JSON.parse(localStorage.getItem(k)).conversation_id)
            .find(Boolean)""",
        timeout=10_000,
    )
    return str(stored.json_value())


def _agent_replies_in_the_web_client(browser, demo: Demo, words: dict[str, str], ticket_id: str):
    """The owner finds the conversation in the inbox, reads it and replies."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(f"{demo.api}/app/login?next=/")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{demo.api}/app/")
    row = page.locator(".ticket-row").filter(has_text=words["question"])
    expect(row.locator(".badge.channel-chat")).to_have_text("Chat")
    expect(row.locator(".badge.status-open")).to_have_text("Open")
    row.get_by_role("link").first.click()
    page.wait_for_url(f"{demo.api}/app/tickets/{ticket_id}")

    conversation = page.get_by_role("list", name="Conversation")
    answer = conversation.get_by_role("article", name="Answer from Answer bot")
    expect(answer.locator("header")).to_contain_text("Answer bot")
    expect(answer.locator("header")).to_contain_text("Automatic answer")
    expect(answer.get_by_role("list", name="Sources").get_by_role("link")).to_have_text(
        words["article"]
    )
    note = conversation.locator("article[aria-label^='Internal note']")
    expect(note.filter(has_text="The visitor asked for a person.")).to_have_count(1)

    page.get_by_label("Reply", exact=True).fill(words["reply"])
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("status").filter(has_text="Reply sent").wait_for()
    return context, time.monotonic()


def _chat(browser, demo: Demo, screenshot_path, lang: str) -> None:
    words = WORDS[lang]
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(demo.site.url + words["path"])
    assert page.evaluate("document.documentElement.lang") == lang

    bubble = page.get_by_role("button", name=words["bubble"])
    bubble.wait_for(timeout=10_000)
    _shot(page, screenshot_path, "closed")
    bubble.click()
    box = page.get_by_role("textbox", name="Message")
    box.wait_for()
    _shot(page, screenshot_path, "open")
    box.fill(words["question"])
    page.get_by_role("button", name=words["send"]).click()
    ticket_id = _conversation_id(page)

    # The bot's answer, marked as the bot's, citing the article on the help centre.
    log = page.get_by_role("log")
    answer = log.locator(".msg.bot")
    answer.wait_for(timeout=BOT_ANSWER_SECONDS * 1000)
    expect(answer.locator(".who")).to_contain_text(words["bot"])
    expect(answer.locator(".text")).to_contain_text(MARKER)
    expect(answer.locator(".text")).to_contain_text("[1]")
    expect(answer.locator(".text")).not_to_contain_text("**")  # plain text, not Markdown
    link = answer.get_by_role("link", name=words["article"])
    href = link.get_attribute("href")
    assert href == demo.help_centre + words["article_path"], href
    assert link.get_attribute("rel") == "noopener noreferrer"
    _shot(page, screenshot_path, "bot-answer")
    if lang == "en":
        assert_accessible(page, "the open chat widget with the answer bot's answer")
    with context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    assert article.url == href
    expect(article.get_by_role("heading", name=words["article"], level=1)).to_be_visible()
    article.close()

    # The visitor asks for a person: the conversation goes to the team.
    answer.get_by_role("button", name=words["person"]).click()
    expect(page.get_by_role("status").filter(has_text=words["handed_off"])).to_have_count(1)
    ticket = requests.get(f"{demo.api}/v1/tickets/{ticket_id}", headers=demo.auth, timeout=10)
    assert ticket.json()["status"] == "open", ticket.json()

    page.evaluate("() => { window.__same_page = true; }")
    agent, replied = _agent_replies_in_the_web_client(browser, demo, words, ticket_id)
    log.locator(".msg.agent").filter(has_text=words["reply"]).wait_for(
        timeout=REPLY_WITHIN_SECONDS * 1000
    )
    waited = time.monotonic() - replied
    _shot(page, screenshot_path, "agent-reply")
    assert waited < REPLY_WITHIN_SECONDS
    assert page.evaluate("() => window.__same_page") is True  # no reload
    assert problems == []
    agent.close()
    context.close()


def test_the_bot_answers_from_the_help_centre_then_a_person_replies_in_the_widget(
    browser, demo, screenshot_path
):
    _chat(browser, demo, screenshot_path, "en")


def test_in_french_the_bot_answers_from_the_help_centre_then_a_person_replies(
    browser, demo, screenshot_path
):
    _chat(browser, demo, screenshot_path, "fr")
