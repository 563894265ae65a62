"""The public booking pages: server-rendered HTML with one small script of ours
(`chalicelib/web/static/booking/booking.js`) that shows the free times and posts to the public
booking API on the same site.

On the API's own host: `/book/<workspace slug>` lists the workspace's public event types,
`/book/<workspace slug>/<event type slug>` is the booking page.  On a workspace's verified
help-centre domain the host names the workspace: `/book` lists, `/book/<event type slug>` is
the booking page.  `/book/manage/<token>` (either host) shows a booking and lets the invitee
move or cancel it.  The pages carry no member's e-mail address, and the manage token appears
only in the manage page's own URL (never in a page's HTML, never sent on as a referrer)."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import etags
from chalicelib.api.routing import HTML, Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.model import Workspace
    from chalicelib.booking.deps import BookingDeps
    from chalicelib.booking.model import Booking, EventType
    from chalicelib.kb.helpcentre_site import Site
    from chalicelib.translations import Words

content = lazy_module("chalicelib.kb.helpcentre_content")
helpcentre_site = lazy_module("chalicelib.kb.helpcentre_site")
helpcentre_pages = lazy_module("chalicelib.api.helpcentre_pages")
bookings = lazy_module("chalicelib.booking.bookings")
event_types = lazy_module("chalicelib.booking.event_types")
csp = lazy_module("chalicelib.web.csp")
i18n = lazy_module("chalicelib.web.i18n")
render = lazy_module("chalicelib.web.render")

bp = Blueprint(__name__)

PAGE_CACHE = "public, max-age=60"  # event types change rarely; free times are read live
SCRIPT_CACHE = "public, max-age=300"
TURNSTILE_ORIGIN = "https://challenges.cloudflare.com"
IMAGES = ("'self'", "https:")
SCRIPT = Path(__file__).resolve().parents[1] / "web" / "static" / "booking" / "booking.js"
JAVASCRIPT = "application/javascript"
EXCERPT_CHARS = 160
DASH = " \u2013 "  # between a meeting's start and end times
# The words booking.js writes itself (`book.<name>` in the catalogs).
SCRIPT_WORDS = (
    "loading",
    "choose_day",
    "times_on",
    "no_times_day",
    "no_times_month",
    "day_available",
    "day_unavailable",
    "confirm",
    "sending",
    "booked_title",
    "pending_title",
    "pending_note",
    "mail_note",
    "what",
    "when",
    "where",
    "manage_link",
    "manage_hint",
    "error_slot_taken",
    "error_email",
    "error_name",
    "error_required",
    "error_field",
    "error_too_many",
    "error_not_human",
    "error_generic",
    "error_too_late",
    "error_load",
)
# Column heads of the month (English weeks start on Sunday, French ones on Monday).
WEEKDAYS = {
    "en": [
        ("Sun", "Sunday"),
        ("Mon", "Monday"),
        ("Tue", "Tuesday"),
        ("Wed", "Wednesday"),
        ("Thu", "Thursday"),
        ("Fri", "Friday"),
        ("Sat", "Saturday"),
    ],
    "fr": [
        ("lun.", "lundi"),
        ("mar.", "mardi"),
        ("mer.", "mercredi"),
        ("jeu.", "jeudi"),
        ("ven.", "vendredi"),
        ("sam.", "samedi"),
        ("dim.", "dimanche"),
    ],
}


# -- where the visitor is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """The workspace a page belongs to and how its booking pages are addressed."""

    site: Site
    on_domain: bool  # a verified help-centre domain (the host names the workspace)
    base_url: str  # https://help.acme.com/book or https://api.helptal.com/book/acme
    api_prefix: str  # path before /v1 and /book on this host ("" or an API stage's path)

    def event_url(self, slug: str) -> str:
        return f"{self.base_url}/{quote(slug)}"


def _own_prefix() -> str:
    return urlsplit(get_settings().public_base_url).path.rstrip("/")


def _domain_place(call: Call) -> Place | None:
    """The workspace whose verified help-centre domain the visitor asked for, if any."""
    host = helpcentre_pages._requested_host(call).strip().lower()
    own = urlsplit(get_settings().public_base_url).netloc.lower()
    if not host or host == own:
        return None
    scheme = call.request.headers.get("x-forwarded-proto") or (
        "http" if get_settings().public_base_url.startswith("http://") else "https"
    )
    site = content.site_by_host(
        bootstrap.account_deps().store, bootstrap.helpcentre_store(), host, scheme
    )
    if site is None:
        return None
    return Place(site, True, f"{site.base_url}/book", "")


def _slug_place(slug: str) -> Place | None:
    public = get_settings().public_base_url.rstrip("/")
    site = content.site_by_slug(
        bootstrap.account_deps().store, bootstrap.helpcentre_store(), slug, public
    )
    if site is None:
        return None
    return Place(site, False, f"{public}/book/{site.slug}", _own_prefix())


def _workspace_place(call: Call, workspace: Workspace) -> Place | None:
    """The place of a booking's workspace: this domain when it is that workspace's, else
    the API's own host; None when the visitor's domain is another workspace's."""
    domain = _domain_place(call)
    if domain is not None:
        return domain if domain.site.workspace_id == workspace.id else None
    return _slug_place(workspace.slug)


def _deps() -> BookingDeps:
    return bootstrap.booking_deps()


def _query(call: Call) -> dict[str, str]:
    return dict(call.request.query_params or {})


def _locale(call: Call, place: Place | None, preferred: str | None = None) -> str:
    """`?lang=`, then the language the invitee booked in (manage pages), then the browser's
    Accept-Language, then the workspace's language."""
    asked = _query(call).get("lang") or preferred
    default = place.site.settings.default_locale if place else "en"
    return str(i18n.pick_locale(asked, call.request.headers.get("accept-language"), default))


def _words(locale: str, place: Place | None) -> Words:
    return i18n.translator(locale, place.site.formality if place else "formal")


# -- answering ---------------------------------------------------------------------------------


def _policy(body: str, *, scripted: bool, turnstile: bool, framing: str) -> str:
    if not scripted:
        return str(csp.content_security_policy(body, images=IMAGES, frame_ancestors=framing))
    widget = f" {TURNSTILE_ORIGIN}" if turnstile else ""
    styles = " ".join(csp.style_sources(body))
    directives = [
        "default-src 'none'",
        f"style-src {styles}" if styles else "",
        f"img-src {' '.join(IMAGES)}",
        f"script-src 'self'{widget}",
        f"connect-src 'self'{widget}",
        f"frame-src{widget}" if widget else "",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {framing}",
    ]
    return "; ".join(d for d in directives if d)


def _send(
    call: Call,
    body: str,
    status: int = 200,
    *,
    cache: str = PAGE_CACHE,
    scripted: bool = False,
    turnstile: bool = False,
    private: bool = False,
) -> Response:
    tag = helpcentre_site.etag(body)
    headers: dict[str, str | list[str]] = {
        "Content-Type": HTML,
        "Cache-Control": cache if status == 200 else "no-store",
        "ETag": tag,
        "Vary": "Accept-Language",
        "X-Frame-Options": "DENY" if private else "SAMEORIGIN",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer" if private else "strict-origin-when-cross-origin",
        "Content-Security-Policy": _policy(
            body,
            scripted=scripted,
            turnstile=turnstile,
            framing="'none'" if private else "'self'",
        ),
    }
    if status == 200 and etags.matches(call.request, tag):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=status, headers=headers)


def _languages(url: str) -> list[dict[str, str]]:
    """The language switcher: this page in each language."""
    return [
        {"locale": other, "label": label, "url": f"{url}?lang={other}"}
        for other, label in helpcentre_site.LOCALE_LABELS.items()
    ]


def _page(
    call: Call,
    place: Place,
    locale: str,
    template: str,
    url: str,
    status: int = 200,
    **context: Any,
) -> Response:
    scripted = bool(context.get("script_url"))
    turnstile = bool(context.get("turnstile_site_key"))
    private = bool(context.pop("private", False))
    body = render.render_page(
        template,
        locale=locale,
        t=_words(locale, place),
        centre=place.site.settings,
        favicon_url=place.site.settings.logo_url or place.site.favicon(),
        home_url=place.base_url,
        languages=_languages(url),
        canonical=None if private or status != 200 else url,
        noindex=private or status != 200,
        private=private,
        **context,
    )
    return _send(
        call,
        body,
        status,
        cache="no-store" if private else PAGE_CACHE,
        scripted=scripted and status == 200,
        turnstile=turnstile,
        private=private,
    )


def _not_found(call: Call, place: Place | None) -> Response:
    locale = _locale(call, place)
    if place is None:  # nothing tells which workspace (or whether one) was meant
        shown = [locale] + [o for o in helpcentre_site.LOCALE_LABELS if o != locale]
        body = render.render_page(
            "book/unknown.html", locale=locale, words=[_words(o, None) for o in shown]
        )
        return _send(call, body, 404, cache="no-store", private=True)
    return _page(
        call,
        place,
        locale,
        "book/not_found.html",
        place.base_url,
        404,
        title=_words(locale, place)["book.not_found"],
    )


# -- what the pages show ------------------------------------------------------------------------


def _durations_text(t: Words, durations: list[int]) -> str:
    return t["book.minutes"].format(n=" / ".join(str(d) for d in durations))


def _location_text(t: Words, kind: str) -> str:
    return t.get(f"book.location.{kind}", kind)


def _excerpt(event_type: EventType) -> str:
    from chalicelib.mail.sanitize import html_to_text

    text = " ".join(html_to_text(event_type.description_html or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _hosts(deps: BookingDeps, event_type: EventType, prefix: str) -> list[dict[str, str | None]]:
    """The hosts' names and avatars (as paths on this site); never their addresses."""
    from chalicelib.accounts.profile import avatar_url

    hosts: list[dict[str, str | None]] = []
    for user_id in event_type.host_ids:
        member = deps.accounts.get_member(event_type.workspace_id, user_id)
        if member is None:
            continue
        user = deps.accounts.get_user(user_id)
        avatar = avatar_url(prefix, user) if user is not None else None
        name = member.name or (user.name if user else "")
        hosts.append({"name": name, "initial": (name[:1] or "?").upper(), "avatar_url": avatar})
    return hosts


def _shown_event(
    deps: BookingDeps, t: Words, place: Place, event_type: EventType
) -> dict[str, Any]:
    return {
        "slug": event_type.slug,
        "title": event_type.title,
        "url": place.event_url(event_type.slug),
        "durations": event_type.durations,
        "durations_text": _durations_text(t, event_type.durations),
        "location_text": _location_text(t, event_type.location.kind.value),
        "description_html": event_type.description_html,
        "excerpt": _excerpt(event_type),
        "questions": event_type.questions,
        "horizon_days": event_type.horizon_days,
    }


def _script_words(t: Words) -> str:
    return json.dumps({name: t[f"book.{name}"] for name in SCRIPT_WORDS}, ensure_ascii=False)


def _weekdays(locale: str) -> list[dict[str, str]]:
    return [{"short": s, "long": long} for s, long in WEEKDAYS.get(locale, WEEKDAYS["en"])]


def list_page(call: Call, place: Place) -> Response:
    locale = _locale(call, place)
    t = _words(locale, place)
    deps = _deps()
    found = event_types.listed_event_types(deps, place.site.workspace_id)
    return _page(
        call,
        place,
        locale,
        "book/list.html",
        place.base_url,
        title=t["book.page_title"],
        events=[_shown_event(deps, t, place, e) for e in found],
    )


def event_page(call: Call, place: Place, event_type_slug: str) -> Response:
    deps = _deps()
    event_type = event_types.bookable_event_type(deps, place.site.workspace_id, event_type_slug)
    if event_type is None:
        return _not_found(call, place)
    locale = _locale(call, place)
    t = _words(locale, place)
    shown = _shown_event(deps, t, place, event_type)
    shown["hosts"] = _hosts(deps, event_type, place.api_prefix)
    api = f"{place.api_prefix}/v1/booking/{quote(place.site.slug)}/{quote(event_type.slug)}"
    return _page(
        call,
        place,
        locale,
        "book/event.html",
        place.event_url(event_type.slug),
        title=event_type.title,
        event=shown,
        api_path=api,
        words_json=_script_words(t),
        weekdays=_weekdays(locale),
        durations=event_type.durations,
        script_url=_script_url(place),
        turnstile_site_key=deps.policy.turnstile_site_key if deps.human_check else "",
    )


def _when_text(booking: Booking, locale: str) -> str:
    """The booking's time in the invitee's zone (the script shows it again in the zone of
    the browser that opens the page)."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time

    try:
        zone = ZoneInfo(booking.invitee.time_zone)
    except (KeyError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    day = format_date(start.date(), format="full", locale=locale)
    hours = DASH.join(format_time(t, "short", locale=locale) for t in (start, end))
    return f"{day}, {hours} ({booking.invitee.time_zone.replace('_', ' ')})"


def _iso(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def manage_page(call: Call) -> Response:
    from chalicelib.booking.model import ACTIVE_STATUSES
    from chalicelib.errors import NotFound

    deps = _deps()
    token = call.params["manage_token"]
    booking = bookings.booking_of_link(deps, token)
    try:
        view = bookings.manage_view(deps, booking) if booking else None
    except NotFound:  # the workspace is gone
        view = None
    place = _workspace_place(call, view.workspace) if view else _domain_place(call)
    if booking is None or view is None or place is None:
        return _not_found(call, place)
    locale = _locale(call, place, booking.invitee.locale)
    t = _words(locale, place)
    event_type = view.event_type
    active = booking.status in ACTIVE_STATUSES
    ended = booking.end <= deps.clock.now()
    changeable = view.can_change  # the rule the API applies to the invitee's changes
    meeting = booking.meeting
    location = booking.location
    shown = {
        "title": booking.title,
        "status": booking.status.value,
        "status_text": t[f"book.status.{booking.status.value}"],
        "active": active,
        "ended": ended,
        "changeable": changeable,
        "start_iso": _iso(booking.start),
        "end_iso": _iso(booking.end),
        "when_text": _when_text(booking, locale),
        "location_text": _location_text(t, location.kind.value),
        "location_value": location.value if location.kind.value in ("phone", "in_person") else "",
        "join_url": meeting.join_url
        if meeting and meeting.join_url.startswith("https://")
        else location.value
        if location.kind.value == "link" and location.value.startswith("https://")
        else "",
    }
    url = f"{place.base_url.rsplit('/book', 1)[0]}/book/manage/{token}"
    book_url = (
        place.event_url(event_type.slug)
        if event_type is not None and event_type.active
        else place.base_url
    )
    return _page(
        call,
        place,
        locale,
        "book/manage.html",
        url,
        private=True,
        title=t["book.manage_title"],
        booking=shown,
        done=_query(call).get("done", ""),
        api_path=f"{place.api_prefix}/v1/booking/manage",
        words_json=_script_words(t),
        weekdays=_weekdays(locale),
        durations=[],
        horizon_days=event_type.horizon_days if event_type else 60,
        script_url=_script_url(place) if changeable else "",
        book_url=book_url,
    )


# -- the script ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    plain: bytes
    gzipped: bytes
    etag: str
    gzipped_etag: str
    version: str


@cache
def booking_script() -> Script:
    plain = SCRIPT.read_bytes()
    digest = hashlib.sha256(plain).hexdigest()[:20]
    return Script(
        plain=plain,
        gzipped=gzip.compress(plain, compresslevel=9, mtime=0),
        etag=f'"{digest}"',
        gzipped_etag=f'"{digest}-gzip"',
        version=digest[:12],
    )


def _script_url(place: Place) -> str:
    return f"{place.api_prefix}/book/booking.js?v={booking_script().version}"


# -- routes ------------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/book",
    summary="Booking pages of a help-centre domain: the workspace's event types",
    tag="booking-pages",
    auth=False,
    produces=HTML,
    errors=(404,),
)
def book_home_on_domain(call: Call) -> Response:
    place = _domain_place(call)
    if place is None:
        return _not_found(call, None)
    return list_page(call, place)


@operation(
    bp,
    "GET",
    "/book/{booking_slug}",
    summary="A workspace's event types, or on a help-centre domain the booking page of the "
    "event type `booking_slug`",
    tag="booking-pages",
    auth=False,
    produces=HTML,
    errors=(404,),
)
def book_by_slug(call: Call) -> Response:
    domain = _domain_place(call)
    if domain is not None:
        return event_page(call, domain, call.params["booking_slug"])
    place = _slug_place(call.params["booking_slug"])
    if place is None:
        return _not_found(call, None)
    return list_page(call, place)


@operation(
    bp,
    "GET",
    "/book/{booking_slug}/{event_slug}",
    summary="The booking page of an event type: its free times, the form, the confirmation",
    tag="booking-pages",
    auth=False,
    produces=HTML,
    errors=(404,),
)
def book_event_type(call: Call) -> Response:
    domain = _domain_place(call)
    if domain is not None:  # a domain's pages are one level shorter
        return _not_found(call, domain)
    place = _slug_place(call.params["booking_slug"])
    if place is None:
        return _not_found(call, None)
    return event_page(call, place, call.params["event_slug"])


@operation(
    bp,
    "GET",
    "/book/manage/{manage_token}",
    summary="A booking, from its manage link: see it, reschedule it or cancel it",
    tag="booking-pages",
    auth=False,
    produces=HTML,
    errors=(404,),
    description="Never cached (`no-store`), never framed, sends no referrer.",
)
def book_manage(call: Call) -> Response:
    return manage_page(call)


@operation(
    bp,
    "GET",
    "/book/booking.js",
    summary="The booking pages' script",
    tag="booking-pages",
    auth=False,
    produces=f"{JAVASCRIPT}; charset=utf-8",
)
def booking_page_script(call: Call) -> Response:
    from chalicelib.api.chat_widget import accepts_gzip, takes_binary

    script = booking_script()
    binary = takes_binary(call.request)
    zipped = binary and accepts_gzip(call.request)
    tag = script.gzipped_etag if zipped else script.etag
    headers: dict[str, str | list[str]] = {
        "Cache-Control": SCRIPT_CACHE,
        "ETag": tag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if etags.matches(call.request, tag):
        return Response(body="", status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = (
        f"{JAVASCRIPT}; charset=utf-8" if binary else "text/javascript; charset=utf-8"
    )
    body: bytes | str = (
        script.gzipped if zipped else script.plain if binary else script.plain.decode("utf-8")
    )
    return Response(body=body, status_code=200, headers=headers)
