"""Password policy and hashing (argon2id)."""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache
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


COMMON_PASSWORDS_CHECKED = 10_000

# Why a password is refused: a stable key per problem (pages translate them) and its English.
PROBLEMS = {
    "too_short": f"must be at least {MIN_PASSWORD_LENGTH} characters",
    "too_long": f"must be at most {MAX_PASSWORD_LENGTH} characters",
    "blank": "must not be only spaces",
    "control_characters": "must not contain control characters",
    "email": "must not be your e-mail address",
    "common": "is one of the most common passwords",
}


class WeakPassword(ValidationFailed):
    """A password the policy refuses; `problems` are keys of PROBLEMS."""

    def __init__(self, problems: list[str]) -> None:
        message = "password " + " and ".join(PROBLEMS[p] for p in problems)
        super().__init__(
            message, code="weak_password", details=[{"field": "password", "message": message}]
        )
        self.problems = problems


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list, ranked by frequency in leaked passwords; 1.7 MB, so loaded on first use.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED])


def is_common_password(password: str) -> bool:
    return password.strip().casefold() in _common_passwords()


def check_password_policy(password: str, email: str) -> None:
    """Raises WeakPassword (422 naming the `password` field, saying why) when the password is
    too short or long, blank, holds control characters, is the e-mail address or is one of
    the 10,000 most common passwords."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append("too_long")
    if not password.strip():
        problems.append("blank")
    if any(unicodedata.category(c) == "Cc" for c in password):
        problems.append("control_characters")
    lowered = password.strip().lower()
    if lowered and (
        lowered == email.strip().lower() or lowered == email.split("@")[0].strip().lower()
    ):
        problems.append("email")
    if len(password) <= MAX_PASSWORD_LENGTH and is_common_password(password):
        problems.append("common")
    if problems:
        raise WeakPassword(problems)


class Argon2PasswordHasher:
    """argon2id with the library's (RFC 9106 low-memory) defaults.  Nothing is loaded or
    hashed until a password is: most requests (a bearer token) never need it.

    `fast`: the cheapest argon2id (one pass over 1 MiB), for test runs against an emulator
    only (Settings.fast_password_hashing); the decoy is then a hash of the same cost, so an
    unknown address still takes as long as a known one."""

    def __init__(self, fast: bool = False) -> None:
        self._fast = fast
        self._hasher: Any = None
        self._decoy = "" if fast else DECOY_HASH

    def _argon2(self) -> Any:
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = (
                PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
                if self._fast
                else PasswordHasher()
            )
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
        if not self._decoy:
            self._decoy = self.hash(secrets.token_urlsafe(16))
        self.verify(self._decoy, password)
