"""Merging a duplicate ticket into another: its messages move, it closes with a pointer, and
later mail to either thread lands in the target.

A merge is a unit of work driven by a merge record (see merge_record.py, data-model.md):
1. begin: one transaction writes the record, closes the source with `merged_into` and
   counts an unfinished merge into the target, on condition that the source is unchanged and
   has no unfinished merges into it, and the target is not merged.  Of two merges that would
   form a cycle (A->B, B->A at once), exactly one begins.
2. copy: the source's messages are written onto the target under their own ids, and their
   Message-IDs pointed there (idempotent: a second copy overwrites the first).
3. finish: one transaction folds the source into the target (CCs, message count) and marks
   the record done, on condition that it was pending, so this happens exactly once.
A crash after 1 or 2 leaves a pending record; merging the same pair again, or
`resume_merge`, finishes the same work.  So that nobody has to notice, a delayed merge check
is queued on the events queue before step 1: the events worker delivers it to `check_merge`,
which finishes the merge if it is still pending (at least once; a no-op once it is done).
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import activity, get_ticket, retrying
from chalicelib.tickets.merge_record import MergeRecord, MergeStatus
from chalicelib.tickets.model import Ticket, TicketStatus

MAX_MERGED_MESSAGES = 500
MAX_MERGED_FROM = 50  # the merged-in tickets a target lists (its activity keeps them all)
# The event that asks, some minutes after a merge began, whether it finished.
MERGE_CHECK = "ticket.merge_check"


def merge_tickets(
    deps: TicketDeps, workspace_id: str, source_ref: str, target_ref: str, actor: str
) -> Ticket:
    """Merges the source into the target and returns the target.  Writes: the merge record,
    both tickets, the copied messages and their Message-ID lookups.  Queues a delayed merge
    check before it begins (503 when it cannot: no merge begins unwatched); emits
    `ticket.updated` for both.  Merging a pair whose merge was cut short finishes it."""
    source = get_ticket(deps, workspace_id, source_ref)
    target = get_ticket(deps, workspace_id, target_ref)
    if source.id == target.id:
        raise ValidationFailed(
            "A ticket cannot be merged into itself.",
            code="merge_into_self",
            details=[{"field": "into", "message": "same ticket"}],
        )
    record = retrying(lambda: _begin(deps, workspace_id, source.id, target.id, actor))
    return _finish(deps, record)


def resume_merge(deps: TicketDeps, workspace_id: str, source_id: str) -> Ticket:
    """Finishes a merge that began but did not complete (e.g. the process died); returns
    the target.  404 when the ticket has no merge record; 409 when it already finished."""
    record = deps.store.get_merge(workspace_id, source_id)
    if record is None:
        raise NotFound("This ticket is not being merged.", code="merge_not_found")
    if record.status is MergeStatus.DONE:
        raise Conflict("This ticket was already merged.", code="ticket_merged")
    return _finish(deps, record)


def check_merge(deps: TicketDeps, workspace_id: str, source_id: str) -> bool:
    """The delayed merge check: finishes the merge of this source if it is still pending
    (cut short) and returns True; returns False when it is done or there is none (the
    merge was refused).  Writes as `resume_merge`; a failure raises, for the queue to retry."""
    record = deps.store.get_merge(workspace_id, source_id)
    if record is None or record.status is MergeStatus.DONE:
        return False
    _finish(deps, record)
    return True


def _begin(
    deps: TicketDeps, workspace_id: str, source_id: str, target_id: str, actor: str
) -> MergeRecord:
    """Step 1 (or, when this very merge is pending, its record to resume from)."""
    source = get_ticket(deps, workspace_id, source_id)
    target = get_ticket(deps, workspace_id, target_id)
    if source.merged_into:
        pending = deps.store.get_merge(workspace_id, source.id)
        if (
            pending is not None
            and pending.status is MergeStatus.PENDING
            and pending.target_id == target.id
        ):
            return pending
        raise Conflict("This ticket was already merged.", code="ticket_merged")
    if target.merged_into:
        raise Conflict(
            f"The target was merged into {target.merged_into}; merge into that one.",
            code="target_merged",
        )
    if deps.store.incoming_merges(workspace_id, source.id):
        # Its incoming messages would be stranded here once it was merged away.
        raise Conflict(
            "Other tickets are still being merged into this one; try again shortly.",
            code="merge_in_progress",
        )
    messages = deps.store.list_messages(workspace_id, source.id, MAX_MERGED_MESSAGES + 1)
    if len(messages) > MAX_MERGED_MESSAGES:
        raise Conflict("This ticket has too many messages to merge.", code="merge_too_large")
    now = deps.clock.now()
    closed = replace(
        source,
        status=TicketStatus.CLOSED,
        merged_into=target.id,
        updated_at=now,
        last_activity_at=now,
        revision=source.revision + 1,
    )
    record = MergeRecord(
        workspace_id=workspace_id,
        source_id=source.id,
        target_id=target.id,
        actor=actor,
        message_count=len(messages),
        status=MergeStatus.PENDING,
        started_at=now,
    )
    # Queued before the merge begins, so whatever cuts it short, the check finishes it.
    deps.events.publish_later(
        MERGE_CHECK,
        workspace_id,
        {"ticket_id": source.id, "target_id": target.id},
        deps.policy.merge_check_delay_seconds,
    )
    # Refused (StaleTicket, so read again) when the source changed, has merges into it
    # still running, or the target got merged meanwhile: this is what refuses cycles.
    deps.store.begin_merge(
        source,
        closed,
        [
            activity(source, actor, "merged", None, f"#{target.number}", now),
            activity(source, actor, "status", source.status, TicketStatus.CLOSED, now),
        ],
        target,
        record,
    )
    return record


def _finish(deps: TicketDeps, record: MergeRecord) -> Ticket:
    """Steps 2 and 3; safe to run again after a crash at any point."""
    workspace_id = record.workspace_id
    source = get_ticket(deps, workspace_id, record.source_id)
    target = get_ticket(deps, workspace_id, record.target_id)
    # The source has been frozen since step 1 (merged tickets take no messages or changes).
    messages = deps.store.list_messages(workspace_id, source.id, MAX_MERGED_MESSAGES + 1)
    deps.store.merge_messages(source, target, messages)

    def absorb() -> Ticket:
        current = get_ticket(deps, workspace_id, target.id)
        latest_record = deps.store.get_merge(workspace_id, source.id)
        if latest_record is None or latest_record.status is MergeStatus.DONE:
            return current  # a concurrent retry of this merge finished it
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
            merged_from=(*current.merged_from, source.number)[-MAX_MERGED_FROM:],
            message_count=current.message_count + latest_record.message_count,
            last_customer_message_id=latest_customer,
            updated_at=now,
            last_activity_at=now,
            revision=current.revision + 1,
        )
        deps.store.finish_merge(
            current,
            updated,
            [activity(current, latest_record.actor, "merged_in", None, f"#{source.number}", now)],
            replace(latest_record, status=MergeStatus.DONE, finished_at=now),
        )
        return updated

    merged = retrying(absorb)
    for ticket_id in (source.id, target.id):
        deps.events.publish(
            "ticket.updated",
            workspace_id,
            {"ticket_id": ticket_id, "actor": record.actor, "changes": ["merged"]},
        )
    return merged
