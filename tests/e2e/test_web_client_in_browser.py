"""The agent web client in headless Chromium, over the local stack: sign up through the form,
see a customer's mail arrive in the inbox and open it, log out, log in again in French."""

import re
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import requests
from playwright.sync_api import expect

PASSWORD = "correct horse battery"
SUBJECT = "My invoice shows the wrong address"
MAIL_TEXT = "Hello,\nmy March invoice still shows our old address. Can you fix it?\nCarla"


def _mail_the_workspace(stack, address: str) -> None:
    """A customer's mail, delivered by the stack's Mailgun stand-in as Mailgun would."""
    message = EmailMessage()
    message["From"] = "Carla Customer <carla@customer.test>"
    message["To"] = address
    message["Subject"] = SUBJECT
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content(MAIL_TEXT)
    received = requests.post(
        f"http://127.0.0.1:{stack.env['MAIL_PORT']}/_fake/receive",
        params={"recipient": address},
        data=message.as_bytes(),
        timeout=30,
    )
    assert received.ok and received.json().get("notify_status") == 200, received.text


def _watch_for_policy_violations(page, problems: list[str]) -> None:
    # Chromium reports each blocked script, style, frame or image on the console.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused to")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))


def _nothing_token_like_in_the_page(page) -> None:
    assert "helptal_session" not in page.evaluate("document.cookie")
    stored = page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert not re.search(r"token|session|hts_|bearer", stored, re.IGNORECASE), stored


def test_sign_up_see_a_mailed_ticket_log_out_and_log_in_again_in_french(
    stack, browser, screenshot_path
):
    api = stack.api_url
    email = f"web-{uuid.uuid4().hex[:8]}@acme.test"
    problems: list[str] = []

    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _watch_for_policy_violations(page, problems)

    # `make run` names the app; the API's front door leads to it, which asks a stranger to log in.
    assert re.search(rf"web app\s+{re.escape(api)}/app/\n", stack.log_tail(10**7))
    page.goto(f"{api}/")
    page.wait_for_url(f"{api}/app/login")
    page.get_by_role("link", name="Create a workspace").click()
    page.wait_for_url(f"{api}/app/signup")
    page.get_by_label("Workspace name").fill("Acme Web Desk")
    page.get_by_label("Your name").fill("Ann Agent")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create workspace").click()

    page.wait_for_url(f"{api}/app/")
    page.get_by_role("heading", name="All", exact=True).wait_for()
    assert page.get_by_text("Acme Web Desk").is_visible()
    hint = page.get_by_text(re.compile(r"Mail sent to \S+ opens a ticket here")).inner_text()
    address = re.search(r"Mail sent to (\S+) opens", hint).group(1)
    # Until the owner confirms their address, the app says so and can send the link again.
    confirm = page.get_by_role("region", name="Confirm your e-mail address")
    confirm.get_by_role("button", name="Send the link again").click()
    confirm.get_by_role("status").filter(has_text=f"A new link is on its way to {email}").wait_for()
    _nothing_token_like_in_the_page(page)

    # The ticket appears without a reload (the app follows the API's changes feed).
    _mail_the_workspace(stack, address)
    tickets = page.get_by_role("list", name="Tickets: All")
    expect(tickets.get_by_role("listitem").filter(has_text=SUBJECT)).to_have_count(
        1, timeout=40_000
    )
    page.get_by_role("link", name="Unassigned, 1 ticket").wait_for()
    page.screenshot(path=str(screenshot_path.with_name(f"{screenshot_path.stem}-inbox-en.png")))

    tickets.get_by_role("listitem").filter(has_text=SUBJECT).get_by_role("link").click()
    page.get_by_role("heading", name=SUBJECT).wait_for()
    assert re.search(r"/app/tickets/\w+$", page.url)
    conversation = page.get_by_role("list", name="Conversation")
    message = conversation.get_by_role("article", name="Message from Carla Customer")
    assert "old address" in message.inner_text()
    assert page.get_by_role("complementary", name="Ticket details").is_visible()
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}-ticket-en.png")),
        full_page=True,
    )

    # A link into the app that goes nowhere shows a page that says so.
    page.goto(f"{api}/app/no/such/page")
    page.get_by_role("heading", name="Page not found").wait_for()
    assert page.get_by_role("link", name="Go to the inbox").is_visible()
    _nothing_token_like_in_the_page(page)

    page.get_by_label("Account menu for Ann Agent").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{api}/app/login")
    me = page.evaluate(
        "fetch('/v1/me', {credentials: 'include', headers: {'X-Helptal-Client': 'web'}})"
        ".then(r => r.status)"
    )
    assert me == 401
    context.close()

    # Again, from a French browser on a small phone.
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    page = context.new_page()
    _watch_for_policy_violations(page, problems)
    page.goto(f"{api}/app/")
    page.wait_for_url(f"{api}/app/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("heading", name="Connexion").wait_for()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.screenshot(path=str(screenshot_path.with_name(f"{screenshot_path.stem}-login-fr.png")))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{api}/app/")
    page.get_by_role("heading", name="Tous", exact=True).wait_for()
    french_list = page.get_by_role("list", name="Tickets : Tous")
    french_list.get_by_role("listitem").filter(has_text=SUBJECT).wait_for()
    page.get_by_role("link", name="Non attribués, 1 ticket").wait_for()
    page.screenshot(path=str(screenshot_path.with_name(f"{screenshot_path.stem}-inbox-fr.png")))
    french_list.get_by_role("link").first.click()
    page.get_by_role("article", name="Message de Carla Customer").wait_for()
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}-ticket-fr.png")),
        full_page=True,
    )
    _nothing_token_like_in_the_page(page)
    context.close()

    assert problems == [], problems
