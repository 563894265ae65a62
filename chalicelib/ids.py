"""Identifiers: ULIDs (sortable by creation time) and opaque secret tokens."""

from __future__ import annotations

import hashlib
import secrets


def new_id() -> str:
    from ulid import ULID

    return str(ULID())


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def derived_id(seed_id: str, purpose: str) -> str:
    """A ULID made from another one for one purpose, the same each time it is asked (a retried
    step then finds what its first attempt created): the seed's time, and 80 bits of a hash
    of the seed and the purpose."""
    digest = int.from_bytes(hashlib.sha256(f"{purpose}:{seed_id}".encode()).digest()[:10])
    tail = "".join(_CROCKFORD[(digest >> shift) & 31] for shift in range(75, -1, -5))
    return seed_id[:10] + tail


def new_secret_token(prefix: str) -> str:
    """A bearer secret: `<prefix>_` + 43 url-safe characters (256 bits of entropy)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """What we store instead of a secret token (a fast hash is right for 256-bit secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()
