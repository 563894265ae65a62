"""`GET /chat/widget.js`: the live-chat widget that a workspace's own site loads with one
script tag (`chalicelib/web/static/chat/widget.js`, served as written: no build step).

Cached five minutes by browsers and CDNs, revalidated by its `ETag`, and gzipped for a
browser that accepts it.  The gzipped answer is binary, so `application/javascript` is one
of the API's binary media types (`register_api`); a client whose `Accept` names no binary
type (browsers send `*/*`) gets the same script as `text/javascript`, in text.  The file is
read and compressed on the first request for it, never when `app` is imported."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import etags
from chalicelib.api.routing import Call, operation

bp = Blueprint(__name__)

JAVASCRIPT = "application/javascript"
WIDGET_MEDIA_TYPE = f"{JAVASCRIPT}; charset=utf-8"
# The same bytes for a client that cannot take a binary answer (see the module's docstring).
TEXT_MEDIA_TYPE = "text/javascript; charset=utf-8"
WIDGET_CACHE = "public, max-age=300"
WIDGET_SCRIPT = Path(__file__).resolve().parents[1] / "web" / "static" / "chat" / "widget.js"


@dataclass(frozen=True)
class WidgetScript:
    """The script as served: its bytes, gzipped once, and a tag for each encoding."""

    plain: bytes
    gzipped: bytes
    etag: str
    gzipped_etag: str


@cache
def widget_script() -> WidgetScript:
    plain = WIDGET_SCRIPT.read_bytes()
    digest = hashlib.sha256(plain).hexdigest()[:20]
    # mtime=0: the same file always gives the same bytes (and the same tag).
    return WidgetScript(
        plain=plain,
        gzipped=gzip.compress(plain, compresslevel=9, mtime=0),
        etag=f'"{digest}"',
        gzipped_etag=f'"{digest}-gzip"',
    )


def accepts_gzip(request: Request) -> bool:
    """Whether `Accept-Encoding` names gzip (or `*`) without refusing it (`q=0`)."""
    for part in str(request.headers.get("accept-encoding") or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def takes_binary(request: Request) -> bool:
    """Whether the answer may be binary: `Accept` names `*/*` or this script's type (what
    API Gateway and Chalice need to pass bytes through)."""
    accept = str(request.headers.get("accept") or "").lower()
    return "*/*" in accept or JAVASCRIPT in accept or "application/*" in accept


@operation(
    bp,
    "GET",
    "/chat/widget.js",
    summary="The live-chat widget's script, for a workspace's own site",
    tag="chat",
    auth=False,
    produces=WIDGET_MEDIA_TYPE,
    description=(
        'Put `<script src="…/chat/widget.js" data-workspace="<public key>" async></script>` '
        "on a page whose origin the workspace's chat settings allow. Cached for five minutes "
        "(`Cache-Control: public, max-age=300`) with an `ETag` (`If-None-Match` answers 304); "
        "gzipped when `Accept-Encoding` allows it."
    ),
)
def chat_widget_script(call: Call) -> Response:
    script = widget_script()
    binary = takes_binary(call.request)
    zipped = binary and accepts_gzip(call.request)
    etag = script.gzipped_etag if zipped else script.etag
    headers: dict[str, str | list[str]] = {
        "Cache-Control": WIDGET_CACHE,
        "ETag": etag,
        "Vary": "Accept-Encoding",
        # Any site may load it (a host page's script tag is a cross-origin read).
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etags.matches(call.request, etag):
        return Response(body="", status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = WIDGET_MEDIA_TYPE if binary else TEXT_MEDIA_TYPE
    body: bytes | str = (
        script.gzipped if zipped else script.plain if binary else script.plain.decode("utf-8")
    )
    return Response(body=body, status_code=200, headers=headers)
