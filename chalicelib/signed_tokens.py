"""Signed tokens: small JSON payloads a client keeps and gives back, unforgeable and
unalterable without the deployment's secret.

`base64url(payload).base64url(HMAC-SHA256(key, payload))`, the key derived from a secret
with a purpose of each kind's own, so that a token of one kind (a chat visitor's, a manage
link, a live connect token) never verifies as another.  Used by chalicelib/chat/
visitor_tokens.py, chalicelib/booking/manage_links.py and chalicelib/live/connect_tokens.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: bytes, fields: dict[str, Any]) -> str:
    """The token carrying `fields` (JSON-serialisable) for that purpose."""
    payload = json.dumps(fields, separators=(",", ":")).encode()
    signature = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def verify(secret: str, purpose: bytes, token: str, max_chars: int) -> dict[str, Any] | None:
    """The fields of a genuine token of that purpose; None for anything forged, altered,
    too long or malformed (compared in constant time)."""
    if not token or len(token) > max_chars or token.count(".") != 1:
        return None
    payload_part, signature_part = token.split(".")
    try:
        payload = _unb64(payload_part)
        signature = _unb64(signature_part)
    except ValueError:
        return None
    expected = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None
