"""The Cloudflare custom-hostnames adapter against the fake Cloudflare API over HTTP."""

from __future__ import annotations

import pytest

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.kb.custom_hostnames import HostnameAlreadyExists, RecordPurpose
from chalicelib.providers.cloudflare import CloudflareCustomHostnames
from devstack.emulator import free_port
from fakes.cloudflare import FakeCloudflare


@pytest.fixture(scope="module")
def server():
    fake = FakeCloudflare(api_token="cf-token", zone_id="zone-1").start()
    yield fake
    fake.stop()


@pytest.fixture()
def fake(server):
    server.reset()
    return server


@pytest.fixture()
def cloudflare(fake):
    return CloudflareCustomHostnames(fake.url, "zone-1", "cf-token")


def test_create_asks_for_http_validation_with_tls_1_2_and_returns_what_cloudflare_asks(
    cloudflare, fake
):
    created = cloudflare.create("help.acme.test")

    (sent,) = fake.calls("POST")
    assert sent.body == {
        "hostname": "help.acme.test",
        "ssl": {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}},
    }
    assert (created.hostname, created.status) == ("help.acme.test", "pending")
    assert created.certificate_status == "pending_validation"
    ownership = [r for r in created.records if r.purpose is RecordPurpose.CLOUDFLARE_OWNERSHIP]
    assert [(r.name, r.type) for r in ownership] == [("_cf-custom-hostname.help.acme.test", "TXT")]
    assert "custom hostname does not CNAME to this zone." in created.problems


def test_a_hostname_is_read_by_id_and_found_by_name(cloudflare, fake):
    created = cloudflare.create("help.acme.test")
    cloudflare.create("help.other.test")
    fake.activate("help.acme.test")

    read = cloudflare.get(created.id)
    assert (read.status, read.certificate_status, read.problems) == ("active", "active", ())
    assert cloudflare.find("help.acme.test").id == created.id
    assert cloudflare.find("nobody.acme.test") is None
    assert fake.calls("GET")[-1].query == {"hostname": "nobody.acme.test"}


def test_a_second_create_of_one_hostname_is_reported_as_already_existing(cloudflare):
    cloudflare.create("help.acme.test")
    with pytest.raises(HostnameAlreadyExists, match="1406"):
        cloudflare.create("help.acme.test")


def test_revalidation_sends_the_same_ssl_block_again(cloudflare, fake):
    created = cloudflare.create("help.acme.test")
    assert cloudflare.revalidate(created.id).id == created.id
    (patch,) = fake.calls("PATCH")
    assert patch.body == {
        "ssl": {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}}
    }
    assert fake.by_name("help.acme.test").validations == 2


def test_an_unknown_id_reads_as_none_and_deleting_it_counts_as_done(cloudflare, fake):
    created = cloudflare.create("help.acme.test")
    cloudflare.delete(created.id)
    assert fake.hostnames == {}
    assert cloudflare.get(created.id) is None
    assert cloudflare.revalidate(created.id) is None
    cloudflare.delete(created.id)  # again: nothing to do, no error


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_worth_retrying(cloudflare, fake, status):
    fake.fail_next(status)
    with pytest.raises(ProviderUnavailable):
        cloudflare.create("help.acme.test")
    assert fake.hostnames == {}


def test_an_unreachable_api_is_worth_retrying():
    closed = CloudflareCustomHostnames(f"http://127.0.0.1:{free_port()}", "zone-1", "cf-token")
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        closed.get("some-id")


def test_a_wrong_token_or_zone_is_refused_for_good(fake):
    with pytest.raises(ProviderRejected, match="10000"):
        CloudflareCustomHostnames(fake.url, "zone-1", "wrong").create("help.acme.test")
    with pytest.raises(ProviderRejected, match="7003"):
        CloudflareCustomHostnames(fake.url, "zone-2", "cf-token").create("help.acme.test")
    assert fake.hostnames == {}


def test_an_invalid_hostname_is_refused_for_good(cloudflare):
    with pytest.raises(ProviderRejected) as refused:
        cloudflare.create("not a hostname")
    assert not isinstance(refused.value, HostnameAlreadyExists)
