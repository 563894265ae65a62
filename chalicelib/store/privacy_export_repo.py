"""Data-subject exports in DynamoDB, S3 and SQS: the inventory of a contact's data over the
existing stores (implements the ports of chalicelib/privacy/contact_data.py), the export
requests (`Exports`), their bundles in the content bucket and the `privacy-jobs` queue.

| item            | PK        | SK                          | written                        |
|-----------------|-----------|-----------------------------|--------------------------------|
| an export       | `WS#<ws>` | `privacy#export#<export id>`| once, then its progress and    |
|                 |           |                             | outcome by the job (PutItem)   |

A workspace's exports are one Query of `privacy#export#`, newest first (ids are ULIDs).
The inventory reads only by GetItem, BatchGetItem and Query with a limit (never a Scan):
see the table in chalicelib/privacy/contact_data.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.accounts.model import Page
from chalicelib.ai.model import AiResult
from chalicelib.booking.model import Booking
from chalicelib.booking.store_port import BookingFilter
from chalicelib.privacy.contact_data import ArticleVotes
from chalicelib.privacy.export_bundle import Progress
from chalicelib.privacy.exports import Export, ExportScope, ExportStatus
from chalicelib.store import keys
from chalicelib.store.ai_repo import RESULT_PREFIX, AiResultItem, _result
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.booking_repo import DynamoBookingStore
from chalicelib.store.contacts_repo import DynamoContactDirectory
from chalicelib.store.models import Item
from chalicelib.store.queues import SqsQueue
from chalicelib.store.tickets_repo import DynamoTicketStore
from chalicelib.tickets.model import Activity, Contact, Message, Ticket, TicketFilter

EXPORT_PREFIX = "privacy#export#"


def export_sk(export_id: str) -> str:
    return f"{EXPORT_PREFIX}{export_id}"


# -- the inventory ----------------------------------------------------------------------


class DynamoContactData:
    """Every port of `ContactData` over the stores that own each class of data."""

    def __init__(self, blobs: S3BlobStore) -> None:
        self._tickets = DynamoTicketStore()
        self._directory = DynamoContactDirectory()
        self._bookings = DynamoBookingStore()
        self._blobs = blobs

    def contact_by_email(self, workspace_id: str, email: str) -> Contact | None:
        return self._tickets.find_contact_by_email(workspace_id, email)

    def contacts(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Contact]:
        page = self._directory.list_contacts(workspace_id, cursor, limit)
        return Page(page.contacts, page.next_cursor)

    def tickets_of_contact(
        self, workspace_id: str, contact_id: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        page = self._tickets.list_tickets(
            workspace_id, TicketFilter(requester_id=contact_id), cursor, limit
        )
        return Page(page.tickets, page.next_cursor)

    def tickets(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Ticket]:
        page = self._tickets.list_tickets(workspace_id, TicketFilter(), cursor, limit)
        return Page(page.tickets, page.next_cursor)

    def tickets_naming(
        self, workspace_id: str, address: str, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """One Query of the address's postings (≤ 5 of its words' for a long address), one
        BatchGetItem of the tickets."""
        from chalicelib.store.search_repo import DynamoSearchIndex
        from chalicelib.tickets.search import tickets_naming

        page = tickets_naming(DynamoSearchIndex(), workspace_id, address, cursor, limit)
        ids, next_cursor = page.ticket_ids, page.next_cursor
        return Page(self._tickets.get_tickets(workspace_id, ids), next_cursor)

    def messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        return self._tickets.list_messages(workspace_id, ticket_id, limit)

    def activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]:
        return self._tickets.list_activity(workspace_id, ticket_id, limit)

    def bookings_of_contact(self, workspace_id: str, contact_id: str, limit: int) -> list[Booking]:
        return self._bookings.bookings_of_contact(workspace_id, contact_id, limit)

    def bookings(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Booking]:
        return self._bookings.list_bookings(workspace_id, BookingFilter(), cursor, limit)

    def results_of_ticket(self, workspace_id: str, ticket_id: str, limit: int) -> list[AiResult]:
        return [
            _result(item)
            for item in AiResultItem.query(
                keys.ticket_pk(workspace_id, ticket_id),
                AiResultItem.sk.startswith(RESULT_PREFIX),
                limit=limit,
            )
            if isinstance(item, AiResultItem)
        ]

    def read(self, key: str) -> bytes | None:
        return self._blobs.get_if_exists(key)

    def article_votes(
        self, workspace_id: str, cursor: str | None, limit: int
    ) -> Page[ArticleVotes]:
        from chalicelib.store.helpcentre_repo import DynamoHelpCentreStore
        from chalicelib.store.kb_repo import DynamoKnowledgeBaseStore

        page = DynamoKnowledgeBaseStore().list_articles(
            workspace_id, None, None, None, cursor, limit
        )
        counters = DynamoHelpCentreStore()
        votes = []
        for article in page.articles:
            helpful, not_helpful = counters.feedback(workspace_id, article.id)
            votes.append(
                ArticleVotes(article.id, article.locale, article.title, helpful, not_helpful)
            )
        return Page(votes, page.next_cursor)


# -- the export requests ----------------------------------------------------------------


class ExportItem(Item, discriminator="privacy_export"):
    """PK=WS#<ws>, SK=privacy#export#<id>."""

    export_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    scope = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    contact_email = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    progress = UnicodeAttribute(default="{}")  # JSON
    counts = UnicodeAttribute(default="{}")  # JSON
    attempts = NumberAttribute(default=0)
    object_key = UnicodeAttribute(null=True)
    built_at = UTCDateTimeAttribute(null=True)
    # Not the table's TTL attribute (`expires_at`): the request stays in the log.
    bundle_expires_at = UTCDateTimeAttribute(null=True)
    failure = UnicodeAttribute(null=True)


def _item(export: Export) -> ExportItem:
    progress = export.progress
    return ExportItem(
        keys.workspace_pk(export.workspace_id),
        export_sk(export.id),
        export_id=export.id,
        workspace_id=export.workspace_id,
        scope=export.scope.value,
        requested_by=export.requested_by,
        requested_at=export.requested_at,
        contact_email=export.contact_email,
        contact_id=export.contact_id,
        status=export.status.value,
        progress=json.dumps(
            {"phase": progress.phase, "tickets": progress.tickets, "files": progress.files}
        ),
        counts=json.dumps(export.counts, sort_keys=True),
        attempts=export.attempts,
        object_key=export.object_key,
        built_at=export.built_at,
        bundle_expires_at=export.expires_at,
        failure=export.failure,
    )


def _export(item: ExportItem) -> Export:
    progress: dict[str, Any] = json.loads(item.progress or "{}")
    return Export(
        id=item.export_id,
        workspace_id=item.workspace_id,
        scope=ExportScope(item.scope),
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        contact_email=item.contact_email,
        contact_id=item.contact_id,
        status=ExportStatus(item.status),
        progress=Progress(
            phase=str(progress.get("phase", "queued")),
            tickets=int(progress.get("tickets", 0)),
            files=int(progress.get("files", 0)),
        ),
        counts={str(k): int(v) for k, v in json.loads(item.counts or "{}").items()},
        attempts=int(item.attempts or 0),
        object_key=item.object_key,
        built_at=item.built_at,
        expires_at=item.bundle_expires_at,
        failure=item.failure,
    )


class DynamoExports:
    def add(self, export: Export) -> None:
        _item(export).save(condition=Item.pk.does_not_exist())

    def save(self, export: Export) -> None:
        _item(export).save()

    def get(self, workspace_id: str, export_id: str) -> Export | None:
        try:
            item = ExportItem.get(
                keys.workspace_pk(workspace_id), export_sk(export_id), consistent_read=True
            )
        except ExportItem.DoesNotExist:
            return None
        return _export(item)

    def newest(self, workspace_id: str, limit: int) -> list[Export]:
        return [
            _export(item)
            for item in ExportItem.query(
                keys.workspace_pk(workspace_id),
                ExportItem.sk.startswith(EXPORT_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
            if isinstance(item, ExportItem)
        ]


# -- the bundles and the queue ------------------------------------------------------------


class S3ExportFiles:
    """`client` builds the S3 client on first use."""

    def __init__(self, client: Callable[[], Any], bucket: str, blobs: S3BlobStore) -> None:
        self._client = client
        self._bucket = bucket
        self._blobs = blobs

    def store(self, key: str, bundle: IO[bytes]) -> None:
        self._client().upload_fileobj(
            bundle,
            self._bucket,
            key,
            ExtraArgs={"ContentType": "application/zip", "ServerSideEncryption": "AES256"},
        )

    def link(self, key: str, filename: str, expires_seconds: int) -> str:
        return self._blobs.download_url(key, filename, expires_seconds)


class SqsExportJobs:
    def __init__(self, queue: SqsQueue) -> None:
        self._queue = queue

    def send(self, workspace_id: str, export_id: str) -> None:
        self._queue.send(json.dumps({"workspace_id": workspace_id, "export_id": export_id}))


def job_from_json(body: str) -> tuple[str, str]:
    """(workspace id, export id) of a `privacy-jobs` message."""
    job = json.loads(body)
    return str(job["workspace_id"]), str(job["export_id"])
