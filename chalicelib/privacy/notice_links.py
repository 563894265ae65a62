"""The links of the sub-processor change notices: confirming a subscription, unsubscribing
(signed tokens, chalicelib/signed_tokens.py, keyed from the deployment's reply-address secret
with purposes of their own), the public list and the objection screen.

A confirmation token names the subscription (the hash of the address, never the address),
its nonce (a newer request replaces it), the language chosen and when it was issued; it
works for CONFIRM_DAYS.  An unsubscribe token names the address's hash only and never
expires: every notice carries one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import signed_tokens

_CONFIRM = b"helptal subprocessor notices confirm v1"
_UNSUBSCRIBE = b"helptal subprocessor notices unsubscribe v1"
MAX_TOKEN_CHARS = 400
CONFIRM_DAYS = 7
LANGUAGES = ("en", "fr")

LIST_PATH = "/legal/subprocessors"
SUBSCRIBE_PATH = "/legal/subprocessors/subscribe"
CONFIRM_PATH = "/legal/subprocessors/subscriptions/confirm"
UNSUBSCRIBE_PATH = "/legal/subprocessors/subscriptions/unsubscribe"
OBJECTION_SCREEN = "/#/settings/privacy"


def language(lang: str | None) -> str:
    short = (lang or "").strip().lower()[:2]
    return short if short in LANGUAGES else "en"


@dataclass(frozen=True)
class ConfirmGrant:
    key: str  # the subscriber's key (hash of the address)
    nonce: str
    lang: str
    issued_at: int  # epoch seconds


@dataclass(frozen=True)
class NoticeLinks:
    public_base_url: str  # where /legal pages are served
    app_base_url: str  # the web client
    secret: Callable[[], str]  # read at each use (rotation needs no restart)

    def confirm_token(self, grant: ConfirmGrant) -> str:
        fields = {"s": grant.key, "n": grant.nonce, "l": grant.lang, "t": grant.issued_at}
        return signed_tokens.sign(self.secret(), _CONFIRM, fields)

    def read_confirm(self, token: str, now: int) -> ConfirmGrant | None:
        """The grant of a genuine confirmation token still in its CONFIRM_DAYS; None for
        anything forged, altered, malformed or too old."""
        fields = signed_tokens.verify(self.secret(), _CONFIRM, token, MAX_TOKEN_CHARS)
        if fields is None:
            return None
        key, nonce, lang, issued = (
            fields.get("s"),
            fields.get("n"),
            fields.get("l"),
            fields.get("t"),
        )
        if not (isinstance(key, str) and isinstance(nonce, str) and isinstance(issued, int)):
            return None
        if not issued <= now < issued + CONFIRM_DAYS * 86400:
            return None
        return ConfirmGrant(key, nonce, language(lang if isinstance(lang, str) else None), issued)

    def unsubscribe_token(self, key: str) -> str:
        return signed_tokens.sign(self.secret(), _UNSUBSCRIBE, {"s": key})

    def read_unsubscribe(self, token: str) -> str | None:
        """The subscriber key of a genuine unsubscribe token; None otherwise."""
        fields = signed_tokens.verify(self.secret(), _UNSUBSCRIBE, token, MAX_TOKEN_CHARS)
        key = fields.get("s") if fields is not None else None
        return key if isinstance(key, str) and key else None

    def _public(self, path: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{path}"

    def list_page(self, lang: str) -> str:
        return self._public(LIST_PATH) + ("?lang=fr" if lang == "fr" else "")

    def confirm_url(self, token: str) -> str:
        return self._public(f"{CONFIRM_PATH}/{token}")

    def unsubscribe_url(self, token: str, lang: str) -> str:
        return self._public(f"{UNSUBSCRIBE_PATH}/{token}") + ("?lang=fr" if lang == "fr" else "")

    def objection_screen(self) -> str:
        return f"{self.app_base_url.rstrip('/')}{OBJECTION_SCREEN}"
