"""Getting into the web client another way: a forgotten password (a link by mail) and
two-factor sign-in (a code, or a recovery code, after the password)."""

import time
import uuid

import pyotp
import requests

PASSWORD = "correct horse battery"


def _sign_up(api: str, name: str) -> tuple[str, dict]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": f"{name} Desk", "name": name, "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    return email, signup.json()


def test_forgotten_password_sends_a_reset_link(stack, browser, screenshot_path):
    email, _ = _sign_up(stack.api_url, "Fern")
    page = browser.new_page()
    page.goto(f"{stack.api_url}/app/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("status").filter(has_text=f"If {email} has a Helptal account").wait_for()
    page.screenshot(path=str(screenshot_path))

    def reset_mail():
        return [
            m
            for m in requests.get(stack.sent_mail_url, timeout=5).json()
            if email in m["to"] and "password" in " ".join(m.get("subject", [])).lower()
        ]

    deadline = time.monotonic() + 30
    while not reset_mail():
        assert time.monotonic() < deadline, "no password-reset mail"
        time.sleep(0.5)
    page.get_by_role("link", name="Back to log in").click()
    page.get_by_role("heading", name="Log in").wait_for()
    page.close()


def test_two_factor_sign_in_asks_for_a_code_and_takes_a_recovery_code(
    stack, browser, screenshot_path
):
    api = stack.api_url
    email, signup = _sign_up(api, "Tess")
    auth = {"Authorization": f"Bearer {signup['token']}"}
    enrolment = requests.post(f"{api}/v1/me/two-factor", headers=auth, timeout=10)
    assert enrolment.status_code == 201, enrolment.text
    code = pyotp.TOTP(enrolment.json()["secret"]).now()
    confirmed = requests.post(
        f"{api}/v1/me/two-factor/confirm", json={"code": code}, headers=auth, timeout=10
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery_code = confirmed.json()["recovery_codes"][0]

    page = browser.new_page()
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Two-step verification").wait_for()
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("alert").filter(has_text="That code is not right").wait_for()
    page.screenshot(path=str(screenshot_path))

    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(recovery_code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{api}/app/")
    page.get_by_role("heading", name="All", exact=True).wait_for()
    assert "helptal_session" not in page.evaluate("document.cookie")
    page.close()


def test_the_language_chosen_in_the_profile_wins_over_the_browsers(stack, browser):
    api = stack.api_url
    email, signup = _sign_up(api, "Lou")
    changed = requests.patch(
        f"{api}/v1/me/profile",
        json={"locale": "fr"},
        headers={"Authorization": f"Bearer {signup['token']}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Tous", exact=True).wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    context.close()
