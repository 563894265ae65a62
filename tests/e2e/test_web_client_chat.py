"""Live chat in the web client against the local stack: an owner sets the chat up in
Settings > Live chat (kept after a reload, the API's refusal shown next to its field, the
identity secret shown once, the public key replaced after asking, the answer bot's switch
off while the workspace's AI is off), then a visitor chats through the visitor API from an
allowed site and the agent's open ticket follows: the visitor's messages appear without a
reload, their typing and presence show, the agent's typing and reply reach the visitor, and
the visitor's "seen" shows. Axe-core on each screen; screenshots in English and French."""

from __future__ import annotations

import re
import time
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
SITE = "https://shop.acme.test"


def _until(check, timeout=15.0, what="the stack"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _owner(stack) -> tuple[str, dict[str, str]]:
    email = f"olga-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": "Chat Desk", "name": "Olga", "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    return email, {"Authorization": f"Bearer {signup.json()['token']}"}


def _login(browser, api: str, email: str, next_path: str, **context):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", **context)
    page = ctx.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{api}/app/login?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app{next_path}")
    return ctx, page


def test_owner_sets_up_live_chat_and_finds_it_as_saved(stack, browser, screenshot_path):
    api = stack.api_url
    email, auth = _owner(stack)
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    ctx, page = _login(browser, api, email, "/settings/chat")

    page.get_by_label("Team name").wait_for()
    expect(page.get_by_role("navigation", name="Settings sections")).to_contain_text("Live chat")
    bot = page.get_by_role("switch", name="Answer visitors from the knowledge base with AI")
    expect(bot).to_be_disabled()
    expect(page.get_by_text("AI is off for this workspace")).to_be_visible()
    snippet = page.get_by_label("The script tag")
    first_key = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()[
        "public_key"
    ]
    expect(snippet).to_contain_text(first_key)
    expect(snippet).to_contain_text("/chat/widget.js")

    # A site that is not an origin: the API's words next to the field, nothing saved.
    page.get_by_label("Allowed sites").fill("not a site")
    page.get_by_role("button", name="Save changes").click()
    expect(
        page.locator(".field.invalid").filter(has=page.get_by_label("Allowed sites"))
    ).to_have_count(1)
    expect(page.locator(".field-problem").first).to_be_visible()
    assert (
        requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()["allowed_origins"]
        == []
    )

    page.get_by_role("switch", name="Show the chat on your site").check()
    page.get_by_label("Team name").fill("Acme helpers")
    page.get_by_label("Greeting in French").fill("Bonjour, comment pouvons-nous aider ?")
    page.get_by_label("Position on the page").select_option("left")
    page.get_by_label("Allowed sites").fill(f"{SITE}\nhttp://localhost:8010")
    page.get_by_label("Ask for the e-mail address").select_option("required")
    always = page.get_by_label("Always open")
    if always.is_checked():
        always.uncheck()
    page.get_by_role("button", name="Add hours on Tuesday").click()
    page.get_by_label("Tuesday: opens at").fill("08:30")
    page.get_by_label("Tuesday: closes at").fill("12:00")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()

    saved = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()
    assert saved["enabled"] is True
    assert saved["team_name"] == "Acme helpers"
    assert saved["position"] == "left"
    assert saved["greeting"]["fr"] == "Bonjour, comment pouvons-nous aider ?"
    assert saved["allowed_origins"] == [SITE, "http://localhost:8010"]
    assert saved["pre_chat_fields"]["email"] == "required"
    assert {"start": "08:30", "end": "12:00"} in saved["office_hours"]["weekly"]["tue"]
    assert saved["office_hours"]["always_open"] is False

    page.reload()
    expect(page.get_by_label("Team name")).to_have_value("Acme helpers")
    expect(page.get_by_label("Allowed sites")).to_have_value(f"{SITE}\nhttp://localhost:8010")
    expect(page.get_by_label("Tuesday: opens at")).to_have_value("08:30")
    expect(page.get_by_role("switch", name="Show the chat on your site")).to_be_checked()
    page.screenshot(path=shot("settings"), full_page=True)
    assert_accessible(page, "the live chat settings")

    # The identity secret: shown once, with its warning.
    page.get_by_role("button", name="Create the identity secret").click()
    secret = page.get_by_label("The identity secret")
    expect(secret).to_be_visible()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    value = secret.inner_text().strip()
    assert len(value) >= 20
    assert_accessible(page, "the identity secret shown once")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_text(value)).to_have_count(0)
    expect(page.get_by_text("A secret is set")).to_be_visible()

    # A new public key (after the confirmation) is in the tag to paste.
    page.get_by_role("button", name="Replace the public key").click()
    page.get_by_role("status").filter(has_text="New public key made").wait_for()
    new_key = requests.get(f"{api}/v1/chat/settings", headers=auth, timeout=10).json()["public_key"]
    assert new_key != first_key
    expect(snippet).to_contain_text(new_key)

    # In French, on a phone.
    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{api}/app/settings/chat")
    page.get_by_label("Nom de l'équipe").wait_for()
    page.screenshot(path=shot("settings_fr_360"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, "the live chat settings in French")

    page.goto(f"{api}/app/chat/insights")
    page.get_by_role("heading", name="Statistiques du chat", level=1).wait_for()
    page.get_by_role(
        "heading", name="Pourquoi des conversations sont passées à l'équipe"
    ).wait_for()
    page.screenshot(path=shot("insights_fr_360"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, "the chat insights in French")
    ctx.close()


class Visitor:
    """A visitor of an allowed site, through the visitor API as the widget calls it."""

    def __init__(self, api: str, public_key: str):
        self.base = f"{api}/v1/chat/{public_key}"
        self.headers = {"Origin": SITE}
        self.token = ""
        self.conversation = ""

    def _auth(self) -> dict[str, str]:
        return {**self.headers, "Authorization": f"Bearer {self.token}"}

    def start(self, message: str) -> dict:
        answer = requests.post(
            f"{self.base}/conversations",
            json={
                "message": message,
                "name": "Vera",
                "email": "vera@example.com",
                "page_url": f"{SITE}/orders/42",
                "language": "fr",
                "local_time": "2026-11-30T21:05:00+01:00",
                "client_id": uuid.uuid4().hex,
            },
            headers=self.headers,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        self.token = body["visitor_token"]
        self.conversation = body["conversation"]["id"]
        return body

    def say(self, text: str) -> dict:
        answer = requests.post(
            f"{self.base}/conversations/{self.conversation}/messages",
            json={"text": text, "client_id": uuid.uuid4().hex, "page_url": f"{SITE}/orders/42"},
            headers=self._auth(),
            timeout=10,
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def typing(self, on: bool) -> None:
        answer = requests.post(
            f"{self.base}/conversations/{self.conversation}/typing",
            json={"typing": on},
            headers=self._auth(),
            timeout=10,
        )
        assert answer.status_code in (200, 204), answer.text

    def seen(self, message_id: str) -> None:
        answer = requests.post(
            f"{self.base}/conversations/{self.conversation}/seen",
            json={"message_id": message_id},
            headers=self._auth(),
            timeout=10,
        )
        assert answer.status_code in (200, 204), answer.text

    def news(self) -> dict:
        answer = requests.get(
            f"{self.base}/conversations/{self.conversation}/messages",
            headers=self._auth(),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def test_an_open_chat_ticket_follows_the_visitor_live(stack, browser, screenshot_path):
    api = stack.api_url
    email, auth = _owner(stack)
    stack.confirm_signup(email)  # until then the workspace sends customers nothing
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    put = requests.put(
        f"{api}/v1/chat/settings",
        json={
            "enabled": True,
            "allowed_origins": [SITE],
            "office_hours": {"always_open": True},
            "pre_chat_fields": {"name": "optional", "email": "optional"},
        },
        headers=auth,
        timeout=10,
    )
    assert put.status_code == 200, put.text
    visitor = Visitor(api, put.json()["public_key"])
    hostile = "<b>bold?</b> <script>window.__chat_pwned = 1</script> where is my order?"
    started = visitor.start(hostile)
    ticket_id = started["conversation"].get("ticket_id") or started["conversation"]["id"]

    ctx, page = _login(browser, api, email, "/")
    row = page.locator(".ticket-row").filter(has_text="where is my order?")
    expect(row.locator(".badge.channel-chat")).to_have_text("Chat")
    assert_accessible(page, "the inbox with a chat ticket")
    row.get_by_role("link").click()
    page.wait_for_url(f"{api}/app/tickets/{ticket_id}")

    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text(hostile, exact=True)).to_have_count(1)
    expect(page.locator(".ticket-head .badge.channel-chat")).to_have_text("Chat")
    expect(conversation).to_contain_text(f"on {SITE}/orders/42 · French · 21:05 for the visitor")
    assert page.evaluate("() => window.__chat_pwned") is None

    # The visitor writes and types: the page shows it without a reload.
    page.evaluate("() => { window.__same_page = true; }")
    visitor.news()  # the widget polls while the visitor is on the page: they are online
    visitor.say("Order 42, please hurry")
    expect(conversation.get_by_text("Order 42, please hurry", exact=True)).to_have_count(1)
    _shows_typing(page, visitor, "Visitor is typing…")
    expect(page.get_by_text("Visitor online")).to_be_visible()
    assert page.evaluate("() => window.__same_page") is True
    page.screenshot(path=shot("ticket"), full_page=True)
    assert_accessible(page, "a live chat ticket")
    visitor.typing(False)

    # The agent types: the visitor is told; the reply reaches the visitor.
    page.get_by_label("Reply", exact=True).press_sequentially("On its way", delay=40)
    _until(lambda: visitor.news().get("agent_typing"), what="the agent's typing")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("status").filter(has_text="Reply sent").wait_for()
    reply = _until(
        lambda: next((m for m in visitor.news()["messages"] if m["author"] == "agent"), None),
        what="the reply in the widget",
    )
    assert reply["text"] == "On its way"
    visitor.seen(reply["id"])
    expect(page.locator(".chat-status .badge.seen")).to_have_text("Seen")
    assert page.evaluate("() => window.__same_page") is True

    # The month's insights; another month is one choice away.
    page.get_by_role("link", name="Chat insights").click()
    figures = page.locator(".figures > div").filter(has_text="Conversations")
    expect(figures.locator("dd")).to_have_text(re.compile(r"^\d+$"))
    page.screenshot(path=shot("insights"), full_page=True)
    assert_accessible(page, "the chat insights")
    month = page.get_by_label("Month")
    earlier = month.locator("option").nth(1).get_attribute("value")
    month.select_option(earlier)
    page.wait_for_url(f"{api}/app/chat/insights?month={earlier}")
    expect(figures.locator("dd")).to_have_text("0")

    # In French.
    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.goto(f"{api}/app/tickets/{ticket_id}")
    conversation = page.get_by_role("list", name="Conversation")
    expect(page.locator(".ticket-head .badge.channel-chat")).to_have_text("Chat")
    _shows_typing(page, visitor, "Le visiteur écrit…")
    page.screenshot(path=shot("ticket_fr"), full_page=True)
    assert_accessible(page, "a live chat ticket in French")
    ctx.close()


def _shows_typing(page, visitor, words: str) -> None:
    """The visitor types as a widget does (a signal every few seconds while the keys move):
    the agent's page says so.  One signal lapses after a few seconds, so a page still
    loading on a busy machine could miss a single one."""
    status = page.get_by_role("status").filter(has_text=words)
    for _ in range(5):
        visitor.typing(True)
        try:
            expect(status).to_be_visible(timeout=3000)
            return
        except AssertionError:
            continue
    expect(status).to_be_visible(timeout=1)


def test_an_agent_reads_the_live_chat_settings_without_changing_them(stack, browser):
    api = stack.api_url
    _, auth = _owner(stack)
    agent = f"abel-{uuid.uuid4().hex[:8]}@acme.test"
    invited = requests.post(
        f"{api}/v1/members/invitations",
        json={"email": agent, "role": "agent"},
        headers=auth,
        timeout=10,
    )
    assert invited.status_code == 201, invited.text
    mail = _until(
        lambda: next(
            (m for m in requests.get(stack.sent_mail_url, timeout=5).json() if agent in m["to"]),
            None,
        ),
        timeout=30,
        what="the invitation",
    )
    token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"][0]).group(1)
    assert requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Abel", "password": PASSWORD},
        timeout=10,
    ).ok

    ctx, page = _login(browser, api, agent, "/settings/chat")
    expect(page.get_by_text("Only owners and admins can change these settings.")).to_be_visible()
    expect(page.get_by_label("Team name")).to_be_disabled()
    expect(page.get_by_role("switch", name="Show the chat on your site")).to_be_disabled()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    add_hours = page.get_by_role("button", name="Add hours on Monday")
    if add_hours.count():  # shown unless the chat is always open
        expect(add_hours).to_be_disabled()
    expect(page.get_by_role("button", name="Replace the public key")).to_have_count(0)
    expect(page.get_by_role("button", name="Create the identity secret")).to_have_count(0)
    expect(page.get_by_label("The script tag")).to_contain_text("/chat/widget.js")
    assert_accessible(page, "the live chat settings read by an agent")
    ctx.close()
