"""Custom domains for the help centre: proving ownership with a DNS TXT record.

The workspace adds `_helptal.<domain>  TXT  "helptal-verification=<token>"`; the token is an
HMAC of the workspace and the domain, so it cannot be reused for another workspace or domain.
Until the record is found the domain serves nothing of the workspace."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Protocol

from chalicelib.errors import ValidationFailed

RECORD_PREFIX = "_helptal"
VALUE_PREFIX = "helptal-verification="
_HOSTNAME = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class TxtResolver(Protocol):
    def txt_records(self, name: str) -> list[str]:
        """The TXT strings published at `name` ([] when none or the name does not exist).
        Raises DnsUnavailable when the lookup could not be made."""


class DnsUnavailable(Exception):
    pass


def normalise_domain(domain: str) -> str:
    """`Help.Acme.com.` -> `help.acme.com`; 422 for anything that is not a public hostname."""
    host = domain.strip().lower().rstrip(".")
    if host.startswith(("http://", "https://")) or "/" in host or ":" in host:
        raise ValidationFailed(
            "Give the domain only, like help.example.com.",
            code="invalid_domain",
            details=[{"field": "custom_domain", "message": "not a hostname"}],
        )
    if not _HOSTNAME.match(host) or host.endswith((".local", ".localhost", ".internal")):
        raise ValidationFailed(
            "That is not a public domain name.",
            code="invalid_domain",
            details=[{"field": "custom_domain", "message": "not a hostname"}],
        )
    return host


def verification_token(secret: str, workspace_id: str, domain: str) -> str:
    digest = hmac.new(secret.encode(), f"{workspace_id}:{domain}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class DnsInstruction:
    record_name: str
    record_type: str
    record_value: str


def instruction(secret: str, workspace_id: str, domain: str) -> DnsInstruction:
    return DnsInstruction(
        record_name=f"{RECORD_PREFIX}.{domain}",
        record_type="TXT",
        record_value=VALUE_PREFIX + verification_token(secret, workspace_id, domain),
    )


def is_verified(resolver: TxtResolver, secret: str, workspace_id: str, domain: str) -> bool:
    """True when the expected TXT record is published (one DNS lookup)."""
    expected = instruction(secret, workspace_id, domain)
    published = resolver.txt_records(expected.record_name)
    return any(hmac.compare_digest(value.strip(), expected.record_value) for value in published)
