"""The ports and policy values the notification services work with (built in bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.ports import AccountsStore, MailOutbox
from chalicelib.clock import Clock
from chalicelib.notifications.ports import NotificationStore
from chalicelib.tickets.ports import TicketStore


@dataclass(frozen=True)
class NotificationPolicy:
    app_base_url: str  # links in the digest open the web client
    keep_days: int = 90  # notifications expire (TTL) after this
    digest_delay_minutes: int = 5  # read in the app within this, never mailed
    digest_size: int = 50  # notifications in one digest at most
    digests_per_run: int = 200  # members mailed per run at most (the rest: next run)


@dataclass(frozen=True)
class NotificationDeps:
    store: NotificationStore
    accounts: AccountsStore
    tickets: TicketStore
    outbox: MailOutbox
    clock: Clock
    policy: NotificationPolicy
