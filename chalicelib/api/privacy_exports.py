"""Data-subject exports: owners and admins ask for everything held about one contact (or
the whole workspace), follow its build, download it through a 15-minute link, and read the
log of the workspace's requests.  Open while the workspace is read-only
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
    from chalicelib.api.schemas import ExportIn, ExportOut, ExportsOut

schemas = lazy_module("chalicelib.api.schemas")
exports = lazy_module("chalicelib.privacy.exports")
bp = Blueprint(__name__)
TAG = "privacy"
# Ids in paths: anything else names nothing (404), whatever it is.
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


@operation(
    bp,
    "POST",
    "/v1/privacy/exports",
    summary="Ask for a data-subject export: everything held about one contact, or the "
    "whole workspace",
    description="Recorded and queued; the answer is `pending`. Read it with `GET "
    "/v1/privacy/exports/{export_id}` until it is `ready`, then download the ZIP from its "
    "`download_url`. A contact's bundle holds `manifest.json`, `contact.json`, "
    "`tickets/<number>.json` (their tickets and chats with the messages they could see; "
    "internal notes are left out), `attachments/`, `raw_mail/`, `bookings.json`, "
    "`ai_results.json` and `feedback.json`. The workspace's bundle holds every contact, "
    "ticket and chat (internal notes included) with its attachments and raw mail, the AI "
    "results, the bookings, and the chat answers' and help-centre articles' feedback. "
    "404 `contact_not_found` when no contact has the address (nothing is recorded).",
    tag=TAG,
    body="ExportIn",
    response="ExportOut",
    status=202,
    roles=MANAGERS,
)
def request_export(call: Call) -> ExportOut:
    body: ExportIn = call.body
    view = exports.request_export(
        bootstrap.export_deps(), call.member.workspace_id, call.member.actor, body.contact_email
    )
    return schemas.ExportOut.of(view)


@operation(
    bp,
    "GET",
    "/v1/privacy/exports",
    summary="The workspace's data-subject exports, newest first: who asked, when, for what",
    tag=TAG,
    response="ExportsOut",
    roles=MANAGERS,
)
def list_exports(call: Call) -> ExportsOut:
    found = exports.exports_of(bootstrap.export_deps(), call.member.workspace_id)
    return schemas.ExportsOut(exports=[schemas.ExportOut.of(v) for v in found])


@operation(
    bp,
    "GET",
    "/v1/privacy/exports/{export_id}",
    summary="An export's status, progress and counts; while it is ready, a new download "
    "link valid 15 minutes",
    tag=TAG,
    response="ExportOut",
    roles=MANAGERS,
)
def read_export(call: Call) -> ExportOut:
    export_id = call.params.get("export_id", "")
    if not _ID.fullmatch(export_id):
        raise NotFound("There is no export by that id.", code="export_not_found")
    view = exports.view_export(bootstrap.export_deps(), call.member.workspace_id, export_id)
    return schemas.ExportOut.of(view)
