"""The knowledge base in the web client: the articles by status and language, and an article
as the team sees it (the page the API's mails link to)."""

import uuid

import requests
from playwright.sync_api import expect

PASSWORD = "correct horse battery"


def test_articles_list_filters_and_opens_an_article(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"kb-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Docs Desk", "name": "Kim", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    published = requests.post(
        f"{api}/v1/kb/articles",
        json={
            "title": "How refunds work",
            "body": "Refunds reach your card **within 5 days**.",
            "status": "published",
        },
        headers=auth,
        timeout=10,
    ).json()
    draft = requests.post(
        f"{api}/v1/kb/articles",
        json={"title": "Brouillon des tarifs", "body": "À venir.", "locale": "fr"},
        headers=auth,
        timeout=10,
    )
    assert draft.status_code == 201, draft.text

    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{api}/app/kb/articles/{published['id']}")  # a link from a mail
    page.wait_for_url(f"{api}/app/login?next=*")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="How refunds work").wait_for()
    body = page.frame_locator("iframe[title='How refunds work']")
    expect(body.locator("strong")).to_have_text("within 5 days")
    assert page.get_by_role("link", name="View on the help centre").is_visible()

    page.get_by_role("link", name="← Knowledge base").click()
    page.wait_for_url(f"{api}/app/kb")
    articles = page.get_by_role("list", name="Articles").get_by_role("listitem")
    expect(articles).to_have_count(2)
    page.get_by_label("Status").select_option("draft")
    expect(articles).to_have_count(1)
    assert "Brouillon des tarifs" in articles.first.inner_text()
    page.screenshot(path=str(screenshot_path))
    page.close()
    assert problems == [], problems
