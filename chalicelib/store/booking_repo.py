"""Booking in DynamoDB: event types (slug claims), schedules, bookings, the hosts' ledgers
and the event types' counters.  The access patterns are in docs/data-model.md (Booking)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.accounts.model import Page
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    CalendarEventRef,
    EventType,
    HostMode,
    Hours,
    Invitee,
    Location,
    LocationKind,
    Meeting,
    Question,
    QuestionKind,
    Schedule,
)
from chalicelib.booking.store_port import (
    BookingCommit,
    BookingFilter,
    BookingRaced,
    CapChange,
    CapCounts,
    EventTypeChanged,
    HeldSpan,
    LedgerDay,
    LedgerWrite,
    SlugTaken,
)
from chalicelib.store import keys
from chalicelib.store.booking_job_outbox_repo import due_item
from chalicelib.store.models import (
    BookingCapItem,
    BookingItem,
    BookingScheduleItem,
    ContactBookingItem,
    EventTypeItem,
    EventTypeSlugClaim,
    HostLedgerItem,
    Item,
    RoundRobinItem,
)
from chalicelib.store.paging import SLICE_EVALUATED, decode_cursor, encode_cursor, one_slice
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

CONFLICTS = ("TransactionConflict",)
MAX_EVENT_TYPES = 200  # listed in one Query page
LEDGER_KEPT_DAYS = 7  # a ledger day expires this long after it ended
CAPS_KEPT_DAYS = 14


# -- JSON of the entities -------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def event_type_json(event_type: EventType) -> str:
    data = asdict(event_type)
    data["created_at"] = _iso(event_type.created_at)
    data["updated_at"] = _iso(event_type.updated_at)
    return json.dumps(data, separators=(",", ":"))


def event_type_from_json(raw: str, version: int) -> EventType:
    data: dict[str, Any] = json.loads(raw)
    location = data.get("location") or {}
    return EventType(
        workspace_id=data["workspace_id"],
        id=data["id"],
        slug=data["slug"],
        title=data["title"],
        description=data.get("description", ""),
        description_html=data.get("description_html", ""),
        durations=[int(d) for d in data["durations"]],
        location=Location(LocationKind(location["kind"]), location.get("value", "")),
        host_mode=HostMode(data["host_mode"]),
        host_ids=list(data["host_ids"]),
        time_zone=data["time_zone"],
        buffer_before=int(data.get("buffer_before", 0)),
        buffer_after=int(data.get("buffer_after", 0)),
        minimum_notice=int(data.get("minimum_notice", 240)),
        horizon_days=int(data.get("horizon_days", 60)),
        slot_step=int(data.get("slot_step", 0)),
        daily_cap=data.get("daily_cap"),
        weekly_cap=data.get("weekly_cap"),
        questions=[
            Question(
                id=q["id"],
                label=q["label"],
                kind=QuestionKind(q.get("kind", "text")),
                required=bool(q.get("required", False)),
                options=list(q.get("options") or []),
            )
            for q in data.get("questions") or []
        ],
        requires_confirmation=bool(data.get("requires_confirmation", False)),
        public=bool(data.get("public", True)),
        active=bool(data.get("active", True)),
        reminders=[int(m) for m in data.get("reminders", [1440, 60])],
        opens_ticket=bool(data.get("opens_ticket", False)),
        cancel_notice=int(data.get("cancel_notice", 0)),
        created_at=_moment(data.get("created_at")),
        updated_at=_moment(data.get("updated_at")),
        version=version,
    )


def _hours_json(hours: list[Hours]) -> list[list[str]]:
    return [[_hhmm(h.start), _hhmm(h.end)] for h in hours]


def _hours(raw: list[list[str]]) -> list[Hours]:
    return [Hours(time.fromisoformat(start), time.fromisoformat(end)) for start, end in raw]


def schedule_json(schedule: Schedule) -> str:
    return json.dumps(
        {
            "time_zone": schedule.time_zone,
            "weekly": {str(day): _hours_json(h) for day, h in sorted(schedule.weekly.items())},
            "overrides": {
                d.isoformat(): _hours_json(h) for d, h in sorted(schedule.overrides.items())
            },
            "updated_at": _iso(schedule.updated_at),
        },
        separators=(",", ":"),
    )


def schedule_from_json(workspace_id: str, user_id: str, raw: str) -> Schedule:
    data: dict[str, Any] = json.loads(raw)
    return Schedule(
        workspace_id=workspace_id,
        user_id=user_id,
        time_zone=data["time_zone"],
        weekly={int(day): _hours(h) for day, h in (data.get("weekly") or {}).items()},
        overrides={
            date.fromisoformat(d): _hours(h) for d, h in (data.get("overrides") or {}).items()
        },
        updated_at=_moment(data.get("updated_at")),
    )


_OUTSIDE = ("meeting", "calendar_events", "contact_id", "ticket_id")


def booking_core_json(booking: Booking) -> str:
    data = asdict(booking)
    for name in (*_OUTSIDE, "version", "sequence"):
        data.pop(name, None)
    for name in ("start", "end", "rescheduled_from", "created_at", "updated_at"):
        data[name] = _iso(getattr(booking, name))
    return json.dumps(data, separators=(",", ":"))


def _booking(item: BookingItem) -> Booking:
    data: dict[str, Any] = json.loads(item.core)
    invitee = data["invitee"]
    location = data.get("location") or {}
    meeting = json.loads(item.meeting) if item.meeting else None
    start = datetime.fromisoformat(data["start"])
    end = datetime.fromisoformat(data["end"])
    return Booking(
        workspace_id=data["workspace_id"],
        id=data["id"],
        event_type_id=data["event_type_id"],
        event_type_slug=data["event_type_slug"],
        title=data["title"],
        host_ids=list(data["host_ids"]),
        start=start,
        end=end,
        buffer_before=int(data.get("buffer_before", 0)),
        buffer_after=int(data.get("buffer_after", 0)),
        invitee=Invitee(
            name=invitee["name"],
            email=invitee["email"],
            time_zone=invitee["time_zone"],
            locale=invitee.get("locale", "en"),
        ),
        answers=dict(data.get("answers") or {}),
        status=BookingStatus(item.status),
        location=Location(LocationKind(location["kind"]), location.get("value", "")),
        sequence=int(item.sequence or 0),
        meeting=Meeting(**meeting) if meeting else None,
        calendar_events=[
            CalendarEventRef(**ref) for ref in json.loads(item.calendar_events or "[]")
        ],
        contact_id=item.contact_id or None,
        ticket_id=item.ticket_id or None,
        cancel_reason=data.get("cancel_reason", ""),
        cancelled_by=data.get("cancelled_by", ""),
        rescheduled_from=_moment(data.get("rescheduled_from")),
        created_at=_moment(data.get("created_at")),
        updated_at=_moment(data.get("updated_at")),
        version=int(item.version or 0),
    )


def _spans(raw: str | None) -> tuple[HeldSpan, ...]:
    return tuple(HeldSpan(int(s), int(e), str(b)) for s, e, b in json.loads(raw or "[]"))


def _cap_sk(change: CapChange) -> str:
    if change.day is not None:
        return keys.cap_day_sk(change.day.isoformat())
    year, week = change.week or (1970, 1)  # a change counts a day or a week
    return keys.cap_week_sk(date.fromisocalendar(year, week, 1).isoformat())


def _cap_expiry(change: CapChange) -> int:
    last = change.day or date.fromisocalendar(*(change.week or (1970, 1)), 7)
    end = datetime.combine(last, time(), tzinfo=UTC) + timedelta(days=CAPS_KEPT_DAYS)
    return int(end.timestamp())


class DynamoBookingStore:
    # -- event types --------------------------------------------------------------------

    @staticmethod
    def _event_type_item(event_type: EventType) -> EventTypeItem:
        return EventTypeItem(
            keys.workspace_pk(event_type.workspace_id),
            keys.event_type_sk(event_type.id),
            event_type_id=event_type.id,
            workspace_id=event_type.workspace_id,
            slug=event_type.slug,
            body=event_type_json(event_type),
            version=event_type.version,
        )

    @staticmethod
    def _slug_claim(event_type: EventType) -> EventTypeSlugClaim:
        return EventTypeSlugClaim(
            keys.workspace_pk(event_type.workspace_id),
            keys.event_type_slug_sk(event_type.slug),
            event_type_id=event_type.id,
        )

    def create_event_type(self, event_type: EventType) -> None:
        try:
            with transaction() as tx:
                tx.save(self._event_type_item(event_type), condition=Item.pk.does_not_exist())
                tx.save(self._slug_claim(event_type), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if len(reasons) > 1 and reasons[1] == CONDITION_FAILED:
                raise SlugTaken() from e
            if any(r in (CONDITION_FAILED, *CONFLICTS) for r in reasons):
                raise EventTypeChanged() from e
            raise

    def save_event_type(self, before: EventType, after: EventType) -> None:
        moved = before.slug != after.slug
        try:
            with transaction() as tx:
                tx.save(
                    self._event_type_item(after),
                    condition=EventTypeItem.version == before.version,
                )
                if moved:
                    tx.delete(
                        self._slug_claim(before),
                        condition=EventTypeSlugClaim.event_type_id == before.id,
                    )
                    tx.save(self._slug_claim(after), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = [*cancellation_reasons(e), None, None, None]
            if reasons[2] == CONDITION_FAILED:
                raise SlugTaken() from e
            if any(r in (CONDITION_FAILED, *CONFLICTS) for r in reasons):
                raise EventTypeChanged() from e
            raise

    def delete_event_type(self, event_type: EventType) -> None:
        try:
            with transaction() as tx:
                tx.delete(
                    self._event_type_item(event_type),
                    condition=EventTypeItem.version == event_type.version,
                )
                tx.delete(self._slug_claim(event_type))
        except TransactWriteError as e:
            if any(r in (CONDITION_FAILED, *CONFLICTS) for r in cancellation_reasons(e)):
                raise EventTypeChanged() from e
            raise

    def get_event_type(self, workspace_id: str, event_type_id: str) -> EventType | None:
        try:
            item = EventTypeItem.get(
                keys.workspace_pk(workspace_id),
                keys.event_type_sk(event_type_id),
                consistent_read=True,
            )
        except EventTypeItem.DoesNotExist:
            return None
        return event_type_from_json(item.body, int(item.version or 0))

    def event_type_by_slug(self, workspace_id: str, slug: str) -> EventType | None:
        try:
            claim = EventTypeSlugClaim.get(
                keys.workspace_pk(workspace_id), keys.event_type_slug_sk(slug)
            )
        except EventTypeSlugClaim.DoesNotExist:
            return None
        found = self.get_event_type(workspace_id, claim.event_type_id)
        return found if found is not None and found.slug == slug else None

    def list_event_types(self, workspace_id: str) -> list[EventType]:
        items = EventTypeItem.query(
            keys.workspace_pk(workspace_id),
            EventTypeItem.sk.startswith(keys.EVENT_TYPE_PREFIX),
            limit=MAX_EVENT_TYPES,
        )
        return [
            event_type_from_json(item.body, int(item.version or 0))
            for item in items
            if isinstance(item, EventTypeItem)
        ]

    # -- schedules ----------------------------------------------------------------------

    def get_schedules(self, workspace_id: str, user_ids: list[str]) -> dict[str, Schedule]:
        pk = keys.workspace_pk(workspace_id)
        wanted = [(pk, keys.schedule_sk(user_id)) for user_id in dict.fromkeys(user_ids)]
        if not wanted:
            return {}
        return {
            item.user_id: schedule_from_json(workspace_id, item.user_id, item.body)
            for item in BookingScheduleItem.batch_get(wanted)
        }

    def list_schedules(self, workspace_id: str) -> list[Schedule]:
        items = BookingScheduleItem.query(
            keys.workspace_pk(workspace_id),
            BookingScheduleItem.sk.startswith(keys.SCHEDULE_PREFIX),
            limit=500,
        )
        return [
            schedule_from_json(workspace_id, item.user_id, item.body)
            for item in items
            if isinstance(item, BookingScheduleItem)
        ]

    def save_schedule(self, schedule: Schedule) -> None:
        BookingScheduleItem(
            keys.workspace_pk(schedule.workspace_id),
            keys.schedule_sk(schedule.user_id),
            user_id=schedule.user_id,
            workspace_id=schedule.workspace_id,
            body=schedule_json(schedule),
        ).save()

    # -- host time ----------------------------------------------------------------------

    def ledger(
        self, workspace_id: str, host_id: str, first: date, last: date, *, consistent: bool
    ) -> list[LedgerDay]:
        items = HostLedgerItem.query(
            keys.host_ledger_pk(workspace_id, host_id),
            HostLedgerItem.sk.between(
                keys.ledger_day_sk(first.isoformat()), keys.ledger_day_sk(last.isoformat())
            ),
            consistent_read=consistent,
        )
        return [
            LedgerDay(
                host_id=host_id,
                day=date.fromisoformat(item.sk.removeprefix("DAY#")),
                spans=_spans(item.spans),
                version=int(item.version or 0),
            )
            for item in items
            if isinstance(item, HostLedgerItem)
        ]

    def cap_counts(
        self, workspace_id: str, event_type_id: str, first: date, last: date
    ) -> CapCounts:
        monday = first - timedelta(days=first.weekday())
        counts = CapCounts()
        items = BookingCapItem.query(
            keys.booking_caps_pk(workspace_id, event_type_id),
            BookingCapItem.sk.between(monday.isoformat(), last.isoformat() + "#~"),
            consistent_read=True,
        )
        for item in items:
            if not isinstance(item, BookingCapItem):
                continue
            day_text, _, which = item.sk.partition("#")
            day = date.fromisoformat(day_text)
            if which == "D":
                counts.per_day[day] = int(item.bookings or 0)
            elif which == "W":
                year, week, _ = day.isocalendar()
                counts.per_week[(year, week)] = int(item.bookings or 0)
        return counts

    def last_booked(self, workspace_id: str, event_type_id: str) -> dict[str, datetime]:
        items = RoundRobinItem.query(
            keys.booking_caps_pk(workspace_id, event_type_id),
            RoundRobinItem.sk.startswith(keys.ROUND_ROBIN_PREFIX),
            consistent_read=True,
        )
        return {
            item.host_id: item.last_booked_at for item in items if isinstance(item, RoundRobinItem)
        }

    # -- bookings -----------------------------------------------------------------------

    @staticmethod
    def _booking_key(workspace_id: str, booking_id: str) -> BookingItem:
        return BookingItem(keys.workspace_pk(workspace_id), keys.booking_sk(booking_id))

    def commit_booking(self, commit: BookingCommit) -> Booking:
        # Items of the transaction, at most 46 of its 100: the booking; its ledger days (10
        # hosts x 2 UTC days its held span of at most 20 h touches, before and after a move:
        # 40); the day and week counters (4, old and new); the round-robin mark (a new
        # booking only); the job's due item.
        booking = commit.booking
        stored = replace(booking, version=(commit.expected_version or 0) + 1)
        order = keys.booking_order(_iso(booking.start) or "", booking.id)
        try:
            with transaction() as tx:
                if commit.expected_version is None:
                    tx.save(
                        BookingItem(
                            keys.workspace_pk(booking.workspace_id),
                            keys.booking_sk(booking.id),
                            gsi1pk=keys.bookings_view(booking.workspace_id),
                            gsi1sk=order,
                            booking_id=booking.id,
                            workspace_id=booking.workspace_id,
                            status=booking.status.value,
                            host_ids=list(booking.host_ids),
                            core=booking_core_json(booking),
                            sequence=booking.sequence,
                            version=stored.version,
                        ),
                        condition=Item.pk.does_not_exist(),
                    )
                else:
                    tx.update(
                        self._booking_key(booking.workspace_id, booking.id),
                        actions=[
                            BookingItem.gsi1sk.set(order),
                            BookingItem.status.set(booking.status.value),
                            BookingItem.host_ids.set(cast(Any, list(booking.host_ids))),
                            BookingItem.core.set(booking_core_json(booking)),
                            BookingItem.sequence.set(booking.sequence),
                            BookingItem.version.set(stored.version),
                        ],
                        condition=BookingItem.version == commit.expected_version,
                    )
                for write in commit.ledger:
                    self._write_ledger(tx, booking.workspace_id, write)
                for change in commit.caps:
                    self._count(tx, booking.workspace_id, booking.event_type_id, change)
                if commit.booked_host is not None:
                    tx.save(
                        RoundRobinItem(
                            keys.booking_caps_pk(booking.workspace_id, booking.event_type_id),
                            keys.round_robin_sk(commit.booked_host),
                            host_id=commit.booked_host,
                            last_booked_at=booking.updated_at or booking.created_at,
                        )
                    )
                if commit.job is not None:
                    # The outbox: the job is due from this commit until its run deletes it.
                    committed_at = booking.updated_at or booking.created_at or datetime.now(UTC)
                    tx.save(due_item(commit.job, committed_at))
        except TransactWriteError as e:
            if any(r in (CONDITION_FAILED, *CONFLICTS) for r in cancellation_reasons(e)):
                raise BookingRaced() from e
            raise
        return stored

    @staticmethod
    def _write_ledger(tx: Any, workspace_id: str, write: LedgerWrite) -> None:
        item = HostLedgerItem(
            keys.host_ledger_pk(workspace_id, write.host_id),
            keys.ledger_day_sk(write.day.isoformat()),
        )
        spans = json.dumps(
            [[s.start, s.end, s.booking_id] for s in sorted(write.spans, key=lambda s: s.start)],
            separators=(",", ":"),
        )
        expires = datetime.combine(write.day, time(), tzinfo=UTC) + timedelta(
            days=1 + LEDGER_KEPT_DAYS
        )
        tx.update(
            item,
            actions=[
                HostLedgerItem.spans.set(spans),
                HostLedgerItem.version.set(write.expected_version + 1),
                HostLedgerItem.kind.set(HostLedgerItem),
                HostLedgerItem.expires_at.set(int(expires.timestamp())),
            ],
            condition=(
                Item.pk.does_not_exist()
                if write.expected_version == 0
                else HostLedgerItem.version == write.expected_version
            ),
        )

    @staticmethod
    def _count(tx: Any, workspace_id: str, event_type_id: str, change: CapChange) -> None:
        item = BookingCapItem(keys.booking_caps_pk(workspace_id, event_type_id), _cap_sk(change))
        condition = None
        if change.limit is not None and change.delta > 0:
            condition = BookingCapItem.bookings.does_not_exist() | (
                BookingCapItem.bookings < change.limit
            )
        tx.update(
            item,
            actions=[
                BookingCapItem.bookings.add(change.delta),
                BookingCapItem.kind.set(BookingCapItem),
                BookingCapItem.expires_at.set(_cap_expiry(change)),
            ],
            condition=condition,
        )

    def get_booking(self, workspace_id: str, booking_id: str) -> Booking | None:
        try:
            item = BookingItem.get(
                keys.workspace_pk(workspace_id), keys.booking_sk(booking_id), consistent_read=True
            )
        except BookingItem.DoesNotExist:
            return None
        return _booking(item)

    def list_bookings(
        self, workspace_id: str, wanted: BookingFilter, cursor: str | None, limit: int
    ) -> Page[Booking]:
        view = keys.bookings_view(workspace_id)
        low = _iso(wanted.starts_from) or "0"
        high = _iso(wanted.starts_before) or "9999"
        condition = BookingItem.gsi1sk.between(low, high)
        filters: Any = None
        if wanted.host_id is not None:
            filters = BookingItem.host_ids.contains(wanted.host_id)
        if wanted.status is not None:
            by_status = BookingItem.status == wanted.status.value
            filters = by_status if filters is None else filters & by_status
        narrowed = filters is not None
        result = Item.by_user.query(
            view,
            condition,
            filter_condition=filters,
            limit=limit,
            page_size=SLICE_EVALUATED if narrowed else limit,
            last_evaluated_key=decode_cursor(cursor, {"GSI1PK": view}),
        )
        # One Query whatever the filter keeps: a short page and a cursor at worst.
        items, last_key = one_slice(result, Item, limit)
        found = [_booking(item) for item in items if isinstance(item, BookingItem)]
        return Page(found, encode_cursor(last_key))

    # -- for the booking jobs -------------------------------------------------------------

    def record_outside(
        self,
        workspace_id: str,
        booking_id: str,
        *,
        sequence: int,
        meeting: Meeting | None,
        calendar_events: list[CalendarEventRef],
        contact_id: str | None,
        ticket_id: str | None,
    ) -> bool:
        item = self._booking_key(workspace_id, booking_id)
        actions: list[Any] = [
            BookingItem.meeting.set(json.dumps(asdict(meeting)))
            if meeting is not None
            else BookingItem.meeting.remove(),
            BookingItem.calendar_events.set(json.dumps([asdict(ref) for ref in calendar_events])),
            BookingItem.contact_id.set(contact_id)
            if contact_id
            else BookingItem.contact_id.remove(),
            BookingItem.ticket_id.set(ticket_id) if ticket_id else BookingItem.ticket_id.remove(),
        ]
        condition = Item.pk.exists() & (BookingItem.sequence == sequence)
        try:
            if contact_id:
                with transaction() as tx:
                    tx.update(item, actions=actions, condition=condition)
                    tx.save(
                        ContactBookingItem(
                            keys.contact_bookings_pk(workspace_id, contact_id),
                            keys.booking_sk(booking_id),
                            booking_id=booking_id,
                        )
                    )
            else:
                item.update(actions=actions, condition=condition)
        except TransactWriteError as e:
            if any(r in (CONDITION_FAILED, *CONFLICTS) for r in cancellation_reasons(e)):
                return False
            raise
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        entries = ContactBookingItem.query(
            keys.contact_bookings_pk(workspace_id, contact_id),
            ContactBookingItem.sk.startswith(keys.BOOKING_PREFIX),
            scan_index_forward=False,
            limit=limit,
        )
        ids = [e.booking_id for e in entries if isinstance(e, ContactBookingItem)]
        if not ids:
            return []
        pk = keys.workspace_pk(workspace_id)
        found = {
            item.booking_id: _booking(item)
            for item in BookingItem.batch_get([(pk, keys.booking_sk(i)) for i in ids])
        }
        return [found[i] for i in ids if i in found]
