"""The chat widget on the whole local stack, in headless Chromium: a customer's page on
another origin (a local server on a free port, with a strict policy) embeds the widget from
the stack's API; the visitor opens it and asks; an agent answers through the API; the answer
appears in the widget without a reload. Hostile text stays text, the open widget passes axe,
and a page on an origin the workspace does not allow gets no conversation.

Screenshots (closed, open, the agent's reply; English and French) go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
TEAM = "Acme Outdoor Support"
HOSTILE = (
    '<script>window.__widget_pwned = 1</script><img src=x onerror="window.__widget_pwned = 2">'
    " [link](javascript:window.__widget_pwned=3) " + "W" * 300 + " مرحبا 🎉"
)
REPLY_WITHIN_SECONDS = 5.0


class HostPage:
    """A customer's site on http://localhost:<free port>: `/` in English, `/fr` in French,
    each loading the widget with `public_key` under a policy that allows only the API."""

    def __init__(self, api_url: str, public_key: str) -> None:
        def page(lang: str) -> bytes:
            return (
                f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>Acme Outdoor</title></head><body><main><h1>Acme Outdoor</h1>"
                "<p>Tents, stoves and good advice.</p></main>"
                f'<script src="{api_url}/chat/widget.js" data-workspace="{public_key}" async>'
                "</script></body></html>"
            ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = page("fr" if self.path.startswith("/fr") else "en")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'none'; script-src {api_url}; connect-src {api_url}; "
                    f"img-src {api_url} https:; style-src 'none'; base-uri 'none'",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ChatWorkspace:
    api: str
    auth: dict[str, str]
    public_key: str
    site: HostPage
    elsewhere: HostPage  # the same page on an origin the workspace does not allow


@pytest.fixture(scope="module")
def chat(stack) -> Iterator[ChatWorkspace]:
    api = stack.api_url
    email = f"sam-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Acme Outdoor",
            "name": "Sam Agent",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    )
    assert signup.status_code in (200, 201), signup.text
    stack.confirm_signup(email)  # then the workspace answers its customers
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    settings = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10)
    assert settings.status_code == 200, settings.text
    public_key = settings.json()["public_key"]
    site = HostPage(api, public_key)
    elsewhere = HostPage(api, public_key)
    updated = requests.put(
        f"{api}/v1/chat/settings",
        json={"enabled": True, "allowed_origins": [site.origin], "team_name": TEAM},
        headers=auth,
        timeout=10,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["allowed_origins"] == [site.origin]
    yield ChatWorkspace(api, auth, public_key, site, elsewhere)
    site.stop()
    elsewhere.stop()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    opened = context.new_page()
    opened.problems = []  # type: ignore[attr-defined]
    opened.on(
        "console",
        lambda message: (
            opened.problems.append(message.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in message.text
            else None
        ),
    )
    opened.on("pageerror", lambda error: opened.problems.append(str(error)))  # type: ignore[attr-defined]
    yield opened
    context.close()


def _shot(page, screenshot_path, name: str) -> None:
    page.screenshot(path=str(screenshot_path).replace(".png", f"-{name}.png"))


def _conversation_id(page, public_key: str) -> str:
    key = f"helptal-chat:{public_key}"
    page.wait_for_function(f"() => localStorage.getItem('{key}')", timeout=10_000)
    stored: dict[str, str] = page.evaluate(f"() => JSON.parse(localStorage.getItem('{key}'))")
    return stored["conversation_id"]


def _reply(chat: ChatWorkspace, ticket_id: str, text: str) -> None:
    sent = requests.post(
        f"{chat.api}/v1/tickets/{ticket_id}/messages",
        json={"kind": "reply", "body": text},
        headers=chat.auth,
        timeout=10,
    )
    assert sent.status_code == 201, sent.text


def _ask_and_get_a_reply(page, chat: ChatWorkspace, screenshot_path, words: dict[str, str]):
    bubble = page.get_by_role("button", name=words["bubble"])
    bubble.wait_for(timeout=10_000)
    _shot(page, screenshot_path, "closed")
    bubble.click()
    page.get_by_role("dialog", name=TEAM).wait_for()
    box = page.get_by_role("textbox", name="Message")
    assert box.evaluate("el => el.getRootNode().activeElement === el")
    _shot(page, screenshot_path, "open")
    box.fill(words["question"])
    page.get_by_role("button", name=words["send"]).click()
    ticket_id = _conversation_id(page, chat.public_key)
    ticket = requests.get(f"{chat.api}/v1/tickets/{ticket_id}", headers=chat.auth, timeout=10)
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["messages"][0]["text"].strip() == words["question"]

    log = page.get_by_role("log")
    time.sleep(0.5)  # the widget is waiting on its long poll when the agent answers
    replied = time.monotonic()
    _reply(chat, ticket_id, words["answer"])
    log.get_by_text(words["answer"]).wait_for(timeout=REPLY_WITHIN_SECONDS * 1000)
    waited = time.monotonic() - replied
    _shot(page, screenshot_path, "reply")
    return ticket_id, waited


def test_a_visitor_asks_and_the_agents_reply_appears_without_reload(page, chat, screenshot_path):
    page.goto(chat.site.origin + "/")
    ticket_id, waited = _ask_and_get_a_reply(
        page,
        chat,
        screenshot_path,
        {
            "bubble": "Chat with us",
            "send": "Send",
            "question": "Do you ship tents to Lyon?",
            "answer": "Yes, within two days.",
        },
    )
    assert waited < REPLY_WITHIN_SECONDS
    assert page.url == chat.site.origin + "/"  # no reload, no navigation
    assert page.context.cookies() == []
    assert page.problems == []  # type: ignore[attr-defined]

    # Hostile text from the visitor and from the agent is shown as text; nothing runs.
    page.get_by_role("textbox", name="Message").fill(HOSTILE)
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = requests.get(
            f"{chat.api}/v1/tickets/{ticket_id}", headers=chat.auth, timeout=10
        ).json()["messages"]
        if len(messages) >= 3:
            break
        time.sleep(0.2)
    _reply(chat, ticket_id, "<b>Not bold</b> <script>window.__widget_pwned = 4</script>")
    log.get_by_text("<b>Not bold</b>", exact=False).wait_for(timeout=REPLY_WITHIN_SECONDS * 1000)
    texts = log.locator(".text").all_text_contents()
    assert HOSTILE in texts
    assert log.locator("img, script, b").count() == 0
    assert page.evaluate("() => window.__widget_pwned") is None
    assert log.get_by_text(HOSTILE).count() == 1  # shown once, reconciled with the stored one


def test_the_widget_speaks_french_on_a_french_page(page, chat, screenshot_path):
    page.goto(chat.site.origin + "/fr")
    _, waited = _ask_and_get_a_reply(
        page,
        chat,
        screenshot_path,
        {
            "bubble": "Discuter avec nous",
            "send": "Envoyer",
            "question": "Livrez-vous des tentes à Lyon ?",
            "answer": "Oui, sous deux jours.",
        },
    )
    assert waited < REPLY_WITHIN_SECONDS


def test_the_open_widget_passes_axe(page, chat):
    page.goto(chat.site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("dialog", name=TEAM).wait_for()
    assert_accessible(page, "the open chat widget on the local stack")


def test_a_page_on_an_origin_not_allowed_gets_no_conversation(page, chat):
    page.goto(chat.elsewhere.origin + "/")
    page.wait_for_function(
        "() => window.HelptalChat && window.HelptalChat.state === 'unavailable'", timeout=10_000
    )
    assert page.get_by_role("button", name="Chat with us").count() == 0
    # What the page's own script would get: refused, with no CORS header to read it.
    started = requests.post(
        f"{chat.api}/v1/chat/{chat.public_key}/conversations",
        json={"message": "Let me in"},
        headers={"Origin": chat.elsewhere.origin},
        timeout=10,
    )
    assert started.status_code == 403, started.text
    assert started.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in started.headers
    listed = requests.get(f"{chat.api}/v1/tickets", headers=chat.auth, timeout=10).json()
    subjects = [ticket["subject"] for ticket in listed["tickets"]]
    assert "Let me in" not in subjects


def test_make_run_serves_the_demo_page_with_the_widget(stack, browser):
    # On 8010, or on a free port when another stack on this machine holds it: the demo
    # workspace's widget allows the one it got.
    found = re.search(r"chat demo\s+(http://localhost:(\d+)/)", stack.log_tail(limit=10**7))
    assert found, "make run names its chat demo page"
    context = browser.new_context()
    try:
        demo = context.new_page()
        demo.goto(found.group(1))
        demo.get_by_role("button", name="Chat with us").wait_for(timeout=10_000)
        demo.goto(found.group(1) + "fr")
        demo.get_by_role("button", name="Discuter avec nous").wait_for(timeout=10_000)
    finally:
        context.close()
