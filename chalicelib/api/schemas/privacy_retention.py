"""Retention policy of closed tickets: how many months a workspace keeps its solved and
closed tickets after their last activity, and what the schedule last removed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from chalicelib.api.schemas.common import Incoming, Outgoing

if TYPE_CHECKING:
    from chalicelib.privacy.retention import RetentionPolicy

MIN_MONTHS = 1
MAX_MONTHS = 120


class RetentionIn(Incoming):
    closed_tickets_after_months: int | None = Field(
        ge=MIN_MONTHS,
        le=MAX_MONTHS,
        description="Solved and closed tickets are removed this many months (1 to 120) after "
        "their last activity; null keeps them forever.",
    )


class RetentionOut(Outgoing):
    closed_tickets_after_months: int | None = Field(
        description="Months solved and closed tickets are kept after their last activity "
        "(null: forever)."
    )
    updated_at: datetime | None = Field(description="When the rule was last set (null: never).")
    updated_by: str | None = Field(
        description="Who set it (`user:<id>` or `api_key:<id>`; null: never set)."
    )
    last_applied_at: datetime | None = Field(
        description="When the hourly schedule last applied the rule (null: not yet)."
    )
    last_deleted: int = Field(description="Tickets that run deleted.")
    deleted_total: int = Field(description="Tickets the rule has deleted in all.")

    @classmethod
    def of(cls, policy: RetentionPolicy) -> RetentionOut:
        return cls(
            closed_tickets_after_months=policy.closed_tickets_after_months,
            updated_at=policy.updated_at,
            updated_by=policy.updated_by,
            last_applied_at=policy.last_applied_at,
            last_deleted=policy.last_removed,
            deleted_total=policy.removed_total,
        )
