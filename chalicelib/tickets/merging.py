"""Merging a duplicate ticket into another: its messages move, it closes with a pointer, and
later mail to either thread lands in the target."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import activity, get_ticket, retrying
from chalicelib.tickets.model import Ticket, TicketStatus

MAX_MERGED_MESSAGES = 500


def merge_tickets(
    deps: TicketDeps, workspace_id: str, source_ref: str, target_ref: str, actor: str
) -> Ticket:
    """Copies the source's messages onto the target (their Message-IDs now point there, so
    replies thread into the target), adds the source's people to the target's CCs, then closes
    the source with `merged_into`.  Returns the target.  Emits `ticket.updated` for both."""
    source = get_ticket(deps, workspace_id, source_ref)
    target = get_ticket(deps, workspace_id, target_ref)
    if source.id == target.id:
        raise ValidationFailed(
            "A ticket cannot be merged into itself.",
            code="merge_into_self",
            details=[{"field": "into", "message": "same ticket"}],
        )
    if source.merged_into:
        raise Conflict("This ticket was already merged.", code="ticket_merged")
    if target.merged_into:
        raise Conflict(
            f"The target was merged into {target.merged_into}; merge into that one.",
            code="target_merged",
        )
    messages = deps.store.list_messages(workspace_id, source.id, MAX_MERGED_MESSAGES + 1)
    if len(messages) > MAX_MERGED_MESSAGES:
        raise Conflict("This ticket has too many messages to merge.", code="merge_too_large")
    deps.store.merge_messages(source, target, messages)

    def absorb() -> Ticket:
        current = get_ticket(deps, workspace_id, target.id)
        now = deps.clock.now()
        people = [source.requester_email, *source.cc]
        cc = [a for a in dict.fromkeys(current.cc + people) if a != current.requester_email]
        latest_customer = max(
            filter(None, [current.last_customer_message_id, source.last_customer_message_id]),
            default=None,
        )
        updated = replace(
            current,
            cc=cc,
            message_count=current.message_count + len(messages),
            last_customer_message_id=latest_customer,
            updated_at=now,
            last_activity_at=now,
            revision=current.revision + 1,
        )
        deps.store.save_ticket(
            current,
            updated,
            [activity(current, actor, "merged_in", None, f"#{source.number}", now)],
        )
        return updated

    def close_source() -> Ticket:
        current = get_ticket(deps, workspace_id, source.id)
        now = deps.clock.now()
        updated = replace(
            current,
            status=TicketStatus.CLOSED,
            merged_into=target.id,
            updated_at=now,
            last_activity_at=now,
            revision=current.revision + 1,
        )
        deps.store.save_ticket(
            current,
            updated,
            [
                activity(current, actor, "merged", None, f"#{target.number}", now),
                activity(current, actor, "status", current.status, TicketStatus.CLOSED, now),
            ],
        )
        return updated

    merged = retrying(absorb)
    retrying(close_source)
    for ticket_id in (source.id, target.id):
        deps.events.publish(
            "ticket.updated",
            workspace_id,
            {"ticket_id": ticket_id, "actor": actor, "changes": ["merged"]},
        )
    return merged
