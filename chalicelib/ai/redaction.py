"""Redaction of personal data before ticket text leaves for an AI provider.

Card numbers are always replaced; e-mail addresses and phone numbers only when the workspace
asks for it.  Pure functions: no I/O, no provider calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

CARD_NUMBER = "[card number]"
EMAIL = "[e-mail]"
PHONE = "[phone]"

# 13-19 digits written whole or in the groups printed on cards (4-4-4-4[-1..3], 4-6-4/5),
# with one kind of separator; first digit 2-6 (every major network), so most order numbers
# never reach the Luhn check at all.
_CARD = re.compile(
    r"(?<![\w.,/-])"
    r"(?P<number>"
    r"[2-6]\d{12,18}"
    r"|[2-6]\d{3}(?P<s1>[ -])\d{4}(?P=s1)\d{4}(?P=s1)\d{4}(?:(?P=s1)\d{1,3})?"
    r"|3\d{3}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"
    r")"
    r"(?!\w|[/-]\w|[.,]\d)"
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")

_SEP = r"[ .-]?"
_PHONE = re.compile(
    r"(?<![\w/+.,-])(?:"
    # international: +33 6 12 34 56 78, +44 (0)20 7946 0958, +1-415-555-0100, 0033 6 12 ...
    r"(?:\+|00)[1-9]\d{0,2}" + _SEP + r"(?:\(0\)" + _SEP + r")?\d(?:" + _SEP + r"\d){6,12}"
    # French national: 06 12 34 56 78, 01.23.45.67.89, 0612345678
    r"|0[1-9](?:" + _SEP + r"\d{2}){4}"
    # North American: (415) 555-0100, 415-555-0100, 415.555.0100
    r"|(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    # UK national: 020 7946 0958, 07700 900123, 0161 496 0000
    r"|0\d{2,4} \d{3,4} ?\d{3,4}"
    r")(?!\w|[/-]\w|[.,]\d)"
)


@dataclass(frozen=True)
class Redacted:
    """The redacted text and how many of each kind were replaced (`card_number`, `email`,
    `phone`)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


def luhn_valid(digits: str) -> bool:
    """True when `digits` (only digits) passes the Luhn checksum used by payment cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact(text: str, *, emails: bool = False, phones: bool = False) -> Redacted:
    """`text` with card numbers replaced by `[card number]` and, when asked, e-mail addresses
    by `[e-mail]` and phone numbers by `[phone]`."""
    counts = {"card_number": 0, "email": 0, "phone": 0}

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group("number"))
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            return match.group(0)
        counts["card_number"] += 1
        return CARD_NUMBER

    def replace(kind: str, placeholder: str) -> Callable[[re.Match[str]], str]:
        def replacer(match: re.Match[str]) -> str:
            counts[kind] += 1
            return placeholder

        return replacer

    text = _CARD.sub(card, text)
    if emails:
        text = _EMAIL.sub(replace("email", EMAIL), text)
    if phones:
        text = _PHONE.sub(replace("phone", PHONE), text)
    return Redacted(text=text, counts={kind: n for kind, n in counts.items() if n})
