"""The new part of a customer's reply: quoted history and signature folded away.

Attribution and forward lines ("On … wrote:", "Le … a écrit :", "-----Original Message-----",
"Begin forwarded message:", …) are found by `quotequail` (imported on first use; only its
plain-text part, which needs no lxml).  Outlook header blocks without a separator line,
trailing `>` blocks, signatures, and the HTML markers of Gmail, Outlook, Apple Mail and
Thunderbird are recognised here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Lines beyond these are never scanned: long lines and huge bodies stay cheap to read.
MAX_SCAN_LINES = 5000
MAX_SCAN_LINE_CHARS = 1000
MAX_SIGNATURE_LINES = 20


@dataclass(frozen=True)
class VisibleReply:
    """`text` is what the sender wrote this time; `quoted` the history below it (empty when
    none was found); `signature` the sign-off that was folded away, if any."""

    text: str
    quoted: str
    signature: str | None


def visible_reply(text: str, html: str | None = None) -> VisibleReply:
    """The new part of a reply, from its plain body (`text`) and, when the plain body shows
    no quote, the quote markers of its HTML body.  A mail that is all quote (a forward)
    comes back whole.  Never raises: on any surprise the whole text is the reply."""
    try:
        return _visible_reply(text or "", html)
    except Exception:  # a heuristics bug must not cost the customer's words
        return VisibleReply(text=(text or "").strip(), quoted="", signature=None)


def _visible_reply(text: str, html: str | None) -> VisibleReply:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    split: tuple[str, str] | None = None
    if not text.strip() and html:
        # Only HTML: its quote markers are surer than patterns in the text made from it.
        from chalicelib.mail.sanitize import html_to_text

        text = html_to_text(html)
        split = _split_html(html)
    if split is None:
        lines = text.split("\n")
        cut = _quote_start(lines)
        if cut is not None:
            split = "\n".join(lines[:cut]), "\n".join(lines[cut:])
        elif html:
            split = _split_html(html)
    kept, quoted = split if split is not None else (text, "")
    if not kept.strip():
        return VisibleReply(text=text.strip(), quoted="", signature=None)
    body, signature = _split_signature(kept)
    return VisibleReply(text=body.strip(), quoted=quoted.strip(), signature=signature)


# --- plain text -----------------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*(?:[_-]{5,}|-+\s*original message\s*-+)\s*$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*[*>]*\s*(?:from|de|von|van|da|od)\s?:\**\s+\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*[*>]*\s*(?:sent|date|envoyé|gesendet|datum|enviado|inviato|verzonden|odesláno)"
    r"\s?:\**\s+\S",
    re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^\s*>")
_ATTRIBUTION = re.compile(r"[@<].*:\s*$")


def _quote_start(lines: list[str]) -> int | None:
    """The index of the first line of quoted history, or None."""
    probe = [line[:MAX_SCAN_LINE_CHARS] for line in lines[:MAX_SCAN_LINES]]
    candidates = [
        found
        for found in (_attribution_line(probe), _header_block(probe), _trailing_quote(probe))
        if found is not None
    ]
    return min(candidates) if candidates else None


def _attribution_line(lines: list[str]) -> int | None:
    import quotequail

    parts = quotequail.quote("\n".join(lines), limit=len(lines) + 2, quote_intro_line=True)
    if len(parts) < 2:
        return None
    top = parts[0][1]
    return top.count("\n") + 1 if top else 0


def _header_block(lines: list[str]) -> int | None:
    """An Outlook-style "From: … / Sent: …" (or "De : … / Envoyé : …") block, with the
    separator line above it if there is one."""
    for index, line in enumerate(lines):
        if not _HEADER_FROM.match(line):
            continue
        if not any(_HEADER_SENT.match(following) for following in lines[index + 1 : index + 4]):
            continue
        above = index - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        return above if above >= 0 and _SEPARATOR.match(lines[above]) else index
    return None


def _trailing_quote(lines: list[str]) -> int | None:
    """The start of the `>`-quoted block that runs to the end of the text (with its
    attribution line), or None when quoted lines are interleaved with new text."""
    start = len(lines)
    quoted = False
    while start > 0 and (not lines[start - 1].strip() or _QUOTED_LINE.match(lines[start - 1])):
        start -= 1
        quoted = quoted or bool(_QUOTED_LINE.match(lines[start]))
    if not quoted:
        return None
    while start < len(lines) and not lines[start].strip():
        start += 1
    above = start - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above >= 0 and _ATTRIBUTION.search(lines[above]):
        return above
    return start


_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:sent from my\s|sent from (?:outlook|mail|yahoo)|get outlook for\s"
    r"|envoyé de mon\s|envoyé depuis\s|télécharge[rz] outlook pour\s|obtenir outlook pour\s"
    r"|gesendet von meinem\s|von meinem .{1,40} gesendet)",
    re.IGNORECASE,
)


def _split_signature(kept: str) -> tuple[str, str | None]:
    """`kept` without its signature: from a `-- ` line or a "Sent from my iPhone" line to
    the end, when it is short and something was written above it."""
    lines = kept.rstrip().split("\n")
    for index, line in enumerate(lines):
        if not (_SIGNATURE_DELIMITER.match(line) or _MOBILE_SIGNATURE.match(line)):
            continue
        if not "\n".join(lines[:index]).strip() or len(lines) - index > MAX_SIGNATURE_LINES:
            continue
        signature_lines = lines[index + 1 :] if _SIGNATURE_DELIMITER.match(line) else lines[index:]
        signature = "\n".join(signature_lines).strip()
        return "\n".join(lines[:index]), signature or None
    return kept, None


# --- HTML -----------------------------------------------------------------------------------

_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
)
_QUOTE_IDS = frozenset({"appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container"})
_MARKER_ATTRIBUTES = frozenset({"class", "id", "type", "style"})
_OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:e1e1e1|b5c4df)", re.IGNORECASE)


def _split_html(html: str) -> tuple[str, str] | None:
    """The text above and below the first quote marker of `html`, or None."""
    from chalicelib.mail.sanitize import html_to_text, normalise_html

    markup = normalise_html(html, keep_attributes=_MARKER_ATTRIBUTES)
    finder = _QuoteMarkerFinder()
    try:
        finder.feed(markup)
        finder.close()
    except _Found:
        pass
    if finder.position is None:
        return None
    line_starts = [0]
    line_starts.extend(match.end() for match in re.finditer("\n", markup))
    line, column = finder.position
    offset = line_starts[line - 1] + column
    return html_to_text(markup[:offset]), html_to_text(markup[offset:])


class _Found(Exception):
    pass


class _QuoteMarkerFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.position: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").lower().split())
        if (
            classes & _QUOTE_CLASSES
            or values.get("id", "").lower() in _QUOTE_IDS
            or (tag == "blockquote" and values.get("type", "").lower() == "cite")
            or (tag == "div" and _OUTLOOK_BORDER.search(values.get("style", "")))
        ):
            self.position = self.getpos()
            raise _Found
