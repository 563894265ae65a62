"""Mentions in notes: `@Ana` (a first name), `@AnaLima` or `@[Ana Lima]` (a full name),
`@ana.lima` (the start of an e-mail address), or `@01J…` (a member id, what the web client
inserts).  Resolved to member ids when the note is written, so a later rename changes
nothing.  A name two members share mentions neither: the writer picks from a list instead."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_MENTIONS = 20
# Not inside a word or an address ("ann@acme.test" mentions no one).
_MENTION = re.compile(
    r"(?<![\w@.+-])@(?:\[([^\[\]\n]{1,120})\]|([0-9A-HJKMNP-TV-Z]{26})(?![\w])|(\w[\w.'-]*))"
)


@dataclass(frozen=True)
class Teammate:
    user_id: str
    name: str
    email: str


def _fold(text: str) -> str:
    return "".join(text.split()).casefold()


def _names(teammate: Teammate) -> set[str]:
    first = teammate.name.split()[0] if teammate.name.split() else ""
    local = teammate.email.partition("@")[0]
    return {n for n in (_fold(first), _fold(teammate.name), local.casefold()) if n}


def mentioned(text: str, team: Iterable[Teammate]) -> list[str]:
    """The member ids `text` mentions, in the order first mentioned (at most MAX_MENTIONS)."""
    members = list(team)
    by_id = {m.user_id: m for m in members}
    found: list[str] = []
    for bracketed, member_id, word in _MENTION.findall(text):
        if member_id:
            candidates = [by_id[member_id]] if member_id in by_id else []
        elif bracketed:
            candidates = [m for m in members if _fold(m.name) == _fold(bracketed)]
        else:
            token = word.rstrip(".'-").casefold()
            candidates = [m for m in members if token in _names(m)]
        if len(candidates) == 1 and candidates[0].user_id not in found:
            found.append(candidates[0].user_id)
        if len(found) == MAX_MENTIONS:
            break
    return found


def might_mention(text: str) -> bool:
    """Whether `text` has anything that looks like a mention (else no member list is read)."""
    return _MENTION.search(text) is not None
