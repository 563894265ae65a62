"""The further settings of the web client: an API key whose secret is shown once then
revoked, AI turned on next to the statement of what it sends where, the mailbox (a
forwarding address with its setup) and the help centre's custom domain with its DNS
records; each screen in English at desktop size and in French at 360 px."""

import re
import time
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
SECTIONS = {
    "api-keys": "Clés d'API",
    "mailbox": "Accusé de réception",
    "ai": "IA",
    "help-centre": "Centre d'aide",
}


def test_owner_creates_an_api_key_and_turns_ai_on(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"owen-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Keys Desk", "name": "Owen", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")
    page.goto(f"{api}/app/settings")
    sections = page.get_by_role("navigation", name="Settings sections")

    sections.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("Zapier")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("Secret of the key Zapier")
    expect(secret).to_be_visible()
    key = secret.inner_text().strip()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    assert requests.get(f"{api}/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).ok
    keys = page.get_by_role("list", name="API keys")
    expect(keys.get_by_role("listitem").filter(has_text="Zapier")).to_have_count(1)
    page.screenshot(path=shot("api_key"), full_page=True)
    assert_accessible(page, "API keys")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_text(key)).to_have_count(0)
    page.reload()
    keys.get_by_role("listitem").filter(has_text="Zapier").wait_for()
    assert key not in page.content()
    page.get_by_role("button", name="Revoke the key Zapier").click()
    page.get_by_text("No API keys.").wait_for()
    assert (
        requests.get(
            f"{api}/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10
        ).status_code
        == 401
    )

    sections.get_by_role("link", name="AI", exact=True).click()
    expect(
        page.get_by_text("nothing from this workspace is sent to an AI provider")
    ).to_be_visible()
    expect(page.get_by_text("to Anthropic (Claude)")).to_be_visible()
    switch = page.get_by_role("switch", name="Use AI in this workspace")
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("status").filter(has_text="AI is on. Saved.").wait_for()
    expect(switch).to_be_checked()
    assert requests.get(f"{api}/v1/workspace/ai", headers=auth, timeout=10).json()["enabled"]
    expect(page.get_by_role("list", name="Changes").get_by_role("listitem").first).to_contain_text(
        "Owen"
    )
    page.screenshot(path=shot("ai"), full_page=True)
    assert_accessible(page, "AI settings")

    sections.get_by_role("link", name="Mailbox").click()
    page.get_by_label("An address of yours").fill("support@acme.test")
    page.get_by_role("button", name="Add address").click()
    forwarding = page.get_by_role("list", name="Forwarding addresses")
    expect(forwarding).to_contain_text("forward all mail received at support@acme.test to")
    expect(forwarding).to_contain_text("Waiting for confirmation")
    page.get_by_label("Confirmation code for support@acme.test").wait_for()
    page.screenshot(path=shot("mailbox"), full_page=True)
    assert_accessible(page, "the mailbox")

    sections.get_by_role("link", name="Help centre").click()
    page.get_by_label("Custom domain").fill("help.acme.test")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="Setting up help.acme.test").wait_for()
    expect(page.get_by_role("table").last).to_contain_text("help.acme.test")
    page.get_by_role("button", name="Verify the domain").click()
    page.locator("[role=status]:has-text('The'), [role=alert]").first.wait_for()
    page.screenshot(path=shot("help_centre"), full_page=True)
    assert_accessible(page, "the help centre settings")

    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.set_viewport_size({"width": 360, "height": 740})
    for path, heading in SECTIONS.items():
        page.goto(f"{api}/app/settings/{path}")
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        page.get_by_role("link", name="Clés d'API").wait_for()
        page.screenshot(path=shot(f"{path}_fr_360"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    context.close()


def test_an_agent_reads_the_settings_without_changing_them(stack, browser):
    api = stack.api_url
    owner = f"olive-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Read Desk", "name": "Olive", "email": owner, "password": PASSWORD},
        timeout=10,
    ).json()
    agent = f"abel-{uuid.uuid4().hex[:8]}@acme.test"
    invited = requests.post(
        f"{api}/v1/members/invitations",
        json={"email": agent, "role": "agent"},
        headers={"Authorization": f"Bearer {signup['token']}"},
        timeout=10,
    )
    assert invited.status_code == 201, invited.text
    deadline = time.monotonic() + 30
    while True:
        mails = [m for m in requests.get(stack.sent_mail_url, timeout=5).json() if agent in m["to"]]
        if mails:
            break
        assert time.monotonic() < deadline, "no invitation mail"
        time.sleep(0.3)
    token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mails[0]["text"][0]).group(1)
    assert requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Abel", "password": PASSWORD},
        timeout=10,
    ).ok

    page = browser.new_page()
    page.goto(f"{api}/app/login?next=/settings/ai")
    page.get_by_label("Email").fill(agent)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/settings/ai")
    expect(page.get_by_text("Only owners and admins can change these settings.")).to_be_visible()
    expect(page.get_by_role("switch", name="Use AI in this workspace")).to_be_disabled()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    for path in ("api-keys", "mailbox", "help-centre"):
        page.goto(f"{api}/app/settings/{path}")
        page.get_by_text("Only owners and admins can change these settings.").wait_for()
    expect(page.get_by_label("Custom domain")).to_be_disabled()
    page.close()
