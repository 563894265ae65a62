"""A booking as an iCalendar invitation (RFC 5545 / iTIP, RFC 5546) attached to its mails.

`METHOD:REQUEST` adds or moves the meeting in the reader's calendar, `METHOD:CANCEL` takes it
out.  The UID is the booking's (stable across reschedules) and SEQUENCE the booking's, so a
calendar replaces the older copy instead of adding a second one.  Times are written in the
reader's zone (`DTSTART;TZID=...`) with its VTIMEZONE.  icalendar is imported on first use,
never by `import app`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib.booking.model import Booking

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Helptal//Booking//EN"
CONTENT_TYPE = "text/calendar"


@dataclass(frozen=True)
class Invitation:
    """What one reader's .ics says about the booking (already in their language)."""

    method: Method
    summary: str
    description: str
    time_zone: str  # IANA zone the times are written in (the reader's)
    organizer: tuple[str, str]  # (email, name): the (first) host
    attendees: list[tuple[str, str]]  # (email, name)
    location: str = ""
    url: str = ""


def filename(method: Method) -> str:
    return "invite.ics" if method == "REQUEST" else "cancel.ics"


def content_type(method: Method) -> str:
    """The MIME type calendar clients look for (`method=` tells them what to do)."""
    return f"{CONTENT_TYPE}; charset=UTF-8; method={method}"


def booking_ics(booking: Booking, invitation: Invitation, now: datetime) -> bytes:
    """The `.ics` bytes of `booking` for one reader."""
    from icalendar import Calendar, Event, vCalAddress, vText

    zone = ZoneInfo(invitation.time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invitation.method)
    event = Event()
    event.add("uid", booking.uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.start.astimezone(zone))
    event.add("dtend", booking.end.astimezone(zone))
    event.add("summary", invitation.summary)
    if invitation.description:
        event.add("description", invitation.description)
    if invitation.location:
        event.add("location", invitation.location)
    if invitation.url:
        event.add("url", invitation.url)
    event.add("status", "CANCELLED" if invitation.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer_email, organizer_name = invitation.organizer
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_name)
    event.add("organizer", organizer)
    for email, name in invitation.attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    # A VTIMEZONE covering the meeting (not every rule since 1970: the file stays small).
    calendar.add_missing_timezones(
        first_date=(booking.start - timedelta(days=366)).date(),
        last_date=(booking.end + timedelta(days=366)).date(),
    )
    return bytes(calendar.to_ical())
