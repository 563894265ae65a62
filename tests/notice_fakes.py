"""In-memory fakes of the sub-processor notice ports (chalicelib/privacy/notice_ports.py) for
the unit tests of the notices and the subscriptions: every workspace's owners and admins, the
subscribers, the notice records, request limits and the mail-out queue (a mail log by id and
the queue's messages, with a crash to order); the planned changes in the store of
tests/subprocessor_fakes.py.

    world = NoticeWorld()
    world.add_change(days_out=40)
    world.add_admin("ann@acme.test", lang="fr")
    world.subscribe_confirmed("dpo@example.com")
    send_due_notices(world.deps(), world.now)
    world.outbox.queued_to("ann@acme.test")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from chalicelib.mail.outbound import OutboundMail
from chalicelib.privacy.model import Category, ChangeKind, PlannedChange, SubProcessor, Words
from chalicelib.privacy.notice_links import NoticeLinks
from chalicelib.privacy.notice_ports import (
    Claim,
    NoticeReader,
    ReaderPage,
    Subscriber,
    SubscriberStatus,
)
from chalicelib.privacy.notices import NoticeDeps
from chalicelib.privacy.subscriptions import SubscriptionDeps
from tests.subprocessor_fakes import InMemorySubprocessorChanges

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECRET = "test-notice-secret"
AWS = SubProcessor(
    id="aws-ap-southeast-1",
    name="Amazon Web Services",
    legal_entity="Amazon Web Services (named in the DPA)",
    location=Words("Singapore", "Singapour"),
    purpose=Words(
        "Cloud hosting, database, caching and object storage.",
        "Hébergement cloud, base de données, cache et stockage objet.",
    ),
    category=Category.HOSTING,
    processes_workspace_content=True,
)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += timedelta(**kwargs)


def _page(entries: list[NoticeReader], after: str | None, limit: int) -> ReaderPage:
    ordered = sorted(entries, key=lambda r: r.position)
    rest = [r for r in ordered if after is None or r.position > after]
    return ReaderPage(rest[:limit], more=len(rest) > limit)


class FakeAdmins:
    def __init__(self) -> None:
        self.entries: list[NoticeReader] = []
        self.reads = 0

    def listed(self, after: str | None, limit: int) -> ReaderPage:
        self.reads += 1
        return _page(self.entries, after, limit)


class FakeSubscribers:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.by_key: dict[str, tuple[Subscriber, int | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Subscriber | None:
        found = self.by_key.get(key)
        if found is None:
            return None
        subscriber, expires_at = found
        if expires_at is not None and expires_at <= self.clock.now().timestamp():
            return None
        return subscriber

    def put_pending(self, subscriber: Subscriber, expires_at: int) -> bool:
        with self._lock:
            found = self.by_key.get(subscriber.key)
            if found is not None and found[0].status is SubscriberStatus.CONFIRMED:
                return False
            self.by_key[subscriber.key] = (subscriber, expires_at)
            return True

    def confirm(self, key: str, nonce: str, lang: str, at: datetime) -> Subscriber | None:
        with self._lock:
            found = self.by_key.get(key)
            if found is None:
                return None
            subscriber, expires_at = found
            if subscriber.status is SubscriberStatus.CONFIRMED:
                return subscriber if subscriber.nonce == nonce else None
            if subscriber.nonce != nonce or (expires_at or 0) <= at.timestamp():
                return None
            confirmed = replace(
                subscriber, status=SubscriberStatus.CONFIRMED, lang=lang, confirmed_at=at
            )
            self.by_key[key] = (confirmed, None)
            return confirmed

    def remove(self, key: str) -> None:
        with self._lock:
            self.by_key.pop(key, None)

    def confirmed(self, after: str | None, limit: int) -> ReaderPage:
        entries = [
            NoticeReader(
                email=s.email,
                lang=s.lang,
                position=f"{s.confirmed_at:%Y-%m-%dT%H:%M:%S.%fZ}#{s.key}",
            )
            for s, _ in list(self.by_key.values())
            if s.status is SubscriberStatus.CONFIRMED and s.confirmed_at is not None
        ]
        return _page(entries, after, limit)


class FakeLimits:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def allow(self, subject: str, now: int, window_seconds: int, limit: int) -> bool:
        window = (subject, now // window_seconds)
        if self.counts.get(window, 0) >= limit:
            return False
        self.counts[window] = self.counts.get(window, 0) + 1
        return True


@dataclass
class _Record:
    mail_id: str
    state: str
    lease_until: int


class FakeRecords:
    """Claims and cursors, each write atomic as DynamoDB's conditional writes are."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], _Record] = {}
        self.cursors: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def claim(
        self,
        change_id: str,
        email: str,
        mail_id: str,
        now: datetime,
        lease_seconds: int,
        keep_until: int,
    ) -> Claim:
        moment = int(now.timestamp())
        with self._lock:
            found = self.records.get((change_id, email))
            if found is None:
                self.records[(change_id, email)] = _Record(
                    mail_id, "claimed", moment + lease_seconds
                )
                return Claim.OURS
            if found.state == "queued":
                return Claim.QUEUED
            if found.lease_until > moment:
                return Claim.HELD
            found.lease_until = moment + lease_seconds
            return Claim.OURS

    def mark_queued(self, change_id: str, email: str, at: datetime) -> None:
        with self._lock:
            self.records[(change_id, email)].state = "queued"

    def position(self, change_id: str, list_name: str) -> str | None:
        return self.cursors.get((change_id, list_name))

    def advance(self, change_id: str, list_name: str, position: str, keep_until: int) -> None:
        with self._lock:
            current = self.cursors.get((change_id, list_name))
            if current is None or current < position:
                self.cursors[(change_id, list_name)] = position


class Crash(Exception):
    """The process stopped here (a Lambda timeout, a lost container)."""


@dataclass
class FakeOutbox:
    """`OnceMailOutbox` in memory: the mail log (status by mail id) and the queue.  `crash_*`
    make the next send stop before the log record or between the record and the queue."""

    log: dict[str, str] = field(default_factory=dict)
    queue: list[OutboundMail] = field(default_factory=list)
    crash_before_record: int = 0
    crash_before_queue: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_once(self, mail: OutboundMail) -> bool:
        with self._lock:
            if self.crash_before_record:
                self.crash_before_record -= 1
                raise Crash("before the mail was recorded")
            if mail.mail_id in self.log:
                if self.log[mail.mail_id] == "queued":
                    self.queue.append(mail)
                return False
            self.log[mail.mail_id] = "queued"
            if self.crash_before_queue:
                self.crash_before_queue -= 1
                raise Crash("after the mail was recorded, before it was queued")
            self.queue.append(mail)
            return True

    def deliver(self) -> list[OutboundMail]:
        """What the mail-out worker sends: each mail id once (a redelivery is a no-op)."""
        sent: list[OutboundMail] = []
        for mail in self.queue:
            if self.log.get(mail.mail_id) == "queued":
                self.log[mail.mail_id] = "sent"
                sent.append(mail)
        self.queue = []
        return sent

    def queued_to(self, address: str) -> list[OutboundMail]:
        return [m for m in self.queue if m.to == [address]]


class NoticeWorld:
    """A deployment's notice ports in memory, at NOW."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.changes = InMemorySubprocessorChanges()
        self.admins = FakeAdmins()
        self.subscribers = FakeSubscribers(self.clock)
        self.records = FakeRecords()
        self.outbox = FakeOutbox()
        self.limits = FakeLimits()
        self.links = NoticeLinks(
            public_base_url="https://api.helptal.test",
            app_base_url="https://app.helptal.test",
            secret=lambda: SECRET,
        )
        self._joined = 0

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def deps(self) -> NoticeDeps:
        return NoticeDeps(
            changes=self.changes,
            admins=self.admins,
            subscribers=self.subscribers,
            records=self.records,
            mail=self.outbox,
            links=self.links,
            clock=self.clock,
        )

    def subscription_deps(self) -> SubscriptionDeps:
        return SubscriptionDeps(
            subscribers=self.subscribers,
            limits=self.limits,
            mail=self.outbox,
            links=self.links,
            clock=self.clock,
        )

    def add_change(
        self,
        *,
        days_out: float = 40,
        announced_days_ago: float = 0,
        change_id: str = "01JCHANGE0000000000000000AWS",
    ) -> PlannedChange:
        change = PlannedChange(
            id=change_id,
            kind=ChangeKind.REPLACE,
            announced_at=self.now - timedelta(days=announced_days_ago),
            effective_at=self.now + timedelta(days=days_out),
            summary=Words(
                "Hosting moves to AWS in Singapore (ap-southeast-1).",
                "L'hébergement passe chez AWS à Singapour (ap-southeast-1).",
            ),
            subprocessor=AWS,
            replaces=("vultr", "digitalocean", "neon", "upstash"),
        )
        self.changes.record_change(change)
        return change

    def add_admin(self, email: str, *, lang: str = "en", name: str = "Ann") -> None:
        self._joined += 1
        since = self.now + timedelta(seconds=self._joined)
        position = f"{since:%Y-%m-%dT%H:%M:%S.%fZ}#WS{self._joined}#U{self._joined}"
        self.admins.entries.append(
            NoticeReader(email=email, lang=lang, position=position, name=name, member=True)
        )

    def subscribe_confirmed(self, email: str, *, lang: str = "en") -> Subscriber:
        self._joined += 1
        subscriber = Subscriber(
            email=email,
            lang=lang,
            status=SubscriberStatus.CONFIRMED,
            nonce=f"nonce-{self._joined}",
            created_at=self.now,
            confirmed_at=self.now + timedelta(seconds=self._joined),
        )
        self.subscribers.by_key[subscriber.key] = (subscriber, None)
        return subscriber
