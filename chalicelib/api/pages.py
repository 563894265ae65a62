"""HTML pages opened from a secret link (an invitation, an address confirmation, a password
reset): never cached, never framed, never telling another site their URL."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.routing import HTML
from chalicelib.lazy import lazy_module

# Loaded by the first page, not when `app` is imported (cold start).
csp = lazy_module("chalicelib.web.csp")
render = lazy_module("chalicelib.web.render")


def secret_link_page(template: str, status: int, **context: Any) -> Response:
    """`template` rendered with `context`, sent with the headers a page whose URL holds a
    secret needs: no-store, `Referrer-Policy: no-referrer`, no framing, the strict CSP."""
    body = render.render_page(template, **context)
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": HTML,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": csp.content_security_policy(body),
        },
    )
