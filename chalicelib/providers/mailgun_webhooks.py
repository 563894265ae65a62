"""Mailgun webhooks: checking a delivery is Mailgun's, once, and reading delivery events.

Covers both the inbound route (`forward(...)` posts a form) and the event webhooks (JSON).
Both carry `timestamp`, `token` and `signature`, where signature is the hex HMAC-SHA256 of
`timestamp + token` keyed with the HTTP webhook signing key (not the API key).  The body
itself is not signed, so the token is what ties a delivery to one use.

Decisions:
- **Statuses.** 401 when authenticity is not established (no/short/non-hex signature, wrong
  key, tampered timestamp or token: code `invalid_signature`); 403 when the signature is
  genuine but the timestamp is outside the accepted window (code `stale_signature`).  The HMAC
  is checked first, so a forgery is always reported as `invalid_signature` and
  `stale_signature` really means "Mailgun's, but too old or too far ahead" (clock skew, or a
  replay of a captured delivery).  An empty signing key is 503 `webhook_not_configured`:
  unsigned deliveries are never accepted.  All three are retried by Mailgun (it stops only on
  200 or 406), which is what we want for a misconfiguration that someone will fix.
- **Window.** `tolerance_seconds` bounds how far the timestamp may be *ahead* of our clock;
  `max_age_seconds` how far *behind*.  The webhook checks (`verify_inbound`, `verify_event`)
  accept up to `MAILGUN_RETRY_WINDOW_SECONDS` (9 h) of age: it is unconfirmed whether Mailgun
  signs each retry afresh, and its retries span about 8 h, so a 15-minute window could turn
  every retry after an outage into a rejection and lose the mail.  A captured delivery cannot
  be replayed inside that window, because its token is remembered (next point).
- **Replays.** After a valid signature the token is claimed with `ReplayGuard.first_use`,
  remembered until the timestamp leaves the window.  A token seen before is not an error:
  `verify_inbound`/`verify_event` return False and the handler answers 200 without acting
  again, since a repeat of an accepted delivery must not be retried by Mailgun, and a replay
  with a captured signature is indistinguishable from it.  Consequence for handlers: claim
  the token only when what follows cannot be lost (store or enqueue the delivery right after),
  because a retry of the same token after a failure would be dropped as a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthenticated
from chalicelib.http_forms import FormData

DEFAULT_TOLERANCE_SECONDS = 15 * 60
# Mailgun retries over about 8 h (10 min, 15 min, 30 min, 1 h, 2 h, 4 h); an hour's margin.
MAILGUN_RETRY_WINDOW_SECONDS = 9 * 3600
MAIL_ID_VARIABLE = "helptal-mail-id"
WORKSPACE_ID_VARIABLE = "helptal-workspace-id"
TICKET_ID_VARIABLE = "helptal-ticket-id"

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces; Mailgun sends 50 chars
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


class ReplayGuard(Protocol):
    """Remembers webhook tokens: the port behind `verify_inbound` and `verify_event`."""

    def first_use(self, token: str, expires_at: int) -> bool:
        """Record `token`; True the first time, False if it is already recorded.

        Must be atomic (two concurrent deliveries of one token: exactly one True).  The token
        must be remembered until `expires_at` (epoch seconds) and may be forgotten after.
        """
        ...


class MemoryReplayGuard:
    """A `ReplayGuard` in a dict, for tests and single-process tools."""

    def __init__(self) -> None:
        self.tokens: dict[str, int] = {}

    def first_use(self, token: str, expires_at: int) -> bool:
        if token in self.tokens:
            return False
        self.tokens[token] = expires_at
        return True


def sign(signing_key: str, timestamp: str, token: str) -> str:
    """The signature Mailgun sends for `timestamp` and `token` (lower-case hex)."""
    return hmac.new(
        signing_key.encode("utf-8"), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()


def verify_signature(
    signing_key: str,
    timestamp: str,
    token: str,
    signature: str,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    max_age_seconds: int | None = None,
) -> None:
    """Raise unless `signature` is Mailgun's for `timestamp` + `token` and the time is right.

    Accepted: `now - max_age_seconds <= timestamp <= now + tolerance_seconds`, where
    `max_age_seconds` defaults to `tolerance_seconds` (a symmetric window).
    Raises `ServiceUnavailable` (503, `webhook_not_configured`) for an empty key,
    `Unauthenticated` (401, `invalid_signature`) for a malformed or wrong signature and
    `Forbidden` (403, `stale_signature`) for a genuine one outside the window.
    """
    if not signing_key:
        raise ServiceUnavailable(
            "the Mailgun webhook signing key is not configured", code="webhook_not_configured"
        )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unauthenticated("webhook timestamp must be epoch seconds", code="invalid_signature")
    if not _TOKEN.fullmatch(token):
        raise Unauthenticated(
            "webhook token must be 1 to 200 printable characters", code="invalid_signature"
        )
    if not _SIGNATURE.fullmatch(signature):
        raise Unauthenticated(
            "webhook signature must be 64 hexadecimal characters", code="invalid_signature"
        )
    if not hmac.compare_digest(sign(signing_key, timestamp, token), signature.lower()):
        raise Unauthenticated(
            "webhook signature does not match the signing key", code="invalid_signature"
        )
    age = now - int(timestamp)
    oldest = tolerance_seconds if max_age_seconds is None else max_age_seconds
    if age > oldest or -age > tolerance_seconds:
        raise Forbidden(
            f"webhook timestamp is {abs(int(age))} s in the {'past' if age > 0 else 'future'}, "
            f"outside the accepted window",
            code="stale_signature",
        )


def verify_inbound(
    form: FormData,
    signing_key: str,
    guard: ReplayGuard,
    now: float,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    max_age_seconds: int = MAILGUN_RETRY_WINDOW_SECONDS,
) -> bool:
    """Verify a route (inbound mail) post and claim its token.

    True for a first delivery, False for a token already claimed (answer 200, do nothing).
    Raises as `verify_signature`; writes the token through `guard`.
    """
    return _verify_and_claim(
        signing_key,
        form.fields.get("timestamp", ""),
        form.fields.get("token", ""),
        form.fields.get("signature", ""),
        guard,
        now,
        tolerance_seconds=tolerance_seconds,
        max_age_seconds=max_age_seconds,
    )


def verify_event(
    payload: Any,
    signing_key: str,
    guard: ReplayGuard,
    now: float,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    max_age_seconds: int = MAILGUN_RETRY_WINDOW_SECONDS,
) -> bool:
    """Verify an event webhook body (`{"signature": {...}, "event-data": {...}}`), claim its token.

    True for a first delivery, False for a token already claimed (answer 200, do nothing).
    Raises as `verify_signature`; writes the token through `guard`.
    """
    block = _signature_block(payload)
    return _verify_and_claim(
        signing_key,
        _text(block.get("timestamp")),
        _text(block.get("token")),
        _text(block.get("signature")),
        guard,
        now,
        tolerance_seconds=tolerance_seconds,
        max_age_seconds=max_age_seconds,
    )


def _signature_block(payload: Any) -> dict[str, Any]:
    block = payload.get("signature") if isinstance(payload, dict) else None
    return block if isinstance(block, dict) else {}


def event_token(payload: Any) -> str:
    """The token an event webhook body is claimed by (to release it when not processed)."""
    return _text(_signature_block(payload).get("token"))


def _text(value: Any) -> str:
    # JSON may carry the timestamp as a number; anything else unexpected fails the format check.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else ""


def _verify_and_claim(
    signing_key: str,
    timestamp: str,
    token: str,
    signature: str,
    guard: ReplayGuard,
    now: float,
    *,
    tolerance_seconds: int,
    max_age_seconds: int,
) -> bool:
    verify_signature(
        signing_key,
        timestamp,
        token,
        signature,
        now=now,
        tolerance_seconds=tolerance_seconds,
        max_age_seconds=max_age_seconds,
    )
    # Past this instant the timestamp is refused anyway, so the token need not be remembered.
    return guard.first_use(token, int(timestamp) + max_age_seconds + 1)


@dataclass(frozen=True)
class MailEvent:
    """What Helptal needs from one Mailgun event (`event-data`)."""

    event: str
    event_id: str | None
    timestamp: float
    message_id: str | None
    recipient: str | None
    severity: str | None
    reason: str | None
    delivery_status_code: int | None
    delivery_status_message: str | None
    mail_id: str | None
    workspace_id: str | None = None  # set on ticket replies (user-variables)
    ticket_id: str | None = None


def normalise_message_id(value: Any) -> str | None:
    """A Message-Id without spaces or angle brackets (Mailgun's API adds them, events do not)."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip().removeprefix("<").removesuffix(">").strip()
    return cleaned or None


def parse_event(payload: Any) -> MailEvent:
    """Read the `event-data` of an event webhook body; unknown keys are ignored.

    Raises `BadRequest` (code `malformed_event`) without an `event-data` object carrying an
    `event` name and a numeric `timestamp`.  Does not check the signature (`verify_event`).
    """
    data = payload.get("event-data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise BadRequest("Mailgun event without an event-data object", code="malformed_event")
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise BadRequest("Mailgun event-data without an event name", code="malformed_event")
    timestamp = data.get("timestamp")
    if (
        not isinstance(timestamp, int | float)
        or isinstance(timestamp, bool)
        or not math.isfinite(timestamp)
    ):
        raise BadRequest("Mailgun event-data without a numeric timestamp", code="malformed_event")
    message = _object(data.get("message"))
    status = _object(data.get("delivery-status"))
    variables = _user_variables(data.get("user-variables"))
    return MailEvent(
        event=event,
        event_id=_optional_text(data.get("id")),
        timestamp=float(timestamp),
        message_id=normalise_message_id(_object(message.get("headers")).get("message-id")),
        recipient=_optional_text(data.get("recipient")),
        severity=_optional_text(data.get("severity")),
        reason=_optional_text(data.get("reason")),
        delivery_status_code=_status_code(status.get("code")),
        delivery_status_message=_optional_text(status.get("message"))
        or _optional_text(status.get("description")),
        mail_id=_optional_text(variables.get(MAIL_ID_VARIABLE)),
        workspace_id=_optional_text(variables.get(WORKSPACE_ID_VARIABLE)),
        ticket_id=_optional_text(variables.get(TICKET_ID_VARIABLE)),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _status_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _user_variables(value: Any) -> dict[str, Any]:
    # Documented as an object; a JSON-encoded string is accepted too, in case.
    if isinstance(value, str):
        from chalicelib.json_limits import loads

        try:
            value = loads(value)
        except ValueError:
            return {}
    return _object(value)
