"""Live chat message round trips on the local stack, and AWS calls per message sent.

1. Round trips (the local stack, `python -m devstack run` on free ports, real HTTP): a
   workspace with chat on; visitors start conversations (as the widget does, with an allowed
   `Origin`) and exchange messages with an agent, each side waiting on its long poll as the
   widget and the web client do. Measured per message: visitor sends -> the agent's poll
   (`GET /v1/tickets/{id}/live`) returns it, and agent replies -> the visitor's poll
   (`GET /v1/chat/{key}/conversations/{id}/messages`) returns it. Prints p50/p95 of each.
2. AWS calls (in this process, the app against its own moto, every botocore request
   counted): a visitor's message sent, and a visitor's poll that finds it, in a conversation
   of 3 messages and in one of 300.

Targets: a reply reaches the visitor within a second (p95, issue 14); AWS calls per message
sent and per poll the same at 300 messages as at 3.

    .venv/bin/python bench/chat_round_trip.py [--conversations 5] [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 120
PASSWORD = "correct horse battery"
ORIGIN = "http://localhost:8010"
REPLY_TARGET_SECONDS = 1.0
POLL_SETTLE_SECONDS = 0.3  # lets the waiting side's long poll start before the other sends


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    api_url: str
    mail_url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_stack(state_dir: Path) -> Stack:
    """`python -m devstack run` on free ports, with its own moto; ready when it says so."""
    env = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "MAILGUN_API_BASE", "PUBLIC_BASE_URL", "APP_BASE_URL"):
        env.pop(name, None)
    api_port, mail_port = free_port(), free_port()
    env.update(
        {
            "API_PORT": str(api_port),
            "AWS_PORT": str(free_port()),
            "MAIL_PORT": str(mail_port),
            "DEMO_SITE_PORT": str(free_port()),
            "RESOURCE_PREFIX": f"helptal-bench-{uuid.uuid4().hex[:6]}",
            "DEVSTACK_STATE_DIR": str(state_dir),
            "LOG_LEVEL": "WARNING",
        }
    )
    log_path = state_dir / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", "--timeout", str(STARTUP_TIMEOUT_SECONDS)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(
        process,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{mail_port}/_fake/messages",
        log_path,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited:\n{log_path.read_text()[-4000:]}")
        if "Helptal is running" in log_path.read_text(errors="replace"):
            try:
                if requests.get(f"{stack.api_url}/v1/health", timeout=2).ok:
                    return stack
            except requests.RequestException:
                pass
        time.sleep(0.3)
    stack.stop()
    raise RuntimeError(f"the stack was not ready:\n{log_path.read_text()[-4000:]}")


def chat_workspace(stack: Stack) -> tuple[dict[str, str], str]:
    """A signed-up, confirmed workspace with chat on for ORIGIN: (agent auth, public key)."""
    email = f"bench-{uuid.uuid4().hex[:6]}@bench.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={
            "workspace_name": "Chat bench",
            "name": "Agent",
            "email": email,
            "password": PASSWORD,
        },
        timeout=30,
    )
    signup.raise_for_status()
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    confirm(stack, email)
    settings = requests.put(
        f"{stack.api_url}/v1/chat/settings",
        json={"enabled": True, "allowed_origins": [ORIGIN]},
        headers=auth,
        timeout=30,
    )
    settings.raise_for_status()
    return auth, str(settings.json()["public_key"])


def confirm(stack: Stack, email: str, timeout: float = 30.0) -> None:
    import re

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in requests.get(stack.mail_url, timeout=10).json():
            found = re.search(r"/account/confirm/(htl_[\w-]+)", " ".join(mail.get("text", [])))
            if email in mail.get("to", []) and found:
                requests.post(
                    f"{stack.api_url}/account/confirm/{found.group(1)}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=10,
                ).raise_for_status()
                return
        time.sleep(0.2)
    raise RuntimeError(f"no confirmation mail for {email}")


class Poll:
    """A side waiting for `wanted` as its client does: long polls one after another (each
    from the last answer's cursor and version) until one returns it; `seen_at` is then."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        cursor: str | None,
        version: int | None,
        wanted: str,
    ) -> None:
        self.cursor, self.version = cursor, version
        self.seen_at: float | None = None

        def run() -> None:
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline and self.seen_at is None:
                params = {"wait": 20, "after": self.cursor, "version": self.version}
                query = {name: value for name, value in params.items() if value is not None}
                answer = requests.get(url, params=query, headers=headers, timeout=30)
                if answer.status_code != 200:
                    print(f"poll answered {answer.status_code}: {answer.text[:300]}")
                    return
                news = answer.json()
                if any(wanted in (m.get("text") or "") for m in news.get("messages", [])):
                    self.seen_at = time.perf_counter()
                self.cursor = news.get("cursor") or self.cursor
                self.version = news.get("version", self.version)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=30)


def round_trips(stack: Stack, conversations: int, rounds: int) -> dict[str, list[float]]:
    auth, key = chat_workspace(stack)
    visitor_base = f"{stack.api_url}/v1/chat/{key}"
    timings: dict[str, list[float]] = {"visitor -> agent": [], "agent -> visitor": []}
    missed = 0
    for n in range(conversations):
        started = requests.post(
            f"{visitor_base}/conversations",
            json={"message": f"Conversation {n}: hello", "client_id": f"bench-{n}-0"},
            headers={"Origin": ORIGIN},
            timeout=30,
        )
        started.raise_for_status()
        body = started.json()
        ticket_id = body["conversation"]["id"]
        visitor = {"Origin": ORIGIN, "Authorization": f"Bearer {body['visitor_token']}"}
        visitor_cursor, visitor_version = body.get("cursor"), None
        live = requests.get(
            f"{stack.api_url}/v1/tickets/{ticket_id}/live", headers=auth, timeout=30
        ).json()
        agent_cursor, agent_version = live.get("cursor"), live.get("version")
        for r in range(rounds):
            # Visitor sends, the agent's waiting poll sees it.
            text = f"visitor {n}.{r} {uuid.uuid4().hex[:6]}"
            live_url = f"{stack.api_url}/v1/tickets/{ticket_id}/live"
            agent_poll = Poll(live_url, auth, agent_cursor, agent_version, text)
            time.sleep(POLL_SETTLE_SECONDS)
            sent_at = time.perf_counter()
            requests.post(
                f"{visitor_base}/conversations/{ticket_id}/messages",
                json={"text": text, "client_id": f"bench-{n}-{r + 1}"},
                headers=visitor,
                timeout=30,
            ).raise_for_status()
            agent_poll.join()
            agent_cursor, agent_version = agent_poll.cursor, agent_poll.version
            if agent_poll.seen_at is None:
                missed += 1
            else:
                timings["visitor -> agent"].append(agent_poll.seen_at - sent_at)
            # The agent replies, the visitor's waiting poll sees it.
            text = f"agent {n}.{r} {uuid.uuid4().hex[:6]}"
            messages_url = f"{visitor_base}/conversations/{ticket_id}/messages"
            visitor_poll = Poll(messages_url, visitor, visitor_cursor, visitor_version, text)
            time.sleep(POLL_SETTLE_SECONDS)
            sent_at = time.perf_counter()
            requests.post(
                f"{stack.api_url}/v1/tickets/{ticket_id}/messages",
                json={"kind": "reply", "body": text},
                headers=auth,
                timeout=30,
            ).raise_for_status()
            visitor_poll.join()
            visitor_cursor, visitor_version = visitor_poll.cursor, visitor_poll.version
            if visitor_poll.seen_at is None:
                missed += 1
            else:
                timings["agent -> visitor"].append(visitor_poll.seen_at - sent_at)
    if missed:
        print(f"missed        {missed} message(s) a waiting poll did not return")
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def aws_calls_per_message() -> dict[int, dict[str, int]]:
    """botocore requests for one visitor message sent, and for the poll that returns it, in
    conversations of 3 and of 300 messages (filled with agent notes), in this process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _emulator  # first: it sets the environment the settings read

    server = _emulator.start()
    try:
        import botocore.endpoint
        from chalice.test import Client

        from app import app

        counted: list[str] = []
        original = botocore.endpoint.Endpoint.make_request

        def make_request(endpoint: Any, operation_model: Any, request_dict: Any) -> Any:
            if operation_model.name != "GetQueueUrl":
                counted.append(operation_model.name)
            return original(endpoint, operation_model, request_dict)

        botocore.endpoint.Endpoint.make_request = make_request  # type: ignore[method-assign]
        results: dict[int, dict[str, int]] = {}
        with Client(app, stage_name="test") as client:
            signup = client.http.post(
                "/v1/signup",
                headers={"Content-Type": "application/json"},
                body=_json(
                    {
                        "workspace_name": "Calls",
                        "name": "A",
                        "email": "a@calls.test",
                        "password": PASSWORD,
                    }
                ),
            )
            auth = {
                "Authorization": f"Bearer {_load(signup.body)['token']}",
                "Content-Type": "application/json",
            }
            settings = client.http.put(
                "/v1/chat/settings",
                headers=auth,
                body=_json({"enabled": True, "allowed_origins": [ORIGIN]}),
            )
            key = _load(settings.body)["public_key"]
            for size in (3, 300):
                started = _load(
                    client.http.post(
                        f"/v1/chat/{key}/conversations",
                        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
                        body=_json({"message": f"size {size}"}),
                    ).body
                )
                ticket_id = started["conversation"]["id"]
                visitor = {
                    "Origin": ORIGIN,
                    "Authorization": f"Bearer {started['visitor_token']}",
                    "Content-Type": "application/json",
                }
                for n in range(size - 2):
                    client.http.post(
                        f"/v1/tickets/{ticket_id}/messages",
                        headers=auth,
                        body=_json({"kind": "note", "body": f"note {n}"}),
                    )
                polled = _load(
                    client.http.get(
                        f"/v1/chat/{key}/conversations/{ticket_id}/messages", headers=visitor
                    ).body
                )
                counted.clear()
                client.http.post(
                    f"/v1/chat/{key}/conversations/{ticket_id}/messages",
                    headers=visitor,
                    body=_json({"text": "one more question", "client_id": f"calls-{size}"}),
                )
                sent = len(counted)
                counted.clear()
                client.http.get(
                    f"/v1/chat/{key}/conversations/{ticket_id}/messages"
                    f"?after={polled['cursor']}&wait=0",
                    headers=visitor,
                )
                results[size] = {"send": sent, "poll": len(counted)}
        botocore.endpoint.Endpoint.make_request = original  # type: ignore[method-assign]
        return results
    finally:
        server.stop()


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _load(raw: bytes | str) -> Any:
    import json

    return json.loads(raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    verdicts: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="helptal-chat-bench-") as state:
        stack = start_stack(Path(state))
        try:
            timings = round_trips(stack, args.conversations, args.rounds)
        finally:
            stack.stop()
    for name, values in timings.items():
        if not values:
            print(f"round trip    {name:17} no message arrived")
            verdicts.append(False)
            continue
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(
            f"round trip    {name:17} {len(values):3} messages  p50 {p50 * 1000:6.0f} ms  "
            f"p95 {p95 * 1000:6.0f} ms"
        )
    reply = timings["agent -> visitor"]
    met = bool(reply) and percentile(reply, 0.95) < REPLY_TARGET_SECONDS
    verdicts.append(met)
    print(
        f"verdict       a reply reaches the visitor within {REPLY_TARGET_SECONDS:.0f} s (p95): "
        f"{'PASS' if met else 'FAIL'}"
    )
    calls = aws_calls_per_message()
    for size, counts in calls.items():
        print(
            f"aws calls     conversation of {size:3} messages: {counts['send']} per message sent, "
            f"{counts['poll']} per poll that returns it"
        )
    constant = calls[300] == calls[3]
    verdicts.append(constant)
    verdict = "PASS" if constant else "FAIL"
    print(f"verdict       AWS calls per message constant from 3 to 300 messages: {verdict}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
