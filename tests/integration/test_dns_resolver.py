"""The DNS adapter against a local DNS server (no internet)."""

from chalicelib.kb.domains import instruction, is_verified
from chalicelib.providers.dns import DnsPythonResolver
from fakes.dns import FakeDns


def test_txt_record_is_read_and_a_missing_name_is_empty():
    record = instruction("secret", "ws1", "help.acme.test")
    server = FakeDns({record.record_name: ["unrelated", record.record_value]}).start()
    try:
        resolver = DnsPythonResolver(nameservers=["127.0.0.1"], port=server.port)
        assert sorted(resolver.txt_records(record.record_name)) == sorted(
            ["unrelated", record.record_value]
        )
        assert resolver.txt_records("_helptal.nothing.test") == []
        assert is_verified(resolver, "secret", "ws1", "help.acme.test")
        assert not is_verified(resolver, "secret", "ws2", "help.acme.test")
    finally:
        server.stop()
