"""Booking's rules against in-memory fakes of the store and the calendars: event type and
answer validation, round robin, collective hosts, caps, cancel and reschedule rules, and
manage links that cannot be forged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.accounts.model import Member, Page, Principal, Role, Workspace
from chalicelib.booking import bookings, manage_links
from chalicelib.booking.deps import BookingDeps, BookingPolicy, ListedJobs
from chalicelib.booking.event_types import EventTypeDraft, check_event_type, create_event_type
from chalicelib.booking.model import (
    Booking,
    BookingStatus,
    EventType,
    HostMode,
    Hours,
    Location,
    LocationKind,
    Question,
    QuestionKind,
    Schedule,
)
from chalicelib.booking.ports import Interval
from chalicelib.booking.store_port import (
    BookingCommit,
    BookingFilter,
    BookingRaced,
    CapCounts,
    LedgerDay,
    SlugTaken,
)
from chalicelib.errors import Conflict, Forbidden, Gone, NotFound, TooManyRequests, ValidationFailed

SECRET = "reply-address-secret"
NOW = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)  # a Monday
WS = "WS1"


class FakeStore:
    """The BookingStore port in memory, with the same conditions as the DynamoDB one."""

    def __init__(self) -> None:
        self.event_types: dict[str, EventType] = {}
        self.slugs: dict[str, str] = {}
        self.schedules: dict[str, Schedule] = {}
        self.bookings: dict[str, Booking] = {}
        self.ledger_days: dict[tuple[str, date], LedgerDay] = {}
        self.days: dict[date, int] = {}
        self.weeks: dict[tuple[int, int], int] = {}
        self.round_robin: dict[str, datetime] = {}
        self.race_next = 0  # commits to refuse as if another request won

    def create_event_type(self, event_type: EventType) -> None:
        if event_type.slug in self.slugs:
            raise SlugTaken()
        self.slugs[event_type.slug] = event_type.id
        self.event_types[event_type.id] = event_type

    def save_event_type(self, before: EventType, after: EventType) -> None:
        self.event_types[after.id] = after

    def delete_event_type(self, event_type: EventType) -> None:
        del self.event_types[event_type.id]

    def get_event_type(self, workspace_id: str, event_type_id: str) -> EventType | None:
        return self.event_types.get(event_type_id)

    def event_type_by_slug(self, workspace_id: str, slug: str) -> EventType | None:
        found = self.slugs.get(slug)
        return self.event_types.get(found) if found else None

    def list_event_types(self, workspace_id: str) -> list[EventType]:
        return list(self.event_types.values())

    def get_schedules(self, workspace_id: str, user_ids: list[str]) -> dict[str, Schedule]:
        return {u: self.schedules[u] for u in user_ids if u in self.schedules}

    def list_schedules(self, workspace_id: str) -> list[Schedule]:
        return list(self.schedules.values())

    def save_schedule(self, schedule: Schedule) -> None:
        self.schedules[schedule.user_id] = schedule

    def ledger(self, workspace_id, host_id, first, last, *, consistent):
        return [
            d for (h, day), d in self.ledger_days.items() if h == host_id and first <= day <= last
        ]

    def cap_counts(self, workspace_id, event_type_id, first, last):
        return CapCounts(dict(self.days), dict(self.weeks))

    def last_booked(self, workspace_id, event_type_id):
        return dict(self.round_robin)

    def commit_booking(self, commit: BookingCommit) -> Booking:
        if self.race_next:
            self.race_next -= 1
            raise BookingRaced()
        booking = commit.booking
        current = self.bookings.get(booking.id)
        if (commit.expected_version is None) != (current is None):
            raise BookingRaced()
        if current is not None and current.version != commit.expected_version:
            raise BookingRaced()
        for write in commit.ledger:
            now = self.ledger_days.get((write.host_id, write.day))
            if (now.version if now else 0) != write.expected_version:
                raise BookingRaced()
        for change in commit.caps:
            counts, key = (self.days, change.day) if change.day else (self.weeks, change.week)
            if change.limit is not None and change.delta > 0 and counts.get(key, 0) >= change.limit:
                raise BookingRaced()
        for write in commit.ledger:
            self.ledger_days[(write.host_id, write.day)] = LedgerDay(
                write.host_id, write.day, write.spans, write.expected_version + 1
            )
        for change in commit.caps:
            counts, key = (self.days, change.day) if change.day else (self.weeks, change.week)
            counts[key] = counts.get(key, 0) + change.delta
        if commit.booked_host:
            self.round_robin[commit.booked_host] = booking.created_at
        stored = replace(booking, version=(commit.expected_version or 0) + 1)
        self.bookings[booking.id] = stored
        return stored

    def get_booking(self, workspace_id: str, booking_id: str) -> Booking | None:
        found = self.bookings.get(booking_id)
        return found if found and found.workspace_id == workspace_id else None

    def list_bookings(self, workspace_id, wanted: BookingFilter, cursor, limit):
        return Page(list(self.bookings.values())[:limit], None)

    def record_outside(self, *args, **kwargs) -> bool:
        return True

    def bookings_of_contact(self, workspace_id, contact_id, limit):
        return []


class FakeCalendars:
    def __init__(self) -> None:
        self.busy_of: dict[str, list[Interval]] = {}
        self.fresh_reads = 0

    def busy(self, workspace_id, user_ids, window, fresh):
        self.fresh_reads += int(fresh)
        return {u: self.busy_of.get(u, []) for u in user_ids}


class FakeAccounts:
    def __init__(self, members: list[str]) -> None:
        self.workspace = Workspace(WS, "acme", "Acme", "UTC", "en", 1, NOW, NOW)
        self.members = set(members)

    def get_workspace(self, workspace_id):
        return self.workspace if workspace_id == WS else None

    def find_workspace_by_slug(self, slug):
        return self.workspace if slug == "acme" else None

    def get_member(self, workspace_id, user_id):
        if workspace_id != WS or user_id not in self.members:
            return None
        return Member(WS, user_id, Role.AGENT, f"{user_id}@acme.test", user_id.title(), NOW)

    def get_user(self, user_id):
        return None


class Attempts:
    def __init__(self, limit: int = 1000) -> None:
        self.limit, self.used = limit, 0

    def allow_contact(self, workspace_id, visitor, now, limit):
        self.used += 1
        return self.used <= min(limit, self.limit)


class FixedClock:
    def __init__(self) -> None:
        self.moment = NOW

    def now(self) -> datetime:
        return self.moment


class Human:
    def verify(self, token: str, visitor_ip: str) -> bool:
        return token == "human"


HOSTS = ["ann", "bob", "cat"]


@pytest.fixture()
def deps() -> BookingDeps:
    store = FakeStore()
    all_day = Schedule(WS, "", "UTC", {d: [Hours(time(9), time(17))] for d in range(7)})
    for host in HOSTS:
        store.schedules[host] = replace(all_day, user_id=host)
    return BookingDeps(
        store=store,
        busy=FakeCalendars(),
        jobs=ListedJobs(),
        clock=FixedClock(),
        policy=BookingPolicy(public_base_url="https://api.helptal.test", token_secret=SECRET),
        accounts=FakeAccounts(HOSTS),
        attempts=Attempts(),
        human_check=None,
        sleep=lambda seconds: None,
    )


def draft(**changes) -> EventTypeDraft:
    values = {
        "slug": "intro",
        "title": "Intro",
        "durations": [30],
        "location": Location(LocationKind.PHONE),
        "host_ids": ["ann"],
        "time_zone": "UTC",
        "minimum_notice": 0,
        "questions": [
            Question("company", "Company", required=True),
            Question("plan", "Plan", QuestionKind.CHOICE, options=["Free", "Pro"]),
        ],
    }
    return EventTypeDraft(**{**values, **changes})


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=UTC)


def request(start: datetime, **changes) -> bookings.BookingRequest:
    values = {
        "start": start,
        "time_zone": "Europe/Paris",
        "name": "Carol",
        "email": "carol@customer.test",
        "answers": {"company": "Globex"},
    }
    return bookings.BookingRequest(**{**values, **changes})


def book(deps, start, slug="intro", **changes):
    return bookings.book(
        deps, "acme", slug, request(start, **changes), visitor_ip="198.51.100.7", human_token=None
    )


def host(user_id: str, role: Role = Role.AGENT) -> Principal:
    return Principal(WS, role, credential=None, user_id=user_id)  # type: ignore[arg-type]


# -- event types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"durations": [33]}, "durations.0"),
        ({"durations": []}, "durations"),
        ({"buffer_before": 12}, "buffer_before"),
        ({"slot_step": 7}, "slot_step"),
        ({"time_zone": "Moon/Base"}, "time_zone"),
        ({"slug": "-bad"}, "slug"),
        ({"host_ids": ["ann", "bob"]}, "host_ids"),
        ({"host_mode": HostMode.ROUND_ROBIN, "host_ids": []}, "host_ids"),
        ({"questions": [Question("email", "E-mail")]}, "questions.0.id"),
        ({"questions": [Question("x", "X", QuestionKind.CHOICE)]}, "questions.0.options"),
        ({"location": Location(LocationKind.LINK, "http://plain.example")}, "location.value"),
        ({"daily_cap": 0}, "daily_cap"),
    ],
)
def test_an_event_type_breaking_a_rule_is_refused_naming_its_field(changes, field):
    with pytest.raises(ValidationFailed) as refused:
        check_event_type(draft(**changes))
    assert field in [d["field"] for d in refused.value.details]


def test_hosts_must_be_members_and_slugs_are_unique(deps):
    with pytest.raises(ValidationFailed):
        create_event_type(deps, WS, draft(host_ids=["stranger"]))
    created = create_event_type(deps, WS, draft(description="Hello **you** <b>x</b>"))
    assert created.description_html.count("<strong>you</strong>") == 1
    assert "<b>" not in created.description_html
    with pytest.raises(Conflict) as clash:
        create_event_type(deps, WS, draft())
    assert clash.value.code == "slug_taken"


# -- booking --------------------------------------------------------------------------------


def test_a_booking_holds_the_host_s_time_and_queues_its_job(deps):
    create_event_type(deps, WS, draft(buffer_after=10))
    booking, url = book(deps, at(10))
    assert booking.host_ids == ["ann"] and booking.status is BookingStatus.CONFIRMED
    assert url.startswith("https://api.helptal.test/book/manage/")
    [day] = deps.store.ledger_days.values()
    assert [(s.start, s.end) for s in day.spans] == [
        (int(at(10).timestamp()), int(at(10, 40).timestamp()))
    ]
    assert [(j.change, j.sequence) for j in deps.jobs.jobs] == [("created", 0)]
    assert deps.busy.fresh_reads == 1  # calendars re-read at booking time
    with pytest.raises(Conflict) as taken:
        book(deps, at(10, 30))  # inside the buffer after
    assert taken.value.code == "slot_taken"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({}, "answers.company"),
        ({"company": "G", "plan": "Gold"}, "answers.plan"),
        ({"company": "G", "colour": "red"}, "answers.colour"),
        ({"company": "G" * 501}, "answers.company"),
    ],
)
def test_answers_must_fit_the_questions(deps, answers, field):
    create_event_type(deps, WS, draft())
    with pytest.raises(ValidationFailed) as refused:
        book(deps, at(10), answers=answers)
    assert field in [d["field"] for d in refused.value.details]


def test_a_start_off_the_grid_outside_hours_or_in_a_busy_calendar_is_no_slot(deps):
    create_event_type(deps, WS, draft())
    deps.busy.busy_of["ann"] = [Interval(at(12), at(13))]
    for start in (at(10, 5), at(8), at(12, 30), at(16, 45)):
        with pytest.raises(Conflict):
            book(deps, start)
    with pytest.raises(ValidationFailed):
        book(deps, at(10), duration=45)


def test_round_robin_books_the_least_recently_booked_host_and_skips_busy_ones(deps):
    create_event_type(deps, WS, draft(host_mode=HostMode.ROUND_ROBIN, host_ids=HOSTS))
    first, _ = book(deps, at(10))
    deps.clock.moment += timedelta(minutes=1)
    second, _ = book(deps, at(11))
    deps.clock.moment += timedelta(minutes=1)
    deps.busy.busy_of["cat"] = [Interval(at(12), at(13))]
    third, _ = book(deps, at(12))
    assert [first.host_ids, second.host_ids, third.host_ids] == [["ann"], ["bob"], ["ann"]]
    deps.clock.moment += timedelta(minutes=1)
    fourth, _ = book(deps, at(12))  # ann holds 12:00 now, cat is busy: bob
    assert fourth.host_ids == ["bob"]
    with pytest.raises(Conflict):
        book(deps, at(12))  # nobody is free


def test_a_collective_booking_needs_every_host_free_and_holds_all_of_them(deps):
    create_event_type(deps, WS, draft(host_mode=HostMode.COLLECTIVE, host_ids=["ann", "bob"]))
    deps.busy.busy_of["bob"] = [Interval(at(10), at(11))]
    with pytest.raises(Conflict):
        book(deps, at(10))
    booking, _ = book(deps, at(11))
    assert booking.host_ids == ["ann", "bob"]
    assert {h for h, _ in deps.store.ledger_days} == {"ann", "bob"}


def test_event_types_sharing_a_host_cannot_take_overlapping_time(deps):
    create_event_type(deps, WS, draft())
    create_event_type(deps, WS, draft(slug="long", durations=[60]))
    book(deps, at(10, 30))
    with pytest.raises(Conflict):
        book(deps, at(10), slug="long")
    assert book(deps, at(11), slug="long")[0].host_ids == ["ann"]


def test_daily_and_weekly_caps_stop_bookings_and_a_cancellation_frees_a_place(deps):
    create_event_type(deps, WS, draft(daily_cap=2, weekly_cap=3))
    first, _ = book(deps, at(9))
    book(deps, at(10))
    with pytest.raises(Conflict):
        book(deps, at(11))  # two that day
    book(deps, at(9, day=6))
    with pytest.raises(Conflict):
        book(deps, at(9, day=7))  # three that week
    assert book(deps, at(9, day=11))[0]  # next week
    bookings.cancel(deps, WS, first.id, "", "invitee")
    assert book(deps, at(11))[0]


def test_a_lost_race_is_retried_and_endless_lost_races_answer_slot_taken(deps):
    create_event_type(deps, WS, draft())
    deps.store.race_next = 3
    booking, _ = book(deps, at(10))
    assert deps.store.bookings[booking.id].version == 1
    deps.store.race_next = 100
    with pytest.raises(Conflict):
        book(deps, at(11))


def test_requires_confirmation_makes_pending_bookings_a_host_confirms_or_declines(deps):
    create_event_type(deps, WS, draft(requires_confirmation=True, host_ids=["bob"]))
    pending, _ = book(deps, at(10))
    other, _ = book(deps, at(11))
    assert pending.status is BookingStatus.PENDING
    with pytest.raises(Forbidden):
        bookings.confirm(deps, host("ann"), pending.id)  # not a host, not an admin
    confirmed = bookings.confirm(deps, host("bob"), pending.id)
    assert confirmed.status is BookingStatus.CONFIRMED and confirmed.sequence == 0
    with pytest.raises(Conflict):
        bookings.confirm(deps, host("bob"), pending.id)
    declined = bookings.decline(deps, host("ann", Role.ADMIN), other.id, "Full")
    assert declined.status is BookingStatus.DECLINED
    assert book(deps, at(11))[0]  # its time is free again
    assert [j.change for j in deps.jobs.jobs][-3:] == ["confirmed", "declined", "created"]


def test_the_invitee_reschedules_and_cancels_by_link_until_the_notice(deps):
    create_event_type(deps, WS, draft(cancel_notice=60))
    booking, url = book(deps, at(10))
    token = url.rsplit("/", 1)[1]
    moved = bookings.invitee_reschedule(deps, token, at(10, 30), "Asia/Tokyo")
    assert moved.start == at(10, 30) and moved.sequence == 1
    assert moved.rescheduled_from == at(10) and moved.invitee.time_zone == "Asia/Tokyo"
    assert book(deps, at(10))[0]  # the old time is free
    deps.clock.moment = at(9, 45)  # 45 minutes before: inside the hour's notice
    with pytest.raises(Conflict) as late:
        bookings.invitee_cancel(deps, token, "")
    assert late.value.code == "too_late_to_change"
    cancelled = bookings.cancel(deps, WS, booking.id, "", "user:ann")  # a host still may
    assert cancelled.status is BookingStatus.CANCELLED and cancelled.sequence == 2
    with pytest.raises(Conflict):
        bookings.cancel(deps, WS, booking.id, "", "user:ann")
    deps.clock.moment = at(11)
    with pytest.raises(Gone):
        bookings.booking_of_token(deps, token)  # ended


def test_a_reschedule_onto_a_taken_time_is_refused_and_changes_nothing(deps):
    create_event_type(deps, WS, draft())
    _first, _ = book(deps, at(10))
    second, _ = book(deps, at(11))
    with pytest.raises(Conflict) as taken:
        bookings.reschedule(deps, WS, second.id, at(10), "user:ann")
    assert taken.value.code == "slot_taken"
    assert deps.store.bookings[second.id].start == at(11)
    # Moving onto its own time shifted by half an hour (overlapping itself) is fine.
    assert bookings.reschedule(deps, WS, second.id, at(11, 30), "user:ann").start == at(11, 30)


def test_only_hosts_owners_and_admins_change_a_booking(deps):
    create_event_type(deps, WS, draft())
    booking, _ = book(deps, at(10))
    with pytest.raises(Forbidden):
        bookings.host_cancel(deps, host("bob"), booking.id, "")
    assert bookings.host_cancel(deps, host("cat", Role.OWNER), booking.id, "").cancelled_by


def test_a_forged_or_altered_manage_link_opens_nothing(deps):
    create_event_type(deps, WS, draft())
    booking, url = book(deps, at(10))
    token = url.rsplit("/", 1)[1]
    grant = manage_links.ManageGrant(WS, booking.id)
    assert manage_links.read(SECRET, token) == grant
    assert manage_links.read("another deployment", token) is None
    payload = manage_links.issue("guess", manage_links.ManageGrant(WS, "other")).split(".")[0]
    forged = f"{payload}.{token.split('.')[1]}"
    for junk in ("", "a.b.c", "!!!.???", token + "x", forged):
        assert manage_links.read(SECRET, junk) is None
        with pytest.raises(NotFound):
            bookings.booking_of_token(deps, junk)
    # A chat visitor token is not a manage link.
    from chalicelib.chat import visitor_tokens

    chat = visitor_tokens.issue(SECRET, visitor_tokens.VisitorGrant(WS, booking.id, "v"))
    assert manage_links.read(SECRET, chat) is None


def test_bookings_from_one_address_are_limited_and_a_human_check_is_asked_when_on(deps):
    create_event_type(deps, WS, draft())
    limited = replace(deps, attempts=Attempts(limit=1))
    book(limited, at(10))
    with pytest.raises(TooManyRequests):
        book(limited, at(11))
    checked = replace(deps, human_check=Human())
    with pytest.raises(Forbidden):
        book(checked, at(12))
    assert bookings.book(
        checked, "acme", "intro", request(at(12)), visitor_ip="x", human_token="human"
    )


def test_an_inactive_event_type_or_another_workspace_s_slug_is_no_page(deps):
    create_event_type(deps, WS, draft(active=False))
    with pytest.raises(NotFound):
        book(deps, at(10))
    with pytest.raises(NotFound):
        bookings.book(deps, "globex", "intro", request(at(10)), visitor_ip="x", human_token=None)


def test_a_host_who_left_the_team_is_offered_to_nobody(deps):
    create_event_type(deps, WS, draft(host_mode=HostMode.ROUND_ROBIN, host_ids=["ann", "bob"]))
    deps.accounts.members.discard("ann")

    for hour in (10, 11):
        booked, _ = book(deps, at(hour))
        assert booked.host_ids == ["bob"]
    deps.accounts.members.discard("bob")
    with pytest.raises(NotFound):  # nobody is left to host it: the page is gone
        book(deps, at(12))
