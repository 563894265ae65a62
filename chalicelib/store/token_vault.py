"""Calendar refresh tokens sealed with KMS envelope encryption.

Each seal asks KMS for a fresh AES-256 data key (`GenerateDataKey`) under the calendar-tokens
key, with the encryption context `{workspace, connection}`; the token is encrypted with that
key (AES-256-GCM, a random 96-bit nonce, the workspace and connection as associated data)
and only the KMS-wrapped copy of the key is kept.  Opening asks KMS to `Decrypt` the wrapped
key with the same context: a sealed token copied to another connection or workspace does not
open, and every opening is in CloudTrail.  `cryptography` is imported on first use."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalicelib.booking.calendars import SealedToken

KMSClient = Any  # boto3's KMS client (no stubs installed)

NONCE_BYTES = 12


class TokenVaultError(Exception):
    """A token could not be sealed or opened (a wrong context, an altered value, a key KMS
    refuses): an operator's problem, never a user's."""


def _context(workspace_id: str, connection_id: str) -> dict[str, str]:
    return {"workspace": workspace_id, "connection": connection_id}


def _associated_data(workspace_id: str, connection_id: str) -> bytes:
    return f"helptal calendar token\x00{workspace_id}\x00{connection_id}".encode()


class KmsTokenVault:
    """`calendars.TokenSealer` with KMS (the emulator's locally)."""

    def __init__(self, kms: Callable[[], KMSClient], key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def seal(self, workspace_id: str, connection_id: str, token: str) -> SealedToken:
        """One GenerateDataKey call."""
        from botocore.exceptions import ClientError
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            data_key = self._kms().generate_data_key(
                KeyId=self._key_id,
                KeySpec="AES_256",
                EncryptionContext=_context(workspace_id, connection_id),
            )
        except ClientError as e:
            if _is_outage(e):
                raise
            raise TokenVaultError(f"KMS refused a data key: {_code(e)}") from e
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key["Plaintext"]).encrypt(
            nonce, token.encode(), _associated_data(workspace_id, connection_id)
        )
        return SealedToken(
            ciphertext=ciphertext, nonce=nonce, wrapped_key=data_key["CiphertextBlob"]
        )

    def open(self, workspace_id: str, connection_id: str, sealed: SealedToken) -> str:
        """One Decrypt call.  Raises TokenVaultError when it does not open."""
        from botocore.exceptions import ClientError
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            data_key = self._kms().decrypt(
                CiphertextBlob=sealed.wrapped_key,
                EncryptionContext=_context(workspace_id, connection_id),
            )
        except ClientError as e:
            if _is_outage(e):
                raise
            raise TokenVaultError(f"KMS refused to unwrap the key: {_code(e)}") from e
        try:
            clear = AESGCM(data_key["Plaintext"]).decrypt(
                sealed.nonce, sealed.ciphertext, _associated_data(workspace_id, connection_id)
            )
        except (InvalidTag, ValueError) as e:
            raise TokenVaultError("the sealed token does not open (altered or moved)") from e
        return clear.decode()


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_outage(error: Exception) -> bool:
    from chalicelib.store.aws_outage import is_aws_outage

    return is_aws_outage(error)
