"""The reads of filing one e-mail, in one BatchGetItem (part of `DynamoMailboxStore`).

Items read (all keys built from the routed workspace, except the sender's account lookup,
which holds no content): `MSGID#<hash>` of the mail and of the Message-IDs it cites,
`CONTACTEMAIL#<sender>`, `EMAIL#<sender>`, `COUNTER#TICKET`, and when asked `WORKSPACE` and
`SETTINGS#MAILBOX`."""

from __future__ import annotations

from typing import Any

from chalicelib.store import keys
from chalicelib.store.accounts_repo import _workspace as workspace_of_item
from chalicelib.store.models import (
    ContactEmailLookup,
    ContactItem,
    EmailLookup,
    Item,
    MailboxSettingsItem,
    MessageIdLookup,
    TicketCounterItem,
    WorkspaceItem,
)
from chalicelib.tickets.mailbox import Acknowledgement, MailboxSettings, MailReads
from chalicelib.tickets.model import Contact

# DynamoDB's BatchGetItem takes 100 keys; a mail needs at most 6 besides the cited ones.
MAX_CITED = 40


def settings_of(item: MailboxSettingsItem) -> MailboxSettings:
    return MailboxSettings(
        acknowledgement=Acknowledgement(
            enabled=bool(item.ack_enabled), subject=item.ack_subject, body=item.ack_body
        ),
        sender_rate_per_hour=int(item.sender_rate_per_hour),
        forwarding_addresses=[str(a) for a in item.forwarding_addresses or []],
        revision=int(item.revision or 0),
    )


def _contact(workspace_id: str, address: str, lookup: ContactEmailLookup) -> Contact | None:
    from chalicelib.store.tickets_repo import contact_of_lookup

    contact = contact_of_lookup(workspace_id, address, lookup)
    if contact is not None:
        return contact
    # A lookup written before lookups carried the name: one more read.
    try:
        item = ContactItem.get(keys.workspace_pk(workspace_id), keys.contact_sk(lookup.contact_id))
    except ContactItem.DoesNotExist:
        return None
    return Contact(
        id=item.contact_id,
        workspace_id=item.workspace_id,
        email=item.email,
        name=item.name,
        created_at=item.created_at,
        language=item.language,
    )


class DynamoMailReads:
    def read_for_mail(
        self,
        workspace_id: str,
        message_key: str,
        sender: str,
        cited: list[str],
        *,
        with_workspace: bool,
        with_settings: bool,
    ) -> MailReads:
        ws = keys.workspace_pk(workspace_id)
        address = sender.strip().lower()
        filed_key = (ws, keys.rfc_message_id_sk(message_key))
        contact_key = (ws, keys.contact_email_sk(address))
        user_key = (keys.email_pk(sender), keys.LOOKUP_SK)
        counter_key = (ws, keys.TICKET_COUNTER_SK)
        workspace_key = (ws, keys.WORKSPACE_SK)
        settings_key = (ws, keys.MAILBOX_SETTINGS_SK)
        cited_keys = {
            message_id: (ws, keys.rfc_message_id_sk(message_id))
            for message_id in list(dict.fromkeys(cited))[:MAX_CITED]
        }
        wanted = [filed_key, contact_key, user_key, counter_key, *cited_keys.values()]
        if with_workspace:
            wanted.append(workspace_key)
        if with_settings:
            wanted.append(settings_key)
        found: dict[tuple[str, str], Any] = {
            (item.pk, item.sk): item
            for item in Item.batch_get(list(dict.fromkeys(wanted)), consistent_read=True)
        }

        def typed(key: tuple[str, str], model: type[Any]) -> Any:
            item = found.get(key)
            return item if isinstance(item, model) else None

        filed = typed(filed_key, MessageIdLookup)
        lookup = typed(contact_key, ContactEmailLookup)
        contact = None if lookup is None else _contact(workspace_id, address, lookup)
        user = typed(user_key, EmailLookup)
        counter = typed(counter_key, TicketCounterItem)
        cited_tickets = {
            message_id: str(lookup.ticket_id)
            for message_id, key in cited_keys.items()
            if (lookup := typed(key, MessageIdLookup)) is not None
        }
        workspace = typed(workspace_key, WorkspaceItem) if with_workspace else None
        settings_item = typed(settings_key, MailboxSettingsItem) if with_settings else None
        return MailReads(
            filed_ticket_id=None if filed is None else str(filed.ticket_id),
            sender_contact=contact,
            sender_user_id=None if user is None else str(user.user_id),
            last_ticket_number=0 if counter is None else int(counter.last_number or 0),
            cited_tickets=cited_tickets,
            workspace=None if workspace is None else workspace_of_item(workspace),
            settings=(
                None
                if not with_settings
                else MailboxSettings()
                if settings_item is None
                else settings_of(settings_item)
            ),
        )
