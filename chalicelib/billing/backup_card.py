"""The backup card: a card kept with TapPay (its front-end SDK gives a prime, exchanged for
a remembered card), charged when Stripe's last retry of an invoice fails.  Helptal keeps
TapPay's token pair (sealed by the store) and the card's brand, last four digits and
expiry, never its number."""

from __future__ import annotations

from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import BillingAccount, Processor
from chalicelib.billing.overview import account_of
from chalicelib.billing.plans import FREE, plan_named
from chalicelib.billing.ports import Cardholder, ProcessorRefused
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.observability import logger


def _tappay_missing() -> Conflict:
    return Conflict("This deployment does not offer backup cards.", code="processor_not_configured")


def add_backup_card(
    deps: BillingDeps, workspace_id: str, prime: str, cardholder: Cardholder
) -> BillingAccount:
    """Binds the card of `prime` with TapPay and keeps it as the backup card (replacing
    the one kept before, which TapPay then forgets).  422 `card_refused` (TapPay's words in
    details), 409 `processor_not_configured`."""
    tappay = deps.tappay
    if tappay is None:
        raise _tappay_missing()
    account = account_of(deps, workspace_id)
    currency = (plan_named(account.plan_id) or FREE).currency
    try:
        card, secret = tappay.bind_card(prime, cardholder, currency)
    except ProcessorRefused as e:
        raise ValidationFailed(
            "The card was refused.",
            code="card_refused",
            details=[{"field": "prime", "message": str(e), "code": e.code}],
        ) from e
    previous = deps.store.backup_card_secret(workspace_id)
    deps.store.set_backup_card(workspace_id, card, secret)
    if previous is not None and previous != secret:
        try:
            tappay.remove_card(previous)
        except ProcessorRefused:
            logger.warning(
                "TapPay refused to forget a replaced backup card",
                extra={"workspace_id": workspace_id},
            )
    return account_of(deps, workspace_id)


def remove_backup_card(deps: BillingDeps, workspace_id: str) -> BillingAccount:
    """TapPay forgets the backup card, then the account does (a card TapPay already
    forgot is removed all the same).  Without TapPay configured the card is only removed
    from the account."""
    secret = deps.store.backup_card_secret(workspace_id)
    if secret is not None and deps.tappay is not None:
        try:
            deps.tappay.remove_card(secret)
        except ProcessorRefused:
            logger.warning(
                "TapPay refused to forget the backup card",
                extra={"workspace_id": workspace_id, "processor": Processor.TAPPAY.value},
            )
    deps.store.set_backup_card(workspace_id, None, None)
    return account_of(deps, workspace_id)
