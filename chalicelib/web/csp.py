"""The Content-Security-Policy of the HTML pages the product serves: nothing runs, nothing
loads unless named.  A page's own `<style>` blocks (in its `<head>`, where visitors' text
is always escaped) are allowed by their hash, so no `'unsafe-inline'` is needed and a
tenant's brand colour still applies."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

_HEAD = re.compile(r"<head\b.*?</head>", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"<style>(.*?)</style>", re.IGNORECASE | re.DOTALL)


def style_sources(html: str) -> list[str]:
    """`'sha256-...'` of each `<style>` block in the page's `<head>`."""
    head = _HEAD.search(html)
    if head is None:
        return []
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
        for css in _STYLE.findall(head.group())
    ]


def content_security_policy(
    html: str,
    *,
    images: Iterable[str] = (),
    frame_ancestors: str = "'none'",
    scripts_and_frames: Iterable[str] = (),
) -> str:
    """The policy for `html`: no scripts, no plugins, no base URL, forms post only to this
    site, styles only the page's own, images only from `images`; scripts, frames and their
    calls only from `scripts_and_frames` (a human check's widget), none by default."""
    styles = style_sources(html)
    allowed_images = list(images)
    widget = " ".join(scripts_and_frames)
    directives = [
        "default-src 'none'",
        f"style-src {' '.join(styles)}" if styles else "",
        f"img-src {' '.join(allowed_images)}" if allowed_images else "",
        f"script-src {widget}" if widget else "",
        f"frame-src {widget}" if widget else "",
        f"connect-src {widget}" if widget else "",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    return "; ".join(d for d in directives if d)
