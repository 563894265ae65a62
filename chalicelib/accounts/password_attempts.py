"""The throttle in front of every password check (login, joining with an existing account,
and later password reset and two-factor codes): at most `login_max_failures` checks per
subject and window, however many requests arrive at once."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import User
from chalicelib.accounts.ports import AttemptsUsedUp
from chalicelib.clock import epoch
from chalicelib.errors import TooManyRequests


def throttled_check(deps: AccountDeps, subject: str, check: Callable[[], bool]) -> bool:
    """Takes an attempt for `subject` before running `check` (429 with Retry-After when the
    window's attempts are used up); a passed check ends the window.

    Writes: the subject's attempt counter (one conditional update), cleared on success."""
    now = epoch(deps.clock.now())
    try:
        attempt = deps.store.reserve_password_attempt(
            subject, now, deps.policy.login_window_seconds, deps.policy.login_max_failures
        )
    except AttemptsUsedUp as e:
        raise TooManyRequests(
            "Too many failed attempts. Try again later.",
            code="login_throttled",
            retry_after_seconds=e.retry_after_seconds,
        ) from None
    passed = check()
    if passed:
        deps.store.clear_password_attempts(subject, attempt)
    return passed


def verify_password(deps: AccountDeps, email: str, user: User | None, password: str) -> bool:
    """Whether `password` is the password of `user` (the account of `email`, if any), behind
    the throttle of that e-mail.  An unknown e-mail costs the same time and attempt."""

    def check() -> bool:
        if user is None:
            deps.hasher.verify_decoy(password)
            return False
        return deps.hasher.verify(user.password_hash, password)

    return throttled_check(deps, email, check)
