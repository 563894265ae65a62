"""`make run` as a newcomer meets it: the banner says where to mail and where the help centre
is, the README's one-line command mails the demo workspace, and a busy mail port is named."""

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
README = PROJECT_DIR / "README.md"


def _demo_token(stack):
    login = requests.post(
        f"{stack.api_url}/v1/auth/login",
        json={"email": "demo@helptal.test", "password": "demo-password-123"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_banner_names_the_inbound_address_and_a_working_help_centre(stack):
    banner = stack.log_tail(10**7)
    assert re.search(r"inbound mail\s+demo-support@in\.helptal\.test", banner)
    help_centre = re.search(r"help centre\s+(http://\S+)", banner).group(1)
    assert help_centre == f"{stack.api_url}/hc/demo-support"
    page = requests.get(help_centre, timeout=10)
    assert page.status_code == 200 and "How to reset your password" in page.text
    # No Turnstile key on the local stack: the banner says the human check is off.
    assert re.search(r"human check\s+off \(no TURNSTILE_SECRET_KEY\)", banner)


def test_readme_command_mails_the_demo_workspace_and_opens_a_ticket(stack):
    command = re.search(r"^(\.venv/bin/python -m devstack mail) \"", README.read_text(), re.M)
    assert command, "the README shows the one-line `devstack mail` command"
    text = "Hello, I was charged twice for my subscription. Can I get a refund?"
    sent = subprocess.run(
        [sys.executable, "-m", "devstack", "mail", text],
        cwd=PROJECT_DIR,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert "delivered to demo-support@in.helptal.test" in sent.stdout
    auth = _demo_token(stack)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tickets = requests.get(
            f"{stack.api_url}/v1/tickets?q=charged", headers=auth, timeout=10
        ).json()["tickets"]
        if tickets:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the mail did not open a ticket in the demo workspace")
    ticket = tickets[0]
    assert ticket["subject"] == "Hello, I was charged twice for my subscription."
    assert ticket["requester"]["email"] == "carla@customer.test"


def test_a_busy_mail_port_is_named_before_anything_starts(stack, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **stack.env,
            "MAIL_PORT": str(port),
            "API_PORT": "0",
            "DEVSTACK_STATE_DIR": str(tmp_path),
        }
        env.pop("MAILGUN_API_BASE", None)
        finished = subprocess.run(
            [sys.executable, "-m", "devstack", "run"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert f"local Mailgun stand-in (set MAIL_PORT): port {port}" in finished.stderr
    assert "moto server on" not in finished.stdout
