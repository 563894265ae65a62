"""`make run` plans the move of hosting to AWS ap-southeast-1 (replacing Vultr,
DigitalOcean, Neon and Upstash) 40 days out, as an operator would with `python -m
infra.subprocessors plan --file infra/subprocessor_changes/aws-hosting.json`, so that the
public pages show it as upcoming and the notice flow has a change to announce.

Once per table: nothing is recorded when a change bringing that provider in exists."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from infra.template import PROJECT_DIR

if TYPE_CHECKING:
    from chalicelib.privacy.model import PlannedChange

HOSTING_CHANGE = PROJECT_DIR / "infra" / "subprocessor_changes" / "aws-hosting.json"
DAYS_AHEAD = 40


def record_hosting_change(now: datetime | None = None) -> PlannedChange | None:
    """Plans the hosting change to take effect at midnight UTC 40 days after `now` (one
    Query, one PutItem); None when it is recorded already.  Run after the table exists."""
    from chalicelib.privacy.records import draft_fields
    from chalicelib.privacy.registry import ChangeDraft, plan_change
    from chalicelib.store.subprocessor_changes_repo import DynamoSubprocessorChanges

    store = DynamoSubprocessorChanges()
    fields = draft_fields(json.loads(HOSTING_CHANGE.read_text(encoding="utf-8")))
    newcomer = fields["subprocessor"].id
    if any(c.subprocessor and c.subprocessor.id == newcomer for c in store.all_changes()):
        return None
    now = now or datetime.now(UTC)
    day = (now + timedelta(days=DAYS_AHEAD)).date()
    fields["effective_at"] = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return plan_change(store, ChangeDraft(planned_by="devstack", **fields), now)


def seed_subprocessor_changes() -> None:
    """`record_hosting_change`, saying what it did."""
    change = record_hosting_change()
    if change is None:
        print("sub-processors: the hosting change is planned already", flush=True)
    else:
        print(
            f"sub-processors: hosting moves to AWS on {change.effective_at:%Y-%m-%d} "
            "(upcoming on /legal/subprocessors)",
            flush=True,
        )
