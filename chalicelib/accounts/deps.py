"""The ports and policy values the account services work with (built in bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.ports import AccountsStore, MailOutbox, PasswordHasher
from chalicelib.clock import Clock


@dataclass(frozen=True)
class AccountPolicy:
    session_ttl_seconds: int
    invitation_ttl_seconds: int
    login_max_failures: int
    login_window_seconds: int
    public_base_url: str


@dataclass(frozen=True)
class AccountDeps:
    store: AccountsStore
    hasher: PasswordHasher
    clock: Clock
    outbox: MailOutbox
    policy: AccountPolicy
