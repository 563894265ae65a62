"""Who reads a workspace's mail about its account (billing, privacy): its owners, each in the
language of their profile, else the workspace's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.accounts.model import Member, Page, Role, User, Workspace

LANGUAGES = ("en", "fr")
MEMBERS_PAGE = 100


class MemberDirectory(Protocol):
    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]: ...

    def get_user(self, user_id: str) -> User | None: ...


@dataclass(frozen=True)
class Reader:
    who: str  # the end of a mail id: "user-<id>" (or the caller's own, e.g. "billing-email")
    name: str
    email: str
    locale: str  # "en" or "fr"


def language(locale: str | None) -> str:
    """The product's language for a locale ("fr-CA" -> "fr"; anything else -> "en")."""
    short = (locale or "").lower()[:2]
    return short if short in LANGUAGES else "en"


def owner_readers(directory: MemberDirectory, workspace: Workspace) -> list[Reader]:
    """Every owner once by address, in the language of their profile (else the workspace's).
    Reads the members page by page (bounded by the workspace's seats) and each owner's user."""
    found: list[Reader] = []
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = directory.list_members(workspace.id, cursor, MEMBERS_PAGE)
        for member in page.entries:
            address = member.email.strip().lower()
            if member.role is not Role.OWNER or not address or address in seen:
                continue
            user = directory.get_user(member.user_id)
            locale = (user.locale if user is not None else None) or workspace.locale
            found.append(Reader(f"user-{member.user_id}", member.name, address, language(locale)))
            seen.add(address)
        cursor = page.next_cursor
        if cursor is None:
            return found
