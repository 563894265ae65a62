"""Billing: the plan, seats and payment methods of the workspace, its invoices; checkout
(Stripe or PayPal), the Stripe customer portal, seat changes, the TapPay backup card,
cancelling and resuming.  Owners change billing; admins see it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS, Role
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        BackupCardIn,
        BillingOut,
        CancellationOut,
        CheckoutIn,
        InvoicesPageOut,
        PageQuery,
        RedirectOut,
        SeatsIn,
        SubscriptionCancelIn,
        TapPaySdkOut,
    )

schemas = lazy_module("chalicelib.api.schemas")
overview = lazy_module("chalicelib.billing.overview")
checkout = lazy_module("chalicelib.billing.checkout")
seats = lazy_module("chalicelib.billing.seats")
cancellation = lazy_module("chalicelib.billing.cancellation")
backup_card = lazy_module("chalicelib.billing.backup_card")
bp = Blueprint(__name__)
TAG = "billing"
OWNERS = frozenset({Role.OWNER})


def _processor_errors(handler: Callable[[Call], Any]) -> Callable[[Call], Any]:
    """A processor that refuses (say, a subscription already ended at Stripe, whose webhook
    has not come yet) is 409 `processor_refused`; one that does not answer, 503
    `processor_unavailable`: never a 500."""

    @functools.wraps(handler)
    def answered(call: Call) -> Any:
        from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable
        from chalicelib.errors import Conflict, ServiceUnavailable

        try:
            return handler(call)
        except ProcessorRefused as e:
            logger.warning("a processor refused a billing change", extra={"error": repr(e)})
            raise Conflict(
                "The payment processor refused this change; reload the billing page.",
                code="processor_refused",
                details={"processor_code": e.code} if e.code else None,
            ) from e
        except ProcessorUnavailable as e:
            logger.warning("a processor is unavailable", extra={"error": repr(e)})
            raise ServiceUnavailable(
                "The payment processor is not answering; try again in a moment.",
                code="processor_unavailable",
            ) from e

    return answered


def _tappay_sdk() -> TapPaySdkOut | None:
    settings = get_settings()
    if not (settings.tappay_merchant_id and settings.tappay_app_id.isdigit()):
        return None
    return schemas.TapPaySdkOut(
        app_id=int(settings.tappay_app_id),
        app_key=settings.tappay_app_key,
        server_type=settings.tappay_server_type,
        sdk_url=settings.tappay_sdk_url,
    )


def _billing(workspace_id: str) -> BillingOut:
    return schemas.BillingOut.of(
        overview.overview(bootstrap.billing_deps(), workspace_id),
        _tappay_sdk(),
        paypal=bool(get_settings().paypal_client_id),
    )


@operation(
    bp,
    "GET",
    "/v1/billing",
    summary="The workspace's plan, status, seats, next charge and payment methods",
    tag=TAG,
    response="BillingOut",
    roles=MANAGERS,
)
def get_billing(call: Call) -> BillingOut:
    return _billing(call.member.workspace_id)


@operation(
    bp,
    "GET",
    "/v1/billing/invoices",
    summary="The workspace's invoices, newest first (paged)",
    tag=TAG,
    query="PageQuery",
    response="InvoicesPageOut",
    roles=MANAGERS,
    errors=(400,),
)
def list_invoices(call: Call) -> InvoicesPageOut:
    query: PageQuery = call.query
    page = overview.invoices(
        bootstrap.billing_deps(), call.member.workspace_id, query.cursor, query.limit
    )
    return schemas.InvoicesPageOut(
        invoices=[schemas.InvoiceOut.of(i) for i in page.entries], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "POST",
    "/v1/billing/checkout",
    summary="Subscribe: the address of the processor's checkout (Stripe Checkout, or PayPal's "
    "approval page) for a plan, period and number of seats",
    description="409 `already_subscribed` while a paid subscription is live (change it in "
    "the portal), 409 `processor_not_configured` when this deployment does not offer the "
    "processor, 422 `seats_below_members` for fewer seats than members, 422 `too_many_seats` for "
    "more seats than the plan allows.",
    tag=TAG,
    body="CheckoutIn",
    response="RedirectOut",
    status=201,
    roles=OWNERS,
    errors=(409, 422),
)
@_processor_errors
def start_checkout(call: Call) -> RedirectOut:
    body: CheckoutIn = call.body
    started = checkout.start_checkout(
        bootstrap.billing_deps(),
        call.member.workspace_id,
        _owner_email(call),
        body.plan,
        body.period,
        body.seats,
        body.processor,
        _locale(call),
    )
    return schemas.RedirectOut(url=started.url)


@operation(
    bp,
    "POST",
    "/v1/billing/portal",
    summary="The address of a Stripe customer portal session (payment method, billing "
    "details, invoices, plan changes)",
    description="409 `no_subscription` before the workspace subscribed with Stripe.",
    tag=TAG,
    response="RedirectOut",
    status=201,
    roles=OWNERS,
    errors=(409,),
)
@_processor_errors
def open_portal(call: Call) -> RedirectOut:
    url = checkout.portal_url(bootstrap.billing_deps(), call.member.workspace_id, _locale(call))
    return schemas.RedirectOut(url=url)


@operation(
    bp,
    "PUT",
    "/v1/billing/seats",
    summary="Change the number of paid seats (prorated by the processor)",
    description="409 `seats_in_use` for fewer seats than members, 409 `no_subscription` "
    "without a paid subscription, 402 `plan_limit` beyond the plan's seats.",
    tag=TAG,
    body="SeatsIn",
    response="BillingOut",
    roles=OWNERS,
    errors=(409,),
)
@_processor_errors
def put_seats(call: Call) -> BillingOut:
    body: SeatsIn = call.body
    seats.change_seats(bootstrap.billing_deps(), call.member.workspace_id, body.seats)
    return _billing(call.member.workspace_id)


@operation(
    bp,
    "POST",
    "/v1/billing/backup-card",
    summary="Add (or replace) the backup card, charged through TapPay when Stripe's last "
    "retry of an invoice fails; only its brand, last four digits and expiry are kept",
    description="`prime` comes from TapPay's front-end SDK. 422 `card_refused` when TapPay "
    "refuses the card (its message in details), 409 `processor_not_configured` when this "
    "deployment does not offer backup cards.",
    tag=TAG,
    body="BackupCardIn",
    response="BillingOut",
    roles=OWNERS,
    errors=(409, 422),
)
@_processor_errors
def add_backup_card(call: Call) -> BillingOut:
    from chalicelib.billing.ports import Cardholder

    body: BackupCardIn = call.body
    backup_card.add_backup_card(
        bootstrap.billing_deps(),
        call.member.workspace_id,
        body.prime,
        Cardholder(
            name=body.cardholder.name, email=body.cardholder.email, phone=body.cardholder.phone
        ),
    )
    return _billing(call.member.workspace_id)


@operation(
    bp,
    "DELETE",
    "/v1/billing/backup-card",
    summary="Remove the backup card",
    description="409 `processor_refused` when TapPay refuses to forget it.",
    tag=TAG,
    response="BillingOut",
    roles=OWNERS,
    errors=(409,),
)
@_processor_errors
def remove_backup_card(call: Call) -> BillingOut:
    backup_card.remove_backup_card(bootstrap.billing_deps(), call.member.workspace_id)
    return _billing(call.member.workspace_id)


@operation(
    bp,
    "POST",
    "/v1/billing/cancel",
    summary="Cancel the subscription at the end of the period, or now with a refund of the "
    "unused prepaid days through the processor that took the payment",
    description="The workspace then has the free plan's limits; nothing is deleted. 409 "
    "`no_subscription` without a paid subscription.",
    tag=TAG,
    body="SubscriptionCancelIn",
    response="CancellationOut",
    roles=OWNERS,
    errors=(409,),
)
@_processor_errors
def cancel(call: Call) -> CancellationOut:
    body: SubscriptionCancelIn = call.body
    done = cancellation.cancel(
        bootstrap.billing_deps(),
        call.member.workspace_id,
        now=body.when == "now",
        reason=body.reason or "cancellation",
    )
    refund = (
        schemas.RefundOut(
            amount=schemas.MoneyOut.of(done.refund.amount), processor=done.refund.processor.value
        )
        if done.refund is not None
        else None
    )
    return schemas.CancellationOut(billing=_billing(call.member.workspace_id), refund=refund)


@operation(
    bp,
    "POST",
    "/v1/billing/resume",
    summary="Keep the subscription: undo a cancellation planned for the end of the period",
    description="409 `no_subscription` when there is none to keep.",
    tag=TAG,
    response="BillingOut",
    roles=OWNERS,
    errors=(409,),
)
@_processor_errors
def resume(call: Call) -> BillingOut:
    cancellation.resume(bootstrap.billing_deps(), call.member.workspace_id)
    return _billing(call.member.workspace_id)


@operation(
    bp,
    "GET",
    "/v1/billing/paypal/return",
    summary="Where PayPal sends the owner back after approving a subscription (then to the "
    "web client's billing screen)",
    description="The subscription is read back from PayPal (nothing in the address is "
    "trusted) and applied; redirects (302) with `?paypal=done`, or `?paypal=failed`.",
    tag=TAG,
    status=302,
    auth=False,
    produces="text/html; charset=utf-8",
    page_query="PayPalReturnQuery",
)
def paypal_return(call: Call) -> Response:
    from chalicelib.billing.ports import ProcessorRefused, ProcessorUnavailable
    from chalicelib.errors import HelptalError

    query = {str(k): str(v) for k, v in dict(call.request.query_params or {}).items()}
    deps = bootstrap.billing_deps()
    try:
        checkout.paypal_returned(
            deps, query.get("workspace", "")[:64], query.get("subscription_id", "")[:64]
        )
        outcome = "done"
    except (HelptalError, ProcessorRefused, ProcessorUnavailable) as e:
        logger.warning("PayPal return not applied", extra={"error": repr(e)})
        outcome = "failed"
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": deps.urls.billing_screen(paypal=outcome),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def _owner_email(call: Call) -> str:
    """The signed-in owner's address (an API key has none: billing mails the owners)."""
    from chalicelib.accounts.profile import my_profile

    if call.member.user_id is None:
        return ""
    return my_profile(bootstrap.account_deps(), call.member).email


def _locale(call: Call) -> str:
    language = (call.request.headers.get("accept-language") or "").strip()[:2].lower()
    return "fr" if language == "fr" else "en"
