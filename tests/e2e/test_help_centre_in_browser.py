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


ARTICLE = """Plans at a glance:

| Plan | Price | Seats |
|:-----|------:|:-----:|
| Starter | 0 € | 1 |
| Pro | 29 € | 10 |

- [x] Pick a plan
- [ ] Add your team

~~Yearly only~~ Monthly too."""

ARTICLE_FR = """Les offres en bref :

| Offre | Prix | Places |
|:------|-----:|:------:|
| Starter | 0 € | 1 |
| Pro | 29 € | 10 |

- [x] Choisir une offre
- [ ] Ajouter votre équipe"""


def test_visitor_reads_a_table_switches_language_and_contacts_the_team(
    stack, browser, screenshot_path
):
    api = stack.api_url
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Globex Support",
            "name": "Gus",
            "email": f"hc-{uuid.uuid4().hex[:6]}@globex.test",
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    slug = signup["workspace"]["slug"]
    category = requests.post(
        f"{api}/v1/kb/categories",
        json={"name": "Billing", "translations": {"fr": {"name": "Facturation"}}},
        headers=auth,
        timeout=10,
    ).json()
    english = requests.post(
        f"{api}/v1/kb/articles",
        json={
            "title": "Choosing a plan",
            "body": ARTICLE,
            "status": "published",
            "slug": "plans",
            "category_id": category["id"],
        },
        headers=auth,
        timeout=10,
    ).json()
    french = requests.post(
        f"{api}/v1/kb/articles",
        json={
            "title": "Choisir une offre",
            "body": ARTICLE_FR,
            "status": "published",
            "locale": "fr",
            "slug": "offres",
            "translation_of": english["id"],
            "category_id": category["id"],
        },
        headers=auth,
        timeout=10,
    )
    assert french.status_code == 201, french.text

    page = browser.new_page()
    page.goto(f"{api}/hc/{slug}/en/articles/plans")
    assert page.title() == "Choosing a plan · Globex Support"
    table = page.locator("article table")
    assert table.locator("th").all_inner_texts() == ["Plan", "Price", "Seats"]
    assert table.locator("tbody tr").count() == 2
    assert page.locator("article input[type=checkbox]").count() == 2
    assert page.locator("article input[type=checkbox]").first.is_disabled()
    assert page.locator("article s").inner_text() == "Yearly only"
    page.screenshot(
        path=str(screenshot_path.with_name(screenshot_path.stem + "-en.png")), full_page=True
    )

    page.click("nav.lang >> text=Français")
    page.wait_for_url(f"{api}/hc/{slug}/fr/articles/offres")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("article h1").inner_text() == "Choisir une offre"
    assert page.locator("article table th").first.inner_text() == "Offre"
    assert "Facturation" in page.locator("main p.muted").first.inner_text()
    assert "Mis à jour le" in page.locator("article p.muted").inner_text()
    page.screenshot(
        path=str(screenshot_path.with_name(screenshot_path.stem + "-fr.png")), full_page=True
    )

    page.click("aside.contact >> text=Nous contacter")
    page.wait_for_url(f"{api}/hc/{slug}/fr/contact")
    page.fill("input[name=name]", "Zoé Client")
    page.fill("input[name=email]", "zoe@client.test")
    page.fill("input[name=subject]", "Facture introuvable")
    page.fill("textarea[name=message]", "Je ne trouve pas ma facture de mars.")
    page.screenshot(
        path=str(screenshot_path.with_name(screenshot_path.stem + "-contact-fr.png")),
        full_page=True,
    )
    page.click("form.contact button")
    page.wait_for_selector("text=votre message est bien parvenu à notre équipe")
    page.close()

    tickets = requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    assert [(t["subject"], t["channel"]) for t in tickets] == [("Facture introuvable", "web")]
    assert tickets[0]["requester"]["email"] == "zoe@client.test"
