"""The web client's inbox over a longer list: newest activity first, more tickets as the
list scrolls (the API's cursor), and the views with their counts."""

import time
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
TICKETS = 30  # more than one page (25)


def test_the_inbox_scrolls_through_pages_and_switches_views(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"views-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Busy Desk", "name": "Bo", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    me = requests.get(f"{api}/v1/me", headers=auth, timeout=10).json()
    for number in range(1, TICKETS + 1):
        created = requests.post(
            f"{api}/v1/tickets",
            json={
                "requester": {"email": f"customer{number}@customer.test"},
                "subject": f"Question number {number}",
                "body": "Hello.",
                "status": "pending" if number % 10 == 0 else "new",
                "assignee_id": me["user"]["id"] if number <= 2 else None,
            },
            headers=auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text

    page = browser.new_page(viewport={"width": 1280, "height": 700})
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")

    items = page.get_by_role("list", name="Tickets: All").get_by_role("listitem")
    items.first.wait_for()
    assert items.count() == 25
    assert "Question number 30" in items.first.inner_text()  # newest activity first
    page.get_by_role("link", name=f"All, {TICKETS} tickets").wait_for()

    # Keyboard: j and k walk the list, ? lists the shortcuts.
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert "Question number 29" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("k")
    assert "Question number 30" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    shortcuts.wait_for()
    assert "Reply to the customer" in shortcuts.inner_text()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()

    items.last.scroll_into_view_if_needed()
    expect(items).to_have_count(TICKETS)
    assert "Question number 1" in items.last.inner_text()
    assert page.get_by_role("button", name="Show more tickets").count() == 0

    page.get_by_role("link", name="Mine, 2 tickets").click()
    page.wait_for_url(f"{api}/app/inbox/mine")
    mine = page.get_by_role("list", name="Tickets: Mine").get_by_role("listitem")
    expect(mine).to_have_count(2)
    assert_accessible(page, "inbox: Mine")
    assert [text.split("\n")[0] for text in mine.all_inner_texts()] == [
        "Question number 2",
        "Question number 1",
    ]

    page.get_by_role("link", name="Pending, 3 tickets").click()
    page.wait_for_url(f"{api}/app/inbox/pending")
    page.get_by_role("heading", name="Pending").wait_for()
    expect(page.get_by_role("list", name="Tickets: Pending").get_by_role("listitem")).to_have_count(
        3
    )
    page.screenshot(path=str(screenshot_path))

    page.go_back()
    page.wait_for_url(f"{api}/app/inbox/mine")
    page.get_by_role("heading", name="Mine").wait_for()

    # Search, within a view (the index is updated by the event pump: ask until it has them).
    page.get_by_role("link", name=f"All, {TICKETS} tickets").click()
    search = page.get_by_role("search").get_by_role("searchbox", name="Search tickets")
    search.fill("question number 17")
    results = page.get_by_role("list", name="Tickets: All").get_by_role("listitem")

    def found():
        page.get_by_role("search").get_by_role("button", name="Search").click()
        page.get_by_text("Results for “question number 17”").wait_for()
        page.wait_for_timeout(700)
        return [t.split("\n")[0] for t in results.all_inner_texts()] == ["Question number 17"]

    deadline = time.monotonic() + 90  # the pump indexes slowly while the whole suite runs
    while not found():
        assert time.monotonic() < deadline, results.all_inner_texts()
    assert page.url == f"{api}/app/?q=question%20number%2017"
    page.get_by_role("link", name="Clear search").click()
    expect(results).to_have_count(25)
    page.close()
