"""Received HTML made safe to show in the agent's browser, and HTML made readable as text.

nh3 (a binding to the Rust `ammonia` sanitiser) is imported on first use: most cold starts
never sanitise anything."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from html.parser import HTMLParser
from urllib.parse import unquote

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "table",
        "tbody", "td", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
LINK_REL = "noopener noreferrer nofollow"
# Removed together with their content (the others lose the tag and keep the text).
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "title", "template", "iframe", "object", "noscript", "select"}
)
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SCHEMES = ("http://", "https://")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
# Inline `data:` images can be megabytes; they carry nothing worth reading as text.
_DATA_URI = re.compile(r"data:[^\s\"'>]{64,}", re.IGNORECASE)

MAX_HTML_CHARS = 5_000_000
# html5ever's cost grows with the square of element depth; real mail stays far below this.
MAX_NESTING = 200


def sanitize_html(html: str, *, cid_urls: Mapping[str, str] | None = None) -> str:
    """`html` with only formatting left: no scripts, styles, event handlers, frames or
    forms; links are absolute http(s)/mailto and open with `rel="noopener noreferrer
    nofollow"`; images are http(s), or `cid:` references rewritten to the URL `cid_urls`
    gives for that Content-ID (without angle brackets; an http(s) URL or a path on our
    host); any other image is removed."""
    import nh3

    resolved = {_normalise_cid(key): url for key, url in (cid_urls or {}).items()}
    resolved_lower = {key.lower(): url for key, url in resolved.items()}

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href":
            return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
        if attribute == "src":
            target = value.strip()
            if target.lower().startswith("cid:"):
                content_id = _normalise_cid(unquote(target[4:]))
                url = resolved.get(content_id) or resolved_lower.get(content_id.lower())
                return url if url and _is_our_url(url) else None
            return target if target.lower().startswith(_IMAGE_SCHEMES) else None
        return value

    cleaned = nh3.clean(
        _prepare(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        # Only the per-tag lists: without "*" ammonia adds `lang` and `title` to every tag.
        attributes={"*": set(), **{tag: set(n) for tag, n in ALLOWED_ATTRIBUTES.items()}},
        attribute_filter=keep_attribute,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel=LINK_REL,
        strip_comments=True,
    )
    # ammonia escapes < and > inside attribute values, so a tag ends at its first `>`.
    return _IMG_TAG.sub(lambda match: match.group(0) if " src=" in match.group(0) else "", cleaned)


def html_to_text(html: str) -> str:
    """The readable text of `html`: tags stripped, entities decoded, line breaks kept for
    paragraphs, breaks, list items and table rows; quoted blocks (`<blockquote>`) prefixed
    with `> `; a link's address kept after its text when the text does not show it."""
    reader = _TextReader()
    # The markup is well-formed once through nh3, but a parser surprise still keeps the
    # text read so far.
    with suppress(Exception):
        reader.feed(normalise_html(html))
        reader.close()
    return reader.result()


def normalise_html(html: str, *, keep_attributes: frozenset[str] = frozenset()) -> str:
    """`html` re-serialised through nh3: every tag closed, comments, scripts and styles
    gone, nesting capped, structural tags kept with links and `keep_attributes`.  Safe
    input for `html.parser`, whose cost on malformed markup can grow with its square."""
    import nh3

    return str(
        nh3.clean(
            _DATA_URI.sub("data:", _prepare(html)),
            tags=set(_STRUCTURE_TAGS),
            clean_content_tags=set(_DROPPED_WITH_CONTENT),
            attributes={"a": {"href"}, "*": set(keep_attributes)},
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
            strip_comments=True,
        )
    )


def _is_our_url(url: str) -> bool:
    # Ours: an absolute http(s) URL or a path on our own host (not protocol-relative).
    return url.lower().startswith(_IMAGE_SCHEMES) or (url.startswith("/") and url[1:2] != "/")


def _prepare(html: str) -> str:
    return _cap_nesting(_valid_unicode(html[:MAX_HTML_CHARS]))


def _valid_unicode(text: str) -> str:
    # nh3 rejects lone surrogates (left by a broken decoder); show them as U+FFFD instead.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,40})(?:\s[^<>]{0,2000})?(/?)>")
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip


def _cap_nesting(html: str) -> str:
    """`html` without the tags that open deeper than MAX_NESTING (their text is kept).
    A linear scan: approximate, but removing tags never adds markup, and nh3 runs after."""
    depth = 0
    dropped = 0

    def visit(match: re.Match[str]) -> str:
        nonlocal depth, dropped
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID_TAGS or self_closing:
            return match.group(0)
        if closing:
            if dropped:
                dropped -= 1
                return ""
            depth = max(0, depth - 1)
            return match.group(0)
        if depth >= MAX_NESTING:
            dropped += 1
            return ""
        depth += 1
        return match.group(0)

    return _TAG.sub(visit, html)


def _normalise_cid(value: str) -> str:
    return value.strip().strip("<>").strip()


_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset",
        "figure", "footer", "form", "header", "li", "main", "nav", "section", "table",
        "tr", "ul", "ol",
    }
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "p", "pre", "hr"})
# What html_to_text and the quote finder need to see; everything else keeps only its text.
_STRUCTURE_TAGS = ALLOWED_TAGS | _BLOCK_TAGS | _PARAGRAPH_TAGS
_SKIPPED_TAGS = frozenset({"head", "script", "style", "title", "template", "noscript"})
_WHITESPACE = re.compile(r"[ \t\r\n\f\xa0\u200b]+")


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.line: list[str] = []
        self.line_depth = 0
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.lists: list[list[int]] = []  # one entry per open list: [next number] or []
        self.links: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
            return
        if tag == "br":
            self._end_line(force=True)
        elif tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
        elif tag in _BLOCK_TAGS:
            self._end_line()
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag == "ul":
            self.lists.append([])
        elif tag == "ol":
            self.lists.append([1])
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1]:
                marker = f"{self.lists[-1][0]}. "
                self.lists[-1][0] += 1
            self._write(marker)
        elif tag in ("td", "th") and self.line:
            self._write("  ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", []))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "a" and self.links:
            href, words = self.links.pop()
            shown = "".join(words)
            if href.lower().startswith(("http://", "https://")) and href not in shown:
                self._write(f" <{href}>")
        if tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
        elif tag in _BLOCK_TAGS:
            self._end_line()
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._write(first, keep_spaces=True)
            for piece in rest:
                self._end_line(force=True)
                self._write(piece, keep_spaces=True)
            return
        self._write(_WHITESPACE.sub(" ", data))

    def _write(self, text: str, *, keep_spaces: bool = False) -> None:
        if not keep_spaces and not self.line:
            text = text.lstrip()
        if not text:
            return
        if not self.line:
            self.line_depth = self.quote_depth
        self.line.append(text)
        for _, words in self.links:
            words.append(text)

    def _end_line(self, *, force: bool = False) -> None:
        if self.line or force:
            depth = self.line_depth if self.line else self.quote_depth
            self.lines.append((depth, "".join(self.line).rstrip()))
        self.line = []

    def _end_paragraph(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.quote_depth, ""))

    def result(self) -> str:
        self._end_line()
        rendered: list[str] = []
        for depth, text in self.lines:
            prefix = "> " * depth
            line = (prefix + text).rstrip() if text else prefix.rstrip()
            if not line and rendered and not rendered[-1]:
                continue  # at most one blank line in a row
            rendered.append(line)
        while rendered and not rendered[-1].strip("> "):
            rendered.pop()  # a closing paragraph leaves a blank (or bare "> ") line behind
        return "\n".join(rendered).strip("\n")
