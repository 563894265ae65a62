"""`make run AI=local` without any provider key: the local stand-in model triages a new
ticket of the demo workspace and drafts a reply citing a demo article, every result labelled
as the stand-in's."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.emulator import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARKER = "[local stand-in model, not a real AI]"
STARTUP_TIMEOUT_SECONDS = 120


class LocalAiStack:
    def __init__(self, api_url: str, log_path: Path) -> None:
        self.api_url = api_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def local_ai_stack() -> Iterator[LocalAiStack]:
    """`python -m devstack run --ai local` (what `make run AI=local` runs), with no key."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANTHROPIC_", "OPENAI_"))
        and name not in ("MAILGUN_API_BASE", "PUBLIC_BASE_URL", "APP_BASE_URL")
    }
    if env.pop("HELPTAL_TEST_OWN_EMULATOR", None):
        env.pop("AWS_ENDPOINT_URL", None)
        env["AWS_PORT"] = str(free_port())
    prefix = f"helptal-e2e-ai-{uuid.uuid4().hex[:8]}"
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
    running = LocalAiStack(f"http://127.0.0.1:{api_port}", log_path)
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
            while "Helptal is running" not in running.log():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the stack did not start:\n{running.log()[-20000:]}")
                time.sleep(0.2)
            yield running
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _until(probe, what, seconds=45.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"the stack did not finish {what} in time")


def test_banner_says_the_stand_in_is_on(local_ai_stack):
    banner = local_ai_stack.log()
    assert "LOCAL STAND-IN MODEL" in banner
    assert "AI is on for the demo workspace" in banner


def test_new_ticket_is_triaged_and_drafted_with_a_citation_by_the_stand_in(local_ai_stack):
    api = local_ai_stack.api_url
    login = requests.post(
        f"{api}/v1/auth/login",
        json={"email": "demo@helptal.test", "password": "demo-password-123"},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    ai = requests.get(f"{api}/v1/workspace/ai", headers=auth, timeout=10).json()
    assert ai["enabled"] is True and ai["configured"] is True
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

    def triage():
        detail = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10)
        found = (detail.json().get("ai") or {}).get("triage") or {}
        return found if found.get("status") == "ready" else None

    triaged = _until(triage, "triage")
    assert triaged["priority"] == "high" and triaged["sentiment"] == "negative"
    assert "password" in triaged["tags"]  # from the workspace's own tags
    assert triaged["summary"].startswith(MARKER)

    asked = requests.post(
        f"{api}/v1/tickets/{ticket['id']}/drafts", json={}, headers=auth, timeout=10
    )
    assert asked.status_code == 202, asked.text

    def draft():
        latest = requests.get(
            f"{api}/v1/tickets/{ticket['id']}/drafts/latest", headers=auth, timeout=10
        )
        body = latest.json() if latest.status_code == 200 else {}
        return body if body.get("status") in ("ready", "failed") else None

    drafted = _until(draft, "the draft")
    assert drafted["status"] == "ready", drafted
    assert drafted["body"].startswith(MARKER)
    assert "How to reset your password" in [c["title"] for c in drafted["citations"]]
    assert "[1]" in drafted["body"]

    log = requests.get(f"{api}/v1/workspace/ai/log", headers=auth, timeout=10).json()
    models = {(c["feature"], c["model"]) for c in log["calls"]}
    assert {("triage", "local-stand-in"), ("drafts", "local-stand-in")} <= models
    assert {c["model"] for c in log["calls"]} == {"local-stand-in"}
