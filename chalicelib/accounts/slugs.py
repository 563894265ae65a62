"""Workspace slugs: the name in URLs and the inbound address `<slug>@<inbound domain>`."""

from __future__ import annotations

import re
import secrets
import unicodedata

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
RESERVED = frozenset(
    {
        "admin",
        "api",
        "app",
        "auth",
        "billing",
        "book",
        "booking",
        "bookings",
        "calendars",
        "event-types",
        "manage",
        "schedules",
        "docs",
        "help",
        "helptal",
        "hc",
        "mail",
        "noreply",
        "no-reply",
        "postmaster",
        "root",
        "security",
        "status",
        "support",
        "www",
        "abuse",
        "mailer-daemon",
        "webmaster",
        "hostmaster",
    }
)


def slugify(name: str) -> str:
    """'Équipe Support!' -> 'equipe-support' (ASCII, lowercase, hyphens, 3..40 chars)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    if len(slug) < 3:
        slug = (slug + "-team").strip("-") if slug else "team"
    return slug


def with_suffix(slug: str) -> str:
    """A variant of a taken slug: `acme` -> `acme-7f3k`."""
    return f"{slug[:35].rstrip('-')}-{secrets.token_hex(2)}"


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.match(slug)) and "--" not in slug and slug not in RESERVED
