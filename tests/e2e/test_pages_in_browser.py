"""Pages people open, in a real (headless) Chromium against the running stack."""

import re
import time
import uuid

import requests

PASSWORD = "correct horse battery"


def _invite(stack, workspace="Acme Support", locale=None):
    email = f"owner-{uuid.uuid4().hex[:6]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": workspace, "name": "Ann", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    invitee = f"agent-{uuid.uuid4().hex[:6]}@acme.test"
    response = requests.post(
        f"{stack.api_url}/v1/members/invitations",
        json={"email": invitee, **({"locale": locale} if locale else {})},
        headers={"Authorization": f"Bearer {signup['token']}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for mail in requests.get(stack.sent_mail_url, timeout=5).json():
            if invitee in mail["to"]:
                return invitee, re.search(r"https?://\S+/join/hti_[\w-]+", mail["text"][0])[0]
        time.sleep(0.2)
    raise AssertionError("the invitation e-mail was not sent")


def test_invited_agent_joins_from_the_emailed_link_in_french(stack, browser, screenshot_path):
    invitee, link = _invite(stack, locale="fr")
    context = browser.new_context(locale="en-GB")  # the page follows the invitation
    page = context.new_page()
    page.goto(link)
    assert page.locator("h1").inner_text() == "Rejoindre Acme Support sur Helptal"
    assert invitee in page.locator("main").inner_text()
    page.fill("#name", "Bob Agent")
    page.fill("#password", "short")
    page.click("button[type=submit]")  # the browser itself refuses fewer than 10 characters
    assert page.evaluate("document.querySelector('#password').validity.tooShort")
    page.fill("#password", invitee)  # long enough, but refused by the server's policy
    page.click("button[type=submit]")
    assert "ne peut pas être votre adresse e-mail" in page.locator(".errors").inner_text()
    assert page.input_value("#name") == "Bob Agent"
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Bienvenue chez Acme Support")
    page.screenshot(path=str(screenshot_path), full_page=True)
    context.close()
    login = requests.post(
        f"{stack.api_url}/v1/auth/login",
        json={"email": invitee, "password": PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200
    assert login.json()["user"]["name"] == "Bob Agent"


def test_used_link_shows_why_it_no_longer_works(stack, browser):
    _, link = _invite(stack)
    requests.post(link, data={"name": "Bob", "password": PASSWORD}, timeout=10)
    page = browser.new_page()
    response = page.goto(link)
    assert response.status == 410
    assert page.locator("h1").inner_text() == "This invitation cannot be used"
    assert "already used" in page.locator("main").inner_text()
    page.close()
