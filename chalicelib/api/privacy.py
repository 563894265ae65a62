"""Privacy in the workspace: the planned sub-processor changes in their notice period (the
in-product notice, dismissed per member), objections to them and the termination with
refund that an objection allows.  Owners and admins see; only owners object and confirm.
Open while the workspace is read-only (chalicelib/api/plan_gate.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS, Role
from chalicelib.api.routing import Call, operation
from chalicelib.errors import NotFound
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ChangeNoticeOut,
        ChangeNoticesOut,
        ObjectionIn,
        ObjectionOut,
        ObjectionsOut,
    )

schemas = lazy_module("chalicelib.api.schemas")
objections = lazy_module("chalicelib.privacy.objections")
bp = Blueprint(__name__)
TAG = "privacy"
OWNERS = frozenset({Role.OWNER})
# Ids in paths: anything else names nothing (404), whatever it is.
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def _id(call: Call, name: str) -> str:
    value = call.params.get(name, "")
    if not _ID.fullmatch(value):
        raise NotFound("There is nothing here by that id.")
    return value


@operation(
    bp,
    "GET",
    "/v1/privacy/subprocessor-changes",
    summary="The planned sub-processor changes in their notice period, with whether the "
    "caller dismissed each one's notice and the workspace's objection",
    description="A change is in its notice period from its announcement until it takes "
    "effect; during that time an owner may object to it (`POST /v1/privacy/objections`).",
    tag=TAG,
    response="ChangeNoticesOut",
    roles=MANAGERS,
)
def list_subprocessor_changes(call: Call) -> ChangeNoticesOut:
    from chalicelib.privacy.model import NOTICE_DAYS

    notices = objections.upcoming_changes(
        bootstrap.objection_deps(), call.member.workspace_id, call.member.actor
    )
    base = get_settings().public_base_url.rstrip("/")
    return schemas.ChangeNoticesOut(
        changes=[schemas.ChangeNoticeOut.of(n) for n in notices],
        notice_days=NOTICE_DAYS,
        page_url=f"{base}/legal/subprocessors",
        changelog_url=f"{base}/legal/subprocessors/changelog",
    )


@operation(
    bp,
    "POST",
    "/v1/privacy/subprocessor-changes/{change_id}/dismiss",
    summary="Dismiss a change's in-product notice, for the caller only",
    description="404 for an unknown change; 409 `not_in_notice_period` for a change that "
    "has no notice now (not yet announced, or in force).",
    tag=TAG,
    response="ChangeNoticeOut",
    roles=MANAGERS,
    errors=(409,),
)
def dismiss_subprocessor_change(call: Call) -> ChangeNoticeOut:
    notice = objections.dismiss(
        bootstrap.objection_deps(),
        call.member.workspace_id,
        call.member.actor,
        _id(call, "change_id"),
    )
    return schemas.ChangeNoticeOut.of(notice)


@operation(
    bp,
    "POST",
    "/v1/privacy/objections",
    summary="Object to a planned sub-processor change on data-protection grounds",
    description="Taken while the change is in its notice period (409 "
    "`not_in_notice_period` otherwise), once per workspace and change (409 "
    "`already_objected`); the owners are mailed that it was received. The subscription "
    "goes on until an owner confirms the termination (`POST "
    "/v1/privacy/objections/{objection_id}/confirm`). 404 for an unknown change.",
    tag=TAG,
    body="ObjectionIn",
    response="ObjectionOut",
    status=201,
    roles=OWNERS,
    errors=(409,),
)
def object_to_change(call: Call) -> ObjectionOut:
    body: ObjectionIn = call.body
    objection = objections.object_to_change(
        bootstrap.objection_deps(),
        call.member.workspace_id,
        call.member.actor,
        body.change_id,
        body.reason,
    )
    return schemas.ObjectionOut.of(objection)


@operation(
    bp,
    "GET",
    "/v1/privacy/objections",
    summary="The workspace's objections to sub-processor changes, newest first",
    tag=TAG,
    response="ObjectionsOut",
    roles=MANAGERS,
)
def list_objections(call: Call) -> ObjectionsOut:
    found = objections.objections_of(bootstrap.objection_deps(), call.member.workspace_id)
    return schemas.ObjectionsOut(objections=[schemas.ObjectionOut.of(o) for o in found])


@operation(
    bp,
    "POST",
    "/v1/privacy/objections/{objection_id}/confirm",
    summary="Confirm the termination an objection allows: the paid subscription ends now "
    "and the prepaid fees for the unused part of the term are refunded",
    description="The refund goes back through the processor that took the payment; the "
    "owners are mailed it. The workspace drops to the free plan; nothing is deleted. "
    "Asked again, answers the same (one refund). 409 `no_subscription` when the workspace "
    "has no paid subscription, or it ended before (the objection stays recorded, `status` "
    "`no_subscription`). 409 `processor_refused` or 503 `processor_unavailable` when the "
    "processor refuses or does not answer: nothing ended, the objection unchanged.",
    tag=TAG,
    response="ObjectionOut",
    roles=OWNERS,
    errors=(409,),
)
def confirm_termination(call: Call) -> ObjectionOut:
    objection = objections.confirm_termination(
        bootstrap.objection_deps(),
        call.member.workspace_id,
        call.member.actor,
        _id(call, "objection_id"),
    )
    return schemas.ObjectionOut.of(objection)
