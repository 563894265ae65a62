"""Hosts' schedules: weekly hours and date overrides in the host's IANA zone.

Each member has one (its id is the member's user id).  A member edits their own; owners and
admins anyone's.  A member who saved none has the default: Monday to Friday 09:00-17:00 in
the workspace's time zone (UTC when it has none)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, time, timedelta

from chalicelib.accounts.model import MANAGERS, Principal
from chalicelib.booking.deps import BookingDeps
from chalicelib.booking.event_types import known_zone
from chalicelib.booking.model import GRANULE_MINUTES, Hours, Schedule
from chalicelib.errors import Forbidden, NotFound, ValidationFailed

MAX_SPANS_PER_DAY = 6
MAX_OVERRIDES = 200
# Overrides of days long past matter to no slot and are not kept (a client sends back what it
# read); beyond two years (past any booking horizon) a date is a mistake.
OVERRIDES_KEPT_AFTER = timedelta(days=2)
OVERRIDES_AHEAD = timedelta(days=2 * 366)
DEFAULT_HOURS = Hours(time(9, 0), time(17, 0))
_MIDNIGHT = time(0, 0)


def default_schedule(workspace_id: str, user_id: str, time_zone: str) -> Schedule:
    return Schedule(
        workspace_id=workspace_id,
        user_id=user_id,
        time_zone=time_zone if known_zone(time_zone) else "UTC",
        weekly={day: [DEFAULT_HOURS] for day in range(5)},
    )


def _minutes_of(moment: time, *, end: bool) -> int:
    if end and moment == _MIDNIGHT:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def _check_day(problems: list[dict[str, str]], where: str, hours: list[Hours]) -> None:
    if len(hours) > MAX_SPANS_PER_DAY:
        problems.append({"field": where, "message": f"at most {MAX_SPANS_PER_DAY} spans a day"})
    spans = []
    for index, span in enumerate(hours):
        start, end = _minutes_of(span.start, end=False), _minutes_of(span.end, end=True)
        if span.start.second or span.end.second or start % GRANULE_MINUTES or end % GRANULE_MINUTES:
            problems.append(
                {"field": f"{where}.{index}", "message": "times are multiples of 5 minutes"}
            )
        if start >= end:
            problems.append({"field": f"{where}.{index}", "message": "ends before it starts"})
        spans.append((start, end))
    spans.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        if second_start < first_end:
            problems.append({"field": where, "message": "spans overlap"})
            break


def check_schedule(schedule: Schedule, today: date | None = None) -> None:
    """Raises ValidationFailed (422) naming what breaks a rule: IANA zone, weekdays 0-6,
    spans in 5-minute steps that end after they start and do not overlap, override dates
    at most two years after `today`."""
    problems: list[dict[str, str]] = []
    if today is not None:
        problems += [
            {"field": f"overrides.{d.isoformat()}", "message": "at most two years ahead"}
            for d in sorted(schedule.overrides)
            if d > today + OVERRIDES_AHEAD
        ]
    if not known_zone(schedule.time_zone):
        problems.append({"field": "time_zone", "message": "unknown time zone (IANA name)"})
    for day, hours in schedule.weekly.items():
        if not 0 <= day <= 6:
            problems.append({"field": "weekly", "message": "weekdays are 0 (Monday) to 6"})
            continue
        _check_day(problems, f"weekly.{day}", hours)
    if len(schedule.overrides) > MAX_OVERRIDES:
        problems.append({"field": "overrides", "message": f"at most {MAX_OVERRIDES} dates"})
    for day_date, hours in schedule.overrides.items():
        _check_day(problems, f"overrides.{day_date.isoformat()}", hours)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise ValidationFailed(f"Invalid schedule: {summary}", details=problems)


def _user_of(principal: Principal, user_id: str) -> str:
    if user_id == "me":
        if principal.user_id is None:
            raise NotFound("An API key has no schedule; name a member.", code="member_not_found")
        return principal.user_id
    return user_id


def _workspace_zone(deps: BookingDeps, workspace_id: str) -> str:
    workspace = deps.accounts.get_workspace(workspace_id)
    return workspace.timezone if workspace is not None else "UTC"


def schedules_of(
    deps: BookingDeps, workspace_id: str, user_ids: list[str], default_zone: str
) -> dict[str, Schedule]:
    """Each host's schedule, saved or default (one BatchGetItem)."""
    saved = deps.store.get_schedules(workspace_id, user_ids)
    return {
        user_id: saved.get(user_id) or default_schedule(workspace_id, user_id, default_zone)
        for user_id in user_ids
    }


def get_schedule(deps: BookingDeps, principal: Principal, user_id: str) -> Schedule:
    """A member's schedule (`me`: the caller's), the default when none is saved; 404 for
    someone who is not a member."""
    workspace_id = principal.workspace_id
    user_id = _user_of(principal, user_id)
    if deps.accounts.get_member(workspace_id, user_id) is None:
        raise NotFound("No member has this id.", code="member_not_found")
    return schedules_of(deps, workspace_id, [user_id], _workspace_zone(deps, workspace_id))[user_id]


def list_schedules(deps: BookingDeps, workspace_id: str) -> list[Schedule]:
    """The schedules members saved (members without one have the default)."""
    return sorted(deps.store.list_schedules(workspace_id), key=lambda s: s.user_id)


def save_schedule(
    deps: BookingDeps,
    principal: Principal,
    user_id: str,
    time_zone: str,
    weekly: dict[int, list[Hours]],
    overrides: dict[date, list[Hours]],
) -> Schedule:
    """Replaces a member's schedule: their own, or anyone's for an owner or admin (403
    otherwise); 404 for a non-member, 422 on a rule."""
    workspace_id = principal.workspace_id
    user_id = _user_of(principal, user_id)
    if user_id != principal.user_id and principal.role not in MANAGERS:
        raise Forbidden("Only owners and admins change others' schedules.", code="forbidden_role")
    if deps.accounts.get_member(workspace_id, user_id) is None:
        raise NotFound("No member has this id.", code="member_not_found")
    now = deps.clock.now()
    today = now.astimezone(UTC).date()
    schedule = Schedule(
        workspace_id=workspace_id,
        user_id=user_id,
        time_zone=time_zone,
        weekly={day: sorted(h, key=lambda s: s.start) for day, h in weekly.items() if h},
        overrides={
            d: sorted(h, key=lambda s: s.start)
            for d, h in overrides.items()
            if d >= today - OVERRIDES_KEPT_AFTER
        },
        updated_at=now,
    )
    check_schedule(schedule, today)
    deps.store.save_schedule(schedule)
    return schedule
