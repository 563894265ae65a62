"""An owner turns off the two-factor sign-in of a teammate who lost their authenticator,
from the team settings of the web client (the teammate is told by e-mail)."""

import re
import time
import uuid

import pyotp
import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"


def _mail_to(stack, address, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            m for m in requests.get(stack.sent_mail_url, timeout=5).json() if address in m["to"]
        ]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no mail reached {address}")


def test_owner_turns_off_a_teammates_lost_second_factor(stack, browser, screenshot_path):
    api = stack.api_url
    owner_email = f"own-{uuid.uuid4().hex[:8]}@acme.test"
    mate = f"mate-{uuid.uuid4().hex[:8]}@acme.test"
    owner = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Safe Desk",
            "name": "Olga",
            "email": owner_email,
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {owner['token']}"}
    requests.post(
        f"{api}/v1/members/invitations",
        json={"email": mate, "role": "agent"},
        headers=auth,
        timeout=10,
    ).raise_for_status()
    token = re.search(r"/join/(hti_[\w-]+)", _mail_to(stack, mate)[0]["text"][0]).group(1)
    joined = requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Mia Mate", "password": PASSWORD},
        timeout=10,
    ).json()
    mate_auth = {"Authorization": f"Bearer {joined['token']}"}
    secret = requests.post(f"{api}/v1/me/two-factor", headers=mate_auth, timeout=10).json()[
        "secret"
    ]
    requests.post(
        f"{api}/v1/me/two-factor/confirm",
        json={"code": pyotp.TOTP(secret).now()},
        headers=mate_auth,
        timeout=10,
    ).raise_for_status()

    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{api}/app/login?next=/settings/team")
    page.get_by_label("Email").fill(owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    members = page.get_by_role("list", name="Members")
    row = members.get_by_role("listitem").filter(has_text="Mia Mate")
    expect(row).to_contain_text("Two-factor sign-in")
    assert_accessible(page, "team with two-factor")
    row.get_by_role("button", name="Turn off two-factor sign-in for Mia Mate").click()
    page.get_by_role("status").filter(has_text="Two-factor sign-in is off for Mia Mate").wait_for()
    expect(row).not_to_contain_text("Two-factor sign-in")
    page.screenshot(path=str(screenshot_path), full_page=True)

    login = requests.post(
        f"{api}/v1/auth/login", json={"email": mate, "password": PASSWORD}, timeout=10
    ).json()
    assert login["two_factor_required"] is False
    told = [m for m in _mail_to(stack, mate) if "turned off" in m["subject"][0]]
    assert told and "Olga turned off two-factor sign-in" in told[0]["text"][0]
    page.context.close()
