"""The help centre on a customer's own domain, in headless Chromium: home -> search -> article."""

import time
import uuid

import requests

PASSWORD = "correct horse battery"


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def test_visitor_finds_an_answer_on_the_custom_domain(stack, browser, fake_dns, screenshot_path):
    api = stack.api_url
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Acme Help Desk",
            "name": "Ann",
            "email": f"kb-{uuid.uuid4().hex[:6]}@acme.test",
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    category = requests.post(
        f"{api}/v1/kb/categories", json={"name": "Billing"}, headers=auth, timeout=10
    ).json()
    for title, body in [
        ("How refunds work", "Refunds reach your card **within 5 days**."),
        ("Changing your plan", "Upgrade or downgrade at any time."),
    ]:
        created = requests.post(
            f"{api}/v1/kb/articles",
            json={
                "title": title,
                "body": body,
                "status": "published",
                "category_id": category["id"],
            },
            headers=auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
    settings = requests.put(
        f"{api}/v1/kb/settings",
        json={"custom_domain": "help.acme.test", "brand_color": "#0b7a75"},
        headers=auth,
        timeout=10,
    ).json()
    record = settings["dns_record"]
    fake_dns.records[record["name"]] = [record["value"]]
    verified = requests.post(f"{api}/v1/kb/settings/verify-domain", headers=auth, timeout=10)
    assert verified.status_code == 200, verified.text

    port = api.rsplit(":", 1)[1]
    site = f"http://help.acme.test:{port}"
    _until(
        lambda: requests.get(
            f"{api}/hc/{signup['workspace']['slug']}/api/search?q=refunds", timeout=10
        ).json()["hits"]
    )  # the index is built by the pump
    page = browser.new_page()
    page.goto(f"{site}/")
    assert page.locator("h1").inner_text() == "How can Acme Help Desk help?"
    page.fill("input[name=q]", "refund card")
    page.click("form.search button")
    page.wait_for_selector("text=How refunds work")
    assert page.locator("mark").first.inner_text().lower().startswith("refund")
    page.click("text=How refunds work")
    page.wait_for_selector("article h1")
    assert page.url == f"{site}/en/articles/how-refunds-work"
    assert page.locator("article strong").inner_text() == "within 5 days"
    page.click("button[value=yes]")
    page.wait_for_selector("text=Thanks for your feedback!")
    page.screenshot(path=str(screenshot_path), full_page=True)
    page.close()
