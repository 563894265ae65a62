"""Inbox counts: per status, per assignee and unassigned (the last two count active tickets,
i.e. not solved or closed), and per tag (every ticket: the workspace's tag vocabulary).
Kept up to date in the same transaction as each ticket write, so reading them is one small
Query however large the inbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from chalicelib.tickets.model import Ticket, TicketStatus


def _buckets(ticket: Ticket | None) -> Counter[str]:
    if ticket is None or ticket.merged_into:
        return Counter()
    buckets = Counter({f"status:{ticket.status.value}": 1})
    if ticket.status.is_active:
        buckets[f"assignee:{ticket.assignee_id}" if ticket.assignee_id else "unassigned"] += 1
    for tag in ticket.tags:
        buckets[f"tag:{tag}"] += 1
    return buckets


def count_deltas(before: Ticket | None, after: Ticket | None) -> dict[str, int]:
    """How each count changes when a ticket goes from `before` to `after`."""
    delta = Counter(_buckets(after))
    delta.subtract(_buckets(before))
    return {bucket: change for bucket, change in delta.items() if change}


@dataclass(frozen=True)
class InboxCounts:
    by_status: dict[str, int]
    mine: int
    unassigned: int


def inbox_counts(raw: dict[str, int], user_id: str | None) -> InboxCounts:
    return InboxCounts(
        by_status={s.value: max(0, raw.get(f"status:{s.value}", 0)) for s in TicketStatus},
        mine=max(0, raw.get(f"assignee:{user_id}", 0)) if user_id else 0,
        unassigned=max(0, raw.get("unassigned", 0)),
    )


def tag_vocabulary(raw: dict[str, int], limit: int) -> list[str]:
    """The workspace's tags in use, most used first (ties alphabetical)."""
    used = [(count, bucket[4:]) for bucket, count in raw.items() if bucket.startswith("tag:")]
    return [tag for count, tag in sorted(used, key=lambda u: (-u[0], u[1])) if count > 0][:limit]
