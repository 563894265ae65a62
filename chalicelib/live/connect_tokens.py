"""Connect tokens: how the web client opens the live WebSocket API.

The web client's session cookie (`__Host-`) is only ever sent to the host that set it, never
to the WebSocket API's own host, so `GET /v1/live` hands a member a token good for one thing
(opening a connection, `?connect_token=`) for 60 seconds, bound to their workspace and user.
`lct_` + `base64url(payload).base64url(HMAC-SHA256(key, payload))`; the key is derived from
the deployment's reply-address secret with its own purpose, so no other token (a visitor's,
a reply address) verifies as one.  Connect checks it and keeps nothing of it: it is not a
session, and a connection lives by its own TTL."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import signed_tokens

PREFIX = "lct_"
LIFETIME_SECONDS = 60
_PURPOSE = b"helptal live connect token v1"


@dataclass(frozen=True)
class ConnectGrant:
    workspace_id: str
    user_id: str
    expires_at: int  # epoch seconds


def issue(secret: str, workspace_id: str, user_id: str, now: int) -> str:
    """A token for this member, valid `LIFETIME_SECONDS` from `now` (no call)."""
    fields = {"w": workspace_id, "u": user_id, "e": now + LIFETIME_SECONDS}
    return PREFIX + signed_tokens.sign(secret, _PURPOSE, fields)


def read(secret: str, token: str, now: int) -> ConnectGrant | None:
    """The grant of a genuine, unexpired token; None for anything forged, altered, expired
    or malformed (no call)."""
    if not token.startswith(PREFIX):
        return None
    fields = signed_tokens.verify(secret, _PURPOSE, token.removeprefix(PREFIX), 400)
    if fields is None:
        return None
    try:
        grant = ConnectGrant(str(fields["w"]), str(fields["u"]), int(fields["e"]))
    except (KeyError, TypeError, ValueError):
        return None
    return grant if grant.expires_at > now else None
