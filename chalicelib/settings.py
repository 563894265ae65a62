"""Deployment settings, read from the environment once; secrets read by name at use.

In the `dev` stage every value has a documented default so that `make run` works on a fresh
machine. Deployed stages set their non-secret settings as template parameters (domains, base
URLs) and keep secrets in SSM Parameter Store (`chalicelib.secret_store`); they refuse to
serve while a required one is missing, or while their AWS region is not the content region
(`Settings.missing`). Nothing secret is committed.
See README "Configuration" for the full table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.privacy.residency import CONTENT_REGION, is_aws_variable, region_refusals
from chalicelib.secret_store import (
    SECRETS_BY_FIELD,
    ParameterStoreSecrets,
    SecretSource,
    secret_source,
    secrets_of,
)

DEV_STAGE = "dev"
# Read from the parameter store at most this often per container (a rotation's delay).
DEFAULT_SECRETS_TTL_SECONDS = 300


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise RuntimeError(f"setting {name} must be an integer, got {raw!r}") from e


@dataclass(frozen=True)
class QueueNames:
    """Names of the SQS queues; each has a dead-letter queue named `<name>-dlq`."""

    mail_out: str
    inbound_mail: str
    events: str
    ai_jobs: str
    booking_jobs: str = "helptal-dev-booking-jobs"
    billing_events: str = "helptal-dev-billing-events"
    privacy_jobs: str = "helptal-dev-privacy-jobs"

    def all(self) -> dict[str, str]:
        """Logical name -> queue name, for resource creation and the local event pump."""
        return {
            "mail_out": self.mail_out,
            "inbound_mail": self.inbound_mail,
            "events": self.events,
            "ai_jobs": self.ai_jobs,
            "booking_jobs": self.booking_jobs,
            "billing_events": self.billing_events,
            "privacy_jobs": self.privacy_jobs,
        }


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    resource_prefix: str
    table_name: str
    content_bucket: str
    queues: QueueNames
    public_base_url: str
    app_base_url: str
    inbound_mail_domain: str
    mailgun_api_base: str
    mailgun_domain: str
    dns_resolver: str
    cloudflare_api_base: str
    cloudflare_zone_id: str
    help_centre_cname_target: str
    openai_base_url: str
    openai_embedding_model: str
    anthropic_base_url: str
    anthropic_model: str
    anthropic_triage_model: str
    session_ttl_seconds: int
    invitation_ttl_seconds: int
    login_max_failures: int
    login_window_seconds: int
    max_body_bytes: int
    log_level: str
    # The Lambda function this process runs ("" locally: every handler in one process).
    function: str
    # Parameter Store path of the secrets ("" in dev: secrets from the environment).
    secrets_path: str
    secrets: SecretSource
    # Cloudflare Turnstile on the help centre's contact form (with its secret key).
    turnstile_site_key: str = ""
    turnstile_api_base: str = "https://challenges.cloudflare.com"
    # The WebSocket API's callback URL for pushes ("": no WebSocket API, clients poll).
    live_callback_url: str = ""
    # The WebSocket API's URL clients connect to (wss://...; "": none, clients poll).
    live_websocket_url: str = ""
    # Booking: calendar providers (OAuth apps of the deployment; secrets below) and Zoom's
    # Server-to-Server OAuth app.  Base URLs point at local stand-ins in dev and tests.
    google_api_base: str = "https://www.googleapis.com"
    google_oauth_base: str = "https://oauth2.googleapis.com"
    google_accounts_base: str = "https://accounts.google.com"
    google_client_id: str = ""
    ms_graph_base: str = "https://graph.microsoft.com/v1.0"
    ms_login_base: str = "https://login.microsoftonline.com"
    ms_tenant: str = "common"
    ms_client_id: str = ""
    zoom_api_base: str = "https://api.zoom.us/v2"
    zoom_oauth_base: str = "https://zoom.us"
    zoom_account_id: str = ""
    # The KMS key that seals calendar refresh tokens (envelope encryption): id, ARN or alias.
    calendar_tokens_key: str = ""
    # Billing: Stripe first, TapPay as the backup card processor, PayPal subscriptions.
    stripe_api_base: str = "https://api.stripe.com"
    tappay_api_base: str = "https://prod.tappaysdk.com"
    tappay_merchant_id: str = ""  # empty: no backup cards
    tappay_app_id: str = ""  # the front-end SDK's app id and (public) app key
    tappay_app_key: str = ""
    tappay_server_type: str = "production"
    tappay_sdk_url: str = "https://js.tappaysdk.com/tpdirect/v5.13.1"
    paypal_api_base: str = "https://api-m.paypal.com"
    paypal_client_id: str = ""  # empty: no PayPal subscriptions
    paypal_webhook_id: str = ""
    # The AWS_REGION, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL* variables as set: workspace
    # content stays in CONTENT_REGION (`missing` refuses any other).
    aws_environment: tuple[tuple[str, str], ...] = ()
    # PASSWORD_HASHING=fast: argon2id at its cheapest, for test runs against an emulator; see
    # `fast_password_hashing` (a deployed stack always hashes at the standard cost).
    password_hashing: str = "standard"
    # EMULATOR_READ_TIMEOUT_SECONDS: a longer wait for an AWS call, only ever behind a local
    # emulator (see `aws_read_timeout_seconds`); 0 keeps the standard.
    emulator_read_timeout_seconds: int = 0

    @property
    def aws_read_timeout_seconds(self) -> int:
        """How long an AWS call waits for its answer before it counts as an outage (503).
        Three seconds against AWS.  A local emulator serves every call of every process one
        after the other, so under a load test a call can wait behind a hundred others: a
        stack run against one may wait longer (EMULATOR_READ_TIMEOUT_SECONDS).  A deployment
        reaches AWS itself, so it cannot turn this on by mistake."""
        from chalicelib.store.aws_outage import READ_TIMEOUT_SECONDS

        local = any(name.startswith("AWS_ENDPOINT_URL") for name, _ in self.aws_environment)
        if local and self.emulator_read_timeout_seconds > 0:
            return self.emulator_read_timeout_seconds
        return READ_TIMEOUT_SECONDS

    @property
    def fast_password_hashing(self) -> bool:
        """Cheap password hashes, only ever behind a local emulator (AWS_ENDPOINT_URL set):
        a deployment reaches AWS itself, so it cannot turn them on by mistake."""
        local = any(name.startswith("AWS_ENDPOINT_URL") for name, _ in self.aws_environment)
        return self.password_hashing == "fast" and local

    # Secrets: read through the secret source each time (it caches with a TTL).
    @property
    def mailgun_api_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["mailgun_api_key"])

    @property
    def mailgun_webhook_signing_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["mailgun_webhook_signing_key"])

    @property
    def reply_address_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["reply_address_secret"])

    @property
    def domain_verification_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["domain_verification_secret"])

    @property
    def anthropic_api_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["anthropic_api_key"])

    @property
    def openai_api_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["openai_api_key"])

    @property
    def help_centre_edge_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["help_centre_edge_secret"])

    @property
    def turnstile_secret_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["turnstile_secret_key"])

    @property
    def google_client_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["google_client_secret"])

    @property
    def ms_client_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["ms_client_secret"])

    @property
    def zoom_client_id(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["zoom_client_id"])

    @property
    def zoom_client_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["zoom_client_secret"])

    @property
    def stripe_secret_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["stripe_secret_key"])

    @property
    def stripe_webhook_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["stripe_webhook_secret"])

    @property
    def tappay_partner_key(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["tappay_partner_key"])

    @property
    def paypal_client_secret(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["paypal_client_secret"])

    @property
    def cloudflare_api_token(self) -> str:
        return self.secrets.get(SECRETS_BY_FIELD["cloudflare_api_token"])

    def missing(self) -> list[str]:
        """What a deployed stage lacks to serve safely: the names of required settings and of
        this function's required secrets that are unset or empty, and an AWS region other
        than the content region (named with the variable that set it). Dev checks the region
        only, and accepts any behind a local emulator (`AWS_ENDPOINT_URL`)."""
        elsewhere = region_refusals(
            dict(self.aws_environment), self.region, local_emulator_allowed=self.stage == DEV_STAGE
        )
        if self.stage == DEV_STAGE:
            return elsewhere
        missing = [name for name, value in self._required_values().items() if not value.strip()]
        if elsewhere:
            # Secrets are not read from another region's parameter store.
            return [*elsewhere, *missing]
        if not isinstance(self.secrets, ParameterStoreSecrets):
            # Deployed secrets live in the parameter store, never in plain variables.
            return [*missing, "SECRETS_PATH"]
        required = tuple(secret for secret in secrets_of(self.function) if secret.required)
        return missing + self.secrets.missing(required)

    def _required_values(self) -> dict[str, str]:
        return {
            "PUBLIC_BASE_URL": self.public_base_url,
            "APP_BASE_URL": self.app_base_url,
            "INBOUND_MAIL_DOMAIN": self.inbound_mail_domain,
            "MAILGUN_DOMAIN": self.mailgun_domain,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings for this process (cached; call `reload_settings` in tests that change env)."""
    prefix = _env("RESOURCE_PREFIX", "helptal-dev")
    stage = _env("HELPTAL_STAGE", DEV_STAGE)
    # The .test domains are the local stack's; a deployed stage must name its own.
    dev = stage == DEV_STAGE
    return Settings(
        stage=stage,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", CONTENT_REGION)),
        resource_prefix=prefix,
        table_name=_env("TABLE_NAME", prefix),
        content_bucket=_env("CONTENT_BUCKET", f"{prefix}-content"),
        queues=QueueNames(
            mail_out=_env("MAIL_OUT_QUEUE", f"{prefix}-mail-out"),
            inbound_mail=_env("INBOUND_MAIL_QUEUE", f"{prefix}-inbound-mail"),
            events=_env("EVENTS_QUEUE", f"{prefix}-events"),
            ai_jobs=_env("AI_JOBS_QUEUE", f"{prefix}-ai-jobs"),
            booking_jobs=_env("BOOKING_JOBS_QUEUE", f"{prefix}-booking-jobs"),
            billing_events=_env("BILLING_EVENTS_QUEUE", f"{prefix}-billing-events"),
            privacy_jobs=_env("PRIVACY_JOBS_QUEUE", f"{prefix}-privacy-jobs"),
        ),
        # Set per stage in .chalice/config.json (and by the local stack for its own port).
        public_base_url=_env("PUBLIC_BASE_URL", ""),
        app_base_url=_env("APP_BASE_URL", ""),
        inbound_mail_domain=_env("INBOUND_MAIL_DOMAIN", "in.helptal.test" if dev else ""),
        mailgun_api_base=_env("MAILGUN_API_BASE", "https://api.mailgun.net"),
        mailgun_domain=_env("MAILGUN_DOMAIN", "mg.helptal.test" if dev else ""),
        # "host:port" of the DNS server for domain checks; empty: the system's resolvers.
        dns_resolver=_env("DNS_RESOLVER", ""),
        # Cloudflare for SaaS: TLS for tenants' help-centre domains (custom hostnames in the
        # SaaS zone). Without a token or zone, custom hostnames are not provisioned.
        cloudflare_api_base=_env("CLOUDFLARE_API_BASE", "https://api.cloudflare.com/client/v4"),
        cloudflare_zone_id=_env("CLOUDFLARE_ZONE_ID", ""),
        # The name a tenant's help-centre domain is CNAMEd to (a proxied name in the SaaS zone).
        help_centre_cname_target=_env("HELP_CENTRE_CNAME_TARGET", ""),
        # AI providers (keys in chalicelib.secret_store): only for workspaces with AI on.
        openai_base_url=_env("OPENAI_BASE_URL", ""),
        openai_embedding_model=_env("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
        # Claude: drafts, summaries, translation and tone (ANTHROPIC_MODEL); triage runs on
        # every new ticket, so it uses a smaller, cheaper model by default.
        anthropic_base_url=_env("ANTHROPIC_BASE_URL", ""),
        anthropic_model=_env("ANTHROPIC_MODEL", "claude-sonnet-4-6"),
        anthropic_triage_model=_env("ANTHROPIC_TRIAGE_MODEL", "claude-haiku-4-5"),
        session_ttl_seconds=_env_int("SESSION_TTL_SECONDS", 7 * 24 * 3600),
        invitation_ttl_seconds=_env_int("INVITATION_TTL_SECONDS", 7 * 24 * 3600),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_env_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 256 * 1024),
        log_level=_env("LOG_LEVEL", "INFO"),
        function=_env("HELPTAL_FUNCTION", ""),
        secrets_path=_env("SECRETS_PATH", ""),
        turnstile_site_key=_env("TURNSTILE_SITE_KEY", ""),
        turnstile_api_base=_env("TURNSTILE_API_BASE", "https://challenges.cloudflare.com"),
        secrets=secret_source(
            os.environ, _env_int("SECRETS_TTL_SECONDS", DEFAULT_SECRETS_TTL_SECONDS)
        ),
        live_callback_url=_env("LIVE_CALLBACK_URL", ""),
        live_websocket_url=_env("LIVE_WEBSOCKET_URL", ""),
        google_api_base=_env("GOOGLE_API_BASE", "https://www.googleapis.com"),
        google_oauth_base=_env("GOOGLE_OAUTH_BASE", "https://oauth2.googleapis.com"),
        google_accounts_base=_env("GOOGLE_ACCOUNTS_BASE", "https://accounts.google.com"),
        google_client_id=_env("GOOGLE_CLIENT_ID", ""),
        ms_graph_base=_env("MS_GRAPH_BASE", "https://graph.microsoft.com/v1.0"),
        ms_login_base=_env("MS_LOGIN_BASE", "https://login.microsoftonline.com"),
        ms_tenant=_env("MS_TENANT", "common"),
        ms_client_id=_env("MS_CLIENT_ID", ""),
        zoom_api_base=_env("ZOOM_API_BASE", "https://api.zoom.us/v2"),
        zoom_oauth_base=_env("ZOOM_OAUTH_BASE", "https://zoom.us"),
        zoom_account_id=_env("ZOOM_ACCOUNT_ID", ""),
        calendar_tokens_key=_env("CALENDAR_TOKENS_KEY", f"alias/{prefix}-calendar-tokens"),
        stripe_api_base=_env("STRIPE_API_BASE", "https://api.stripe.com"),
        tappay_api_base=_env("TAPPAY_API_BASE", "https://prod.tappaysdk.com"),
        tappay_merchant_id=_env("TAPPAY_MERCHANT_ID", ""),
        tappay_app_id=_env("TAPPAY_APP_ID", ""),
        tappay_app_key=_env("TAPPAY_APP_KEY", ""),
        tappay_server_type=_env("TAPPAY_SERVER_TYPE", "production"),
        tappay_sdk_url=_env("TAPPAY_SDK_URL", "https://js.tappaysdk.com/tpdirect/v5.13.1"),
        paypal_api_base=_env("PAYPAL_API_BASE", "https://api-m.paypal.com"),
        paypal_client_id=_env("PAYPAL_CLIENT_ID", ""),
        paypal_webhook_id=_env("PAYPAL_WEBHOOK_ID", ""),
        aws_environment=tuple(
            sorted((name, value) for name, value in os.environ.items() if is_aws_variable(name))
        ),
        password_hashing=_env("PASSWORD_HASHING", "standard"),
        emulator_read_timeout_seconds=_env_int("EMULATOR_READ_TIMEOUT_SECONDS", 0),
    )


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
