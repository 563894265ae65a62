"""A real help-centre corpus for the search bench: the Python FAQ shipped by Debian.

Each question of `/usr/share/doc/python3.11/html/faq/*.html` (package `python3.11-doc`)
becomes an article whose title is the question and whose body is its answer, as Markdown.
Imported by `bench/kb_retrieval.py`; running this file prints a summary and does nothing else.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

FAQ_DIR = Path("/usr/share/doc/python3.11/html/faq")
FAQ_PACKAGE = "python3.11-doc"
PARAPHRASES = Path(__file__).resolve().parent / "kb_paraphrases.json"

_BLOCKS = {"p", "li", "dt", "dd", "div", "table", "tr", "blockquote", "ul", "ol", "dl"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@dataclass
class _Section:
    anchor: str
    depth: int
    heading: str = ""
    parts: list[str] = field(default_factory=list)
    children: list[_Section] = field(default_factory=list)


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ question and its answer (Markdown), with a stable id and URL."""

    id: str
    question: str
    answer: str
    url: str


class _FaqParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Section("", 0)
        self.stack = [self.root]
        self.tag_stack: list[str] = []
        self.skip = 0
        self.in_heading = False
        self.in_pre = False
        self.buffer: list[str] = []

    def _flush(self) -> None:
        text = "".join(self.buffer)
        self.buffer.clear()
        if self.in_pre:
            if text.strip():
                self.stack[-1].parts.append(f"```\n{text.strip(chr(10))}\n```")
            return
        text = " ".join(text.split())
        if text:
            self.stack[-1].parts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if self.skip:
            self.skip += tag not in {"br", "img", "hr", "input", "meta", "link"}
            return
        if tag == "nav" or "headerlink" in classes or tag in {"script", "style"}:
            self.skip = 1
            return
        if tag == "section":
            self._flush()
            section = _Section(attributes.get("id") or "", self.stack[-1].depth + 1)
            self.stack[-1].children.append(section)
            self.stack.append(section)
        elif tag in _HEADINGS:
            self._flush()
            self.in_heading = True
        elif tag == "pre":
            self._flush()
            self.in_pre = True
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if tag == "section":
            self._flush()
            if len(self.stack) > 1:
                self.stack.pop()
        elif tag in _HEADINGS and self.in_heading:
            self.stack[-1].heading = " ".join("".join(self.buffer).split())
            self.buffer.clear()
            self.in_heading = False
        elif tag == "pre":
            self._flush()
            self.in_pre = False
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.buffer.append(data)


def _is_question(section: _Section) -> bool:
    return section.depth >= 2 and (section.heading.endswith("?") or not section.children)


def _answer(section: _Section) -> str:
    """The section's own text plus its sub-sections that are not questions themselves."""
    parts = list(section.parts)
    for child in section.children:
        if not _is_question(child):
            parts.append(f"## {child.heading}")
            parts.append(_answer(child))
    return "\n\n".join(part for part in parts if part)


def _questions(section: _Section, page: str) -> list[FaqEntry]:
    found: list[FaqEntry] = []
    for child in section.children:
        if _is_question(child):
            answer = _answer(child)
            if answer.strip():
                found.append(
                    FaqEntry(
                        f"{page}#{child.anchor}", child.heading, answer, f"{page}#{child.anchor}"
                    )
                )
        found.extend(_questions(child, page))
    return found


def ensure_faq_installed() -> bool:
    """True when the FAQ pages are there, installing Debian's package first when root can."""
    if FAQ_DIR.is_dir():
        return True
    if shutil.which("apt-get") is None:
        print(f"{FAQ_DIR} is missing and apt-get is not available: install {FAQ_PACKAGE}")
        return False
    if os.geteuid() != 0:
        print(f"{FAQ_DIR} is missing: run `sudo apt-get install -y {FAQ_PACKAGE}` (not root)")
        return False
    print(f"installing {FAQ_PACKAGE} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", FAQ_PACKAGE], check=False, env=env)
    return result.returncode == 0 and FAQ_DIR.is_dir()


def load_faq() -> list[FaqEntry]:
    """Every question of the FAQ, in page order; questions asked twice keep the first answer."""
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for page in sorted(FAQ_DIR.glob("*.html")):
        if page.name == "index.html":
            continue
        parser = _FaqParser()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        for entry in _questions(parser.root, page.stem):
            if entry.question not in seen:
                seen.add(entry.question)
                entries.append(entry)
    return entries


def synthetic_corpus(entries: list[FaqEntry], size: int, seed: int = 7) -> list[FaqEntry]:
    """`size` articles made from the FAQ: the originals, then blends of two answers with
    shuffled paragraphs and a title mixing two questions (same vocabulary, new documents)."""
    rng = random.Random(seed)
    corpus = list(entries[:size])
    while len(corpus) < size:
        first, second = rng.sample(entries, 2)
        paragraphs = first.answer.split("\n\n")[:3] + second.answer.split("\n\n")[:3]
        rng.shuffle(paragraphs)
        first_words = first.question.rstrip("?").split()
        second_words = second.question.rstrip("?").split()
        title = " ".join(
            first_words[: len(first_words) // 2 + 1] + second_words[len(second_words) // 2 :]
        )
        number = len(corpus)
        corpus.append(FaqEntry(f"synthetic-{number}", f"{title}?", "\n\n".join(paragraphs), ""))
    return corpus


if __name__ == "__main__":
    print(__doc__.strip().splitlines()[0])
    if FAQ_DIR.is_dir():
        faq = load_faq()
        print(f"{len(faq)} questions under {FAQ_DIR} (the search bench is bench/kb_retrieval.py)")
    else:
        print(f"{FAQ_DIR} is not installed yet; bench/kb_retrieval.py installs it")
