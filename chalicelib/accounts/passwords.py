"""Password policy and hashing (argon2id)."""

from __future__ import annotations

from chalicelib.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def check_password_policy(password: str, email: str) -> None:
    """Raises ValidationFailed naming the `password` field when the policy is not met."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.strip().lower()
    if lowered == email.strip().lower() or lowered == email.split("@")[0].strip().lower():
        problems.append("must not be your e-mail address")
    if problems:
        message = "password " + " and ".join(problems)
        raise ValidationFailed(
            message, code="weak_password", details=[{"field": "password", "message": message}]
        )


class Argon2PasswordHasher:
    """argon2id with the library's (RFC 9106 low-memory) defaults."""

    def __init__(self) -> None:
        from argon2 import PasswordHasher

        self._hasher = PasswordHasher()
        # Verified on unknown e-mails too, so a login takes as long whether or not it exists.
        self._decoy_hash = self._hasher.hash("decoy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, password: str) -> None:
        self.verify(self._decoy_hash, password)
