"""Privacy in the web client against the local stack, its planned sub-processor change (40
days out) and its Stripe stand-in: an owner on a yearly Pro plan sees the banner of the
change, opens Settings > Privacy, objects with a reason, confirms the end of the subscription
and is told the refund (the amount the API recorded), in French at 360 px and in English at
desktop width; the banner, dismissed, stays gone after a reload.  An admin sees the banner and
the screen without the owners' actions; an agent sees neither.  An owner erases a person who
mailed in and sees the erasure done with its counts, keeps closed tickets 12 months (still so
after a reload), schedules the workspace's deletion, sees the banner and cancels it; admins and
agents see the banner but not the button.  Before the erasure, the owner exports that person's
data (an unknown address refused beside the field) and the whole workspace, sees both ready with
their counts, and Download asks for a fresh link to the bundle in the bucket; once the person
is erased both read expired, without the address.  Axe-core on every screen; screenshots in
test-artifacts/screenshots."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.web_client_text import app_words, screen_checked, until

PASSWORD = "correct horse battery"
PROJECT_DIR = Path(__file__).resolve().parents[2]
REASON = "Nos clients exigent des hébergeurs qu'ils ont approuvés."
CHANGES = "/v1/privacy/subprocessor-changes"
DELETION = "/v1/workspace/deletion"
EXPORTS = "/v1/privacy/exports"

# Records a change 40 days out through the store, in the stack's table, as the operator's
# command does (used only when the stack has none planned).
RECORD_CHANGE = """
from datetime import UTC, datetime, timedelta
from chalicelib.ids import new_id
from chalicelib.privacy.model import Category, ChangeKind, PlannedChange, SubProcessor, Words
from chalicelib.store.subprocessor_changes_repo import DynamoSubprocessorChanges

now = datetime.now(UTC)
DynamoSubprocessorChanges().record_change(PlannedChange(
    id=new_id(), kind=ChangeKind.REPLACE, announced_at=now,
    effective_at=now + timedelta(days=40),
    summary=Words("Hosting moves to AWS in Singapore.",
                  "L'hébergement passe chez AWS à Singapour."),
    subprocessor=SubProcessor(
        "aws-ap-southeast-1", "Amazon Web Services", "Amazon Web Services Singapore",
        Words("Singapore", "Singapour"), Words("Cloud hosting.", "Hébergement cloud."),
        Category.HOSTING, True),
    replaces=("vultr", "digitalocean", "neon", "upstash"), planned_by="e2e"))
"""


def _sign_up(stack, language: str, name: str = "Olive") -> tuple[str, dict[str, str]]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": "Privacy Desk", "name": name, "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text
    stack.confirm_signup(email)
    auth = {"Authorization": f"Bearer {signup.json()['token']}"}
    requests.patch(
        f"{stack.api_url}/v1/me/profile", json={"locale": language}, headers=auth, timeout=10
    ).raise_for_status()
    return email, auth


def _join(stack, owner: dict[str, str], role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@acme.test"
    requests.post(
        f"{stack.api_url}/v1/members/invitations",
        json={"email": email, "role": role},
        headers=owner,
        timeout=10,
    ).raise_for_status()

    def link():
        mails = requests.get(stack.sent_mail_url, timeout=5).json()
        text = " ".join(" ".join(m["text"]) for m in mails if email in m["to"])
        return re.search(r"/join/(hti_[\w-]+)", text)

    token = until(link, what=f"the invitation to {email}").group(1)
    requests.post(
        f"{stack.api_url}/v1/invitations/{token}/accept",
        json={"name": role.title(), "password": PASSWORD},
        timeout=10,
    ).raise_for_status()
    return email


def _subscribe_yearly(stack, auth: dict[str, str]) -> None:
    """Pro, yearly, two seats, paid on the Stripe stand-in's checkout (as a buyer would)."""
    api = stack.api_url
    started = requests.post(
        f"{api}/v1/billing/checkout",
        json={"plan": "pro", "period": "year", "seats": 2, "processor": "stripe"},
        headers=auth,
        timeout=10,
    )
    assert started.status_code == 201, started.text
    url = started.json()["url"]
    stand_in, session = url.split("/checkout/")
    requests.post(
        f"{stand_in}/_fake/checkout/{session}/complete", json={}, timeout=10
    ).raise_for_status()
    until(
        lambda: (
            requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()["status"] == "active"
            and requests.get(f"{api}/v1/billing/invoices", headers=auth, timeout=10).json()[
                "invoices"
            ]
        ),
        what="the yearly subscription and its invoice",
    )


def _planned_change(stack, auth: dict[str, str]) -> dict:
    """The change the stack has planned (`make run` plans one 40 days out), else one
    recorded now."""
    changes = requests.get(f"{stack.api_url}{CHANGES}", headers=auth, timeout=10).json()["changes"]
    if not changes:
        subprocess.run(
            [sys.executable, "-c", RECORD_CHANGE], cwd=PROJECT_DIR, env=stack.env, check=True
        )
        changes = requests.get(f"{stack.api_url}{CHANGES}", headers=auth, timeout=10).json()[
            "changes"
        ]
    upcoming = [n for n in changes if n["change"]["processes_workspace_content"]]
    assert upcoming, changes
    return upcoming[0]


def _log_in(browser, stack, email: str, language: str, width: int, landing: str):
    word = app_words(language)
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="fr-FR" if language == "fr" else "en-US"
    )
    page = context.new_page()
    page.goto(f"{stack.api_url}/app/login?next={landing}")
    page.get_by_label(word("login.email")).fill(email)
    page.get_by_label(word("login.password")).fill(PASSWORD)
    page.get_by_role("button", name=word("login.submit")).click()
    page.locator("main h1").first.wait_for()
    return context, page


def _mail_in(stack, inbound: str, sender: str, subject: str, cc: str = "") -> None:
    """A customer's mail reaches the workspace's inbound address (a ticket a moment later)."""
    mail = EmailMessage()
    mail["From"] = f"Carla <{sender}>"
    mail["To"] = inbound
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail.set_content(f"Hello, this is {sender}. Please delete everything you hold about me.")
    requests.post(
        f"http://127.0.0.1:{stack.env['MAIL_PORT']}/_fake/receive",
        params={"recipient": inbound},
        data=mail.as_bytes(),
        timeout=30,
    ).raise_for_status()


def _tickets_titled(stack, auth: dict[str, str], *subjects: str) -> None:
    """Returns once the workspace has a ticket of each subject."""

    def filed() -> bool:
        tickets = requests.get(f"{stack.api_url}/v1/tickets", headers=auth, timeout=10).json()
        return set(subjects) <= {t["subject"] for t in tickets["tickets"]}

    until(filed, what=f"the tickets {subjects!r}")


def _shown_date(page, iso: str, language: str) -> str:
    """A date as the app writes it (formatDate: the long date style of the language)."""
    return page.evaluate(
        "([iso, language]) => new Intl.DateTimeFormat(language, {dateStyle: 'long'})"
        ".format(new Date(iso))",
        [iso, language],
    )


@pytest.mark.parametrize(("language", "width"), [("fr", 360), ("en", 1280)])
def test_owner_objects_to_a_planned_change_ends_the_subscription_and_is_told_the_refund(
    stack, browser, screenshot_path, language, width
):
    api = stack.api_url
    word = app_words(language)
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    email, auth = _sign_up(stack, language)
    _subscribe_yearly(stack, auth)
    notice = _planned_change(stack, auth)
    summary = notice["change"]["summary"][language]
    context, page = _log_in(browser, stack, email, language, width, "/")

    # The banner on the inbox: the change, the public list, the way to object.
    banner = page.get_by_role("region", name=word("privacy.banner_label"))
    expect(banner).to_contain_text(summary)
    expect(banner.get_by_role("link", name=word("privacy.public_list"))).to_have_attribute(
        "href", re.compile(rf"/legal/subprocessors\?lang={language}$")
    )
    screen_checked(page, shot("banner"), width, "the banner of a planned sub-processor change")

    banner.get_by_role("link", name=word("privacy.banner_review")).click()
    page.get_by_role("heading", name=word("settings.privacy"), exact=True).wait_for()
    card = page.get_by_role("article", name=summary)
    expect(card).to_contain_text("Amazon Web Services")
    screen_checked(page, shot("settings"), width, "Settings > Privacy with a planned change")

    # The objection: a reason, recorded, the owners mailed.
    card.get_by_role("button", name=word("privacy.object_button")).click()
    card.get_by_label(word("privacy.reason")).fill(REASON)
    screen_checked(page, shot("objection_form"), width, "the objection form")
    card.get_by_role("button", name=word("privacy.object_submit")).click()
    page.get_by_role("status").filter(has_text=word("privacy.objection_recorded")).wait_for()
    expect(card).to_contain_text(REASON)
    expect(card.locator(".objection-status")).to_have_text(word("privacy.status_objected"))
    screen_checked(page, shot("objected"), width, "an objection recorded")

    # The remedy: the subscription ends now, the unused part refunded.
    card.get_by_role("button", name=word("privacy.terminate_button")).click()
    dialog = page.get_by_role("dialog", name=word("privacy.terminate_title"))
    expect(dialog).to_contain_text(word("privacy.terminate_text"))
    screen_checked(page, shot("terminate_dialog"), width, "the termination dialog")
    dialog.get_by_role("button", name=word("privacy.terminate_confirm")).click()
    told = word("privacy.terminated_refund", amount="AMOUNT", payer="PAYER")
    before, after = told.split("AMOUNT")[0], word("privacy.refund_stripe")
    page.get_by_role("status").filter(has_text=before.strip()).filter(has_text=after).wait_for()
    expect(card.locator(".objection-status")).to_have_text(word("privacy.status_terminated"))
    [objection] = requests.get(f"{api}/v1/privacy/objections", headers=auth, timeout=10).json()[
        "objections"
    ]
    assert objection["status"] == "terminated" and objection["refund"]["processor"] == "stripe"
    refunded = objection["refund"]["amount"]["amount"]
    assert 0 < refunded <= 2 * 49_000
    shown = page.evaluate(
        "([money, language]) => new Intl.NumberFormat(language, {style: 'currency', "
        "currency: money.currency.toUpperCase()}).format(money.amount / 100)",
        [objection["refund"]["amount"], language],
    )
    expect(page.get_by_role("status").filter(has_text=after)).to_contain_text(shown)
    screen_checked(page, shot("terminated"), width, "the subscription ended with its refund")
    billing = requests.get(f"{api}/v1/billing", headers=auth, timeout=10).json()
    assert (billing["status"], billing["plan"]["id"]) == ("canceled", "free")

    # Dismissed, the banner is gone, and stays gone after a reload.
    banner.get_by_role("button", name=word("privacy.banner_dismiss")).click()
    expect(banner).to_have_count(0)
    page.reload()
    page.get_by_role("heading", name=word("settings.privacy"), exact=True).wait_for()
    expect(page.get_by_role("article", name=summary)).to_be_visible()
    expect(page.get_by_role("region", name=word("privacy.banner_label"))).to_have_count(0)
    context.close()


def test_an_admin_sees_the_change_banner_an_agent_not_and_neither_can_delete_the_workspace(
    stack, browser, screenshot_path
):
    word = app_words("en")
    _, owner = _sign_up(stack, "en", name="Oscar")
    notice = _planned_change(stack, owner)
    summary = notice["change"]["summary"]["en"]
    admin = _join(stack, owner, "admin")
    agent = _join(stack, owner, "agent")

    context, page = _log_in(browser, stack, admin, "en", 1280, "/settings/privacy")
    banner = page.get_by_role("region", name=word("privacy.banner_label"))
    expect(banner).to_contain_text(summary)
    card = page.get_by_role("article", name=summary)
    expect(card).to_contain_text(word("privacy.no_objection"))
    expect(page.get_by_text(word("privacy.owners_only_note"))).to_be_visible()
    expect(page.get_by_role("button", name=word("privacy.object_button"))).to_have_count(0)
    screen_checked(page, str(screenshot_path), 1280, "Settings > Privacy for an admin")
    banner.get_by_role("button", name=word("privacy.banner_dismiss")).click()
    expect(banner).to_have_count(0)
    page.reload()
    page.get_by_role("heading", name=word("settings.privacy"), exact=True).wait_for()
    expect(page.get_by_role("region", name=word("privacy.banner_label"))).to_have_count(0)
    # Deleting the workspace is the owners' alone.
    page.get_by_role("navigation", name=word("settings.sections")).get_by_role(
        "link", name=word("settings.workspace")
    ).click()
    page.get_by_label(word("signup.workspace_name")).wait_for()
    expect(page.get_by_role("button", name=word("workspace_deletion.button"))).to_have_count(0)
    context.close()

    # The owner has not dismissed it: it is theirs to dismiss.
    answer = requests.get(f"{stack.api_url}{CHANGES}", headers=owner, timeout=10).json()
    assert [
        n["dismissed"] for n in answer["changes"] if n["change"]["id"] == notice["change"]["id"]
    ] == [False]

    # A deletion scheduled by an owner: every member sees its date, none may delete.
    slug = requests.get(f"{stack.api_url}/v1/me", headers=owner, timeout=10).json()["workspace"][
        "slug"
    ]
    scheduled = requests.post(
        f"{stack.api_url}{DELETION}", json={"confirm_slug": slug}, headers=owner, timeout=10
    )
    assert scheduled.status_code == 202, scheduled.text
    context, page = _log_in(browser, stack, agent, "en", 1280, "/settings/privacy")
    page.get_by_text(word("privacy.managers_only")).wait_for()
    expect(page.get_by_role("region", name=word("privacy.banner_label"))).to_have_count(0)
    date = _shown_date(page, scheduled.json()["delete_at"], "en")
    deletion = page.get_by_role("region", name=word("workspace_deletion.banner_label"))
    expect(deletion).to_contain_text(word("workspace_deletion.banner_scheduled", date=date))
    expect(deletion).to_contain_text(word("workspace_deletion.banner_member"))
    page.get_by_role("navigation", name=word("settings.sections")).get_by_role(
        "link", name=word("settings.workspace")
    ).click()
    page.get_by_label(word("signup.workspace_name")).wait_for()
    expect(page.get_by_role("button", name=word("workspace_deletion.button"))).to_have_count(0)
    context.close()
    requests.delete(f"{stack.api_url}{DELETION}", headers=owner, timeout=10).raise_for_status()


@pytest.mark.parametrize(("language", "width"), [("fr", 360), ("en", 1280)])
def test_owner_erases_a_person_keeps_closed_tickets_a_year_and_schedules_then_cancels_deletion(
    stack, browser, screenshot_path, language, width
):
    api = stack.api_url
    word = app_words(language)
    shot = lambda name: str(screenshot_path.with_name(f"{screenshot_path.stem}_{name}.png"))  # noqa: E731
    email, auth = _sign_up(stack, language, name="Erin")
    workspace = requests.get(f"{api}/v1/me", headers=auth, timeout=10).json()["workspace"]
    carla = f"carla-{uuid.uuid4().hex[:8]}@customer.test"
    _mail_in(stack, workspace["inbound_address"], carla, "Forget me")
    dora = f"dora-{uuid.uuid4().hex[:8]}@customer.test"
    _mail_in(stack, workspace["inbound_address"], dora, "Carla too", cc=carla)
    _tickets_titled(stack, auth, "Forget me", "Carla too")
    context, page = _log_in(browser, stack, email, language, width, "/settings/privacy")

    # Exports: an address no contact has is refused beside the field, nothing recorded; then
    # Carla's data and the whole workspace, built side by side, each with its counts.
    exports = page.get_by_role("region", name=word("privacy.export_title"))
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@customer.test"
    refused = requests.post(
        f"{api}{EXPORTS}", json={"contact_email": nobody}, headers=auth, timeout=10
    )
    assert refused.status_code == 404, refused.text
    address = exports.get_by_label(word("privacy.export_email"))
    address.fill(nobody)
    exports.get_by_role("button", name=word("privacy.export_submit")).click()
    expect(address).to_have_attribute("aria-invalid", "true")
    assert refused.json()["error"]["code"] == "contact_not_found"
    expect(address).to_have_accessible_description(word("privacy.export_contact_not_found"))
    screen_checked(page, shot("export_unknown"), width, "an export refused for an unknown address")
    address.fill(carla)
    exports.get_by_role("button", name=word("privacy.export_submit")).click()
    expect(exports.locator(".export")).to_have_count(1)
    exports.get_by_label(word("privacy.export_scope_workspace")).check()
    exports.get_by_role("button", name=word("privacy.export_submit")).click()
    ready = word("privacy.export_status_ready")
    expect(exports.locator(".export-status")).to_have_text([ready, ready], timeout=30_000)
    listed = requests.get(f"{api}{EXPORTS}", headers=auth, timeout=10).json()["exports"]
    assert [(e["scope"], e["contact_email"]) for e in listed] == [
        ("workspace", None),
        ("contact", carla),
    ], listed
    whole, theirs = (
        exports.locator(".export").filter(has_text=word("privacy.export_subject_workspace")),
        exports.locator(".export").filter(has_text=carla),
    )
    for entry, record in ((whole, listed[0]), (theirs, listed[1])):
        for name, count in record["counts"].items():
            if count:
                expect(entry).to_contain_text(word(f"privacy.exported_{name}", count=count))
        asked = word("privacy.export_asked", who="Erin", when="WHEN").split("WHEN")[0]
        expect(entry).to_contain_text(asked.strip())
    assert listed[1]["counts"]["contact"] == 1 and listed[1]["counts"]["tickets"] == 1, listed
    assert listed[0]["counts"]["contacts"] == 2 and listed[0]["counts"]["tickets"] == 2, listed
    screen_checked(page, shot("exports_ready"), width, "two exports ready, with their counts")

    # Download reads the export again for a fresh link, then goes to the bucket's object.
    read = []
    page.on("request", lambda r: read.append(r.url))
    bundle = f"exports/{workspace['id']}/{listed[1]['id']}.zip"
    with page.expect_request(lambda r: bundle in r.url and "X-Amz-" in r.url) as presigned:
        theirs.get_by_role("button", name=word("privacy.export_download")).click()
    assert "X-Amz-Signature=" in presigned.value.url
    assert any(u.endswith(f"{EXPORTS}/{listed[1]['id']}") for u in read), read

    # Erasing a person: the address, what happens, the address again; then the log.
    erasure = page.get_by_role("region", name=word("privacy.erasure_title"))
    erasure.get_by_label(word("privacy.erasure_email")).fill(carla)
    erasure.get_by_role("button", name=word("privacy.erasure_continue")).click()
    confirm = erasure.get_by_role("form", name=word("privacy.erasure_confirm_title", email=carla))
    for effect in ("tickets", "mentions", "bookings", "final"):
        expect(confirm).to_contain_text(word(f"privacy.erasure_effect_{effect}"))
    again = confirm.get_by_label(word("privacy.erasure_type_again"))
    again.fill(f"x{carla}")
    confirm.get_by_role("button", name=word("privacy.erasure_submit")).click()
    expect(confirm).to_contain_text(word("privacy.erasure_mismatch"))
    again.fill(carla.upper())
    screen_checked(page, shot("erasure_confirm"), width, "the erasure's confirmation")
    confirm.get_by_role("button", name=word("privacy.erasure_submit")).click()
    entry = erasure.locator(".erasure").first
    expect(entry.locator(".erasure-status")).to_have_text(
        word("privacy.erasure_status_done"), timeout=30_000
    )
    [record] = requests.get(f"{api}/v1/privacy/erasures", headers=auth, timeout=10).json()[
        "erasures"
    ]
    assert record["status"] == "done" and record["counts"]["tickets"] == 1, record
    for name, count in record["counts"].items():
        if count:
            expect(entry).to_contain_text(word(f"privacy.erased_{name}", count=count))
    expect(entry).to_contain_text(word("privacy.erasure_progress", count=7, total=7))
    expect(entry).to_contain_text(word("privacy.erasure_address_gone"))
    expect(entry).to_contain_text("Erin")
    expect(erasure).not_to_contain_text(carla)
    screen_checked(page, shot("erasure_done"), width, "an erasure done, with its counts")

    # Retention: closed tickets deleted 12 months after their last activity, kept on reload.
    retention = page.get_by_role("region", name=word("privacy.retention_title"))
    retention.get_by_label(word("privacy.retention_after")).check()
    retention.get_by_label(word("privacy.retention_months"), exact=True).fill("12")
    retention.get_by_role("button", name=word("privacy.retention_save")).click()
    expect(retention.get_by_role("status")).to_contain_text(
        word("privacy.retention_now_months", count=12)
    )
    screen_checked(page, shot("retention"), width, "retention saved")
    page.reload()
    retention = page.get_by_role("region", name=word("privacy.retention_title"))
    expect(retention.get_by_label(word("privacy.retention_months"), exact=True)).to_have_value("12")
    expect(retention.get_by_label(word("privacy.retention_after"))).to_be_checked()
    policy = requests.get(f"{api}/v1/privacy/retention", headers=auth, timeout=10).json()
    assert policy["closed_tickets_after_months"] == 12, policy
    # The erasure deleted both bundles (each held Carla); the log keeps them, without her address.
    exports = page.get_by_role("region", name=word("privacy.export_title"))
    expired = word("privacy.export_status_expired")
    expect(exports.locator(".export-status")).to_have_text([expired, expired])
    expect(exports.locator(".export").first).to_contain_text(word("privacy.export_withdrawn"))
    expect(exports).to_contain_text(word("privacy.export_address_gone"))
    expect(exports).not_to_contain_text(carla)

    # Deleting the workspace: its short name typed, the date on a banner, then cancelled.
    page.get_by_role("navigation", name=word("settings.sections")).get_by_role(
        "link", name=word("settings.workspace")
    ).click()
    zone = page.get_by_role("region", name=word("workspace_deletion.title"))
    zone.get_by_role("button", name=word("workspace_deletion.button")).click()
    dialog = page.get_by_role("dialog", name=word("workspace_deletion.dialog_title"))
    slug = workspace["slug"]
    dialog.get_by_label(word("workspace_deletion.type_slug", slug=slug)).fill(slug)
    screen_checked(page, shot("deletion_dialog"), width, "the workspace deletion dialog")
    dialog.get_by_role("button", name=word("workspace_deletion.confirm")).click()
    expect(zone.get_by_role("status")).to_have_text(word("workspace_deletion.scheduled"))
    scheduled = requests.get(f"{api}{DELETION}", headers=auth, timeout=10).json()
    assert scheduled["status"] == "scheduled", scheduled
    date = _shown_date(page, scheduled["delete_at"], language)
    banner = page.get_by_role("region", name=word("workspace_deletion.banner_label"))
    expect(banner).to_contain_text(word("workspace_deletion.banner_scheduled", date=date))
    expect(zone).to_contain_text(word("workspace_deletion.banner_scheduled", date=date))
    screen_checked(page, shot("deletion_scheduled"), width, "a workspace deletion scheduled")
    zone.get_by_role("button", name=word("workspace_deletion.cancel")).click()
    expect(zone.get_by_role("status")).to_have_text(word("workspace_deletion.canceled"))
    expect(banner).to_have_count(0)
    assert requests.get(f"{api}{DELETION}", headers=auth, timeout=10).json()["status"] == "none"
    context.close()
