"""Someone's e-mail address inside other people's tickets, and what those tickets become once
it is erased: every mention is replaced by `[erased]` (pure functions; the erasure's
`mentions` phase writes the results, chalicelib/store/erasure_tickets.py).

An address is matched whole, in any case and in either Unicode form (composed or not):
`carla@customer.test` is found in `Carla@Customer.TEST,`, `'carla@customer.test'` or
`mailto:carla@customer.test`, never inside another address that ends like it
(`xcarla@customer.test`, `o'carla@customer.test`, `x+carla@customer.test`) or begins like it
(`carla@customer.testing`).  A ticket's CC list loses the address (a reply must not be
copied to `[erased]`); the messages keep `[erased]` where it stood."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, replace
from functools import lru_cache

from chalicelib.privacy.erasure import ERASED
from chalicelib.tickets.model import Activity, ChatContext, Message, MessageKind, Ticket

# Characters an address's local part may hold that text also uses around an address
# (quotes, `|`): one of them glued to a letter, digit or `.` before it (`o'al@x.test`)
# belongs to another address; after a space or at the start it is punctuation.
_GLUED = "!#$&'*^`{|}~"


def address_regex(address: str) -> str:
    """The regular expression of the address as a whole address (to compile with
    re.IGNORECASE): its composed and decomposed Unicode forms, not preceded by what would
    make it the end of another address, nor followed by more of a domain."""
    address = address.strip()
    forms = sorted({unicodedata.normalize(f, address) for f in ("NFC", "NFD")})
    return (
        r"(?<![\w.%+-])(?<![\w.%+-][" + re.escape(_GLUED) + "])"
        "(?:" + "|".join(re.escape(form) for form in forms) + r")(?![\w-]|\.\w)"
    )


@lru_cache(maxsize=32)
def address_pattern(address: str) -> re.Pattern[str]:
    """The address as a whole address, in any case (see `address_regex`)."""
    return re.compile(address_regex(address), re.IGNORECASE)


def mentions(text: str | None, address: str) -> bool:
    return bool(text) and address_pattern(address).search(text or "") is not None


def without_address(text: str | None, address: str) -> str | None:
    """`text` with every mention of `address` replaced by `[erased]` (None stays None)."""
    if not text:
        return text
    return address_pattern(address).sub(ERASED, text)


def _list_without(values: list[str], address: str) -> list[str]:
    return [without_address(value, address) or "" for value in values]


def erased_message(message: Message, address: str) -> Message | None:
    """The message with the address replaced in every field that shows text or addresses;
    None when it does not mention it."""
    chat = message.chat
    if chat is not None and mentions(chat.page_url, address):
        chat = ChatContext(**{**asdict(chat), "page_url": without_address(chat.page_url, address)})
    erased = replace(
        message,
        subject=without_address(message.subject, address) or "",
        text=without_address(message.text, address) or "",
        html=without_address(message.html, address),
        quoted_text=without_address(message.quoted_text, address),
        original_text=without_address(message.original_text, address),
        delivery_detail=without_address(message.delivery_detail, address),
        from_address=without_address(message.from_address, address),
        to=_list_without(message.to, address),
        cc=_list_without(message.cc, address),
        chat=chat,
    )
    return None if erased == message else erased


def erased_ticket(ticket: Ticket, address: str) -> Ticket | None:
    """The ticket without the address: dropped from its CCs, replaced in its subject; None
    when it holds neither.  (Its requester is someone else: their own tickets are removed.)"""
    cc = [c for c in ticket.cc if not mentions(c, address)]
    erased = replace(ticket, cc=cc, subject=without_address(ticket.subject, address) or "")
    return None if erased == ticket else erased


def erased_activity(entry: Activity, address: str) -> Activity | None:
    """An activity entry (a subject changed, say) with the address replaced; None if unnamed."""
    erased = replace(
        entry,
        before=without_address(entry.before, address),
        after=without_address(entry.after, address),
    )
    return None if erased == entry else erased


def erased_json(raw: str | None, address: str) -> str | None:
    """A JSON document (an AI result's payload) with the address replaced in its strings;
    None when it does not mention it."""
    if not raw or not mentions(raw, address):
        return None
    return json.dumps(_erased_value(json.loads(raw), address), ensure_ascii=False)


def _erased_value(value: object, address: str) -> object:
    if isinstance(value, str):
        return without_address(value, address)
    if isinstance(value, list):
        return [_erased_value(v, address) for v in value]
    if isinstance(value, dict):
        return {k: _erased_value(v, address) for k, v in value.items()}
    return value


def takes_part(ticket: Ticket, messages: list[Message], address: str) -> bool:
    """Whether the address is in the ticket's CCs, or sent, received or was copied on one of
    the messages people outside the team could see (internal notes do not count)."""
    if any(mentions(c, address) for c in ticket.cc):
        return True
    return any(
        mentions(value, address)
        for message in messages
        if message.kind is not MessageKind.NOTE
        for value in (message.from_address, *message.to, *message.cc)
    )
