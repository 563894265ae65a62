"""pynamodb implementation of `TicketStore` (access patterns: models.py, data-model.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from chalicelib.store import keys
from chalicelib.store.attachments_repo import claim_upload
from chalicelib.store.models import (
    ActivityItem,
    ContactEmailLookup,
    ContactItem,
    InboxCountItem,
    IncomingMergesItem,
    Item,
    MessageIdLookup,
    MessageItem,
    TicketCounterItem,
    TicketItem,
    TicketMergeItem,
    TicketNumberLookup,
    TicketTagItem,
    TicketViewerItem,
)
from chalicelib.store.paging import SLICE_EVALUATED, decode_cursor, encode_cursor, one_slice
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction
from chalicelib.tickets.acknowledgements import AcknowledgementToSend
from chalicelib.tickets.counts import count_deltas
from chalicelib.tickets.merge_record import MergeRecord, MergeStatus
from chalicelib.tickets.model import (
    Activity,
    AttachmentRef,
    Channel,
    ChatContext,
    Citation,
    Contact,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketFilter,
    TicketPage,
    TicketStatus,
)
from chalicelib.tickets.ports import (
    AcknowledgementRefused,
    ContactExists,
    DuplicateMessage,
    NumberTaken,
    StaleTicket,
    UploadAlreadyUsed,
)

MAX_VIEWERS_READ = 100


def _iso(ticket: Ticket) -> str:
    return ticket.last_activity_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ticket_item(ticket: Ticket) -> TicketItem:
    order = keys.activity_order(_iso(ticket), ticket.id)
    ws = ticket.workspace_id
    return TicketItem(
        keys.ticket_pk(ws, ticket.id),
        keys.TICKET_SK,
        gsi1pk=keys.tickets_view(ws),
        gsi1sk=order,
        gsi2pk=keys.tickets_by_status(ws, ticket.status.value),
        gsi2sk=order,
        gsi3pk=keys.tickets_by_assignee(ws, ticket.assignee_id),
        gsi3sk=order,
        gsi4pk=keys.tickets_by_requester(ws, ticket.requester_id),
        gsi4sk=order,
        gsi5pk=keys.tickets_by_assignee_and_status(ws, ticket.assignee_id, ticket.status.value),
        gsi5sk=order,
        ticket_id=ticket.id,
        workspace_id=ws,
        number=ticket.number,
        subject=ticket.subject,
        requester_id=ticket.requester_id,
        requester_email=ticket.requester_email,
        requester_name=ticket.requester_name,
        cc=list(ticket.cc),
        status=ticket.status.value,
        priority=ticket.priority.value,
        assignee_id=ticket.assignee_id,
        tags=list(ticket.tags),
        channel=ticket.channel.value,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        last_activity_at=ticket.last_activity_at,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        last_customer_message_id=ticket.last_customer_message_id,
        merged_into=ticket.merged_into,
        merged_from=list(ticket.merged_from) or None,
        follow_up_of=ticket.follow_up_of,
        sender_unverified=True if not ticket.sender_verified else None,
        unverified_reply_to=ticket.unverified_reply_to,
        message_count=ticket.message_count,
        revision=ticket.revision,
    )


def _strings(values: Any) -> list[str]:
    return [str(value) for value in values or []]


def _ticket(item: TicketItem) -> Ticket:
    return Ticket(
        id=item.ticket_id,
        workspace_id=item.workspace_id,
        number=int(item.number),
        subject=item.subject,
        requester_id=item.requester_id,
        requester_email=item.requester_email,
        requester_name=item.requester_name,
        cc=_strings(item.cc),
        status=TicketStatus(item.status),
        priority=Priority(item.priority),
        assignee_id=item.assignee_id,
        tags=_strings(item.tags),
        channel=Channel(item.channel),
        created_at=item.created_at,
        updated_at=item.updated_at,
        last_activity_at=item.last_activity_at,
        first_response_at=item.first_response_at,
        solved_at=item.solved_at,
        last_customer_message_id=item.last_customer_message_id,
        merged_into=item.merged_into,
        merged_from=tuple(int(str(n)) for n in item.merged_from or ()),
        follow_up_of=item.follow_up_of,
        sender_verified=not item.sender_unverified,
        unverified_reply_to=item.unverified_reply_to,
        message_count=int(item.message_count or 0),
        revision=int(item.revision or 0),
    )


def _tag_item(ticket: Ticket, tag: str) -> TicketTagItem:
    return TicketTagItem(
        keys.ticket_pk(ticket.workspace_id, ticket.id),
        keys.tag_sk(tag),
        gsi2pk=keys.tickets_by_tag(ticket.workspace_id, tag),
        gsi2sk=keys.activity_order(_iso(ticket), ticket.id),
        ticket_id=ticket.id,
    )


def _message_item(message: Message) -> MessageItem:
    return MessageItem(
        keys.ticket_pk(message.workspace_id, message.ticket_id),
        keys.message_sk(message.id),
        message_item_id=message.id,
        ticket_id=message.ticket_id,
        workspace_id=message.workspace_id,
        message_kind=message.kind.value,
        author=message.author,
        from_address=message.from_address,
        to=list(message.to),
        cc=list(message.cc),
        subject=message.subject,
        text=message.text,
        html=message.html,
        quoted_text=message.quoted_text,
        message_id=message.message_id,
        in_reply_to=list(message.in_reply_to),
        references=list(message.references),
        attachments=json.dumps([asdict(a) for a in message.attachments]),
        delivery=message.delivery.value,
        delivery_detail=message.delivery_detail,
        raw_s3_key=message.raw_s3_key,
        created_at=message.created_at,
        original_text=message.original_text,
        original_language=message.original_language,
        sender_verified=message.sender_verified,
        from_member=True if message.from_member else None,
        mentions=list(message.mentions) or None,
        chat=json.dumps(asdict(message.chat)) if message.chat is not None else None,
        citations=json.dumps([asdict(c) for c in message.citations]) if message.citations else None,
    )


def _message(item: MessageItem) -> Message:
    return Message(
        id=item.message_item_id,
        ticket_id=item.ticket_id,
        workspace_id=item.workspace_id,
        kind=MessageKind(item.message_kind),
        author=item.author,
        from_address=item.from_address,
        to=_strings(item.to),
        cc=_strings(item.cc),
        subject=item.subject,
        text=item.text,
        html=item.html,
        quoted_text=item.quoted_text,
        message_id=item.message_id,
        in_reply_to=_strings(item.in_reply_to),
        references=_strings(item.references),
        attachments=[AttachmentRef(**a) for a in json.loads(item.attachments or "[]")],
        delivery=DeliveryStatus(item.delivery),
        delivery_detail=item.delivery_detail,
        raw_s3_key=item.raw_s3_key,
        created_at=item.created_at,
        original_text=item.original_text,
        original_language=item.original_language,
        sender_verified=item.sender_verified,
        from_member=bool(item.from_member),
        mentions=_strings(item.mentions),
        chat=ChatContext(**json.loads(item.chat)) if item.chat else None,
        citations=[Citation(**c) for c in json.loads(item.citations or "[]")],
    )


def _activity_item(workspace_id: str, activity: Activity) -> ActivityItem:
    return ActivityItem(
        keys.ticket_pk(workspace_id, activity.ticket_id),
        keys.activity_sk(activity.id),
        activity_id=activity.id,
        ticket_id=activity.ticket_id,
        actor=activity.actor,
        action=activity.action,
        before=activity.before,
        after=activity.after,
        at=activity.at,
    )


def _activity(item: ActivityItem) -> Activity:
    return Activity(
        id=item.activity_id,
        ticket_id=item.ticket_id,
        actor=item.actor,
        action=item.action,
        before=item.before,
        after=item.after,
        at=item.at,
    )


def contact_of_lookup(workspace_id: str, email: str, lookup: ContactEmailLookup) -> Contact | None:
    """The contact as its e-mail lookup holds it; None for a lookup written before lookups
    carried the name (read the contact item then)."""
    if lookup.name is None or lookup.created_at is None:
        return None
    return Contact(
        id=lookup.contact_id,
        workspace_id=workspace_id,
        email=email,
        name=lookup.name,
        created_at=lookup.created_at,
        language=lookup.language,
    )


def _contact(item: ContactItem) -> Contact:
    return Contact(
        id=item.contact_id,
        workspace_id=item.workspace_id,
        email=item.email,
        name=item.name,
        created_at=item.created_at,
        language=item.language,
    )


class _Writes:
    """Collects the items of one transaction, remembering what each condition guards."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, Any, Any, str | None]] = []

    def put(self, item: Item, condition: Any = None, guards: str | None = None) -> None:
        self.actions.append(("put", item, condition, guards))

    def update(self, item: Item, actions: Any, condition: Any, guards: str | None) -> None:
        self.actions.append(("update", item, (actions, condition), guards))

    def delete(self, item: Item) -> None:
        self.actions.append(("delete", item, None, None))

    def check(self, item: Item, condition: Any, guards: str | None) -> None:
        self.actions.append(("check", item, condition, guards))


class DynamoTicketStore:
    def _commit(self, writes: _Writes) -> None:
        try:
            with transaction() as tx:
                for kind, item, extra, _ in writes.actions:
                    if kind == "put":
                        tx.save(item, condition=extra)
                    elif kind == "update":
                        tx.update(item, actions=extra[0], condition=extra[1])
                    elif kind == "check":
                        tx.condition_check(type(item), item.pk, item.sk, condition=extra)
                    else:
                        tx.delete(item)
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            for (_, _, _, guards), reason in zip(writes.actions, reasons, strict=False):
                if reason != CONDITION_FAILED:
                    continue
                if guards == "ticket":
                    raise StaleTicket() from e
                if guards == "message_id":
                    raise DuplicateMessage() from e
                if guards == "contact":
                    raise ContactExists() from e
                if guards == "upload":
                    raise UploadAlreadyUsed() from e
                if guards == "number":
                    raise NumberTaken() from e
                if guards == "acknowledgement":
                    raise AcknowledgementRefused() from e
            if "TransactionConflict" in reasons:
                # Another transaction was writing the same items: read again and retry.
                raise StaleTicket() from e
            raise

    # -- writes -----------------------------------------------------------------------------

    def last_ticket_number(self, workspace_id: str) -> int:
        try:
            counter = TicketCounterItem.get(
                keys.workspace_pk(workspace_id), keys.TICKET_COUNTER_SK, consistent_read=True
            )
        except TicketCounterItem.DoesNotExist:
            return 0
        return int(counter.last_number or 0)

    def _take_number(self, writes: _Writes, ticket: Ticket) -> None:
        """The counter moves from the number before to the ticket's, and the number points
        at the ticket: numbers stay gapless and unique whatever the concurrency."""
        ws = keys.workspace_pk(ticket.workspace_id)
        last = TicketCounterItem.last_number
        before = ticket.number - 1
        writes.update(
            TicketCounterItem(ws, keys.TICKET_COUNTER_SK),
            [last.set(ticket.number), TicketCounterItem.kind.set(TicketCounterItem)],
            (last.does_not_exist() | (last == 0)) if before == 0 else (last == before),
            "number",
        )
        writes.put(
            TicketNumberLookup(ws, keys.ticket_number_sk(ticket.number), ticket_id=ticket.id),
            Item.pk.does_not_exist(),
            "number",
        )

    def _add_acknowledgement(self, writes: _Writes, ack: AcknowledgementToSend) -> None:
        from chalicelib.store.acknowledgements_repo import claim_steps
        from chalicelib.store.outbox import queued_mail_item

        workspace_id = ack.mail.workspace_id
        for step, item, first, second in claim_steps(
            workspace_id,
            ack.recipient,
            ack.hour,
            per_recipient=ack.per_recipient,
            per_workspace=ack.per_workspace,
        ):
            if step == "check":
                writes.check(item, first, "acknowledgement")
            else:
                writes.update(item, first, second, "acknowledgement")
        writes.put(
            queued_mail_item(ack.mail, ack.recorded_at),
            Item.pk.does_not_exist(),
        )

    def _add_message(self, writes: _Writes, message: Message) -> None:
        writes.put(_message_item(message), Item.pk.does_not_exist(), "message")
        if message.message_id:
            writes.put(
                MessageIdLookup(
                    keys.workspace_pk(message.workspace_id),
                    keys.rfc_message_id_sk(message.message_id),
                    ticket_id=message.ticket_id,
                    message_item_id=message.id,
                ),
                Item.pk.does_not_exist(),
                "message_id",
            )

    def _set_contact_language(self, writes: _Writes, ticket: Ticket, language: str) -> None:
        # A contact gone meanwhile reads as ContactExists: the retry reads it again.
        ws = keys.workspace_pk(ticket.workspace_id)
        contact = ContactItem(ws, keys.contact_sk(ticket.requester_id))
        writes.update(contact, [ContactItem.language.set(language)], Item.pk.exists(), "contact")
        lookup = ContactEmailLookup(ws, keys.contact_email_sk(ticket.requester_email))
        writes.update(
            lookup, [ContactEmailLookup.language.set(language)], Item.pk.exists(), "contact"
        )

    def create_contact(self, contact: Contact) -> None:
        """A contact on its own (e.g. a booking's invitee who never wrote in): the same
        items a new ticket's requester gets, in one transaction.  Raises ContactExists when
        the address has a contact already."""
        writes = _Writes()
        self._add_contact(writes, contact)
        self._commit(writes)

    def _add_contact(self, writes: _Writes, contact: Contact) -> None:
        ws = keys.workspace_pk(contact.workspace_id)
        writes.put(
            ContactItem(
                ws,
                keys.contact_sk(contact.id),
                contact_id=contact.id,
                workspace_id=contact.workspace_id,
                email=contact.email,
                name=contact.name,
                created_at=contact.created_at,
                language=contact.language,
            ),
            Item.pk.does_not_exist(),
        )
        writes.put(
            ContactEmailLookup(
                ws,
                keys.contact_email_sk(contact.email),
                contact_id=contact.id,
                name=contact.name,
                created_at=contact.created_at,
                language=contact.language,
            ),
            Item.pk.does_not_exist(),
            "contact",
        )
        # The contact directory owns the format of its search entries.
        from chalicelib.store.contacts_repo import contact_index_items

        for entry in contact_index_items(contact):  # at most MAX_TERMS items
            writes.put(entry)

    def _count(self, writes: _Writes, workspace_id: str, deltas: dict[str, int]) -> None:
        for bucket, delta in deltas.items():
            if delta:
                counter = InboxCountItem(
                    keys.workspace_pk(workspace_id), keys.inbox_count_sk(bucket)
                )
                # An ADD creates the item on first use; the kind makes it readable as a model.
                actions = [InboxCountItem.value.add(delta), InboxCountItem.kind.set(InboxCountItem)]
                writes.update(counter, actions, None, None)

    def merge_messages(self, source: Ticket, target: Ticket, messages: list[Message]) -> None:
        ws = target.workspace_id
        with MessageItem.batch_write() as batch:
            for message in messages:
                copied = replace(message, ticket_id=target.id)
                batch.save(_message_item(copied))
                if message.message_id:
                    batch.save(
                        MessageIdLookup(
                            keys.workspace_pk(ws),
                            keys.rfc_message_id_sk(message.message_id),
                            ticket_id=target.id,
                            message_item_id=message.id,
                        )
                    )

    def _merge_item(self, record: MergeRecord) -> TicketMergeItem:
        return TicketMergeItem(
            keys.workspace_pk(record.workspace_id),
            keys.merge_sk(record.source_id),
            source_id=record.source_id,
            target_id=record.target_id,
            actor=record.actor,
            message_count=record.message_count,
            status=record.status.value,
            started_at=record.started_at,
            finished_at=record.finished_at,
        )

    def _incoming_merges(self, ticket: Ticket) -> IncomingMergesItem:
        return IncomingMergesItem(
            keys.ticket_pk(ticket.workspace_id, ticket.id), keys.INCOMING_MERGES_SK
        )

    def _write_ticket(self, writes: _Writes, before: Ticket, after: Ticket) -> None:
        """The ticket (if still at `before.revision`), its tag entries and the counts."""
        writes.put(_ticket_item(after), TicketItem.revision == before.revision, "ticket")
        for tag in after.tags:
            writes.put(_tag_item(after, tag))
        for tag in set(before.tags) - set(after.tags):
            writes.delete(
                TicketTagItem(keys.ticket_pk(after.workspace_id, after.id), keys.tag_sk(tag))
            )
        self._count(writes, after.workspace_id, count_deltas(before, after))

    def begin_merge(
        self,
        source_before: Ticket,
        source_after: Ticket,
        activity: list[Activity],
        target: Ticket,
        record: MergeRecord,
    ) -> None:
        # Every refusal reads as StaleTicket: the service reads both tickets again and says why.
        writes = _Writes()
        writes.put(self._merge_item(record), Item.pk.does_not_exist(), "ticket")
        self._write_ticket(writes, source_before, source_after)
        writes.check(
            self._incoming_merges(source_before),
            IncomingMergesItem.pending.does_not_exist() | (IncomingMergesItem.pending == 0),
            "ticket",
        )
        writes.check(
            TicketItem(keys.ticket_pk(target.workspace_id, target.id), keys.TICKET_SK),
            TicketItem.pk.exists() & TicketItem.merged_into.does_not_exist(),
            "ticket",
        )
        writes.update(
            self._incoming_merges(target),
            [IncomingMergesItem.pending.add(1), IncomingMergesItem.kind.set(IncomingMergesItem)],
            None,
            None,
        )
        for entry in activity:
            writes.put(_activity_item(source_after.workspace_id, entry))
        self._commit(writes)

    def get_merge(self, workspace_id: str, source_id: str) -> MergeRecord | None:
        try:
            item = TicketMergeItem.get(
                keys.workspace_pk(workspace_id), keys.merge_sk(source_id), consistent_read=True
            )
        except TicketMergeItem.DoesNotExist:
            return None
        return MergeRecord(
            workspace_id=workspace_id,
            source_id=item.source_id,
            target_id=item.target_id,
            actor=item.actor,
            message_count=int(item.message_count),
            status=MergeStatus(item.status),
            started_at=item.started_at,
            finished_at=item.finished_at,
        )

    def incoming_merges(self, workspace_id: str, ticket_id: str) -> int:
        try:
            item = IncomingMergesItem.get(
                keys.ticket_pk(workspace_id, ticket_id),
                keys.INCOMING_MERGES_SK,
                consistent_read=True,
            )
        except IncomingMergesItem.DoesNotExist:
            return 0
        return int(item.pending or 0)

    def finish_merge(
        self,
        target_before: Ticket,
        target_after: Ticket,
        activity: list[Activity],
        record: MergeRecord,
    ) -> None:
        writes = _Writes()
        writes.put(
            self._merge_item(record),
            TicketMergeItem.status == MergeStatus.PENDING.value,
            "ticket",
        )
        self._write_ticket(writes, target_before, target_after)
        writes.update(
            self._incoming_merges(target_before),
            [IncomingMergesItem.pending.add(-1)],
            IncomingMergesItem.pending > 0,
            "ticket",
        )
        for entry in activity:
            writes.put(_activity_item(target_after.workspace_id, entry))
        self._commit(writes)

    def record_viewer(
        self, workspace_id: str, ticket_id: str, user_id: str, name: str, now: int, until: int
    ) -> list[tuple[str, str, int]]:
        pk = keys.ticket_pk(workspace_id, ticket_id)
        TicketViewerItem(
            pk, keys.viewer_sk(user_id), user_id=user_id, name=name, expires_at=until
        ).save()
        # One viewer item per member (rewritten, never added): one bounded slice, one Query.
        result = TicketViewerItem.query(
            pk,
            TicketViewerItem.sk.startswith(keys.VIEWER_PREFIX),
            filter_condition=TicketViewerItem.expires_at > now,
            limit=MAX_VIEWERS_READ,
            page_size=MAX_VIEWERS_READ,
        )
        found, _ = one_slice(result, Item, MAX_VIEWERS_READ)
        return [
            (item.user_id, item.name, int(item.expires_at))
            for item in found
            if isinstance(item, TicketViewerItem)
        ]

    def forget_viewer(self, workspace_id: str, ticket_id: str, user_id: str) -> None:
        TicketViewerItem(keys.ticket_pk(workspace_id, ticket_id), keys.viewer_sk(user_id)).delete()

    def inbox_counts(self, workspace_id: str) -> dict[str, int]:
        """Every inbox count of the workspace: one Query over its few counter items."""
        return {
            item.sk.removeprefix(keys.INBOX_COUNT_PREFIX): int(item.value)
            for item in InboxCountItem.query(
                keys.workspace_pk(workspace_id),
                InboxCountItem.sk.startswith(keys.INBOX_COUNT_PREFIX),
            )
        }

    def tickets_after(
        self, workspace_id: str, position: str, limit: int
    ) -> list[tuple[str, Ticket]]:
        """Tickets whose place in the newest-activity view (GSI1, `<last activity>#<id>`) is
        after `position`, oldest first, with their place: one Query of at most `limit`."""
        result = Item.by_user.query(
            keys.tickets_view(workspace_id),
            TicketItem.gsi1sk > position,
            scan_index_forward=True,
            limit=limit,
            page_size=limit,
        )
        found, _ = one_slice(result, Item, limit)
        return [(item.gsi1sk, _ticket(item)) for item in found if isinstance(item, TicketItem)]

    def newest_position(self, workspace_id: str) -> str | None:
        """The place of the most recently active ticket in the newest-activity view (one
        Query of one item); None for a workspace without tickets."""
        result = Item.by_user.query(
            keys.tickets_view(workspace_id), scan_index_forward=False, limit=1, page_size=1
        )
        found, _ = one_slice(result, Item, 1)
        return next((item.gsi1sk for item in found if isinstance(item, TicketItem)), None)

    def create_ticket(
        self,
        ticket: Ticket,
        first_message: Message | None,
        activity: list[Activity],
        new_contact: Contact | None,
        acknowledgement: AcknowledgementToSend | None = None,
        requester_language: str | None = None,
    ) -> None:
        writes = _Writes()
        # First: a refusal for an existing ticket id (our own earlier attempt) is told first.
        writes.put(_ticket_item(ticket), Item.pk.does_not_exist(), "ticket")
        self._take_number(writes, ticket)
        for tag in ticket.tags:
            writes.put(_tag_item(ticket, tag))
        self._count(writes, ticket.workspace_id, count_deltas(None, ticket))
        if first_message is not None:
            self._add_message(writes, first_message)
        for entry in activity:
            writes.put(_activity_item(ticket.workspace_id, entry))
        if new_contact is not None:
            self._add_contact(writes, new_contact)
        elif requester_language is not None:
            self._set_contact_language(writes, ticket, requester_language)
        if acknowledgement is not None:
            self._add_acknowledgement(writes, acknowledgement)
        self._commit(writes)

    def save_ticket(
        self,
        before: Ticket,
        after: Ticket,
        activity: list[Activity],
        message: Message | None = None,
        new_contact: Contact | None = None,
        claim_uploads: Sequence[str] = (),
    ) -> None:
        writes = _Writes()
        writes.put(
            _ticket_item(after),
            TicketItem.revision == before.revision,
            "ticket",
        )
        for tag in after.tags:
            # Rewritten even when kept: the entry's sort key follows the ticket's activity.
            writes.put(_tag_item(after, tag))
        for tag in set(before.tags) - set(after.tags):
            writes.delete(
                TicketTagItem(keys.ticket_pk(after.workspace_id, after.id), keys.tag_sk(tag))
            )
        self._count(writes, after.workspace_id, count_deltas(before, after))
        if message is not None:
            self._add_message(writes, message)
        for entry in activity:
            writes.put(_activity_item(after.workspace_id, entry))
        if new_contact is not None:
            self._add_contact(writes, new_contact)
        if claim_uploads:
            if message is None:
                raise ValueError("uploads are claimed by a message")
            for upload_id in claim_uploads:
                item, actions, condition = claim_upload(
                    after.workspace_id, after.id, upload_id, message.id
                )
                writes.update(item, actions, condition, "upload")
        self._commit(writes)

    def update_message_delivery(
        self,
        workspace_id: str,
        ticket_id: str,
        message_id: str,
        delivery: str,
        detail: str | None,
        only_from: tuple[str, ...] = (),
    ) -> bool:
        from pynamodb.exceptions import UpdateError

        item = MessageItem(keys.ticket_pk(workspace_id, ticket_id), keys.message_sk(message_id))
        detail_action = (
            MessageItem.delivery_detail.set(detail)
            if detail
            else MessageItem.delivery_detail.remove()
        )
        condition = Item.pk.exists()
        if only_from:
            condition &= MessageItem.delivery.is_in(*only_from)
        try:
            item.update(
                actions=[MessageItem.delivery.set(delivery), detail_action], condition=condition
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- reads ------------------------------------------------------------------------------

    def get_ticket(self, workspace_id: str, ticket_id: str) -> Ticket | None:
        try:
            item = TicketItem.get(
                keys.ticket_pk(workspace_id, ticket_id), keys.TICKET_SK, consistent_read=True
            )
        except TicketItem.DoesNotExist:
            return None
        return _ticket(item)

    def get_tickets(self, workspace_id: str, ticket_ids: list[str]) -> list[Ticket]:
        wanted = [
            (keys.ticket_pk(workspace_id, t), keys.TICKET_SK) for t in dict.fromkeys(ticket_ids)
        ]
        found = {item.ticket_id: _ticket(item) for item in TicketItem.batch_get(wanted)}
        return [found[t] for t in ticket_ids if t in found]

    def get_ticket_by_number(self, workspace_id: str, number: int) -> Ticket | None:
        try:
            lookup = TicketNumberLookup.get(
                keys.workspace_pk(workspace_id), keys.ticket_number_sk(number)
            )
        except TicketNumberLookup.DoesNotExist:
            return None
        return self.get_ticket(workspace_id, lookup.ticket_id)

    def find_ticket_by_message_id(self, workspace_id: str, message_id: str) -> str | None:
        try:
            lookup = MessageIdLookup.get(
                keys.workspace_pk(workspace_id), keys.rfc_message_id_sk(message_id)
            )
        except MessageIdLookup.DoesNotExist:
            return None
        return str(lookup.ticket_id)

    def list_tickets(
        self, workspace_id: str, filters: TicketFilter, cursor: str | None, limit: int
    ) -> TicketPage:
        """One Query on the most selective view, newest activity first.  Filters that view
        does not serve narrow one slice of `SLICE_EVALUATED` items, so such a page may be
        short (even empty) with a cursor.  A tag view holds entries: one BatchGetItem more."""
        ws = workspace_id
        conditions: list[Condition] = []
        if filters.requester_id:
            index, hash_key, attribute = (
                Item.by_requester,
                keys.tickets_by_requester(ws, filters.requester_id),
                "GSI4PK",
            )
        elif filters.tag:
            index, hash_key, attribute = (
                Item.by_status_or_tag,
                keys.tickets_by_tag(ws, filters.tag),
                "GSI2PK",
            )
        elif filters.assignee and filters.status:
            # The view agents use most ("mine, open"): its own index, never a filtered slice.
            assignee = None if filters.assignee == "none" else filters.assignee
            index, hash_key, attribute = (
                Item.by_assignee_and_status,
                keys.tickets_by_assignee_and_status(ws, assignee, filters.status.value),
                "GSI5PK",
            )
        elif filters.assignee:
            assignee = None if filters.assignee == "none" else filters.assignee
            index, hash_key, attribute = (
                Item.by_assignee,
                keys.tickets_by_assignee(ws, assignee),
                "GSI3PK",
            )
        elif filters.status:
            index, hash_key, attribute = (
                Item.by_status_or_tag,
                keys.tickets_by_status(ws, filters.status.value),
                "GSI2PK",
            )
        else:
            index, hash_key, attribute = Item.by_user, keys.tickets_view(ws), "GSI1PK"
        tag_view = bool(filters.tag) and not filters.requester_id
        if not tag_view:
            if filters.status and attribute not in ("GSI2PK", "GSI5PK"):
                conditions.append(TicketItem.status == filters.status.value)
            if filters.assignee and attribute not in ("GSI3PK", "GSI5PK"):
                if filters.assignee == "none":
                    conditions.append(TicketItem.assignee_id.does_not_exist())
                else:
                    conditions.append(TicketItem.assignee_id == filters.assignee)
            if filters.tag:
                conditions.append(TicketItem.tags.contains(filters.tag))
        filter_condition = None
        for condition in conditions:
            filter_condition = (
                condition if filter_condition is None else filter_condition & condition
            )
        # A filter no view serves reads one bounded slice: a short page and a cursor, no loop.
        narrowed = bool(conditions) or (tag_view and bool(filters.status or filters.assignee))
        result = index.query(
            hash_key,
            scan_index_forward=False,
            limit=limit,
            page_size=SLICE_EVALUATED if narrowed else limit,
            filter_condition=filter_condition,
            last_evaluated_key=decode_cursor(cursor, {attribute: hash_key}),
        )
        if not tag_view:
            found, last_key = one_slice(result, Item, limit)
            tickets = [_ticket(item) for item in found if isinstance(item, TicketItem)]
            return TicketPage(tickets, encode_cursor(last_key))
        found, last_key = one_slice(result, Item, SLICE_EVALUATED if narrowed else limit)
        entries = [e for e in found if isinstance(e, TicketTagItem)]
        wanted = [(keys.ticket_pk(ws, e.ticket_id), keys.TICKET_SK) for e in entries]
        by_id = {item.ticket_id: _ticket(item) for item in TicketItem.batch_get(wanted)}
        shown: list[tuple[TicketTagItem, Ticket]] = [
            (e, by_id[e.ticket_id])
            for e in entries
            if e.ticket_id in by_id
            and (not filters.status or by_id[e.ticket_id].status is filters.status)
            and (
                not filters.assignee
                or (by_id[e.ticket_id].assignee_id or "none") == filters.assignee
            )
        ]
        if len(shown) > limit:
            shown = shown[:limit]
            entry = shown[-1][0].serialize()
            last_key = {name: entry[name] for name in ("PK", "SK", "GSI2PK", "GSI2SK")}
        return TicketPage([t for _, t in shown], encode_cursor(last_key))

    def get_message(self, workspace_id: str, ticket_id: str, message_id: str) -> Message | None:
        try:
            item = MessageItem.get(
                keys.ticket_pk(workspace_id, ticket_id),
                keys.message_sk(message_id),
                consistent_read=True,
            )
        except MessageItem.DoesNotExist:
            return None
        return _message(item)

    def list_messages(self, workspace_id: str, ticket_id: str, limit: int) -> list[Message]:
        return [
            _message(item)
            for item in MessageItem.query(
                keys.ticket_pk(workspace_id, ticket_id),
                MessageItem.sk.startswith(keys.MESSAGE_PREFIX),
                limit=limit,
            )
        ]

    def list_activity(self, workspace_id: str, ticket_id: str, limit: int) -> list[Activity]:
        return [
            _activity(item)
            for item in ActivityItem.query(
                keys.ticket_pk(workspace_id, ticket_id),
                ActivityItem.sk.startswith(keys.ACTIVITY_PREFIX),
                limit=limit,
            )
        ]

    def get_contact(self, workspace_id: str, contact_id: str) -> Contact | None:
        try:
            return _contact(
                ContactItem.get(keys.workspace_pk(workspace_id), keys.contact_sk(contact_id))
            )
        except ContactItem.DoesNotExist:
            return None

    def find_contact_by_email(self, workspace_id: str, email: str) -> Contact | None:
        try:
            lookup = ContactEmailLookup.get(
                keys.workspace_pk(workspace_id), keys.contact_email_sk(email)
            )
        except ContactEmailLookup.DoesNotExist:
            return None
        return contact_of_lookup(workspace_id, email, lookup) or self.get_contact(
            workspace_id, lookup.contact_id
        )
