"""The erasure phases after the tickets (chalicelib/privacy/erasure.py): bookings, mail,
exports, queues and, last, the contact.  Each `step` does a bounded piece of work and says
where to carry on (a JSON cursor), changes only what still holds the person's data and
counts only what it changed, so a step run again counts zero.

| phase      | reads (never a Scan)                               | changes                     |
|------------|----------------------------------------------------|-----------------------------|
| `bookings` | Query `WS#<ws>#CONTACTBK#<contact>` (≤ 25), then   | the booking's `core` (name, |
|            | `WS#<ws>` `BOOKING#` pages of 25 (their address);  | address, answers, reason),  |
|            | per booking: GetItem event type, BatchGet reminders| `sequence` + 1; deletes the |
|            | and `MAIL#booking:<id>:` (its mails)               | contact-booking entry, the  |
|            |                                                    | reminders, the job due item;|
|            |                                                    | anonymises its mail records |
| `mail`     | `WS#<ws>` `MAIL#` pages of 200, `HELD#` of 100,    | anonymises mail records;    |
|            | `RATE#<sha(address)>#`, `FWDCLAIM#<address>`,      | deletes held and unrouted   |
|            | `UNROUTED#<day>`, 33 days (12 a step, pages of 200)| mail and their raw objects  |
| `exports`  | `WS#<ws>` `privacy#export#` pages of 50            | bundle objects; the request |
|            |                                                    | kept, reading expired       |
| `queues`   | ReceiveMessage (≤ 10 per call, ≤ 10 calls a step)  | deletes messages naming them|
| `contact`  | GetItem lookup and contact, Query the address term | contact, lookup, its terms  |

A booking keeps its times (the host's time stays taken) and its ids; its invitee becomes
`[erased]` at an `.invalid` address, so a later change by the host mails no one
(`mail.delivery.never_delivered`).  Its `sequence` moves on, so a booking job or a reminder
still waiting for the old sequence does nothing (`booking.sync`, `booking.reminders`)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.booking.ports import BookingJob
from chalicelib.booking.reminders import DueReminder
from chalicelib.clock import Clock, SystemClock
from chalicelib.mail.outbound import MailStatus
from chalicelib.observability import logger
from chalicelib.privacy.erasure import ERASED, Step, Subject
from chalicelib.privacy.exports import ExportScope, ExportStatus, export_key
from chalicelib.privacy.mentions import address_regex, mentions, without_address
from chalicelib.store import keys
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.booking_job_outbox_repo import due_ref, parse_ref
from chalicelib.store.models import (
    BookingItem,
    BookingJobDueItem,
    BookingReminderItem,
    ContactBookingItem,
    ContactEmailLookup,
    ContactIndexItem,
    ContactItem,
    EventTypeItem,
    ForwardingClaimItem,
    HeldMailItem,
    Item,
    OutboundMailItem,
    SenderRateItem,
    UnroutedMailItem,
)
from chalicelib.store.privacy_export_repo import EXPORT_PREFIX, ExportItem
from chalicelib.store.reminders_repo import _key as reminder_key
from chalicelib.tickets.contacts import MAX_TERM_CHARS, fold, search_terms

# Where an invitee's address was: `.invalid` never resolves, and no mail is sent to it.
ERASED_ADDRESS = "erased@erased.invalid"
NOT_SENT = "not sent: the recipient's data was erased"
DEFAULT_REMINDERS = (1440, 60)
UNROUTED_DAYS = 33  # unrouted mail is kept 30 days (TTL deletion lags a little)
_CONDITION_FAILED = "ConditionalCheckFailedException"
_NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
_NO_OBJECT = ("404", "NoSuchKey", "NotFound")


# -- shared ------------------------------------------------------------------------------


def _state(cursor: str | None) -> dict[str, Any]:
    """The cursor's state; a cursor that is not ours starts the phase again (safe)."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _cursor(**state: Any) -> str:
    return json.dumps(state, separators=(",", ":"), sort_keys=True)


def _start_key(state: dict[str, Any], pk: str) -> dict[str, Any] | None:
    """The page's start key, only when it is one of this partition (else from the start)."""
    key = state.get("k")
    if isinstance(key, dict) and key.get("PK") == {"S": pk} and isinstance(key.get("SK"), dict):
        return {"PK": key["PK"], "SK": key["SK"]}
    return None


def _deleted(item: Item) -> bool:
    """Deletes the item; False when it was gone already."""
    try:
        item.delete(condition=Item.pk.exists())
    except DeleteError as e:
        if e.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def address_of(recipient: str) -> str:
    """The address of `"Name" <address>` or of a bare address, normalised."""
    text = recipient.strip()
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1]
    return text.strip().lower()


def _contact_ids(subject: Subject) -> list[str]:
    """The subject's contact, as the erasure found it and as the address's lookup says now
    (GetItem; the lookup goes with the last phase)."""
    found = [subject.contact_id] if subject.contact_id else []
    try:
        lookup = ContactEmailLookup.get(
            keys.workspace_pk(subject.workspace_id),
            keys.contact_email_sk(subject.email),
            consistent_read=True,
        )
    except ContactEmailLookup.DoesNotExist:
        return found
    if lookup.contact_id and lookup.contact_id not in found:
        found.append(lookup.contact_id)
    return found


def remove_object(blobs: S3BlobStore, key: str) -> bool:
    """Deletes the object at `key` of the content bucket; False when there was none
    (HeadObject first, so that a step run again counts only what it deleted)."""
    from botocore.exceptions import ClientError

    try:
        # The store keeps no existence check of its own; its client and bucket are these.
        blobs._s3.head_object(Bucket=blobs._bucket, Key=key)
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code")) in _NO_OBJECT:
            return False
        raise
    blobs.delete(key)
    return True


def erased_recipients(recipients: Sequence[str], address: str) -> list[str] | None:
    """`recipients` with `address` replaced by ERASED; None when it is not among them."""
    if not any(address_of(r) == address for r in recipients):
        return None
    return [ERASED if address_of(r) == address else r for r in recipients]


def _anonymise_mail(mail: OutboundMailItem, recipients: list[str], now: datetime) -> bool:
    """The record's subject becomes ERASED and its recipients `recipients`; a mail still
    queued is marked failed, so the mail-out worker (which reads the record first) never
    sends it.  False when the record is gone."""
    actions: list[Any] = [
        OutboundMailItem.to.set(recipients),  # type: ignore[arg-type]
        OutboundMailItem.subject.set(ERASED),
        OutboundMailItem.updated_at.set(now),
    ]
    if mail.status == MailStatus.QUEUED.value:
        actions += [
            OutboundMailItem.status.set(MailStatus.FAILED.value),
            OutboundMailItem.last_error.set(NOT_SENT),
        ]
    try:
        OutboundMailItem(mail.pk, mail.sk).update(actions=actions, condition=Item.pk.exists())
    except UpdateError as e:
        if e.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


# -- bookings ----------------------------------------------------------------------------


def anonymised_booking_core(core: dict[str, Any]) -> dict[str, Any]:
    """The booking's JSON without what its invitee gave: name and address, answers, and the
    cancellation's reason (theirs, or the host's words about them).  Times, hosts, status,
    location and their time zone and language (what the booking's pages need) stay."""
    anonymised = dict(core)
    invitee = dict(core.get("invitee") or {})
    invitee["name"] = ERASED
    invitee["email"] = ERASED_ADDRESS
    anonymised["invitee"] = invitee
    anonymised["answers"] = {str(k): ERASED for k in (core.get("answers") or {})}
    if core.get("cancel_reason"):
        anonymised["cancel_reason"] = ERASED
    return anonymised


def _invitee_address(core: dict[str, Any]) -> str:
    invitee = core.get("invitee")
    email = invitee.get("email") if isinstance(invitee, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class _BookingOutcome:
    anonymised: int = 0
    reminders: int = 0
    mails: int = 0


class BookingsErasure:
    """Bookings whose invitee is the subject: those of their contact (the contact-booking
    entries), then every booking of the workspace still holding their address (a job that
    never ran has no contact yet)."""

    name = "bookings"
    PAGE = 25
    MAILS_PER_BOOKING = 100

    def __init__(self, clock: Clock | None = None, page_size: int = PAGE) -> None:
        self._clock = clock or SystemClock()
        self._page = page_size

    def step(self, subject: Subject, cursor: str | None) -> Step:
        state = _state(cursor)
        outcome = _BookingOutcome()
        contact_ids = _contact_ids(subject)
        if state.get("s") != "all":
            for contact_id in contact_ids:
                entries = list(
                    ContactBookingItem.query(
                        keys.contact_bookings_pk(subject.workspace_id, contact_id),
                        ContactBookingItem.sk.startswith(keys.BOOKING_PREFIX),
                        consistent_read=True,
                        limit=self._page,
                    )
                )
                if entries:
                    for entry in entries:
                        self._erase_booking(subject, entry.booking_id, contact_ids, outcome)
                        _deleted(ContactBookingItem(entry.pk, entry.sk))
                    return self._step(outcome, _cursor(s="contact"))
            return self._step(outcome, _cursor(s="all"))
        pk = keys.workspace_pk(subject.workspace_id)
        page = BookingItem.query(
            pk,
            BookingItem.sk.startswith(keys.BOOKING_PREFIX),
            consistent_read=True,
            limit=self._page,
            last_evaluated_key=_start_key(state, pk),
        )
        for item in page:
            if _invitee_address(json.loads(item.core or "{}")) == subject.email:
                self._erase_booking(subject, item.booking_id, contact_ids, outcome)
        last = page.last_evaluated_key
        return self._step(outcome, _cursor(s="all", k=last) if last else None)

    @staticmethod
    def _step(outcome: _BookingOutcome, cursor: str | None) -> Step:
        counts = {
            "bookings": outcome.anonymised,
            "reminders": outcome.reminders,
            "outbound_mail": outcome.mails,
        }
        return Step(counts=counts, cursor=cursor)

    def _erase_booking(
        self, subject: Subject, booking_id: str, contact_ids: list[str], outcome: _BookingOutcome
    ) -> None:
        """Anonymises the booking (under its version, read again on a race) and its mails
        (to her and to the hosts: their subjects name her), and removes what waits to be
        done for it: reminders, its job's due item, contact-booking entries."""
        pk, sk = keys.workspace_pk(subject.workspace_id), keys.booking_sk(booking_id)
        for _attempt in range(5):
            try:
                item = BookingItem.get(pk, sk, consistent_read=True)
            except BookingItem.DoesNotExist:
                return
            core: dict[str, Any] = json.loads(item.core or "{}")
            anonymised = anonymised_booking_core(core)
            version = int(item.version or 0)
            sequence = int(item.sequence or 0)
            if anonymised == core:
                break
            unchanged = BookingItem.version == version
            if version == 0:
                unchanged = unchanged | BookingItem.version.does_not_exist()
            try:
                BookingItem(pk, sk).update(
                    actions=[
                        BookingItem.core.set(json.dumps(anonymised, separators=(",", ":"))),
                        BookingItem.sequence.set(sequence + 1),
                        BookingItem.version.set(version + 1),
                    ],
                    condition=Item.pk.exists() & unchanged,
                )
            except UpdateError as e:
                if e.cause_response_code == _CONDITION_FAILED:
                    continue  # changed meanwhile (or gone): read it again
                raise
            outcome.anonymised += 1
            sequence += 1
            break
        else:
            raise RuntimeError(f"booking {booking_id} kept changing while it was anonymised")
        # The old sequence's too: a run that stopped after the update still removes them.
        sequences = [s for s in (sequence, sequence - 1) if s >= 0]
        outcome.reminders += self._drop_reminders(subject, item, core, sequences)
        changed_at = _moment(core.get("updated_at")) or _moment(core.get("created_at"))
        if changed_at is not None:
            for seq in sequences:
                job = BookingJob(subject.workspace_id, booking_id, "", seq)
                due = parse_ref(due_ref(job, changed_at))
                if due is not None:
                    _deleted(BookingJobDueItem(*due))
        outcome.mails += self._anonymise_mails(subject, booking_id)
        for contact_id in {*contact_ids, *([item.contact_id] if item.contact_id else [])}:
            _deleted(
                ContactBookingItem(keys.contact_bookings_pk(subject.workspace_id, contact_id), sk)
            )

    def _anonymise_mails(self, subject: Subject, booking_id: str) -> int:
        """The booking's mail records (`MAIL#booking:<id>:...`, one Query)."""
        changed = 0
        for mail in OutboundMailItem.query(
            keys.workspace_pk(subject.workspace_id),
            OutboundMailItem.sk.startswith(keys.outbound_mail_sk(f"booking:{booking_id}:")),
            consistent_read=True,
            limit=self.MAILS_PER_BOOKING,
        ):
            to = [str(r) for r in mail.to or []]
            recipients = erased_recipients(to, subject.email) or to
            if mail.subject == ERASED and recipients == to:
                continue
            changed += _anonymise_mail(mail, recipients, self._clock.now())
        return changed

    @staticmethod
    def _drop_reminders(
        subject: Subject, item: BookingItem, core: dict[str, Any], sequences: list[int]
    ) -> int:
        """Deletes the booking's reminder items (one per reminder of its event type, for
        each sequence); counts those not sent yet."""
        start = _moment(core.get("start"))
        if start is None:
            return 0
        minutes = set(DEFAULT_REMINDERS)
        event_type_id = core.get("event_type_id")
        if isinstance(event_type_id, str) and event_type_id:
            try:
                event_type = EventTypeItem.get(
                    keys.workspace_pk(subject.workspace_id), keys.event_type_sk(event_type_id)
                )
                body = json.loads(event_type.body or "{}")
                minutes |= {int(m) for m in body.get("reminders") or [] if int(m) > 0}
            except EventTypeItem.DoesNotExist:
                pass
        wanted = [
            reminder_key(
                DueReminder(
                    subject.workspace_id,
                    item.booking_id,
                    m,
                    seq,
                    start,
                    start - timedelta(minutes=m),
                )
            )
            for m in sorted(minutes)
            for seq in sequences
        ]
        pending = 0
        for reminder in BookingReminderItem.batch_get(wanted):
            if _deleted(BookingReminderItem(reminder.pk, reminder.sk)) and not reminder.outcome:
                pending += 1
        return pending


# -- mail --------------------------------------------------------------------------------


class MailErasure:
    """Outbound mail records addressed to them (anonymised; one still queued is marked
    failed, so the mail-out worker, which reads the record before sending, never sends
    it), mail held from them and mail from them that reached no workspace (deleted with
    its raw copy), their sender-rate counters and a forwarding claim on their address.

    Stages, in the cursor: `outbound` (MAIL# pages), `held` (HELD# pages), `rate` (one
    step), `unrouted` (one day's partition at a time, oldest first)."""

    name = "mail"
    OUTBOUND_PAGE = 200
    HELD_PAGE = 100
    UNROUTED_PAGE = 200
    UNROUTED_DAYS_PER_STEP = 12

    def __init__(self, blobs: S3BlobStore, clock: Clock | None = None) -> None:
        self._blobs = blobs
        self._clock = clock or SystemClock()

    def step(self, subject: Subject, cursor: str | None) -> Step:
        state = _state(cursor)
        stage = state.get("s", "outbound")
        if stage == "held":
            return self._held(subject, state)
        if stage == "rate":
            return self._rate(subject)
        if stage == "unrouted":
            return self._unrouted(subject, state)
        return self._outbound(subject, state)

    @staticmethod
    def _counts(outbound: int = 0, held: int = 0, raw: int = 0) -> dict[str, int]:
        return {"outbound_mail": outbound, "held_mail": held, "raw_mail": raw}

    def _outbound(self, subject: Subject, state: dict[str, Any]) -> Step:
        pk = keys.workspace_pk(subject.workspace_id)
        page = OutboundMailItem.query(
            pk,
            OutboundMailItem.sk.startswith(keys.outbound_mail_sk("")),
            consistent_read=True,
            limit=self.OUTBOUND_PAGE,
            last_evaluated_key=_start_key(state, pk),
        )
        changed = 0
        for mail in page:
            recipients = erased_recipients([str(r) for r in mail.to or []], subject.email)
            if recipients is not None and _anonymise_mail(mail, recipients, self._clock.now()):
                changed += 1
        last = page.last_evaluated_key
        following = _cursor(s="outbound", k=last) if last else _cursor(s="held")
        return Step(self._counts(outbound=changed), following)

    def _held(self, subject: Subject, state: dict[str, Any]) -> Step:
        pk = keys.workspace_pk(subject.workspace_id)
        page = HeldMailItem.query(
            pk,
            HeldMailItem.sk.startswith(keys.HELD_PREFIX),
            consistent_read=True,
            limit=self.HELD_PAGE,
            last_evaluated_key=_start_key(state, pk),
        )
        held = raw = 0
        for mail in page:
            if address_of(mail.sender or "") != subject.email:
                continue
            raw += remove_object(self._blobs, mail.raw_key) if mail.raw_key else 0
            held += _deleted(HeldMailItem(mail.pk, mail.sk))
        last = page.last_evaluated_key
        following = _cursor(s="held", k=last) if last else _cursor(s="rate")
        return Step(self._counts(held=held, raw=raw), following)

    def _rate(self, subject: Subject) -> Step:
        """Their hourly counters (keyed by a hash of the address, as intake counts it) and
        a pending claim on their address as a forwarding address."""
        pk = keys.workspace_pk(subject.workspace_id)
        prefix = keys.sender_rate_sk(subject.email, 0).rsplit("#", 1)[0] + "#"
        for counter in SenderRateItem.query(
            pk, SenderRateItem.sk.startswith(prefix), consistent_read=True, limit=100
        ):
            _deleted(SenderRateItem(counter.pk, counter.sk))
        _deleted(ForwardingClaimItem(pk, keys.forwarding_claim_sk(subject.email)))
        first = self._clock.now().astimezone(UTC).date() - timedelta(days=UNROUTED_DAYS - 1)
        return Step(self._counts(), _cursor(s="unrouted", d=first.isoformat()))

    def _unrouted(self, subject: Subject, state: dict[str, Any]) -> Step:
        """Up to UNROUTED_DAYS_PER_STEP days' partitions, a page each (most days hold
        little); a full page ends the step where it stopped."""
        today = self._clock.now().astimezone(UTC).date()
        try:
            day = datetime.fromisoformat(str(state.get("d"))).date()
        except ValueError:
            day = today - timedelta(days=UNROUTED_DAYS - 1)
        day = max(day, today - timedelta(days=UNROUTED_DAYS - 1))
        start = state
        held = raw = 0
        for _ in range(self.UNROUTED_DAYS_PER_STEP):
            pk = keys.unrouted_pk(day.isoformat())
            page = UnroutedMailItem.query(
                pk,
                consistent_read=True,
                limit=self.UNROUTED_PAGE,
                last_evaluated_key=_start_key(start, pk),
            )
            for mail in page:
                if subject.email not in (address_of(mail.sender), address_of(mail.recipient)):
                    continue
                raw += remove_object(self._blobs, mail.raw_key) if mail.raw_key else 0
                held += _deleted(UnroutedMailItem(mail.pk, mail.sk))
            last = page.last_evaluated_key
            if last:
                following = _cursor(s="unrouted", d=day.isoformat(), k=last)
                return Step(self._counts(held=held, raw=raw), following)
            if day >= today:
                return Step(self._counts(held=held, raw=raw), None)
            day, start = day + timedelta(days=1), {}
        following = _cursor(s="unrouted", d=day.isoformat())
        return Step(self._counts(held=held, raw=raw), following)


# -- exports -----------------------------------------------------------------------------


class ExportsErasure:
    """Data-subject exports that hold them: their own (the address is cleared from the
    log entry) and the workspace's (every kept bundle holds every contact).  The bundle
    object is deleted and the entry reads expired from now on; an export not built yet is
    stopped the same way (its job leaves an export that reads ready alone)."""

    name = "exports"
    PAGE = 50

    def __init__(self, blobs: S3BlobStore, clock: Clock | None = None) -> None:
        self._blobs = blobs
        self._clock = clock or SystemClock()

    def step(self, subject: Subject, cursor: str | None) -> Step:
        state = _state(cursor)
        pk = keys.workspace_pk(subject.workspace_id)
        contact_ids = set(_contact_ids(subject))
        page = ExportItem.query(
            pk,
            ExportItem.sk.startswith(EXPORT_PREFIX),
            consistent_read=True,
            limit=self.PAGE,
            last_evaluated_key=_start_key(state, pk),
        )
        changed = 0
        for export in page:
            theirs = export.scope == ExportScope.CONTACT.value and (
                address_of(export.contact_email or "") == subject.email
                or (export.contact_id is not None and export.contact_id in contact_ids)
            )
            if theirs or export.scope == ExportScope.WORKSPACE.value:
                changed += self._withdraw(export, clear_subject=theirs)
        last = page.last_evaluated_key
        return Step({"exports": changed}, _cursor(k=last) if last else None)

    def _withdraw(self, export: ExportItem, *, clear_subject: bool) -> int:
        now = self._clock.now()
        removed = False
        for key in {export.object_key, export_key(export.workspace_id, export.export_id)}:
            if key:
                removed = remove_object(self._blobs, key) or removed
        actions: list[Any] = []
        if clear_subject and (export.contact_email is not None or export.contact_id is not None):
            actions += [ExportItem.contact_email.remove(), ExportItem.contact_id.remove()]
        status = export.status
        if status in (ExportStatus.PENDING.value, ExportStatus.BUILDING.value):
            actions += [
                ExportItem.status.set(ExportStatus.READY.value),
                ExportItem.bundle_expires_at.set(now),
            ]
        elif status == ExportStatus.READY.value and (
            export.bundle_expires_at is None or export.bundle_expires_at > now
        ):
            actions.append(ExportItem.bundle_expires_at.set(now))
        if actions:
            try:
                ExportItem(export.pk, export.sk).update(actions=actions, condition=Item.pk.exists())
            except UpdateError as e:
                if e.cause_response_code != _CONDITION_FAILED:
                    raise
                actions = []
        return 1 if removed or actions else 0


# -- queues ------------------------------------------------------------------------------


class QueueMessageJudge:
    """Which queue messages name the subject: their address (as a whole address, any
    case, either Unicode form, also JSON-escaped: `chalicelib.privacy.mentions`), their
    contact id or one of their tickets' ids.  Only a message of this workspace can be
    theirs: a JSON object whose `workspace_id` is the erasure's (every product message of a
    workspace says whose it is); one of another workspace, or that says of no workspace, or
    that is no JSON object, is never deleted.  Nor is the erasure's own job
    (`"kind": "erasure"`)."""

    def __init__(self, subject: Subject) -> None:
        forms = {unicodedata.normalize(f, subject.email) for f in ("NFC", "NFD")}
        addresses = forms | {json.dumps(form)[1:-1].lower() for form in forms}
        ids = {i.lower() for i in (subject.contact_id, *subject.ticket_ids) if i}
        id_patterns = [rf"(?<![0-9a-z]){re.escape(i)}(?![0-9a-z])" for i in sorted(ids)]
        patterns = [address_regex(a) for a in sorted(addresses) if a] + id_patterns
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None
        self._ids = re.compile("|".join(id_patterns), re.IGNORECASE) if id_patterns else None
        self._workspace_id = subject.workspace_id
        self._address = subject.email

    def names_subject(self, body: str) -> bool:
        if self._pattern is None:
            return False
        try:
            decoded = json.loads(body)
        except ValueError:
            return False
        if not isinstance(decoded, dict) or decoded.get("kind") == "erasure":
            return False
        if decoded.get("workspace_id") != self._workspace_id:
            return False
        return self._pattern.search(body.lower()) is not None

    def for_others(self, body: str) -> str | None:
        """A team's reply waiting to go out to others besides the subject (one that copies
        them, or names them): the same reply without them — their address out of its
        recipients and `[erased]` wherever its text names it — so the others still get it.
        None for any other mail (a booking's, a notification's: about them, so it goes),
        one to them alone, or one on their tickets."""
        try:
            mail = json.loads(body)
        except ValueError:
            return None
        if not isinstance(mail, dict) or not isinstance(mail.get("mail_id"), str):
            return None
        if mail.get("purpose") != "ticket_reply":
            return None
        if self._ids is not None and self._ids.search(body):
            return None
        address = self._address

        def kept(recipients: Any) -> list[Any]:
            listed = recipients if isinstance(recipients, list) else []
            return [r for r in listed if not (isinstance(r, str) and mentions(r, address))]

        def rewritten(value: Any) -> Any:
            if isinstance(value, str):
                return without_address(value, address)
            if isinstance(value, list):
                return [rewritten(v) for v in value]
            if isinstance(value, dict):
                return {k: rewritten(v) for k, v in value.items()}
            return value

        to = kept(mail.get("to"))
        if not to:
            return None
        others = {
            **{k: rewritten(v) for k, v in mail.items() if k not in ("to", "cc", "bcc")},
            "to": to,
            "cc": kept(mail.get("cc")),
        }
        if "bcc" in mail:
            others["bcc"] = kept(mail.get("bcc"))
        again = json.dumps(others, separators=(",", ":"))
        return None if self.names_subject(again) else again


def queue_names_of_settings() -> list[str]:
    """Every queue of the deployment and its dead-letter queue (`<name>-dlq`)."""
    from chalicelib.settings import get_settings

    names = get_settings().queues.all().values()
    return [n for name in names for n in (name, f"{name}-dlq")]


class QueuesErasure:
    """Messages waiting in the product's queues and dead-letter queues that name the
    subject are deleted; the others are put back.

    A step works on one queue (the cursor: which, how many receives so far, how many empty
    in a row): up to `receives_per_step` receives of 10 (WaitTimeSeconds 0), holding what it
    received for `hold_seconds` so the next receive reaches other messages and each message
    is received once per sweep (every receive counts towards the queue's maxReceiveCount).
    A queue is done after two empty receives in a row, or a receive of only messages seen
    in this step, or `max_receives` receives (a backlog larger than the sweep: logged); the
    messages held are then made visible at once (ChangeMessageVisibility 0).  A step that
    leaves its queue unfinished leaves them held: they come back by themselves."""

    name = "queues"

    def __init__(
        self,
        client: Callable[[], Any],
        queue_names: Sequence[str] | None = None,
        *,
        receives_per_step: int = 10,
        hold_seconds: int = 30,
        max_receives: int = 300,
    ) -> None:
        self._client = client
        self._names = list(queue_names) if queue_names is not None else None
        self._receives_per_step = receives_per_step
        self._hold_seconds = hold_seconds
        self._max_receives = max_receives
        self._urls: dict[str, str | None] = {}

    def _queues(self) -> list[str]:
        if self._names is None:
            self._names = queue_names_of_settings()
        return self._names

    def _url(self, name: str) -> str | None:
        from botocore.exceptions import ClientError

        if name not in self._urls:
            try:
                self._urls[name] = self._client().get_queue_url(QueueName=name)["QueueUrl"]
            except ClientError as e:
                if str(e.response.get("Error", {}).get("Code")) not in _NO_QUEUE:
                    raise
                logger.warning("erasure: no such queue", extra={"queue": name})
                self._urls[name] = None
        return self._urls[name]

    def step(self, subject: Subject, cursor: str | None) -> Step:
        state = _state(cursor)
        names = self._queues()
        position = state.get("q", 0)
        position = position if isinstance(position, int) and position >= 0 else 0
        if position >= len(names):
            return Step({"queue_messages": 0}, None)
        receives = int(state.get("r", 0) or 0)
        empties = int(state.get("e", 0) or 0)
        url = self._url(names[position])
        deleted = 0
        finished = url is None
        if url is not None:
            deleted, receives, empties, finished = self._sweep(
                url, QueueMessageJudge(subject), receives, empties
            )
            if finished and receives >= self._max_receives:
                logger.warning(
                    "erasure: queue swept up to its bound", extra={"queue": names[position]}
                )
        if not finished:
            following = _cursor(q=position, r=receives, e=empties)
        elif position + 1 < len(names):
            following = _cursor(q=position + 1, r=0, e=0)
        else:
            following = None
        return Step({"queue_messages": deleted}, following)

    def _sweep(
        self, url: str, judge: QueueMessageJudge, receives: int, empties: int
    ) -> tuple[int, int, int, bool]:
        """(deleted, receives, empties in a row, finished) after this step's receives."""
        sqs = self._client()
        held: dict[str, str] = {}  # message id -> newest receipt handle
        deleted = 0
        finished = False
        try:
            for _ in range(self._receives_per_step):
                if receives >= self._max_receives:
                    finished = True
                    break
                messages = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=self._hold_seconds,
                ).get("Messages", [])
                receives += 1
                if not messages:
                    empties += 1
                    if empties >= 2:
                        finished = True
                        break
                    continue
                empties = 0
                fresh = [m for m in messages if m["MessageId"] not in held]
                doomed = [m for m in fresh if judge.names_subject(str(m.get("Body", "")))]
                # Mail to others that copies them goes on without them: sent again as it
                # should be, before the original is deleted (a retry sends it once more, and
                # the mail-out worker sends a mail id once).
                for message in doomed:
                    others = judge.for_others(str(message.get("Body", "")))
                    if others is not None:
                        sqs.send_message(QueueUrl=url, MessageBody=others)
                deleted += self._delete(sqs, url, doomed)
                doomed_ids = {m["MessageId"] for m in doomed}
                for message in messages:
                    if message["MessageId"] not in doomed_ids:
                        held[message["MessageId"]] = message["ReceiptHandle"]
                if not fresh:
                    finished = True
                    break
        except Exception:
            self._release(sqs, url, held.values())
            raise
        if finished:
            self._release(sqs, url, held.values())
        return deleted, receives, empties, finished

    @staticmethod
    def _delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> int:
        if not messages:
            return 0
        answer = sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
        if answer.get("Failed"):
            # Still there: the step fails and is run again (what it deleted counts zero then).
            raise RuntimeError(f"queue messages not deleted: {len(answer['Failed'])}")
        return len(answer.get("Successful", []))

    @staticmethod
    def _release(sqs: Any, url: str, handles: Iterable[str]) -> None:
        """Makes the messages visible again now (best effort: else after the hold)."""
        from botocore.exceptions import BotoCoreError, ClientError

        pending = list(handles)
        for start in range(0, len(pending), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for n, h in enumerate(pending[start : start + 10])
            ]
            try:
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            except (BotoCoreError, ClientError):
                logger.warning("erasure: queue messages not released", exc_info=True)


# -- the contact -------------------------------------------------------------------------


def contact_terms(emails: Iterable[str], names: Iterable[str]) -> set[str]:
    """Every search term the directory may have written for the contact: its terms for
    each (address, name) it may have been written under, as `search_terms` computes them."""
    known_names = list(dict.fromkeys(names)) or [""]
    return {term for email in emails for name in known_names for term in search_terms(email, name)}


class ContactErasure:
    """The contact record, its address lookup and its contact-directory search entries
    (recomputed from every name and address the record, the lookup and the entries under
    the address's own term hold), in one step; the record goes last, so a step cut short
    finds it again."""

    name = "contact"

    def step(self, subject: Subject, cursor: str | None) -> Step:
        pk = keys.workspace_pk(subject.workspace_id)
        lookup_item = ContactEmailLookup(pk, keys.contact_email_sk(subject.email))
        try:
            lookup: ContactEmailLookup | None = ContactEmailLookup.get(
                lookup_item.pk, lookup_item.sk, consistent_read=True
            )
        except ContactEmailLookup.DoesNotExist:
            lookup = None
        known = [subject.contact_id, lookup.contact_id if lookup is not None else None]
        contact_ids = [c for c in dict.fromkeys(known) if c]
        removed = 0
        for contact_id in contact_ids:
            try:
                contact: ContactItem | None = ContactItem.get(
                    pk, keys.contact_sk(contact_id), consistent_read=True
                )
            except ContactItem.DoesNotExist:
                contact = None
            emails = {subject.email, *([contact.email] if contact else [])}
            names = [contact.name] if contact else []
            if lookup is not None and lookup.contact_id == contact_id and lookup.name:
                names.append(lookup.name)
            for entry in self._entries_of_address(subject.workspace_id, emails, contact_id):
                emails.add(entry.email)
                names.append(entry.name)
            index_pk = keys.contact_index_pk(subject.workspace_id)
            for term in sorted(contact_terms(emails, names)):
                _deleted(ContactIndexItem(index_pk, keys.contact_index_sk(term, contact_id)))
            if contact is not None and address_of(contact.email) != subject.email:
                other = ContactEmailLookup(pk, keys.contact_email_sk(address_of(contact.email)))
                try:
                    other.delete(condition=ContactEmailLookup.contact_id == contact_id)
                except DeleteError as e:
                    if e.cause_response_code != _CONDITION_FAILED:
                        raise
            lookup_gone = lookup is not None and _deleted(lookup_item)
            if lookup_gone:
                lookup = None
            contact_gone = _deleted(ContactItem(pk, keys.contact_sk(contact_id)))
            removed += 1 if contact_gone or (lookup_gone and contact is None) else 0
        if lookup is not None:  # a lookup of a contact none of the above is
            removed += _deleted(lookup_item)
        return Step({"contact": removed}, None)

    @staticmethod
    def _entries_of_address(
        workspace_id: str, emails: Iterable[str], contact_id: str
    ) -> list[ContactIndexItem]:
        """The contact's entries under its address's term: they hold the name and address
        the entries were written with."""
        found = []
        for email in sorted(emails):
            term = fold(email.strip())[:MAX_TERM_CHARS]
            if not term:
                continue
            found += [
                entry
                for entry in ContactIndexItem.query(
                    keys.contact_index_pk(workspace_id),
                    ContactIndexItem.sk.startswith(f"{term}#"),
                    consistent_read=True,
                    limit=20,
                )
                if entry.contact_id == contact_id
            ]
        return found
