"""Requesters and CC participants: one contact per e-mail address and workspace."""

from __future__ import annotations

from chalicelib.ids import new_id
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import Contact


def contact_for(deps: TicketDeps, workspace_id: str, email: str, name: str) -> tuple[Contact, bool]:
    """The workspace's contact for `email`, or a new one (not stored yet: it is written in
    the same transaction as the ticket that needs it).  Returns (contact, is_new)."""
    address = email.strip().lower()
    found = deps.store.find_contact_by_email(workspace_id, address)
    if found is not None:
        return found, False
    display = name.strip() or address.split("@")[0]
    return (
        Contact(
            id=new_id(),
            workspace_id=workspace_id,
            email=address,
            name=display[:120],
            created_at=deps.clock.now(),
        ),
        True,
    )
