"""Settings in the web client: the workspace's name and time zone, and the team: an
invitation sent from the app, accepted from the mailed link, and one revoked."""

import re
import time
import uuid

import requests
from playwright.sync_api import expect

PASSWORD = "correct horse battery"


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def test_owner_renames_the_workspace_and_invites_a_teammate(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"owner-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Settings Desk",
            "name": "Olga",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url(f"{api}/app/settings")

    page.get_by_label("Workspace name").fill("Renamed Desk")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    expect(page.locator(".topbar .workspace")).to_have_text("Renamed Desk")
    workspace = requests.get(f"{api}/v1/workspace", headers=auth, timeout=10).json()
    assert (workspace["name"], workspace["timezone"]) == ("Renamed Desk", "Europe/Paris")

    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Team"
    ).click()
    page.wait_for_url(f"{api}/app/settings/team")
    invitee = f"teammate-{uuid.uuid4().hex[:8]}@acme.test"
    leaver = f"leaver-{uuid.uuid4().hex[:8]}@acme.test"
    for address in (invitee, leaver):
        page.get_by_label("Email").fill(address)
        page.get_by_label("Role").select_option("agent")
        page.get_by_role("button", name="Send invitation").click()
        page.get_by_role("status").filter(has_text=f"Invitation sent to {address}").wait_for()
    pending = page.get_by_role("list", name="Pending invitations")
    expect(pending.get_by_role("listitem")).to_have_count(2)

    page.get_by_role("button", name=f"Revoke the invitation for {leaver}").click()
    expect(pending.get_by_role("listitem")).to_have_count(1)
    page.screenshot(path=str(screenshot_path), full_page=True)

    mail = _until(
        lambda: [
            m for m in requests.get(stack.sent_mail_url, timeout=5).json() if invitee in m["to"]
        ]
    )[0]
    token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"][0]).group(1)
    accepted = requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Tim Teammate", "password": PASSWORD},
        timeout=10,
    )
    assert accepted.status_code in (200, 201), accepted.text
    page.reload()
    members = page.get_by_role("list", name="Members")
    members.get_by_role("listitem").filter(has_text="Tim Teammate").wait_for()
    assert page.get_by_text("No pending invitations.").is_visible()
    page.close()
