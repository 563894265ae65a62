"""HTTPS for help-centre domains: the settings API and the scheduled job, with the real
Cloudflare adapter talking to the fake Cloudflare API over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.kb.domains import instruction
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.cloudflare import FakeCloudflare
from tests.integration.conftest import MovableClock

TARGET = "customers.helptal.test"
SECRET = "test-domain-verification-secret"


class Dns:
    """Every workspace's ownership TXT record is published (the customer did their part)."""

    def __init__(self) -> None:
        self.workspaces: list[str] = []

    def txt_records(self, name):
        domain = name.removeprefix("_helptal.")
        return [instruction(SECRET, ws, domain).record_value for ws in self.workspaces]


def _forget_cloudflare() -> None:
    reload_settings()
    bootstrap.custom_hostname_provider.cache_clear()


@pytest.fixture(scope="module")
def cloudflare_server():
    server = FakeCloudflare(api_token="cf-test-token", zone_id="zone-test").start()
    yield server
    server.stop()


@pytest.fixture()
def cloudflare(cloudflare_server, monkeypatch):
    """Cloudflare for SaaS configured, pointed at the fake."""
    cloudflare_server.reset()
    monkeypatch.setenv("CLOUDFLARE_API_BASE", cloudflare_server.url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", cloudflare_server.api_token)
    monkeypatch.setenv("CLOUDFLARE_ZONE_ID", cloudflare_server.zone_id)
    monkeypatch.setenv("HELP_CENTRE_CNAME_TARGET", TARGET)
    _forget_cloudflare()
    yield cloudflare_server
    monkeypatch.undo()
    _forget_cloudflare()


@pytest.fixture()
def now(monkeypatch) -> MovableClock:
    clock = MovableClock()
    monkeypatch.setattr(bootstrap, "clock", lambda: clock)
    return clock


@pytest.fixture()
def dns(monkeypatch) -> Dns:
    published = Dns()
    monkeypatch.setattr(bootstrap, "dns_resolver", lambda: published)
    return published


@pytest.fixture()
def owner(api, dns):
    signed_up = api.sign_up(workspace="Acme Support")
    dns.workspaces.append(signed_up["workspace"]["id"])
    return signed_up["token"]


def _settings(api, token):
    status, body, _ = api.request("GET", "/v1/kb/settings", token=token)
    assert status == 200, body
    return body


def _set_domain(api, token, domain):
    status, body, _ = api.request("PUT", "/v1/kb/settings", {"custom_domain": domain}, token=token)
    assert status == 200, body
    return body


def _verify(api, token):
    return api.request("POST", "/v1/kb/settings/verify-domain", token=token)


def _run_job(now: MovableClock, **later: float) -> dict:
    """The schedule fires `later` from now, as CloudWatch Events would deliver it."""
    from chalice.test import Client

    from tests.stages import TEST_STAGE

    now.advance(**later)
    with Client(app, stage_name=TEST_STAGE) as client:
        event = client.events.generate_cw_event(
            source="aws.events",
            detail_type="Scheduled Event",
            detail={},
            resources=["arn:aws:events:ap-southeast-1:123456789012:rule/custom_hostnames_job"],
        )
        event["time"] = now.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return client.lambda_.invoke("custom_hostnames_job", event).payload


def test_verifying_a_domain_creates_its_hostname_and_shows_every_record_to_create(
    api, cloudflare, owner, now
):
    before = _set_domain(api, owner, "Help.Acme.test")
    assert before["https"]["status"] == "awaiting_verification"
    assert [(r["purpose"], r["type"], r["name"], r["value"]) for r in before["dns_records"]] == [
        ("routing", "CNAME", "help.acme.test", TARGET),
        ("domain_ownership", "TXT", before["dns_record"]["name"], before["dns_record"]["value"]),
    ]
    assert cloudflare.hostnames == {}  # nothing is created for an unproven domain

    status, verified, _ = _verify(api, owner)

    assert status == 200, verified
    created = cloudflare.by_name("help.acme.test")
    assert created is not None and created.ssl_method == "http"
    https = verified["https"]
    assert (https["status"], https["hostname_status"], https["certificate_status"]) == (
        "pending",
        "pending",
        "pending_validation",
    )
    assert f"help.acme.test -> {TARGET}" in https["explanation"]
    assert https["checked_at"] is not None
    assert ("cloudflare_ownership", "TXT", "_cf-custom-hostname.help.acme.test") in [
        (r["purpose"], r["type"], r["name"]) for r in verified["dns_records"]
    ]
    assert _settings(api, owner)["dns_records"] == verified["dns_records"]


def test_reading_the_settings_turns_a_pending_hostname_active_asking_at_most_once_a_minute(
    api, cloudflare, owner, now
):
    _set_domain(api, owner, "help.acme.test")
    _verify(api, owner)
    cloudflare.activate("help.acme.test")
    reads = len(cloudflare.calls("GET"))

    now.advance(seconds=30)
    assert _settings(api, owner)["https"]["status"] == "pending"  # asked 30 s ago
    assert len(cloudflare.calls("GET")) == reads
    now.advance(seconds=31)
    https = _settings(api, owner)["https"]
    assert (https["status"], https["certificate_status"]) == ("active", "active")
    assert "https://help.acme.test" in https["explanation"]
    assert len(cloudflare.calls("GET")) == reads + 1
    now.advance(minutes=5)
    assert _settings(api, owner)["https"]["status"] == "active"
    assert len(cloudflare.calls("GET")) == reads + 1


def test_the_scheduled_job_moves_pending_hostnames_on_until_they_are_active(
    api, cloudflare, owner, now
):
    _set_domain(api, owner, "help.acme.test")
    _verify(api, owner)

    assert _run_job(now, seconds=61)["pending"] == 1
    assert _settings(api, owner)["https"]["status"] == "pending"
    cloudflare.step("help.acme.test")
    _run_job(now, seconds=61)
    assert _settings(api, owner)["https"]["certificate_status"] == "pending_issuance"
    cloudflare.activate("help.acme.test")
    assert _run_job(now, seconds=61)["active"] == 1
    assert _settings(api, owner)["https"]["status"] == "active"
    assert _run_job(now, seconds=61)["taken"] == 0  # an active hostname leaves the due list


def test_the_local_event_pump_fires_the_job_with_its_own_time(api, cloudflare, owner, now):
    _set_domain(api, owner, "help.acme.test")
    _verify(api, owner)
    cloudflare.activate("help.acme.test")
    # Events carry whole seconds: start the pump's clock a little after the check was set.
    moment = [now.now().timestamp() + 2]
    pump = EventPump.from_app(app, wait_seconds=0, clock=lambda: moment[0])

    moment[0] += 60  # a minute on: the schedule is due, and so is the hostname's check
    assert "custom_hostnames_job" in pump.fire_due_schedules()

    # The settings read asks nothing (checked by the job a moment ago).
    reads = len(cloudflare.calls("GET"))
    assert _settings(api, owner)["https"]["status"] == "active"
    assert len(cloudflare.calls("GET")) == reads


def test_a_create_whose_answer_was_lost_leaves_one_hostname(api, cloudflare, owner, now):
    _set_domain(api, owner, "help.acme.test")
    cloudflare.lose_next_answers(1)

    status, verified, _ = _verify(api, owner)

    assert status == 200 and verified["domain_verified"] is True
    assert verified["https"]["status"] == "retrying"
    assert len(cloudflare.hostnames) == 1  # created, though we never heard back
    _run_job(now, seconds=61)
    assert len(cloudflare.hostnames) == 1
    https = _settings(api, owner)["https"]
    assert (https["status"], https["hostname_status"]) == ("pending", "pending")


def test_changing_the_domain_deletes_the_old_hostname_at_cloudflare(api, cloudflare, owner, now):
    _set_domain(api, owner, "help.acme.test")
    _verify(api, owner)

    changed = _set_domain(api, owner, "support.acme.test")

    assert cloudflare.hostnames == {}
    assert changed["https"]["status"] == "awaiting_verification"
    assert changed["dns_records"][0]["name"] == "support.acme.test"
    _verify(api, owner)
    assert [h.hostname for h in cloudflare.hostnames.values()] == ["support.acme.test"]
    removed = _set_domain(api, owner, "")
    assert cloudflare.hostnames == {}
    assert (removed["https"]["status"], removed["dns_records"]) == ("no_domain", [])


def test_cloudflare_failing_never_fails_the_api_and_the_job_retries(api, cloudflare, owner, now):
    _set_domain(api, owner, "help.acme.test")
    cloudflare.fail_next(503, times=2)

    status, verified, _ = _verify(api, owner)
    assert status == 200, verified
    assert verified["https"]["status"] == "retrying"
    assert "503" in verified["https"]["explanation"]
    assert _settings(api, owner)["https"]["status"] == "retrying"
    assert _run_job(now, seconds=61)["retrying"] == 1  # Cloudflare still failing
    assert cloudflare.hostnames == {}
    assert _run_job(now, seconds=30)["taken"] == 0  # backing off (2 minutes now)
    assert _run_job(now, seconds=91)["pending"] == 1
    assert _settings(api, owner)["https"]["status"] == "pending"

    cloudflare.fail_next(500, times=1)
    status, removed, _ = api.request("PUT", "/v1/kb/settings", {"custom_domain": ""}, token=owner)
    assert status == 200 and removed["custom_domain"] is None
    assert len(cloudflare.hostnames) == 1  # its deletion failed: the job retries it
    assert _run_job(now, seconds=61)["released"] == 1
    assert cloudflare.hostnames == {}


def test_without_cloudflare_the_settings_say_certificates_are_not_configured(api, owner, now):
    _set_domain(api, owner, "help.acme.test")
    status, verified, _ = _verify(api, owner)
    assert status == 200
    assert verified["url"] == "https://help.acme.test"
    https = verified["https"]
    assert https["status"] == "not_configured"
    assert "not configured" in https["explanation"]
    assert _run_job(now, seconds=61) == {
        "taken": 0,
        "active": 0,
        "pending": 0,
        "failed": 0,
        "released": 0,
        "retrying": 0,
    }


def test_a_workspace_never_sees_or_changes_another_workspaces_hostname(
    api, cloudflare, owner, dns, now
):
    _set_domain(api, owner, "help.acme.test")
    _verify(api, owner)
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    dns.workspaces.append(other["workspace"]["id"])  # even with its own TXT record published
    token = other["token"]

    claimed = _set_domain(api, token, "help.acme.test")
    assert claimed["https"]["status"] == "awaiting_verification"
    assert {r["purpose"] for r in claimed["dns_records"]} == {"routing", "domain_ownership"}
    status, body, _ = _verify(api, token)
    assert (status, body["error"]["code"]) == (409, "domain_taken")
    _set_domain(api, token, "")
    assert [h.hostname for h in cloudflare.hostnames.values()] == ["help.acme.test"]
    assert _settings(api, owner)["https"]["status"] == "pending"

    # The owner lets the domain go while Cloudflare fails: until the old hostname is deleted
    # the domain stays taken, so the other workspace can never adopt the owner's hostname.
    cloudflare.fail_next(503, times=1)
    _set_domain(api, owner, "")
    _set_domain(api, token, "help.acme.test")
    status, body, _ = _verify(api, token)
    assert (status, body["error"]["code"]) == (409, "domain_taken")
    old = cloudflare.by_name("help.acme.test")
    _run_job(now, seconds=61)
    status, body, _ = _verify(api, token)
    assert status == 200, body
    new = cloudflare.by_name("help.acme.test")
    assert new is not None and new.id != old.id
    assert body["https"]["status"] == "pending"
    assert _settings(api, owner)["https"]["status"] == "no_domain"


def test_when_cloudflare_was_last_asked_is_shown_in_utc(api, cloudflare, owner, now):
    _set_domain(api, owner, "help.acme.test")
    checked = _verify(api, owner)[1]["https"]["checked_at"]
    seen = datetime.fromisoformat(checked.replace("Z", "+00:00"))
    assert abs(seen - now.now().astimezone(UTC)) < timedelta(seconds=5)
