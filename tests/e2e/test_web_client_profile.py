"""The profile in the web client: the name and the language (the app follows it at once), a
new password (other sessions signed out), two-factor sign-in turned on from the QR code's
secret with its recovery codes shown once, then a login that asks for a code."""

import base64
import re
import time
import uuid

import pyotp
import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
NEW_PASSWORD = "a much longer passphrase"


def _sign_up(api: str, name: str) -> str:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": f"{name} Desk", "name": name, "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    return email


def _log_in(page, api: str, email: str, password: str) -> None:
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_profile_password_and_two_factor_sign_in(stack, browser, screenshot_path):
    api = stack.api_url
    email = _sign_up(api, "Petra")
    # A session elsewhere (another browser): the new password signs it out.
    login = requests.post(
        f"{api}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 200, login.text
    elsewhere = {"Authorization": f"Bearer {login.json()['token']}"}
    assert requests.get(f"{api}/v1/me", headers=elsewhere, timeout=10).status_code == 200

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    _log_in(page, api, email, PASSWORD)
    page.wait_for_url(f"{api}/app/")
    page.get_by_label("Account menu for Petra", exact=True).click()
    page.get_by_role("link", name="Profile").click()
    page.wait_for_url(f"{api}/app/profile")
    page.get_by_role("heading", name="Profile", exact=True).wait_for()

    page.get_by_label("Name", exact=True).fill("Petra Novak")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    expect(page.locator(".user-menu .user-name")).to_have_text("Petra Novak")

    sessions = page.get_by_role("list", name="Active sessions")
    expect(sessions.get_by_role("listitem")).to_have_count(3)  # sign-up, elsewhere, here
    expect(sessions.get_by_text("This session")).to_have_count(1)

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("status").filter(
        has_text="Password changed. 2 other sessions were signed out."
    ).wait_for()
    assert requests.get(f"{api}/v1/me", headers=elsewhere, timeout=10).status_code == 401
    page.reload()
    expect(page.get_by_role("list", name="Active sessions").get_by_role("listitem")).to_have_count(
        1
    )

    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    secret = page.get_by_label("Key for the authenticator app").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Authentication code").fill(totp.now())
    page.get_by_role("button", name="Confirm and turn on").click()
    codes = page.get_by_role("list", name="Recovery codes")
    expect(codes.get_by_role("listitem")).to_have_count(10)
    expect(page.get_by_text("they are shown only this once")).to_be_visible()
    expect(page.get_by_role("link", name="Download the codes")).to_have_attribute(
        "download", "helptal-recovery-codes.txt"
    )
    page.get_by_role("status").filter(has_text="Two-factor sign-in is on since").wait_for()
    page.get_by_role("status").filter(has_text="10 recovery codes left.").wait_for()
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert_accessible(page, "the profile with the recovery codes")
    page.get_by_role("button", name="I have saved them").click()
    expect(codes).to_have_count(0)

    page.get_by_label("Account menu for Petra Novak").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{api}/app/login")
    _log_in(page, api, email, NEW_PASSWORD)
    page.get_by_role("heading", name="Two-step verification").wait_for()
    # The next 30-second step: the one used to turn it on is not accepted twice.
    page.get_by_label("Authentication code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{api}/app/")

    # The language applies at once, everywhere in the app.
    page.goto(f"{api}/app/profile")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="Profil", exact=True).wait_for()
    page.get_by_role("status").filter(has_text="Modifications enregistrées.").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}_fr.png")), full_page=True
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}_fr_360.png")), full_page=True
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_avatar_is_uploaded_and_shown(stack, browser):
    api = stack.api_url
    email = _sign_up(api, "Ava")
    # The image goes from the browser straight to the content bucket (the API's presigned
    # POST), an origin the app's Content-Security-Policy names for uploads and images.
    context = browser.new_context(locale="en-US")
    problems: list[str] = []
    context.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page = context.new_page()
    _log_in(page, api, email, PASSWORD)
    page.wait_for_url(f"{api}/app/")
    page.goto(f"{api}/app/profile")
    page.get_by_label("Choose an image").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("status").filter(has_text="Avatar saved.").wait_for()
    expect(page.get_by_role("img", name="Your new avatar")).to_be_visible()
    assert page.get_by_role("img", name="Your new avatar").get_attribute("src").startswith("blob:")
    # Saved: after a reload the avatar is the API's link (a redirect to the bucket), shown
    # under the app's policy.
    page.reload()
    saved = page.get_by_role("img", name="Your new avatar")
    expect(saved).to_have_attribute("src", re.compile(r"/v1/users/[^/]+/avatar/"))
    page.wait_for_function(
        "() => [...document.images].some(i => i.src.includes('/avatar/') && i.naturalWidth > 0)"
    )
    page.get_by_role("button", name="Remove the avatar").click()
    page.get_by_role("status").filter(has_text="Avatar removed.").wait_for()

    # One session signed out from the list: the others stay open.
    login = requests.post(
        f"{api}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    other = {"Authorization": f"Bearer {login.json()['token']}"}
    page.reload()
    sessions = page.get_by_role("list", name="Active sessions")
    expect(sessions.get_by_role("listitem")).to_have_count(3)  # sign-up, the API, here
    sessions.get_by_role("button", name=re.compile(r"^Sign out ")).first.click()
    page.get_by_role("status").filter(has_text="Session signed out.").wait_for()
    expect(sessions.get_by_role("listitem")).to_have_count(2)
    page.get_by_role("button", name="Sign out everywhere else").click()
    page.get_by_role("status").filter(has_text="1 other session signed out.").wait_for()
    expect(sessions.get_by_role("listitem")).to_have_count(1)
    assert requests.get(f"{api}/v1/me", headers=other, timeout=10).status_code == 401
    assert problems == []
    context.close()
