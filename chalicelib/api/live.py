"""The web client's way into live pushes: where the WebSocket API is and a connect token
for it (the session cookie never reaches that API's host)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import LiveOut

schemas = lazy_module("chalicelib.api.schemas")
connect_tokens = lazy_module("chalicelib.live.connect_tokens")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/live",
    summary="Where to connect for live pushes, with a 60-second connect token",
    tag="live",
    response="LiveOut",
    errors=(401, 404),
    description="Connect to `url` with `?connect_token=` and the token within 60 seconds, then "
    'send `{"action": "subscribe", "topic": "inbox"}` or `"ticket:<id>"` (a ticket of your '
    'workspace) and `{"action": "ping"}` every few minutes. Events carry no content '
    '(`{"type": "ticket.changed" | "conversation.moved", "ticket_id"}`): read the change '
    "through this API. `url` is null where the deployment has no WebSocket API: poll.",
)
def live_access(call: Call) -> LiveOut:
    settings = get_settings()
    url = settings.live_websocket_url or None
    if url is None:
        return schemas.LiveOut(url=None, connect_token=None, expires_in=None)
    member = call.member
    token = connect_tokens.issue(
        settings.reply_address_secret,
        member.workspace_id,
        member.user_id or "",
        int(bootstrap.clock().now().timestamp()),
    )
    return schemas.LiveOut(url=url, connect_token=token, expires_in=connect_tokens.LIFETIME_SECONDS)
