"""What the calendar and meeting adapters share: bounded HTTP calls that turn network
failures into `CalendarProviderFailed`, the OAuth token answers, provider times parsed into
UTC, and busy intervals merged.

Error texts carry the provider's status and error code, never a token or a request body."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from chalicelib.booking.ports import (
    AccessTokenRejected,
    CalendarProviderFailed,
    GrantRevoked,
    Interval,
    TokenGrant,
)

# Seconds: to connect, and to wait for the answer once connected.
TIMEOUT = (3.0, 10.0)


__all__ = ["AccessTokenRejected"]  # raised here; defined with the ports


def secret_reader(secret: str | Callable[[], str]) -> Callable[[], str]:
    """A secret given as a value, or as how to read it at each call (a secret can rotate)."""
    return secret if callable(secret) else lambda: secret


def new_session() -> Any:
    import requests  # imported on first use, not at cold start

    return requests.Session()


def send(
    session: Any,
    provider: str,
    method: str,
    url: str,
    timeout: tuple[float, float],
    **kwargs: Any,
) -> Any:
    """The provider's answer, whatever its status; CalendarProviderFailed when none came
    (refused, reset, timed out)."""
    import requests

    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as e:
        raise CalendarProviderFailed(f"{provider} unreachable: {type(e).__name__}") from e


def body_of(response: Any) -> dict[str, Any]:
    """The JSON object answered, or {} (no body, not JSON, not an object)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_text(provider: str, response: Any) -> str:
    """`<provider> answered <status>: <code>: <message>`, short, without tokens."""
    body = body_of(response)
    error = body.get("error")
    if isinstance(error, dict):  # Google and Graph APIs: {"error": {"code", "message"}}
        code = error.get("status") or error.get("code") or ""
        message = error.get("message") or ""
    else:  # OAuth endpoints and Zoom: {"error": "...", "error_description": "..."}
        code = error or body.get("code") or ""
        message = body.get("error_description") or body.get("message") or ""
    detail = f"{code}: {message}" if code or message else (response.text or "")[:120]
    return f"{provider} answered {response.status_code}: {str(detail)[:300]}"


def failure(provider: str, response: Any) -> CalendarProviderFailed:
    """The error for an API answer that is not a success (401: AccessTokenRejected)."""
    if response.status_code == 401:
        return AccessTokenRejected(error_text(provider, response))
    return CalendarProviderFailed(error_text(provider, response))


def token_grant(provider: str, response: Any) -> TokenGrant:
    """A token endpoint's answer: the grant, GrantRevoked for `invalid_grant` (revoked or
    expired refresh token, used or wrong code, wrong PKCE verifier), CalendarProviderFailed
    for anything else (the app's own credentials refused, 5xx, malformed answer)."""
    body = body_of(response)
    if response.status_code == 200:
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise CalendarProviderFailed(f"{provider} answered a token without access_token")
        refresh_token = body.get("refresh_token")
        return TokenGrant(
            access_token=access_token,
            expires_in=_int(body.get("expires_in"), 3600),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            scope=str(body.get("scope") or ""),
        )
    if response.status_code in (400, 401) and body.get("error") == "invalid_grant":
        raise GrantRevoked(error_text(provider, response))
    raise CalendarProviderFailed(error_text(provider, response))


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def rfc3339(moment: datetime) -> str:
    """`2026-03-01T09:30:00Z`: a moment in UTC (naive datetimes are refused)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in a provider call")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_moment(provider: str, text: Any, zone: str = "UTC") -> datetime:
    """A provider's time in UTC: RFC 3339 with `Z` or an offset, or (Graph) a wall-clock
    `dateTime` in `zone` (an IANA name or UTC)."""
    if not isinstance(text, str) or not text:
        raise CalendarProviderFailed(f"{provider} answered a time that is not one: {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise CalendarProviderFailed(f"{provider} answered an unreadable time {text!r}") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(provider, zone))
    return moment.astimezone(UTC)


def _zone(provider: str, name: str) -> Any:
    if name.upper() in ("UTC", "Z", "ETC/UTC", "GMT", "COORDINATED UNIVERSAL TIME"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise CalendarProviderFailed(f"{provider} answered a time zone we cannot read") from e


def merged(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The intervals clipped to the window, sorted, overlapping and touching ones joined."""
    clipped = sorted(
        (max(i.start, window.start), min(i.end, window.end))
        for i in intervals
        if i.end > window.start and i.start < window.end and i.end > i.start
    )
    joined: list[list[datetime]] = []
    for start, end in clipped:
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [Interval(start, end) for start, end in joined]
