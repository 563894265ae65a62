"""Whether an incoming mail's From address is proven, not just claimed.

The From header is free text: anyone can write `From: alice@customer.test`.  What Mailgun
checks for us is the SMTP envelope sender (SPF) and the DKIM signature; a From address counts
as authenticated when one of those passed *and* its domain is aligned with the From domain
(DMARC-style relaxed alignment: the same organisational domain).

    authenticated = (SPF pass and envelope-sender domain aligned with the From domain)
                 or (DKIM pass and every DKIM-Signature d= aligned with the From domain)

Pure domain code: headers in, a verdict out; no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SPF_HEADER = "x-mailgun-spf"
DKIM_RESULT_HEADER = "x-mailgun-dkim-check-result"
DKIM_SIGNATURE_HEADER = "dkim-signature"

# Public suffixes of two labels under which people register domains (example.co.uk): the
# organisational domain is then the last three labels.  No public-suffix list is installed,
# and a fetched one would mean network access at run time; this covers our customers' regions.
_TWO_LABEL_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
        "com.sg", "net.sg", "org.sg", "edu.sg", "gov.sg",
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp",
        "co.nz", "net.nz", "org.nz", "govt.nz",
        "co.za", "org.za", "com.br", "net.br", "org.br", "com.mx", "com.ar", "com.tw",
        "org.tw", "net.tw", "edu.tw", "idv.tw", "com.hk", "org.hk", "com.cn", "net.cn",
        "org.cn", "co.in", "net.in", "org.in", "co.kr", "or.kr", "co.il", "com.tr",
        "co.id", "com.my", "com.ph", "com.vn", "co.th", "in.th", "com.sa", "com.eg",
    }
)  # fmt: skip
_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class SenderAuthentication:
    """The verdict on a mail's From address.  `method` is how it was proven (`spf` or
    `dkim`) when `verified`; `reason` says in a few words why it was or was not."""

    verified: bool
    method: str | None
    reason: str


def domain_of(address: str | None) -> str:
    """The lowercased domain of an address (`""` when it has none)."""
    if not address:
        return ""
    return address.strip().strip("<>").rpartition("@")[2].strip().strip(".").lower()


def organisational_domain(domain: str) -> str:
    """The registrable domain of `domain`: its last two labels, or three under a known
    two-label public suffix (`mail.shop.co.uk` -> `shop.co.uk`)."""
    labels = [label for label in domain.strip().strip(".").lower().split(".") if label]
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: both domains have the same organisational domain."""
    if not domain or not from_domain:
        return False
    org = organisational_domain(domain)
    # A bare public suffix ("co.uk") is no one's domain.
    if "." not in org or org in _TWO_LABEL_SUFFIXES:
        return False
    return org == organisational_domain(from_domain)


def _passed(values: Sequence[str]) -> bool:
    """Every copy of a verdict header says pass (a sender can add a copy of its own; a
    contradicting copy makes the verdict void)."""
    verdicts = [value.split(None, 1)[0].lower() for value in values if value.strip()]
    return bool(verdicts) and all(verdict == "pass" for verdict in verdicts)


def dkim_domains(signatures: Sequence[str]) -> list[str]:
    """The `d=` domain of each DKIM-Signature header, lowercased, in order."""
    found = []
    for signature in signatures:
        match = _DKIM_DOMAIN.search(re.sub(r"\s+", " ", signature))
        found.append(match.group(1).strip().strip(".").lower() if match else "")
    return found


def authenticate_sender(
    *,
    from_address: str,
    envelope_sender: str | None,
    spf_results: Sequence[str],
    dkim_results: Sequence[str],
    dkim_signatures: Sequence[str],
) -> SenderAuthentication:
    """The verdict for one mail: `spf_results` and `dkim_results` are every value of
    Mailgun's `X-Mailgun-Spf` and `X-Mailgun-Dkim-Check-Result` headers, `dkim_signatures`
    every `DKIM-Signature` header value."""
    from_domain = domain_of(from_address)
    if not from_domain:
        return SenderAuthentication(False, None, "no From domain")
    envelope_domain = domain_of(envelope_sender)
    if _passed(spf_results) and aligned(envelope_domain, from_domain):
        return SenderAuthentication(True, "spf", "SPF pass, envelope aligned with From")
    domains = dkim_domains(dkim_signatures)
    if _passed(dkim_results) and domains and all(aligned(d, from_domain) for d in domains):
        return SenderAuthentication(True, "dkim", "DKIM pass, d= aligned with From")
    if not spf_results and not dkim_results:
        return SenderAuthentication(False, None, "no SPF or DKIM verdict")
    if _passed(spf_results) or _passed(dkim_results):
        return SenderAuthentication(False, None, "SPF or DKIM passed for another domain")
    return SenderAuthentication(False, None, "SPF and DKIM did not pass")


def authenticate_headers(
    headers: Sequence[tuple[str, str]], *, from_address: str, envelope_sender: str | None
) -> SenderAuthentication:
    """`authenticate_sender` reading the verdicts from a mail's headers."""

    def every(name: str) -> list[str]:
        return [value for key, value in headers if key.strip().lower() == name]

    return authenticate_sender(
        from_address=from_address,
        envelope_sender=envelope_sender,
        spf_results=every(SPF_HEADER),
        dkim_results=every(DKIM_RESULT_HEADER),
        dkim_signatures=every(DKIM_SIGNATURE_HEADER),
    )
