"""Composition root: builds adapters and services lazily, once per container."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.clock import Clock, SystemClock
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from chalicelib.accounts.deps import AccountDeps
    from chalicelib.accounts.profile import AvatarImages
    from chalicelib.ai.deps import AiDeps
    from chalicelib.ai.model import ResultKind
    from chalicelib.ai.ports import Llm
    from chalicelib.chat.bot import QueuedAnswerBot
    from chalicelib.chat.deps import ChatDeps
    from chalicelib.chat.ports import AnswerBot
    from chalicelib.chat.shared_marks import SharedMarkReads
    from chalicelib.kb.custom_hostnames import CustomHostnameProvider, HostnameDeps
    from chalicelib.kb.deps import KbDeps
    from chalicelib.kb.embedder import Embedder
    from chalicelib.kb.helpcentre_contact import HumanCheck
    from chalicelib.kb.indexing import IndexCache
    from chalicelib.live.connections import LiveDeps
    from chalicelib.live.ports import LivePush, PushChannel, VisitorTokens
    from chalicelib.mail.inbound.stored import StoredMessages
    from chalicelib.mail.intake_queue import InboundIntake
    from chalicelib.notifications.deps import NotificationDeps
    from chalicelib.providers.anthropic_llm import AnthropicLlm
    from chalicelib.providers.dns import DnsPythonResolver
    from chalicelib.providers.mailgun import MailgunSender
    from chalicelib.providers.openai_embed import OpenAIEmbedder
    from chalicelib.store.ai_repo import DynamoAiSettingsStore, DynamoAiStore
    from chalicelib.store.blobs import S3BlobStore
    from chalicelib.store.chat_insights_repo import DynamoChatInsights
    from chalicelib.store.contacts_repo import DynamoContactDirectory
    from chalicelib.store.helpcentre_repo import DynamoHelpCentreStore
    from chalicelib.store.kb_index_repo import DynamoSearchGaps, S3IndexStore
    from chalicelib.store.live_connections_repo import DynamoLiveConnections
    from chalicelib.store.outbox import DynamoMailLog, SqsMailOutbox
    from chalicelib.store.queues import SqsAiJobQueue
    from chalicelib.store.search_repo import DynamoSearchIndex
    from chalicelib.tickets.canned import CannedDeps
    from chalicelib.tickets.deps import TicketDeps
    from chalicelib.tickets.inbox import InboxFeed


@lru_cache(maxsize=1)
def clock() -> Clock:
    return SystemClock()


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    import boto3

    from chalicelib.store.aws_outage import client_config

    return boto3.client("sqs", region_name=get_settings().region, config=client_config())


@lru_cache(maxsize=1)
def mail_log() -> DynamoMailLog:
    from chalicelib.store.outbox import DynamoMailLog

    return DynamoMailLog(clock())


@lru_cache(maxsize=1)
def mail_outbox() -> SqsMailOutbox:
    from chalicelib.store.outbox import SqsMailOutbox
    from chalicelib.store.queues import SqsQueue

    return SqsMailOutbox(mail_log(), SqsQueue(sqs_client, get_settings().queues.mail_out))


@lru_cache(maxsize=1)
def mail_sender() -> MailgunSender:
    from chalicelib.providers.mailgun import MailgunSender

    settings = get_settings()
    return MailgunSender(
        settings.mailgun_api_base,
        settings.mailgun_domain,
        settings.mailgun_api_key,
        read_file=blob_store().get,
    )


@lru_cache(maxsize=1)
def stored_messages() -> StoredMessages:
    """Where the inbound-mail worker fetches mail Mailgun stored (too large to post)."""
    from chalicelib.providers.mailgun_storage import MailgunStorage

    settings = get_settings()
    return MailgunStorage(settings.mailgun_api_base, settings.mailgun_api_key)


def two_factor_keys() -> tuple[str, str]:
    """The current and the previous two-factor key, read at each use (rotation needs no
    restart); only the API's role may read them."""
    from chalicelib.secret_store import SECRETS_BY_FIELD

    secrets = get_settings().secrets
    return (
        secrets.get(SECRETS_BY_FIELD["two_factor_key"]),
        secrets.get(SECRETS_BY_FIELD["two_factor_key_previous"]),
    )


@lru_cache(maxsize=1)
def account_deps() -> AccountDeps:
    from chalicelib.accounts.deps import AccountDeps, AccountPolicy
    from chalicelib.accounts.passwords import Argon2PasswordHasher
    from chalicelib.store.accounts_repo import DynamoAccountsStore
    from chalicelib.store.secret_box import TwoFactorSecretBox

    settings = get_settings()
    return AccountDeps(
        # The box reads the keys when a secret is sealed or opened: the workers, which share
        # this store but not the keys, never ask for them.
        store=DynamoAccountsStore(TwoFactorSecretBox(two_factor_keys)),
        hasher=Argon2PasswordHasher(),
        clock=clock(),
        outbox=mail_outbox(),
        policy=AccountPolicy(
            session_ttl_seconds=settings.session_ttl_seconds,
            invitation_ttl_seconds=settings.invitation_ttl_seconds,
            login_max_failures=settings.login_max_failures,
            login_window_seconds=settings.login_window_seconds,
            public_base_url=settings.public_base_url,
        ),
    )


@lru_cache(maxsize=1)
def s3_client() -> S3Client:
    import boto3

    from chalicelib.store.aws_outage import client_config

    # SigV4 presigned links (the only kind newer regions such as ap-southeast-1 accept), on
    # the bucket's regional host (`<bucket>.s3.<region>.amazonaws.com`: the origin the web
    # client's policy allows, with no redirect from the global host for a new bucket).  An
    # emulator (AWS_ENDPOINT_URL) is addressed by path.
    emulated = bool(os.environ.get("AWS_ENDPOINT_URL"))
    return boto3.client(
        "s3",
        region_name=get_settings().region,
        config=client_config(
            signature_version="s3v4",
            **({} if emulated else {"s3": {"addressing_style": "virtual"}}),
        ),
    )


@lru_cache(maxsize=1)
def blob_store() -> S3BlobStore:
    from chalicelib.store.blobs import S3BlobStore

    return S3BlobStore(s3_client, get_settings().content_bucket)


@lru_cache(maxsize=1)
def inbound_intake() -> InboundIntake:
    from chalicelib.mail.intake_queue import InboundIntake
    from chalicelib.store.queues import SqsQueue
    from chalicelib.store.replay_guard import DynamoReplayGuard

    settings = get_settings()
    return InboundIntake(
        signing_key=settings.mailgun_webhook_signing_key,
        guard=DynamoReplayGuard("mailgun", clock()),
        blobs=blob_store(),
        queue=SqsQueue(sqs_client, settings.queues.inbound_mail),
        clock=clock(),
    )


@lru_cache(maxsize=1)
def search_index() -> DynamoSearchIndex:
    from chalicelib.store.search_repo import DynamoSearchIndex

    return DynamoSearchIndex()


@lru_cache(maxsize=1)
def ticket_deps() -> TicketDeps:
    from chalicelib.live.pushes import PushingEvents
    from chalicelib.store.attachments_repo import DynamoUploadStore, S3UploadedFiles
    from chalicelib.store.events import SqsEventPublisher
    from chalicelib.store.mailbox_repo import DynamoMailboxStore
    from chalicelib.store.queues import SqsQueue
    from chalicelib.store.tickets_repo import DynamoTicketStore
    from chalicelib.tickets.deps import TicketDeps, TicketPolicy

    settings = get_settings()
    return TicketDeps(
        store=DynamoTicketStore(),
        accounts=account_deps().store,
        clock=clock(),
        outbox=mail_outbox(),
        # Each ticket event also tells the ticket's live listeners at once (0028).
        events=PushingEvents(
            SqsEventPublisher(SqsQueue(sqs_client, settings.queues.events), clock()), live_push
        ),
        blobs=blob_store(),
        policy=TicketPolicy(
            inbound_mail_domain=settings.inbound_mail_domain,
            mail_domain=settings.mailgun_domain,
            reply_address_secret=settings.reply_address_secret,
        ),
        mailbox=DynamoMailboxStore(),
        uploads=DynamoUploadStore(),
        files=S3UploadedFiles(s3_client, settings.content_bucket),
    )


@lru_cache(maxsize=1)
def inbox_feed() -> InboxFeed:
    """The newest-activity view of tickets, read by the inbox's changes feed."""
    from chalicelib.store.tickets_repo import DynamoTicketStore

    return DynamoTicketStore()


@lru_cache(maxsize=1)
def notification_deps() -> NotificationDeps:
    from chalicelib.notifications.deps import NotificationDeps, NotificationPolicy
    from chalicelib.store.notifications_repo import DynamoNotificationStore

    policy = NotificationPolicy(app_base_url=get_settings().app_base_url)
    tickets = ticket_deps()
    return NotificationDeps(
        store=DynamoNotificationStore(policy.keep_days),
        accounts=tickets.accounts,
        tickets=tickets.store,
        outbox=tickets.outbox,
        clock=clock(),
        policy=policy,
    )


@lru_cache(maxsize=1)
def canned_deps() -> CannedDeps:
    from chalicelib.store.canned_repo import DynamoCannedResponseStore
    from chalicelib.tickets.canned import CannedDeps

    return CannedDeps(store=DynamoCannedResponseStore(), tickets=ticket_deps())


@lru_cache(maxsize=1)
def contact_directory() -> DynamoContactDirectory:
    from chalicelib.store.contacts_repo import DynamoContactDirectory

    return DynamoContactDirectory()


@lru_cache(maxsize=1)
def avatar_images() -> AvatarImages:
    """People's avatars, in the content bucket under `users/` (as article images: uploaded
    through a presigned POST, read through short links)."""
    from chalicelib.store.kb_repo import S3ArticleImages

    return S3ArticleImages(s3_client, get_settings().content_bucket)


@lru_cache(maxsize=1)
def kb_deps() -> KbDeps:
    from chalicelib.kb.deps import KbDeps, KbPolicy
    from chalicelib.store.kb_repo import DynamoKnowledgeBaseStore, S3ArticleImages

    settings = get_settings()
    return KbDeps(
        store=DynamoKnowledgeBaseStore(),
        clock=clock(),
        events=ticket_deps().events,
        images=S3ArticleImages(s3_client, settings.content_bucket),
        policy=KbPolicy(public_base_url=settings.public_base_url),
    )


@lru_cache(maxsize=1)
def helpcentre_store() -> DynamoHelpCentreStore:
    from chalicelib.store.helpcentre_repo import DynamoHelpCentreStore

    return DynamoHelpCentreStore()


def human_check() -> HumanCheck | None:
    """Cloudflare Turnstile for the help centre's contact form when both its site key and
    its secret key are configured; None otherwise (the hourly limit per visitor and the
    anti-forgery token still apply)."""
    settings = get_settings()
    if not (settings.turnstile_site_key and settings.turnstile_secret_key):
        return None
    from chalicelib.providers.turnstile import TurnstileHumanCheck

    return TurnstileHumanCheck(settings.turnstile_api_base, lambda: settings.turnstile_secret_key)


@lru_cache(maxsize=1)
def custom_hostname_provider() -> CustomHostnameProvider:
    """Cloudflare for SaaS; its API token is read at each call (rotation needs no restart)."""
    from chalicelib.providers.cloudflare import CloudflareCustomHostnames

    settings = get_settings()
    return CloudflareCustomHostnames(
        settings.cloudflare_api_base,
        settings.cloudflare_zone_id,
        lambda: get_settings().cloudflare_api_token,
    )


def custom_hostname_deps() -> HostnameDeps:
    """Custom hostnames of help-centre domains; no provider while this deployment has no
    Cloudflare zone or API token (nothing is provisioned, the settings say so)."""
    from chalicelib.kb.custom_hostnames import HostnameDeps, HostnamePolicy

    settings = get_settings()
    configured = bool(settings.cloudflare_zone_id and settings.cloudflare_api_token)
    return HostnameDeps(
        store=helpcentre_store(),
        provider=custom_hostname_provider() if configured else None,
        policy=HostnamePolicy(cname_target=settings.help_centre_cname_target),
    )


@lru_cache(maxsize=1)
def kb_index_store() -> S3IndexStore:
    from chalicelib.store.kb_index_repo import S3IndexStore

    return S3IndexStore(blob_store())


@lru_cache(maxsize=1)
def kb_index_cache() -> IndexCache:
    from chalicelib.kb.indexing import IndexCache

    def rebuild(workspace_id: str) -> None:
        ticket_deps().events.publish("kb.index_outdated", workspace_id, {})

    return IndexCache(kb_index_store(), on_outdated=rebuild)


@lru_cache(maxsize=1)
def kb_search_gaps() -> DynamoSearchGaps:
    from chalicelib.store.kb_index_repo import DynamoSearchGaps

    return DynamoSearchGaps()


@lru_cache(maxsize=1)
def dns_resolver() -> DnsPythonResolver:
    from chalicelib.providers.dns import DnsPythonResolver

    configured = get_settings().dns_resolver
    if not configured:
        return DnsPythonResolver()
    host, _, port = configured.partition(":")
    return DnsPythonResolver(nameservers=[host], port=int(port or 53))


@lru_cache(maxsize=1)
def ai_settings_store() -> DynamoAiSettingsStore:
    from chalicelib.store.ai_repo import DynamoAiSettingsStore

    return DynamoAiSettingsStore()


def kb_embedder_for(workspace_id: str) -> Embedder | None:
    """The embedder for a workspace's knowledge base, or None: AI off for the workspace (no
    content leaves), or no provider key in this deployment."""
    settings = get_settings()
    if not settings.openai_api_key or not ai_settings_store().get(workspace_id).enabled:
        return None
    from chalicelib.ai.metering import MeteredEmbedder

    return MeteredEmbedder(_openai_embedder(), ai_store(), workspace_id, clock().now)


@lru_cache(maxsize=1)
def _openai_embedder() -> OpenAIEmbedder:
    """One OpenAI client per container (its connections are reused)."""
    from chalicelib.providers.openai_embed import OpenAIEmbedder

    settings = get_settings()
    return OpenAIEmbedder(
        settings.openai_api_key, settings.openai_embedding_model, settings.openai_base_url or None
    )


@lru_cache(maxsize=1)
def ai_store() -> DynamoAiStore:
    from chalicelib.store.ai_repo import DynamoAiStore

    return DynamoAiStore()


@lru_cache(maxsize=1)
def ai_job_queue() -> SqsAiJobQueue:
    from chalicelib.store.queues import SqsAiJobQueue, SqsQueue

    return SqsAiJobQueue(SqsQueue(sqs_client, get_settings().queues.ai_jobs))


@lru_cache(maxsize=4)
def _anthropic(model: str) -> AnthropicLlm:
    from chalicelib.providers.anthropic_llm import AnthropicLlm

    settings = get_settings()
    return AnthropicLlm(settings.anthropic_api_key, model, settings.anthropic_base_url or None)


def llm_for(kind: ResultKind) -> Llm | None:
    """The model for a kind of AI result; None when this deployment has no Anthropic key."""
    from chalicelib.ai.model import ResultKind

    settings = get_settings()
    if not settings.anthropic_api_key:
        return None
    if kind is ResultKind.TRIAGE:
        return _anthropic(settings.anthropic_triage_model)
    return _anthropic(settings.anthropic_model)


@lru_cache(maxsize=1)
def ai_deps() -> AiDeps:
    from chalicelib.ai.deps import AiDeps
    from chalicelib.kb.search import KnowledgePassages

    return AiDeps(
        settings=ai_settings_store(),
        store=ai_store(),
        queue=ai_job_queue(),
        tickets=ticket_deps(),
        knowledge=KnowledgePassages(kb_index_cache(), kb_embedder_for, kb_deps().store.get_article),
        llm_for=llm_for,
    )


_built_with_secrets: list[int] = [0]


def follow_secret_rotation() -> None:
    """Builds the services again when a secret changed since they were built (services keep
    the keys they were given). At most one read of the parameter store per TTL."""
    version = get_settings().secrets.version()
    if version != _built_with_secrets[0]:
        if _built_with_secrets[0] != 0:
            reset()
        _built_with_secrets[0] = version


def reset() -> None:
    """Forgets every built object (tests that change settings call this)."""
    for factory in (
        clock,
        sqs_client,
        s3_client,
        mail_log,
        mail_outbox,
        mail_sender,
        stored_messages,
        account_deps,
        blob_store,
        inbound_intake,
        search_index,
        ticket_deps,
        inbox_feed,
        notification_deps,
        canned_deps,
        contact_directory,
        kb_deps,
        avatar_images,
        helpcentre_store,
        custom_hostname_provider,
        kb_index_store,
        kb_index_cache,
        kb_search_gaps,
        dns_resolver,
        ai_settings_store,
        ai_store,
        ai_job_queue,
        chat_marks,
        _anthropic,
        _openai_embedder,
        ai_deps,
        live_connections,
        live_push,
        live_channel,
        live_deps,
    ):
        factory.cache_clear()


# -- live pushes over the WebSocket API (docs/decisions/0028-websocket-pushes.md) -------------


@lru_cache(maxsize=1)
def live_connections() -> DynamoLiveConnections:
    from chalicelib.store.live_connections_repo import DynamoLiveConnections

    return DynamoLiveConnections()


@lru_cache(maxsize=1)
def live_push() -> LivePush:
    """Pushes to WebSocket connections where this deployment has the WebSocket API
    (`LIVE_CALLBACK_URL`); nothing otherwise (the local stack: clients poll)."""
    from chalicelib.live.connections import NoLivePush, TopicPush

    if not get_settings().live_callback_url:
        return NoLivePush()
    return TopicPush(live_connections(), live_channel(), clock())


@lru_cache(maxsize=4)
def live_channel(domain_name: str = "", stage: str = "") -> PushChannel:
    """Posts down a WebSocket connection: through `LIVE_CALLBACK_URL`, or else the API a
    WebSocket event came through (`https://<domain>/<stage>`)."""
    from chalicelib.providers.apigw_management import ApiGatewayConnections

    settings = get_settings()
    url = settings.live_callback_url or f"https://{domain_name}/{stage}"
    return ApiGatewayConnections(url, settings.region)


def live_visitor_tokens() -> VisitorTokens | None:
    """The chat widget's visitor tokens (signed with a key from the reply-address secret;
    the widget's public key must name the token's workspace)."""
    from chalicelib.live.connections import SignedVisitorTokens

    def workspace_of_key(public_key: str) -> str | None:
        from chalicelib.store.chat_repo import DynamoChatStore

        return DynamoChatStore().workspace_of_key(public_key)

    return SignedVisitorTokens(lambda: get_settings().reply_address_secret, workspace_of_key)


@lru_cache(maxsize=1)
def live_deps() -> LiveDeps:
    from chalicelib.api.browser_session import origin_of
    from chalicelib.live.connections import (
        AccountAgentSessions,
        LiveDeps,
        LivePolicy,
        StoredTickets,
    )
    from chalicelib.store.tickets_repo import DynamoTicketStore

    return LiveDeps(
        connections=live_connections(),
        agents=AccountAgentSessions(account_deps()),
        visitor_tokens=live_visitor_tokens(),
        # The ticket store alone: the live functions hold none of the tickets' secrets.
        tickets=StoredTickets(DynamoTicketStore()),
        clock=clock(),
        policy=LivePolicy(app_origins=frozenset({origin_of(get_settings().app_base_url)}) - {""}),
        connect_token_secret=lambda: get_settings().reply_address_secret,
    )


# -- live chat (docs/decisions/0027-live-chat.md) ----------------------------------------------


def answer_bot() -> AnswerBot:
    """The chat's answer bot (chalicelib/chat/bot.py) behind the `AnswerBot` port: it answers
    only where the workspace turned AI and the chat's AI answers on."""
    return chat_answer_bot()


def chat_deps() -> ChatDeps:
    """Live chat's services (built from the cached adapters: cheap, nothing to reset)."""
    import time

    from chalicelib.chat.deps import ChatDeps, ChatPolicy
    from chalicelib.store.chat_repo import DynamoChatStore

    settings = get_settings()
    return ChatDeps(
        store=DynamoChatStore(),
        tickets=ticket_deps(),
        attempts=helpcentre_store(),
        human_check=human_check(),
        bot=answer_bot(),
        policy=ChatPolicy(
            token_secret=settings.reply_address_secret,
            public_base_url=settings.public_base_url,
        ),
        ai_enabled=lambda workspace_id: ai_settings_store().get(workspace_id).enabled,
        sleep=time.sleep,
        live=live_push(),
        marks=chat_marks(),
    )


@lru_cache(maxsize=1)
def chat_marks() -> SharedMarkReads:
    """The marks this process's waiting chat clients read together (chalicelib/chat/
    shared_marks.py)."""
    from chalicelib.chat.shared_marks import SharedMarkReads
    from chalicelib.store.chat_repo import DynamoChatStore

    return SharedMarkReads(DynamoChatStore().marks)


# -- the chat's answer bot and chat insights (chalicelib/chat/bot.py, insights.py) -----------


def chat_insights_store() -> DynamoChatInsights:
    from chalicelib.store.chat_insights_repo import DynamoChatInsights

    return DynamoChatInsights()


def chat_answer_bot() -> QueuedAnswerBot:
    """The answer bot over the AI teammate's deps (built from the cached adapters: cheap,
    nothing to reset).  Its answers go through the AI-jobs queue and worker."""
    from chalicelib.chat.bot import QueuedAnswerBot
    from chalicelib.live.pushes import tell_conversation_moved

    def conversation_moved(workspace_id: str, ticket_id: str, last_message_id: str) -> None:
        tell_conversation_moved(live_push(), workspace_id, ticket_id)

    def chat_ai_answers(workspace_id: str) -> bool:
        settings = chat_deps().store.get_settings(workspace_id)
        return settings is not None and settings.ai_answers

    def help_centre(workspace_id: str) -> str:
        settings = helpcentre_store().get_settings(workspace_id)
        if settings is not None and settings.domain_verified and settings.custom_domain:
            return f"https://{settings.custom_domain}"
        workspace = account_deps().store.get_workspace(workspace_id)
        slug = workspace.slug if workspace else workspace_id
        return f"{get_settings().public_base_url.rstrip('/')}/hc/{slug}"

    return QueuedAnswerBot(
        ai_deps(),
        chat_insights_store(),
        kb_search_gaps(),
        chat_ai_answers=chat_ai_answers,
        conversation_moved=conversation_moved,
        help_centre=help_centre,
    )
