"""Manage links: what an invitee keeps to see, move or cancel their booking without an account.

`base64url(payload).base64url(HMAC-SHA256(key, payload))`, the payload naming the workspace
and the booking; the key is derived from the deployment's reply-address secret with a purpose
of its own (a chat visitor token never opens a booking, nor the reverse).  No expiry: the
booking's own state decides what the link may still do."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import signed_tokens

_PURPOSE = b"helptal booking manage link v1"
MAX_TOKEN_CHARS = 300


@dataclass(frozen=True)
class ManageGrant:
    workspace_id: str
    booking_id: str


def issue(secret: str, grant: ManageGrant) -> str:
    return signed_tokens.sign(secret, _PURPOSE, {"w": grant.workspace_id, "b": grant.booking_id})


def read(secret: str, token: str) -> ManageGrant | None:
    """The grant a genuine token carries; None for anything forged, altered or malformed."""
    fields = signed_tokens.verify(secret, _PURPOSE, token, MAX_TOKEN_CHARS)
    if fields is None:
        return None
    try:
        return ManageGrant(str(fields["w"]), str(fields["b"]))
    except KeyError:
        return None


def manage_url(base_url: str, token: str) -> str:
    """`<base>/book/manage/<token>`: the base is the API's public address, or
    `https://<domain>` of the workspace's verified help-centre domain."""
    return f"{base_url.rstrip('/')}/book/manage/{token}"
