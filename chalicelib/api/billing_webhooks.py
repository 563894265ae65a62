"""The payment processors' webhooks: each delivery is verified on its raw body (Stripe's
signature with its timestamp tolerance; PayPal's by postback to verify-webhook-signature;
TapPay's notify by reading the trade back from TapPay), claimed once by its event id, queued
for the billing-events worker and answered 200 at once.  A forged or stale delivery is 400
and changes nothing; a repeated one is 200 and changes nothing; when the queue does not
take it, 503 and the processor delivers it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import JSON, Call, operation
from chalicelib.errors import BadRequest, NotFound, ServiceUnavailable
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.billing.deps import BillingDeps
    from chalicelib.billing.ports import WebhookEvent

deliveries = lazy_module("chalicelib.billing.deliveries")
bp = Blueprint(__name__)
TAG = "webhooks"


def _raw(call: Call) -> bytes:
    """The body as received, once checked to be a JSON object of sane depth (400
    `malformed_json` otherwise, before any processor is asked about it)."""
    from chalicelib import json_limits

    raw = call.request.raw_body
    body = raw if isinstance(raw, bytes) else (raw or "").encode("utf-8", "surrogatepass")
    try:
        parsed = json_limits.loads(body)
    except ValueError as e:  # also undecodable bytes, and nesting past MAX_JSON_DEPTH
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from e
    if not isinstance(parsed, dict):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    return body


def _accept(deps: BillingDeps, verify: Callable[[], WebhookEvent]) -> dict[str, str]:
    from chalicelib.billing.ports import ProcessorUnavailable, WebhookRejected

    try:
        event = verify()
    except WebhookRejected as e:
        raise BadRequest(
            "The delivery could not be verified.", code="invalid_signature", details=str(e)[:200]
        ) from e
    except ProcessorUnavailable as e:
        raise ServiceUnavailable(
            "The delivery could not be verified now; deliver it again later.",
            code="processor_unavailable",
        ) from e
    accepted = deliveries.accept_delivery(deps, event)
    return {"status": "accepted" if accepted else "duplicate"}


@operation(
    bp,
    "POST",
    "/v1/webhooks/stripe",
    summary="Stripe events (subscriptions, invoices, checkout); verified by `Stripe-Signature`",
    description="400 `invalid_signature` for a missing, wrong or stale (over 5 minutes) "
    "signature. Each event id is acted on once; the objects are read back from Stripe.",
    tag=TAG,
    auth=False,
    accepts=(JSON,),
    errors=(400,),
)
def stripe_webhook(call: Call) -> dict[str, str]:
    raw, signature = _raw(call), call.request.headers.get("stripe-signature", "")
    deps = bootstrap.billing_deps()
    return _accept(deps, lambda: deps.stripe.verify_webhook(raw, signature))


@operation(
    bp,
    "POST",
    "/v1/webhooks/paypal",
    summary="PayPal subscription and payment events; verified with PayPal's "
    "verify-webhook-signature",
    description="400 `invalid_signature` when PayPal does not confirm the delivery (or its "
    "PAYPAL-* headers are missing); 404 when this deployment does not offer PayPal.",
    tag=TAG,
    auth=False,
    accepts=(JSON,),
    errors=(400, 404),
)
def paypal_webhook(call: Call) -> dict[str, str]:
    raw = _raw(call)
    deps = bootstrap.billing_deps()
    paypal = deps.paypal
    if paypal is None:
        raise NotFound("PayPal is not offered here.", code="processor_not_configured")
    headers = {str(k).lower(): str(v) for k, v in dict(call.request.headers).items()}
    return _accept(deps, lambda: paypal.verify_webhook(headers, raw))


@operation(
    bp,
    "POST",
    "/v1/webhooks/tappay",
    summary="TapPay's backend notify for a backup-card charge; accepted only for a trade "
    "TapPay confirms when asked",
    description="400 `invalid_signature` for a trade TapPay does not know; 404 when this "
    "deployment does not offer backup cards.",
    tag=TAG,
    auth=False,
    accepts=(JSON,),
    errors=(400, 404),
)
def tappay_notify(call: Call) -> dict[str, str]:
    raw = _raw(call)
    deps = bootstrap.billing_deps()
    tappay = deps.tappay
    if tappay is None:
        raise NotFound("Backup cards are not offered here.", code="processor_not_configured")
    return _accept(deps, lambda: tappay.verify_notify(raw))
