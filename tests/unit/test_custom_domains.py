import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.kb.domains import instruction, is_verified, normalise_domain


class FakeResolver:
    def __init__(self, records):
        self.records = records
        self.asked = []

    def txt_records(self, name):
        self.asked.append(name)
        return self.records.get(name, [])


@pytest.mark.parametrize("raw", ["Help.Acme.com.", " help.acme.com "])
def test_domains_are_normalised(raw):
    assert normalise_domain(raw) == "help.acme.com"


@pytest.mark.parametrize(
    "raw",
    [
        "https://help.acme.com",
        "help.acme.com/x",
        "localhost",
        "help.acme.local",
        "a..b.com",
        "help.acme.com:8080",
        "x",
    ],
)
def test_non_public_hostnames_are_refused(raw):
    with pytest.raises(ValidationFailed):
        normalise_domain(raw)


def test_domain_is_verified_only_by_this_workspaces_record():
    expected = instruction("secret", "ws1", "help.acme.com")
    assert expected.record_name == "_helptal.help.acme.com"
    resolver = FakeResolver({expected.record_name: ["v=spf1 -all", expected.record_value]})
    assert is_verified(resolver, "secret", "ws1", "help.acme.com")
    assert not is_verified(resolver, "secret", "ws2", "help.acme.com")
    assert not is_verified(FakeResolver({}), "secret", "ws1", "help.acme.com")


def test_a_token_for_one_domain_does_not_verify_another():
    record = instruction("secret", "ws1", "help.acme.com")
    resolver = FakeResolver({"_helptal.help.evil.com": [record.record_value]})
    assert not is_verified(resolver, "secret", "ws1", "help.evil.com")
