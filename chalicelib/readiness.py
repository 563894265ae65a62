"""Fail closed: a deployed stage serves nothing while a required setting or secret is missing,
nor while its AWS region is not the content region (any stage but a local emulator run).

Every HTTP request and every worker invocation asks `problems()` first. A healthy answer is
kept for the life of the container; a failing one is checked again after
`RECHECK_SECONDS`, so a parameter created after the deploy heals the function without one.
The missing names (never values) go to the log, once per check.
"""

from __future__ import annotations

import threading
import time

from chalicelib.observability import logger
from chalicelib.secret_store import SecretsUnavailable
from chalicelib.settings import get_settings

RECHECK_SECONDS = 30.0


class NotConfigured(RuntimeError):
    """This deployment lacks required settings or secrets (or cannot read them)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("deployment not configured: " + ", ".join(problems))
        self.problems = problems


class _LastCheck:
    def __init__(self) -> None:
        self.ok = False
        self.problems: list[str] = []
        self.checked_at = float("-inf")


_lock = threading.Lock()
_last = _LastCheck()


def problems(monotonic: float | None = None) -> list[str]:
    """[] when this deployment may serve; else what is missing (names only). Also rebuilds
    the services after a secret was rotated (`bootstrap.follow_secret_rotation`)."""
    now = time.monotonic() if monotonic is None else monotonic
    with _lock:
        if _last.ok:
            _follow_rotation()
            return []
        if now - _last.checked_at < RECHECK_SECONDS:
            return list(_last.problems)
        try:
            found = get_settings().missing()
        except SecretsUnavailable as e:
            found = [f"secrets unreadable ({e})"]
        _last.ok, _last.problems, _last.checked_at = not found, found, now
    if found:
        logger.error(
            "refusing to serve: required settings or secrets are missing or empty, "
            "or the AWS region is not the content region",
            extra={"missing": found},
        )
    return list(found)


def _follow_rotation() -> None:
    from chalicelib import bootstrap

    try:
        bootstrap.follow_secret_rotation()
    except SecretsUnavailable:
        # Keep serving with the values already read; the next request tries again.
        logger.warning("could not read the secrets again; keeping the ones in use")


def ensure_configured() -> None:
    """Raises NotConfigured while `problems()` is not empty (workers: the batch is retried)."""
    found = problems()
    if found:
        raise NotConfigured(found)


def reset() -> None:
    """Forget the last check (tests that change settings call this)."""
    global _last
    with _lock:
        _last = _LastCheck()
