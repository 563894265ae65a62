"""Help-centre dates written per locale (the pages' words are in the gettext catalogs)."""

from __future__ import annotations

from datetime import date

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}  # fmt: skip


def format_date(day: date, locale: str) -> str:
    """`30 November 2026` in English, `30 novembre 2026` (`1er` for the first) in French."""
    months = _MONTHS.get(locale, _MONTHS["en"])
    number = "1er" if locale == "fr" and day.day == 1 else str(day.day)
    return f"{number} {months[day.month - 1]} {day.year}"
