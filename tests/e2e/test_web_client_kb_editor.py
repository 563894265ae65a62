"""Writing the knowledge base in the web client: an article written in Markdown, saved and
previewed as the help centre renders it, an older version restored, published and read on
the help centre, a translation started from it; categories added and put in order."""

import base64
import re
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_an_article_is_written_previewed_published_and_translated(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"wren-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Writers Desk",
            "name": "Wren",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    problems: list[str] = []

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")

    # Categories first, in the order the help centre shows them.
    page.goto(f"{api}/app/kb")
    page.get_by_role("link", name="Categories").click()
    for name in ("Billing", "Accounts"):
        page.get_by_label("New category").fill(name)
        page.get_by_role("button", name="Add category").click()
        page.get_by_role("list", name="Categories").get_by_text(name).wait_for()
    page.get_by_role("button", name="Move Accounts up").click()
    expect(
        page.get_by_role("list", name="Categories").get_by_role("listitem").first
    ).to_contain_text("Accounts")
    order = requests.get(f"{api}/v1/kb/categories", headers=auth, timeout=10).json()["categories"]
    assert [c["name"] for c in order] == ["Accounts", "Billing"]
    page.screenshot(path=shot("categories"))
    assert_accessible(page, "the categories")

    page.get_by_role("link", name="← Knowledge base").click()
    page.get_by_role("link", name="New article").click()
    page.wait_for_url(f"{api}/app/kb/new")
    page.get_by_label("Title").fill("Resetting your password")
    page.get_by_label("Category").select_option(label="Accounts")
    page.get_by_label("Body (Markdown)").fill(
        "## Steps\n\nClick **Forgot password** on the login page.\n\n| Plan | Price |\n"
        "|---|---:|\n| Pro | 20 |"
    )
    # The preview follows the typing, rendered by the API as the help centre renders it.
    preview = page.frame_locator("iframe[title='Preview']")
    expect(preview.locator("h2")).to_have_text("Steps")
    expect(preview.locator("td.align-right")).to_have_text("20")
    assert requests.get(f"{api}/v1/kb/articles", headers=auth, timeout=10).json()["articles"] == []
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/app/kb/articles/[^/]+/edit$"))
    article_id = page.url.split("/")[-2]
    expect(preview.locator("h2")).to_have_text("Steps")
    expect(preview.locator("strong")).to_have_text("Forgot password")

    page.get_by_label("Body (Markdown)").fill("## Steps\n\nAsk **support** to reset it.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    expect(preview.locator("strong")).to_have_text("support")
    versions = page.get_by_role("list", name="Versions").get_by_role("listitem")
    expect(versions).to_have_count(2)
    page.get_by_role("button", name="Restore version 1").click()
    expect(preview.locator("strong")).to_have_text("Forgot password")
    expect(page.get_by_label("Body (Markdown)")).to_have_value(re.compile("Forgot password"))
    expect(versions).to_have_count(3)

    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Unpublish").wait_for()
    public = page.get_by_role("link", name="View on the help centre")
    expect(public).to_be_visible()
    shown = requests.get(api + public.get_attribute("href"), timeout=10)
    assert shown.status_code == 200
    assert "Resetting your password" in shown.text and "Forgot password" in shown.text
    article = requests.get(f"{api}/v1/kb/articles/{article_id}", headers=auth, timeout=10).json()
    assert article["status"] == "published"
    page.screenshot(path=shot("article"), full_page=True)
    assert_accessible(page, "the article editor")

    page.get_by_role("link", name="Translate into French").click()
    page.wait_for_url(f"{api}/app/kb/new?translation_of={article_id}&locale=fr")
    expect(page.get_by_label("Language")).to_have_value("fr")
    page.get_by_label("Title").fill("Réinitialiser votre mot de passe")
    page.get_by_label("Body (Markdown)").fill("Cliquez sur **Mot de passe oublié**.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/app/kb/articles/[^/]+/edit$"))
    page.get_by_role("link", name="Edit the English version").wait_for()
    assert page.url.split("/")[-2] != article_id

    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{api}/app/kb/articles/{article_id}/edit")
    page.get_by_role("heading", name="Modifier l'article").wait_for()
    page.get_by_role("button", name="Dépublier").wait_for()
    page.screenshot(path=shot("article_fr_360"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{api}/app/kb")
    page.get_by_role("link", name="Nouvel article").wait_for()
    page.screenshot(path=shot("list_fr_360"), full_page=True)
    context.close()
    assert problems == [], problems


def test_an_image_is_uploaded_into_an_article(stack, browser):
    api = stack.api_url
    email = f"ima-{uuid.uuid4().hex[:8]}@acme.test"
    requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Pics Desk", "name": "Ima", "email": email, "password": PASSWORD},
        timeout=10,
    ).raise_for_status()
    # The image goes from the browser straight to the content bucket (the API's presigned
    # POST), an origin the app's Content-Security-Policy names for uploads and images.
    context = browser.new_context(locale="en-US")
    problems: list[str] = []
    context.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page = context.new_page()
    page.goto(f"{api}/app/login?next=/kb/new")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/kb/new")
    page.get_by_label("Title").fill("Where the button is")
    page.get_by_label("Body (Markdown)").fill("Here: ")
    page.get_by_label("Add an image").set_input_files(
        files=[{"name": "button.png", "mimeType": "image/png", "buffer": PNG}]
    )
    body = page.get_by_label("Body (Markdown)")
    expect(body).to_have_value(re.compile(r"!\[button\]\(http[^)]+\)"))
    image_url = re.search(r"\((http[^)]+)\)", body.input_value()).group(1)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/app/kb/articles/[^/]+/edit$"))
    fetched = requests.get(image_url, timeout=10)
    assert fetched.ok and fetched.content == PNG
    assert problems == []
    context.close()
