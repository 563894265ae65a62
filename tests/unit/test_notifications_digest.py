"""The e-mail digest's rules against in-memory fakes: one mail per agent and run, only what
they want by e-mail and did not read in the app, each notification once, a mail recorded by
a run cut short queued by the next, in the workspace's language (the agent's own once their
profile has one)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.accounts.model import Member, Role, User, Workspace
from chalicelib.ids import new_id
from chalicelib.notifications.deps import NotificationDeps, NotificationPolicy
from chalicelib.notifications.digest import digest_language, run_digests
from chalicelib.notifications.model import (
    Channels,
    Notification,
    NotificationKind,
    Preferences,
    ReadState,
)
from chalicelib.notifications.ports import DigestChanged, DigestLease, WaitingMail

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WS = new_id()
BOB = new_id()
ALL_CHANNELS = Channels(in_app=True, email=True)


class FakeStore:
    """The digest side of NotificationStore, in memory, with its conditions."""

    def __init__(self):
        self.waiting: dict[str, WaitingMail] = {}
        self.unread: set[str] = set()
        self.state = ReadState()
        self.prefs = Preferences()
        self.due_at: datetime | None = None
        self.pending = 0
        self.lease: str | None = None
        self.outgoing = None

    def add(self, notification, channels, mail_due):
        if channels.in_app:
            self.unread.add(notification.id)
        if channels.email:
            self.waiting[notification.id] = WaitingMail(notification, channels.in_app)
            self.due_at = self.due_at or mail_due
            self.pending += 1
        return True

    def preferences(self, workspace_id, user_ids):
        return {u: self.prefs for u in user_ids}

    def due_digests(self, now, limit):
        return [(WS, BOB)] if self.due_at is not None and self.due_at <= now else []

    def lease_digest(self, workspace_id, user_id, now, seconds):
        if self.due_at is None or self.lease is not None:
            return None
        self.lease = new_id()
        return DigestLease(workspace_id, user_id, self.lease, self.pending, self.outgoing)

    def waiting_mail(self, workspace_id, user_id, limit):
        return [self.waiting[i] for i in sorted(self.waiting)[:limit]], set(self.unread), self.state

    def record_digest(self, lease, taken, drained, mail, now):
        if self.lease != lease.token or (drained and self.pending != lease.pending):
            raise DigestChanged()
        if any(i not in self.waiting for i in taken):
            raise DigestChanged()
        for i in taken:
            del self.waiting[i]
        self.pending = 0 if drained else self.pending - len(taken)
        self.lease = None
        if mail is not None:
            self.outgoing = mail
        elif drained:
            self.due_at = None

    def digest_queued(self, workspace_id, user_id, mail_id):
        if self.outgoing is not None and self.outgoing.mail_id == mail_id:
            self.outgoing = None
            if self.pending == 0:
                self.due_at = None

    def release_digest(self, lease):
        if self.lease == lease.token:
            self.lease = None


class FakeOutbox:
    def __init__(self, fail=False):
        self.sent = []
        self.fail = fail

    def send_recorded(self, mail):
        if self.fail:
            raise RuntimeError("queue unreachable")
        self.sent.append(mail)


class FakeAccounts:
    def __init__(self, locale="en", member=True, user_locale=None):
        self.workspace = Workspace(WS, "acme", "Acme Support", "UTC", locale, 1, NOW, NOW)
        self.member = member
        self.user_locale = user_locale

    def get_member(self, workspace_id, user_id):
        if not self.member:
            return None
        return Member(WS, BOB, Role.AGENT, "bob@acme.test", "Bob Martin", NOW)

    def get_workspace(self, workspace_id):
        return self.workspace

    def get_user(self, user_id):
        user = User(BOB, "bob@acme.test", "Bob Martin", "hash", NOW)
        if self.user_locale:
            user = dataclasses.replace(user, locale=self.user_locale)
        return user


def _deps(store, outbox=None, accounts=None):
    return NotificationDeps(
        store=store,
        accounts=accounts or FakeAccounts(),
        tickets=None,
        outbox=outbox or FakeOutbox(),
        clock=None,
        policy=NotificationPolicy(app_base_url="https://app.helptal.test"),
    )


def _tell(store, kind=NotificationKind.ASSIGNED, subject="Printer on fire", channels=ALL_CHANNELS):
    notification = Notification(
        id=new_id(),
        workspace_id=WS,
        user_id=BOB,
        kind=kind,
        ticket_id=new_id(),
        ticket_number=7,
        ticket_subject=subject,
        created_at=NOW,
        actor_name="Ann Owner",
    )
    store.add(notification, channels, NOW + timedelta(minutes=5))
    return notification


def test_nothing_is_mailed_before_the_agent_had_time_to_read_it_in_the_app():
    store, outbox = FakeStore(), FakeOutbox()
    _tell(store)
    assert run_digests(_deps(store, outbox), NOW + timedelta(minutes=1)).mailed == 0
    assert outbox.sent == []


def test_one_mail_lists_what_waits_and_a_second_run_mails_nothing():
    store, outbox = FakeStore(), FakeOutbox()
    first = _tell(store, subject="Printer on fire")
    _tell(store, NotificationKind.MENTION, subject="Refund twice")
    run = run_digests(_deps(store, outbox), NOW + timedelta(minutes=6))
    assert (run.mailed, run.notifications) == (1, 2)
    [mail] = outbox.sent
    assert mail.to == ["bob@acme.test"]
    assert mail.subject == "2 new notifications in Acme Support"
    assert "#7 was assigned to you: Printer on fire" in mail.text
    assert "Ann Owner mentioned you on #7: Refund twice" in mail.text
    assert f"https://app.helptal.test/tickets/{first.ticket_id}" in mail.text
    assert "https://app.helptal.test/settings/notifications" in mail.text
    assert store.due_at is None and store.waiting == {}
    assert run_digests(_deps(store, outbox), NOW + timedelta(minutes=11)).mailed == 0
    assert len(outbox.sent) == 1


def test_what_was_read_in_the_app_or_is_no_longer_wanted_by_mail_is_not_mailed_ever():
    store, outbox = FakeStore(), FakeOutbox()
    read = _tell(store, subject="Read already")
    _tell(store, NotificationKind.CUSTOMER_REPLY, subject="Replies off")
    store.unread.discard(read.id)
    store.prefs = Preferences({NotificationKind.CUSTOMER_REPLY: Channels(True, False)})
    assert run_digests(_deps(store, outbox), NOW + timedelta(minutes=6)).mailed == 0
    assert outbox.sent == [] and store.waiting == {} and store.due_at is None


def test_mark_all_as_read_counts_as_read_for_the_digest():
    store, outbox = FakeStore(), FakeOutbox()
    seen = _tell(store, subject="Seen")
    store.state = ReadState(revision=2, read_through=seen.id)
    later = _tell(store, subject="Later")
    run_digests(_deps(store, outbox), NOW + timedelta(minutes=6))
    [mail] = outbox.sent
    assert "Later" in mail.text and "Seen" not in mail.text
    assert later.id not in store.waiting


def test_a_mail_recorded_by_a_run_cut_short_is_queued_by_the_next_and_only_once():
    store = FakeStore()
    _tell(store)
    broken = FakeOutbox(fail=True)
    run = run_digests(_deps(store, broken), NOW + timedelta(minutes=6))
    assert run.mailed == 0 and store.outgoing is not None and store.waiting == {}
    outbox = FakeOutbox()
    run_digests(_deps(store, outbox), NOW + timedelta(minutes=11))
    assert len(outbox.sent) == 1 and store.outgoing is None
    run_digests(_deps(store, outbox), NOW + timedelta(minutes=16))
    assert len(outbox.sent) == 1


def test_a_digest_held_by_another_run_is_left_to_it():
    store, outbox = FakeStore(), FakeOutbox()
    _tell(store)
    store.lease = "another run"
    run = run_digests(_deps(store, outbox), NOW + timedelta(minutes=6))
    assert (run.due, run.skipped, outbox.sent) == (1, 1, [])


def test_a_former_member_is_mailed_nothing():
    store, outbox = FakeStore(), FakeOutbox()
    _tell(store)
    run_digests(_deps(store, outbox, FakeAccounts(member=False)), NOW + timedelta(minutes=6))
    assert outbox.sent == [] and store.waiting == {}


@pytest.mark.parametrize(
    ("workspace_locale", "user_locale", "subject"),
    [
        ("fr", None, "1 nouvelle notification dans Acme Support"),
        ("en", "fr", "1 nouvelle notification dans Acme Support"),
        ("fr", "en", "1 new notification in Acme Support"),
    ],
)
def test_the_digest_speaks_the_agents_language_else_the_workspaces(
    workspace_locale, user_locale, subject
):
    store, outbox = FakeStore(), FakeOutbox()
    _tell(store)
    accounts = FakeAccounts(locale=workspace_locale, user_locale=user_locale)
    run_digests(_deps(store, outbox, accounts), NOW + timedelta(minutes=6))
    assert outbox.sent[0].subject == subject
    assert digest_language(accounts.workspace, None) == (workspace_locale, "formal")
