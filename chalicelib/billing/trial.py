"""The billing account a new workspace starts with: a trial of TRIAL_PLAN, no card."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.billing.model import BillingAccount, BillingStatus
from chalicelib.billing.plans import TRIAL_DAYS, TRIAL_PLAN, TRIAL_SEATS


def new_trial(workspace_id: str, now: datetime, seats_used: int = 1) -> BillingAccount:
    """A TRIAL_DAYS trial from `now`; `seats_used` counts the members it starts with."""
    return BillingAccount(
        workspace_id=workspace_id,
        plan_id=TRIAL_PLAN.id,
        status=BillingStatus.TRIALING,
        seats_paid=TRIAL_SEATS,
        seats_used=seats_used,
        created_at=now,
        updated_at=now,
        trial_ends_at=now + timedelta(days=TRIAL_DAYS),
    )
