"""DNS lookups (dnspython), for custom-domain verification."""

from __future__ import annotations

from chalicelib.kb.domains import DnsUnavailable

LOOKUP_SECONDS = 5.0


class DnsPythonResolver:
    def __init__(self, nameservers: list[str] | None = None, port: int = 53) -> None:
        self._nameservers = nameservers
        self._port = port

    def txt_records(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        resolver = dns.resolver.Resolver()
        if self._nameservers:
            resolver.nameservers = self._nameservers
        resolver.port = self._port
        resolver.lifetime = LOOKUP_SECONDS
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as e:
            raise DnsUnavailable(str(e)) from e
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
