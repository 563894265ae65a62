"""Bulk actions in the web client's inbox: an agent selects three tickets (a checkbox, a
Shift+click range, the keyboard) and solves them together; a tag is added to the selection
and removed again. Checked with axe-core, in English and in French."""

from __future__ import annotations

import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"


def _workspace(stack):
    email = f"bulk-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": "Bulk Desk", "name": "Ann", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    for n in range(1, 5):
        made = requests.post(
            f"{stack.api_url}/v1/tickets",
            json={
                "requester": {"email": f"c{n}@customer.test", "name": f"Customer {n}"},
                "subject": f"Question {n}",
                "body": "Hello?",
            },
            headers=auth,
            timeout=10,
        )
        assert made.status_code == 201, made.text
    return email, auth


def _log_in(browser, api, email, locale):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(f"{api}/app/login")
    french = locale.startswith("fr")
    page.get_by_label("E-mail" if french else "Email").fill(email)
    page.get_by_label("Mot de passe" if french else "Password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter" if french else "Log in").click()
    page.wait_for_url(f"{api}/app/")
    return page


def test_select_three_tickets_and_solve_them(stack, browser, screenshot_path):
    api = stack.api_url
    email, auth = _workspace(stack)
    page = _log_in(browser, api, email, "en-US")
    rows = page.get_by_role("list", name="Tickets: All").get_by_role("listitem")
    expect(rows).to_have_count(4)  # newest first: Question 4, 3, 2, 1

    page.get_by_role("checkbox", name="Select #4 Question 4").click()
    page.get_by_role("checkbox", name="Select #2 Question 2").click(modifiers=["Shift"])
    bar = page.get_by_role("region", name="3 tickets selected")
    expect(bar).to_be_visible()
    # The keyboard: `x` toggles the focused row (j/k move between rows).
    page.get_by_role("link", name="Question 1").focus()
    page.keyboard.press("x")
    expect(page.get_by_role("region", name="4 tickets selected")).to_be_visible()
    page.keyboard.press("x")
    expect(bar).to_be_visible()
    assert_accessible(page, "inbox with a selection (en)")
    page.screenshot(path=str(screenshot_path), full_page=True)

    bar.get_by_label("Set status").select_option("solved")
    expect(page.get_by_role("status").filter(has_text="3 tickets updated.")).to_be_visible()
    tickets = requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    assert {t["subject"]: t["status"] for t in tickets} == {
        "Question 1": "new",
        "Question 2": "solved",
        "Question 3": "solved",
        "Question 4": "solved",
    }
    page.context.close()


def test_tag_and_untag_the_selection_in_french(stack, browser, screenshot_path):
    api = stack.api_url
    email, auth = _workspace(stack)
    page = _log_in(browser, api, email, "fr-FR")
    page.get_by_role("checkbox", name="Sélectionner les 4 tickets affichés").check()
    bar = page.get_by_role("region", name="4 tickets sélectionnés")
    bar.get_by_label("Étiquette").fill("vip")
    bar.get_by_role("button", name="Ajouter l'étiquette").click()
    expect(page.get_by_role("status").filter(has_text="4 tickets mis à jour.")).to_be_visible()
    tickets = requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    assert all(t["tags"] == ["vip"] for t in tickets)
    page.get_by_role("checkbox", name="Sélectionner le ticket #1 Question 1").check()
    bar = page.get_by_role("region", name="1 ticket sélectionné")
    bar.get_by_label("Étiquette").fill("vip")
    bar.get_by_role("button", name="Retirer l'étiquette").click()
    expect(page.get_by_role("status").filter(has_text="1 ticket mis à jour.")).to_be_visible()
    assert_accessible(page, "inbox after a bulk action (fr)")
    page.screenshot(path=str(screenshot_path), full_page=True)
    tickets = requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    assert {t["subject"]: t["tags"] for t in tickets}["Question 1"] == []
    page.context.close()
