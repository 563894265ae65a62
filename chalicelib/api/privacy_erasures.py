"""Data-subject erasures: owners and admins ask for everything held about one person to be
erased, follow it phase by phase, and read the workspace's log of them (who asked, when,
how many of each class; never what).  Open while the workspace is read-only
(chalicelib/api/plan_gate.py: `/v1/privacy`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.errors import NotFound
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import ErasureIn, ErasureOut, ErasuresOut

schemas = lazy_module("chalicelib.api.schemas")
erasure = lazy_module("chalicelib.privacy.erasure")
bp = Blueprint(__name__)
TAG = "privacy"
# Ids in paths: anything else names nothing (404), whatever it is.
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


@operation(
    bp,
    "POST",
    "/v1/privacy/erasures",
    summary="Erase a person: everything the workspace holds about one e-mail address",
    description="Recorded and queued; the answer is `pending`. A job then goes through "
    "each class of data in turn: the tickets and chats they asked for are deleted whole "
    "(messages, attachments, raw mail, AI results, search entries, notifications about "
    "them); their address is replaced by `[erased]` wherever another ticket mentions it; "
    "bookings they made are anonymised (the host's time stays taken); mail to and from "
    "them, exports holding them and messages waiting in the product's queues are removed; "
    "last, the contact record. This cannot be undone. Follow it with `GET "
    "/v1/privacy/erasures/{erasure_id}`. Asking again for an address being erased answers "
    "the running erasure; a failed one is resumed.",
    tag=TAG,
    body="ErasureIn",
    response="ErasureOut",
    status=202,
    roles=MANAGERS,
)
def request_erasure(call: Call) -> ErasureOut:
    body: ErasureIn = call.body
    found = erasure.request_erasure(
        bootstrap.erasure_deps(), call.member.workspace_id, call.member.actor, body.email
    )
    return schemas.ErasureOut.of(found)


@operation(
    bp,
    "GET",
    "/v1/privacy/erasures",
    summary="The workspace's erasures, newest first: who asked, when, what was removed",
    tag=TAG,
    response="ErasuresOut",
    roles=MANAGERS,
)
def list_erasures(call: Call) -> ErasuresOut:
    found = erasure.erasures_of(bootstrap.erasure_deps(), call.member.workspace_id)
    return schemas.ErasuresOut(erasures=[schemas.ErasureOut.of(e) for e in found])


@operation(
    bp,
    "GET",
    "/v1/privacy/erasures/{erasure_id}",
    summary="An erasure's status, the classes of data gone through and the counts",
    tag=TAG,
    response="ErasureOut",
    roles=MANAGERS,
)
def read_erasure(call: Call) -> ErasureOut:
    erasure_id = call.params.get("erasure_id", "")
    found = (
        erasure.view_erasure(bootstrap.erasure_deps(), call.member.workspace_id, erasure_id)
        if _ID.fullmatch(erasure_id)
        else None
    )
    if found is None:
        raise NotFound("There is no erasure by that id.", code="erasure_not_found")
    return schemas.ErasureOut.of(found)
