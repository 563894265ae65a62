"""Events worker: keeps the ticket search index current from ticket events, queues AI triage
for new tickets and customer messages (workspaces with AI on), and rebuilds a workspace's
knowledge-base index when its articles change.

Idempotent (postings are plain puts); a failure is retried by the queue and dead-lettered."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.workers.batches import each_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

search_indexer_bp = Blueprint(__name__)
KB_EVENTS = ("article.published", "article.unpublished", "article.deleted", "ai.settings_changed")
INDEXED_EVENTS = (
    "ticket.created",
    "ticket.updated",
    "message.received",
    "message.sent",
    "note.added",
)
TRIAGED_EVENTS = ("ticket.created", "message.received")


def _index_one(record: SQSRecord) -> None:
    from chalicelib.tickets.search import index_ticket

    event = json.loads(record.body)
    if event.get("type") in KB_EVENTS:
        _rebuild_kb_index(event["workspace_id"])
        return
    if event.get("type") not in INDEXED_EVENTS:
        return
    workspace_id, ticket_id = event["workspace_id"], event["ticket_id"]
    logger.append_keys(correlation_id=record.message_id, workspace_id=workspace_id)
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


def _queue_triage(workspace_id: str, ticket_id: str) -> None:
    """AI triage for workspaces that turned it on (one GetItem for those that did not)."""
    from chalicelib.ai.ticket_events import on_ticket_event

    if on_ticket_event(bootstrap.ai_deps(), workspace_id, ticket_id, bootstrap.clock().now()):
        logger.info("AI triage queued", extra={"ticket_id": ticket_id})


def _rebuild_kb_index(workspace_id: str) -> None:
    """The whole workspace's knowledge-base index, anew."""
    from chalicelib.kb.indexing import rebuild_index

    version = rebuild_index(
        bootstrap.kb_deps(),
        bootstrap.kb_index_store(),
        workspace_id,
        bootstrap.kb_embedder_for(workspace_id),
    )
    logger.info("knowledge-base index rebuilt", extra={"version": version})


@search_indexer_bp.on_sqs_message(
    queue=get_settings().queues.events, batch_size=10, name="search_indexer"
)
def search_indexer(event: SQSEvent) -> PartialItemFailureResponse:
    return each_record(event, _index_one)
