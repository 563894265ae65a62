"""Storing a contact on its own (a booking's invitee who never wrote in): the same items a
new ticket's requester gets (the contact, its e-mail lookup, its search entries), in one
transaction, written by the ticket store so their format stays the ticket store's."""

from __future__ import annotations

from chalicelib.store.tickets_repo import DynamoTicketStore, _Writes
from chalicelib.tickets.model import Contact


class DynamoContactWriter:
    def __init__(self, store: DynamoTicketStore | None = None) -> None:
        self._store = store or DynamoTicketStore()

    def create_contact(self, contact: Contact) -> None:
        """Raises ContactExists when the address has a contact already."""
        writes = _Writes()
        self._store._add_contact(writes, contact)
        self._store._commit(writes)
