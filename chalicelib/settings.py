"""Deployment settings, read from the environment once.

Every value has a documented development default so that `make run` works on a fresh
machine.  Secrets are held here only as values injected by the environment at run time
(in AWS: Lambda environment resolved from SSM/Secrets Manager by the deploy); nothing
secret is committed.  See README "Configuration" for the full table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


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

    def all(self) -> dict[str, str]:
        """Logical name -> queue name, for resource creation and the local event pump."""
        return {
            "mail_out": self.mail_out,
            "inbound_mail": self.inbound_mail,
            "events": self.events,
            "ai_jobs": self.ai_jobs,
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
    mailgun_api_key: str
    mailgun_webhook_signing_key: str
    reply_address_secret: str
    domain_verification_secret: str
    dns_resolver: str
    openai_api_key: str
    openai_base_url: str
    openai_embedding_model: str
    anthropic_api_key: str
    anthropic_base_url: str
    anthropic_model: str
    anthropic_triage_model: str
    session_ttl_seconds: int
    invitation_ttl_seconds: int
    login_max_failures: int
    login_window_seconds: int
    max_body_bytes: int
    log_level: str


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings for this process (cached; call `reload_settings` in tests that change env)."""
    prefix = _env("RESOURCE_PREFIX", "helptal-dev")
    return Settings(
        stage=_env("HELPTAL_STAGE", "dev"),
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "ap-southeast-1")),
        resource_prefix=prefix,
        table_name=_env("TABLE_NAME", prefix),
        content_bucket=_env("CONTENT_BUCKET", f"{prefix}-content"),
        queues=QueueNames(
            mail_out=_env("MAIL_OUT_QUEUE", f"{prefix}-mail-out"),
            inbound_mail=_env("INBOUND_MAIL_QUEUE", f"{prefix}-inbound-mail"),
            events=_env("EVENTS_QUEUE", f"{prefix}-events"),
            ai_jobs=_env("AI_JOBS_QUEUE", f"{prefix}-ai-jobs"),
        ),
        # Set per stage in .chalice/config.json (and by the local stack for its own port).
        public_base_url=_env("PUBLIC_BASE_URL", ""),
        app_base_url=_env("APP_BASE_URL", ""),
        inbound_mail_domain=_env("INBOUND_MAIL_DOMAIN", "in.helptal.test"),
        mailgun_api_base=_env("MAILGUN_API_BASE", "https://api.mailgun.net"),
        mailgun_domain=_env("MAILGUN_DOMAIN", "mg.helptal.test"),
        mailgun_api_key=_env("MAILGUN_API_KEY", ""),
        mailgun_webhook_signing_key=_env("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
        # Signs ticket reply addresses; set per deployment (the local stack generates one).
        reply_address_secret=_env("REPLY_ADDRESS_SECRET", ""),
        # Makes each workspace's DNS TXT token for its help-centre domain unguessable.
        domain_verification_secret=_env("DOMAIN_VERIFICATION_SECRET", ""),
        # "host:port" of the DNS server for domain checks; empty: the system's resolvers.
        dns_resolver=_env("DNS_RESOLVER", ""),
        # AI providers: used only for workspaces whose admin enabled AI.
        openai_api_key=_env("OPENAI_API_KEY", ""),
        openai_base_url=_env("OPENAI_BASE_URL", ""),
        openai_embedding_model=_env("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
        # Claude: drafts, summaries, translation and tone (ANTHROPIC_MODEL); triage runs on
        # every new ticket, so it uses a smaller, cheaper model by default.
        anthropic_api_key=_env("ANTHROPIC_API_KEY", ""),
        anthropic_base_url=_env("ANTHROPIC_BASE_URL", ""),
        anthropic_model=_env("ANTHROPIC_MODEL", "claude-sonnet-4-6"),
        anthropic_triage_model=_env("ANTHROPIC_TRIAGE_MODEL", "claude-haiku-4-5"),
        session_ttl_seconds=_env_int("SESSION_TTL_SECONDS", 7 * 24 * 3600),
        invitation_ttl_seconds=_env_int("INVITATION_TTL_SECONDS", 7 * 24 * 3600),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_env_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 256 * 1024),
        log_level=_env("LOG_LEVEL", "INFO"),
    )


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
