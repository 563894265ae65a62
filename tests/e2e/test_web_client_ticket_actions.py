"""An agent works a ticket in the web client: assigns it to themselves, changes its status,
adds an internal note and replies, which leaves by mail through the local Mailgun stand-in."""

import time
import uuid
from email.message import EmailMessage

import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
CUSTOMER = "dora@customer.test"


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def test_agent_assigns_notes_and_replies_from_the_ticket_page(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"agent-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={"workspace_name": "Reply Desk", "name": "Ann", "email": email, "password": PASSWORD},
        timeout=10,
    ).json()
    stack.confirm_signup(email)
    auth = {"Authorization": f"Bearer {signup['token']}"}
    inbound = signup["workspace"]["inbound_address"]
    for subject, text in [
        ("Invoice copy", "Could you send me a copy of my invoice?"),
        ("Parcel damaged", "The box arrived crushed. What now?"),
    ]:
        mail = EmailMessage()
        mail["From"] = f"Dora <{CUSTOMER}>"
        mail["To"] = inbound
        mail["Subject"] = subject
        mail.set_content(text)
        received = requests.post(
            f"http://127.0.0.1:{stack.env['MAIL_PORT']}/_fake/receive",
            params={"recipient": inbound},
            data=mail.as_bytes(),
            timeout=30,
        )
        assert received.ok, received.text
        _until(
            lambda subject=subject: [
                t
                for t in requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()[
                    "tickets"
                ]
                if t["subject"] == subject
            ]
        )
    ticket = requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"][0]
    assert ticket["subject"] == "Parcel damaged"

    canned = requests.post(
        f"{api}/v1/canned-responses",
        json={
            "name": "Replacement",
            "body": "Hello, sorry about that: a new box leaves today "
            "(ticket #{{ticket.number}}). {{agent.first_name}}",
            "set_status": "solved",
            "add_tags": ["damaged"],
        },
        headers=auth,
        timeout=10,
    )
    assert canned.status_code == 201, canned.text

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api}/app/login?next=/tickets/{ticket['id']}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/tickets/{ticket['id']}")
    page.get_by_role("heading", name="Parcel damaged").wait_for()

    details = page.get_by_role("complementary", name="Ticket details")
    others = details.get_by_role("region", name="Other tickets from this requester")
    others.get_by_role("link", name="Invoice copy").wait_for()
    details.get_by_role("button", name="Assign to me").click()
    expect(details.get_by_label("Assignee")).to_have_value(signup["user"]["id"])
    details.get_by_label("Status").select_option("pending")
    expect(details.get_by_label("Status")).to_have_value("pending")

    page.get_by_role("heading", name="Parcel damaged").click()  # the keyboard is the page's
    page.keyboard.press("n")  # the note editor, by its shortcut
    expect(page.get_by_label("Note", exact=True)).to_be_focused()
    page.keyboard.type("Asked the carrier for photos.")
    page.get_by_role("button", name="Add note").click()
    conversation = page.get_by_role("list", name="Conversation")
    conversation.get_by_role("article", name="Internal note from Ann").wait_for()

    page.get_by_role("button", name="Reply to customer").click()
    page.get_by_label("Canned response").select_option(label="Replacement")
    expect(page.get_by_label("Reply", exact=True)).to_have_value(
        f"Hello, sorry about that: a new box leaves today (ticket #{ticket['number']}). Ann"
    )
    page.get_by_role("button", name="Send").click()
    reply = conversation.get_by_role("article", name="Reply from Ann")
    reply.wait_for()
    assert "a new box leaves today" in reply.inner_text()
    assert page.get_by_label("Reply", exact=True).input_value() == ""
    assert_accessible(page, "ticket page after a note and a reply")
    page.screenshot(path=str(screenshot_path), full_page=True)

    def mailed():
        return [
            m
            for m in requests.get(stack.sent_mail_url, timeout=5).json()
            if CUSTOMER in m["to"] and "a new box leaves today" in " ".join(m.get("text", []))
        ]

    _until(mailed)
    shown = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10).json()
    # The canned response's status and tag followed the reply.
    assert (shown["status"], shown["assignee_id"]) == ("solved", signup["user"]["id"])
    assert shown["tags"] == ["damaged"]
    assert [m["kind"] for m in shown["messages"]] == ["customer", "note", "reply"]
    others.get_by_role("link", name="Invoice copy").click()
    page.get_by_role("heading", name="Invoice copy").wait_for()

    # The requester is a contact: their page lists both tickets; the contacts search finds them.
    details.get_by_role("link", name="Dora").click()
    page.get_by_role("heading", name="Dora").wait_for()
    expect(page.get_by_role("list", name="Tickets").get_by_role("listitem")).to_have_count(2)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.wait_for_url(f"{api}/app/contacts")  # the list's own search box, not the last page's
    searchbox = page.get_by_role("searchbox", name="Search contacts")
    searchbox.fill("dor")
    expect(searchbox).to_have_value("dor")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    page.wait_for_url(f"{api}/app/contacts?q=dor")
    found = page.get_by_role("list", name="Contacts").get_by_role("listitem")
    expect(found).to_have_count(1)
    assert CUSTOMER in found.first.inner_text()

    # A tag on the ticket leads to the inbox filtered by it.
    page.goto(f"{api}/app/tickets/{ticket['id']}")
    page.get_by_role("link", name="Tickets tagged damaged").click()
    page.wait_for_url(f"{api}/app/?tag=damaged")
    tagged = page.get_by_role("list", name="Tickets: All").get_by_role("listitem")
    expect(tagged).to_have_count(1)
    assert "Parcel damaged" in tagged.first.inner_text()
    page.close()
