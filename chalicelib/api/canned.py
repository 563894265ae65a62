"""Canned responses (saved replies) and applying them to a ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import Role
from chalicelib.api.routing import Call, operation
from chalicelib.api.tickets import message_out, ticket_out
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        CannedApplyIn,
        CannedApplyOut,
        CannedResponseIn,
        CannedResponseOut,
        CannedResponsePatchIn,
        CannedResponseQuery,
        CannedResponsesOut,
    )
    from chalicelib.tickets.canned import CannedResponse

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
canned = lazy_module("chalicelib.tickets.canned")
model = lazy_module("chalicelib.tickets.model")
CANNED_AUTHORS = frozenset(Role)  # every member writes saved replies
bp = Blueprint(__name__)


def canned_out(response: CannedResponse) -> CannedResponseOut:
    return schemas.CannedResponseOut(
        id=response.id,
        name=response.name,
        body=response.body,
        locale=response.locale,
        set_status=response.set_status.value if response.set_status else None,
        add_tags=response.add_tags,
        placeholders=canned.placeholders_in(response.body),
        created_by=response.created_by,
        created_at=response.created_at,
        updated_at=response.updated_at,
    )


@operation(
    bp,
    "POST",
    "/v1/canned-responses",
    summary="Save a canned response (a reply with placeholders, status and tags)",
    tag="canned-responses",
    body="CannedResponseIn",
    response="CannedResponseOut",
    status=201,
    roles=CANNED_AUTHORS,
    errors=(400, 401, 403, 409, 422),
)
def create_canned_response(call: Call) -> CannedResponseOut:
    body: CannedResponseIn = call.body
    draft = canned.CannedDraft(
        name=body.name,
        body=body.body,
        locale=body.locale,
        set_status=model.TicketStatus(body.set_status) if body.set_status else None,
        add_tags=body.add_tags,
    )
    return canned_out(canned.create_canned_response(bootstrap.canned_deps(), call.member, draft))


@operation(
    bp,
    "GET",
    "/v1/canned-responses",
    summary="Canned responses by name; `q` keeps names starting with it",
    tag="canned-responses",
    query="CannedResponseQuery",
    response="CannedResponsesOut",
    errors=(400, 401, 422),
)
def list_canned_responses(call: Call) -> CannedResponsesOut:
    query: CannedResponseQuery = call.query
    page = canned.list_canned_responses(
        bootstrap.canned_deps(), call.member.workspace_id, query.q, query.cursor, query.limit
    )
    return schemas.CannedResponsesOut(
        canned_responses=[canned_out(c) for c in page.canned_responses],
        next_cursor=page.next_cursor,
    )


@operation(
    bp,
    "GET",
    "/v1/canned-responses/{canned_id}",
    summary="A canned response",
    tag="canned-responses",
    response="CannedResponseOut",
    errors=(401, 404),
)
def get_canned_response(call: Call) -> CannedResponseOut:
    return canned_out(
        canned.get_canned_response(
            bootstrap.canned_deps(), call.member.workspace_id, call.params["canned_id"]
        )
    )


@operation(
    bp,
    "PATCH",
    "/v1/canned-responses/{canned_id}",
    summary="Change a canned response's name, body, language, status or tags",
    tag="canned-responses",
    body="CannedResponsePatchIn",
    response="CannedResponseOut",
    roles=CANNED_AUTHORS,
    errors=(400, 401, 403, 404, 409, 422),
)
def patch_canned_response(call: Call) -> CannedResponseOut:
    body: CannedResponsePatchIn = call.body
    changes = canned.CannedChanges(
        name=body.name,
        body=body.body,
        locale=body.locale,
        set_status=model.TicketStatus(body.set_status) if body.set_status else None,
        clear_status="set_status" in body.model_fields_set and body.set_status is None,
        add_tags=body.add_tags,
    )
    return canned_out(
        canned.update_canned_response(
            bootstrap.canned_deps(), call.member.workspace_id, call.params["canned_id"], changes
        )
    )


@operation(
    bp,
    "DELETE",
    "/v1/canned-responses/{canned_id}",
    summary="Delete a canned response",
    tag="canned-responses",
    status=204,
    roles=CANNED_AUTHORS,
    errors=(401, 403, 404, 409),
)
def delete_canned_response(call: Call) -> None:
    canned.delete_canned_response(
        bootstrap.canned_deps(), call.member.workspace_id, call.params["canned_id"]
    )


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/canned-responses/{canned_id}/apply",
    summary="Render a canned response for a ticket; with `send`, reply and apply status/tags",
    tag="canned-responses",
    body="CannedApplyIn",
    response="CannedApplyOut",
    roles=CANNED_AUTHORS,
    errors=(400, 401, 403, 404, 409, 422),
)
def apply_canned_response(call: Call) -> CannedApplyOut:
    body: CannedApplyIn = call.body
    applied = canned.apply_canned_response(
        bootstrap.canned_deps(),
        call.member,
        call.params["ticket_id"],
        call.params["canned_id"],
        send=body.send,
        last_seen_message_id=body.last_seen_message_id,
    )
    return schemas.CannedApplyOut(
        body=applied.body,
        set_status=applied.set_status.value if applied.set_status else None,
        add_tags=applied.add_tags,
        sent=applied.message is not None,
        ticket=schemas.TicketOut(**ticket_out(applied.ticket)) if applied.ticket else None,
        message=message_out(applied.message) if applied.message else None,
    )
