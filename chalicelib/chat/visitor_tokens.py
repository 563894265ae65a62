"""Visitor tokens: what a widget keeps to speak in one conversation.

`base64url(payload).base64url(HMAC-SHA256(key, payload))`, the payload naming the
workspace, the conversation (ticket) and the visitor; the key is derived from the
deployment's reply-address secret, so there is no new secret to provision.  A token
authorises its own conversation only."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import signed_tokens

_PURPOSE = b"helptal chat visitor token v1"
MAX_TOKEN_CHARS = 400


@dataclass(frozen=True)
class VisitorGrant:
    workspace_id: str
    ticket_id: str
    visitor_id: str


def issue(secret: str, grant: VisitorGrant) -> str:
    fields = {"w": grant.workspace_id, "c": grant.ticket_id, "v": grant.visitor_id}
    return signed_tokens.sign(secret, _PURPOSE, fields)


def read(secret: str, token: str) -> VisitorGrant | None:
    """The grant a genuine token carries; None for anything forged, altered or malformed."""
    fields = signed_tokens.verify(secret, _PURPOSE, token, MAX_TOKEN_CHARS)
    try:
        return (
            VisitorGrant(str(fields["w"]), str(fields["c"]), str(fields["v"])) if fields else None
        )
    except KeyError:
        return None
