"""The rules of two-factor codes, free of storage: TOTP codes (RFC 6238: 6 digits, 30-second
steps, SHA-1, as every authenticator app reads an `otpauth://` URI) and recovery codes.

pyotp and segno are imported on first use: `import app` loads neither."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

STEP_SECONDS = 30
# A code of the step before or after the current one is accepted too (clock drift).
DRIFT_STEPS = 1
ISSUER = "Helptal"
RECOVERY_CODES = 10
# No 0/o, 1/l/i: read from paper without confusion.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_HALF = 5
_TOTP_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """A random base32 TOTP secret (160 bits)."""
    import pyotp

    return str(pyotp.random_base32(32))


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app scans (as a QR code)."""
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER))


def qr_code_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG `data:` URI an `<img>` shows (no script, no request)."""
    import segno

    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def step_at(epoch_seconds: int) -> int:
    return epoch_seconds // STEP_SECONDS


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code)


def matching_step(secret: str, code: str, epoch_seconds: int) -> int | None:
    """The 30-second step whose code `code` is (the current step, or one either side), or
    None.  Compared in constant time.  The caller refuses a step already used (replay)."""
    import pyotp

    typed = normalise_code(code)
    if not _TOTP_CODE.match(typed):
        return None
    totp = pyotp.TOTP(secret)
    now = step_at(epoch_seconds)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), typed):
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """`count` distinct single-use codes like `k7m2p-x9rta` (about 49 bits each)."""
    codes: set[str] = set()
    while len(codes) < count:
        halves = [
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_HALF))
            for _ in range(2)
        ]
        codes.add("-".join(halves))
    return sorted(codes)


def looks_like_recovery_code(code: str) -> bool:
    typed = normalise_code(code).lower()
    return len(typed) == 2 * _RECOVERY_HALF and all(c in _RECOVERY_ALPHABET for c in typed)


def recovery_code_hash(code: str) -> str:
    """What is stored of a recovery code: the hash of its normalised form (case, spaces and
    dashes do not matter when it is typed back)."""
    return hashlib.sha256(normalise_code(code).lower().encode()).hexdigest()
