"""Booking in the web client against the local stack: an owner creates an event type (its
API refusal shown on the field, then saved with a question), opens weekends in their
availability and adds a holiday, connects Google Calendar through the local stand-in's consent
page and chooses the calendars it reads and writes; an invitee books through the public API
and the owner finds the booking with the answers, then cancels it with a reason. A revoked
grant shows "Reconnect Google". Axe-core on each screen; screenshots in English and French."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"


def _until(check, timeout=20.0, what="the stack"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _owner(stack) -> tuple[str, dict[str, str], str]:
    email = f"bea-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={
            "workspace_name": "Booking Desk",
            "name": "Bea",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    body = signup.json()
    return email, {"Authorization": f"Bearer {body['token']}"}, body["workspace"]["slug"]


def test_owner_sets_up_booking_connects_google_and_cancels_a_booking(
    stack, browser, screenshot_path
):
    api = stack.api_url
    email, auth, workspace_slug = _owner(stack)
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{api}/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/")

    # An event type: the API's refusal is shown on its field, then it is saved.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Booking").click()
    page.get_by_role("navigation", name="Booking sections").get_by_role(
        "link", name="Event types"
    ).click()
    page.get_by_text("No event types yet.").wait_for()
    page.get_by_role("link", name="New event type").click()
    page.get_by_label("Title").fill("Intro call")
    page.get_by_label("Short name in the link").fill("intro-call")
    page.get_by_label("Description").fill("A **short** call to get to know you.")
    page.get_by_label("Durations (minutes)").fill("32")
    page.get_by_label("Location").select_option("phone")
    page.get_by_role("button", name="Add a question").click()
    expect(page.get_by_label("Question 1", exact=True)).to_be_focused()
    page.keyboard.type("Company")
    page.get_by_label("Question 1 must be answered").check()
    page.get_by_role("button", name="Create event type").click()
    durations = page.get_by_label("Durations (minutes)")
    expect(durations).to_have_attribute("aria-invalid", "true")
    expect(durations).to_be_focused()
    assert_accessible(page, "the event type editor with a refused field")
    durations.fill("30, 60")
    page.get_by_role("button", name="Create event type").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.get_by_role("heading", name="Intro call", level=1).wait_for()
    expect(page.get_by_role("button", name="Copy link to Intro call")).to_be_visible()
    expect(page.locator(".public-link a")).to_contain_text(f"/book/{workspace_slug}/intro-call")
    page.screenshot(path=shot("event_type"), full_page=True)
    assert_accessible(page, "the event type editor")
    (event_type,) = requests.get(f"{api}/v1/booking/event-types", headers=auth, timeout=10).json()[
        "event_types"
    ]
    assert (event_type["slug"], event_type["durations"]) == ("intro-call", [30, 60])
    assert event_type["location"]["kind"] == "phone"
    assert event_type["questions"][0]["label"] == "Company"
    assert event_type["questions"][0]["required"] is True

    # Availability: weekends open too, and a holiday.
    page.get_by_role("link", name="← Event types").click()
    page.get_by_role("list", name="Event types").get_by_role("link", name="Intro call").wait_for()
    page.get_by_role("navigation", name="Booking sections").get_by_role(
        "link", name="My availability"
    ).click()
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Add hours on Saturday").click()
    expect(page.get_by_label("Saturday: from")).to_be_focused()
    page.get_by_role("button", name="Add hours on Sunday").click()
    holiday = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    page.get_by_role("button", name="Add a holiday").click()
    page.locator(".overrides input[type=date]").last.fill(holiday)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.screenshot(path=shot("availability"), full_page=True)
    assert_accessible(page, "the availability")
    schedule = requests.get(f"{api}/v1/booking/schedules/me", headers=auth, timeout=10).json()
    assert schedule["time_zone"] == "Europe/Paris"
    assert schedule["weekly"]["sat"] == [{"start": "09:00", "end": "17:00"}]
    assert schedule["overrides"][holiday] == []

    # Google Calendar through the stand-in's consent page.
    page.goto(f"{api}/app/settings/calendars")
    page.get_by_text("No calendar connected.").wait_for()
    assert_accessible(page, "the calendars")
    page.get_by_role("button", name="Connect Google Calendar", exact=True).click()
    page.wait_for_selector("#allow")
    google = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.fill("#email", "bea@gmail.test")
    page.click("#allow")
    page.wait_for_url(f"{api}/app/settings/calendars")
    page.get_by_text("Google Calendar is connected.").wait_for()
    connection = (
        page.get_by_role("list", name="Your calendars")
        .get_by_role("listitem")
        .filter(has_text="bea@gmail.test")
    )
    expect(connection).to_contain_text("Connected")
    connection.get_by_label("Team").check()
    connection.get_by_label("Write bookings to").select_option(label="Team")
    connection.get_by_role("button", name="Save changes").click()
    connection.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.screenshot(path=shot("calendars"), full_page=True)
    assert_accessible(page, "the connected calendars")
    (stored,) = requests.get(f"{api}/v1/calendar-connections", headers=auth, timeout=10).json()[
        "connections"
    ]
    team = next(c["id"] for c in stored["calendars"] if c["name"] == "Team")
    assert team in stored["busy_calendar_ids"] and stored["write_calendar_id"] == team

    # An invitee books through the public API; the owner finds it and cancels it.
    today = datetime.now(UTC).date()
    slots = requests.get(
        f"{api}/v1/booking/{workspace_slug}/intro-call/slots",
        params={
            "from": today.isoformat(),
            "to": (today + timedelta(days=10)).isoformat(),
            "time_zone": "Europe/Paris",
        },
        timeout=10,
    ).json()["slots"]
    assert slots, "the event type offers slots"
    booked = requests.post(
        f"{api}/v1/booking/{workspace_slug}/intro-call/bookings",
        json={
            "start": slots[0]["start"],
            "time_zone": "America/New_York",
            "name": "Carla Customer",
            "email": "carla@customer.test",
            "answers": {event_type["questions"][0]["id"]: "Globex"},
            "locale": "en",
        },
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["booking"]["id"]

    page.goto(f"{api}/app/booking")
    bookings = page.get_by_role("list", name="Bookings")
    row = bookings.get_by_role("link").filter(has_text="Carla Customer")
    expect(row).to_contain_text("Confirmed")
    assert_accessible(page, "the bookings")
    page.get_by_label("Status").select_option("cancelled")
    page.get_by_text("No upcoming bookings.").wait_for()
    page.get_by_label("Status").select_option("")
    row.click()
    page.get_by_role("heading", name="Intro call", level=1).wait_for()
    answers = page.get_by_role("region", name="Answers")
    expect(answers).to_contain_text("Company")
    expect(answers).to_contain_text("Globex")
    expect(page.get_by_role("region", name="Invitee")).to_contain_text("carla@customer.test")
    _until(
        lambda: (
            requests.get(f"{api}/v1/booking/bookings/{booking_id}", headers=auth, timeout=10)
            .json()
            .get("contact_id")
        ),
        what="the booking's contact",
    )
    page.reload()
    page.get_by_role("region", name="Answers").wait_for()
    page.get_by_role("button", name="Reschedule").click()
    expect(page.get_by_role("heading", name="Reschedule")).to_be_focused()
    page.get_by_role("group").filter(has=page.get_by_role("radio")).first.get_by_role(
        "radio"
    ).first.wait_for()
    assert_accessible(page, "rescheduling a booking")
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_role("button", name="Cancel the booking").click()
    expect(page.get_by_label("Reason")).to_be_focused()
    page.get_by_label("Reason").fill("The host is away that day.")
    page.get_by_role("button", name="Cancel it").click()
    page.get_by_role("status").filter(has_text="Cancelled. The invitee is told.").wait_for()
    expect(page.locator(".booking-detail .meta")).to_contain_text("Cancelled")
    page.screenshot(path=shot("booking_cancelled"), full_page=True)
    assert_accessible(page, "a cancelled booking")
    # The invitee's contact lists the booking (once the booking's job linked them).
    page.get_by_role("region", name="Invitee").get_by_role("link", name="Carla Customer").click()
    contact_bookings = page.get_by_role("list", name="Bookings")
    expect(contact_bookings.get_by_role("link")).to_contain_text("Intro call")
    expect(contact_bookings.get_by_role("link")).to_contain_text("Cancelled")
    assert_accessible(page, "a contact with a booking")
    contact_bookings.get_by_role("link").click()
    page.get_by_role("heading", name="Intro call", level=1).wait_for()
    cancelled = requests.get(f"{api}/v1/booking/bookings/{booking_id}", headers=auth, timeout=10)
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "The host is away that day."

    # A grant withdrawn at Google (its access token now refused): the member is told, with
    # "Reconnect Google".
    requests.post(f"{google}/_fake/revoke", json={"email": "bea@gmail.test"}, timeout=10)
    requests.post(f"{google}/_fake/expire_tokens", json={}, timeout=10)

    def noticed():
        requests.get(
            f"{api}/v1/booking/{workspace_slug}/intro-call/slots",
            params={"from": (today + timedelta(days=11)).isoformat(), "time_zone": "UTC"},
            timeout=10,
        )
        found = requests.get(f"{api}/v1/calendar-connections", headers=auth, timeout=10).json()
        status = found["connections"][0]["status"]
        return status if status != "connected" else None

    status = _until(noticed, what="the revoked grant to be noticed")
    assert status == "needs_reconnect"
    page.goto(f"{api}/app/settings/calendars")
    expect(page.get_by_role("button", name="Reconnect Google")).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text("reconnecting")
    page.screenshot(path=shot("revoked"), full_page=True)
    assert_accessible(page, "a calendar whose grant was revoked")

    # The same screens in French, at 360 px.
    requests.patch(f"{api}/v1/me/profile", json={"locale": "fr"}, headers=auth, timeout=10)
    page.set_viewport_size({"width": 360, "height": 740})
    for path, heading in (
        (f"/booking/event-types/{event_type['id']}", "Intro call"),
        ("/booking/availability", "Disponibilités"),
        (f"/booking/bookings/{booking_id}", "Intro call"),
        ("/booking", "Rendez-vous"),
        ("/settings/calendars", "Agendas"),
    ):
        page.goto(f"{api}/app{path}")
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        assert page.locator("html").get_attribute("lang") == "fr"
        name = path.strip("/").split("/")[1] if "/" in path.strip("/") else path.strip("/")
        page.screenshot(path=shot(f"{name}_fr_360"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    expect(page.get_by_role("button", name="Reconnecter Google")).to_be_visible()
    context.close()
