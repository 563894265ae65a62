"""What the notification services need from storage (a port; pynamodb implements it in
chalicelib/store/notifications_repo.py).  Every key starts with the workspace, then the
member: one member's notifications are one partition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.mail.outbound import OutboundMail
from chalicelib.notifications.model import (
    Channels,
    Notification,
    Preferences,
    ReadState,
)


class DigestChanged(Exception):
    """The digest's record changed since it was leased (a new notification, another run):
    nothing was written; the next run takes it again."""


@dataclass(frozen=True)
class DigestLease:
    """A member's digest held by one run until `until` (epoch seconds)."""

    workspace_id: str
    user_id: str
    token: str
    pending: int  # notifications waiting to be mailed
    outgoing: OutboundMail | None  # a digest recorded but maybe not queued: queue it again


@dataclass(frozen=True)
class WaitingMail:
    """A notification waiting for the digest, with whether it can be read in the app (then
    it is mailed only while unread)."""

    notification: Notification
    in_app: bool


class NotificationStore(Protocol):
    def add(self, notification: Notification, channels: Channels, mail_due: datetime) -> bool:
        """Atomically: the notification (unless one with its id exists: then False and
        nothing written), unread in the app if `channels.in_app`, waiting for the digest due
        at `mail_due` if `channels.email`, and the member's revision moved on."""

    def read_state(self, workspace_id: str, user_id: str) -> ReadState: ...
    def page(
        self,
        workspace_id: str,
        user_id: str,
        since: str | None,
        cursor: str | None,
        limit: int,
        read_through: str | None,
    ) -> tuple[list[Notification], str | None]:
        """Newest first (newer than the id `since` when given), each with `read` set; the
        cursor to the older ones.  Two Queries."""

    def unread_count(
        self, workspace_id: str, user_id: str, read_through: str | None, cap: int
    ) -> int:
        """Unread notifications after `read_through`, counted up to `cap` (one Query)."""

    def mark_read(self, workspace_id: str, user_id: str, ids: Sequence[str]) -> None: ...
    def exists(self, workspace_id: str, user_id: str, notification_id: str) -> bool:
        """Whether the member has this notification (one GetItem)."""

    def mark_read_through(self, workspace_id: str, user_id: str, notification_id: str) -> None:
        """Everything up to `notification_id` is read (never moves back)."""

    def preferences(self, workspace_id: str, user_ids: Sequence[str]) -> dict[str, Preferences]:
        """Each member's preferences (defaults when they chose none); one BatchGetItem per 100."""

    def save_preferences(
        self, workspace_id: str, user_id: str, preferences: Preferences
    ) -> None: ...

    # -- the digest job -------------------------------------------------------------------
    def due_digests(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(workspace id, user id) of members whose digest is due at `now`, longest waiting
        first: one Query per shard of the due list."""

    def lease_digest(
        self, workspace_id: str, user_id: str, now: datetime, seconds: int
    ) -> DigestLease | None:
        """Holds the member's digest for this run (None: another run holds it, or nothing
        is due any more).  One conditional UpdateItem."""

    def waiting_mail(
        self, workspace_id: str, user_id: str, limit: int
    ) -> tuple[list[WaitingMail], set[str], ReadState]:
        """The oldest notifications waiting for the digest, the ids of those still unread in
        the app, and the read state.  One Query and one BatchGetItem."""

    def record_digest(
        self,
        lease: DigestLease,
        taken: Sequence[str],
        drained: bool,
        mail: OutboundMail | None,
        now: datetime,
    ) -> None:
        """Atomically: the `taken` notifications no longer wait (each exactly once), the mail
        is recorded as queued and kept on the digest until `digest_queued`, the lease ends;
        `drained` (nothing else waits): the digest leaves the due list once its mail is
        queued.  Raises DigestChanged when the lease was lost, or when `drained` and a
        notification came meanwhile."""

    def digest_queued(self, workspace_id: str, user_id: str, mail_id: str) -> None:
        """The digest mail is on the mail-out queue: forget it (and leave the due list when
        nothing else waits)."""

    def release_digest(self, lease: DigestLease) -> None: ...
