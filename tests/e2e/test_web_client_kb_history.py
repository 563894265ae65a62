"""The knowledge base's history and gaps in the web client: a version compared with the
current one line by line, and the searches readers made without finding an answer."""

import re
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"


def _workspace(api):
    email = f"hist-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "History Desk",
            "name": "Hana",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    )
    signup.raise_for_status()
    return email, signup.json()


def _log_in(page, api, email, goto):
    page.goto(f"{api}/app/login?next={goto}")
    page.get_by_label(re.compile("^(Email|Adresse e-mail)$")).fill(email)
    page.get_by_label(re.compile("^(Password|Mot de passe)$")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Log in|Se connecter)$")).click()


def test_a_version_is_compared_with_the_current_one(stack, browser, screenshot_path):
    api = stack.api_url
    email, signup = _workspace(api)
    auth = {"Authorization": f"Bearer {signup['token']}"}
    created = requests.post(
        f"{api}/v1/kb/articles",
        json={"title": "Refunds", "body": "Step one.\nStep two.\nStep three."},
        headers=auth,
        timeout=10,
    ).json()
    requests.patch(
        f"{api}/v1/kb/articles/{created['id']}",
        json={"title": "Refunds, quickly", "body": "Step one.\nStep 2, shorter.\nStep three."},
        headers=auth,
        timeout=10,
    ).raise_for_status()

    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000}).new_page()
    _log_in(page, api, email, f"/kb/articles/{created['id']}/edit")
    page.wait_for_url(re.compile(r".*/edit$"))
    page.get_by_role("button", name="Compare version 1 with the current one").click()
    diff = page.get_by_role("region", name="Changes from version 1 to the current one")
    expect(diff.locator("del").filter(has_text="Step two.")).to_be_visible()
    expect(diff.locator("ins").filter(has_text="Step 2, shorter.")).to_be_visible()
    expect(diff.locator("ins").filter(has_text="Refunds, quickly")).to_be_visible()
    expect(diff.locator("li.diff-same")).to_have_count(2)  # "Step one." and "Step three."
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert_accessible(page, "version compared")
    page.context.close()


def test_searches_without_an_answer_are_listed_most_frequent_first(stack, browser, screenshot_path):
    api = stack.api_url
    email, signup = _workspace(api)
    slug = signup["workspace"]["slug"]
    for query in ("cancel my plan", "cancel my plan", "invoice address"):
        requests.get(f"{api}/hc/{slug}/search", params={"q": query}, timeout=10).raise_for_status()

    page = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 800}).new_page()
    _log_in(page, api, email, "/kb")
    page.wait_for_url(f"{api}/app/kb")
    page.get_by_role("link", name="Recherches sans réponse").click()
    rows = page.get_by_role("table", name="Recherches sans réponse").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two searches
    expect(rows.nth(1)).to_contain_text("cancel my plan")
    expect(rows.nth(1)).to_contain_text("2")
    expect(rows.nth(2)).to_contain_text("invoice address")
    page.screenshot(path=str(screenshot_path.with_name(f"{screenshot_path.stem}_fr.png")))
    assert_accessible(page, "search insights (fr)")
    page.get_by_role("link", name="Rédiger un article pour « cancel my plan »").click()
    page.wait_for_url(f"{api}/app/kb/new")
    page.context.close()
