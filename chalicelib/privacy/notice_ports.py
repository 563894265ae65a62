"""Ports of the sub-processor change notices (adapters in chalicelib/store/): the people who
subscribed, every workspace's owners and admins, the record of each notice sent, the limits
on subscription requests and the mail-out queue.  Access patterns: docs/data-model.md,
Sub-processor notices."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.mail.outbound import OutboundMail


def normalised_address(email: str) -> str:
    return email.strip().lower()


def subscriber_key(email: str) -> str:
    """What a subscriber is known by in keys and links: the hash of their address."""
    return hashlib.sha256(normalised_address(email).encode()).hexdigest()


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # asked, not confirmed: gets no notice, and is gone after a while
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Subscriber:
    email: str
    lang: str  # "en" or "fr": the language of their mails
    status: SubscriberStatus
    nonce: str  # in the confirmation link; a newer request replaces it
    created_at: datetime
    confirmed_at: datetime | None = None

    @property
    def key(self) -> str:
        return subscriber_key(self.email)


@dataclass(frozen=True)
class NoticeReader:
    """Someone on a list a notice goes down.  `position`: the list's place just after them
    (positions sort as text and start with the ISO time the reader joined the list, so a run
    can read a little before where the last one stopped)."""

    email: str
    lang: str
    position: str
    name: str = ""
    member: bool = False  # an owner or admin of a workspace (else a subscriber)


@dataclass(frozen=True)
class ReaderPage:
    readers: list[NoticeReader]
    more: bool  # the list goes on after the last reader


class NoticeSubscribers(Protocol):
    def get(self, key: str) -> Subscriber | None:
        """The subscriber of that key (a pending one whose time ran out is None)."""

    def put_pending(self, subscriber: Subscriber, expires_at: int) -> bool:
        """Writes a pending subscription (replacing a pending one); False, writing nothing,
        when the address is confirmed already."""

    def confirm(self, key: str, nonce: str, lang: str, at: datetime) -> Subscriber | None:
        """Confirms the pending subscription of that key and nonce (it joins the confirmed
        list, in `lang`); the subscriber, also when it was confirmed with that nonce before;
        None when there is no such subscription (expired, replaced, unsubscribed)."""

    def remove(self, key: str) -> None:
        """Forgets the subscription of that key (none: nothing to do)."""

    def confirmed(self, after: str | None, limit: int) -> ReaderPage:
        """Confirmed subscribers in the order they confirmed, after the position `after`."""


class WorkspaceAdmins(Protocol):
    def listed(self, after: str | None, limit: int) -> ReaderPage:
        """Owners and admins of every workspace, in the order they became one, after the
        position `after`; each in their profile's language, else their workspace's."""


class RequestLimits(Protocol):
    def allow(self, subject: str, now: int, window_seconds: int, limit: int) -> bool:
        """Counts one request of `subject` in the current window; False (not counted) when
        `limit` were counted already."""


class Claim(StrEnum):
    OURS = "ours"  # this run queues the mail
    QUEUED = "queued"  # queued before: nothing to do
    HELD = "held"  # another run holds it now (a run that stopped is taken over later)


class NoticeRecords(Protocol):
    def claim(
        self,
        change_id: str,
        email: str,
        mail_id: str,
        now: datetime,
        lease_seconds: int,
        keep_until: int,
    ) -> Claim:
        """Claims the change's notice to `email` (one conditional write): OURS when nobody
        had, or when the run that had stopped before queueing and its lease ran out."""

    def mark_queued(self, change_id: str, email: str, at: datetime) -> None: ...

    def position(self, change_id: str, list_name: str) -> str | None:
        """How far the change's notice has gone down the list `list_name`."""

    def advance(self, change_id: str, list_name: str, position: str, keep_until: int) -> None:
        """Records `position` unless the list's recorded position is further already."""


class OnceMail(Protocol):
    def send_once(self, mail: OutboundMail) -> bool:
        """Queues `mail` once per mail id (queues it again while its record says queued);
        True when queued now for the first time."""
