"""Article Markdown to HTML that is safe to show anywhere (agents' app, public help centre).

Two layers: markdown-it-py's `commonmark` preset with raw HTML off (tags in the Markdown
come out as text, and its link check drops `javascript:`/`vbscript:`/`file:`/`data:` URLs),
then nh3 with an allow-list.  Unlike received mail (`chalicelib.mail.sanitize`), articles
may link to relative paths on the help centre (`/hc/...`, `#section`), and their links are
not `nofollow`.  Both libraries are imported on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.mail.sanitize import ALLOWED_TAGS

ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
LINK_REL = "noopener noreferrer"
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SCHEMES = ("http://", "https://")
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "iframe", "object"})


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def _relative(url: str) -> bool:
    # A path on the same host or an anchor; `//host/...` is another host.
    return (url.startswith("/") and url[1:2] not in ("/", "\\")) or url.startswith("#")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    url = value.strip()
    if attribute == "href":
        return url if url.lower().startswith(_LINK_SCHEMES) or _relative(url) else None
    if attribute == "src":
        return url if url.lower().startswith(_IMAGE_SCHEMES) or _relative(url) else None
    return value


def render_markdown(markdown: str) -> str:
    """The article's HTML: CommonMark, no raw HTML, links http(s)/mailto or relative, images
    http(s) or relative (others lose their `src` and are removed)."""
    return sanitize_article_html(str(_markdown().render(markdown)))


def sanitize_article_html(html: str) -> str:
    """`html` with only the article allow-list left (the second layer of
    `render_markdown`): allowed tags with their allowed attributes, links http(s)/mailto or
    relative, images http(s) or relative (others are removed)."""
    import nh3

    cleaned = str(
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            clean_content_tags=set(_DROPPED_WITH_CONTENT),
            # Only the per-tag lists: without "*" ammonia adds `lang` and `title` to every tag.
            attributes={"*": set(), **{tag: set(n) for tag, n in ARTICLE_ATTRIBUTES.items()}},
            attribute_filter=_keep_attribute,
            url_schemes={"http", "https", "mailto"},
            link_rel=LINK_REL,
            strip_comments=True,
        )
    )
    return _drop_images_without_source(cleaned)


def _drop_images_without_source(html: str) -> str:
    import re

    # ammonia escapes < and > inside attribute values, so a tag ends at its first `>`.
    return re.sub(
        r"<img\b[^>]*>",
        lambda match: match.group(0) if " src=" in match.group(0) else "",
        html,
        flags=re.IGNORECASE,
    )
