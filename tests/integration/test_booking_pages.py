"""The public booking pages: the workspace's event types, an event type's booking page and a
booking's manage page, on the API's host and on a verified help-centre domain, in English and
French, with a strict policy, and never a member's e-mail address or another page's token."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.booking import manage_links
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    EventType,
    HostMode,
    Invitee,
    Location,
    LocationKind,
    Question,
    QuestionKind,
)
from chalicelib.booking.store_port import BookingCommit
from chalicelib.settings import get_settings

HTML = {"Accept": "text/html"}
OWNER_EMAIL = "ann@acme.test"


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def _get(api, path, **headers):
    response = api.client.http.get(path, headers={**HTML, **headers})
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return response.status_code, body, response.headers


def _event_type(workspace_id: str, host_id: str, slug: str, **fields) -> EventType:
    now = datetime.now(UTC)
    values = {
        "workspace_id": workspace_id,
        "id": f"et_{slug}",
        "slug": slug,
        "title": "Intro call",
        "description": "A **short** call.",
        "description_html": "<p>A <strong>short</strong> call to get to know you.</p>",
        "durations": [30, 60],
        "location": Location(LocationKind.ZOOM),
        "host_mode": HostMode.ONE,
        "host_ids": [host_id],
        "time_zone": "Europe/Paris",
        "questions": [
            Question("topic", "What would you like to talk about?", QuestionKind.LONG_TEXT, True),
            Question("plan", "Plan", QuestionKind.CHOICE, False, ["Starter", "Pro"]),
        ],
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return EventType(**values)


@pytest.fixture()
def workspace(api):
    owner = api.sign_up(workspace="Acme Support", email=OWNER_EMAIL, name="Ann Owner")
    ws, user = owner["workspace"], owner["user"]
    store = bootstrap.booking_deps().store
    store.create_event_type(_event_type(ws["id"], user["id"], "intro"))
    store.create_event_type(
        _event_type(
            ws["id"],
            user["id"],
            "secret-demo",
            title="Private demo",
            public=False,
            location=Location(LocationKind.PHONE),
        )
    )
    store.create_event_type(
        _event_type(ws["id"], user["id"], "retired", title="Old offer", active=False)
    )
    return {"slug": ws["slug"], "id": ws["id"], "user_id": user["id"], "token": owner["token"]}


def _booking(workspace, status=BookingStatus.CONFIRMED, start_in=timedelta(days=3)):
    start = (datetime.now(UTC) + start_in).replace(second=0, microsecond=0)
    booking = Booking(
        workspace_id=workspace["id"],
        id=f"bk_{status.value}_{int(start_in.total_seconds())}",
        event_type_id="et_intro",
        event_type_slug="intro",
        title="Intro call",
        host_ids=[workspace["user_id"]],
        start=start,
        end=start + timedelta(minutes=30),
        buffer_before=0,
        buffer_after=0,
        invitee=Invitee("Zoé Client", "zoe@client.test", "Europe/Paris", "fr"),
        answers={"topic": "Factures"},
        status=status,
        location=Location(LocationKind.ZOOM),
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    bootstrap.booking_deps().store.commit_booking(BookingCommit(booking, None))
    token = manage_links.issue(
        get_settings().reply_address_secret,
        manage_links.ManageGrant(booking.workspace_id, booking.id),
    )
    return booking, token


def test_the_workspace_page_lists_its_public_active_event_types_in_english_and_french(
    api, workspace
):
    status, english, headers = _get(api, f"/book/{workspace['slug']}?lang=en")
    assert status == 200
    assert '<html lang="en">' in english
    assert "Book a meeting with Acme Support" in english
    assert f"/book/{workspace['slug']}/intro" in english
    assert "30 / 60 min" in english and "Zoom video call" in english
    assert "A short call to get to know you." in english  # the description's excerpt, as text
    assert "Private demo" not in english and "Old offer" not in english
    assert OWNER_EMAIL not in english
    assert headers["Cache-Control"] == "public, max-age=60"
    assert "script-src" not in headers["Content-Security-Policy"]
    assert "<script" not in english

    status, french, _ = _get(api, f"/book/{workspace['slug']}", **{"Accept-Language": "fr-FR"})
    assert status == 200
    assert '<html lang="fr">' in french
    assert "Réserver un créneau avec Acme Support" in french
    assert "Visioconférence Zoom" in french


def test_the_booking_page_shows_the_event_and_its_form_and_runs_only_the_sites_script(
    api, workspace
):
    status, html, headers = _get(api, f"/book/{workspace['slug']}/intro?lang=fr")
    assert status == 200
    assert '<h1 id="bk-title">Intro call</h1>' in html
    assert "<strong>short</strong>" in html  # description_html as sanitised by the core
    assert "Ann Owner" in html and OWNER_EMAIL not in html
    assert "Choisissez un horaire" in html and "Fuseau horaire" in html
    assert "What would you like to talk about?" in html and "<option>Pro</option>" in html
    assert f'data-api="/v1/booking/{workspace["slug"]}/intro"' in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 1
    assert re.search(r'src="/book/booking\.js\?v=[0-9a-f]+"', scripts[0][0])
    assert not scripts[0][1].strip()
    directives = _directives(headers["Content-Security-Policy"])
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert not re.search(r"\sstyle=", html)
    assert headers["Cache-Control"] == "public, max-age=60"

    # An unlisted event type opens by its link; the English page says the same in English.
    status, unlisted, _ = _get(api, f"/book/{workspace['slug']}/secret-demo?lang=en")
    assert status == 200
    assert "Private demo" in unlisted and "Choose a time" in unlisted


@pytest.mark.parametrize(
    "path", ["/book/no-such-workspace", "/book/no-such-workspace/intro", "/book"]
)
def test_an_unknown_workspace_gets_a_404_page_that_names_no_workspace(api, workspace, path):
    status, html, headers = _get(api, path)
    assert status == 404
    assert "Page not found" in html and "Page introuvable" in html
    assert "Acme" not in html
    assert headers["Cache-Control"] == "no-store"
    assert "script-src" not in headers["Content-Security-Policy"]


@pytest.mark.parametrize("slug", ["no-such-type", "retired"])
def test_an_unknown_or_inactive_event_type_gets_the_workspaces_404_page(api, workspace, slug):
    status, html, headers = _get(api, f"/book/{workspace['slug']}/{slug}?lang=fr")
    assert status == 404
    assert "Page introuvable" in html and "Acme Support" in html
    assert "<script" not in html
    assert headers["Cache-Control"] == "no-store"


@pytest.fixture()
def verified_domain(api, workspace, monkeypatch):
    status, settings, _ = api.request(
        "PUT", "/v1/kb/settings", {"custom_domain": "help.acme.test"}, token=workspace["token"]
    )
    assert status == 200
    record = settings["dns_record"]

    class Resolver:
        def txt_records(self, name):
            return [record["value"]] if name == record["name"] else []

    monkeypatch.setattr(bootstrap, "dns_resolver", Resolver)
    status, body, _ = api.request("POST", "/v1/kb/settings/verify-domain", token=workspace["token"])
    assert status == 200, body
    return "help.acme.test"


def test_on_the_help_centre_domain_the_host_names_the_workspace(api, workspace, verified_domain):
    host = {"Host": verified_domain}
    status, listing, _ = _get(api, "/book?lang=en", **host)
    assert status == 200
    assert "Book a meeting with Acme Support" in listing
    assert "https://help.acme.test/book/intro" in listing

    status, page, _ = _get(api, "/book/intro?lang=en", **host)
    assert status == 200
    assert "Intro call" in page
    assert 'data-api="/v1/booking/' + workspace["slug"] + '/intro"' in page

    # The API host's longer address is not a page of the domain.
    status, _, _ = _get(api, f"/book/{workspace['slug']}/intro", **host)
    assert status == 404
    # Another (unverified) domain is no workspace's.
    status, html, _ = _get(api, "/book/intro", Host="help.other.test")
    assert status == 404 and "Acme" not in html


def test_the_manage_page_shows_the_booking_privately_and_offers_to_move_or_cancel_it(
    api, workspace
):
    booking, token = _booking(workspace)
    status, html, headers = _get(api, f"/book/manage/{token}")
    assert status == 200
    assert '<html lang="fr">' in html  # the language the invitee booked in
    assert "Votre réservation" in html and "Confirmée" in html
    assert "Déplacer la réservation" in html and "Annuler la réservation" in html
    assert booking.start.strftime("%Y-%m-%dT%H:%M:%SZ") in html
    assert OWNER_EMAIL not in html
    assert 'data-api="/v1/booking/manage"' in html  # the script reads the token from the URL
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert _directives(headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert '<meta name="robots" content="noindex">' in html

    status, english, _ = _get(api, f"/book/manage/{token}?lang=en")
    assert status == 200 and "Your booking" in english and "Reschedule" in english

    # The booking pages that are not the manage page never carry the token.
    for path in (f"/book/{workspace['slug']}", f"/book/{workspace['slug']}/intro"):
        assert token not in _get(api, path)[1]


def test_a_cancelled_bookings_page_says_so_and_offers_no_change(api, workspace):
    _, token = _booking(workspace, BookingStatus.CANCELLED)
    status, html, _ = _get(api, f"/book/manage/{token}?lang=en")
    assert status == 200
    assert "This booking was cancelled." in html
    assert "Cancelled" in html
    assert 'id="bk-reschedule"' not in html and "<script" not in html


def test_a_forged_manage_link_or_one_on_another_workspaces_domain_is_not_found(
    api, workspace, verified_domain
):
    _, token = _booking(workspace)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    status, html, _ = _get(api, f"/book/manage/{forged}")
    assert status == 404 and "Acme" not in html

    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    store = bootstrap.booking_deps().store
    store.create_event_type(_event_type(other["workspace"]["id"], other["user"]["id"], "intro"))
    globex = {
        "id": other["workspace"]["id"],
        "user_id": other["user"]["id"],
        "slug": other["workspace"]["slug"],
    }
    _, globex_token = _booking(globex)
    status, html, _ = _get(api, f"/book/manage/{globex_token}", Host=verified_domain)
    assert status == 404 and "Globex" not in html
    status, html, _ = _get(api, f"/book/manage/{token}", Host=verified_domain)
    assert status == 200 and "Intro call" in html


def test_the_script_is_served_with_an_etag_and_gzipped_under_20_kb(api):
    response = api.client.http.get(
        "/book/booking.js", headers={"Accept": "*/*", "Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.body) < 20_000
    assert b"use strict" in gzip.decompress(response.body)
    again = api.client.http.get(
        "/book/booking.js",
        headers={
            "Accept": "*/*",
            "Accept-Encoding": "gzip",
            "If-None-Match": response.headers["ETag"],
        },
    )
    assert again.status_code == 304


@pytest.fixture()
def turnstile(monkeypatch, workspace):
    from chalicelib.settings import reload_settings

    monkeypatch.setenv("TURNSTILE_SITE_KEY", "ts-site-key")
    monkeypatch.setenv("TURNSTILE_SECRET_KEY", "ts-secret")
    reload_settings()
    bootstrap.reset()
    yield
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


def test_with_turnstile_the_booking_form_shows_its_widget_and_the_policy_allows_it_alone(
    api, workspace, turnstile
):
    status, html, headers = _get(api, f"/book/{workspace['slug']}/intro?lang=fr")
    assert status == 200
    assert '<div class="cf-turnstile" data-sitekey="ts-site-key" data-language="fr">' in html
    directives = _directives(headers["Content-Security-Policy"])
    turnstile_origin = "https://challenges.cloudflare.com"
    assert directives["script-src"] == ["'self'", turnstile_origin]
    assert directives["frame-src"] == [turnstile_origin]
    assert directives["connect-src"] == ["'self'", turnstile_origin]
