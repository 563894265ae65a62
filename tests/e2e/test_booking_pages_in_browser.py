"""The public booking pages on the whole local stack, in headless Chromium at 360 px wide: a
visitor in Paris books a slot in French with the keyboard and sees the confirmation; follows
the manage link (from the invitation mail the stack's Mailgun stand-in received, else from
the confirmation), moves the booking to another time, then cancels it; a visitor in New York
books in English.  No horizontal scroll, axe-core finds nothing serious on any screen.

Screenshots go to test-artifacts/screenshots/test_visitor_books_reschedules_and_cancels-*.png."""

from __future__ import annotations

import re
import time
import uuid

import requests

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1}


def _until(check, timeout=30.0, interval=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return None


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways at 360 px"
    )


def _mailed_manage_link(stack, email: str) -> str | None:
    def find():
        for mail in requests.get(stack.sent_mail_url, timeout=5).json():
            text = " ".join(mail.get("text", [])) + " ".join(mail.get("html", []))
            found = re.search(r"https?://[^\s\"'<>]+/book/manage/[A-Za-z0-9_.-]+", text)
            if email in str(mail.get("to")) and found:
                return found.group(0)
        return None

    return _until(find, timeout=20)


def _pick_first_free_time(page, shot, name: str) -> str:
    """Opens the first day with free times with the keyboard and picks its first time;
    answers the picked slot's start."""
    day = page.locator("#bk-grid button[data-day]:not([aria-disabled])").first
    day.wait_for()
    assert_accessible(page, f"{name}: calendar")
    day.focus()
    page.keyboard.press("ArrowRight")  # the arrows move between the month's days
    moved = page.evaluate("() => document.activeElement.dataset.day")
    assert moved and moved > str(day.get_attribute("data-day"))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    first = page.locator("#bk-times button.slot").first
    first.wait_for()
    assert page.evaluate("() => document.activeElement.classList.contains('slot')")
    start = first.get_attribute("data-start")
    _no_horizontal_scroll(page)
    page.screenshot(path=shot(f"{name}-times"), full_page=True)
    page.keyboard.press("Enter")
    return str(start)


def test_visitor_books_reschedules_and_cancels(stack, browser, screenshot_path):
    api = stack.api_url

    def shot(name: str) -> str:
        return str(screenshot_path.with_name(f"{screenshot_path.stem}-{name}.png"))

    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Acme Conseil",
            "name": "Ann Hôte",
            "email": f"book-{uuid.uuid4().hex[:6]}@acme.test",
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    stack.confirm_signup(signup["user"]["email"])  # then the workspace mails its invitees
    slug = signup["workspace"]["slug"]
    created = requests.post(
        f"{api}/v1/booking/event-types",
        json={
            "slug": "premier-rendez-vous",
            "title": "Premier échange",
            "description": "Un appel **de 30 minutes** pour faire connaissance.",
            "durations": [30],
            "location": {"kind": "link", "value": "https://meet.acme.test/salle"},
            "host_mode": "one",
            "host_ids": [signup["user"]["id"]],
            "time_zone": "Europe/Paris",
            "minimum_notice": 60,
            "questions": [
                {"id": "sujet", "label": "Votre sujet", "kind": "long_text", "required": True}
            ],
        },
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    page_url = f"{api}/book/{slug}/premier-rendez-vous"

    # -- French, in Paris: book ---------------------------------------------------------------
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", **PHONE)
    page = context.new_page()
    page.goto(f"{api}/book/{slug}")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.click("text=Premier échange")
    page.wait_for_url(page_url)
    assert page.locator("#bk-tz").input_value() == "Europe/Paris"
    _pick_first_free_time(page, shot, "fr")
    assert page.evaluate("() => document.activeElement.id") == "bk-name"
    page.click("form#bk-form button[type=submit]")  # empty: the fields say what is missing
    assert page.locator("#err-name").inner_text() == "Saisissez votre nom."
    assert page.locator("#bk-name").get_attribute("aria-invalid") == "true"
    page.fill("#bk-name", "Zoé Client")
    page.fill("#bk-email", "zoe@client")  # the browser takes it, the API does not
    page.fill("#bk-q-sujet", "Nos factures de mars")
    page.click("form#bk-form button[type=submit]")
    page.wait_for_selector("#err-email:text('Saisissez une adresse e-mail valide.')")
    assert page.evaluate("() => document.activeElement.id") == "bk-email"
    page.fill("#bk-email", "zoe@client.test")
    assert_accessible(page, "fr: form")
    page.screenshot(path=shot("fr-form"), full_page=True)
    page.click("form#bk-form button[type=submit]")
    page.wait_for_selector("#bk-done h2")
    assert page.locator("#bk-done h2").inner_text() == "Votre réservation est enregistrée"
    assert "Premier échange" in page.locator("#bk-done dl").inner_text()
    assert "Europe/Paris" in page.locator("#bk-done dl").inner_text()
    _no_horizontal_scroll(page)
    assert_accessible(page, "fr: confirmation")
    page.screenshot(path=shot("fr-confirmation"), full_page=True)
    shown_link = page.locator("#bk-done a.manage").get_attribute("href")
    assert shown_link and "/book/manage/" in shown_link

    # -- the manage link: reschedule, then cancel ---------------------------------------------
    mailed = _mailed_manage_link(stack, "zoe@client.test")
    print("manage link from", "the invitation mail" if mailed else "the confirmation")
    manage_url = mailed or shown_link
    assert manage_url.rsplit("/", 1)[1] == shown_link.rsplit("/", 1)[1]
    page.goto(manage_url)
    assert page.locator("h1").inner_text() == "Votre réservation"
    assert page.locator("#bk-state").inner_text() == "Confirmée"
    before = page.locator("time").get_attribute("datetime")
    assert_accessible(page, "fr: manage")
    page.click("#bk-reschedule")
    page.locator("#bk-grid button[data-day]:not([aria-disabled])").first.wait_for()
    days = page.locator("#bk-grid button[data-day]:not([aria-disabled])")
    days.nth(1 if days.count() > 1 else 0).click()
    times = page.locator("#bk-times button.slot")
    times.first.wait_for()
    other = next(
        i for i in range(times.count()) if times.nth(i).get_attribute("data-start") != before
    )
    times.nth(other).click()
    assert page.locator("#bk-move").is_visible()
    page.screenshot(path=shot("fr-reschedule"), full_page=True)
    page.click("#bk-move-go")
    page.wait_for_selector("text=Votre réservation a été déplacée.")
    assert page.locator("time").get_attribute("datetime") != before
    page.click("#bk-cancel")
    page.fill("#bk-reason", "Un empêchement")
    page.screenshot(path=shot("fr-cancel"), full_page=True)
    page.click("#bk-cancel-go")
    page.wait_for_selector("text=Cette réservation a été annulée.")
    assert page.locator("#bk-state").inner_text() == "Annulée"
    assert page.locator("#bk-reschedule").count() == 0
    _no_horizontal_scroll(page)
    assert_accessible(page, "fr: cancelled")
    page.screenshot(path=shot("fr-cancelled"), full_page=True)
    context.close()

    # -- English, in New York: book --------------------------------------------------------------
    context = browser.new_context(locale="en-US", timezone_id="America/New_York", **PHONE)
    page = context.new_page()
    page.goto(page_url + "?lang=en")
    assert page.locator("#bk-tz").input_value() == "America/New_York"
    assert page.locator("#bk-picker h2").first.inner_text() == "Choose a time"
    taken = _pick_first_free_time(page, shot, "en")
    page.fill("#bk-name", "Sam Customer")
    page.fill("#bk-email", "sam@client.test")
    page.fill("#bk-q-sujet", "Invoices")
    # Someone else takes that time meanwhile: the page says so and shows the times again.
    other = requests.post(
        f"{api}/v1/booking/{slug}/premier-rendez-vous/bookings",
        json={
            "start": taken,
            "time_zone": "UTC",
            "name": "Quick",
            "email": "quick@client.test",
            "answers": {"sujet": "x"},
        },
        timeout=10,
    )
    assert other.status_code == 201, other.text
    page.click("form#bk-form button[type=submit]")
    page.wait_for_selector("text=Sorry, this time was just taken. Please choose another one.")
    assert page.locator("#bk-picker").is_visible()
    page.wait_for_function(
        "start => ![...document.querySelectorAll('#bk-times button.slot')]"
        ".some(b => b.dataset.start === start)",
        arg=taken,
    )
    page.locator("#bk-times button.slot").first.click()
    page.click("form#bk-form button[type=submit]")
    page.wait_for_selector("#bk-done h2")
    assert page.locator("#bk-done h2").inner_text() == "You are booked"
    assert "America/New York" in page.locator("#bk-done dl").inner_text()
    assert page.locator("#bk-done a.manage").inner_text() == "Reschedule or cancel"
    _no_horizontal_scroll(page)
    assert_accessible(page, "en: confirmation")
    page.screenshot(path=shot("en-confirmation"), full_page=True)
    context.close()

    listed = requests.get(f"{api}/v1/booking/bookings", headers=auth, timeout=10).json()
    statuses = sorted(b["status"] for b in listed["bookings"])
    assert statuses == ["cancelled", "confirmed", "confirmed"], listed
