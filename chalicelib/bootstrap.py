"""Composition root: builds adapters and services lazily, once per container."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

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
    from chalicelib.booking.deps import BookingDeps
    from chalicelib.booking.model import Booking
    from chalicelib.booking.ports import BookingJobs
    from chalicelib.booking.sync import BookingMailDeps, SyncDeps
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
    from chalicelib.store.booking_job_outbox_repo import DynamoJobOutbox
    from chalicelib.store.booking_jobs_queue import SqsBookingJobs
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
        hasher=Argon2PasswordHasher(fast=settings.fast_password_hashing),
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
        booking_jobs_queue,
        booking_job_outbox,
        _kms_client,
        token_vault,
        _access_tokens,
        google_calendar,
        microsoft_calendar,
        zoom_meetings,
        *_BILLING_FACTORIES,
        *_PRIVACY_FACTORIES,
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


# -- booking (chalicelib/booking/; docs/decisions/0029-booking.md) ---------------------------


@lru_cache(maxsize=1)
def _listed_booking_jobs() -> BookingJobs:
    """Booking jobs kept in memory, only while this deployment has no jobs queue."""
    from chalicelib.booking.deps import ListedJobs

    return ListedJobs()


def booking_deps() -> BookingDeps:
    """Booking's services (built from the cached adapters: cheap, nothing to reset).  Busy
    times come from the calendar connections (`busy_times`) and jobs go to the booking-jobs
    queue (`booking_jobs_queue`)."""
    import sys
    import time

    from chalicelib.booking.availability import NoCalendars
    from chalicelib.booking.deps import BookingDeps, BookingPolicy, BookingSite
    from chalicelib.store.booking_repo import DynamoBookingStore

    settings = get_settings()
    here = sys.modules[__name__]
    busy_factory = getattr(here, "busy_times", None)
    jobs_factory = getattr(here, "booking_jobs_queue", None)
    check = human_check()

    def site(workspace_id: str) -> BookingSite:
        found = helpcentre_store().get_settings(workspace_id)
        if found is None:
            return BookingSite()
        domain = found.custom_domain if found.domain_verified else None
        return BookingSite(custom_domain=domain or None, logo_url=found.logo_url)

    return BookingDeps(
        store=DynamoBookingStore(),
        busy=busy_factory() if busy_factory is not None else NoCalendars(),
        jobs=jobs_factory() if jobs_factory is not None else _listed_booking_jobs(),
        clock=clock(),
        policy=BookingPolicy(
            public_base_url=settings.public_base_url,
            token_secret=settings.reply_address_secret,
            turnstile_site_key=settings.turnstile_site_key if check is not None else "",
        ),
        accounts=account_deps().store,
        attempts=helpcentre_store(),
        human_check=check,
        site=site,
        sleep=time.sleep,
        outbox=booking_job_outbox(),
    )


# -- booking jobs, mails and reminders (chalicelib/booking/sync.py, reminders.py) -------------


@lru_cache(maxsize=1)
def booking_jobs_queue() -> SqsBookingJobs:
    """The booking-jobs queue (`BookingJobs`): the booking core enqueues, the booking-jobs
    worker runs them."""
    from chalicelib.store.booking_jobs_queue import SqsBookingJobs
    from chalicelib.store.queues import SqsQueue

    return SqsBookingJobs(SqsQueue(sqs_client, get_settings().queues.booking_jobs))


@lru_cache(maxsize=1)
def booking_job_outbox() -> DynamoJobOutbox:
    """The due items of booking jobs (written with each booking change, deleted by the
    booking-jobs worker, queued again by the reminders schedule's sweep)."""
    from chalicelib.store.booking_job_outbox_repo import DynamoJobOutbox

    return DynamoJobOutbox()


def booking_manage_url(booking: Booking) -> str:
    """The invitee's manage link: on the workspace's verified help-centre domain when it has
    one, else on the API's public address."""
    from chalicelib.booking import manage_links

    settings = get_settings()
    found = helpcentre_store().get_settings(booking.workspace_id)
    domain = found.custom_domain if found is not None and found.domain_verified else None
    base = f"https://{domain}" if domain else settings.public_base_url
    token = manage_links.issue(
        settings.reply_address_secret,
        manage_links.ManageGrant(booking.workspace_id, booking.id),
    )
    return manage_links.manage_url(base, token)


def booking_mail_deps() -> BookingMailDeps:
    """What booking mails and reminders need (built from the cached adapters: cheap)."""
    from chalicelib.booking.sync import BookingMailDeps
    from chalicelib.store.booking_outbox import OnceMailOutbox
    from chalicelib.store.booking_repo import DynamoBookingStore
    from chalicelib.store.reminders_repo import DynamoReminderStore

    return BookingMailDeps(
        store=DynamoBookingStore(),
        accounts=account_deps().store,
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        reminders=DynamoReminderStore(),
        manage_url=booking_manage_url,
        clock=clock(),
    )


def booking_sync_deps() -> SyncDeps:
    """The booking job's deps: the hosts' calendars (`host_calendars`, none while this
    deployment cannot connect any) and Zoom (`zoom_meetings`, when its app is configured)."""
    import sys

    from chalicelib.booking.sync import NoCalendars, SyncDeps
    from chalicelib.booking.timeline import InboxTickets, TicketContacts
    from chalicelib.store.tickets_repo import DynamoTicketStore

    here = sys.modules[__name__]
    calendars_factory = getattr(here, "host_calendars", None)
    zoom_factory = getattr(here, "zoom_meetings", None)
    tickets = ticket_deps()
    return SyncDeps(
        mails=booking_mail_deps(),
        calendars=calendars_factory() if calendars_factory is not None else NoCalendars(),
        contacts=TicketContacts(tickets, DynamoTicketStore()),
        tickets=InboxTickets(tickets),
        meetings=(
            zoom_factory() if zoom_factory is not None and get_settings().zoom_account_id else None
        ),
    )


# -- calendar connections (chalicelib/booking/calendars.py) ----------------------------------

if TYPE_CHECKING:
    from chalicelib.booking.calendars import AccessTokens, CalendarDeps, TokenSealer
    from chalicelib.booking.ports import BusyTimes, CalendarProvider, HostCalendars


@lru_cache(maxsize=1)
def _kms_client() -> object:
    import boto3

    from chalicelib.store.aws_outage import client_config

    return boto3.client("kms", region_name=get_settings().region, config=client_config())


@lru_cache(maxsize=1)
def token_vault() -> TokenSealer:
    """Seals calendar refresh tokens with the calendar-tokens KMS key (envelope encryption)."""
    from chalicelib.store.token_vault import KmsTokenVault

    return KmsTokenVault(_kms_client, get_settings().calendar_tokens_key)


def _calendar_providers() -> dict[str, CalendarProvider]:
    """The calendar providers this deployment has an OAuth app for (a client id)."""
    import sys

    here = sys.modules[__name__]
    settings = get_settings()
    configured = {"google": settings.google_client_id, "microsoft": settings.ms_client_id}
    found: dict[str, CalendarProvider] = {}
    for name, client_id in configured.items():
        factory = getattr(here, f"{name}_calendar", None)
        if client_id and factory is not None:
            found[name] = factory()
    return found


@lru_cache(maxsize=1)
def _access_tokens() -> AccessTokens:
    """Calendar access tokens kept in this container's memory until they expire."""
    from chalicelib.booking.calendars import AccessTokens

    return AccessTokens()


def calendar_deps() -> CalendarDeps:
    """Calendar connections' services (built from the cached adapters: cheap)."""
    from chalicelib.booking.calendars import CalendarDeps, CalendarPolicy
    from chalicelib.store.calendar_repo import DynamoCalendarStore

    settings = get_settings()

    def host_time_zone(workspace_id: str, user_id: str) -> str | None:
        """The host's schedule's zone, else their workspace's (None: UTC)."""
        try:
            from chalicelib.store.booking_repo import DynamoBookingStore

            schedule = DynamoBookingStore().get_schedules(workspace_id, [user_id]).get(user_id)
        except ImportError:
            schedule = None
        if schedule is not None:
            return schedule.time_zone
        workspace = account_deps().store.get_workspace(workspace_id)
        return workspace.timezone if workspace is not None else None

    return CalendarDeps(
        store=DynamoCalendarStore(),
        vault=token_vault(),
        providers=_calendar_providers(),
        clock=clock(),
        policy=CalendarPolicy(
            public_base_url=settings.public_base_url,
            app_base_url=settings.app_base_url,
            channel_secret=lambda: get_settings().reply_address_secret,
        ),
        host_time_zone=host_time_zone,
        tokens=_access_tokens(),
    )


def busy_times() -> BusyTimes:
    """Members' busy times from their connected calendars (`ports.BusyTimes`)."""
    from chalicelib.booking.calendars import ConnectedCalendars

    return ConnectedCalendars(calendar_deps())


def host_calendars() -> HostCalendars:
    """Bookings written on hosts' calendars (`ports.HostCalendars`)."""
    from chalicelib.booking.calendars import ConnectedCalendars

    return ConnectedCalendars(calendar_deps())


# -- calendar and meeting providers (chalicelib/providers/google_calendar.py,
# microsoft_graph.py, zoom.py; local stand-ins in fakes/) -----------------------------------

if TYPE_CHECKING:
    from chalicelib.booking.ports import MeetingProvider


@lru_cache(maxsize=1)
def google_calendar() -> CalendarProvider:
    """Google Calendar for the deployment's OAuth client; its secret is read at each token
    call (rotation needs no restart)."""
    from chalicelib.providers.google_calendar import GoogleCalendar

    settings = get_settings()
    return GoogleCalendar(
        api_base=settings.google_api_base,
        oauth_base=settings.google_oauth_base,
        accounts_base=settings.google_accounts_base,
        client_id=settings.google_client_id,
        client_secret=lambda: get_settings().google_client_secret,
    )


@lru_cache(maxsize=1)
def microsoft_calendar() -> CalendarProvider:
    """Microsoft 365 calendars (Graph) for the deployment's app registration; its secret is
    read at each token call."""
    from chalicelib.providers.microsoft_graph import MicrosoftCalendar

    settings = get_settings()
    return MicrosoftCalendar(
        graph_base=settings.ms_graph_base,
        login_base=settings.ms_login_base,
        tenant=settings.ms_tenant,
        client_id=settings.ms_client_id,
        client_secret=lambda: get_settings().ms_client_secret,
    )


@lru_cache(maxsize=1)
def zoom_meetings() -> MeetingProvider:
    """Zoom meetings for the deployment's Server-to-Server OAuth app (its token is kept in
    this container's memory until a minute before it expires)."""
    from chalicelib.providers.zoom import ZoomMeetings

    settings = get_settings()
    return ZoomMeetings(
        api_base=settings.zoom_api_base,
        oauth_base=settings.zoom_oauth_base,
        account_id=settings.zoom_account_id,
        client_id=lambda: get_settings().zoom_client_id,
        client_secret=lambda: get_settings().zoom_client_secret,
    )


# -- billing (chalicelib/billing/; docs/decisions/0030-billing.md) -----------------------------


@lru_cache(maxsize=1)
def stripe_billing() -> StripeGateway:
    """Stripe for the deployment's account; its keys are read at each use (rotation needs no
    restart) and the SDK is imported on the first call, never by `import app`."""
    from chalicelib.providers.stripe_billing import StripeBilling

    return StripeBilling(
        api_base=get_settings().stripe_api_base,
        secret_key=lambda: get_settings().stripe_secret_key,
        webhook_secret=lambda: get_settings().stripe_webhook_secret,
    )


@lru_cache(maxsize=1)
def tappay() -> TapPayGateway | None:
    """TapPay for backup cards (None while the deployment has no merchant id)."""
    from chalicelib.providers.tappay import TapPay

    settings = get_settings()
    if not settings.tappay_merchant_id:
        return None
    return TapPay(
        api_base=settings.tappay_api_base,
        partner_key=lambda: get_settings().tappay_partner_key,
        merchant_id=settings.tappay_merchant_id,
    )


@lru_cache(maxsize=1)
def paypal() -> PayPalGateway | None:
    """PayPal subscriptions (None while the deployment has no PayPal app)."""
    from chalicelib.providers.paypal import PayPal

    settings = get_settings()
    if not settings.paypal_client_id:
        return None
    return PayPal(
        api_base=settings.paypal_api_base,
        client_id=settings.paypal_client_id,
        client_secret=lambda: get_settings().paypal_client_secret,
        webhook_id=settings.paypal_webhook_id,
    )


@lru_cache(maxsize=1)
def billing_events() -> SqsBillingEvents:
    from chalicelib.store.billing_events_queue import SqsBillingEvents
    from chalicelib.store.queues import SqsQueue

    return SqsBillingEvents(SqsQueue(sqs_client, get_settings().queues.billing_events))


@lru_cache(maxsize=1)
def billing_store() -> BillingStore:
    from chalicelib.store.billing_repo import DynamoBillingStore
    from chalicelib.store.secret_box import TwoFactorSecretBox

    # The backup card's TapPay token pair, sealed with its own key (read at each use).
    return DynamoBillingStore(secret_box=TwoFactorSecretBox(card_token_keys), clock=clock())


def card_token_keys() -> tuple[str, str]:
    """The key that seals backup cards' TapPay tokens (no previous key: none rotated yet)."""
    from chalicelib.secret_store import SECRETS_BY_FIELD

    return get_settings().secrets.get(SECRETS_BY_FIELD["card_token_key"]), ""


def billing_deps() -> BillingDeps:
    """What billing needs (built from the cached adapters: cheap)."""
    from chalicelib.billing.deps import BillingDeps, BillingUrls
    from chalicelib.store.booking_outbox import OnceMailOutbox

    settings = get_settings()
    return BillingDeps(
        store=billing_store(),
        stripe=stripe_billing(),
        tappay=tappay(),
        paypal=paypal(),
        events=billing_events(),
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        accounts=account_deps().store,
        clock=clock(),
        urls=BillingUrls(
            app_base_url=settings.app_base_url, public_base_url=settings.public_base_url
        ),
    )


_BILLING_FACTORIES = (stripe_billing, tappay, paypal, billing_events, billing_store)


if TYPE_CHECKING:
    from chalicelib.billing.deps import BillingDeps
    from chalicelib.billing.ports import BillingStore, PayPalGateway, StripeGateway, TapPayGateway
    from chalicelib.store.billing_events_queue import SqsBillingEvents


# -- privacy (chalicelib/privacy/) -------------------------------------------------------------

# The privacy factories below add themselves here (`_PRIVACY_FACTORIES.append(f)`): reset()
# clears them with the others.
_PRIVACY_FACTORIES: list[Any] = []


# -- privacy: the sub-processor registry (chalicelib/privacy/registry.py) --------------------


@lru_cache(maxsize=1)
def subprocessor_changes() -> SubprocessorChanges:
    from chalicelib.store.subprocessor_changes_repo import DynamoSubprocessorChanges

    return DynamoSubprocessorChanges()


_PRIVACY_FACTORIES.append(subprocessor_changes)


if TYPE_CHECKING:
    from chalicelib.privacy.ports import SubprocessorChanges


# -- privacy: sub-processor change notices (chalicelib/privacy/notices.py, subscriptions.py) --


@lru_cache(maxsize=1)
def notice_subscribers() -> NoticeSubscribers:
    from chalicelib.store.notice_subscribers_repo import DynamoNoticeSubscribers

    return DynamoNoticeSubscribers(clock())


def notice_links() -> NoticeLinks:
    """The notices' links; their tokens are keyed from the reply-address secret (read at use)."""
    from chalicelib.privacy.notice_links import NoticeLinks

    settings = get_settings()
    return NoticeLinks(
        public_base_url=settings.public_base_url,
        app_base_url=settings.app_base_url,
        secret=lambda: get_settings().reply_address_secret,
    )


def subscription_deps() -> SubscriptionDeps:
    """What subscribing to the notices needs (built from the cached adapters: cheap)."""
    from chalicelib.privacy.subscriptions import SubscriptionDeps
    from chalicelib.store.booking_outbox import OnceMailOutbox
    from chalicelib.store.notice_subscribers_repo import DynamoNoticeRequestLimits

    return SubscriptionDeps(
        subscribers=notice_subscribers(),
        limits=DynamoNoticeRequestLimits(),
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        links=notice_links(),
        clock=clock(),
    )


def notice_deps() -> NoticeDeps:
    """What the notice job needs (built from the cached adapters: cheap)."""
    from chalicelib.privacy.notices import NoticeDeps
    from chalicelib.store.booking_outbox import OnceMailOutbox
    from chalicelib.store.subprocessor_notices_repo import DynamoNoticeRecords
    from chalicelib.store.workspace_admins_repo import DynamoWorkspaceAdmins

    return NoticeDeps(
        changes=subprocessor_changes(),
        admins=DynamoWorkspaceAdmins(),
        subscribers=notice_subscribers(),
        records=DynamoNoticeRecords(),
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        links=notice_links(),
        clock=clock(),
    )


_PRIVACY_FACTORIES.append(notice_subscribers)


if TYPE_CHECKING:
    from chalicelib.privacy.notice_links import NoticeLinks
    from chalicelib.privacy.notice_ports import NoticeSubscribers
    from chalicelib.privacy.notices import NoticeDeps
    from chalicelib.privacy.subscriptions import SubscriptionDeps


# -- privacy: objections to sub-processor changes (chalicelib/privacy/objections.py) ---------


@lru_cache(maxsize=1)
def objection_store() -> Objections:
    from chalicelib.store.objections_repo import DynamoObjections

    return DynamoObjections()


_PRIVACY_FACTORIES.append(objection_store)


def objection_deps() -> ObjectionDeps:
    """What objections need (built from the cached adapters: cheap)."""
    from chalicelib.privacy.billing_termination import BillingTermination
    from chalicelib.privacy.objections import ObjectionDeps
    from chalicelib.store.booking_outbox import OnceMailOutbox

    return ObjectionDeps(
        changes=subprocessor_changes(),
        objections=objection_store(),
        subscriptions=BillingTermination(lambda: billing_deps()),
        accounts=account_deps().store,
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        clock=clock(),
        privacy_screen=f"{get_settings().app_base_url.rstrip('/')}/#/settings/privacy",
    )


if TYPE_CHECKING:
    from chalicelib.privacy.objections import ObjectionDeps, Objections


# -- privacy: data-subject exports (chalicelib/privacy/exports.py) ---------------------------


@lru_cache(maxsize=1)
def privacy_exports() -> Exports:
    from chalicelib.store.privacy_export_repo import DynamoExports

    return DynamoExports()


@lru_cache(maxsize=1)
def contact_data() -> ContactData:
    """Where a contact's data lives (chalicelib/privacy/contact_data.py), over the stores."""
    from chalicelib.privacy.contact_data import ContactData
    from chalicelib.store.privacy_export_repo import DynamoContactData

    inventory = DynamoContactData(blob_store())
    return ContactData(
        contacts=inventory,
        tickets=inventory,
        bookings=inventory,
        ai_results=inventory,
        files=inventory,
        feedback=inventory,
    )


@lru_cache(maxsize=1)
def privacy_jobs() -> ExportJobs:
    from chalicelib.store.privacy_export_repo import SqsExportJobs
    from chalicelib.store.queues import SqsQueue

    return SqsExportJobs(SqsQueue(sqs_client, get_settings().queues.privacy_jobs))


_PRIVACY_FACTORIES.extend((privacy_exports, contact_data, privacy_jobs))


def export_deps() -> ExportDeps:
    """What data-subject exports need (built from the cached adapters: cheap)."""
    from chalicelib.privacy.exports import ExportDeps
    from chalicelib.store.privacy_export_repo import S3ExportFiles

    return ExportDeps(
        data=contact_data(),
        exports=privacy_exports(),
        jobs=privacy_jobs(),
        files=S3ExportFiles(s3_client, get_settings().content_bucket, blob_store()),
        clock=clock(),
    )


if TYPE_CHECKING:
    from chalicelib.privacy.contact_data import ContactData
    from chalicelib.privacy.exports import ExportDeps, ExportJobs, Exports


# -- privacy: data-subject erasures (chalicelib/privacy/erasure.py) --------------------------


@lru_cache(maxsize=1)
def privacy_erasures() -> Erasures:
    from chalicelib.store.privacy_erasure_repo import DynamoErasures

    return DynamoErasures()


@lru_cache(maxsize=1)
def erasure_jobs() -> ErasureJobs:
    from chalicelib.store.privacy_erasure_repo import SqsErasureJobs
    from chalicelib.store.queues import SqsQueue

    return SqsErasureJobs(SqsQueue(sqs_client, get_settings().queues.privacy_jobs))


@lru_cache(maxsize=1)
def erasure_phases() -> tuple[ErasurePhase, ...]:
    """One adapter per class of data, in the order of `erasure.PHASES`."""
    from chalicelib.store.erasure_other import (
        BookingsErasure,
        ContactErasure,
        ExportsErasure,
        MailErasure,
        QueuesErasure,
    )
    from chalicelib.store.erasure_tickets import MentionsErasure, TicketsErasure
    from chalicelib.store.ticket_removal import DynamoTicketRemoval

    blobs = blob_store()
    return (
        TicketsErasure(DynamoTicketRemoval(blobs)),
        MentionsErasure(blobs),
        BookingsErasure(clock()),
        MailErasure(blobs, clock()),
        ExportsErasure(blobs, clock()),
        QueuesErasure(sqs_client),
        ContactErasure(),
    )


_PRIVACY_FACTORIES.extend((privacy_erasures, erasure_jobs, erasure_phases))


def erasure_deps() -> ErasureDeps:
    """What data-subject erasures need (built from the cached adapters: cheap)."""
    from chalicelib.privacy.erasure import ErasureDeps
    from chalicelib.store.privacy_erasure_repo import DynamoContactFinder

    return ErasureDeps(
        erasures=privacy_erasures(),
        jobs=erasure_jobs(),
        contacts=DynamoContactFinder(),
        phases=erasure_phases(),
        clock=clock(),
    )


if TYPE_CHECKING:
    from chalicelib.privacy.erasure import ErasureDeps, ErasureJobs, ErasurePhase, Erasures


# -- privacy: retention of closed tickets and workspace deletion (chalicelib/privacy/
#    retention.py, workspace_deletion.py) ----------------------------------------------------


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    """The low-level DynamoDB client, for work on whole partitions whatever their item types
    (a workspace's deletion: chalicelib/store/table_partitions.py)."""
    import boto3

    from chalicelib.store.aws_outage import client_config

    return boto3.client("dynamodb", region_name=get_settings().region, config=client_config())


def ticket_remover() -> TicketRemover:
    """The product's one removal of a ticket whole (chalicelib/store/ticket_removal.py)."""
    from chalicelib.store.ticket_removal import DynamoTicketRemoval

    return DynamoTicketRemoval(blob_store(), clock().now)


@lru_cache(maxsize=1)
def retention_policies() -> RetentionPolicies:
    from chalicelib.store.retention_repo import DynamoRetentionPolicies

    return DynamoRetentionPolicies()


_PRIVACY_FACTORIES.extend((dynamodb_client, retention_policies))


def retention_deps() -> RetentionDeps:
    """What retention needs (built from the cached adapters: cheap)."""
    from chalicelib.privacy.retention import RetentionDeps
    from chalicelib.store.retention_repo import DynamoClosedTickets

    return RetentionDeps(
        policies=retention_policies(),
        tickets=DynamoClosedTickets(),
        remover=ticket_remover(),
        clock=clock(),
    )


def workspace_deletion_deps() -> DeletionDeps:
    """What a workspace's deletion needs: its record, the members' mail and every phase that
    removes a family of its data (built from the cached adapters: cheap)."""
    from chalicelib.privacy.workspace_deletion import DeletionDeps
    from chalicelib.store.booking_outbox import OnceMailOutbox
    from chalicelib.store.queues import SqsQueue
    from chalicelib.store.table_partitions import BucketPrefixes, TablePartitions
    from chalicelib.store.workspace_access_purge import (
        BillingPurge,
        CalendarsPurge,
        DoorsPurge,
        HostnameRelease,
        MembersPurge,
    )
    from chalicelib.store.workspace_content_purge import (
        ArticlesPurge,
        BookingsPurge,
        ContactsPurge,
        FilesPurge,
        LivePurge,
        PeoplePurge,
        TicketsPurge,
        WorkspaceLeftovers,
        WorkspacePartitionPurge,
    )
    from chalicelib.store.workspace_deletion_repo import (
        DynamoWorkspaceDeletions,
        SqsMembersMailJobs,
    )

    settings = get_settings()
    table = TablePartitions(dynamodb_client, settings.table_name)
    bucket = BucketPrefixes(s3_client, settings.content_bucket)
    now = clock().now
    phases = (
        BillingPurge(billing_deps),
        DoorsPurge(table, HostnameRelease(table, custom_hostname_deps, now)),
        MembersPurge(table),
        TicketsPurge(table, ticket_remover()),
        ArticlesPurge(table),
        BookingsPurge(table, now),
        ContactsPurge(table),
        CalendarsPurge(table, calendar_deps),
        LivePurge(table),
        PeoplePurge(table),
        FilesPurge(table, bucket),
        WorkspacePartitionPurge(table),
    )
    return DeletionDeps(
        deletions=DynamoWorkspaceDeletions(),
        accounts=account_deps().store,
        mail=OnceMailOutbox(mail_log(), mail_outbox()),
        members_mail=SqsMembersMailJobs(SqsQueue(sqs_client, settings.queues.privacy_jobs)),
        phases=phases,
        leftovers=WorkspaceLeftovers(table, bucket),
        clock=clock(),
        settings_link=f"{settings.app_base_url.rstrip('/')}/#/settings",
    )


if TYPE_CHECKING:
    from chalicelib.privacy.retention import RetentionDeps, RetentionPolicies, TicketRemover
    from chalicelib.privacy.workspace_deletion import DeletionDeps
