"""The per-ticket reply address: `<slug>+t-<ticket>-<signature>@<inbound domain>`.

Carried in the Reply-To of our outgoing mail, so a customer's reply threads into its ticket
even when their mail client drops In-Reply-To.  The signature (HMAC of workspace and ticket)
makes the address unguessable: nobody can post into a ticket by inventing an address."""

from __future__ import annotations

import hashlib
import hmac
import re

# Mail systems may change the case of the local part: ULIDs are matched case-insensitively.
_TOKEN = re.compile(r"^t-([0-9a-hjkmnp-tv-z]{26})-([0-9a-f]{20})$", re.IGNORECASE)


def _signature(secret: str, workspace_id: str, ticket_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{workspace_id}:{ticket_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def reply_address(secret: str, domain: str, slug: str, workspace_id: str, ticket_id: str) -> str:
    return f"{slug}+t-{ticket_id}-{_signature(secret, workspace_id, ticket_id)}@{domain}"


def parse_recipient(address: str, domain: str) -> tuple[str, str | None] | None:
    """(slug, reply token or None) when `address` is at our inbound domain."""
    local, _, at = address.strip().lower().rpartition("@")
    if not local or at != domain.lower():
        return None
    slug, _, token = local.partition("+")
    return slug, token or None


def ticket_of_token(secret: str, workspace_id: str, token: str | None) -> str | None:
    """The ticket id a reply token names, if its signature is right for this workspace."""
    if not token:
        return None
    match = _TOKEN.match(token)
    if match is None:
        return None
    ticket_id, signature = match.group(1).upper(), match.group(2).lower()
    expected = _signature(secret, workspace_id, ticket_id)
    return ticket_id if hmac.compare_digest(expected, signature) else None
