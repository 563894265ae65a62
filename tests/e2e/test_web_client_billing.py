"""Billing in the web client against the local stack and its Stripe stand-in: an owner sees the
trial, subscribes to Starter through the stand-in's checkout page, comes back to the active
plan and the card, sees the invoice, is told helpfully when seats go beyond the plan, changes
them, then cancels now and is told the refund — in French at 360 px and in English at desktop
width. An admin sees the screen without the owner's actions. Axe-core on every screen;
screenshots of each in test-artifacts/screenshots."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.web_client_text import app_words, screen_checked, until

PASSWORD = "correct horse battery"


def _mail_to(stack, address: str) -> str:
    def found():
        mails = requests.get(stack.sent_mail_url, timeout=5).json()
        return next((" ".join(m["text"]) for m in mails if address in m["to"]), None)

    return until(found, what=f"a mail to {address}")


def _sign_up(stack, language: str) -> tuple[str, dict[str, str]]:
    email = f"olive-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={
            "workspace_name": "Billing Desk",
            "name": "Olive",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    stack.confirm_signup(email)
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    requests.patch(
        f"{stack.api_url}/v1/me/profile", json={"locale": language}, headers=auth, timeout=10
    ).raise_for_status()
    return email, auth


def _log_in(browser, stack, email: str, language: str, width: int):
    word = app_words(language)
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="fr-FR" if language == "fr" else "en-US"
    )
    page = context.new_page()
    page.goto(f"{stack.api_url}/app/login?next=/settings/billing")
    page.get_by_label(word("login.email")).fill(email)
    page.get_by_label(word("login.password")).fill(PASSWORD)
    page.get_by_role("button", name=word("login.submit")).click()
    page.get_by_role("heading", name=word("settings.billing"), exact=True).wait_for()
    return context, page


@pytest.mark.parametrize(("language", "width"), [("fr", 360), ("en", 1280)])
def test_owner_subscribes_changes_seats_and_cancels_with_a_refund(
    stack, browser, screenshot_path, language, width
):
    api = stack.api_url
    word = app_words(language)
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    email, auth = _sign_up(stack, language)
    context, page = _log_in(browser, stack, email, language, width)
    status = page.locator(".billing-facts .billing-status")

    # The trial: its days left, and the plans to choose from.
    expect(status).to_have_text(word("billing.status_trialing"))
    expect(page.locator(".billing-facts")).to_contain_text(re.compile(r"\b1[34]\b"))
    expect(page.get_by_role("button", name=word("billing.continue_to_payment"))).to_be_visible()
    screen_checked(page, shot("trial"), width, "the billing screen during the trial")

    # Starter, two seats, by card: the stand-in's checkout page, then back.
    page.get_by_role("radio", name=re.compile(r"^Starter")).check()
    page.get_by_role("spinbutton", name=word("billing.seats")).fill("2")
    expect(page.locator(".total")).to_contain_text("38")
    page.get_by_role("button", name=word("billing.continue_to_payment")).click()
    page.locator("#pay").wait_for()
    expect(page.locator("#total")).to_contain_text("$38.00")
    page.screenshot(path=shot("stripe_checkout"), full_page=True)
    page.locator("#pay").click()
    page.wait_for_url(f"{api}/app/settings/billing")
    page.get_by_role("status").filter(
        has_text=word("billing.checkout_active", plan="Starter")
    ).wait_for(timeout=30_000)
    expect(status).to_have_text(word("billing.status_active"))
    facts = page.locator(".billing-facts")
    expect(facts).to_contain_text("Starter")
    expect(facts).to_contain_text(word("billing.seats_used_paid", used=1, paid=2))
    expect(page.locator(".card-line").first).to_contain_text(
        word("billing.card_text", brand="Visa", last4="4242", expiry=r"")
    )

    # The invoice of the first month (recorded when Stripe's invoice.paid arrives).
    until(
        lambda: (
            requests.get(f"{api}/v1/billing/invoices", headers=auth, timeout=10)
            .json()
            .get("invoices")
        ),
        what="the first invoice",
    )
    page.reload()
    invoices = page.get_by_role("table", name=word("billing.invoices"))
    paid = invoices.locator("tbody").get_by_role("row")
    expect(paid).to_have_count(1)
    expect(paid).to_contain_text(word("billing.invoice_paid"))
    expect(paid).to_contain_text(word("billing.paid_by_stripe"))
    expect(paid).to_contain_text("38")
    expect(paid.get_by_role("link")).to_have_attribute("target", "_blank")
    screen_checked(page, shot("active"), width, "the billing screen of a paid plan")

    # Seats: beyond Starter's ten, the refusal says what would allow it; then three.
    seats = page.get_by_role("spinbutton", name=word("billing.paid_seats"))
    seats.fill("11")
    page.get_by_role("button", name=word("billing.save_seats")).click()
    refusal = word("billing.error_plan_limit_seats_plan", count=10, plan="Pro")
    expect(page.get_by_role("alert").filter(has_text=refusal)).to_be_visible()
    expect(seats).to_have_attribute("aria-invalid", "true")
    screen_checked(page, shot("seats_refused"), width, "a refused seat change")
    seats.fill("3")
    page.get_by_role("button", name=word("billing.save_seats")).click()
    page.get_by_role("status").filter(has_text=word("billing.seats_saved", count=3)).wait_for()
    expect(facts).to_contain_text(word("billing.seats_used_paid", used=1, paid=3))
    assert requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()["seats"]["paid"] == 3

    # Cancel now: the dialog explains the refund, then the refund is told.
    page.get_by_role("button", name=word("billing.cancel_subscription")).click()
    dialog = page.get_by_role("dialog", name=word("billing.cancel_title"))
    expect(dialog).to_contain_text(word("billing.refund_to_card"))
    expect(dialog.get_by_role("radio").first).to_be_checked()
    screen_checked(page, shot("cancel_dialog"), width, "the cancel dialog")
    dialog.get_by_role("radio", name=word("billing.cancel_now")).check()
    dialog.get_by_role("button", name=word("billing.confirm_cancel_now")).click()
    told = word("billing.cancelled_refund_card", amount="AMOUNT").split("AMOUNT")
    page.get_by_role("status").filter(has_text=told[0]).filter(has_text=told[1].strip()).wait_for()
    expect(status).to_have_text(word("billing.status_canceled"))
    expect(page.get_by_role("button", name=word("billing.continue_to_payment"))).to_be_visible()
    screen_checked(
        page, shot("canceled"), width, "the billing screen after cancelling with a refund"
    )
    refunded = until(
        lambda: [
            i
            for i in requests.get(f"{api}/v1/billing/invoices", headers=auth, timeout=10).json()[
                "invoices"
            ]
            if i["amount_refunded"]["amount"] > 0
        ],
        what="the refund on the invoice",
    )
    assert 0 < refunded[0]["amount_refunded"]["amount"] <= refunded[0]["amount_paid"]["amount"]
    context.close()


def test_an_admin_sees_billing_without_the_owners_actions(stack, browser, screenshot_path):
    api = stack.api_url
    word = app_words("en")
    _, owner = _sign_up(stack, "en")
    admin_email = f"adam-{uuid.uuid4().hex[:8]}@acme.test"
    requests.post(
        f"{api}/v1/members/invitations",
        json={"email": admin_email, "role": "admin"},
        headers=owner,
        timeout=10,
    ).raise_for_status()
    token = re.search(r"/join/(hti_[\w-]+)", _mail_to(stack, admin_email)).group(1)
    requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Adam Admin", "password": PASSWORD},
        timeout=10,
    ).raise_for_status()

    context, page = _log_in(browser, stack, admin_email, "en", 1280)
    expect(page.locator(".billing-facts .billing-status")).to_have_text(
        word("billing.status_trialing")
    )
    expect(page.locator(".billing-facts")).to_contain_text(
        word("billing.seats_used_paid", used=2, paid=25)
    )
    expect(page.get_by_text(word("billing.owners_only_note"))).to_be_visible()
    expect(page.get_by_role("table", name=word("billing.invoices"))).to_have_count(0)
    expect(page.get_by_text(word("billing.no_invoices"))).to_be_visible()
    for action in (
        "billing.continue_to_payment",
        "billing.manage_payment",
        "billing.add_backup_card",
        "billing.cancel_subscription",
        "billing.save_seats",
    ):
        expect(page.get_by_role("button", name=word(action))).to_have_count(0)
    screen_checked(page, str(screenshot_path), 1280, "billing for an admin")
    context.close()


def test_owner_adds_and_removes_a_backup_card_through_tappays_fields(
    stack, browser, screenshot_path
):
    api = stack.api_url
    word = app_words("en")
    email, auth = _sign_up(stack, "en")
    tappay = requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()["tappay"]
    assert tappay, "the local stack offers backup cards through its TapPay stand-in"
    sdk = "{0.scheme}://{0.netloc}".format(urlsplit(tappay["sdk_url"]))
    policy = requests.get(f"{api}/app/", timeout=10).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    if sdk not in directives["script-src"]:
        pytest.skip(f"the web client's local policy does not allow TapPay's SDK ({sdk}) yet")
    context, page = _log_in(browser, stack, email, "en", 1280)
    page.on("dialog", lambda dialog: dialog.accept())

    page.get_by_role("button", name=word("billing.add_backup_card")).click()
    form = page.locator(".backup-card-form")
    expect(form.get_by_role("heading", name=word("billing.add_backup_card"))).to_be_focused()
    form.get_by_role("textbox", name=word("billing.card_number")).fill("4242 4242 4242 4242")
    form.get_by_role("textbox", name=word("billing.card_expiry")).fill("12/34")
    form.get_by_role("textbox", name=word("billing.card_ccv")).fill("123")
    form.get_by_label(word("billing.cardholder_phone")).fill("+886 912 345 678")
    assert_accessible(page, "the backup card form")
    page.screenshot(
        path=str(screenshot_path.with_name(f"{screenshot_path.stem}_form.png")), full_page=True
    )
    form.get_by_role("button", name=word("billing.save_backup_card")).click()
    page.get_by_role("status").filter(has_text=word("billing.backup_card_saved")).wait_for()
    backup = page.locator(".backup-card")
    expect(backup).to_contain_text(
        word("billing.card_text", brand="Visa", last4="4242", expiry="12/2034")
    )
    screen_checked(page, str(screenshot_path), 1280, "a backup card")
    card = requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()["backup_card"]
    assert (card["processor"], card["last4"], card["exp_year"]) == ("tappay", "4242", 2034)

    backup.get_by_role("button", name=word("billing.remove_backup_card")).click()
    page.get_by_role("status").filter(has_text=word("billing.backup_card_removed")).wait_for()
    expect(backup).to_contain_text(word("billing.no_backup_card"))
    assert requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()["backup_card"] is None
    context.close()
