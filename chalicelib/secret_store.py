"""The deployment's secrets: what each one is, which function may read it, where it is kept.

In AWS (`SECRETS_PATH` set, e.g. `/helptal/prod`) every secret is an SSM Parameter Store
SecureString named `<SECRETS_PATH>/<parameter>`, read at run time with the Powertools
parameters utility: one `GetParameters` call fetches all the secrets of the running function
(`HELPTAL_FUNCTION`), decrypted, and the values are kept for `SECRETS_TTL_SECONDS`, so a
rotated value reaches every container within that time. Each function's IAM role may read only
its own secrets (`FUNCTION_SECRETS`, also read by `infra.template`).

Elsewhere (the `dev` stage: `make run` and the tests) secrets come from environment variables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Secret:
    field: str  # attribute of `Settings`
    env: str  # environment variable (dev stage)
    parameter: str  # parameter name under SECRETS_PATH (deployed stages)
    required: bool  # a deployed stage refuses to serve without it
    purpose: str


SECRETS: tuple[Secret, ...] = (
    Secret(
        "mailgun_api_key",
        "MAILGUN_API_KEY",
        "mailgun-api-key",
        True,
        "Mailgun API key: sends mail, fetches stored inbound messages",
    ),
    Secret(
        "mailgun_webhook_signing_key",
        "MAILGUN_WEBHOOK_SIGNING_KEY",
        "mailgun-webhook-signing-key",
        True,
        "Mailgun HTTP webhook signing key: verifies inbound mail and delivery events",
    ),
    Secret(
        "reply_address_secret",
        "REPLY_ADDRESS_SECRET",
        "reply-address-secret",
        True,
        "signs the per-ticket reply addresses (any long random string)",
    ),
    Secret(
        "domain_verification_secret",
        "DOMAIN_VERIFICATION_SECRET",
        "domain-verification-secret",
        True,
        "makes each help-centre domain's DNS TXT token unguessable (any long random string)",
    ),
    Secret(
        "two_factor_key",
        "TWO_FACTOR_KEY",
        "two-factor-key",
        True,
        "seals users' two-factor (TOTP) secrets in the table, AES-256-GCM: 32 random bytes, "
        "base64 or hex (without it two-factor sign-in answers 503, never lets anyone in)",
    ),
    Secret(
        "two_factor_key_previous",
        "TWO_FACTOR_KEY_PREVIOUS",
        "two-factor-key-previous",
        False,
        "the two-factor key before the last rotation: secrets it sealed still open and are "
        "sealed again with the current key at their next sign-in",
    ),
    Secret(
        "anthropic_api_key",
        "ANTHROPIC_API_KEY",
        "anthropic-api-key",
        False,
        "Claude for the AI teammate (empty: AI endpoints answer 503 ai_not_configured)",
    ),
    Secret(
        "openai_api_key",
        "OPENAI_API_KEY",
        "openai-api-key",
        False,
        "embeddings for knowledge-base search (empty: word search only)",
    ),
    Secret(
        "help_centre_edge_secret",
        "HELP_CENTRE_EDGE_SECRET",
        "help-centre-edge-secret",
        False,
        "shared with the Cloudflare worker in front of tenants' help-centre domains: only "
        "requests carrying it may name the tenant's host in X-Forwarded-Host",
    ),
    Secret(
        "cloudflare_api_token",
        "CLOUDFLARE_API_TOKEN",
        "cloudflare-api-token",
        False,
        "Cloudflare for SaaS custom hostnames (empty: help-centre domains get no TLS)",
    ),
    Secret(
        "google_client_secret",
        "GOOGLE_CLIENT_SECRET",
        "google-client-secret",
        False,
        "Google OAuth client (with GOOGLE_CLIENT_ID): members connect Google Calendar for "
        "booking (empty: Google Calendar cannot be connected)",
    ),
    Secret(
        "ms_client_secret",
        "MS_CLIENT_SECRET",
        "ms-client-secret",
        False,
        "Microsoft identity platform app (with MS_CLIENT_ID): members connect Microsoft 365 "
        "calendars for booking (empty: they cannot)",
    ),
    Secret(
        "zoom_client_id",
        "ZOOM_CLIENT_ID",
        "zoom-client-id",
        False,
        "Zoom Server-to-Server OAuth app (with ZOOM_ACCOUNT_ID): Zoom links for bookings",
    ),
    Secret(
        "zoom_client_secret",
        "ZOOM_CLIENT_SECRET",
        "zoom-client-secret",
        False,
        "the Zoom app's client secret",
    ),
    Secret(
        "stripe_secret_key",
        "STRIPE_SECRET_KEY",
        "stripe-secret-key",
        True,
        "Stripe secret key (sk_…): subscriptions, Checkout, the customer portal, refunds",
    ),
    Secret(
        "stripe_webhook_secret",
        "STRIPE_WEBHOOK_SECRET",
        "stripe-webhook-secret",
        True,
        "Stripe webhook endpoint's signing secret (whsec_…): verifies POST /v1/webhooks/stripe",
    ),
    Secret(
        "tappay_partner_key",
        "TAPPAY_PARTNER_KEY",
        "tappay-partner-key",
        False,
        "TapPay partner key (with TAPPAY_MERCHANT_ID): backup cards charged when Stripe's last "
        "retry fails (empty: no backup cards)",
    ),
    Secret(
        "card_token_key",
        "CARD_TOKEN_KEY",
        "card-token-key",
        False,
        "seals the backup cards' TapPay card key and token in the table, AES-256-GCM: 32 "
        "random bytes, base64 or hex (without it backup cards cannot be added or charged)",
    ),
    Secret(
        "paypal_client_secret",
        "PAYPAL_CLIENT_SECRET",
        "paypal-client-secret",
        False,
        "PayPal REST app secret (with PAYPAL_CLIENT_ID and PAYPAL_WEBHOOK_ID): PayPal "
        "subscriptions (empty: PayPal is not offered)",
    ),
    Secret(
        "turnstile_secret_key",
        "TURNSTILE_SECRET_KEY",
        "turnstile-secret-key",
        False,
        "Cloudflare Turnstile: the help centre's contact form asks visitors to prove they are "
        "human (with TURNSTILE_SITE_KEY; empty: no check)",
    ),
)
SECRETS_BY_FIELD: dict[str, Secret] = {secret.field: secret for secret in SECRETS}

_EVERY_SECRET = frozenset(SECRETS_BY_FIELD)
# Which secrets each Lambda function reads (the API serves the webhooks, the help centre, the
# AI settings and two-factor sign-in; the workers only what their jobs need, never the
# two-factor keys). Its IAM role grants exactly these.
FUNCTION_SECRETS: dict[str, frozenset[str]] = {
    "api_handler": _EVERY_SECRET - {"mailgun_api_key"},
    "mail_out_worker": frozenset({"mailgun_api_key", "reply_address_secret"}),
    "inbound_mail_worker": frozenset(
        {"mailgun_api_key", "reply_address_secret", "anthropic_api_key", "openai_api_key"}
    ),
    "search_indexer": frozenset({"reply_address_secret", "anthropic_api_key", "openai_api_key"}),
    "ai_jobs_worker": frozenset({"reply_address_secret", "anthropic_api_key", "openai_api_key"}),
    "custom_hostnames_job": frozenset({"cloudflare_api_token"}),
    "notification_digest_job": frozenset(),
    # Refreshes members' calendar grants; channel tokens are keyed from the reply secret.
    "calendar_channels_job": frozenset(
        {"google_client_secret", "ms_client_secret", "reply_address_secret"}
    ),
    # The live WebSocket API: connect verifies visitor tokens (keyed from the reply secret).
    "websocket_connect": frozenset({"reply_address_secret"}),
    "websocket_message": frozenset(),
    "websocket_disconnect": frozenset(),
    # Booking jobs: manage links (keyed from the reply secret), the hosts' calendars, Zoom.
    "booking_jobs_worker": frozenset(
        {
            "reply_address_secret",
            "google_client_secret",
            "ms_client_secret",
            "zoom_client_id",
            "zoom_client_secret",
        }
    ),
    # Booking reminders: the manage link in each reminder.
    "booking_reminders_job": frozenset({"reply_address_secret"}),
    # Billing: verified webhook deliveries read back from the processor and applied (the
    # backup card is charged here when Stripe's last retry fails).
    "billing_events_worker": frozenset(
        {"stripe_secret_key", "tappay_partner_key", "paypal_client_secret", "card_token_key"}
    ),
    # Billing schedule: trials and grace periods that end (mails only, no processor call).
    "billing_dunning_job": frozenset(),
    # Sub-processor notices: each subscriber's unsubscribe link (keyed from the reply secret).
    "subprocessor_notices_job": frozenset({"reply_address_secret"}),
    # Data-subject exports: reads the table and the bucket, writes the bundle; no secret.
    "privacy_jobs_worker": frozenset(),
    # Retention: removes old closed tickets from the table and the bucket; no secret.
    "privacy_retention_job": frozenset(),
    # Workspace deletion: ends the subscription at its processor (and refunds the unused
    # days, as cancelling now does), deletes the custom hostname at Cloudflare, revokes
    # members' calendar grants.
    "workspace_deletion_job": frozenset(
        {
            "stripe_secret_key",
            "tappay_partner_key",
            "paypal_client_secret",
            "card_token_key",
            "cloudflare_api_token",
            "google_client_secret",
            "ms_client_secret",
        }
    ),
}


class SecretNotGranted(RuntimeError):
    """Code in one function asked for a secret its role may not read (a wiring bug)."""


class SecretsUnavailable(RuntimeError):
    """The parameter store could not be read (throttled, denied, unreachable)."""


class SecretSource(Protocol):
    def get(self, secret: Secret) -> str: ...

    def missing(self, secrets: tuple[Secret, ...]) -> list[str]:
        """Names of those secrets that are absent or empty (reads them)."""
        ...

    def version(self) -> int:
        """Changes when a secret's value changed since the last read (reads them when the
        TTL is over): services built with the old values must then be built again."""
        ...


def secrets_of(function: str) -> tuple[Secret, ...]:
    """The secrets a function reads; every secret when the function is unknown (dev)."""
    fields = FUNCTION_SECRETS.get(function, _EVERY_SECRET)
    return tuple(secret for secret in SECRETS if secret.field in fields)


@dataclass(frozen=True)
class EnvironmentSecrets:
    """Secrets from environment variables (dev stage only)."""

    environ: Mapping[str, str]

    def get(self, secret: Secret) -> str:
        return self.environ.get(secret.env, "")

    def missing(self, secrets: tuple[Secret, ...]) -> list[str]:
        return [secret.env for secret in secrets if not self.get(secret).strip()]

    def version(self) -> int:
        return 0  # read once per process


Fetch = Callable[[list[str], int], dict[str, str]]


def _fetch_with_powertools(names: list[str], max_age: int) -> dict[str, str]:
    """Values of the existing parameters among `names` (decrypted); absent ones are left out."""
    from aws_lambda_powertools.utilities import parameters

    try:
        found = parameters.get_parameters_by_name(
            {name: {} for name in names}, decrypt=True, max_age=max_age, raise_on_error=False
        )
    except parameters.exceptions.GetParameterError as e:
        raise SecretsUnavailable(str(e)) from e
    values = {name: str(value) for name, value in found.items() if name != "_errors"}
    return values


class ParameterStoreSecrets:
    """Secrets from SSM Parameter Store, one batch per TTL for the running function."""

    def __init__(
        self,
        path: str,
        function: str,
        ttl_seconds: int,
        fetch: Fetch = _fetch_with_powertools,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path.rstrip("/")
        self.function = function
        self.ttl_seconds = ttl_seconds
        self._fetch = fetch
        self._monotonic = monotonic
        self._granted = secrets_of(function)
        self._values: dict[str, str] = {}
        self._version = 0
        self._expires_at = float("-inf")
        self._lock = threading.Lock()

    def parameter_name(self, secret: Secret) -> str:
        return f"{self.path}/{secret.parameter}"

    def _current(self) -> dict[str, str]:
        with self._lock:
            if self._monotonic() >= self._expires_at:
                names = [self.parameter_name(secret) for secret in self._granted]
                # Powertools keeps each value for the same TTL; ours also remembers absent ones.
                values = self._fetch(names, self.ttl_seconds)
                if values != self._values:
                    self._version += 1
                self._values = values
                self._expires_at = self._monotonic() + self.ttl_seconds
            return self._values

    def get(self, secret: Secret) -> str:
        if secret not in self._granted:
            raise SecretNotGranted(f"function {self.function!r} may not read {secret.field}")
        return self._current().get(self.parameter_name(secret), "")

    def version(self) -> int:
        self._current()
        return self._version

    def missing(self, secrets: tuple[Secret, ...]) -> list[str]:
        values = self._current()
        return [
            self.parameter_name(secret)
            for secret in secrets
            if not values.get(self.parameter_name(secret), "").strip()
        ]


def secret_source(environ: Mapping[str, str], ttl_seconds: int) -> SecretSource:
    """The parameter store when `SECRETS_PATH` is set, else the environment."""
    path = environ.get("SECRETS_PATH", "")
    if path:
        return ParameterStoreSecrets(path, environ.get("HELPTAL_FUNCTION", ""), ttl_seconds)
    return EnvironmentSecrets(dict(environ))
