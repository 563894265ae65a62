"""The notice of each planned sub-processor change: one mail to every owner and admin of every
workspace and to every confirmed subscriber, exactly once per change and address, during the
change's notice period (announced, not yet in force), however often the hourly job runs,
overlaps, is retried or stops halfway.

Every change announced before it takes effect is noticed, whatever it processes; one that
takes effect at once (allowed only when its provider does not process Workspace content) has
no notice period and shows in the changelog only.

For each such change, the owners and admins are read (a sparse index, in the order they
became one) and then the confirmed subscribers (in the order they confirmed), a page at a
time from where the change's last run stopped (its cursor per list, a little before it, so
nobody written meanwhile is skipped).  For each reader:
1. the change's notice to their address is claimed with a conditional write (an address on
   both lists, or an owner of two workspaces, is claimed once: one mail);
2. the mail, with an id made of the change and the address, is queued once (`send_once`:
   recorded, then put on the mail-out queue; a mail recorded but not queued is queued again);
3. the claim is marked queued.
A run that stops between 1 and 3 leaves a claim with a lease; a later run takes it over once
the lease has run out and queues the same mail id: it is mailed once.  People who join a list
during the notice period get the notice on the next run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.clock import Clock, epoch
from chalicelib.privacy.model import PlannedChange
from chalicelib.privacy.notice_links import NoticeLinks
from chalicelib.privacy.notice_mails import notice_mail, notice_mail_id
from chalicelib.privacy.notice_ports import (
    Claim,
    NoticeReader,
    NoticeRecords,
    NoticeSubscribers,
    OnceMail,
    ReaderPage,
    SubscriberStatus,
    WorkspaceAdmins,
    normalised_address,
    subscriber_key,
)
from chalicelib.privacy.ports import SubprocessorChanges
from chalicelib.privacy.registry import in_notice_period, known_providers

PAGE = 100
# A claim whose run stopped is taken over after this (a run queues a page in seconds).
LEASE = timedelta(minutes=15)
# Each run reads its lists from this long before where the last one stopped: a membership
# or confirmation written a moment before another that was read already is not skipped.
OVERLAP = timedelta(minutes=10)
# The records of a change's notice are kept this long after it takes effect.
KEEP_AFTER = timedelta(days=35)
ADMINS, SUBSCRIBERS = "admins", "subscribers"


@dataclass(frozen=True)
class NoticeDeps:
    changes: SubprocessorChanges
    admins: WorkspaceAdmins
    subscribers: NoticeSubscribers
    records: NoticeRecords
    mail: OnceMail
    links: NoticeLinks
    clock: Clock  # the leases' time (the runs' own), not the schedule's


def rewound(position: str, by: timedelta) -> str:
    """A list position `by` earlier (positions start with an ISO time, `…Z#…`)."""
    moment, _, _ = position.partition("#")
    try:
        earlier = datetime.fromisoformat(moment.replace("Z", "+00:00")) - by
    except ValueError:
        return ""  # not a position of ours: from the start (claims keep it once)
    return earlier.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def send_due_notices(
    deps: NoticeDeps, now: datetime, keep_going: Callable[[], bool] = lambda: True
) -> dict[str, int]:
    """Queues the notices due at `now` (the schedule's time), stopping early when
    `keep_going()` says so (the next run goes on from there).  Counts: `changes` in their
    notice period, mails `queued` now, readers `already` mailed, readers `held` by another
    run, and `unfinished` (1 when it stopped early).  Reads: the changes, the lists a page
    at a time, the cursors; writes a claim and a mail per reader, the cursors."""
    counts: Counter[str] = Counter(changes=0, queued=0, already=0, held=0, unfinished=0)
    changes = deps.changes.all_changes()
    due = [c for c in changes if in_notice_period(c, now)]
    providers = {id: provider.name for id, provider in known_providers(changes).items()}
    for change in due:
        counts["changes"] += 1
        lists = ((ADMINS, deps.admins.listed), (SUBSCRIBERS, deps.subscribers.confirmed))
        for name, listing in lists:
            if not _go_down(deps, change, name, listing, now, providers, counts, keep_going):
                counts["unfinished"] = 1
                return dict(counts)
    return dict(counts)


def _go_down(
    deps: NoticeDeps,
    change: PlannedChange,
    list_name: str,
    listing: Callable[[str | None, int], ReaderPage],
    now: datetime,
    providers: Mapping[str, str],
    counts: Counter[str],
    keep_going: Callable[[], bool],
) -> bool:
    """Notifies the readers of one list from the change's cursor; False when it stopped early."""
    keep_until = epoch(change.effective_at + KEEP_AFTER)
    stored = deps.records.position(change.id, list_name)
    after = rewound(stored, OVERLAP) if stored else None
    while True:
        page = listing(after, PAGE)
        done = None
        for reader in page.readers:
            if not keep_going():
                if done is not None:
                    deps.records.advance(change.id, list_name, done, keep_until)
                return False
            counts[_COUNTED[_notify(deps, change, reader, now, providers, keep_until)]] += 1
            done = reader.position
        if done is not None:
            deps.records.advance(change.id, list_name, done, keep_until)
            after = done
        if not page.more:
            return True
        if not keep_going():
            return False


_COUNTED = {Claim.OURS: "queued", Claim.QUEUED: "already", Claim.HELD: "held"}


def _notify(
    deps: NoticeDeps,
    change: PlannedChange,
    reader: NoticeReader,
    now: datetime,
    providers: Mapping[str, str],
    keep_until: int,
) -> Claim:
    """Claims the change's notice to the reader's address and, when it is ours, queues the
    mail and marks the claim queued."""
    address = normalised_address(reader.email)
    claim = deps.records.claim(
        change.id,
        address,
        notice_mail_id(change.id, address),
        deps.clock.now(),
        int(LEASE.total_seconds()),
        keep_until,
    )
    if claim is not Claim.OURS:
        return claim
    key = subscriber_key(address)
    subscribed = not reader.member
    if reader.member:  # an owner or admin who subscribed too: one mail, with both links
        found = deps.subscribers.get(key)
        subscribed = found is not None and found.status is SubscriberStatus.CONFIRMED
    mail = notice_mail(
        change,
        to=address,
        lang=reader.lang,
        name=reader.name,
        now=now,
        links=deps.links,
        providers=providers,
        member=reader.member,
        unsubscribe_token=deps.links.unsubscribe_token(key) if subscribed else None,
    )
    deps.mail.send_once(mail)
    deps.records.mark_queued(change.id, address, deps.clock.now())
    return claim
