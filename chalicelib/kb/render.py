"""Article Markdown to HTML that is safe to show anywhere (agents' app, public help centre).

Two layers: markdown-it-py's `gfm-like` preset (CommonMark plus GitHub's tables,
strikethrough and autolinks, with mdit-py-plugins' task lists) with raw HTML off (tags in
the Markdown come out as text, and its link check drops `javascript:`/`vbscript:`/`file:`/
`data:` URLs), then nh3 with an allow-list.  Unlike received mail
(`chalicelib.mail.sanitize`), articles may link to relative paths on the help centre
(`/hc/...`, `#section`), and their links are not `nofollow`.  Both libraries are imported on
first use."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalicelib.mail.sanitize import ALLOWED_TAGS

# Strikethrough and task-list checkboxes on top of the mail allow-list.
ARTICLE_TAGS = ALLOWED_TAGS | {"s", "del", "input"}
ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan", "class"},
    "th": {"colspan", "rowspan", "class"},
    "ul": {"class"},
    "li": {"class"},
    "input": {"type", "checked", "disabled"},
}
# The only classes kept: column alignment (the CSP allows no style attribute) and task lists.
_CLASSES = frozenset(
    {"align-left", "align-center", "align-right", "contains-task-list", "task-list-item"}
)
_ALIGN_STYLE = re.compile(r' style="text-align:(left|center|right)"')
_INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
LINK_REL = "noopener noreferrer"
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SCHEMES = ("http://", "https://")
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "iframe", "object"})


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.tasklists import tasklists_plugin

    return MarkdownIt("gfm-like", {"html": False}).use(tasklists_plugin)


def _relative(url: str) -> bool:
    # A path on the same host or an anchor; `//host/...` is another host.
    return (url.startswith("/") and url[1:2] not in ("/", "\\")) or url.startswith("#")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    url = value.strip()
    if attribute == "href":
        return url if url.lower().startswith(_LINK_SCHEMES) or _relative(url) else None
    if attribute == "src":
        return url if url.lower().startswith(_IMAGE_SCHEMES) or _relative(url) else None
    if attribute == "class":
        kept = [name for name in value.split() if name in _CLASSES]
        return " ".join(kept) or None
    return value


def render_markdown(markdown: str) -> str:
    """The article's HTML: CommonMark with GitHub's tables (alignment as `align-*` classes),
    strikethrough, autolinks and task lists (disabled checkboxes), no raw HTML, links
    http(s)/mailto or relative, images http(s) or relative (others lose their `src` and are
    removed)."""
    html = _ALIGN_STYLE.sub(r' class="align-\1"', str(_markdown().render(markdown)))
    return sanitize_article_html(html)


def sanitize_article_html(html: str) -> str:
    """`html` with only the article allow-list left (the second layer of
    `render_markdown`): allowed tags with their allowed attributes, links http(s)/mailto or
    relative, images http(s) or relative (others are removed), inputs only as disabled
    checkboxes."""
    import nh3

    cleaned = str(
        nh3.clean(
            html,
            tags=set(ARTICLE_TAGS),
            clean_content_tags=set(_DROPPED_WITH_CONTENT),
            # Only the per-tag lists: without "*" ammonia adds `lang` and `title` to every tag.
            attributes={"*": set(), **{tag: set(n) for tag, n in ARTICLE_ATTRIBUTES.items()}},
            attribute_filter=_keep_attribute,
            url_schemes={"http", "https", "mailto"},
            link_rel=LINK_REL,
            strip_comments=True,
        )
    )
    return _INPUT_TAG.sub(_disabled_checkbox, _drop_images_without_source(cleaned))


def _disabled_checkbox(match: re.Match[str]) -> str:
    # Whatever the input was, only a checkbox no one can tick is left.
    checked = " checked" if re.search(r"\schecked\b", match.group(0), re.IGNORECASE) else ""
    return f'<input type="checkbox" disabled{checked}>'


def _drop_images_without_source(html: str) -> str:
    # ammonia escapes < and > inside attribute values, so a tag ends at its first `>`.
    return re.sub(
        r"<img\b[^>]*>",
        lambda match: match.group(0) if " src=" in match.group(0) else "",
        html,
        flags=re.IGNORECASE,
    )
