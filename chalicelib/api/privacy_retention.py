"""Retention policy of closed tickets: owners and admins read and set how many months solved
and closed tickets are kept after their last activity (the hourly `privacy_retention_job`
removes the older ones).  Open while the workspace is read-only (chalicelib/api/plan_gate.py:
`/v1/privacy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import RetentionIn, RetentionOut

schemas = lazy_module("chalicelib.api.schemas")
retention = lazy_module("chalicelib.privacy.retention")
bp = Blueprint(__name__)
TAG = "privacy"


@operation(
    bp,
    "GET",
    "/v1/privacy/retention",
    summary="The workspace's retention of closed tickets, and what its schedule last removed",
    tag=TAG,
    response="RetentionOut",
    roles=MANAGERS,
)
def read_retention(call: Call) -> RetentionOut:
    policy = retention.policy_of(bootstrap.retention_deps(), call.member.workspace_id)
    return schemas.RetentionOut.of(policy)


@operation(
    bp,
    "PUT",
    "/v1/privacy/retention",
    summary="Set how many months solved and closed tickets are kept after their last activity",
    description="`closed_tickets_after_months` from 1 to 120, or null to keep them forever. "
    "An hourly schedule removes the solved and closed tickets whose last activity is older "
    "(the whole ticket: messages, attachments, raw mail, AI results, search entries), a "
    "bounded number each run; `last_applied_at` and `last_deleted` say what it did.",
    tag=TAG,
    body="RetentionIn",
    response="RetentionOut",
    roles=MANAGERS,
)
def set_retention(call: Call) -> RetentionOut:
    body: RetentionIn = call.body
    policy = retention.set_policy(
        bootstrap.retention_deps(),
        call.member.workspace_id,
        call.member.actor,
        body.closed_tickets_after_months,
    )
    return schemas.RetentionOut.of(policy)
