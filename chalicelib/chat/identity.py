"""Identity verification: a customer's site vouches for its logged-in user with
`user_hash = hex(HMAC-SHA256(identity secret, user_id))` (the scheme Intercom and Crisp
customers know); the identity secret is the workspace's."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib.chat.model import VisitorIdentity

SECRET_PREFIX = "cis_"


class IdentityNotVerified(Exception):
    """The user hash does not match (or the workspace has no identity secret)."""


def new_identity_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def user_hash(secret: str, user_id: str) -> str:
    """What the customer's server computes for `user_id` (hex)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verified_identity(
    secret: str | None, user_id: str, email: str, name: str, given_hash: str
) -> VisitorIdentity:
    """The identity, when `given_hash` is the HMAC of `user_id` under `secret` (compared in
    constant time); raises IdentityNotVerified otherwise."""
    if not secret or not user_id:
        raise IdentityNotVerified()
    expected = user_hash(secret, user_id)
    if not hmac.compare_digest(expected.encode(), given_hash.strip().lower().encode()):
        raise IdentityNotVerified()
    return VisitorIdentity(user_id=user_id, email=email.strip().lower(), name=name.strip())
