"""The record that drives one merge of a ticket into another (a unit of work).

Written first, in the same transaction that marks the source as merged into the target;
completed last, in the same transaction that folds the source into the target.  Between
the two, copying the messages is idempotent, so a retried or resumed merge redoes it safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MergeStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


@dataclass(frozen=True)
class MergeRecord:
    workspace_id: str
    source_id: str
    target_id: str
    actor: str
    message_count: int  # the source's messages when the merge began (the source is frozen)
    status: MergeStatus
    started_at: datetime
    finished_at: datetime | None = None
