"""CORS for the web client: the `/v1` API answers cross-origin calls, with credentials, from
the origin of APP_BASE_URL only; any other Origin gets no CORS header (the browser then
hides the answer from that page's scripts).

Preflights reach the app: routing registers an `OPTIONS` route for every `/v1` path (Chalice
and API Gateway would otherwise answer `OPTIONS` themselves, with their own headers)."""

from __future__ import annotations

from chalice import Response
from chalice.app import Request

from chalicelib.api.browser_session import CLIENT_HEADER, app_origin, origin_of

API_PREFIX = "/v1/"
ALLOWED_HEADERS = (
    "Content-Type",
    CLIENT_HEADER,
    "X-Workspace-Id",
    "X-Request-Id",
    "Authorization",
    "If-None-Match",
)
EXPOSED_HEADERS = ("X-Request-Id", "ETag")
# How long a browser may reuse a preflight's answer (Chromium caps it at two hours).
PREFLIGHT_MAX_AGE_SECONDS = 600


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    own = app_origin()
    return own if origin and own and origin_of(origin) == own else None


def add_cors_headers(request: Request, path: str | None, response: Response) -> None:
    """Adds the CORS headers to an answer of `/v1` for the web client's origin, and
    `Vary: Origin` to every answer of `/v1` (a cache keeps one copy per origin)."""
    if not path or not path.startswith(API_PREFIX):
        return
    vary = str(response.headers.get("Vary", ""))
    if "origin" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if path.startswith(CHAT_VISITOR_PREFIX):
        _add_chat_cors_headers(request, response)
        return
    origin = _allowed_origin(request)
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)


def preflight(request: Request, methods: list[str]) -> Response:
    """The answer to a browser's preflight for a path served with `methods`: 204, with what
    the web client's origin may send (the CORS headers themselves are added by
    `add_cors_headers`, like on every answer)."""
    response = Response(body="", status_code=204)
    if _allowed_origin(request) is not None:
        response.headers["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


# -- the chat widget's visitor API: each workspace's allowed origins, without credentials ------

CHAT_VISITOR_PREFIX = "/v1/chat/{public_key}/"
CHAT_ALLOWED_HEADERS = ("Content-Type", "Authorization", "X-Request-Id")
_CHAT_ORIGIN = "helptal_chat_origin"


def allow_chat_origin(request: Request, origin: str) -> None:
    """Marks `origin` as one the workspace's widget settings allow: the answer to this
    request carries CORS headers for it (set by `add_cors_headers`)."""
    context = request.context if isinstance(request.context, dict) else None
    if context is not None:
        context[_CHAT_ORIGIN] = origin


def _add_chat_cors_headers(request: Request, response: Response) -> None:
    context = request.context if isinstance(request.context, dict) else {}
    origin = context.get(_CHAT_ORIGIN)
    if not origin:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = ", ".join((*EXPOSED_HEADERS, "Retry-After"))


def chat_preflight(request: Request, methods: list[str], allowed: bool) -> Response:
    """The answer to a widget's preflight: 204, with what it may send when its origin is
    allowed (marked with `allow_chat_origin`), without any CORS header otherwise."""
    response = Response(body="", status_code=204)
    if allowed:
        response.headers["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
        response.headers["Access-Control-Allow-Headers"] = ", ".join(CHAT_ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response
