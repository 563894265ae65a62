"""pynamodb implementation of `ContactDirectory`: contact listing and prefix search.

The search index lives in its own partition, `WS#<ws>#CONTACTIDX`, one entry per term
(`<term>#<contact>`), written with the contact (`tickets_repo._add_contact`)."""

from __future__ import annotations

from chalicelib.store import keys
from chalicelib.store.models import ContactIndexItem, ContactItem
from chalicelib.store.paging import decode_cursor, encode_cursor
from chalicelib.tickets.contacts import ContactPage, search_terms
from chalicelib.tickets.model import Contact


def contact_index_items(contact: Contact) -> list[ContactIndexItem]:
    """The search entries of a new contact (at most `MAX_TERMS`)."""
    return [
        ContactIndexItem(
            keys.contact_index_pk(contact.workspace_id),
            keys.contact_index_sk(term, contact.id),
            contact_id=contact.id,
            email=contact.email,
            name=contact.name,
            created_at=contact.created_at,
        )
        for term in search_terms(contact.email, contact.name)
    ]


class DynamoContactDirectory:
    def list_contacts(self, workspace_id: str, cursor: str | None, limit: int) -> ContactPage:
        pk = keys.workspace_pk(workspace_id)
        start = decode_cursor(cursor, {"PK": pk}, sort_prefix=("SK", keys.CONTACT_PREFIX))
        result = ContactItem.query(
            pk,
            ContactItem.sk.startswith(keys.CONTACT_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        )
        contacts = [
            Contact(
                id=item.contact_id,
                workspace_id=item.workspace_id,
                email=item.email,
                name=item.name,
                created_at=item.created_at,
                language=item.language,
            )
            for item in result
        ]
        return ContactPage(contacts, encode_cursor(result.last_evaluated_key))

    def search(self, workspace_id: str, prefix: str, cursor: str | None, limit: int) -> ContactPage:
        pk = keys.contact_index_pk(workspace_id)
        start = decode_cursor(cursor, {"PK": pk}, sort_prefix=("SK", prefix))
        result = ContactIndexItem.query(
            pk,
            ContactIndexItem.sk.startswith(prefix),
            limit=limit,
            last_evaluated_key=start,
        )
        contacts: dict[str, Contact] = {}
        for entry in result:
            contacts.setdefault(
                entry.contact_id,
                Contact(
                    id=entry.contact_id,
                    workspace_id=workspace_id,
                    email=entry.email,
                    name=entry.name,
                    created_at=entry.created_at,
                ),
            )
        return ContactPage(list(contacts.values()), encode_cursor(result.last_evaluated_key))
