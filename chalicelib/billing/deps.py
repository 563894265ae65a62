"""The ports and addresses the billing services work with (built in bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from chalicelib.accounts.model import Member, Page, User, Workspace
from chalicelib.billing.ports import (
    BillingEvents,
    BillingMail,
    BillingStore,
    PayPalGateway,
    StripeGateway,
    TapPayGateway,
)
from chalicelib.clock import Clock


class BillingAccounts(Protocol):
    """What billing reads of the accounts (implemented by the accounts store)."""

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]: ...

    def get_user(self, user_id: str) -> User | None: ...


@dataclass(frozen=True)
class BillingUrls:
    app_base_url: str  # the web client (APP_BASE_URL)
    public_base_url: str  # the API's public address

    def billing_screen(self, **query: str) -> str:
        """The web client's billing screen, with `query` after it (`{CHECKOUT_SESSION_ID}`
        is left as written: Stripe fills it in)."""
        address = f"{self.app_base_url.rstrip('/')}/#/settings/billing"
        return f"{address}?{urlencode(query, safe='{}')}" if query else address

    def paypal_return(self, workspace_id: str) -> str:
        """Where PayPal sends the owner back after approving (it appends subscription_id)."""
        query = urlencode({"workspace": workspace_id})
        return f"{self.public_base_url.rstrip('/')}/v1/billing/paypal/return?{query}"


@dataclass(frozen=True)
class BillingDeps:
    store: BillingStore
    stripe: StripeGateway
    tappay: TapPayGateway | None  # None: this deployment offers no backup card
    paypal: PayPalGateway | None  # None: this deployment does not offer PayPal
    events: BillingEvents
    mail: BillingMail
    accounts: BillingAccounts
    clock: Clock
    urls: BillingUrls
