"""Notifications in the web client: a teammate's note that mentions you shows in the bell,
opening it marks it read, "mark all as read" clears the count, and the preferences screen
(where the digest mail links) saves what you are told of by e-mail."""

import re
import time
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def _workspace_with_teammate(stack) -> tuple[str, dict, requests.Session]:
    """An owner (Nora) and a logged-in teammate (Tom) in a new workspace."""
    api = stack.api_url
    email = f"nora-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Bell Desk", "name": "Nora", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    teammate = f"tom-{uuid.uuid4().hex[:8]}@acme.test"
    invited = requests.post(
        f"{api}/v1/members/invitations",
        json={"email": teammate, "role": "agent"},
        headers=auth,
        timeout=10,
    )
    assert invited.status_code == 201, invited.text
    mail = _until(
        lambda: [
            m for m in requests.get(stack.sent_mail_url, timeout=5).json() if teammate in m["to"]
        ]
    )[0]
    token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"][0]).group(1)
    accepted = requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Tom", "password": PASSWORD},
        timeout=10,
    )
    assert accepted.status_code in (200, 201), accepted.text
    login = requests.post(
        f"{api}/v1/auth/login", json={"email": teammate, "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 200, login.text
    tom = requests.Session()
    tom.headers["Authorization"] = f"Bearer {login.json()['token']}"
    return email, auth, tom


def test_a_mention_rings_the_bell_and_is_marked_read(stack, browser, screenshot_path):
    api = stack.api_url
    email, auth, tom = _workspace_with_teammate(stack)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    ticket = tom.post(
        f"{api}/v1/tickets",
        json={
            "requester": {"email": "carol@customer.example", "name": "Carol"},
            "subject": "Refund for a double charge",
            "body": "I was charged twice.",
        },
        timeout=10,
    )
    assert ticket.status_code == 201, ticket.text
    note = tom.post(
        f"{api}/v1/tickets/{ticket.json()['id']}/messages",
        json={"kind": "note", "body": "@Nora can you approve this refund?"},
        timeout=10,
    )
    assert note.status_code == 201, note.text

    # The tab shown again polls at once (instead of at the next 20-second tick); the events
    # worker may still be writing the mention on a busy machine, so the tab is shown again
    # until it is counted.
    bell = page.get_by_role("link", name=re.compile(r"^Notifications, \d+ unread$"))
    for _ in range(10):
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        try:
            expect(bell).to_have_accessible_name("Notifications, 2 unread", timeout=2_000)
            break
        except AssertionError:
            continue
    expect(bell).to_have_accessible_name("Notifications, 2 unread")  # the new ticket, the mention
    bell.click()
    page.wait_for_url(f"{api}/app/notifications")
    items = page.get_by_role("list", name="Your notifications").get_by_role("listitem")
    expect(items).to_have_count(2)
    mention = items.filter(has_text="Mentioned you")
    expect(mention).to_contain_text("Refund for a double charge")
    expect(mention).to_contain_text("By Tom")
    expect(mention).to_contain_text("can you approve this refund?")
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert_accessible(page, "the notifications")

    mention.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/app/tickets/.+"))
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    page.get_by_role("link", name="Notifications, 1 unread").click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Mark all as read")).to_be_disabled()
    unread = requests.get(f"{api}/v1/notifications", headers=auth, timeout=10).json()
    assert unread["unread_count"] == 0

    page.get_by_role("link", name="Notification preferences").click()
    page.wait_for_url(f"{api}/app/settings/notifications")
    page.get_by_label("New ticket: by e-mail").check()
    page.get_by_label("Mentioned you: in the app").uncheck()
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    prefs = requests.get(f"{api}/v1/me/notification-preferences", headers=auth, timeout=10).json()
    assert prefs["new_ticket"]["email"] is True
    assert prefs["mention"]["in_app"] is False
    assert_accessible(page, "the notification preferences")
    page.screenshot(path=str(screenshot_path.with_name(f"{screenshot_path.stem}_preferences.png")))

    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{api}/app/notifications")
    page.get_by_role("heading", name="Notifications").wait_for()
    page.get_by_role("button", name="Tout marquer comme lu").wait_for()
    page.get_by_role("list", name="Vos notifications").get_by_text("Mention").wait_for()
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}_fr_360.png")), full_page=True
    )
    page.goto(f"{api}/app/settings/notifications")
    page.get_by_role("heading", name="Préférences de notification").wait_for()
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}_preferences_fr_360.png")),
        full_page=True,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
