"""Cut an article body into passages a search hit can quote.

Pure text work (standard library only). A passage stays under one heading, holds about
`TARGET_WORDS` words (never more than `MAX_WORDS`) and repeats the last `OVERLAP_WORDS` words
of the previous passage of the same section, so a sentence cut at a border is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS = 80
TARGET_WORDS = 160
MAX_WORDS = 200
OVERLAP_WORDS = 20

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*>\s?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True, slots=True)
class Passage:
    """One searchable piece of an article: its text and the heading it sits under."""

    article_id: str
    heading: str
    text: str
    position: int


def plain_text(markdown_line: str) -> str:
    """One line of Markdown as the words a reader sees (links keep their text, marks go)."""
    line = _IMAGE.sub(r"\1", markdown_line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _HTML_TAG.sub(" ", line)
    line = _QUOTE_MARK.sub("", line)
    line = _LIST_MARK.sub("", line)
    previous = None
    while previous != line:
        previous = line
        line = _EMPHASIS.sub(r"\2", line)
    return line.replace("|", " ").strip()


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """Split Markdown (or plain text) into (heading, paragraphs) in reading order."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []
    in_fence = False

    def close_paragraph() -> None:
        if paragraph:
            text = " ".join(part for part in paragraph if part)
            if text.strip():
                sections[-1][1].append(text)
            paragraph.clear()

    lines = body.replace("\r\n", "\n").split("\n")
    for index, raw in enumerate(lines):
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence:
            # Code stays searchable (error messages, commands) but is not parsed as Markdown.
            paragraph.append(raw.strip())
            continue
        heading = _HEADING.match(raw)
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if heading:
            close_paragraph()
            sections.append((plain_text(heading.group(2)), []))
        elif (
            raw.strip()
            and _SETEXT_UNDERLINE.match(next_line)
            and not paragraph
            and not _TABLE_RULE.match(next_line)
        ):
            close_paragraph()
            sections.append((plain_text(raw), []))
        elif _SETEXT_UNDERLINE.match(raw) and sections[-1][0] and not sections[-1][1]:
            continue
        elif not raw.strip() or _TABLE_RULE.match(raw):
            close_paragraph()
        else:
            paragraph.append(plain_text(raw))
    close_paragraph()
    return [(heading, paragraphs) for heading, paragraphs in sections if paragraphs or heading]


def _split_long(words: list[str]) -> list[list[str]]:
    """Windows of at most MAX_WORDS words over one over-long paragraph, overlapping a little."""
    windows: list[list[str]] = []
    step = TARGET_WORDS - OVERLAP_WORDS
    start = 0
    while start < len(words):
        windows.append(words[start : start + TARGET_WORDS])
        if start + TARGET_WORDS >= len(words):
            break
        start += step
    return windows


def chunk_article(article_id: str, body: str) -> list[Passage]:
    """The passages of one article body, in reading order (an empty body gives none)."""
    passages: list[Passage] = []

    def emit(heading: str, words: list[str]) -> None:
        if words:
            passages.append(Passage(article_id, heading, " ".join(words), len(passages)))

    for heading, paragraphs in _sections(body):
        current: list[str] = []
        for paragraph in paragraphs:
            words = paragraph.split()
            windows = _split_long(words) if len(words) > MAX_WORDS else [words]
            for window in windows:
                if current and len(current) + len(window) > MAX_WORDS:
                    emit(heading, current)
                    current = current[-OVERLAP_WORDS:] if len(current) > OVERLAP_WORDS else []
                current.extend(window)
                if len(current) >= TARGET_WORDS:
                    emit(heading, current)
                    current = current[-OVERLAP_WORDS:]
        # Close the section unless what is left is only the overlap already emitted.
        if current and not (passages and passages[-1].heading == heading and _is_tail(current)):
            emit(heading, current)
    return _merge_tiny(passages)


def _is_tail(words: list[str]) -> bool:
    return len(words) <= OVERLAP_WORDS


def _merge_tiny(passages: list[Passage]) -> list[Passage]:
    """Fold a very short passage into the previous one of the same heading when both fit."""
    merged: list[Passage] = []
    for passage in passages:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.heading == passage.heading
            and len(passage.text.split()) < MIN_WORDS // 2
            and len(previous.text.split()) + len(passage.text.split()) <= MAX_WORDS
        ):
            merged[-1] = Passage(
                previous.article_id,
                previous.heading,
                f"{previous.text} {passage.text}",
                previous.position,
            )
        else:
            merged.append(Passage(passage.article_id, passage.heading, passage.text, len(merged)))
    return merged
