"""The help centre's Content-Security-Policy in headless Chromium: the pages load with no
violation reported, and the tenant's brand colour (an allowed <style>) still applies."""

import uuid

import requests

PASSWORD = "correct horse battery"
BRAND = "#0b7a75"
BRAND_RGB = "rgb(11, 122, 117)"


def test_help_centre_pages_load_under_their_policy_with_the_brand_colour(stack, browser):
    api = stack.api_url
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Acme CSP",
            "name": "Ann",
            "email": f"csp-{uuid.uuid4().hex[:6]}@acme.test",
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    created = requests.post(
        f"{api}/v1/kb/articles",
        json={
            "title": "How refunds work",
            "body": "Refunds reach your card **within 5 days**.",
            "status": "published",
            "slug": "refunds",
        },
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    updated = requests.put(
        f"{api}/v1/kb/settings", json={"brand_color": BRAND}, headers=auth, timeout=10
    )
    assert updated.status_code == 200, updated.text

    page = browser.new_page()
    problems: list[str] = []
    # Chromium reports each blocked style, image or script on the console ("Refused to ...
    # because it violates the following Content Security Policy directive").
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused to")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    home = f"{api}/hc/{signup['workspace']['slug']}"
    for url in (home, f"{home}/en/articles/refunds"):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert "default-src 'none'" in response.headers["content-security-policy"]
        header_colour = page.evaluate(
            "getComputedStyle(document.querySelector('header')).backgroundColor"
        )
        assert header_colour == BRAND_RGB, url
    assert page.locator("article h1").inner_text() == "How refunds work"
    page.close()
    assert problems == [], problems
