"""Whether the team answers now: the widget's weekly hours, read in the workspace's time
zone (so a change of daylight-saving time moves nothing for the team)."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.chat.model import WEEKDAYS, OfficeHours, OpeningSpan
from chalicelib.errors import ValidationFailed

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_SPANS_PER_DAY = 4


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": "office_hours", "message": message}])


def checked_hours(weekly: dict[str, list[OpeningSpan]], always_open: bool) -> OfficeHours:
    """The hours as given, or 422: known weekdays, `HH:MM` times, each span ending after it
    starts, at most MAX_SPANS_PER_DAY spans a day, not overlapping."""
    days: dict[str, list[OpeningSpan]] = {}
    for day, spans in weekly.items():
        if day not in WEEKDAYS:
            raise _invalid(f"unknown weekday {day!r}: use one of {', '.join(WEEKDAYS)}")
        if len(spans) > MAX_SPANS_PER_DAY:
            raise _invalid(f"{day}: at most {MAX_SPANS_PER_DAY} spans a day")
        ordered = sorted(spans, key=lambda s: s.start)
        for span in ordered:
            if not (_TIME.match(span.start) and _TIME.match(span.end)):
                raise _invalid(f"{day}: times are HH:MM (00:00 to 24:00)")
            if span.end <= span.start:
                raise _invalid(f"{day}: a span ends after it starts")
        for before, after in pairwise(ordered):
            if after.start < before.end:
                raise _invalid(f"{day}: spans overlap")
        if ordered:
            days[day] = ordered
    return OfficeHours(weekly=days, always_open=always_open)


def is_open(hours: OfficeHours, time_zone: str, now: datetime) -> bool:
    """Whether `now` (aware) falls in one of today's spans in `time_zone` (an unknown zone
    is read as UTC)."""
    if hours.always_open:
        return True
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    clock = local.strftime("%H:%M")
    today = WEEKDAYS[local.weekday()]
    return any(span.start <= clock < span.end for span in hours.weekly.get(today, []))
