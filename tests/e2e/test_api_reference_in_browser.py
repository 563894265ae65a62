"""The API reference (`/docs`, Swagger UI) in headless Chromium on the local stack: a reader
authorises with a token and tries a call, under the page's strict Content-Security-Policy."""

import uuid

import requests

PASSWORD = "correct horse battery"


def test_reader_authorises_with_a_token_and_tries_get_me(stack, browser, screenshot_path):
    email = f"docs-{uuid.uuid4().hex[:6]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": "Acme Docs", "name": "Ann", "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    token = signup.json()["token"]

    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    problems: list[str] = []
    # Chromium reports each blocked script, style or request on the console.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused to")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(f"{stack.api_url}/docs")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy

    page.wait_for_selector("#operations-accounts-me")
    assert "Helptal API" in page.locator(".info .title").inner_text()
    page.click("button.authorize")
    page.fill(".auth-container input[type=text]", token)
    page.click(".auth-container button.authorize")
    page.click("button.btn-done")

    operation = page.locator("#operations-accounts-me")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    status.wait_for()
    assert status.first.inner_text().strip() == "200"
    answer = operation.locator(".live-responses-table .response-col_description pre").first
    assert email in answer.inner_text()
    operation.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path), full_page=False)
    page.close()
    assert problems == [], problems
