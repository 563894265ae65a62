"""The inbox: tickets, their messages, replies and notes."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import etags
from chalicelib.api.routing import Call, operation
from chalicelib.ids import new_id
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        AttachmentUploadIn,
        AttachmentUploadOut,
        MergeIn,
        MessageIn,
        MessageOut,
        TicketDetailOut,
        TicketIn,
        TicketListOut,
        TicketOut,
        TicketPatchIn,
        TicketQuery,
        TicketsBulkIn,
        TicketsBulkOut,
        ViewersOut,
    )
    from chalicelib.tickets.model import Message, Ticket

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
conversation = lazy_module("chalicelib.tickets.conversation")
inbox = lazy_module("chalicelib.tickets.inbox")
lifecycle = lazy_module("chalicelib.tickets.lifecycle")
merging = lazy_module("chalicelib.tickets.merging")
model = lazy_module("chalicelib.tickets.model")
presence = lazy_module("chalicelib.tickets.presence")
ai_requests = lazy_module("chalicelib.ai.requests")
ai_tickets = lazy_module("chalicelib.api.ai_tickets")
bp = Blueprint(__name__)


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "requester": {
            "id": ticket.requester_id,
            "email": ticket.requester_email,
            "name": ticket.requester_name,
        },
        "cc": ticket.cc,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "assignee_id": ticket.assignee_id,
        "tags": ticket.tags,
        "channel": ticket.channel.value,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "last_activity_at": ticket.last_activity_at,
        "first_response_at": ticket.first_response_at,
        "solved_at": ticket.solved_at,
        "message_count": ticket.message_count,
        "last_customer_message_id": ticket.last_customer_message_id,
        "merged_into": ticket.merged_into,
        "merged_from": list(ticket.merged_from),
        "follow_up_of": ticket.follow_up_of,
        "sender_verified": ticket.sender_verified,
        "unverified_reply_to": ticket.unverified_reply_to,
    }


def message_out(message: Message) -> MessageOut:
    return schemas.MessageOut(
        id=message.id,
        kind=message.kind.value,
        author=message.author,
        from_address=message.from_address,
        to=message.to,
        cc=message.cc,
        subject=message.subject,
        text=message.text,
        html=message.html,
        quoted_text=message.quoted_text,
        attachments=[
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "url": f"/v1/tickets/{message.ticket_id}/attachments/{a.id}",
            }
            for a in message.attachments
        ],
        delivery=message.delivery.value,
        delivery_detail=message.delivery_detail,
        created_at=message.created_at,
        original=(
            {"text": message.original_text, "language": message.original_language}
            if message.original_text is not None
            else None
        ),
        sender_verified=message.sender_verified,
        from_member=message.from_member,
        mentions=message.mentions,
        chat=(
            {
                "page_url": message.chat.page_url,
                "language": message.chat.language,
                "local_time": message.chat.local_time,
            }
            if message.chat is not None
            else None
        ),
        citations=[asdict(c) for c in message.citations],
    )


@operation(
    bp,
    "POST",
    "/v1/tickets",
    summary="Open a ticket on behalf of a requester",
    tag="tickets",
    body="TicketIn",
    response="TicketOut",
    status=201,
    errors=(400, 401, 422),
)
def create_ticket(call: Call) -> TicketOut:
    body: TicketIn = call.body
    principal = call.member
    deps = bootstrap.ticket_deps()
    new = lifecycle.NewTicket(
        requester_email=str(body.requester.email),
        requester_name=body.requester.name,
        subject=body.subject,
        channel=model.Channel.API,
        cc=[str(c) for c in body.cc],
        tags=body.tags,
        priority=model.Priority(body.priority),
        status=model.TicketStatus(body.status),
        assignee_id=body.assignee_id,
    )

    def first_message(ticket: Ticket) -> Message:
        return model.Message(
            id=new_id(),
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            kind=model.MessageKind.CUSTOMER,
            author=principal.actor,
            from_address=None,
            to=[],
            cc=[],
            subject=ticket.subject,
            text=body.body,
            html=conversation.text_to_html(body.body),
            quoted_text=None,
            message_id=None,
            in_reply_to=[],
            references=[],
            attachments=[],
            delivery=model.DeliveryStatus.RECEIVED,
            created_at=ticket.created_at,
        )

    ticket = lifecycle.open_ticket(
        deps, principal.workspace_id, principal.actor, new, first_message
    )
    return schemas.TicketOut(**ticket_out(ticket))


@operation(
    bp,
    "GET",
    "/v1/tickets",
    summary="The inbox: tickets, newest activity first",
    tag="tickets",
    query="TicketQuery",
    response="TicketListOut",
    errors=(400, 401, 422),
)
def list_tickets(call: Call) -> TicketListOut:
    query: TicketQuery = call.query
    principal = call.member
    assignee = principal.user_id if query.assignee == "me" else query.assignee
    filters = model.TicketFilter(
        status=model.TicketStatus(query.status) if query.status else None,
        assignee=assignee or None,
        tag=query.tag.lower() if query.tag else None,
        requester_id=query.requester,
    )
    deps = bootstrap.ticket_deps()
    if query.q:
        page = inbox.search_tickets(
            deps,
            bootstrap.search_index(),
            principal.workspace_id,
            query.q,
            filters,
            query.cursor,
            query.limit,
        )
    else:
        page = inbox.list_tickets(deps, principal.workspace_id, filters, query.cursor, query.limit)
    return schemas.TicketListOut(
        tickets=[ticket_out(t) for t in page.tickets], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}",
    summary="A ticket (by id or number) with its messages and activity",
    tag="tickets",
    response="TicketDetailOut",
    errors=(401, 404),
)
def get_ticket(call: Call) -> TicketDetailOut:
    view = inbox.ticket_view(
        bootstrap.ticket_deps(), call.member.workspace_id, call.params["ticket_id"]
    )
    triage = ai_requests.ticket_triage(bootstrap.ai_store(), view.ticket)
    return schemas.TicketDetailOut(
        **ticket_out(view.ticket),
        messages=[message_out(m) for m in view.messages],
        activity=[schemas.ActivityOut.model_validate(a) for a in view.activity],
        ai={"triage": ai_tickets.triage_out(triage)} if triage else None,
    )


@operation(
    bp,
    "PATCH",
    "/v1/tickets",
    summary="The same change on several tickets (at most 50): status, priority, assignee, "
    "tags added or removed",
    description="Each ticket is changed on its own, as by `PATCH /v1/tickets/{ticket_id}`; a "
    "ticket that cannot be (not found, merged) is reported in its result without stopping "
    "the others. Tags are added to and removed from the tags each ticket has when it is "
    "written. An unknown assignee or an invalid tag refuses the whole request (422) before "
    "any change.",
    tag="tickets",
    body="TicketsBulkIn",
    response="TicketsBulkOut",
    errors=(400, 401, 415, 422),
)
def patch_tickets(call: Call) -> TicketsBulkOut:
    body: TicketsBulkIn = call.body
    wanted = body.changes
    changes = lifecycle.TicketChanges(
        status=model.TicketStatus(wanted.status) if wanted.status else None,
        priority=model.Priority(wanted.priority) if wanted.priority else None,
        assignee_id=wanted.assignee_id,
        unassign="assignee_id" in wanted.model_fields_set and wanted.assignee_id is None,
        add_tags=wanted.add_tags,
        remove_tags=wanted.remove_tags,
    )
    outcomes = lifecycle.change_tickets(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        body.ticket_ids,
        call.member.actor,
        changes,
    )
    results = [
        schemas.TicketBulkResultOut(
            ticket_id=o.ticket.id if o.ticket else o.ticket_ref,
            ticket=schemas.TicketOut(**ticket_out(o.ticket)) if o.ticket else None,
            error=schemas.BulkErrorOut(code=o.error.code, message=o.error.message)
            if o.error
            else None,
        )
        for o in outcomes
    ]
    failed = sum(1 for r in results if r.error)
    return schemas.TicketsBulkOut(results=results, changed=len(results) - failed, failed=failed)


@operation(
    bp,
    "PATCH",
    "/v1/tickets/{ticket_id}",
    summary="Change status, priority, assignee, tags or subject",
    tag="tickets",
    body="TicketPatchIn",
    response="TicketOut",
    errors=(400, 401, 404, 409, 422),
)
def patch_ticket(call: Call) -> TicketOut:
    body: TicketPatchIn = call.body
    sent = body.model_fields_set
    changes = lifecycle.TicketChanges(
        status=model.TicketStatus(body.status) if body.status else None,
        priority=model.Priority(body.priority) if body.priority else None,
        assignee_id=body.assignee_id,
        unassign="assignee_id" in sent and body.assignee_id is None,
        tags=body.tags,
        subject=body.subject,
    )
    ticket = lifecycle.change_ticket(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        call.params["ticket_id"],
        call.member.actor,
        changes,
    )
    return schemas.TicketOut(**ticket_out(ticket))


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/messages",
    summary="Reply to the requester (sent by e-mail) or add an internal note",
    tag="tickets",
    body="MessageIn",
    response="MessageOut",
    status=201,
    errors=(400, 401, 404, 409, 422),
)
def post_message(call: Call) -> MessageOut:
    body: MessageIn = call.body
    principal = call.member
    deps = bootstrap.ticket_deps()
    workspace = call.workspace(deps.accounts)
    member = (
        deps.accounts.get_member(workspace.id, principal.user_id) if principal.user_id else None
    )
    original_text = original_language = None
    if body.translation_id:
        original_text, original_language = ai_requests.translated_reply_original(
            bootstrap.ai_deps(),
            principal.workspace_id,
            call.params["ticket_id"],
            body.translation_id,
        )
    _, posted = conversation.post_agent_message(
        deps,
        workspace,
        call.params["ticket_id"],
        principal.actor,
        member.name if member else workspace.name,
        principal.user_id,
        conversation.AgentMessage(
            kind=model.MessageKind(body.kind),
            body=body.body,
            cc=[str(c) for c in body.cc],
            last_seen_message_id=body.last_seen_message_id,
            original_text=original_text,
            original_language=original_language,
            attachment_ids=tuple(body.attachment_ids),
        ),
    )
    return message_out(posted)


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/attachments",
    summary="Start an attachment upload for a reply or note: a presigned S3 POST",
    description=(
        "Name the file; the answer is where to POST it (valid 15 minutes) and its `id`, which "
        "a reply or note on this ticket lists in `attachment_ids` within a day. Types: PDF, "
        "PNG, JPEG, GIF, WebP, plain text, CSV, .docx, .xlsx, .pptx; never programs or "
        "scripts (by name, and by content when attached). At most 15 MB a file, 10 files "
        "and 18 MB a message (what a mail can carry). Errors: 413 `attachment_too_large`; "
        "422 `attachment_type_refused`, `validation_failed`. When a reply or note uses it: "
        "422 `attachment_not_usable` (not uploaded, another ticket's or workspace's, "
        "expired), `attachment_type_refused` (its first bytes are not its type), "
        "`too_many_attachments`; 409 `attachment_already_used`; 413 `attachments_too_large`."
    ),
    tag="tickets",
    body="AttachmentUploadIn",
    response="AttachmentUploadOut",
    status=201,
    errors=(400, 401, 404, 413, 422),
)
def start_attachment_upload(call: Call) -> AttachmentUploadOut:
    body: AttachmentUploadIn = call.body
    permit = conversation.start_attachment_upload(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        call.params["ticket_id"],
        call.member.actor,
        body.filename,
        body.content_type,
        body.size,
    )
    upload = permit.upload
    return schemas.AttachmentUploadOut(
        id=upload.id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        upload_url=permit.upload_url,
        fields=permit.fields,
        max_bytes=permit.max_bytes,
        upload_expires_at=permit.upload_expires_at,
        attach_before=upload.expires_at,
    )


@operation(
    bp,
    "GET",
    "/v1/tickets/{ticket_id}/attachments/{attachment_id}",
    summary="Download an attachment (redirects to a link valid for 5 minutes)",
    tag="tickets",
    status=302,
    errors=(401, 404),
)
def download_attachment(call: Call) -> Response:
    url = inbox.attachment_download_url(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        call.params["ticket_id"],
        call.params["attachment_id"],
    )
    return Response(body="", status_code=302, headers={"Location": url})


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/merge",
    summary="Merge this ticket into another (messages move; this one closes)",
    tag="tickets",
    body="MergeIn",
    response="TicketOut",
    errors=(400, 401, 404, 409, 422),
)
def merge_ticket(call: Call) -> TicketOut:
    body: MergeIn = call.body
    merged = merging.merge_tickets(
        bootstrap.ticket_deps(),
        call.member.workspace_id,
        call.params["ticket_id"],
        body.into,
        call.member.actor,
    )
    return schemas.TicketOut(**ticket_out(merged))


@operation(
    bp,
    "POST",
    "/v1/tickets/{ticket_id}/viewing",
    summary="Heartbeat while a ticket is open; lists teammates viewing it too",
    tag="tickets",
    response="ViewersOut",
    errors=(401, 404),
)
def viewing(call: Call) -> ViewersOut:
    principal = call.member
    deps = bootstrap.ticket_deps()
    member = (
        deps.accounts.get_member(principal.workspace_id, principal.user_id)
        if principal.user_id
        else None
    )
    viewer_id = principal.user_id or principal.actor
    others = presence.viewing(
        deps,
        principal.workspace_id,
        call.params["ticket_id"],
        viewer_id,
        member.name if member else principal.actor,
    )
    return schemas.ViewersOut(viewers=[schemas.ViewerOut.model_validate(v) for v in others])


@operation(
    bp,
    "DELETE",
    "/v1/tickets/{ticket_id}/viewing",
    summary="The ticket was closed: teammates stop seeing the caller viewing it",
    tag="tickets",
    status=204,
    errors=(401, 404),
)
def stop_viewing(call: Call) -> None:
    principal = call.member
    presence.stop_viewing(
        bootstrap.ticket_deps(),
        principal.workspace_id,
        call.params["ticket_id"],
        principal.user_id or principal.actor,
    )


@operation(
    bp,
    "GET",
    "/v1/inbox/counts",
    summary="Ticket counts per status, yours and unassigned",
    tag="tickets",
    response="InboxCountsOut",
    also=(304,),
    errors=(401,),
    description="Poll it with `If-None-Match` set to the last `ETag`: 304 with no body "
    "while the counts are the same (one read, whatever the inbox's size).",
)
def counts(call: Call) -> Response:
    result = inbox.counts_for(bootstrap.ticket_deps(), call.member)
    etag = inbox.counts_etag(result)
    if etags.matches(call.request, etag):
        return etags.not_modified(etag)
    return etags.tagged(
        schemas.InboxCountsOut(
            by_status=result.by_status, mine=result.mine, unassigned=result.unassigned
        ),
        etag,
    )
