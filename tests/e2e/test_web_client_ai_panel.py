"""The AI panel of the web client's ticket page against the local stand-in model
(`make run AI=local`): triage suggestions applied, a reply drafted with a pending state and its
citations linking to the articles in the app, the draft put into the reply, rewritten on
request, a summary, a customer's message translated and a reply sent translated. Checked
with axe-core."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from devstack.emulator import free_port
from tests.e2e.axe import assert_accessible

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARKER = "[local stand-in model, not a real AI]"
DEMO = ("demo@helptal.test", "demo-password-123")
STARTUP_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def ai_stack() -> Iterator[str]:
    """`python -m devstack run --ai local` (what `make run AI=local` runs): its API's URL."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANTHROPIC_", "OPENAI_"))
        and name not in ("MAILGUN_API_BASE", "PUBLIC_BASE_URL", "APP_BASE_URL")
    }
    if env.pop("HELPTAL_TEST_OWN_EMULATOR", None):
        env.pop("AWS_ENDPOINT_URL", None)
        env["AWS_PORT"] = str(free_port())
    prefix = f"helptal-e2e-aiweb-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    env.update(
        {
            "API_PORT": str(api_port),
            "MAIL_PORT": str(free_port()),
            "LIVE_PORT": str(free_port()),  # its own live bridge: 8001 may be another stack's
            "RESOURCE_PREFIX": prefix,
            "DEVSTACK_STATE_DIR": str(PROJECT_DIR / "test-artifacts" / prefix),
        }
    )
    log_path = PROJECT_DIR / "test-artifacts" / f"{prefix}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", "--ai", "local"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while "Helptal is running" not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the stack did not start:\n{log_path.read_text()[-20000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{api_port}"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def test_draft_a_reply_with_citations_from_the_ai_panel(ai_stack, browser, screenshot_path):
    api = ai_stack
    login = requests.post(
        f"{api}/v1/auth/login", json={"email": DEMO[0], "password": DEMO[1]}, timeout=10
    ).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    ticket = requests.post(
        f"{api}/v1/tickets",
        json={
            "requester": {"email": "dan@customer.test", "name": "Dan"},
            "subject": "Password refused",
            "body": "My password is refused and I cannot log in. How do I reset my password?",
        },
        headers=auth,
        timeout=10,
    ).json()

    def triaged():
        shown = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10).json()
        return ((shown.get("ai") or {}).get("triage") or {}).get("status") == "ready"

    deadline = time.monotonic() + 45
    while not triaged():
        assert time.monotonic() < deadline, "the stand-in did not triage the ticket in time"
        time.sleep(0.3)

    context = browser.new_context(viewport={"width": 1280, "height": 1100}, locale="en-US")
    page = context.new_page()
    page.goto(f"{api}/app/login?next=/tickets/{ticket['id']}")
    page.get_by_label("Email").fill(DEMO[0])
    page.get_by_label("Password").fill(DEMO[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/tickets/{ticket['id']}")
    panel = page.get_by_role("region", name="AI teammate")
    expect(panel).to_be_visible()

    # Triage suggestions, applied by the agent.
    suggestions = panel.get_by_role("region", name="Suggestions")
    expect(suggestions).to_contain_text("High")
    suggestions.get_by_role("button", name="Apply the suggestions").click()
    expect(suggestions).to_contain_text("The suggestions are applied.")
    expect(page.get_by_label("Priority")).to_have_value("high")

    draft = panel.get_by_role("region", name="Reply draft")
    draft.get_by_role("button", name="Draft a reply").click()
    expect(draft.get_by_role("status")).to_have_text("Drafting a reply from your knowledge base…")
    text = draft.get_by_label("Draft", exact=True)
    expect(text).to_contain_text(MARKER, timeout=45_000)
    expect(text).to_contain_text("[1]")
    cited = draft.get_by_role("list", name="Articles cited").get_by_role(
        "link", name="How to reset your password"
    )
    expect(cited).to_have_attribute("href", re.compile(r"^/app/kb/articles/[0-9A-Z]+$"))
    assert_accessible(page, "ticket with the AI panel (en)")
    page.screenshot(path=str(screenshot_path), full_page=True)

    draft.get_by_role("button", name="Use this draft").click()
    expect(page.get_by_label("Reply", exact=True)).to_have_value(re.compile(re.escape(MARKER)))

    # Rewritten on request: a new draft replaces the shown one.
    draft.get_by_label("Rewrite it").fill("shorter")
    draft.get_by_role("button", name="Rewrite").click()
    expect(text).to_contain_text(MARKER, timeout=45_000)

    summary = panel.get_by_role("region", name="Summary")
    summary.get_by_role("button", name="Summarise the conversation").click()
    expect(summary).to_contain_text(MARKER, timeout=45_000)

    # A customer's message in the agent's language, and a reply sent translated.
    message = page.get_by_role("article", name="Message from Dan")
    message.get_by_role("button", name="Translate into English").click()
    expect(message).to_contain_text("Translated from English", timeout=45_000)
    page.get_by_label("Reply", exact=True).fill("The reset link is on its way.")
    page.get_by_role("button", name="Translate before sending").click()
    expect(page.get_by_role("heading", name=re.compile("^Your reply in"))).to_be_visible(
        timeout=45_000
    )
    page.get_by_role("button", name="Send the translation").click()
    sent = page.get_by_role("article", name="Reply from Demo Owner")
    expect(sent).to_contain_text("The reset link is on its way.")

    cited.click()
    page.wait_for_url(re.compile(r"/app/kb/articles/"))
    page.get_by_role("heading", name="How to reset your password").wait_for()
    context.close()
