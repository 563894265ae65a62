"""Two-factor secrets sealed with the application's key (AES-256-GCM) before they are stored.

A sealed value is `v1:<key id>:<base64url(nonce + ciphertext + tag)>`: a random 96-bit nonce
per sealing, the user id as associated data (a value copied into another user's item does
not open), and the id of the key that sealed it, so the key can be rotated: values open
with the current key (`two-factor-key`) or the previous one (`two-factor-key-previous`),
and are always sealed with the current one.  A value stored before sealing existed (a bare
base32 TOTP secret, as local emulators may hold) opens as `legacy`, to be sealed again.
`cryptography` is imported on first use (never by `import app`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
_BASE32_SECRET = re.compile(r"^[A-Z2-7]{16,128}=*$")

# The current key and the previous one ("" when unset), read at each use (the secret source
# caches them and follows a rotation).
KeySource = Callable[[], tuple[str, str]]


class SecretBoxError(Exception):
    """A secret could not be sealed or opened: no usable key, a key that is not the one that
    sealed it, or an altered value.  An operator's problem; never caused by a user."""

    def __init__(self, reason: str, key_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key_id = key_id


@dataclass(frozen=True)
class Opened:
    secret: str
    current: bool  # sealed with the current key (else: sealed with the previous one, or legacy)


def new_key() -> str:
    """A fresh key as stored in the parameter store: 32 random bytes, base64."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(text: str) -> bytes:
    """The 32 bytes of a key written as 64 hex digits or as base64 (standard or URL-safe)."""
    text = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise SecretBoxError("the key is not 32 bytes in hex or base64")
    return raw


def key_id(key: bytes) -> str:
    """A short name of a key (reveals nothing of it): which key sealed a value."""
    return hashlib.sha256(b"helptal two-factor key id\x00" + key).hexdigest()[:8]


def _associated_data(user_id: str) -> bytes:
    return f"helptal two-factor secret\x00{user_id}".encode()


class TwoFactorSecretBox:
    """Seals and opens users' TOTP secrets with the keys `keys` gives at each call."""

    def __init__(self, keys: KeySource) -> None:
        self._keys = keys

    def _current_and_previous(self) -> tuple[bytes, bytes | None]:
        current, previous = self._keys()
        if not current.strip():
            raise SecretBoxError("no two-factor key is configured")
        return decode_key(current), decode_key(previous) if previous.strip() else None

    def current_key_id(self) -> str:
        return key_id(self._current_and_previous()[0])

    def seal(self, user_id: str, secret: str) -> str:
        """`secret` sealed with the current key, bound to `user_id`."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key, _ = self._current_and_previous()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, secret.encode(), _associated_data(user_id))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}:{key_id(key)}:{payload}"

    def open(self, user_id: str, stored: str) -> Opened:
        """The secret `stored` holds for `user_id`.  Raises SecretBoxError when it does not
        open (no key, neither key sealed it, altered, or sealed for another user)."""
        if not stored.startswith(f"{VERSION}:"):
            if _BASE32_SECRET.fullmatch(stored):
                return Opened(stored, current=False)  # legacy: stored before sealing existed
            raise SecretBoxError("not a sealed two-factor secret")
        _, sealed_by, payload = [*stored.split(":", 2), "", ""][:3]
        current, previous = self._current_and_previous()
        candidates = {key_id(current): current}
        if previous is not None:
            candidates.setdefault(key_id(previous), previous)
        key = candidates.get(sealed_by)
        if key is None:
            raise SecretBoxError(
                "sealed with a key that is neither current nor previous", sealed_by
            )
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            raise SecretBoxError("the sealed value is not base64", sealed_by) from None
        if len(raw) <= NONCE_BYTES:
            raise SecretBoxError("the sealed value is too short", sealed_by)

        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            clear = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(user_id)
            )
        except InvalidTag:
            raise SecretBoxError(
                "the sealed value does not open (altered, or another user's)", sealed_by
            ) from None
        return Opened(clear.decode(), current=key is current)
