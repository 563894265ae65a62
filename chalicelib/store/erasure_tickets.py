"""The erasure phases over tickets (chalicelib/privacy/erasure.py).

| phase      | reads (never a Scan)                                | changes                      |
|------------|-----------------------------------------------------|------------------------------|
| `tickets`  | GetItem their address's contact lookup; per contact | each ticket removed whole    |
|            | Query GSI4 `WS#<ws>#TICKETS#REQUESTER#<contact>`,   | (`DynamoTicketRemoval`), with|
|            | first page of `TICKETS_PER_STEP` (removed tickets   | a merge's copies on its      |
|            | leave the view: the next step reads the next ones)  | target                       |
| `mentions` | Query `WS#<ws>#TERM#<address>` (the whole address's | their address in the ticket, |
|            | postings) below the cursor, `MENTIONS_PER_STEP`;    | its messages, activity, AI   |
|            | an address too long to be one term: the search of   | results and members'         |
|            | its words. Per ticket: GetItem, Query `MSG#`,       | notifications about it; the  |
|            | `ACT#`, `AI#`, members' notifications               | raw mail of a message that   |
|            |                                                     | named them; postings         |

`mentions`: each ticket is rewritten first and its postings last (those of terms its text
no longer holds are deleted, those of new terms such as `erased` put), so a step cut short
finds the ticket again through the address's posting and finishes it; a ticket that no
longer names the address changes nothing and counts zero.  In a ticket's CC list the
address is dropped (no reply may be copied to it); elsewhere `[erased]` stands in its place.
Their raw mail as it arrived cannot be rewritten (headers, encodings): a message that named
them loses its raw copy."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.privacy.erasure import Step, Subject
from chalicelib.privacy.mentions import (
    erased_activity,
    erased_json,
    erased_message,
    erased_ticket,
    mentions,
    without_address,
)
from chalicelib.store import keys
from chalicelib.store.ai_repo import RESULT_PREFIX, AiResultItem
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.models import (
    ActivityItem,
    ContactEmailLookup,
    Item,
    MessageItem,
    TicketItem,
)
from chalicelib.store.search_repo import DynamoSearchIndex
from chalicelib.store.ticket_removal import DynamoTicketRemoval, delete_stored
from chalicelib.store.ticket_traces import notifications_about
from chalicelib.store.tickets_repo import DynamoTicketStore, _message
from chalicelib.tickets.model import Activity, Message, Ticket
from chalicelib.tickets.ports import StaleTicket
from chalicelib.tickets.search import ticket_terms, tickets_naming
from chalicelib.tickets.search_terms import terms

TICKETS_PER_STEP = 10
MENTIONS_PER_STEP = 25
TICKET_WRITE_ATTEMPTS = 10
MORE = "more"  # the `tickets` phase's cursor: its view is read from the start each step


def _set(attribute: Any, value: Any) -> Any:
    """An update action that sets `value` (removes the attribute for None)."""
    return attribute.remove() if value is None else attribute.set(value)


def _plain(counts: Counter[str]) -> dict[str, int]:
    return {name: value for name, value in sorted(counts.items()) if value}


def _contacts_of(subject: Subject) -> list[str]:
    """The person's contacts: the one the erasure found when asked for, and the one their
    address names now (GetItem: a mail of theirs filed since made one)."""
    found = [subject.contact_id] if subject.contact_id else []
    try:
        lookup = ContactEmailLookup.get(
            keys.workspace_pk(subject.workspace_id),
            keys.contact_email_sk(subject.email),
            consistent_read=True,
        )
    except ContactEmailLookup.DoesNotExist:
        return found
    return list(dict.fromkeys([*found, *([lookup.contact_id] if lookup.contact_id else [])]))


class TicketsErasure:
    """Removes every ticket and chat the person is the requester of, a page a step: those
    of the contact the erasure found and of the one their address names now."""

    name = "tickets"

    def __init__(self, removal: DynamoTicketRemoval, per_step: int = TICKETS_PER_STEP) -> None:
        self._removal = removal
        self._per_step = per_step

    def step(self, subject: Subject, cursor: str | None) -> Step:
        ws = subject.workspace_id
        ticket_ids: list[str] = []
        for contact_id in _contacts_of(subject):
            found = Item.by_requester.query(
                keys.tickets_by_requester(ws, contact_id),
                scan_index_forward=False,
                limit=self._per_step - len(ticket_ids),
                page_size=self._per_step - len(ticket_ids),
            )
            ticket_ids += [item.ticket_id for item in found if isinstance(item, TicketItem)]
            if len(ticket_ids) >= self._per_step:
                break
        removed: Counter[str] = Counter()
        for ticket_id in ticket_ids:
            removed.update(self._removal.remove(ws, ticket_id, copies_in_target=True))
        return Step(
            counts=_plain(removed),
            cursor=MORE if len(ticket_ids) >= self._per_step else None,
            ticket_ids=tuple(ticket_ids),
        )


class MentionsErasure:
    """Replaces the person's address in the other tickets of the workspace that hold it."""

    name = "mentions"

    def __init__(self, blobs: S3BlobStore, per_step: int = MENTIONS_PER_STEP) -> None:
        self._blobs = blobs
        self._per_step = per_step
        self._index = DynamoSearchIndex()
        self._tickets = DynamoTicketStore()

    def step(self, subject: Subject, cursor: str | None) -> Step:
        ws, address = subject.workspace_id, subject.email
        page = tickets_naming(self._index, ws, address, cursor, self._per_step)
        changed: Counter[str] = Counter()
        for ticket_id in page.ticket_ids:
            changed.update(self.erase_in(ws, ticket_id, address))
        return Step(counts=_plain(changed), cursor=page.next_cursor)

    def erase_in(self, workspace_id: str, ticket_id: str, address: str) -> dict[str, int]:
        """The address out of one ticket: its messages, activity, AI results and
        notifications, then the ticket, then its postings.  Counts `mentions` (messages and
        tickets changed) and `raw_mail` (raw copies deleted)."""
        changed: Counter[str] = Counter()
        ticket = self._tickets.get_ticket(workspace_id, ticket_id)
        if ticket is None:  # removed meanwhile: only its postings of the address may be left
            self._unpost(workspace_id, ticket_id, set(terms(address)))
            return {}
        pk = keys.ticket_pk(workspace_id, ticket_id)
        messages = [
            _message(item)
            for item in MessageItem.query(
                pk, MessageItem.sk.startswith(keys.MESSAGE_PREFIX), consistent_read=True
            )
            if isinstance(item, MessageItem)
        ]
        posted = set(ticket_terms(ticket, messages)) | set(terms(address))
        # Postings go last: a step cut short finds the ticket again through them.
        self._rewrite_notifications(ticket, address)
        self._rewrite_ai_results(pk, address)
        self._rewrite_activity(pk, address)
        now_held: list[Message] = []
        for message in messages:
            erased = erased_message(message, address)
            if erased is not None:
                changed["raw_mail"] += self._rewrite_message(message, erased)
                changed["mentions"] += 1
            now_held.append(erased or message)
        after, rewritten = self._rewrite_ticket(ticket, address)
        changed["mentions"] += rewritten
        current = set(ticket_terms(after, now_held))
        self._unpost(workspace_id, ticket_id, posted - current)
        fresh = sorted(current - posted)
        if fresh:
            self._index.add(workspace_id, ticket_id, fresh)
        return _plain(changed)

    def _unpost(self, workspace_id: str, ticket_id: str, words: set[str]) -> None:
        with Item.batch_write() as batch:
            for word in sorted(words):
                batch.delete(Item(keys.search_term_pk(workspace_id, word), ticket_id))

    def _rewrite_message(self, message: Message, erased: Message) -> int:
        """Sets the fields that changed (UpdateItem: a delivery update meanwhile is kept);
        deletes the raw copy of a mail that named them.  Returns the raw copies deleted."""
        item = MessageItem(
            keys.ticket_pk(message.workspace_id, message.ticket_id), keys.message_sk(message.id)
        )
        actions = [
            _set(getattr(MessageItem, name), getattr(erased, name))
            for name in (
                "subject",
                "text",
                "html",
                "quoted_text",
                "original_text",
                "delivery_detail",
                "from_address",
                "to",
                "cc",
            )
            if getattr(erased, name) != getattr(message, name)
        ]
        if erased.chat != message.chat and erased.chat is not None:
            actions.append(MessageItem.chat.set(json.dumps(asdict(erased.chat))))
        deleted = 0
        if message.raw_s3_key:
            deleted = delete_stored(self._blobs, message.raw_s3_key)
            actions.append(MessageItem.raw_s3_key.remove())
        try:
            item.update(actions=actions, condition=Item.pk.exists())
        except UpdateError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
        return deleted

    def _rewrite_activity(self, pk: str, address: str) -> None:
        for item in ActivityItem.query(pk, ActivityItem.sk.startswith(keys.ACTIVITY_PREFIX)):
            if not isinstance(item, ActivityItem):
                continue
            entry = Activity(
                item.activity_id,
                item.ticket_id,
                item.actor,
                item.action,
                item.before,
                item.after,
                item.at,
            )
            erased = erased_activity(entry, address)
            if erased is not None:
                item.update(
                    actions=[
                        _set(ActivityItem.before, erased.before),
                        _set(ActivityItem.after, erased.after),
                    ],
                    condition=Item.pk.exists(),
                )

    def _rewrite_ai_results(self, pk: str, address: str) -> None:
        for item in AiResultItem.query(pk, AiResultItem.sk.startswith(RESULT_PREFIX)):
            if not isinstance(item, AiResultItem):
                continue
            actions: list[Any] = []
            for name in ("payload", "request"):
                erased = erased_json(getattr(item, name), address)
                if erased is not None:
                    actions.append(getattr(AiResultItem, name).set(erased))
            if mentions(item.failure, address):
                actions.append(_set(AiResultItem.failure, without_address(item.failure, address)))
            if actions:
                item.update(actions=actions, condition=Item.pk.exists())

    def _rewrite_ticket(self, ticket: Ticket, address: str) -> tuple[Ticket, int]:
        """The ticket without the address, written under its revision (read again and
        redone when someone changed it meanwhile), and 1 if it was rewritten (0: nothing
        named them)."""
        current = ticket
        for _ in range(TICKET_WRITE_ATTEMPTS):
            erased = erased_ticket(current, address)
            if erased is None:
                return current, 0
            after = replace(erased, revision=current.revision + 1)
            try:
                self._tickets.save_ticket(current, after, [])
            except StaleTicket:
                found = self._tickets.get_ticket(ticket.workspace_id, ticket.id)
                if found is None:
                    return current, 0
                current = found
                continue
            return after, 1
        raise StaleTicket()

    def _rewrite_notifications(self, ticket: Ticket, address: str) -> None:
        for _, item in notifications_about(ticket.workspace_id, ticket):
            fields = {
                name: without_address(getattr(item, name), address)
                for name in ("ticket_subject", "excerpt", "actor_name")
                if mentions(getattr(item, name), address)
            }
            if fields:
                try:
                    item.update(
                        actions=[getattr(type(item), n).set(v) for n, v in fields.items()],
                        condition=Item.pk.exists(),
                    )
                except UpdateError as e:
                    if e.cause_response_code != "ConditionalCheckFailedException":
                        raise
