"""Removing one ticket whole, with everything the product holds about it (data-subject
erasure, retention and workspace deletion all call `DynamoTicketRemoval.remove`).

In this order, so that a removal cut short (a crash, a timeout) and run again finishes the
job, and each run counts only what it removed itself:

1. read: the ticket (consistent), its messages, its activity and every key of its partition;
2. search postings: the terms the indexer posted for it (from the ticket, its messages and
   the subjects its activity remembers), those that exist;
3. with `copies_in_target` (a merged ticket being erased): the copies of its messages the
   merge put on its target, each with the target's message count;
4. S3: each message's attachments and raw mail, and the files agents uploaded for it and
   never used; a file a merge shares with a ticket that stays is kept (a merged ticket and
   its target hold the same messages: removing one leaves the other whole);
5. side items: the number lookup, the Message-ID lookups pointing at it, upload records,
   its merge record (an unfinished one also gives back its count on the target), unfinished
   merges into it, the records of replies mailed from it, a verified visitor's history
   entry, the unanswered-question records its chat messages made (chat insights and the
   knowledge base's content gaps), members' notifications about it (with their unread
   markers and digest copies; each member's revision and digest count kept right), and
   live connections listening to it;
6. its partition `WS#<ws>#T#<ticket>` but the ticket item: messages, activity, tag entries,
   viewers, AI results, chat state, widget message ids, incoming merges;
7. last, one transaction: the ticket (condition: the revision read in 1) with the inbox
   counts it is counted in.  A ticket that changed meanwhile (a message arrived) is read
   again and the removal goes round once more; then anything written into the partition
   while it ran is swept.

Counts use the keys of `chalicelib.privacy.erasure.COUNTED`.  What lives outside the
ticket's partition and how it is found: chalicelib/store/ticket_traces.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.store import keys
from chalicelib.store.ai_repo import RESULT_PREFIX
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.chat_repo import CLIENT_ID_PREFIX, STATE_SK
from chalicelib.store.models import (
    ActivityItem,
    AttachmentUploadItem,
    InboxCountItem,
    IncomingMergesItem,
    Item,
    MessageIdLookup,
    MessageItem,
    OutboundMailItem,
    SearchPostingItem,
    TicketItem,
    TicketMergeItem,
    TicketNumberLookup,
)
from chalicelib.store.ticket_traces import (
    AFTER_ALL,
    committed,
    condition_failed,
    delete_if,
    delete_keys,
    id_floor,
    remove_chat_history,
    remove_live_listeners,
    remove_notifications,
    remove_unanswered,
)
from chalicelib.store.tickets_repo import _message, _ticket
from chalicelib.tickets.agent_attachments import attachment_key
from chalicelib.tickets.counts import count_deltas
from chalicelib.tickets.merge_record import MergeStatus
from chalicelib.tickets.model import Activity, Channel, Message, MessageKind, Ticket
from chalicelib.tickets.search import terms_ever_posted, ticket_terms

MAX_ROUNDS = 5  # a ticket changing under the removal this often: give up (the caller retries)
# An upload no message used expires a day after it was asked for (DynamoDB's TTL can lag).
UNUSED_UPLOADS_WINDOW = timedelta(days=4)
# The acknowledgement of a new ticket is recorded in the ticket's own transaction.
ACKNOWLEDGED_WITHIN = timedelta(minutes=1)
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_FORBIDDEN = ("403", "Forbidden", "AccessDenied")


def _read(workspace_id: str, ticket_id: str) -> tuple[Ticket | None, list[Message], list[Activity]]:
    """The ticket (consistent GetItem), its messages and its activity (consistent Queries)."""
    pk = keys.ticket_pk(workspace_id, ticket_id)
    try:
        ticket = _ticket(TicketItem.get(pk, keys.TICKET_SK, consistent_read=True))
    except TicketItem.DoesNotExist:
        return None, [], []
    messages = [
        _message(item)
        for item in MessageItem.query(
            pk, MessageItem.sk.startswith(keys.MESSAGE_PREFIX), consistent_read=True
        )
        if isinstance(item, MessageItem)
    ]
    activity = [
        Activity(a.activity_id, a.ticket_id, a.actor, a.action, a.before, a.after, a.at)
        for a in ActivityItem.query(
            pk, ActivityItem.sk.startswith(keys.ACTIVITY_PREFIX), consistent_read=True
        )
        if isinstance(a, ActivityItem)
    ]
    return ticket, messages, activity


def _unpost_terms(ticket: Ticket, words: Iterable[str]) -> int:
    """Deletes the ticket's postings of `words` that exist (BatchGetItem, BatchWriteItem)."""
    ws = ticket.workspace_id
    wanted = [(keys.search_term_pk(ws, word), ticket.id) for word in words]
    existing = [(p.pk, p.sk) for p in SearchPostingItem.batch_get(wanted)]
    delete_keys(existing)
    return len(existing)


def partition_keys(pk: str, page_size: int | None = None) -> list[tuple[str, str]]:
    """Every (PK, SK) of an item collection, whatever its items (consistent Query pages of
    `page_size` items, default 1 MB)."""
    connection = Item._get_connection()
    found: list[tuple[str, str]] = []
    start: Any = None
    while True:
        answer = connection.query(
            pk,
            attributes_to_get=["PK", "SK"],
            consistent_read=True,
            exclusive_start_key=start,
            limit=page_size,
        )
        found += [(item["PK"]["S"], item["SK"]["S"]) for item in answer.get("Items", [])]
        start = answer.get("LastEvaluatedKey")
        if not start:
            return found


def delete_stored(blobs: S3BlobStore, key: str) -> int:
    """Deletes the object `key` of the content bucket: 1 if it was there (HeadObject
    first, so that a removal run again counts only what it deleted), else 0.  Without
    `s3:ListBucket` S3 answers a missing key with 403, not 404: it is deleted all the same
    (a no-op, or the permission's refusal) and counted as gone already."""
    from botocore.exceptions import ClientError

    try:
        blobs._s3.head_object(Bucket=blobs._bucket, Key=key)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if code in _NOT_FOUND:
            return 0
        if code not in _FORBIDDEN:
            raise
        blobs.delete(key)
        return 0
    blobs.delete(key)
    return 1


class DynamoTicketRemoval:
    """`remove` a ticket whole (see the module's docstring).  `blobs` is the content bucket;
    `now` tells which unused uploads may still exist."""

    def __init__(
        self, blobs: S3BlobStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._blobs = blobs
        self._now = now

    def remove(
        self,
        workspace_id: str,
        ticket_id: str,
        *,
        copies_in_target: bool = False,
        only_if: Callable[[Ticket], bool] | None = None,
    ) -> dict[str, int]:
        """Removes the ticket whole; idempotent (a ticket already gone: {}) and resumable.
        `copies_in_target`: a merged ticket's messages are also removed from the ticket it
        was merged into (the erasure of its requester); otherwise that ticket keeps them
        (retention: the target goes on with its conversation whole).  `only_if`: the ticket
        is removed only while it holds (checked on each read, and the last write is
        conditional on the revision read): retention's "still closed and idle", so a ticket
        a customer reopens while it is being removed is kept."""
        removed: Counter[str] = Counter()
        pk = keys.ticket_pk(workspace_id, ticket_id)
        for _ in range(MAX_ROUNDS):
            ticket, messages, activity = _read(workspace_id, ticket_id)
            if ticket is None or (only_if is not None and not only_if(ticket)):
                return _plain(removed)
            held = partition_keys(pk)
            removed["search_postings"] += self._unpost(ticket, messages, activity)
            if copies_in_target and ticket.merged_into:
                removed += self._remove_copies(ticket, messages)
            shared = self._shared(ticket, messages, activity, copies_in_target)
            mine = [m for m in messages if m.id not in shared]
            self._hand_over_uploads(ticket, [m for m in messages if m.id in shared])
            removed += self._remove_files(ticket, mine)
            removed += self._remove_side_items(ticket, messages, mine, held, copies_in_target)
            removed += _count_partition(held)
            delete_keys((p, s) for p, s in held if s != keys.TICKET_SK)
            if self._remove_ticket_item(ticket):
                removed["tickets"] += 1
                leftovers = [(p, s) for p, s in partition_keys(pk) if s != keys.TICKET_SK]
                removed += _count_partition(leftovers)
                delete_keys(leftovers)
                return _plain(removed)
        raise RuntimeError(f"ticket {ticket_id} kept changing while it was being removed")

    # -- search ---------------------------------------------------------------------------

    def _unpost(self, ticket: Ticket, messages: list[Message], activity: list[Activity]) -> int:
        """Deletes the ticket's postings that exist (BatchGetItem, then BatchWriteItem)."""
        return _unpost_terms(ticket, terms_ever_posted(ticket, messages, activity))

    # -- merges ---------------------------------------------------------------------------

    def _existing_messages(self, workspace_id: str, ticket_id: str, ids: list[str]) -> set[str]:
        """Which of the message ids `ticket_id`'s partition holds (BatchGetItem of keys)."""
        pk = keys.ticket_pk(workspace_id, ticket_id)
        return {
            item.sk.removeprefix(keys.MESSAGE_PREFIX)
            for item in Item.batch_get(
                [(pk, keys.message_sk(i)) for i in ids], attributes_to_get=["PK", "SK", "kind"]
            )
        }

    def _sources(self, ticket: Ticket, activity: list[Activity]) -> set[str]:
        """The tickets merged into this one (by their numbers: the ticket's list and its
        `merged_in` activity)."""
        numbers = set(ticket.merged_from)
        for entry in activity:
            if entry.action == "merged_in" and (entry.after or "").lstrip("#").isdigit():
                numbers.add(int((entry.after or "").lstrip("#")))
        ws = keys.workspace_pk(ticket.workspace_id)
        return {
            lookup.ticket_id
            for lookup in TicketNumberLookup.batch_get(
                [(ws, keys.ticket_number_sk(n)) for n in sorted(numbers)]
            )
            if lookup.ticket_id != ticket.id
        }

    def _shared(
        self,
        ticket: Ticket,
        messages: list[Message],
        activity: list[Activity],
        copies_in_target: bool,
    ) -> set[str]:
        """Messages another ticket that stays also holds (a merge's copies): their files
        and upload records are that ticket's too."""
        ids = [m.id for m in messages]
        if not ids:
            return set()
        others = self._sources(ticket, activity)
        if ticket.merged_into and not copies_in_target:
            others.add(ticket.merged_into)
        shared: set[str] = set()
        for other in sorted(others):
            shared |= self._existing_messages(ticket.workspace_id, other, ids)
        return shared

    def _remove_copies(self, ticket: Ticket, messages: list[Message]) -> Counter[str]:
        """The copies of the ticket's messages on its target, each removed in one
        transaction with the target's message count (and revision: a writer holding the
        target as it was reads it again); first the target's postings of words only the
        copies held (the target may have been indexed after the merge)."""
        removed: Counter[str] = Counter()
        target_id = ticket.merged_into or ""
        pk = keys.ticket_pk(ticket.workspace_id, target_id)
        target, on_target, target_activity = _read(ticket.workspace_id, target_id)
        ids = {m.id for m in messages}
        copies = [m for m in on_target if m.id in ids]
        if target is None or not copies:
            return removed
        kept = [m for m in on_target if m.id not in ids]
        only_copied = set(ticket_terms(target, copies)) - set(
            terms_ever_posted(target, kept, target_activity)
        )
        removed["search_postings"] += _unpost_terms(target, sorted(only_copied))
        for copy in copies:

            def build(tx: Any, message_id: str = copy.id) -> None:
                tx.delete(MessageItem(pk, keys.message_sk(message_id)), condition=Item.pk.exists())
                tx.update(
                    TicketItem(pk, keys.TICKET_SK),
                    actions=[TicketItem.message_count.add(-1), TicketItem.revision.add(1)],
                    condition=Item.pk.exists(),
                )

            if committed(build):
                removed["messages"] += 1
        return removed

    def _hand_over_uploads(self, ticket: Ticket, shared: list[Message]) -> None:
        """The upload records of files the target keeps (a merged ticket removed on its own)
        name the target from now on, so that nothing names the ticket removed."""
        if not ticket.merged_into:
            return
        ws = ticket.workspace_id
        for message in shared:
            for attachment in message.attachments:
                if attachment.s3_key != attachment_key(ws, attachment.id):
                    continue  # a mail's attachment: no record
                record = AttachmentUploadItem(keys.workspace_pk(ws), keys.upload_sk(attachment.id))
                try:
                    record.update(
                        actions=[AttachmentUploadItem.ticket_id.set(ticket.merged_into)],
                        condition=AttachmentUploadItem.ticket_id == ticket.id,
                    )
                except UpdateError as e:
                    if not condition_failed(e):
                        raise

    def _remove_merge_records(self, ticket: Ticket, held: list[tuple[str, str]]) -> None:
        ws = keys.workspace_pk(ticket.workspace_id)
        if ticket.merged_into:
            record = TicketMergeItem(ws, keys.merge_sk(ticket.id))
            target = IncomingMergesItem(
                keys.ticket_pk(ticket.workspace_id, ticket.merged_into), keys.INCOMING_MERGES_SK
            )

            def unfinished(tx: Any) -> None:
                tx.delete(record, condition=TicketMergeItem.status == MergeStatus.PENDING.value)
                tx.update(
                    target,
                    actions=[IncomingMergesItem.pending.add(-1)],
                    condition=IncomingMergesItem.pending > 0,
                )

            # An unfinished merge gives its count back: the target can be merged later.
            if not committed(unfinished):
                delete_if(record, Item.pk.exists())
        incoming = (keys.ticket_pk(ticket.workspace_id, ticket.id), keys.INCOMING_MERGES_SK)
        left = _pending_merges_into(*incoming) if incoming in held else 0
        if left == 0:
            return  # never a target, or every merge into it finished: no record to look for
        # A merge into it is unfinished (it lasts until the events worker finishes it, seconds):
        # its record is among the workspace's merge records, found by its target.  Only then
        # are they read (a filtered Query of `MERGE#`), and only until that many are found.
        for pending in TicketMergeItem.query(
            ws,
            TicketMergeItem.sk.startswith(keys.MERGE_PREFIX),
            filter_condition=(TicketMergeItem.status == MergeStatus.PENDING.value)
            & (TicketMergeItem.target_id == ticket.id),
        ):
            # Its delayed check then finds no merge to finish; the source stays, closed.
            delete_if(pending, TicketMergeItem.status == MergeStatus.PENDING.value)
            left -= 1
            if left <= 0:
                return

    # -- files ----------------------------------------------------------------------------

    def _delete_file(self, key: str) -> int:
        return delete_stored(self._blobs, key)

    def _remove_files(self, ticket: Ticket, messages: list[Message]) -> Counter[str]:
        """The messages' attachments and raw mail, and the uploads agents (or a chat's
        visitor) started on the ticket and never used, with their records."""
        removed: Counter[str] = Counter()
        ws = ticket.workspace_id
        uploads: list[tuple[str, str]] = []
        for message in messages:
            for attachment in message.attachments:
                removed["attachments"] += self._delete_file(attachment.s3_key)
                if attachment.s3_key == attachment_key(ws, attachment.id):
                    uploads.append((keys.workspace_pk(ws), keys.upload_sk(attachment.id)))
            if message.raw_s3_key:
                removed["raw_mail"] += self._delete_file(message.raw_s3_key)
        floor = id_floor(max(ticket.created_at, self._now() - UNUSED_UPLOADS_WINDOW))
        for upload in AttachmentUploadItem.query(
            keys.workspace_pk(ws),
            AttachmentUploadItem.sk.between(keys.upload_sk(floor), keys.upload_sk(AFTER_ALL)),
            # Used ones go with their message (a merge may share them with a ticket that stays).
            filter_condition=(AttachmentUploadItem.ticket_id == ticket.id)
            & AttachmentUploadItem.message_id.does_not_exist(),
        ):
            if isinstance(upload, AttachmentUploadItem):
                removed["attachments"] += self._delete_file(upload.s3_key)
                uploads.append((upload.pk, upload.sk))
        delete_keys(dict.fromkeys(uploads))
        return removed

    # -- everything beside the ticket's partition -------------------------------------------

    def _remove_side_items(
        self,
        ticket: Ticket,
        messages: list[Message],
        mine: list[Message],
        held: list[tuple[str, str]],
        copies_in_target: bool,
    ) -> Counter[str]:
        removed: Counter[str] = Counter()
        ws = keys.workspace_pk(ticket.workspace_id)
        delete_if(
            TicketNumberLookup(ws, keys.ticket_number_sk(ticket.number)),
            TicketNumberLookup.ticket_id == ticket.id,
        )
        pointing_here = {ticket.id}
        if copies_in_target and ticket.merged_into:
            pointing_here.add(ticket.merged_into)
        wanted = [(ws, keys.rfc_message_id_sk(m.message_id)) for m in messages if m.message_id]
        delete_keys(
            (lookup.pk, lookup.sk)
            for lookup in MessageIdLookup.batch_get(wanted, consistent_read=True)
            if lookup.ticket_id in pointing_here
        )
        self._remove_merge_records(ticket, held)
        removed["outbound_mail"] += self._remove_acknowledgement(ticket)
        for message in mine:
            if message.kind is MessageKind.REPLY:
                removed["outbound_mail"] += delete_if(
                    OutboundMailItem(ws, keys.outbound_mail_sk(message.id)),
                    OutboundMailItem.purpose == "ticket_reply",
                )
        if (keys.ticket_pk(ticket.workspace_id, ticket.id), STATE_SK) in held:
            removed["chat_records"] += remove_chat_history(ticket)
        if ticket.channel is Channel.CHAT:
            removed["chat_records"] += remove_unanswered(ticket, mine)
        removed["notifications"] += remove_notifications(ticket)
        remove_live_listeners(ticket)
        return removed

    def _remove_acknowledgement(self, ticket: Ticket) -> int:
        """The record of the acknowledgement mailed to the requester: recorded in the
        ticket's own transaction, so its id is of the ticket's first minute (one Query of
        that minute's mail records)."""
        ws = keys.workspace_pk(ticket.workspace_id)
        start = keys.outbound_mail_sk(id_floor(ticket.created_at - ACKNOWLEDGED_WITHIN))
        end = keys.outbound_mail_sk(id_floor(ticket.created_at + ACKNOWLEDGED_WITHIN))
        removed = 0
        for record in OutboundMailItem.query(
            ws,
            OutboundMailItem.sk.between(start, end),
            filter_condition=(OutboundMailItem.purpose == "acknowledgement")
            & OutboundMailItem.to.contains(ticket.requester_email),
        ):
            removed += delete_if(record, Item.pk.exists())
        return removed

    # -- the ticket -----------------------------------------------------------------------

    def _remove_ticket_item(self, ticket: Ticket) -> bool:
        """The ticket, if still at the revision read, and its inbox counts, together."""
        ws = ticket.workspace_id
        revision = TicketItem.revision == ticket.revision
        if ticket.revision == 0:
            revision = revision | TicketItem.revision.does_not_exist()

        def build(tx: Any) -> None:
            tx.delete(TicketItem(keys.ticket_pk(ws, ticket.id), keys.TICKET_SK), condition=revision)
            for bucket, delta in count_deltas(ticket, None).items():
                tx.update(
                    InboxCountItem(keys.workspace_pk(ws), keys.inbox_count_sk(bucket)),
                    actions=[
                        InboxCountItem.value.add(delta),
                        InboxCountItem.kind.set(InboxCountItem),
                    ],
                )

        return committed(build)


def _count_partition(held: Iterable[tuple[str, str]]) -> Counter[str]:
    removed: Counter[str] = Counter()
    for _, sk in held:
        if sk.startswith(keys.MESSAGE_PREFIX):
            removed["messages"] += 1
        elif sk.startswith(RESULT_PREFIX):
            removed["ai_results"] += 1
        elif sk == STATE_SK or sk.startswith(CLIENT_ID_PREFIX):
            removed["chat_records"] += 1
    return removed


def _plain(counts: Counter[str]) -> dict[str, int]:
    return {name: value for name, value in sorted(counts.items()) if value}


def _pending_merges_into(pk: str, sk: str) -> int:
    """The count of unfinished merges into a ticket (its `MERGES_IN` item; 0 without one)."""
    try:
        return int(IncomingMergesItem.get(pk, sk, consistent_read=True).pending or 0)
    except IncomingMergesItem.DoesNotExist:
        return 0
