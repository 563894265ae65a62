"""Events worker: keeps the ticket search index current from ticket events, queues AI triage
for new tickets and customer messages (workspaces with AI on), and updates a workspace's
knowledge-base index with the articles that changed: once per workspace and batch, however
many of its article events the batch holds; writes the notifications agents are told of
ticket events (chalicelib/workers/notifications.py); and finishes a ticket merge cut short when its
delayed merge check arrives.

Idempotent (postings are plain puts; an index update of articles it already holds writes
nothing; a merge check of a finished merge does nothing); a failure is retried by the queue
and dead-lettered."""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.workers.batches import each_record
from chalicelib.workers.notifications import notify

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

search_indexer_bp = Blueprint(__name__)
KB_EVENTS = (
    "article.published",
    "article.unpublished",
    "article.deleted",
    "ai.settings_changed",
    "kb.index_outdated",  # a search met an index of an older format: rebuild it whole
)
INDEXED_EVENTS = (
    "ticket.created",
    "ticket.updated",
    "message.received",
    "message.sent",
    "note.added",
)
TRIAGED_EVENTS = ("ticket.created", "message.received")


class KbChanges:
    """The knowledge-base events of one batch, by workspace: the articles they name (None:
    every article, after `ai.settings_changed`). Each workspace's index is updated once, when
    its first record is handled; its other records share that outcome (a failure fails them
    all, and the queue retries them)."""

    def __init__(self, bodies: list[str]) -> None:
        self._articles: dict[str, set[str] | None] = {}
        self._outcome: dict[str, Exception | None] = {}
        for body in bodies:
            try:
                event = json.loads(body)
                kind, workspace_id = event.get("type"), event.get("workspace_id")
            except (ValueError, AttributeError):
                continue  # its own record fails when handled
            if kind not in KB_EVENTS or not isinstance(workspace_id, str):
                continue
            named = self._articles.setdefault(workspace_id, set())
            article_id = event.get("article_id")
            if kind == "ai.settings_changed" or not isinstance(article_id, str):
                self._articles[workspace_id] = None
            elif named is not None:
                named.add(article_id)

    def apply(self, workspace_id: str, update: Callable[[str, set[str] | None], None]) -> None:
        if workspace_id not in self._outcome:
            try:
                update(workspace_id, self._articles.get(workspace_id))
            except Exception as failure:
                self._outcome[workspace_id] = failure
                raise
            self._outcome[workspace_id] = None
        elif (earlier := self._outcome[workspace_id]) is not None:
            raise earlier


def _index_one(kb_changes: KbChanges, record: SQSRecord) -> None:
    from chalicelib.tickets.merging import MERGE_CHECK
    from chalicelib.tickets.search import index_ticket

    event = json.loads(record.body)
    if event.get("type") == MERGE_CHECK:
        logger.append_keys(correlation_id=record.message_id, workspace_id=event["workspace_id"])
        _check_merge(event["workspace_id"], event["ticket_id"])
        return
    if event.get("type") in KB_EVENTS:
        kb_changes.apply(event["workspace_id"], _update_kb_index)
        return
    if event.get("type") == "chat.reply_unseen":
        logger.append_keys(correlation_id=record.message_id, workspace_id=event["workspace_id"])
        _mail_unseen_chat_reply(event["workspace_id"], event["ticket_id"], event["message_id"])
        return
    if event.get("type") not in INDEXED_EVENTS:
        return
    workspace_id, ticket_id = event["workspace_id"], event["ticket_id"]
    logger.append_keys(correlation_id=record.message_id, workspace_id=workspace_id)
    _tell_live_listeners(event)
    notify(event)  # this queue's one consumer: the notifications it brings (idempotent)
    if event["type"] in TRIAGED_EVENTS:
        _queue_triage(workspace_id, ticket_id)
    deps = bootstrap.ticket_deps()
    ticket = deps.store.get_ticket(workspace_id, ticket_id)
    if ticket is None:
        return
    if event.get("message_id"):  # one GetItem
        message = deps.store.get_message(workspace_id, ticket_id, event["message_id"])
        messages = [message] if message else []
    elif event["type"] == "ticket.updated":
        messages = []  # subject, requester and tags only
    else:
        messages = deps.store.list_messages(workspace_id, ticket_id, 500)
    index_ticket(bootstrap.search_index(), ticket, messages)


def _tell_live_listeners(event: dict[str, object]) -> None:
    """`ticket.changed` to the workspace's inbox and `conversation.moved` to the ticket's
    listeners over the WebSocket API (best effort, nothing without one)."""
    from chalicelib.live.pushes import tell_ticket_event

    tell_ticket_event(bootstrap.live_push(), event)


def _mail_unseen_chat_reply(workspace_id: str, ticket_id: str, message_id: str) -> None:
    """A chat reply the visitor did not see a minute on: mailed when an address is known."""
    from chalicelib.chat.reply_mail import mail_unseen_reply

    mail_unseen_reply(bootstrap.chat_deps(), workspace_id, ticket_id, message_id)


def _check_merge(workspace_id: str, source_id: str) -> None:
    """Finishes the source's merge if it was cut short; nothing if it finished or never began."""
    from chalicelib.tickets.merging import check_merge

    if check_merge(bootstrap.ticket_deps(), workspace_id, source_id):
        logger.info("merge cut short finished", extra={"ticket_id": source_id})


def _queue_triage(workspace_id: str, ticket_id: str) -> None:
    """AI triage for workspaces that turned it on (one GetItem for those that did not)."""
    from chalicelib.ai.ticket_events import on_ticket_event

    if on_ticket_event(bootstrap.ai_deps(), workspace_id, ticket_id, bootstrap.clock().now()):
        logger.info("AI triage queued", extra={"ticket_id": ticket_id})


def _update_kb_index(workspace_id: str, article_ids: set[str] | None) -> None:
    """The workspace's knowledge-base index, with these articles (None: all) as they are now."""
    from chalicelib.kb.indexing import update_index

    manifest = update_index(
        bootstrap.kb_deps(),
        bootstrap.kb_index_store(),
        workspace_id,
        bootstrap.kb_embedder_for(workspace_id),
        article_ids,
    )
    logger.info(
        "knowledge-base index updated",
        extra={"workspace_id": workspace_id, "version": manifest.version},
    )


@search_indexer_bp.on_sqs_message(
    queue=get_settings().queues.events, batch_size=10, name="search_indexer"
)
def search_indexer(event: SQSEvent) -> PartialItemFailureResponse:
    kb_changes = KbChanges([record.body for record in event])
    return each_record(event, partial(_index_one, kb_changes))
