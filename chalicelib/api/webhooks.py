"""Provider webhooks: verify on the raw body, keep the delivery, queue it, answer fast.

The mail intake loads with the first delivery, not when `app` is imported (cold start)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import FORM, JSON, MULTIPART, Call, operation
from chalicelib.errors import BadRequest

bp = Blueprint(__name__)


@operation(
    bp,
    "POST",
    "/v1/webhooks/mailgun/inbound",
    summary="Mailgun inbound route (parsed fields or raw MIME); signed by Mailgun",
    tag="webhooks",
    auth=False,
    accepts=(FORM, MULTIPART),
    errors=(400, 401, 403, 413, 415, 503),
)
def mailgun_inbound(call: Call) -> dict[str, str]:
    from chalicelib.mail.intake_queue import accept_inbound_delivery

    raw, content_type = _signed_body(call)
    return {"status": accept_inbound_delivery(bootstrap.inbound_intake(), raw, content_type)}


@operation(
    bp,
    "POST",
    "/v1/webhooks/mailgun/stored",
    summary=(
        "Mailgun store-and-notify route: a stored message's notification (parsed fields and "
        "message-url; the message, up to 25 MB, is fetched from Mailgun); signed by Mailgun"
    ),
    tag="webhooks",
    auth=False,
    accepts=(FORM, MULTIPART),
    errors=(400, 401, 403, 413, 415, 503),
)
def mailgun_stored(call: Call) -> dict[str, str]:
    from chalicelib.mail.intake_queue import accept_stored_notification

    raw, content_type = _signed_body(call)
    return {"status": accept_stored_notification(bootstrap.inbound_intake(), raw, content_type)}


def _signed_body(call: Call) -> tuple[bytes, str | None]:
    """The raw body (its signature is checked on these bytes) and its media type."""
    request = call.request
    raw = request.raw_body if isinstance(request.raw_body, bytes) else b""
    return raw, request.headers.get("content-type")


@operation(
    bp,
    "POST",
    "/v1/webhooks/mailgun/events",
    summary="Mailgun delivery events (delivered, failed, bounced); signed by Mailgun",
    tag="webhooks",
    auth=False,
    accepts=(JSON,),
    errors=(400, 401, 403, 415, 503),
)
def mailgun_events(call: Call) -> dict[str, str]:
    from chalicelib import json_limits
    from chalicelib.mail.delivery_events import record_mailgun_event

    try:
        payload = json_limits.loads(call.request.raw_body or b"")
    except ValueError as e:  # also undecodable bytes, and nesting past MAX_JSON_DEPTH
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from e
    intake = bootstrap.inbound_intake()
    status = record_mailgun_event(
        bootstrap.ticket_deps(), intake.signing_key, intake.guard, payload
    )
    return {"status": status}
