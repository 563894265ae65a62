"""Members' calendar connections (booking): connect Google Calendar or Microsoft 365, choose
calendars, disconnect; and the providers' push notifications that keep busy times fresh.

The provider's redirect back (`.../callback`) is a browser navigation from the provider's
site, which does not carry the SameSite=Strict session cookie: without it, a tiny page sends
the browser back to the same address from this site (`hop=1`), which does."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import browser_session
from chalicelib.api.routing import JSON, Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.errors import BadRequest, HelptalError, NotFound
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        CalendarConnectionOut,
        CalendarConnectionPatchIn,
        CalendarConnectionsOut,
        CalendarConnectStartOut,
    )
    from chalicelib.booking.model import CalendarConnection

# Loaded by the first request that needs them, not when `app` is imported (cold start).
calendars = lazy_module("chalicelib.booking.calendars")
calendar_watch = lazy_module("chalicelib.booking.calendar_watch")
schemas = lazy_module("chalicelib.api.schemas")
sessions = lazy_module("chalicelib.accounts.sessions")
bp = Blueprint(__name__)
TAG = "calendars"
PAGE = "text/html"
TEXT = "text/plain; charset=utf-8"
MAX_VALIDATION_TOKEN = 1024
MAX_NOTIFICATION_BYTES = 256 * 1024


def _out(connection: CalendarConnection) -> CalendarConnectionOut:
    return schemas.CalendarConnectionOut(
        id=connection.id,
        user_id=connection.user_id,
        provider=connection.provider.value,
        account_email=connection.account_email,
        status=connection.status.value,
        last_error=connection.last_error,
        calendars=[
            schemas.CalendarOut(id=c.id, name=c.name, primary=c.primary, writable=c.writable)
            for c in connection.calendars
        ],
        busy_calendar_ids=connection.busy_calendar_ids,
        write_calendar_id=connection.write_calendar_id,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
    )


@operation(
    bp,
    "GET",
    "/v1/calendar-connections",
    summary="Your connected calendar accounts (owners and admins: any member's)",
    description="Each connection's status shows the agent what to do: `needs_reconnect` "
    "(`last_error` `reconnect_google` / `reconnect_microsoft`) when the grant was revoked or "
    "expired, `error` when the provider failed lately.",
    tag=TAG,
    query="CalendarConnectionsQuery",
    response="CalendarConnectionsOut",
    errors=(403,),
)
def list_connections(call: Call) -> CalendarConnectionsOut:
    found = calendars.list_connections(bootstrap.calendar_deps(), call.member, call.query.user_id)
    return schemas.CalendarConnectionsOut(connections=[_out(c) for c in found])


@operation(
    bp,
    "POST",
    "/v1/calendar-connections/{provider}/start",
    gate=Feature.BOOKING,
    summary="Start connecting a calendar: the provider's consent page to send the browser to",
    description="OAuth 2.0 authorization code with PKCE (S256); the state works once, for "
    "10 minutes, and only for the browser session that started it. Only a signed-in member "
    "connects their own calendars (an API key: 403 `session_required`). 404 "
    "`calendar_provider_not_found`; 503 `calendar_not_configured` when this deployment has "
    "no OAuth app for the provider.",
    tag=TAG,
    response="CalendarConnectStartOut",
    errors=(403, 404, 503),
)
def start(call: Call) -> CalendarConnectStartOut:
    member = call.member
    url = calendars.start_connect(
        bootstrap.calendar_deps(),
        member,
        call.params["provider"],
        sessions.session_id(member.credential),
    )
    return schemas.CalendarConnectStartOut(authorization_url=url)


def _session_id(call: Call) -> str | None:
    """The id of the session the browser's cookie holds (None: none, or not valid)."""
    cookie = browser_session.session_cookie(call.request)
    if cookie is None:
        return None
    try:
        principal = sessions.authenticate(
            bootstrap.account_deps(), None, None, session_cookie=cookie, path=None
        )
    except HelptalError:
        return None
    return str(sessions.session_id(principal.credential))


def _relay(call: Call, query: dict[str, str]) -> Response:
    """A page that sends the browser back to this address from this site (a meta refresh,
    no script), so that it presents its session cookie."""
    from chalicelib.web.csp import content_security_policy

    target = f"{call.request.path}?{urlencode({**query, 'hop': '1'})}"
    shown = html.escape(target, quote=True)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={shown}">'
        "<title>Connecting your calendar…</title></head>"
        f'<body><p><a href="{shown}">Continue</a></p></body></html>'
    )
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": content_security_policy(body),
        },
    )


@operation(
    bp,
    "GET",
    "/v1/calendar-connections/{provider}/callback",
    summary="Where the provider's consent page sends the browser back (then to the web client)",
    description="Redirects (302) to the web client's calendar settings with "
    "`?connected=<provider>`, or `?error=` `state_mismatch` (unknown, used or expired state, "
    "or another browser session), `access_denied` (refused on the consent page), "
    "`provider_unavailable` (the provider failed): never an error page.",
    tag=TAG,
    status=302,
    auth=False,
    produces=PAGE,
    page_query="CalendarCallbackQuery",
)
def callback(call: Call) -> Response:
    query = {str(k): str(v) for k, v in dict(call.request.query_params or {}).items()}
    deps = bootstrap.calendar_deps()
    if browser_session.session_cookie(call.request) is None and not query.get("hop"):
        return _relay(call, query)
    provider = call.params["provider"]
    try:
        calendars.finish_connect(
            deps,
            provider,
            query.get("state", "")[:200],
            _session_id(call),
            query.get("code"),
            query.get("error"),
        )
        target = deps.policy.settings_page(connected=provider)
    except calendars.ConnectFailed as e:
        target = deps.policy.settings_page(error=e.code)
    except Exception as e:
        from chalicelib.store.aws_outage import is_aws_outage

        if is_aws_outage(e):
            raise
        logger.exception("calendar connect failed")
        target = deps.policy.settings_page(error="provider_unavailable")
    return Response(
        body="",
        status_code=302,
        headers={"Location": target, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@operation(
    bp,
    "PATCH",
    "/v1/calendar-connections/{connection_id}",
    summary="Choose the calendars that make the member busy and the one bookings go to",
    description="The member who connected it, an owner or an admin. 422 names a calendar "
    "that is not the connection's, or a read-only one to write to.",
    tag=TAG,
    body="CalendarConnectionPatchIn",
    response="CalendarConnectionOut",
    errors=(403, 404, 422),
)
def choose(call: Call) -> CalendarConnectionOut:
    body: CalendarConnectionPatchIn = call.body
    connection = calendars.choose_calendars(
        bootstrap.calendar_deps(),
        call.member,
        call.params["connection_id"],
        body.busy_calendar_ids,
        body.write_calendar_id,
    )
    return _out(connection)


@operation(
    bp,
    "DELETE",
    "/v1/calendar-connections/{connection_id}",
    summary="Disconnect a calendar account: the grant is revoked and its refresh token deleted",
    description="The member who connected it, an owner or an admin. The provider is asked "
    "to revoke the grant and stop the push channels (best effort); the connection is gone "
    "either way.",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
def disconnect(call: Call) -> None:
    calendars.disconnect(bootstrap.calendar_deps(), call.member, call.params["connection_id"])


@operation(
    bp,
    "POST",
    "/v1/webhooks/google-calendar",
    summary="Google Calendar push notifications (a calendar changed); authenticated by the "
    "channel's token",
    description="Headers `X-Goog-Channel-ID`, `X-Goog-Channel-Token`, "
    "`X-Goog-Resource-State`; no body. 404 for an unknown channel or a wrong token.",
    tag="webhooks",
    auth=False,
    errors=(404,),
)
def google_calendar_push(call: Call) -> dict[str, str]:
    headers = call.request.headers
    accepted = calendar_watch.google_notification(
        bootstrap.calendar_deps(),
        headers.get("x-goog-channel-id", ""),
        headers.get("x-goog-channel-token", ""),
        headers.get("x-goog-resource-state", ""),
    )
    if not accepted:
        raise NotFound("No such channel.", code="channel_not_found")
    return {"status": "accepted"}


@operation(
    bp,
    "POST",
    "/v1/webhooks/microsoft-graph",
    summary="Microsoft Graph change notifications for calendars (and their validation "
    "handshake); authenticated by each notification's clientState",
    description="With `?validationToken=`, answers the token as `text/plain` (Graph's "
    "handshake when a subscription is made). Otherwise a JSON body `{value: [...]}`: 202 "
    "when a notification was ours, 404 when none was.",
    tag="webhooks",
    auth=False,
    errors=(400, 404, 413),
)
def microsoft_graph_push(call: Call) -> Response | dict[str, str]:
    request = call.request
    token = dict(request.query_params or {}).get("validationToken")
    if token is not None:
        if not token or len(token) > MAX_VALIDATION_TOKEN:
            raise BadRequest("The validation token is not valid.", code="invalid_token")
        return Response(
            body=str(token),
            status_code=200,
            headers={"Content-Type": TEXT, "X-Content-Type-Options": "nosniff"},
        )
    notifications = _graph_notifications(request.raw_body or b"")
    accepted = calendar_watch.graph_notifications(bootstrap.calendar_deps(), notifications)
    if not accepted:
        raise NotFound("No such subscription.", code="subscription_not_found")
    return Response(body='{"status": "accepted"}', status_code=202, headers={"Content-Type": JSON})


def _graph_notifications(raw: bytes | str) -> list[Any]:
    from chalicelib import json_limits
    from chalicelib.errors import PayloadTooLarge

    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge("The notification body is too large.")
    try:
        payload = json_limits.loads(data)
    except ValueError as e:
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from e
    entries = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise BadRequest("Expected `{value: [...]}`.", code="malformed_json")
    return [
        calendar_watch.GraphNotification(
            str(entry.get("subscriptionId") or ""), str(entry.get("clientState") or "")
        )
        for entry in entries
        if isinstance(entry, dict)
    ]
