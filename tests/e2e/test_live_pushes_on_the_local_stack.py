"""Live pushes on the stack `make run` runs, with its WebSocket bridge, in headless Chromium:
an agent's reply reaches the widget through its socket (the widget's long poll is off while
the socket is up: it reads at once on the push), and a new conversation shows in the web
client's inbox through a push (its changes feed is read at once, not on its 30-second poll).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from devstack.emulator import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 120
PASSWORD = "correct horse battery"
PUSH_WITHIN_SECONDS = 5.0


@dataclass
class LiveStack:
    api_url: str
    live_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def live_stack() -> Iterator[LiveStack]:
    """`python -m devstack run` with its live bridge on a free port."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MAILGUN_API_BASE", "PUBLIC_BASE_URL", "APP_BASE_URL")
        and not name.startswith("LIVE_")
    }
    if env.pop("HELPTAL_TEST_OWN_EMULATOR", None):
        env.pop("AWS_ENDPOINT_URL", None)
        env["AWS_PORT"] = str(free_port())
    prefix = f"helptal-e2e-live-{uuid.uuid4().hex[:8]}"
    api_port, live_port = free_port(), free_port()
    env.update(
        {
            "API_PORT": str(api_port),
            "LIVE_PORT": str(live_port),
            "MAIL_PORT": str(free_port()),
            "RESOURCE_PREFIX": prefix,
            "DEVSTACK_STATE_DIR": str(PROJECT_DIR / "test-artifacts" / prefix),
        }
    )
    log_path = PROJECT_DIR / "test-artifacts" / f"{prefix}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    running = LiveStack(f"http://127.0.0.1:{api_port}", f"ws://127.0.0.1:{live_port}", log_path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while "Helptal is running" not in running.log():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the stack did not start:\n{running.log()[-20000:]}")
                time.sleep(0.2)
            assert re.search(rf"live pushes\s+{re.escape(running.live_url)}", running.log())
            yield running
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


class HostPage:
    """A customer's site on another origin whose policy allows the API and its live API."""

    def __init__(self, api_url: str, live_url: str, public_key: str) -> None:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Acme Outdoor</title></head><body><main><h1>Acme Outdoor</h1></main>"
            f'<script src="{api_url}/chat/widget.js" data-workspace="{public_key}" async>'
            "</script></body></html>"
        ).encode()
        policy = (
            f"default-src 'none'; script-src {api_url}; connect-src {api_url} {live_url}; "
            f"img-src {api_url} https:; style-src 'none'; base-uri 'none'"
        )

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", policy)
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
class Workspace:
    email: str
    auth: dict[str, str]
    public_key: str
    site: HostPage


@pytest.fixture(scope="module")
def workspace(live_stack: LiveStack) -> Iterator[Workspace]:
    api = live_stack.api_url
    email = f"lee-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Acme Live", "name": "Lee", "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code in (200, 201), signup.text
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    public_key = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()[
        "public_key"
    ]
    site = HostPage(api, live_stack.live_url, public_key)
    updated = requests.put(
        f"{api}/v1/chat/settings",
        json={"enabled": True, "allowed_origins": [site.origin]},
        headers=auth,
        timeout=10,
    )
    assert updated.status_code == 200, updated.text
    yield Workspace(email, auth, public_key, site)
    site.stop()


class Frames:
    """What a page's WebSockets received, as text, with when."""

    def __init__(self, page: Any) -> None:
        self.page = page  # sync Playwright delivers events only while it is called
        self.received: list[tuple[float, str]] = []
        self.urls: list[str] = []

        def on_socket(socket: Any) -> None:
            self.urls.append(socket.url)
            socket.on(
                "framereceived",
                lambda payload: self.received.append((time.monotonic(), str(payload))),
            )

        page.on("websocket", on_socket)

    def first(self, needle: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, text in self.received:
                if needle in text:
                    return at
            self.page.wait_for_timeout(50)
        raise AssertionError(f"no frame with {needle!r}: {self.received}")


def test_an_agents_reply_reaches_the_widget_through_its_socket(live_stack, workspace, browser):
    api = live_stack.api_url
    context = browser.new_context()
    page = context.new_page()
    frames = Frames(page)
    polls: list[str] = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.url)
            if request.method == "GET" and "/messages?" in request.url
            else None
        ),
    )
    page.goto(workspace.site.origin)
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Message").fill("Is the blue tent waterproof?")
    page.get_by_role("button", name="Send").click()
    deadline = time.monotonic() + 10
    while page.evaluate("() => (window.HelptalChat || {}).live") != "open":
        assert time.monotonic() < deadline, "the widget's socket did not open"
        page.wait_for_timeout(100)
    conversation = re.search(r"/conversations/([0-9A-Z]{26})/", polls[-1]).group(1)
    page.wait_for_timeout(500)  # the poll that follows the socket's opening is answered
    polls_before = len(polls)

    sent_at = time.monotonic()
    reply = requests.post(
        f"{api}/v1/tickets/{conversation}/messages",
        json={"body": "Yes, fully waterproof.", "kind": "reply"},
        headers=workspace.auth,
        timeout=10,
    )
    assert reply.status_code == 201, reply.text

    expect(page.get_by_text("Yes, fully waterproof.")).to_be_visible(
        timeout=PUSH_WITHIN_SECONDS * 1000
    )
    shown_after = time.monotonic() - sent_at
    pushed_at = frames.first(f'"ticket_id":"{conversation}"', 1)
    assert pushed_at - sent_at < PUSH_WITHIN_SECONDS
    assert page.evaluate("() => window.HelptalChat.liveEvents") >= 1
    # While the socket is up the widget never waits on the server: each read is answered at
    # once, and the reply came with the read the push set off, well before the 30-s poll.
    later = polls[polls_before:]
    assert later and all("wait=0" in url for url in later), later
    assert shown_after < PUSH_WITHIN_SECONDS
    assert any(url.startswith(live_stack.live_url) for url in frames.urls)
    context.close()


def test_a_new_conversation_shows_in_the_inbox_through_a_push(live_stack, workspace, browser):
    api = live_stack.api_url
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    frames = Frames(page)
    changes: list[float] = []
    page.on(
        "request",
        lambda request: (
            changes.append(time.monotonic()) if "/v1/tickets/changes" in request.url else None
        ),
    )
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(workspace.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")
    deadline = time.monotonic() + 10

    while not any('"subscribed"' in text for _, text in frames.received):
        assert time.monotonic() < deadline, "the web client's socket did not subscribe"
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)  # the read the socket's opening set off is done

    started = requests.post(
        f"{api}/v1/chat/{workspace.public_key}/conversations",
        json={"message": "Do you ship to Norway?"},
        headers={"Origin": workspace.site.origin},
        timeout=10,
    )
    assert started.status_code == 201, started.text
    ticket_id = started.json()["conversation"]["id"]

    pushed_at = frames.first(f'"ticket.changed","ticket_id":"{ticket_id}"', 15)
    expect(
        page.get_by_role("list", name="Tickets: All").get_by_text("Do you ship to Norway?")
    ).to_be_visible(timeout=PUSH_WITHIN_SECONDS * 1000)
    # The feed was read right after the push, not on the 30-second poll.
    assert any(0 <= at - pushed_at < 2 for at in changes), (pushed_at, changes)
    context.close()


def test_an_open_mail_ticket_and_the_bell_follow_pushes(live_stack, workspace, browser):
    api = live_stack.api_url
    opened = requests.post(
        f"{api}/v1/tickets",
        json={
            "subject": "Broken zipper",
            "requester": {"email": "kai@customer.test"},
            "body": "The zipper broke on day one.",
        },
        headers=workspace.auth,
        timeout=10,
    )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    frames = Frames(page)
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(workspace.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")
    page.goto(f"{api}/app/tickets/{ticket_id}")
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text("The zipper broke on day one.")).to_be_visible()
    deadline = time.monotonic() + 10
    while sum('"subscribed"' in text for _, text in frames.received) < 2:
        assert time.monotonic() < deadline, "the ticket's topic was not subscribed"
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)

    # A teammate (here: the API, another session) writes a note: the open page shows it at
    # once, far sooner than its 20-second refresh.
    note = requests.post(
        f"{api}/v1/tickets/{ticket_id}/messages",
        json={"body": "Replacement sent by courier.", "kind": "note"},
        headers=workspace.auth,
        timeout=10,
    )
    assert note.status_code == 201, note.text
    expect(conversation.get_by_text("Replacement sent by courier.")).to_be_visible(
        timeout=PUSH_WITHIN_SECONDS * 1000
    )

    # A visitor opens a chat: everyone is told of a new conversation, and the bell counts it
    # within seconds of the inbox's push, not on its 20-second poll.
    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    before = bell.get_attribute("aria-label") or bell.inner_text()
    requests.post(
        f"{api}/v1/chat/{workspace.public_key}/conversations",
        json={"message": "Is the red tent in stock?"},
        headers={"Origin": workspace.site.origin},
        timeout=10,
    )
    expect(bell).not_to_have_accessible_name(before, timeout=PUSH_WITHIN_SECONDS * 2000)
    context.close()
