"""`/` of the API's own host sends people to the web client (`APP_BASE_URL`).

A middleware rather than a route: `/` is also the help-centre home of a tenant's own domain
(`helpcentre_pages`), which the same function serves; only a request for the API's own host
(that of `PUBLIC_BASE_URL`, with no other host forwarded by the help-centre edge) is sent to
the app."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.settings import get_settings


def _is_front_door(request: Request) -> bool:
    if request.method not in ("GET", "HEAD") or request.path != "/":
        return False
    own_host = urlsplit(get_settings().public_base_url).netloc.lower()
    host = str(request.headers.get("host", "")).lower()
    forwarded = str(request.headers.get("x-forwarded-host", host)).lower()
    return bool(own_host) and host == own_host and forwarded == own_host


def send_to_the_app(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """A 302 to the web client for `/` of the API's own host; any other request as is."""
    app_url = get_settings().app_base_url.rstrip("/")
    if app_url and _is_front_door(request):
        return Response(
            body="",
            status_code=302,
            headers={"Location": f"{app_url}/", "Content-Type": "text/plain; charset=utf-8"},
        )
    return get_response(request)


def install_front_door(app: Chalice) -> None:
    app.register_middleware(send_to_the_app, "http")
