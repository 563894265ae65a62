"""Visitor tokens: what a widget keeps to speak in one conversation.

`base64url(payload).base64url(HMAC-SHA256(key, payload))`, the payload naming the
workspace, the conversation (ticket) and the visitor; the key is derived from the
deployment's reply-address secret, so there is no new secret to provision.  A token
authorises its own conversation only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

_PURPOSE = b"helptal chat visitor token v1"


@dataclass(frozen=True)
class VisitorGrant:
    workspace_id: str
    ticket_id: str
    visitor_id: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, grant: VisitorGrant) -> str:
    payload = json.dumps(
        {"w": grant.workspace_id, "c": grant.ticket_id, "v": grant.visitor_id},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read(secret: str, token: str) -> VisitorGrant | None:
    """The grant a genuine token carries; None for anything forged, altered or malformed."""
    if not token or len(token) > 400 or token.count(".") != 1:
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
        return VisitorGrant(str(fields["w"]), str(fields["c"]), str(fields["v"]))
    except (ValueError, KeyError, TypeError):
        return None
