"""Subscribing: the processor's checkout page for a plan, a period and a number of seats
(Stripe Checkout, or PayPal's approval page), Stripe's customer portal, and the owner's
return from PayPal.

Nothing is subscribed here: the subscription is applied when the processor says it exists
(its webhook, or the PayPal return, both read it back from the processor)."""

from __future__ import annotations

from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import BillingAccount, CheckoutStart, Processor
from chalicelib.billing.overview import account_of, busy, change_account
from chalicelib.billing.plans import Period, Plan, plan_named
from chalicelib.billing.standing import SUBSCRIBED
from chalicelib.billing.sync import apply_subscription
from chalicelib.errors import Conflict, ValidationFailed

SUBSCRIPTION_PROCESSORS = (Processor.STRIPE, Processor.PAYPAL)


def _invalid(field: str, message: str, code: str = "validation_failed") -> ValidationFailed:
    return ValidationFailed(
        f"Invalid {field}: {message}.", code=code, details=[{"field": field, "message": message}]
    )


def not_configured(processor: Processor) -> Conflict:
    return Conflict(
        f"This deployment does not offer {processor.value}.", code="processor_not_configured"
    )


def has_live_subscription(account: BillingAccount) -> bool:
    return account.status in SUBSCRIBED and bool(
        account.stripe_subscription_id or account.paypal_subscription_id
    )


def _checked(
    account: BillingAccount,
    plan_id: str,
    period: Period | str,
    seats: int,
    processor: Processor | str,
) -> tuple[Plan, Period, Processor]:
    plan = plan_named(plan_id)
    if plan is None or not plan.paid:
        raise _invalid("plan", "a paid plan (starter or pro)")
    try:
        chosen_period = Period(period)
    except ValueError:
        raise _invalid("period", "month or year") from None
    try:
        chosen_processor = Processor(processor)
    except ValueError:
        chosen_processor = Processor.TAPPAY
    if chosen_processor not in SUBSCRIPTION_PROCESSORS:
        raise _invalid("processor", "stripe or paypal")
    if seats < max(1, account.seats_used):
        raise _invalid(
            "seats",
            f"at least {max(1, account.seats_used)} (one per member)",
            code="seats_below_members",
        )
    if plan.max_seats is not None and seats > plan.max_seats:
        raise _invalid(
            "seats", f"at most {plan.max_seats} on the {plan.name} plan", code="too_many_seats"
        )
    return plan, chosen_period, chosen_processor


def _stripe_customer(
    deps: BillingDeps, account: BillingAccount, owner_email: str
) -> BillingAccount:
    """The account with its Stripe customer, created once (idempotency key per workspace)
    and linked to the workspace for the webhooks."""
    if account.stripe_customer_id:
        return account
    workspace = deps.accounts.get_workspace(account.workspace_id)
    name = workspace.name if workspace is not None else account.workspace_id
    customer = deps.stripe.create_customer(
        account.workspace_id, owner_email, name, idempotency_key=f"customer:{account.workspace_id}"
    )
    deps.store.link_customer(account.workspace_id, Processor.STRIPE, customer)

    def remember(current: BillingAccount) -> BillingAccount | None:
        if current.stripe_customer_id:
            return None
        current.stripe_customer_id = customer
        return current

    return change_account(deps, account.workspace_id, remember)[1]


def start_checkout(
    deps: BillingDeps,
    workspace_id: str,
    owner_email: str,
    plan_id: str,
    period: Period | str,
    seats: int,
    processor: Processor | str,
    locale: str,
) -> CheckoutStart:
    """The processor's page where the owner subscribes: a Stripe Checkout Session (the
    workspace's Stripe customer created the first time) or PayPal's approval link.  409
    `already_subscribed` while a paid subscription is live, 409 `processor_not_configured`,
    422 for a plan that is free or unknown, or seats below the members or above the plan's
    maximum."""
    account = account_of(deps, workspace_id)
    if has_live_subscription(account):
        raise Conflict(
            "This workspace already has a subscription: change it instead.",
            code="already_subscribed",
        )
    plan, chosen_period, chosen_processor = _checked(account, plan_id, period, seats, processor)
    if chosen_processor is Processor.STRIPE:
        account = _stripe_customer(deps, account, owner_email)
    # The same request retried gets the same session; any change of the account a new one.
    attempt = f"{workspace_id}:{account.version}:{plan.id}:{chosen_period.value}:{seats}"
    if chosen_processor is Processor.PAYPAL:
        paypal = deps.paypal
        if paypal is None:
            raise not_configured(Processor.PAYPAL)
        started = paypal.start_subscription(
            paypal_plan_id=paypal.plan_id(plan, chosen_period),
            workspace_id=workspace_id,
            seats=seats,
            email=owner_email,
            return_url=deps.urls.paypal_return(workspace_id),
            cancel_url=deps.urls.billing_screen(paypal="canceled"),
            locale=locale,
            request_id=f"subscribe:{attempt}",
        )
        deps.store.link_customer(workspace_id, Processor.PAYPAL, started.session_id)
        return started
    if account.stripe_customer_id is None:
        raise busy()
    return deps.stripe.start_checkout(
        customer_id=account.stripe_customer_id,
        workspace_id=workspace_id,
        plan=plan,
        period=chosen_period,
        seats=seats,
        success_url=deps.urls.billing_screen(checkout="done", session_id="{CHECKOUT_SESSION_ID}"),
        cancel_url=deps.urls.billing_screen(checkout="canceled"),
        locale=locale,
        idempotency_key=f"checkout:{attempt}",
    )


def portal_url(deps: BillingDeps, workspace_id: str, locale: str) -> str:
    """A Stripe customer portal session; 409 `no_subscription` before the workspace has a
    Stripe customer."""
    account = account_of(deps, workspace_id)
    if not account.stripe_customer_id:
        raise Conflict("This workspace has not subscribed with a card yet.", code="no_subscription")
    return deps.stripe.portal_url(account.stripe_customer_id, deps.urls.billing_screen(), locale)


def paypal_returned(deps: BillingDeps, workspace_id: str, subscription_id: str) -> BillingAccount:
    """The owner is back from PayPal: the subscription is read from PayPal (nothing in the
    address is trusted) and applied when it is this workspace's.  409
    `processor_not_configured`; 409 `subscription_mismatch` for a subscription PayPal
    does not say is this workspace's."""
    paypal = deps.paypal
    if paypal is None:
        raise not_configured(Processor.PAYPAL)
    if not workspace_id or not subscription_id:
        raise Conflict("No PayPal subscription was named.", code="subscription_mismatch")
    snapshot = paypal.subscription(subscription_id)
    linked = deps.store.workspace_of(Processor.PAYPAL, subscription_id)
    if (snapshot.workspace_id or linked) != workspace_id or linked not in (None, workspace_id):
        raise Conflict(
            "This PayPal subscription is not this workspace's.", code="subscription_mismatch"
        )
    apply_subscription(deps, snapshot, workspace_id)
    return account_of(deps, workspace_id)
