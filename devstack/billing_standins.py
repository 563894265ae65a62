"""The local stack's stand-ins for Stripe, TapPay and PayPal (fakes/), each started when its
key (STRIPE_SECRET_KEY, TAPPAY_PARTNER_KEY, PAYPAL_CLIENT_ID) is not set, as the Mailgun
stand-in is; the API's environment then points at them and they deliver their signed
webhooks to the local API.  An owner can subscribe on Stripe's checkout page, manage the
subscription on its portal page, add a backup card with TapPay's SDK stand-in, approve a
PayPal subscription, and fail a renewal with the `/_fake/...` controls (see each fake's
docstring).  Ports: STRIPE_PORT, TAPPAY_PORT, PAYPAL_PORT (default: any free one)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fakes.paypal import FakePayPal
from fakes.stripe import FakeStripe
from fakes.tappay import FakeTapPay


@dataclass
class BillingStandIns:
    stripe: FakeStripe | None = None
    tappay: FakeTapPay | None = None
    paypal: FakePayPal | None = None

    def stop(self) -> None:
        for fake in (self.stripe, self.tappay, self.paypal):
            if fake is not None:
                fake.stop()

    def banner(self) -> str:
        """Lines for `make run`'s banner (empty when every processor is a real one)."""
        lines = []
        if self.stripe is not None:
            lines.append(
                f"  Stripe        {self.stripe.url} (local stand-in; "
                "/_fake/subscriptions/<id>/renew fails a renewal)\n"
            )
        if self.tappay is not None:
            lines.append(f"  TapPay        {self.tappay.url} (local stand-in; /_fake/trades)\n")
        if self.paypal is not None:
            lines.append(f"  PayPal        {self.paypal.url} (local stand-in; /_fake/events)\n")
        return "".join(lines)


def start_billing_standins(environ: dict[str, str], api_url: str) -> BillingStandIns:
    """Starts the stand-ins of the processors `environ` configures none for, delivering their
    webhooks to `api_url`, and sets the settings' variables in `environ` to reach them."""
    started = BillingStandIns()
    if not environ.get("STRIPE_SECRET_KEY"):
        stripe = FakeStripe(
            port=_port("STRIPE_PORT"), echo=True, webhook_url=f"{api_url}/v1/webhooks/stripe"
        ).start()
        started.stripe = stripe
        environ.update(
            {
                "STRIPE_API_BASE": stripe.url,
                "STRIPE_SECRET_KEY": str(stripe.secret_key),
                "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
            }
        )
    if not environ.get("TAPPAY_PARTNER_KEY"):
        tappay = FakeTapPay(
            port=_port("TAPPAY_PORT"), echo=True, notify_url=f"{api_url}/v1/webhooks/tappay"
        ).start()
        started.tappay = tappay
        environ.update(
            {
                "TAPPAY_API_BASE": tappay.url,
                "TAPPAY_PARTNER_KEY": tappay.partner_key,
                "TAPPAY_MERCHANT_ID": tappay.merchant_id,
                "TAPPAY_APP_ID": str(tappay.app_id),
                "TAPPAY_APP_KEY": tappay.app_key,
                "TAPPAY_SERVER_TYPE": "sandbox",
                "TAPPAY_SDK_URL": f"{tappay.url}/sdk/tpdirect.js",
            }
        )
    if not environ.get("PAYPAL_CLIENT_ID"):
        paypal = FakePayPal(
            port=_port("PAYPAL_PORT"), echo=True, webhook_url=f"{api_url}/v1/webhooks/paypal"
        ).start()
        started.paypal = paypal
        environ.update(
            {
                "PAYPAL_API_BASE": paypal.url,
                "PAYPAL_CLIENT_ID": paypal.client_id,
                "PAYPAL_CLIENT_SECRET": paypal.client_secret,
                "PAYPAL_WEBHOOK_ID": paypal.webhook_id,
            }
        )
    return started


def _port(name: str) -> int:
    return int(os.environ.get(name) or "0")
