"""HTTPS for help-centre domains (Cloudflare for SaaS custom hostnames): the domain rules,
against in-memory fakes of the settings store and of Cloudflare."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.accounts.model import Credential, CredentialKind, Principal, Role
from chalicelib.errors import Conflict, ProviderRejected, ProviderUnavailable
from chalicelib.kb import custom_hostnames as ch
from chalicelib.kb.custom_hostnames import (
    CustomHostname,
    DnsRecord,
    HostnameAlreadyExists,
    HostnameDeps,
    HostnamePolicy,
    HostnameWrite,
    ProviderHostname,
    RecordPurpose,
    StaleHostname,
)
from chalicelib.kb.domain_setup import HttpsStatus, domain_setup
from chalicelib.kb.domains import instruction
from chalicelib.kb.helpcentre_settings import DomainTakenError, update, verify_domain
from chalicelib.kb.helpcentre_site import HelpCentreSettings

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
SECRET = "secret"
TARGET = "customers.helptal.test"


# -- in-memory fakes of the ports ---------------------------------------------------------------


class MemoryHelpCentre:
    """The settings store and the custom-hostname store, with the same conditions as the
    DynamoDB adapter (claims unique, records written under their revision)."""

    def __init__(self) -> None:
        self.settings: dict[str, HelpCentreSettings] = {}
        self.claims: dict[str, str] = {}
        self.hostnames: dict[str, CustomHostname] = {}

    def get_settings(self, workspace_id):
        return self.settings.get(workspace_id)

    def _check(self, write: HostnameWrite | None) -> None:
        if write is None:
            return
        current = self.hostnames.get(write.after.domain)
        if write.before is None:
            if current is not None:
                if current.workspace_id != write.after.workspace_id:
                    raise DomainTakenError()
                raise StaleHostname()
        elif current is None or current.revision != write.before.revision:
            raise StaleHostname()

    def save_settings(self, workspace_id, before, settings, hostname=None):
        self._check(hostname)
        self.settings[workspace_id] = settings
        old = before.custom_domain if before and before.domain_verified else None
        if old and (old != settings.custom_domain or not settings.domain_verified):
            self.claims.pop(old, None)
        if hostname:
            self.hostnames[hostname.after.domain] = hostname.after

    def mark_verified(self, workspace_id, settings, hostname=None):
        if self.claims.get(settings.custom_domain, workspace_id) != workspace_id:
            raise DomainTakenError()
        self._check(hostname)
        self.claims[settings.custom_domain] = workspace_id
        self.settings[workspace_id] = settings
        if hostname:
            self.hostnames[hostname.after.domain] = hostname.after

    def get_hostname(self, workspace_id, domain):
        record = self.hostnames.get(domain)
        return record if record and record.workspace_id == workspace_id else None

    def save_hostname(self, before, after):
        current = self.hostnames.get(before.domain)
        if current is None or current.revision != before.revision:
            raise StaleHostname()
        self.hostnames[after.domain] = after

    def delete_hostname(self, before):
        current = self.hostnames.get(before.domain)
        if current is None or current.revision != before.revision:
            raise StaleHostname()
        del self.hostnames[before.domain]

    def due_hostnames(self, now, limit):
        due = [r for r in self.hostnames.values() if r.next_check_at and r.next_check_at <= now]
        return sorted(due, key=lambda r: r.next_check_at)[:limit]


class MemoryCloudflare:
    """Custom hostnames of one zone; `down` fails every call, `lose_answers` lets calls
    take effect and then fail, like an answer lost on its way back."""

    def __init__(self) -> None:
        self.hostnames: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.lose_answers = 0
        self.refuse: str | None = None

    def _call(self, name: str, argument: str) -> None:
        self.calls.append((name, argument))
        if self.down:
            raise ProviderUnavailable("cloudflare answered 503")

    def _answer(self, found: dict) -> ProviderHostname:
        if self.lose_answers:
            self.lose_answers -= 1
            raise ProviderUnavailable("cloudflare unreachable: ReadTimeout")
        return ProviderHostname(
            id=found["id"],
            hostname=found["hostname"],
            status=found["status"],
            certificate_status=found["ssl"],
            records=(
                DnsRecord(
                    RecordPurpose.CLOUDFLARE_OWNERSHIP,
                    f"_cf-custom-hostname.{found['hostname']}",
                    "TXT",
                    "owner-token",
                ),
            ),
            problems=("custom hostname does not CNAME to this zone.",)
            if found["status"] != "active"
            else (),
        )

    def create(self, hostname):
        self._call("create", hostname)
        if self.refuse:
            raise ProviderRejected(self.refuse)
        if any(h["hostname"] == hostname for h in self.hostnames.values()):
            raise HostnameAlreadyExists("1406: Duplicate custom hostname found.")
        found = {
            "id": str(uuid.uuid4()),
            "hostname": hostname,
            "status": "pending",
            "ssl": "pending_validation",
        }
        self.hostnames[found["id"]] = found
        return self._answer(found)

    def get(self, hostname_id):
        self._call("get", hostname_id)
        found = self.hostnames.get(hostname_id)
        return self._answer(found) if found else None

    def find(self, hostname):
        self._call("find", hostname)
        found = next((h for h in self.hostnames.values() if h["hostname"] == hostname), None)
        return self._answer(found) if found else None

    def revalidate(self, hostname_id):
        self._call("revalidate", hostname_id)
        found = self.hostnames.get(hostname_id)
        if found and found["ssl"].endswith("_timed_out"):
            found["ssl"] = "pending_validation"
        return self._answer(found) if found else None

    def delete(self, hostname_id):
        self._call("delete", hostname_id)
        self.hostnames.pop(hostname_id, None)

    def set(self, hostname, status, ssl):
        found = next(h for h in self.hostnames.values() if h["hostname"] == hostname)
        found.update(status=status, ssl=ssl)

    def names(self):
        return sorted(h["hostname"] for h in self.hostnames.values())


class Desk:
    """One deployment: its stores, its Cloudflare, and workspaces acting on them."""

    def __init__(self, configured: bool = True) -> None:
        self.store = MemoryHelpCentre()
        self.cloudflare = MemoryCloudflare()
        self.deps = HostnameDeps(
            store=self.store,
            provider=self.cloudflare if configured else None,
            policy=HostnamePolicy(cname_target=TARGET),
        )
        self.now = T0

    def later(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    @staticmethod
    def owner(workspace_id: str) -> Principal:
        credential = Credential("h", CredentialKind.SESSION, workspace_id, None, T0, "u")
        return Principal(workspace_id, Role.OWNER, credential, "u")

    def set_domain(self, workspace_id: str, domain: str) -> HelpCentreSettings:
        return update(
            self.store,
            self.deps,
            self.owner(workspace_id),
            HelpCentreSettings(name="Help"),
            self.now,
            name=None,
            brand_color=None,
            logo_url=None,
            default_locale=None,
            custom_domain=domain,
        )

    def verify(self, workspace_id: str) -> HelpCentreSettings:
        domain = self.store.settings[workspace_id].custom_domain
        record = instruction(SECRET, workspace_id, domain)

        class Resolver:
            def txt_records(self, name):
                return [record.record_value] if name == record.record_name else []

        return verify_domain(
            self.store,
            self.deps,
            Resolver(),
            SECRET,
            self.owner(workspace_id),
            HelpCentreSettings(name="Help"),
            self.now,
        )

    def setup(self, workspace_id: str, refresh: bool = True):
        settings = self.store.settings[workspace_id]
        ownership = (
            instruction(SECRET, workspace_id, settings.custom_domain)
            if settings.custom_domain
            else None
        )
        return domain_setup(self.deps, workspace_id, settings, ownership, self.now, refresh=refresh)

    def job(self):
        return ch.run_due(self.deps, self.now)


@pytest.fixture()
def desk() -> Desk:
    return Desk()


# -- creation -----------------------------------------------------------------------------------


def test_setting_a_domain_requests_nothing_until_it_is_verified(desk):
    desk.set_domain("ws1", "help.acme.test")
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.AWAITING_VERIFICATION
    assert desk.cloudflare.calls == []
    assert [(r.purpose, r.type) for r in setup.dns_records] == [
        (RecordPurpose.ROUTING, "CNAME"),
        (RecordPurpose.DOMAIN_OWNERSHIP, "TXT"),
    ]
    assert setup.dns_records[0].name == "help.acme.test"
    assert setup.dns_records[0].value == TARGET


def test_verifying_the_domain_creates_its_hostname_and_shows_cloudflares_records(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")

    assert desk.cloudflare.names() == ["help.acme.test"]
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.PENDING
    assert setup.https.certificate_status == "pending_validation"
    assert f"help.acme.test -> {TARGET}" in setup.https.explanation
    assert "does not CNAME" in setup.https.explanation
    assert [r.purpose for r in setup.dns_records] == [
        RecordPurpose.ROUTING,
        RecordPurpose.DOMAIN_OWNERSHIP,
        RecordPurpose.CLOUDFLARE_OWNERSHIP,
    ]


def test_a_create_whose_answer_was_lost_is_adopted_not_created_twice(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.cloudflare.lose_answers = 1
    desk.verify("ws1")
    assert desk.setup("ws1").https.status is HttpsStatus.RETRYING

    desk.later(minutes=1)
    desk.job()

    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


def test_a_duplicate_answer_from_cloudflare_adopts_the_existing_hostname(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.cloudflare.create("help.acme.test")  # e.g. created by a run we never heard back from
    desk.verify("ws1")
    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


def test_cloudflare_down_at_verification_still_verifies_and_the_job_creates_it_later(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.cloudflare.down = True
    assert desk.verify("ws1").domain_verified

    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.RETRYING
    assert "retries automatically" in setup.https.explanation
    desk.cloudflare.down = False
    desk.later(seconds=30)
    assert desk.job().taken == 0  # backing off: the first retry is a minute after the failure
    desk.later(seconds=30)
    assert desk.job().pending == 1
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


def test_failures_in_a_row_back_off_up_to_an_hour():
    assert [ch.backoff(n) for n in (1, 2, 3, 7, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_hostname_cloudflare_refuses_shows_an_error_and_is_asked_again_on_verification(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.cloudflare.refuse = "1411: Custom hostname is invalid."
    desk.verify("ws1")
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.ERROR
    assert "Custom hostname is invalid" in setup.https.explanation
    desk.later(hours=2)
    assert desk.job().taken == 0  # nothing to retry until the customer acts

    desk.cloudflare.refuse = None
    desk.verify("ws1")
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


# -- polling ------------------------------------------------------------------------------------


def test_reading_the_settings_asks_cloudflare_at_most_once_a_minute(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.set("help.acme.test", "active", "active")
    desk.cloudflare.calls.clear()

    desk.later(seconds=20)
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING  # checked 20 s ago
    assert desk.cloudflare.calls == []
    desk.later(seconds=40)
    assert desk.setup("ws1").https.status is HttpsStatus.ACTIVE
    assert len(desk.cloudflare.calls) == 1
    desk.later(minutes=5)
    assert desk.setup("ws1").https.status is HttpsStatus.ACTIVE
    assert len(desk.cloudflare.calls) == 1  # active hostnames are not asked about


def test_the_job_turns_a_pending_hostname_active_and_then_leaves_it(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.later(minutes=1)
    assert desk.job().pending == 1
    desk.cloudflare.set("help.acme.test", "active", "active")
    desk.later(minutes=1)
    assert desk.job().active == 1
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.ACTIVE
    assert "https://help.acme.test" in setup.https.explanation
    desk.later(minutes=1)
    assert desk.job().taken == 0


def test_a_long_pending_hostname_is_checked_less_often(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.later(hours=2)
    desk.job()
    desk.later(minutes=5)
    assert desk.job().taken == 0
    desk.later(minutes=5)
    assert desk.job().taken == 1


def test_a_timed_out_validation_is_started_again_by_the_job(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.set("help.acme.test", "pending", "validation_timed_out")
    desk.later(minutes=1)
    desk.job()
    assert desk.cloudflare.calls[-1][0] == "revalidate"
    assert desk.setup("ws1").https.certificate_status == "pending_validation"


def test_verifying_again_asks_cloudflare_to_validate_again(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.verify("ws1")
    assert desk.cloudflare.calls[-1][0] == "revalidate"
    assert desk.cloudflare.names() == ["help.acme.test"]


def test_a_hostname_deleted_at_cloudflare_is_created_again(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.hostnames.clear()
    desk.later(minutes=1)
    desk.job()
    desk.later(seconds=1)
    desk.job()
    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


def test_two_overlapping_runs_never_work_on_the_same_hostname(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.later(minutes=1)
    stale = desk.store.due_hostnames(desk.now, 10)
    desk.job()
    calls = len(desk.cloudflare.calls)

    desk.store.due_hostnames = lambda now, limit: stale  # a run that read the list earlier
    assert desk.job().taken == 0
    assert len(desk.cloudflare.calls) == calls


# -- the domain leaving -------------------------------------------------------------------------


def test_changing_the_domain_deletes_the_old_hostname(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.set_domain("ws1", "support.acme.test")
    assert desk.cloudflare.names() == []
    assert desk.store.get_hostname("ws1", "help.acme.test") is None
    assert desk.setup("ws1").https.status is HttpsStatus.AWAITING_VERIFICATION


def test_a_failed_delete_is_retried_by_the_job_and_keeps_the_domain_taken(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.down = True
    desk.set_domain("ws1", "")  # removed: saved even though Cloudflare is down
    assert desk.store.settings["ws1"].custom_domain is None
    assert desk.cloudflare.names() == ["help.acme.test"]

    desk.set_domain("ws2", "help.acme.test")
    with pytest.raises(Conflict) as taken:
        desk.verify("ws2")  # until the old hostname is gone, ws2 could adopt ws1's
    assert taken.value.code == "domain_taken"

    desk.cloudflare.down = False
    desk.later(minutes=1)
    assert desk.job().released == 1
    assert desk.cloudflare.names() == []
    desk.verify("ws2")
    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.setup("ws2").https.status is HttpsStatus.PENDING


def test_a_hostname_already_gone_at_cloudflare_counts_as_deleted(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.hostnames.clear()
    desk.set_domain("ws1", "")
    assert desk.store.hostnames == {}


def test_a_delete_after_a_lost_create_finds_the_hostname_by_name(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.cloudflare.lose_answers = 1
    desk.verify("ws1")  # Cloudflare created it; we never heard its id
    desk.set_domain("ws1", "")
    assert desk.cloudflare.names() == []
    assert desk.store.hostnames == {}


def test_taking_a_domain_back_before_its_deletion_keeps_its_hostname(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.cloudflare.down = True
    desk.set_domain("ws1", "")
    desk.cloudflare.down = False
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    assert desk.cloudflare.names() == ["help.acme.test"]
    desk.later(hours=1)
    desk.job()
    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


# -- isolation and configuration ----------------------------------------------------------------


def test_another_workspace_never_sees_or_changes_a_hostname(desk):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    desk.set_domain("ws2", "help.acme.test")  # unverified: it claims nothing
    setup = desk.setup("ws2")
    assert setup.https.status is HttpsStatus.AWAITING_VERIFICATION
    assert all(r.purpose is not RecordPurpose.CLOUDFLARE_OWNERSHIP for r in setup.dns_records)
    with pytest.raises(Conflict):
        desk.verify("ws2")
    desk.set_domain("ws2", "")
    assert desk.cloudflare.names() == ["help.acme.test"]
    assert desk.store.get_hostname("ws2", "help.acme.test") is None
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


def test_without_cloudflare_nothing_is_requested_and_the_settings_say_so():
    desk = Desk(configured=False)
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.NOT_CONFIGURED
    assert "not configured" in setup.https.explanation
    assert desk.store.hostnames == {}
    assert ch.run_due(desk.deps, desk.later(minutes=1)).taken == 0


def test_a_domain_verified_before_cloudflare_was_configured_asks_to_verify_again(desk):
    desk.store.settings["ws1"] = HelpCentreSettings(
        name="Help", custom_domain="help.acme.test", domain_verified=True
    )
    setup = desk.setup("ws1")
    assert setup.https.status is HttpsStatus.NOT_REQUESTED
    desk.verify("ws1")
    assert desk.setup("ws1").https.status is HttpsStatus.PENDING


@pytest.mark.parametrize(
    ("certificate", "words"),
    [
        ("pending_issuance", "issuing"),
        ("pending_deployment", "deployed"),
        ("validation_timed_out", "timed out"),
    ],
)
def test_each_pending_step_is_explained(desk, certificate, words):
    desk.set_domain("ws1", "help.acme.test")
    desk.verify("ws1")
    record = desk.store.hostnames["help.acme.test"]
    desk.store.hostnames["help.acme.test"] = dataclasses.replace(
        record, certificate_status=certificate
    )
    assert words in desk.setup("ws1", refresh=False).https.explanation
