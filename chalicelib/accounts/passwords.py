"""Password policy and hashing (argon2id)."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# The hash of a random, forgotten password, made with the library's default parameters (the
# ones `hash` uses): verifying against it costs what verifying a real password costs.
DECOY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$v1ECstShLPDAqypu6CxYUQ"
    "$ZpY2bytcd73itvb1hy2X8sZ/pH44yJOhUhVSD81q96s"
)


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
    """argon2id with the library's (RFC 9106 low-memory) defaults.  Nothing is loaded or
    hashed until a password is: most requests (a bearer token) never need it."""

    def __init__(self) -> None:
        self._hasher: Any = None

    def _argon2(self) -> Any:
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = PasswordHasher()
        return self._hasher

    def hash(self, password: str) -> str:
        return str(self._argon2().hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self._argon2().verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, password: str) -> None:
        """Verified on unknown e-mails too, so a login takes as long whether or not the
        account exists."""
        self.verify(DECOY_HASH, password)
