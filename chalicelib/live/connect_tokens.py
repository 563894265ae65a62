"""Connect tokens: how the web client opens the live WebSocket API.

The web client's session cookie (`__Host-`) is only ever sent to the host that set it, never
to the WebSocket API's own host, so `GET /v1/live` hands a member a token good for one thing
(opening a connection, `?connect_token=`) for 60 seconds, bound to their workspace and user.
`lct_` + `base64url(payload).base64url(HMAC-SHA256(key, payload))`; the key is derived from
the deployment's reply-address secret with its own purpose, so no other token (a visitor's,
a reply address) verifies as one.  Connect checks it and keeps nothing of it: it is not a
session, and a connection lives by its own TTL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

PREFIX = "lct_"
LIFETIME_SECONDS = 60
_PURPOSE = b"helptal live connect token v1"


@dataclass(frozen=True)
class ConnectGrant:
    workspace_id: str
    user_id: str
    expires_at: int  # epoch seconds


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, workspace_id: str, user_id: str, now: int) -> str:
    """A token for this member, valid `LIFETIME_SECONDS` from `now` (no call)."""
    payload = json.dumps(
        {"w": workspace_id, "u": user_id, "e": now + LIFETIME_SECONDS}, separators=(",", ":")
    ).encode()
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{PREFIX}{_b64(payload)}.{_b64(signature)}"


def read(secret: str, token: str, now: int) -> ConnectGrant | None:
    """The grant of a genuine, unexpired token; None for anything forged, altered, expired
    or malformed (no call)."""
    if not token.startswith(PREFIX) or len(token) > 400 or token.count(".") != 1:
        return None
    payload_part, signature_part = token.removeprefix(PREFIX).split(".")
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
        grant = ConnectGrant(str(fields["w"]), str(fields["u"]), int(fields["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return grant if grant.expires_at > now else None
