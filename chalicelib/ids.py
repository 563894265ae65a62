"""Identifiers: ULIDs (sortable by creation time) and opaque secret tokens."""

from __future__ import annotations

import hashlib
import secrets


def new_id() -> str:
    from ulid import ULID

    return str(ULID())


def new_secret_token(prefix: str) -> str:
    """A bearer secret: `<prefix>_` + 43 url-safe characters (256 bits of entropy)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """What we store instead of a secret token (a fast hash is right for 256-bit secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()
