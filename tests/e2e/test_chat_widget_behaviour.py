"""The chat widget in headless Chromium, on a customer's page with a strict policy, against a
stand-in of the visitor API that keeps to its contract (docs/decisions/0027-live-chat.md):
what a visitor sees and can do, whatever the API behind it. The same widget on the whole
local stack is `test_chat_widget_on_the_local_stack.py`.

The stand-in lets a test play the team (a reply, a bot answer, typing, seen) and deliver a
message twice, as at-least-once delivery may."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.api.chat_widget import WIDGET_SCRIPT
from tests.e2e.axe import assert_accessible

PUBLIC_KEY = "pk_DemoWidgetKey0000000001"
TEAM = "Acme Support"
HOSTILE = [
    "<script>window.__hacked = 1</script>",
    '<img src=x onerror="window.__hacked = 2">',
    "[click](javascript:window.__hacked=3) javascript:alert(1)",
    "W" * 400,
    "مرحبا، كيف يمكنني المساعدة؟",
    "Merci 🎉👍🏽",
]


@dataclass
class Conversation:
    id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    agent_typing: bool = False
    agent_seen: str | None = None
    status: str = "new"
    email_known: bool = False
    version: int = 0
    handed_off: bool = False


class VisitorApi:
    """The visitor API's contract, in memory, for one workspace key and allowed origins."""

    def __init__(self) -> None:
        self.allowed_origins: set[str] = set()
        self.online = True
        self.locale = "en"
        self.pre_chat = {"name": "optional", "email": "off"}
        self.conversations: dict[str, Conversation] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.refused: list[str] = []
        self.uploaded: list[bytes] = []
        self._ids = 0
        self._changed = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _next_id(self) -> str:
        self._ids += 1
        return f"01JCHAT{self._ids:019d}"

    def message(self, author: str, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": self._next_id(),
            "author": author,
            "author_name": {"agent": "Sam", "bot": TEAM}.get(author, ""),
            "text": text,
            "created_at": "2026-11-30T10:00:00Z",
            "client_id": extra.pop("client_id", None),
            "citations": extra.pop("citations", []),
            "attachments": extra.pop("attachments", []),
        }

    # The team's side, as a test plays it.
    def post(self, conversation: Conversation, message: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            conversation.messages.append(message)
            conversation.version += 1
            self._changed.notify_all()
        return message

    def agent_says(self, conversation: Conversation, text: str) -> dict[str, Any]:
        return self.post(conversation, self.message("agent", text))

    def change(self, conversation: Conversation, **state: Any) -> None:
        with self._changed:
            for name, value in state.items():
                setattr(conversation, name, value)
            conversation.version += 1
            self._changed.notify_all()

    def only_conversation(self) -> Conversation:
        assert len(self.conversations) == 1, self.conversations
        return next(iter(self.conversations.values()))

    def out(self, conversation: Conversation) -> dict[str, Any]:
        return {
            "id": conversation.id,
            "status": conversation.status,
            "online": self.online,
            "email_known": conversation.email_known,
            "handed_off": conversation.handed_off,
        }

    def answer(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        prefix = f"/v1/chat/{PUBLIC_KEY}"
        if not path.startswith(prefix):
            return 404, {"error": {"code": "chat_not_found", "message": "No such chat."}}
        rest = path[len(prefix) :]
        self.calls.append((method, rest, body))
        if rest == "/config":
            locale = query.get("locale") or self.locale
            return 200, {
                "public_key": PUBLIC_KEY,
                "locale": locale,
                "colour": "#0b5394",
                "position": "right",
                "greeting": {
                    "en": "Hi! Ask us anything.",
                    "fr": "Bonjour ! Posez-nous vos questions.",
                }[locale],
                "team_name": TEAM,
                "team_photo_url": None,
                "online": self.online,
                "pre_chat_fields": self.pre_chat,
                "ai_answers": True,
                "turnstile_site_key": None,
                "identity_required": False,
            }
        if rest == "/conversations" and method == "POST":
            conversation = Conversation(id=self._next_id(), email_known=bool(body.get("email")))
            first = self.message("visitor", body["message"], client_id=body.get("client_id"))
            conversation.messages.append(first)
            self.conversations[conversation.id] = conversation
            return 201, {
                "conversation": self.out(conversation),
                "visitor_token": f"vt.{conversation.id}",
                "messages": [first],
                "cursor": first["id"],
            }
        parts = rest.split("/")  # "", "conversations", id, [action]
        if len(parts) < 3 or parts[1] != "conversations" or parts[2] not in self.conversations:
            return 404, {"error": {"code": "conversation_not_found", "message": "Not found."}}
        conversation = self.conversations[parts[2]]
        if headers.get("Authorization") != f"Bearer vt.{conversation.id}":
            return 401, {"error": {"code": "invalid_visitor_token", "message": "No."}}
        action = parts[3] if len(parts) > 3 else ""
        if action == "" and method == "GET":
            return 200, self.out(conversation)
        if action == "messages" and method == "POST":
            for known in conversation.messages:
                if body.get("client_id") and known["client_id"] == body["client_id"]:
                    return 200, known
            files = [
                {
                    "id": file_id,
                    "filename": "report.pdf",
                    "content_type": "application/pdf",
                    "size": 2048,
                    "url": f"/v1/chat/{PUBLIC_KEY}/conversations/{conversation.id}"
                    f"/attachments/{file_id}?visitor=V&expires=1&signature=ab",
                }
                for file_id in body.get("attachment_ids", [])
            ]
            return 201, self.post(
                conversation,
                self.message(
                    "visitor", body["text"], client_id=body.get("client_id"), attachments=files
                ),
            )
        if action == "attachments" and method == "POST":
            return 201, {
                "id": "01JUPLOAD00000000000000001",
                "filename": body["filename"],
                "content_type": body["content_type"],
                "size": body["size"],
                "method": "POST",
                "upload_url": f"{self.url}/upload",
                "fields": {"key": "ws/W/attachments/01JUPLOAD00000000000000001"},
                "max_bytes": body["size"],
                "upload_expires_at": "2026-11-30T10:15:00Z",
                "attach_before": "2026-12-01T10:00:00Z",
            }
        if action == "messages" and method == "GET":
            after = query.get("after", "")
            deadline = time.monotonic() + min(float(query.get("wait", "0")), 20.0)
            with self._changed:
                known = int(query["version"]) if "version" in query else None
                if known is None:  # messages already there are answered at once
                    news_now = self._newer_or_first(conversation, after)
                    known = -1 if news_now else conversation.version
                while conversation.version <= known:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                news = [m for m in conversation.messages if not after or m["id"] > after]
                return 200, {
                    "messages": news,
                    "cursor": news[-1]["id"] if news else after,
                    "agent_typing": conversation.agent_typing,
                    "agent_seen_message_id": conversation.agent_seen,
                    "status": conversation.status,
                    "handed_off": conversation.handed_off,
                    "version": conversation.version,
                }
        if action == "email":
            conversation.email_known = True
        if action == "handoff":
            self.change(conversation, status="open")
        if action == "end":
            conversation.status = "closed"
        return 200, {}

    @staticmethod
    def _newer_or_first(conversation: Conversation, after: str) -> bool:
        return not after or any(m["id"] > after for m in conversation.messages)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _cors(self) -> bool:
                origin = self.headers.get("Origin")
                if origin not in api.allowed_origins:
                    api.refused.append(f"{self.command} {self.path} from {origin}")
                    return False
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
                return True

            def _reply(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self) -> None:
                split = urlsplit(self.path)
                if split.path == "/chat/widget.js":
                    raw = WIDGET_SCRIPT.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/javascript; charset=utf-8")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
                if split.path == "/upload":  # storage: a plain form, its answer unread
                    length = int(self.headers.get("Content-Length") or 0)
                    api.uploaded.append(self.rfile.read(length))
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("Origin") not in api.allowed_origins:
                    api.refused.append(f"{self.command} {split.path}")
                    self._reply(403, {"error": {"code": "origin_not_allowed", "message": "No."}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                status, answer = api.answer(self.command, split.path, query, body, self.headers)
                self._reply(status, answer)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_OPTIONS(self) -> None:
                self.send_response(204)
                if self._cors():
                    self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                    self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class HostSite:
    """A customer's pages on their own origin, with a strict policy that allows the API's
    origin only for scripts and calls."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lang = "fr" if self.path.startswith("/fr") else "en"
                raw = site.page(lang).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'none'; script-src {site.api_url}; connect-src {site.api_url};"
                    " style-src 'none'; img-src 'none'; base-uri 'none'",
                )
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://localhost:{self.server.server_address[1]}"

    def page(self, lang: str) -> str:
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Acme shop</title></head><body><main><h1>Acme shop</h1>"
            "<p>Our tents and stoves.</p></main>"
            f'<script src="{self.api_url}/chat/widget.js" data-workspace="{PUBLIC_KEY}" async>'
            "</script></body></html>"
        )


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture()
def api() -> Iterator[VisitorApi]:
    fake = VisitorApi()
    _serve(fake.server)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture()
def site(api: VisitorApi) -> Iterator[HostSite]:
    host = HostSite(api.url)
    api.allowed_origins.add(host.origin)
    _serve(host.server)
    yield host
    host.server.shutdown()
    host.server.server_close()


@pytest.fixture()
def page(browser, site: HostSite):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    opened = context.new_page()
    opened.problems = []  # type: ignore[attr-defined]
    opened.on(
        "console",
        lambda message: (
            opened.problems.append(message.text)  # type: ignore[attr-defined]
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    opened.on("pageerror", lambda error: opened.problems.append(str(error)))  # type: ignore[attr-defined]
    yield opened
    context.close()


def _wait_for(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _globals(page) -> list[str]:
    return page.evaluate("() => Object.keys(window)")


def test_visitor_asks_and_sees_the_teams_reply_without_reload(page, site, api, screenshot_path):
    page.goto(site.origin + "/")
    before = set(_globals(page))
    bubble = page.get_by_role("button", name="Chat with us")
    bubble.wait_for()
    page.screenshot(path=str(screenshot_path).replace(".png", "-closed.png"))
    assert set(_globals(page)) - before <= {"HelptalChat"}

    bubble.click()
    dialog = page.get_by_role("dialog", name=TEAM)
    assert dialog.is_visible()
    box = page.get_by_role("textbox", name="Message")
    assert box.evaluate("el => el.getRootNode().activeElement === el")
    assert page.get_by_role("log").get_attribute("aria-live") == "polite"
    assert page.get_by_text("Hi! Ask us anything.").is_visible()
    page.screenshot(path=str(screenshot_path).replace(".png", "-open.png"))

    box.fill("Do you ship to Lyon?")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    conversation = api.only_conversation()
    start = next(body for method, path, body in api.calls if path == "/conversations")
    assert start["message"] == "Do you ship to Lyon?"
    assert start["page_url"] == site.origin + "/"
    assert start["client_id"] and start["local_time"] and start["language"]
    log = page.get_by_role("log")
    log.get_by_text("Do you ship to Lyon?").wait_for()
    page.wait_for_function(f"() => localStorage.getItem('helptal-chat:{PUBLIC_KEY}')")
    stored = page.evaluate(f"() => JSON.parse(localStorage.getItem('helptal-chat:{PUBLIC_KEY}'))")
    assert stored["conversation_id"] == conversation.id
    assert stored["visitor_token"] == f"vt.{conversation.id}"
    assert page.context.cookies() == []

    api.change(conversation, agent_typing=True)
    page.get_by_text("The team is typing…").wait_for()
    reply = api.agent_says(conversation, "Yes, in two days.")
    api.change(conversation, agent_typing=False, agent_seen=conversation.messages[0]["id"])
    log.get_by_text("Yes, in two days.").wait_for(timeout=3000)
    page.get_by_text("Seen").wait_for()
    assert page.get_by_text("The team is typing…").count() == 0
    _wait_for(
        lambda: (
            ("POST", f"/conversations/{conversation.id}/seen", {"message_id": reply["id"]})
            in api.calls
        )
    )
    page.screenshot(path=str(screenshot_path).replace(".png", "-reply.png"))

    # An own message shows at once and is reconciled with the stored one (one bubble).
    box.fill("Great, thanks")
    page.get_by_role("button", name="Send").click()
    log.get_by_text("Great, thanks").wait_for()
    _wait_for(lambda: sum(m["text"] == "Great, thanks" for m in conversation.messages) == 1)
    time.sleep(0.5)
    assert log.get_by_text("Great, thanks").count() == 1
    assert page.problems == []  # type: ignore[attr-defined]


def test_every_text_from_visitor_team_and_bot_shows_as_text(page, site, api):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    box = page.get_by_role("textbox", name="Message")
    box.fill(HOSTILE[0])
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    conversation = api.only_conversation()
    for text in HOSTILE[1:]:
        api.agent_says(conversation, text)
    api.post(
        conversation,
        api.message(
            "bot",
            "See [1] and [2]. <b>bold?</b>",
            citations=[
                {"number": 1, "title": "Shipping times", "url": "https://help.acme.test/en/ship"},
                {"number": 2, "title": "Evil", "url": "javascript:window.__hacked=4"},
            ],
        ),
    )
    log = page.get_by_role("log")
    log.get_by_text("See [1] and [2]. <b>bold?</b>").wait_for()
    texts = log.locator(".text").all_text_contents()
    assert texts[: len(HOSTILE)] == HOSTILE
    assert log.locator("img, script, b").count() == 0
    assert page.evaluate("() => window.__hacked") is None
    link = log.get_by_role("link", name="Shipping times")
    assert link.get_attribute("href") == "https://help.acme.test/en/ship"
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert log.get_by_role("link", name="Evil").count() == 0
    assert log.get_by_text("Evil").count() == 1
    # Long words wrap inside the panel; right-to-left text keeps its own direction.
    long_word = log.get_by_text(HOSTILE[3])
    panel_width = page.get_by_role("dialog").bounding_box()["width"]
    assert long_word.bounding_box()["width"] <= panel_width
    rtl = log.get_by_text(HOSTILE[4])
    assert rtl.get_attribute("dir") == "auto"
    assert rtl.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert "Answer bot" in log.locator(".msg.bot").inner_text()


def test_bot_answers_ask_whether_they_helped_and_hand_over_to_a_person(page, site, api):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("Where is my order?")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    conversation = api.only_conversation()
    answer = api.post(conversation, api.message("bot", "Orders ship in 2 days [1]."))
    page.get_by_role("button", name="Talk to a person").click()
    page.get_by_text("A person from the team will answer here.").wait_for()
    paths = [(path, body) for method, path, body in api.calls if method == "POST"]
    base = f"/conversations/{conversation.id}"
    assert (base + "/feedback", {"message_id": answer["id"], "helped": False}) in paths
    assert (base + "/handoff", {}) in paths


def test_the_same_message_delivered_twice_shows_once(page, site, api):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    conversation = api.only_conversation()
    twice = api.agent_says(conversation, "Only once, please")
    api.post(conversation, dict(twice))  # redelivered: same id
    api.agent_says(conversation, "And the next one")
    log = page.get_by_role("log")
    log.get_by_text("And the next one").wait_for()
    assert log.get_by_text("Only once, please").count() == 1


def test_escape_closes_the_panel_and_focus_returns_to_the_bubble(page, site):
    page.goto(site.origin + "/")
    bubble = page.get_by_role("button", name="Chat with us")
    bubble.click()
    assert bubble.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()
    assert bubble.get_attribute("aria-expanded") == "false"
    assert bubble.evaluate("el => el.getRootNode().activeElement === el")


def test_a_reload_keeps_the_conversation(page, site, api):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("First question")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    api.agent_says(api.only_conversation(), "First answer")
    page.get_by_role("log").get_by_text("First answer").wait_for()
    page.reload()
    page.get_by_role("button", name="Chat with us").click()
    log = page.get_by_role("log")
    log.get_by_text("First answer").wait_for()
    assert log.get_by_text("First question").count() == 1
    assert len(api.conversations) == 1


def test_the_widget_speaks_the_pages_french(page, site, api, screenshot_path):
    page.goto(site.origin + "/fr")
    bubble = page.get_by_role("button", name="Discuter avec nous")
    bubble.wait_for()
    page.screenshot(path=str(screenshot_path).replace(".png", "-closed.png"))
    bubble.click()
    assert page.get_by_role("button", name="Envoyer").is_visible()
    assert page.get_by_role("textbox", name="Message").is_visible()
    assert page.get_by_text("Bonjour ! Posez-nous vos questions.").is_visible()
    assert ("GET", "/config", None) in api.calls
    page.get_by_role("textbox", name="Message").fill("Livrez-vous à Lyon ?")
    page.get_by_role("button", name="Envoyer").click()
    _wait_for(lambda: len(api.conversations) == 1)
    api.agent_says(api.only_conversation(), "Oui, en deux jours.")
    page.get_by_role("log").get_by_text("Oui, en deux jours.").wait_for()
    page.screenshot(path=str(screenshot_path).replace(".png", "-reply.png"))


def test_outside_office_hours_the_widget_says_replies_come_by_email(page, site, api):
    api.online = False
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    assert page.get_by_text("We reply by e-mail").is_visible()
    email = page.get_by_role("textbox", name="E-mail")
    assert email.is_visible()
    email.fill("carla@customer.test")
    page.get_by_role("textbox", name="Message").fill("Can I return a tent?")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    start = next(body for method, path, body in api.calls if path == "/conversations")
    assert start["email"] == "carla@customer.test"


def test_on_a_phone_the_open_widget_fills_the_screen(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    phone = context.new_page()
    try:
        phone.goto(site.origin + "/")
        phone.get_by_role("button", name="Chat with us").click()
        box = phone.get_by_role("dialog").bounding_box()
        assert box == {"x": 0, "y": 0, "width": 375, "height": 700}
    finally:
        context.close()


def test_the_open_widget_passes_axe(page, site):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("dialog").wait_for()
    assert_accessible(page, "the open chat widget")


def test_a_site_the_workspace_does_not_allow_gets_no_widget(page, site, api):
    api.allowed_origins.clear()
    page.goto(site.origin + "/")
    _wait_for(
        lambda: (
            page.evaluate("() => window.HelptalChat && window.HelptalChat.state") == "unavailable"
        )
    )
    assert page.get_by_role("button", name="Chat with us").count() == 0
    assert api.conversations == {}


def test_a_visitor_attaches_a_file_with_the_paperclip_and_sees_its_name_and_size(page, site, api):
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("Here is the report")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    page.get_by_role("button", name="Attach a file").wait_for()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 x"}]
    )
    page.get_by_text("report.pdf (2 KB)").wait_for()
    assert any(b"%PDF-1.7 x" in raw for raw in api.uploaded)
    posted = [body for method, path, body in api.calls if path.endswith("/attachments")]
    assert posted == [{"filename": "report.pdf", "content_type": "application/pdf", "size": 10}]
    link = page.get_by_role("link", name="report.pdf (2 KB)")
    assert link.get_attribute("href").startswith(api.url + f"/v1/chat/{PUBLIC_KEY}/")
    assert page.evaluate("window.__hacked") is None


def test_the_paperclip_is_named_in_french(page, site, api):
    page.goto(site.origin + "/fr/")
    page.get_by_role("button", name="Discuter avec nous").click()
    page.get_by_role("textbox", name="Message").fill("Bonjour")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("button", name="Joindre un fichier").wait_for()


def test_when_the_team_takes_over_the_widget_says_a_person_answers_and_asks_an_address_if_away(
    page, site, api
):
    api.online = False
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("Can a person help?")
    page.get_by_role("button", name="Send").click()
    _wait_for(lambda: len(api.conversations) == 1)
    api.change(api.only_conversation(), handed_off=True, status="open")
    page.get_by_text("A person from the team will answer here.").wait_for()
    assert page.get_by_role("textbox", name="E-mail").is_visible()
