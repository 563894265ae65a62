"""The web client's session: an HttpOnly cookie instead of a token in a body, and the checks
that keep another site from acting with it (CSRF).

A browser request names itself with `X-Helptal-Client: web`.  A form or an image on another
site cannot send that header, and a script on another site can only send it after a CORS
preflight that only the web client's origin passes; the Origin, when the browser sends one,
must also be ours.  Bearer-token requests (API clients, API keys) are never subject to this:
a browser never adds an `Authorization` header by itself.  See
docs/decisions/0021-browser-sessions-cookie-csrf-cors.md."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from chalice import Response
from chalice.app import Request

from chalicelib.errors import Forbidden
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from pydantic import BaseModel

Answer = TypeVar("Answer", bound="BaseModel")
CLIENT_HEADER = "X-Helptal-Client"
WEB_CLIENT = "web"
# `__Host-`: only ever set by this host, over HTTPS, for Path=/ (no Domain, so no sibling
# subdomain can set or overwrite it).
SESSION_COOKIE = "__Host-helptal_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (a path dropped, a default port left out); "" when the
    URL has no host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    shown = f":{port}" if port is not None and port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown}"


def app_origin() -> str:
    """The web client's origin (of APP_BASE_URL), the only one CORS answers."""
    return origin_of(get_settings().app_base_url)


def is_web_client(request: Request) -> bool:
    return request.headers.get(CLIENT_HEADER.lower(), "").strip().lower() == WEB_CLIENT


def session_cookie(request: Request) -> str | None:
    """The session token the browser sent as the session cookie, if any."""
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


def _own_origins(request: Request) -> set[str]:
    """The web client's origin, the API's configured one, and the one the request came to."""
    settings = get_settings()
    origins = {origin_of(settings.app_base_url), origin_of(settings.public_base_url)}
    host = request.headers.get("host", "").strip()
    if host:
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        schemes = [forwarded] if forwarded else ["http", "https"]
        origins |= {origin_of(f"{scheme}://{host}") for scheme in schemes}
    origins.discard("")
    return origins


def refuse_forgery(request: Request, *, by_cookie: bool) -> None:
    """Raises 403 `csrf_failed` for a state-changing request a page on another site could
    have sent: one authenticated by the session cookie without `X-Helptal-Client: web`, or
    one naming itself the web client from a foreign Origin.  Reads and writes nothing."""
    if request.method.upper() in SAFE_METHODS:
        return
    web = is_web_client(request)
    if by_cookie and not web:
        raise Forbidden(
            f"A request made with the session cookie must send `{CLIENT_HEADER}: {WEB_CLIENT}`.",
            code="csrf_failed",
        )
    origin = request.headers.get("origin")
    if web and origin is not None and origin_of(origin) not in _own_origins(request):
        raise Forbidden("This request comes from a site that may not use it.", code="csrf_failed")


def _cookie(value: str, max_age: int) -> str:
    return f"{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"


def hand_over_session(request: Request, answer: Answer, status: int) -> Answer | Response:
    """`answer` (which carries a new session's `token`) as it is for an API client; for the web
    client, the same answer with `token: null` and the token in the session cookie."""
    if not is_web_client(request):
        return answer
    shown = answer.model_dump(mode="json")
    token, shown["token"] = str(shown["token"]), None
    return Response(
        body=json.dumps(shown),
        status_code=status,
        headers={
            "Content-Type": "application/json",
            "Set-Cookie": _cookie(token, get_settings().session_ttl_seconds),
        },
    )


def end_session(request: Request) -> Response:
    """204, clearing the session cookie when the browser holds one (or is the web client)."""
    response = Response(body="", status_code=204)
    if is_web_client(request) or session_cookie(request) is not None:
        response.headers["Set-Cookie"] = _cookie("", 0)
    return response
