"""The web client's rules for a chat ticket, whatever the chat API answers: a message that
arrives twice is shown once, visitor text with markup is shown as text, a citation links only
to http(s) (never `javascript:`) with `rel="noopener noreferrer"`, the visitor's typing, seen
and presence are shown as they change, typing is told at most every 3 s, and the long poll
stops when the ticket is left.

The ticket is a real one of the local stack; its answers are given the chat's shape in the
browser (the chat channel, a bot answer, the /live and /typing answers), so each rule is
checked with exactly the answer that tests it."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
HOSTILE = '<script>window.__chat_pwned = 1</script><img src=x onerror="window.__chat_pwned=2">'


def _signup(api: str) -> tuple[str, dict[str, str]]:
    email = f"cora-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Chat Rules", "name": "Cora", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    return email, {"Authorization": f"Bearer {signup['token']}"}


def _login(page, api: str, email: str, next_path: str) -> None:
    page.goto(f"{api}/app/login?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app{next_path}")


def _message(base: dict, **changes) -> dict:
    return {**base, "attachments": [], "cc": [], "html": None, "quoted_text": None, **changes}


def test_a_chat_ticket_shows_bot_sources_and_live_visitor_state_safely(
    stack, browser, screenshot_path
):
    api = stack.api_url
    email, auth = _signup(api)
    created = requests.post(
        f"{api}/v1/tickets",
        json={
            "requester": {"email": "vera@example.com", "name": "Vera"},
            "subject": "Where is my refund?",
            "body": "Hello, where is my refund?",
        },
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    real = requests.get(f"{api}/v1/tickets/{ticket_id}", headers=auth, timeout=10).json()
    first = real["messages"][0]
    base_id = first["id"]
    bot = _message(
        first,
        id=base_id[:-1] + ("Z" if base_id[-1] != "Z" else "Y"),
        kind="bot",
        author="bot",
        from_address=None,
        text="Refunds take 5 days [1].",
        chat=None,
        citations=[
            {
                "number": 1,
                "article_id": "a1",
                "title": "Refund policy",
                "url": "https://help.acme.test/refunds",
            },
            {"number": 2, "article_id": "a2", "title": "Sneaky", "url": "javascript:alert(1)"},
        ],
    )
    visitor = _message(
        first,
        id="7ZZZZZZZZZZZZZZZZZZZZZZZZZ",
        kind="customer",
        text=HOSTILE,
        chat={
            "page_url": "https://shop.acme.test/orders/42",
            "language": "fr",
            "local_time": "2026-11-30T21:05:00+01:00",
        },
        citations=[],
    )
    first_chat = {
        **first,
        "chat": {
            "page_url": "https://shop.acme.test/",
            "language": "en",
            "local_time": "2026-11-30T20:59:00+01:00",
        },
        "citations": [],
    }

    live_calls: list[str] = []
    typing_calls: list[tuple[float, bool]] = []
    answers = [
        {
            "messages": [visitor],
            "visitor_typing": True,
            "visitor_seen_message_id": None,
            "visitor_online": True,
            "version": 2,
        },
        # The same message again (delivery is at least once), and the visitor has gone.
        {
            "messages": [visitor],
            "visitor_typing": False,
            "visitor_seen_message_id": visitor["id"],
            "visitor_online": False,
            "version": 3,
        },
    ]

    def ticket_route(route):
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        body = response.json()
        body["channel"] = "chat"
        body["messages"] = [first_chat, bot, *body["messages"][1:]]
        if step["allowed"]:
            body["messages"].append(visitor)
        route.fulfill(response=response, body=json.dumps(body))

    step = {"allowed": 0, "given": 0}

    def live_route(route):
        live_calls.append(route.request.url)
        if step["given"] < step["allowed"]:
            answer = answers[step["given"]]
            step["given"] += 1
        else:
            answer = {
                "messages": [],
                "visitor_typing": False,
                "visitor_seen_message_id": None,
                "visitor_online": True,
                "version": 1,
            }
            if step["given"]:
                answer = {**answers[step["given"] - 1], "messages": []}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    def typing_route(route):
        typing_calls.append(
            (time.monotonic(), json.loads(route.request.post_data or "{}").get("typing"))
        )
        route.fulfill(status=204, body="")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(f"**/v1/tickets/{ticket_id}", ticket_route)
    page.route(f"**/v1/tickets/{ticket_id}/live*", live_route)
    page.route(f"**/v1/tickets/{ticket_id}/typing", typing_route)
    _login(page, api, email, f"/tickets/{ticket_id}")

    conversation = page.get_by_role("list", name="Conversation")
    answer = conversation.get_by_role("article", name="Answer from Answer bot")
    expect(answer).to_be_visible()
    expect(answer.locator("header")).to_contain_text("Answer bot")
    expect(answer.locator("header")).to_contain_text("Automatic answer")
    sources = answer.get_by_role("list", name="Sources")
    link = sources.get_by_role("link", name="Refund policy")
    expect(link).to_have_attribute("href", "https://help.acme.test/refunds")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(sources.get_by_role("link")).to_have_count(1)  # never a javascript: link
    expect(sources).to_contain_text("Sneaky")
    expect(page.locator(".ticket-head .badge.channel-chat")).to_have_text("Chat")
    expect(conversation).to_contain_text(
        "on https://shop.acme.test/ · English · 20:59 for the visitor"
    )

    expect(page.get_by_text("Visitor online")).to_be_visible()
    step["allowed"] = 1
    hostile = conversation.get_by_text(HOSTILE, exact=True)
    expect(hostile).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="Visitor is typing…")).to_be_visible()
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert_accessible(page, "a chat ticket")
    step["allowed"] = 2
    expect(page.get_by_text("Visitor left")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Visitor is typing…")).to_have_count(0)
    expect(conversation).to_contain_text(
        "on https://shop.acme.test/orders/42 · French · 21:05 for the visitor"
    )
    page.wait_for_timeout(800)
    expect(hostile).to_have_count(1)  # the second delivery added nothing
    assert page.evaluate("() => window.__chat_pwned") is None

    # Typing a reply tells the visitor, at most every 3 s; a note tells nothing.
    box = page.get_by_label("Reply", exact=True)
    started = time.monotonic()
    while time.monotonic() - started < 4.2:
        box.press_sequentially("ab", delay=100)
    page.wait_for_timeout(300)
    on = [at for at, typing in typing_calls if typing]
    assert 1 <= len(on) <= 2, typing_calls
    assert all(b - a >= 2.9 for a, b in itertools.pairwise(on)), typing_calls

    # Leaving the ticket stops the long poll.
    page.locator(".ticket-head a.back").click()
    page.wait_for_timeout(700)
    count = len(live_calls)
    page.wait_for_timeout(1500)
    assert len(live_calls) == count
    assert not errors, errors
    context.close()
