"""The whole local stack, booted the way `make run` boots it, for tests over real HTTP.

`stack` runs `python -m devstack run` on free ports with its own RESOURCE_PREFIX (its own
moto server too, unless AWS_ENDPOINT_URL was given, e.g. LocalStack) and stops the whole
process group at the end. A failing test gets the stack's log attached to its report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from devstack.emulator import free_port
from fakes.anthropic import FakeAnthropic
from fakes.dns import FakeDns

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_BANNER = "Helptal is running"
OWN_EMULATOR_FLAG = "HELPTAL_TEST_OWN_EMULATOR"
STARTUP_TIMEOUT_SECONDS = 120
LOG_TAIL_CHARS = 20_000


@dataclass
class Stack:
    """A running local stack: its API, its AWS endpoint and the environment it runs with."""

    api_url: str
    aws_endpoint: str
    resource_prefix: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def sent_mail_url(self) -> str:
        """Where the stack's local Mailgun stand-in lists the mail it accepted."""
        return f"http://127.0.0.1:{self.env['MAIL_PORT']}/_fake/messages"

    def confirm_signup(self, email: str, timeout: float = 30.0) -> None:
        """Confirms the address a workspace was signed up with, as its owner would: from the
        link in the mail the stack's Mailgun stand-in received (then it mails customers)."""
        import re

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for mail in requests.get(self.sent_mail_url, timeout=5).json():
                text = " ".join(mail.get("text", []))
                found = re.search(r"/account/confirm/(htl_[A-Za-z0-9_-]+)", text)
                if email.lower() in mail["to"] and found:
                    confirmed = requests.post(
                        f"{self.api_url}/account/confirm/{found.group(1)}",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        timeout=10,
                    )
                    assert confirmed.status_code == 200, confirmed.text
                    return
            time.sleep(0.2)
        raise AssertionError(f"no confirmation mail reached {email} within {timeout} s")

    def log_tail(self, limit: int = LOG_TAIL_CHARS) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-limit:]


_running: list[Stack] = []


@pytest.fixture(scope="session")
def fake_dns() -> Iterator[FakeDns]:
    """The DNS server the stack asks when verifying help-centre domains (records editable)."""
    server = FakeDns().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_claude() -> Iterator[FakeAnthropic]:
    """The Messages API the stack's AI teammate talks to (answers scripted per tool)."""
    from pytest_httpserver import HTTPServer

    fake = FakeAnthropic()
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.expect_request("/v1/messages", method="POST").respond_with_handler(fake.handle)
    server.start()
    fake.url = server.url_for("/").rstrip("/")  # type: ignore[attr-defined]
    yield fake
    server.stop()


@pytest.fixture(scope="session")
def stack_env(fake_dns: FakeDns, fake_claude: FakeAnthropic) -> dict[str, str]:
    """Extra environment for the stack (e.g. MAILGUN_API_BASE of a fake provider).

    Override this session fixture to point the stack at fakes started before it. By default
    outbound mail goes to the stack's own Mailgun stand-in, on a port chosen here.
    """
    return {
        "MAIL_PORT": str(free_port()),
        # No live WebSocket bridge: the chat tests' host pages allow the API's origin alone
        # (tests/e2e/test_live_pushes_on_the_local_stack.py runs a stack with one).
        "LIVE_PORT": "off",
        "DNS_RESOLVER": f"127.0.0.1:{fake_dns.port}",
        "ANTHROPIC_API_KEY": "sk-ant-e2e",
        "ANTHROPIC_BASE_URL": fake_claude.url,  # type: ignore[attr-defined]
    }


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_ready(stack: Stack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the local stack exited with {process.returncode}:\n{stack.log_tail()}",
                pytrace=False,
            )
        if READY_BANNER in stack.log_tail(limit=10**7):
            try:
                if requests.get(f"{stack.api_url}/v1/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.2)
    pytest.fail(
        f"the local stack was not ready after {STARTUP_TIMEOUT_SECONDS} s:\n{stack.log_tail()}",
        pytrace=False,
    )


@contextlib.contextmanager
def _running_stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    """`python -m devstack run` on free ports, ready (healthy, seeded, pump running); stopped
    (with its event pump and whatever its queues still hold) when the block ends."""
    env = dict(os.environ)
    # The stack sets these for its own ports and its own mail stand-in.
    for name in ("MAILGUN_API_BASE", "PUBLIC_BASE_URL", "APP_BASE_URL"):
        env.pop(name, None)
    if env.pop(OWN_EMULATOR_FLAG, None):
        env.pop("AWS_ENDPOINT_URL", None)
        aws_port = free_port()
        env["AWS_PORT"] = str(aws_port)
        aws_endpoint = f"http://127.0.0.1:{aws_port}"
    else:
        aws_endpoint = env["AWS_ENDPOINT_URL"]
    api_port = free_port()
    prefix = f"helptal-e2e-{uuid.uuid4().hex[:8]}"
    env.update({"API_PORT": str(api_port), "RESOURCE_PREFIX": prefix, **stack_env})
    # Its own state (what `python -m devstack fire` reads to reach it).
    env["DEVSTACK_STATE_DIR"] = str(PROJECT_DIR / "test-artifacts" / prefix)

    log_path = PROJECT_DIR / "test-artifacts" / f"{prefix}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    running = Stack(
        api_url=f"http://127.0.0.1:{api_port}",
        aws_endpoint=aws_endpoint,
        resource_prefix=prefix,
        log_path=log_path,
        env=env,
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", "--timeout", str(STARTUP_TIMEOUT_SECONDS)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _running.append(running)
        try:
            _wait_until_ready(running, process)
            yield running
        finally:
            _running.remove(running)
            _stop_process_group(process)


@pytest.fixture(scope="session")
def stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    """The test process's shared local stack."""
    with _running_stack(stack_env) as running:
        yield running


@pytest.fixture()
def stack_of_its_own(stack_env: dict[str, str]) -> Iterator[Stack]:
    """A local stack for one test that leaves a backlog in its queues (a burst of chat
    messages to index): stopped with it, so tests after it do not wait behind that work.

    Its AWS calls may wait 15 s for the emulator: moto answers DynamoDB calls one at a time, and a
    burst of a hundred clients queues calls behind each other for longer than AWS's 3 s
    would ever take (a timeout there is an outage, answered 503)."""
    env = {**stack_env, "MAIL_PORT": str(free_port()), "EMULATOR_READ_TIMEOUT_SECONDS": "15"}
    with _running_stack(env) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _running and "stack" in getattr(item, "fixturenames", ()):
        report.sections.append(("local stack log (tail)", _running[-1].log_tail()))


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Help-centre custom domains resolve to the local stack.
    "--host-resolver-rules=MAP help.acme.test 127.0.0.1",
]
SCREENSHOTS = PROJECT_DIR / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's, installed by `make test`) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs it (apt chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def screenshot_path(request: pytest.FixtureRequest) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{request.node.name}.png"
