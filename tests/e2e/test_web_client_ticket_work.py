"""An agent works tickets in the web client beyond a plain reply: downloads a customer's
attachment, replies with a file and a CC (the mail leaves through the local Mailgun stand-in
and the reply's delivery status turns to sent on the open page), merges two tickets, sees a
teammate viewing the ticket, and is held back, with words and not an error code, when the
customer writes while a reply is being typed. Every screen is checked with axe-core, in
English and in French."""

from __future__ import annotations

import re
import time
import uuid
from email.message import EmailMessage

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

PASSWORD = "correct horse battery"
CUSTOMER = "dora@customer.test"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _until(check, timeout=30.0, what="the stack"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.4)
    raise AssertionError(f"timed out waiting for {what}")


class Desk:
    """A workspace with two agents, Ann (owner) and Bob, and helpers to reach it."""

    def __init__(self, stack):
        self.stack = stack
        self.api = stack.api_url
        self.email = f"ann-{uuid.uuid4().hex[:8]}@acme.test"
        signup = requests.post(
            f"{self.api}/v1/signup",
            json={
                "workspace_name": "Work Desk",
                "name": "Ann",
                "email": self.email,
                "password": PASSWORD,
            },
            timeout=10,
        ).json()
        stack.confirm_signup(self.email)
        self.auth = {"Authorization": f"Bearer {signup['token']}"}
        self.inbound = signup["workspace"]["inbound_address"]
        self.bob = f"bob-{uuid.uuid4().hex[:8]}@acme.test"
        invited = requests.post(
            f"{self.api}/v1/members/invitations",
            json={"email": self.bob},
            headers=self.auth,
            timeout=10,
        )
        assert invited.status_code == 201, invited.text
        mail = _until(lambda: [m for m in self.sent() if self.bob in m["to"]], what="invitation")
        token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail[0]["text"][0]).group(1)
        accepted = requests.post(
            f"{self.api}/v1/invitations/{token}/accept",
            json={"name": "Bob", "password": PASSWORD},
            timeout=10,
        )
        assert accepted.status_code == 200, accepted.text

    def sent(self):
        return requests.get(self.stack.sent_mail_url, timeout=5).json()

    def receive(self, subject, text, *, to=None, attachment=None, sender=CUSTOMER):
        mail = EmailMessage()
        mail["From"] = f"Dora <{sender}>"
        mail["To"] = to or self.inbound
        mail["Subject"] = subject
        mail.set_content(text)
        if attachment:
            name, content_type, data = attachment
            main, sub = content_type.split("/")
            mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
        received = requests.post(
            f"http://127.0.0.1:{self.stack.env['MAIL_PORT']}/_fake/receive",
            params={"recipient": to or self.inbound},
            data=mail.as_bytes(),
            timeout=30,
        )
        assert received.ok, received.text

    def ticket_titled(self, subject):
        def found():
            tickets = requests.get(f"{self.api}/v1/tickets", headers=self.auth, timeout=10).json()
            return [t for t in tickets["tickets"] if t["subject"] == subject]

        return _until(found, what=f"the ticket {subject!r}")[0]

    def ticket(self, ticket_id):
        return requests.get(
            f"{self.api}/v1/tickets/{ticket_id}", headers=self.auth, timeout=10
        ).json()

    def open_ticket(self, browser, ticket_id, *, email=None, locale="en-US"):
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale)
        page = context.new_page()
        page.goto(f"{self.api}/app/login?next=/tickets/{ticket_id}")
        french = locale.startswith("fr")
        page.get_by_label("E-mail" if french else "Email").fill(email or self.email)
        page.get_by_label("Mot de passe" if french else "Password").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter" if french else "Log in").click()
        page.wait_for_url(f"{self.api}/app/tickets/{ticket_id}")
        page.locator(".ticket-head h1").wait_for()
        return page


@pytest.fixture(scope="module")
def desk(stack):
    return Desk(stack)


def test_attachment_download_and_reply_with_a_file_and_a_cc(desk, browser, screenshot_path):
    desk.receive(
        "Invoice attached",
        "Here is the invoice you asked for.",
        attachment=("invoice.pdf", "application/pdf", PDF),
    )
    ticket = desk.ticket_titled("Invoice attached")
    # The file goes from the browser straight to the bucket (the API's presigned POST), under
    # the app's real Content-Security-Policy: no violation.
    page = desk.open_ticket(browser, ticket["id"])
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    conversation = page.get_by_role("list", name="Conversation")
    link = conversation.get_by_role("link", name="Download invoice.pdf")
    expect(link).to_be_visible()
    # The link leads, through the API's short-lived redirect, to the file itself.
    downloaded = page.context.request.get(desk.api + link.get_attribute("href"))
    assert downloaded.ok and downloaded.body() == PDF

    page.get_by_label("CC", exact=True).fill("eve@customer.test")
    page.get_by_label("Attach files").set_input_files(
        files=[{"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. Open the box\n"}]
    )
    files = page.get_by_role("list", name="Files to send")
    expect(files.get_by_role("listitem")).to_have_count(1)
    expect(files).not_to_contain_text("Uploading")
    expect(files).not_to_contain_text("could not")
    page.get_by_label("Reply", exact=True).fill("Thanks Dora, the steps are attached.")
    page.get_by_role("button", name="Send", exact=True).click()
    reply = conversation.get_by_role("article", name="Reply from Ann")
    reply.wait_for()
    expect(reply).to_contain_text("CC: eve@customer.test")
    # The delivery status follows the mail while the page stays open: queued, then sent.
    expect(reply.locator("[data-delivery]")).to_have_attribute(
        "data-delivery", re.compile("sent|delivered"), timeout=30_000
    )
    assert_accessible(page, "ticket page (en)")
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert refused == []

    mail = _until(
        lambda: [
            m
            for m in desk.sent()
            if CUSTOMER in " ".join(m["to"]) and "steps are attached" in " ".join(m.get("text", []))
        ],
        what="the reply's mail",
    )[0]
    assert "eve@customer.test" in " ".join(mail.get("cc", []))
    assert [a["filename"] for a in mail["attachments"]] == ["steps.txt"]
    page.context.close()


def test_merge_two_tickets_and_see_the_pointers_on_both(desk, browser, screenshot_path):
    made = [
        requests.post(
            f"{desk.api}/v1/tickets",
            json={
                "requester": {"email": CUSTOMER, "name": "Dora"},
                "subject": subject,
                "body": "Where is my parcel?",
            },
            headers=desk.auth,
            timeout=10,
        ).json()
        for subject in ("Parcel late", "Parcel late again")
    ]
    target, source = made
    page = desk.open_ticket(browser, source["id"], locale="fr-FR")
    page.get_by_role("button", name="Fusionner avec un autre ticket…").click()
    merge = page.get_by_role("region", name="Fusionner avec un autre ticket")
    merge.get_by_role("searchbox", name="Trouver le ticket").fill(str(target["number"]))
    merge.get_by_role("button", name="Chercher").click()
    merge.get_by_label(f"#{target['number']} Parcel late", exact=True).check()
    assert_accessible(page, "merge (fr)")
    page.screenshot(path=str(screenshot_path).replace(".png", "-fr.png"), full_page=True)
    merge.get_by_role("button", name=f"Fusionner dans le ticket #{target['number']}").click()
    page.wait_for_url(f"{desk.api}/app/tickets/{target['id']}")
    pointer = page.get_by_role("link", name=f"Le ticket #{source['number']} a été fusionné ici")
    expect(pointer).to_be_visible()
    expect(page.get_by_role("list", name="Conversation").get_by_role("article")).to_have_count(2)
    pointer.click()
    expect(
        page.get_by_role("link", name=f"Fusionné dans le ticket #{target['number']}")
    ).to_be_visible()
    activity = page.get_by_role("list", name="Historique, du plus récent au plus ancien")
    expect(activity).to_contain_text("a fusionné ce ticket dans")
    page.context.close()


def test_a_teammate_viewing_the_ticket_is_shown(desk, browser, screenshot_path):
    ticket = requests.post(
        f"{desk.api}/v1/tickets",
        json={
            "requester": {"email": CUSTOMER, "name": "Dora"},
            "subject": "Refund",
            "body": "I would like a refund.",
        },
        headers=desk.auth,
        timeout=10,
    ).json()
    ann = desk.open_ticket(browser, ticket["id"])
    bob = desk.open_ticket(browser, ticket["id"], email=desk.bob)
    expect(bob.get_by_text("Ann is viewing this ticket")).to_be_visible(timeout=20_000)
    expect(ann.get_by_text("Bob is viewing this ticket")).to_be_visible(timeout=20_000)
    ann.screenshot(path=str(screenshot_path), full_page=True)
    # Bob leaves the ticket for the inbox: Ann stops seeing him at her next heartbeat.
    bob.get_by_role("link", name="Inbox").first.click()
    expect(ann.get_by_text("Bob is viewing this ticket")).to_have_count(0, timeout=20_000)
    bob.context.close()
    ann.context.close()


def test_a_reply_held_back_by_a_new_customer_message_shows_the_guard(
    desk, browser, screenshot_path
):
    desk.receive("Wrong size", "The shoes are too small.")
    ticket = desk.ticket_titled("Wrong size")
    # A first reply gives the customer the ticket's own reply address.
    first = requests.post(
        f"{desk.api}/v1/tickets/{ticket['id']}/messages",
        json={"kind": "reply", "body": "Which size do you need?"},
        headers=desk.auth,
        timeout=10,
    )
    assert first.status_code == 201, first.text
    mailed = _until(
        lambda: [
            m for m in desk.sent() if "Which size do you need?" in " ".join(m.get("text", []))
        ],
        what="the first reply",
    )[0]
    reply_to = mailed["h:Reply-To"][0]
    reply_to = re.search(r"[^<\s]+@[^>\s]+", reply_to).group(0)

    page = desk.open_ticket(browser, ticket["id"])
    page.get_by_label("Reply", exact=True).fill("A size 42 leaves today.")
    count_before = len(desk.ticket(ticket["id"])["messages"])
    desk.receive("Re: Wrong size", "Actually I need a 43, please.", to=reply_to)
    _until(
        lambda: len(desk.ticket(ticket["id"])["messages"]) > count_before,
        what="the customer's second message",
    )
    page.get_by_role("button", name="Send", exact=True).click()
    guard = page.get_by_role("alert").filter(has_text="A new message arrived")
    expect(guard).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("409")
    expect(page.locator("body")).not_to_contain_text("new_customer_message")
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("I need a 43")
    expect(page.get_by_label("Reply", exact=True)).to_have_value("A size 42 leaves today.")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    assert_accessible(page, "ticket with the guard (en)")
    page.screenshot(path=str(screenshot_path), full_page=True)

    guard.get_by_role("button", name="Show the new message").click()
    page.get_by_label("Reply", exact=True).fill("A size 43 leaves today.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(conversation.get_by_role("article", name="Reply from Ann")).to_have_count(2)
    page.context.close()
