"""Cloudflare Turnstile: checks the token the contact form's widget produced (siteverify).

`requests` is imported on first use.  A failed or slow call refuses the form (the visitor
can send it again) rather than letting it through unchecked."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.observability import logger

CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5


class TurnstileHumanCheck:
    def __init__(self, api_base: str, secret_key: Callable[[], str]) -> None:
        self._url = api_base.rstrip("/") + "/turnstile/v0/siteverify"
        self._secret_key = secret_key  # read at each call: a rotation needs no restart

    def verify(self, token: str, visitor_ip: str) -> bool:
        """Whether Turnstile says this token proves a human (one POST to siteverify)."""
        import requests

        form = {"secret": self._secret_key(), "response": token}
        if visitor_ip and visitor_ip != "unknown":
            form["remoteip"] = visitor_ip
        try:
            answer = requests.post(self._url, data=form, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
            answer.raise_for_status()
            verdict = answer.json()
        except (requests.RequestException, ValueError) as e:
            logger.warning("turnstile unreachable", extra={"error": type(e).__name__})
            return False
        if not verdict.get("success"):
            logger.info("turnstile refused", extra={"codes": verdict.get("error-codes", [])})
        return bool(verdict.get("success"))
