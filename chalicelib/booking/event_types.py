"""Event types: what a booking page offers (title, durations, location, hosts, rules).

Owners and admins write them (the API checks the role); every member reads them.  A slug is
unique in its workspace (`[a-z0-9-]`, claimed in the event type's own transaction); the
description is Markdown, rendered and sanitised as help-centre articles are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.booking.deps import BookingDeps
from chalicelib.booking.model import (
    GRANULE_MINUTES,
    EventType,
    HostMode,
    Location,
    LocationKind,
    Question,
    QuestionKind,
)
from chalicelib.booking.store_port import EventTypeChanged, SlugTaken
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
QUESTION_ID = re.compile(r"^[a-z0-9_]{1,40}$")
RESERVED_QUESTION_IDS = frozenset({"name", "email"})
MAX_HOSTS = 10  # one ledger Query per host per slots page
MAX_DURATION = 12 * 60
MAX_BUFFER = 4 * 60
MAX_NOTICE = 60 * 24 * 60
MAX_HORIZON_DAYS = 365
MAX_QUESTIONS = 20
MAX_OPTIONS = 30
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 30 * 24 * 60
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class EventTypeDraft:
    """An event type as its author writes it (the fields of EventType they choose)."""

    slug: str
    title: str
    durations: list[int]
    location: Location
    host_ids: list[str]
    time_zone: str
    host_mode: HostMode = HostMode.ONE
    description: str = ""
    buffer_before: int = 0
    buffer_after: int = 0
    minimum_notice: int = 240
    horizon_days: int = 60
    slot_step: int = 0
    daily_cap: int | None = None
    weekly_cap: int | None = None
    questions: list[Question] = field(default_factory=list)
    requires_confirmation: bool = False
    public: bool = True
    active: bool = True
    reminders: list[int] = field(default_factory=lambda: [1440, 60])
    opens_ticket: bool = False
    cancel_notice: int = 0


EDITABLE = frozenset(f.name for f in fields(EventTypeDraft))


def _problem(problems: list[dict[str, str]], where: str, message: str) -> None:
    problems.append({"field": where, "message": message})


def _minutes(problems: list[dict[str, str]], where: str, value: int, low: int, high: int) -> None:
    if value < low or value > high:
        _problem(problems, where, f"must be between {low} and {high} minutes")
    elif value % GRANULE_MINUTES:
        _problem(problems, where, f"must be a multiple of {GRANULE_MINUTES} minutes")


def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. "America"
        return False
    return True


def _check_location(problems: list[dict[str, str]], location: Location) -> None:
    value = location.value.strip()
    if location.kind is LocationKind.LINK and not re.match(r"^https://\S+$", value):
        _problem(problems, "location.value", "a link location needs an https:// URL")
    if location.kind is LocationKind.IN_PERSON and not value:
        _problem(problems, "location.value", "an in-person location needs an address")
    if len(value) > 500:
        _problem(problems, "location.value", "at most 500 characters")


def _check_questions(problems: list[dict[str, str]], questions: list[Question]) -> None:
    if len(questions) > MAX_QUESTIONS:
        _problem(problems, "questions", f"at most {MAX_QUESTIONS} questions")
    seen: set[str] = set()
    for index, question in enumerate(questions):
        where = f"questions.{index}"
        if not QUESTION_ID.match(question.id) or question.id in RESERVED_QUESTION_IDS:
            _problem(problems, f"{where}.id", "[a-z0-9_]{1,40}, not `name` or `email`")
        if question.id in seen:
            _problem(problems, f"{where}.id", "another question has this id")
        seen.add(question.id)
        if not question.label.strip() or len(question.label) > 200:
            _problem(problems, f"{where}.label", "1 to 200 characters")
        if question.kind is QuestionKind.CHOICE:
            options = [o.strip() for o in question.options]
            if not options or len(options) > MAX_OPTIONS or not all(options):
                _problem(problems, f"{where}.options", f"1 to {MAX_OPTIONS} non-empty options")
            elif len(set(options)) != len(options):
                _problem(problems, f"{where}.options", "options must differ")
        elif question.options:
            _problem(problems, f"{where}.options", "only a choice question has options")


def check_event_type(draft: EventTypeDraft) -> None:
    """Raises ValidationFailed (422) naming every field that breaks a rule: slug pattern,
    five-minute multiples, ranges, IANA zone, hosts per mode, questions, location."""
    problems: list[dict[str, str]] = []
    if not SLUG.match(draft.slug):
        _problem(problems, "slug", "lower-case letters, digits and dashes (at most 64)")
    if not draft.title.strip() or len(draft.title) > 120:
        _problem(problems, "title", "1 to 120 characters")
    if len(draft.description) > 10_000:
        _problem(problems, "description", "at most 10000 characters")
    if not draft.durations or len(draft.durations) > 6:
        _problem(problems, "durations", "1 to 6 durations")
    elif len(set(draft.durations)) != len(draft.durations):
        _problem(problems, "durations", "durations must differ")
    for index, minutes in enumerate(draft.durations):
        _minutes(problems, f"durations.{index}", minutes, GRANULE_MINUTES, MAX_DURATION)
    _minutes(problems, "buffer_before", draft.buffer_before, 0, MAX_BUFFER)
    _minutes(problems, "buffer_after", draft.buffer_after, 0, MAX_BUFFER)
    _minutes(problems, "minimum_notice", draft.minimum_notice, 0, MAX_NOTICE)
    _minutes(problems, "cancel_notice", draft.cancel_notice, 0, MAX_NOTICE)
    _minutes(problems, "slot_step", draft.slot_step, 0, MAX_DURATION)
    if not 1 <= draft.horizon_days <= MAX_HORIZON_DAYS:
        _problem(problems, "horizon_days", f"between 1 and {MAX_HORIZON_DAYS}")
    for name in ("daily_cap", "weekly_cap"):
        cap = getattr(draft, name)
        if cap is not None and not 1 <= cap <= 1000:
            _problem(problems, name, "between 1 and 1000, or null for no cap")
    if not known_zone(draft.time_zone):
        _problem(problems, "time_zone", "unknown time zone; use an IANA name such as Europe/Paris")
    hosts = draft.host_ids
    if len(set(hosts)) != len(hosts):
        _problem(problems, "host_ids", "a host is named twice")
    if draft.host_mode is HostMode.ONE and len(hosts) != 1:
        _problem(problems, "host_ids", "a one-host event type has exactly one host")
    elif not 1 <= len(hosts) <= MAX_HOSTS:
        _problem(problems, "host_ids", f"1 to {MAX_HOSTS} hosts")
    if len(draft.reminders) > MAX_REMINDERS or len(set(draft.reminders)) != len(draft.reminders):
        _problem(problems, "reminders", f"at most {MAX_REMINDERS} different reminders")
    for index, minutes in enumerate(draft.reminders):
        _minutes(problems, f"reminders.{index}", minutes, GRANULE_MINUTES, MAX_REMINDER_MINUTES)
    _check_location(problems, draft.location)
    _check_questions(problems, draft.questions)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise ValidationFailed(f"Invalid event type: {summary}", details=problems)


def _check_hosts(deps: BookingDeps, workspace_id: str, host_ids: list[str]) -> None:
    strangers = [h for h in host_ids if deps.accounts.get_member(workspace_id, h) is None]
    if strangers:
        raise ValidationFailed(
            "Every host must be a member of the workspace.",
            details=[{"field": "host_ids", "message": f"not a member: {', '.join(strangers)}"}],
        )


def _rendered(description: str) -> str:
    from chalicelib.kb.render import render_markdown

    return render_markdown(description) if description.strip() else ""


def slug_taken() -> Conflict:
    return Conflict("Another event type has this slug.", code="slug_taken")


def event_type_not_found() -> NotFound:
    return NotFound("No event type has this id.", code="event_type_not_found")


def create_event_type(deps: BookingDeps, workspace_id: str, draft: EventTypeDraft) -> EventType:
    """Validates and writes a new event type (one transaction: it and its slug claim).
    Reads each host's membership.  422 on a rule, 409 `slug_taken`."""
    check_event_type(draft)
    _check_hosts(deps, workspace_id, draft.host_ids)
    now = deps.clock.now()
    values = {name: getattr(draft, name) for name in EDITABLE}
    event_type = EventType(
        workspace_id=workspace_id,
        id=new_id(),
        description_html=_rendered(draft.description),
        created_at=now,
        updated_at=now,
        version=1,
        **values,
    )
    try:
        deps.store.create_event_type(event_type)
    except SlugTaken as e:
        raise slug_taken() from e
    return event_type


def get_event_type(deps: BookingDeps, workspace_id: str, event_type_id: str) -> EventType:
    found = deps.store.get_event_type(workspace_id, event_type_id)
    if found is None:
        raise event_type_not_found()
    return found


def list_event_types(deps: BookingDeps, workspace_id: str) -> list[EventType]:
    return sorted(deps.store.list_event_types(workspace_id), key=lambda e: (e.title, e.id))


def listed_event_types(deps: BookingDeps, workspace_id: str) -> list[EventType]:
    """What a workspace's public booking page lists: its public, active event types by
    title."""
    return sorted(
        (e for e in deps.store.list_event_types(workspace_id) if e.public and e.active),
        key=lambda e: (e.title.lower(), e.id),
    )


def with_current_hosts(deps: BookingDeps, event_type: EventType) -> EventType | None:
    """The event type with only its hosts who are still members (someone who left the team
    is offered to nobody); None when none is left.  One read per host."""
    ws = event_type.workspace_id
    hosts = [h for h in event_type.host_ids if deps.accounts.get_member(ws, h) is not None]
    if not hosts:
        return None
    return event_type if hosts == event_type.host_ids else replace(event_type, host_ids=hosts)


def bookable_event_type(deps: BookingDeps, workspace_id: str, slug: str) -> EventType | None:
    """The active event type a booking page's slug names (listed or not), with its current
    hosts; None when there is none or nobody is left to host it."""
    found = deps.store.event_type_by_slug(workspace_id, slug)
    if found is None or not found.active:
        return None
    return with_current_hosts(deps, found)


def update_event_type(
    deps: BookingDeps, workspace_id: str, event_type_id: str, changes: Mapping[str, Any]
) -> EventType:
    """Applies `changes` (names of EventTypeDraft fields) and validates the whole event type;
    the slug claim moves with the slug.  Retries a concurrent change a few times.  404, 409
    `slug_taken`, 422."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for _ in range(WRITE_ATTEMPTS):
        before = get_event_type(deps, workspace_id, event_type_id)
        draft = EventTypeDraft(**{name: getattr(before, name) for name in EDITABLE})
        draft = replace(draft, **dict(changes))
        check_event_type(draft)
        if "host_ids" in changes:
            _check_hosts(deps, workspace_id, draft.host_ids)
        after = replace(
            before,
            **{name: getattr(draft, name) for name in EDITABLE},
            description_html=(
                _rendered(draft.description)
                if draft.description != before.description
                else before.description_html
            ),
            updated_at=deps.clock.now(),
            version=before.version + 1,
        )
        try:
            deps.store.save_event_type(before, after)
        except SlugTaken as e:
            raise slug_taken() from e
        except EventTypeChanged:
            continue
        return after
    raise Conflict("The event type is being changed; try again.", code="event_type_changed")


def delete_event_type(deps: BookingDeps, workspace_id: str, event_type_id: str) -> None:
    """Deletes the event type and frees its slug; its bookings stay.  404 when absent."""
    for _ in range(WRITE_ATTEMPTS):
        found = get_event_type(deps, workspace_id, event_type_id)
        try:
            deps.store.delete_event_type(found)
        except EventTypeChanged:
            continue
        return
    raise Conflict("The event type is being changed; try again.", code="event_type_changed")
