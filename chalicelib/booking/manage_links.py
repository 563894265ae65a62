"""Manage links: what an invitee keeps to see, move or cancel their booking without an account.

`base64url(payload).base64url(HMAC-SHA256(key, payload))`, the payload naming the workspace
and the booking; the key is derived from the deployment's reply-address secret with a purpose
of its own (a chat visitor token never opens a booking, nor the reverse).  No expiry: the
booking's own state decides what the link may still do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

_PURPOSE = b"helptal booking manage link v1"
MAX_TOKEN_CHARS = 300


@dataclass(frozen=True)
class ManageGrant:
    workspace_id: str
    booking_id: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, grant: ManageGrant) -> str:
    payload = json.dumps(
        {"w": grant.workspace_id, "b": grant.booking_id}, separators=(",", ":")
    ).encode()
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read(secret: str, token: str) -> ManageGrant | None:
    """The grant a genuine token carries; None for anything forged, altered or malformed."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    payload_part, signature_part = token.split(".")
    try:
        payload = _unb64(payload_part)
        signature = _unb64(signature_part)
    except ValueError:
        return None
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        fields = json.loads(payload)
        return ManageGrant(str(fields["w"]), str(fields["b"]))
    except (ValueError, KeyError, TypeError):
        return None


def manage_url(base_url: str, token: str) -> str:
    """`<base>/book/manage/<token>`: the base is the API's public address, or
    `https://<domain>` of the workspace's verified help-centre domain."""
    return f"{base_url.rstrip('/')}/book/manage/{token}"
