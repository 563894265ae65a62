"""Fifty visitors chatting at once on the local stack, over real HTTP to its API, each from
an allowed site: every visitor starts a conversation and sends three messages while the
agent of the workspace answers each one; visitors wait for news by long polling (the
widget's `GET .../messages?wait=`), and the agent reads each chat ticket's live view
(`GET /v1/tickets/{id}/live`) once a second.

Every message reaches the other side exactly once and in the order it was sent, nothing is
lost, and no request gets a 5xx.  The local API sees every visitor at one address
(127.0.0.1), and a workspace takes at most 10 conversations an hour from one address
(decision 0027), so the fifty visitors are spread over five workspaces of ten.

The figures (round-trip latency p50/p95 each way, total time) are printed with the test
output (`pytest -s` shows them)."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

PASSWORD = "correct horse battery"
WORKSPACES = 5
VISITORS_PER_WORKSPACE = 10  # the most conversations a workspace takes an hour from one IP
MESSAGES = 3  # per visitor, the first one starting the conversation
GAP_SECONDS = 0.3  # between a visitor's messages
WAIT_SECONDS = 10  # each long poll of a visitor
AGENT_POLL_SECONDS = 1.0
DEADLINE_SECONDS = 90  # for every message to be answered and delivered
SITE = "https://shop{n}.acme.test"


@dataclass
class Conversation:
    api: str
    site: str
    public_key: str
    agent: dict[str, str]
    number: int
    ticket_id: str = ""
    token: str = ""
    cursor: str = ""
    version: int | None = None
    sent_at: dict[str, float] = field(default_factory=dict)  # text -> when sent
    # What each side received, in order: (message id, author, text, when).
    at_visitor: list[tuple[str, str, str, float]] = field(default_factory=list)
    at_agent: list[tuple[str, str, str, float]] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)

    def visitor_text(self, i: int) -> str:
        return f"visitor {self.number} message {i}"

    def agent_text(self, i: int) -> str:
        return f"agent answer {i} to visitor {self.number}"


class Record:
    """Every status answered, and the problems met, across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []

    def answered(self, response: requests.Response, what: str, *expected: int) -> Any:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code not in expected:
                self.problems.append(f"{what}: {response.status_code} {response.text[:300]}")
                return None
        return response.json() if response.content else {}

    def failed(self, what: str, error: BaseException) -> None:
        with self.lock:
            self.problems.append(f"{what}: {type(error).__name__}: {error}")


def _workspace(api: str, n: int) -> tuple[str, dict[str, str], str]:
    email = f"load-{n}-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": f"Load {n}",
            "name": "Lea Agent",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    site = SITE.format(n=n)
    put = requests.put(
        f"{api}/v1/chat/settings",
        json={"enabled": True, "allowed_origins": [site], "office_hours": {"always_open": True}},
        headers=auth,
        timeout=10,
    )
    assert put.status_code == 200, put.text
    return site, auth, put.json()["public_key"]


def _visitor_sends(chat: Conversation, record: Record, go: threading.Barrier) -> None:
    base = f"{chat.api}/v1/chat/{chat.public_key}/conversations"
    headers = {"Origin": chat.site}
    try:
        go.wait(timeout=30)
        text = chat.visitor_text(0)
        chat.sent_at[text] = time.monotonic()
        started = record.answered(
            requests.post(
                base,
                json={"message": text, "client_id": uuid.uuid4().hex, "language": "en-GB"},
                headers=headers,
                timeout=30,
            ),
            f"visitor {chat.number} start",
            201,
        )
        if started is None:
            return
        chat.ticket_id = started["conversation"]["id"]
        chat.token = started["visitor_token"]
        chat.cursor = started["cursor"]
        chat.started.set()
        headers["Authorization"] = f"Bearer {chat.token}"
        for i in range(1, MESSAGES):
            time.sleep(GAP_SECONDS)
            text = chat.visitor_text(i)
            chat.sent_at[text] = time.monotonic()
            record.answered(
                requests.post(
                    f"{base}/{chat.ticket_id}/messages",
                    json={"text": text, "client_id": uuid.uuid4().hex},
                    headers=headers,
                    timeout=30,
                ),
                f"visitor {chat.number} message {i}",
                201,
            )
    except Exception as error:
        record.failed(f"visitor {chat.number}", error)
    finally:
        chat.started.set()


def _visitor_polls(chat: Conversation, record: Record, until: float) -> None:
    """The widget's long poll, until all the agent's answers are in."""
    try:
        chat.started.wait(timeout=30)
        if not chat.token:
            return
        url = f"{chat.api}/v1/chat/{chat.public_key}/conversations/{chat.ticket_id}/messages"
        headers = {"Origin": chat.site, "Authorization": f"Bearer {chat.token}"}
        cursor, version = chat.cursor, None
        while time.monotonic() < until:
            params: dict[str, Any] = {"after": cursor, "wait": WAIT_SECONDS}
            if version is not None:
                params["version"] = version
            news = record.answered(
                requests.get(url, params=params, headers=headers, timeout=WAIT_SECONDS + 20),
                f"visitor {chat.number} poll",
                200,
            )
            if news is None:
                return
            now = time.monotonic()
            for m in news["messages"]:
                chat.at_visitor.append((m["id"], m["author"], m["text"], now))
            cursor, version = news["cursor"] or cursor, news["version"]
            if sum(1 for entry in chat.at_visitor if entry[1] == "agent") >= MESSAGES:
                return
    except Exception as error:
        record.failed(f"visitor {chat.number} poll", error)


def _agent_answers(chats: list[Conversation], record: Record, until: float) -> None:
    """An agent's live views of chat tickets (`/live` once a second, without waiting): each
    visitor message gets its answer."""
    cursors: dict[int, str | None] = {chat.number: None for chat in chats}
    answered = {chat.number: 0 for chat in chats}
    done: set[int] = set()
    try:
        for chat in chats:
            chat.started.wait(timeout=30)
        while time.monotonic() < until and len(done) < len(chats):
            time.sleep(AGENT_POLL_SECONDS)
            for chat in chats:
                if chat.number in done or not chat.ticket_id:
                    continue
                cursor = cursors[chat.number]
                news = record.answered(
                    requests.get(
                        f"{chat.api}/v1/tickets/{chat.ticket_id}/live",
                        params={"after": cursor} if cursor else {},
                        headers=chat.agent,
                        timeout=30,
                    ),
                    f"agent of {chat.number} poll",
                    200,
                )
                if news is None:
                    return
                now = time.monotonic()
                for m in news["messages"]:
                    chat.at_agent.append((m["id"], m["kind"], m["text"], now))
                cursors[chat.number] = news["cursor"] or cursor
                asked = sum(1 for entry in chat.at_agent if entry[1] == "customer")
                while answered[chat.number] < asked:
                    text = chat.agent_text(answered[chat.number])
                    chat.sent_at[text] = time.monotonic()
                    record.answered(
                        requests.post(
                            f"{chat.api}/v1/tickets/{chat.ticket_id}/messages",
                            json={"kind": "reply", "body": text},
                            headers=chat.agent,
                            timeout=30,
                        ),
                        f"agent of {chat.number} reply {answered[chat.number]}",
                        201,
                    )
                    answered[chat.number] += 1
                replies = sum(1 for entry in chat.at_agent if entry[1] == "reply")
                if answered[chat.number] >= MESSAGES and replies >= MESSAGES:
                    done.add(chat.number)
    except Exception as error:
        record.failed("an agent", error)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def test_fifty_visitors_chatting_at_once_get_every_message_once_in_order(stack_of_its_own):
    stack = stack_of_its_own
    api = stack.api_url
    chats: list[Conversation] = []
    for w in range(WORKSPACES):
        site, auth, key = _workspace(api, w)
        for v in range(VISITORS_PER_WORKSPACE):
            chats.append(Conversation(api, site, key, auth, w * VISITORS_PER_WORKSPACE + v))
    record = Record()
    go = threading.Barrier(len(chats))
    began = time.monotonic()
    until = began + DEADLINE_SECONDS
    threads = [
        threading.Thread(target=target, args=(chat, *args), daemon=True)
        for chat in chats
        for target, args in ((_visitor_sends, (record, go)), (_visitor_polls, (record, until)))
    ] + [
        threading.Thread(target=_agent_answers, args=([chat], record, until), daemon=True)
        for chat in chats
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, until + WAIT_SECONDS + 25 - time.monotonic()))
    total = time.monotonic() - began

    to_agent: list[float] = []
    to_visitor: list[float] = []
    for chat in chats:
        for _, kind, text, when in chat.at_agent:
            if kind == "customer" and text in chat.sent_at:
                to_agent.append(when - chat.sent_at[text])
        for _, author, text, when in chat.at_visitor:
            if author == "agent" and text in chat.sent_at:
                to_visitor.append(when - chat.sent_at[text])
    if to_agent and to_visitor:
        print(
            f"\n{len(chats)} visitors x {MESSAGES} messages, each answered, in {total:.1f} s; "
            f"requests by status {dict(sorted(record.statuses.items()))}\n"
            f"visitor -> agent: p50 {statistics.median(to_agent) * 1000:.0f} ms, "
            f"p95 {_percentile(to_agent, 0.95) * 1000:.0f} ms ({len(to_agent)} messages)\n"
            f"agent -> visitor: p50 {statistics.median(to_visitor) * 1000:.0f} ms, "
            f"p95 {_percentile(to_visitor, 0.95) * 1000:.0f} ms ({len(to_visitor)} messages)"
        )

    wrong = [f"{s} answers: {n}" for s, n in record.statuses.items() if s >= 500]
    wrong += record.problems[:10]
    wrong += ["some clients were still waiting"] * any(t.is_alive() for t in threads)
    for chat in chats:
        wrong += _delivery_problems(chat)
    assert wrong == [], "\n".join(wrong[:40])


def _delivery_problems(chat: Conversation) -> list[str]:
    """Each message reached the other side once, in the order sent, none lost."""
    found = []
    n = chat.number
    sides = (
        ("agent", chat.at_agent, "customer", range(MESSAGES), "reply"),
        ("visitor", chat.at_visitor, "visitor", range(1, MESSAGES), "agent"),
    )
    for side, received, own_kind, own_range, other_kind in sides:
        ids = [entry[0] for entry in received]
        if len(ids) != len(set(ids)):
            found.append(f"conversation {n}: a message reached the {side} twice")
        if ids != sorted(ids):
            found.append(f"conversation {n}: out of order at the {side}")
        for kind_wanted, expected in (
            (own_kind, [chat.visitor_text(i) for i in own_range]),
            (other_kind, [chat.agent_text(i) for i in range(MESSAGES)]),
        ):
            got = [text for _, kind, text, _ in received if kind == kind_wanted]
            if got != expected:
                missing = [text for text in expected if text not in got]
                found.append(
                    f"conversation {n}: the {side} got {got}, not {expected}"
                    + _skipped(chat, missing, ids)
                )
    return found


def _skipped(chat: Conversation, missing: list[str], delivered: list[str]) -> str:
    """For a message missing on one side, the messages delivered there that are newer (by
    id, as the other side got it): with more than one, the client's cursor went past it."""
    known = {id: text for id, _, text, _ in [*chat.at_agent, *chat.at_visitor]}
    ids = {text: id for id, text in known.items()}
    return "".join(
        f"; {text!r} is older than {[known[d] for d in delivered if d > ids[text]]}"
        for text in missing
        if text in ids
    )
