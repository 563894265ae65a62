"""The mails a booking sends: to the invitee in their language and zone, and to each host in
theirs, on every change (created, pending, confirmed, declined, rescheduled, cancelled) and
as reminders.  Words come from the gettext catalogs (`booking_mail.*`, decision 0018).

Each mail's id is deterministic (`booking:<id>:<sequence>:<change>:<reader>`), so a job run
twice queues it once (the mail log refuses a second record).  A change that puts the meeting
in a calendar carries an `.ics` (REQUEST), one that takes it out a CANCEL; the invitee's mail
has the manage link while the booking can still change."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Protocol
from zoneinfo import ZoneInfo

from chalicelib.booking import ics
from chalicelib.booking.model import ACTIVE_STATUSES, Booking, LocationKind, Question
from chalicelib.mail.outbound import MailAttachment, OutboundMail
from chalicelib.translations import Words, words

CHANGES = ("created", "pending", "confirmed", "declined", "rescheduled", "cancelled")
REQUEST_CHANGES = frozenset({"created", "confirmed", "rescheduled"})
CANCEL_CHANGES = frozenset({"cancelled", "declined"})
PURPOSE = "booking"


@dataclass(frozen=True)
class Host:
    """A host as their mails need them: the language of their account, the zone of their
    schedule."""

    user_id: str
    name: str
    email: str
    locale: str
    time_zone: str


@dataclass(frozen=True)
class WorkspaceInfo:
    name: str
    locale: str = "en"
    time_zone: str = "UTC"
    formality: str = "formal"
    customer_mail_enabled: bool = True  # False: the owner has not confirmed their address


@dataclass(frozen=True)
class Notice:
    """Everything the mails of one booking say, read once per job."""

    booking: Booking
    hosts: list[Host]
    workspace: WorkspaceInfo
    manage_url: str
    questions: list[Question] = field(default_factory=list)
    previous_start: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class Reader:
    who: str  # "invitee" | "host-<user id>": the end of the mail id
    name: str
    email: str
    locale: str
    time_zone: str
    is_invitee: bool
    formality: str = "formal"


class BookingMail(Protocol):
    def send_once(self, mail: OutboundMail) -> bool:
        """Queues `mail` unless a mail with its id was queued already (then it is queued
        again only if it is still waiting: a run cut short before the queue took it).
        True when it was queued now for the first time."""


def mail_id(booking: Booking, change: str, who: str) -> str:
    return f"booking:{booking.id}:{booking.sequence}:{change}:{who}"


def reminder_mail_id(booking: Booking, minutes: int, who: str) -> str:
    return f"booking:{booking.id}:{booking.sequence}:reminder:{minutes}:{who}"


def readers(notice: Notice) -> list[Reader]:
    """The invitee (when the workspace may mail customers) and every host."""
    invitee = notice.booking.invitee
    found = []
    if notice.workspace.customer_mail_enabled:
        found.append(
            Reader(
                "invitee",
                invitee.name,
                invitee.email,
                invitee.locale,
                invitee.time_zone,
                True,
                notice.workspace.formality,
            )
        )
    found += [
        Reader(f"host-{h.user_id}", h.name, h.email, h.locale, h.time_zone, False)
        for h in notice.hosts
    ]
    return found


# -- times in the reader's zone and language ------------------------------------------------


def local_date(moment: datetime, zone: str, locale: str) -> str:
    from babel.dates import format_date

    return str(format_date(moment.astimezone(ZoneInfo(zone)).date(), "full", locale=locale))


def local_time(moment: datetime, zone: str, locale: str) -> str:
    from babel.dates import format_time

    return str(format_time(moment.astimezone(ZoneInfo(zone)), "short", locale=locale))


def when(w: Words, start: datetime, end: datetime, zone: str) -> str:
    return w["booking_mail.when_value"].format(
        date=local_date(start, zone, w.locale),
        start=local_time(start, zone, w.locale),
        end=local_time(end, zone, w.locale),
        zone=zone,
    )


# -- what the mail says ---------------------------------------------------------------------


def _host_names(notice: Notice) -> str:
    return ", ".join(h.name for h in notice.hosts) or notice.workspace.name


def location_text(notice: Notice, reader: Reader, w: Words) -> str:
    """Where the meeting happens, as this reader needs it (the join URL for online ones)."""
    booking = notice.booking
    kind, value = booking.location.kind, booking.location.value
    if kind in (LocationKind.ZOOM, LocationKind.TEAMS):
        if booking.meeting is None or not booking.meeting.join_url:
            return ""
        text = booking.meeting.join_url
        if booking.meeting.password:
            text += f" ({w['booking_mail.passcode']}: {booking.meeting.password})"
        return text
    if kind is LocationKind.PHONE:
        if value:
            return value
        if reader.is_invitee:
            return w["booking_mail.phone.host_calls"].format(host=_host_names(notice))
        return w["booking_mail.phone.call_invitee"].format(invitee=booking.invitee.name)
    return value  # an address, or a fixed link


def _answers(notice: Notice) -> list[tuple[str, str]]:
    labels = {q.id: q.label for q in notice.questions}
    return [(labels.get(k, k), v) for k, v in notice.booking.answers.items() if v]


def _subject_and_intro(notice: Notice, reader: Reader, w: Words, change: str) -> tuple[str, str]:
    booking = notice.booking
    values = {
        "title": booking.title,
        "name": reader.name,
        "host": _host_names(notice),
        "invitee": booking.invitee.name,
        "date": local_date(booking.start, reader.time_zone, w.locale),
        "time": local_time(booking.start, reader.time_zone, w.locale),
    }
    side = "invitee" if reader.is_invitee else "host"
    if change == "reminder":
        subject = w["booking_mail.reminder.subject"]
    else:
        subject = w[f"booking_mail.{side}.{change}.subject"]
    intro = w[f"booking_mail.{side}.{change}.intro"]
    return subject.format(**values), intro.format(**values)


def _lines(notice: Notice, reader: Reader, w: Words, change: str) -> list[tuple[str, str]]:
    """(label, value) lines under the intro."""
    booking = notice.booking
    lines = [(w["booking_mail.when"], when(w, booking.start, booking.end, reader.time_zone))]
    if change == "rescheduled" and notice.previous_start is not None:
        previous_end = notice.previous_start + (booking.end - booking.start)
        lines.append(
            (
                w["booking_mail.previously"],
                when(w, notice.previous_start, previous_end, reader.time_zone),
            )
        )
    if change not in CANCEL_CHANGES:
        where = location_text(notice, reader, w)
        if where:
            lines.append((w["booking_mail.where"], where))
    if not reader.is_invitee:
        lines.append(
            (w["booking_mail.invitee"], f"{booking.invitee.name} <{booking.invitee.email}>")
        )
    if change in CANCEL_CHANGES and notice.reason:
        lines.append((w["booking_mail.reason"], notice.reason))
    return lines


def render(notice: Notice, reader: Reader, change: str) -> tuple[str, str, str]:
    """(subject, text, html) of one reader's mail; names and answers are escaped in HTML."""
    w = words(reader.locale, reader.formality)
    subject, intro = _subject_and_intro(notice, reader, w, change)
    lines = _lines(notice, reader, w, change)
    answers = _answers(notice)
    manage = (
        notice.manage_url
        if reader.is_invitee and notice.manage_url and notice.booking.status in ACTIVE_STATUSES
        else ""
    )
    text_parts = [intro, "\n".join(f"{label}: {value}" for label, value in lines)]
    html_parts = [
        f"<p>{escape(intro)}</p>",
        "<p>"
        + "<br>".join(f"<strong>{escape(label)}</strong>: {escape(v)}" for label, v in lines)
        + "</p>",
    ]
    if answers:
        text_parts.append(
            f"{w['booking_mail.answers']}:\n" + "\n".join(f"- {q}: {a}" for q, a in answers)
        )
        html_parts.append(
            f"<p><strong>{escape(w['booking_mail.answers'])}</strong></p><ul>"
            + "".join(f"<li>{escape(q)}: {escape(a)}</li>" for q, a in answers)
            + "</ul>"
        )
    if manage:
        text_parts.append(f"{w['booking_mail.manage']}: {manage}")
        html_parts.append(
            f'<p><a href="{escape(manage, quote=True)}">{escape(w["booking_mail.manage"])}</a></p>'
        )
    return subject, "\n\n".join(text_parts) + "\n", "".join(html_parts)


def invitation(notice: Notice, reader: Reader, change: str) -> ics.Invitation | None:
    """The `.ics` of this change for this reader; None for a change with none (pending)."""
    if change in REQUEST_CHANGES:
        method: ics.Method = "REQUEST"
    elif change in CANCEL_CHANGES:
        method = "CANCEL"
    else:
        return None
    w = words(reader.locale, reader.formality)
    booking = notice.booking
    other = _host_names(notice) if reader.is_invitee else booking.invitee.name
    organizer = (
        (notice.hosts[0].email, notice.hosts[0].name)
        if notice.hosts
        else (booking.invitee.email, booking.invitee.name)
    )
    attendees = [(booking.invitee.email, booking.invitee.name)] + [
        (h.email, h.name) for h in notice.hosts[1:]
    ]
    where = location_text(notice, reader, w)
    return ics.Invitation(
        method=method,
        summary=w["booking_mail.ics_summary"].format(title=booking.title, other=other),
        description=where,
        time_zone=reader.time_zone,
        organizer=organizer,
        attendees=attendees,
        location=where,
        url=notice.manage_url if reader.is_invitee and method == "REQUEST" else "",
    )


def _mail(
    notice: Notice, reader: Reader, change: str, identifier: str, now: datetime
) -> OutboundMail:
    subject, text, html = render(notice, reader, change)
    attachments = []
    found = invitation(notice, reader, change)
    if found is not None:
        data = ics.booking_ics(notice.booking, found, now)
        attachments.append(
            MailAttachment(
                filename=ics.filename(found.method),
                content_type=ics.content_type(found.method),
                size=len(data),
                s3_key="",
                inline_base64=base64.b64encode(data).decode("ascii"),
            )
        )
    reply_to = notice.hosts[0].email if reader.is_invitee and notice.hosts else None
    return OutboundMail(
        mail_id=identifier,
        workspace_id=notice.booking.workspace_id,
        purpose=PURPOSE,
        from_name=notice.workspace.name,
        to=[reader.email.strip().lower()],
        subject=subject,
        text=text,
        html=html,
        reply_to=reply_to,
        tags=["booking", f"booking-{change}"],
        attachments=attachments,
    )


def change_mails(notice: Notice, change: str, now: datetime) -> list[OutboundMail]:
    """The mails of one change, one per reader."""
    if change not in CHANGES:
        raise ValueError(f"unknown booking change {change!r}")
    return [
        _mail(notice, reader, change, mail_id(notice.booking, change, reader.who), now)
        for reader in readers(notice)
    ]


def reminder_mails(notice: Notice, minutes: int, now: datetime) -> list[OutboundMail]:
    """The reminder `minutes` before the start, one per reader (no .ics: nothing changed)."""
    return [
        _mail(
            notice, reader, "reminder", reminder_mail_id(notice.booking, minutes, reader.who), now
        )
        for reader in readers(notice)
    ]


def answers_text(notice: Notice, locale: str) -> str:
    """The booking as a ticket's first message: when, where, and the questions' answers."""
    w = words(locale)
    reader = Reader("ticket", "", "", locale, notice.workspace.time_zone, False)
    lines = [f"{label}: {value}" for label, value in _lines(notice, reader, w, "created")]
    answers = _answers(notice)
    if answers:
        lines += ["", f"{w['booking_mail.answers']}:"] + [f"- {q}: {a}" for q, a in answers]
    return "\n".join(lines)


def ticket_subject(notice: Notice, locale: str) -> str:
    w = words(locale)
    booking = notice.booking
    return w["booking_ticket.subject"].format(
        title=booking.title,
        invitee=booking.invitee.name,
        date=local_date(booking.start, notice.workspace.time_zone, w.locale),
    )
