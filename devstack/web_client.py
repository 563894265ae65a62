"""The web client's files (`webapp/`) served by the local API at `/app/`, as the CDN serves
them in deployed stages: the same security headers (`webapp/security-headers.json`: a strict
Content-Security-Policy, no framing, no sniffing) and `index.html` for every path that is not
a file, so that the app's own routes (`/app/login`, `/app/tickets/<id>`) load it directly.

Files are read from disk on each request: an edit shows on the next reload."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.template import PROJECT_DIR

APP_PATH = "/app"
WEBAPP_DIR = PROJECT_DIR / "webapp"
INDEX = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
TEXT = "text/plain; charset=utf-8"  # the vendored licences


@cache
def security_headers() -> dict[str, str]:
    """The headers every file of the app is sent with (the CDN sends the same).  As the
    CDN's policy allows the content bucket's host, this one allows the emulator's, where
    presigned uploads and downloads go locally."""
    from infra.web_hosting import with_sources

    headers: dict[str, str] = json.loads(
        (WEBAPP_DIR / "security-headers.json").read_text(encoding="utf-8")
    )
    files = urlsplit(os.environ.get("AWS_ENDPOINT_URL", ""))
    if files.scheme and files.netloc:
        origin = f"{files.scheme}://{files.netloc}"
        headers["Content-Security-Policy"] = with_sources(
            headers["Content-Security-Policy"], {"connect-src": [origin], "img-src": [origin]}
        )
    live = urlsplit(os.environ.get("LIVE_WEBSOCKET_URL", ""))
    if live.scheme and live.netloc:  # the local WebSocket bridge (devstack/live_bridge.py)
        headers["Content-Security-Policy"] = with_sources(
            headers["Content-Security-Policy"], {"connect-src": [f"{live.scheme}://{live.netloc}"]}
        )
    sdk = urlsplit(os.environ.get("TAPPAY_SDK_URL", ""))
    if sdk.scheme and sdk.netloc:  # TapPay's front-end SDK (locally, its stand-in's)
        origin = f"{sdk.scheme}://{sdk.netloc}"
        headers["Content-Security-Policy"] = with_sources(
            headers["Content-Security-Policy"],
            {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]},
        )
    return headers


def _response(
    status: int, headers: dict[str, str], body: bytes | None, method: str
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**security_headers(), "Cache-Control": "no-cache", **headers},
        "multiValueHeaders": {},
        "body": None if method == "HEAD" or body is None else body,
    }


def _file(relative: str) -> Path | None:
    """The file of the app at `relative`, never one outside `webapp/` or a hidden one."""
    parts = [part for part in relative.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    path = WEBAPP_DIR.joinpath(*parts).resolve() if parts else WEBAPP_DIR / INDEX
    if not path.is_relative_to(WEBAPP_DIR.resolve()) or not path.is_file():
        return None
    return path


def app_response(method: str, path: str, headers: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to a request for the web client (a Lambda proxy response, as the local
    gateway sends), or None when `path` is not under `/app`."""
    url = urlsplit(path)
    if url.path != APP_PATH and not url.path.startswith(APP_PATH + "/"):
        return None
    if method not in ("GET", "HEAD"):
        return _response(405, {"Allow": "GET, HEAD", "Content-Type": TEXT}, b"", method)
    if url.path == APP_PATH:
        location = APP_PATH + "/" + (f"?{url.query}" if url.query else "")
        return _response(301, {"Location": location, "Content-Type": TEXT}, b"", method)
    relative = unquote(url.path[len(APP_PATH) + 1 :])
    file = _file(relative)
    if file is None:
        last = relative.rstrip("/").rsplit("/", 1)[-1]
        if "." in last:  # a file the app asked for and does not have
            return _response(404, {"Content-Type": TEXT}, b"Not found\n", method)
        file = WEBAPP_DIR / INDEX  # one of the app's own routes: the app shows it
    body = file.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if _header(headers, "if-none-match") == etag:
        return _response(304, {"ETag": etag}, None, method)
    content_type = CONTENT_TYPES.get(file.suffix, TEXT)
    return _response(200, {"Content-Type": content_type, "ETag": etag}, body, method)


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""
