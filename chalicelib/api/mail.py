"""Mailbox settings: forwarding addresses, the acknowledgement auto-reply, held mail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ForwardingAddressIn,
        ForwardingAddressOut,
        ForwardingConfirmationIn,
        HeldMailListOut,
        MailboxSettingsIn,
        MailboxSettingsOut,
        ReleasedOut,
    )
    from chalicelib.tickets.mailbox import MailboxSettings

schemas = lazy_module("chalicelib.api.schemas")
# Mailbox administration and the confirmation rules (and the inbound-mail model they use)
# load with the first request, not when `app` is imported (cold start).
mailbox = lazy_module("chalicelib.tickets.mailbox")
mailbox_admin = lazy_module("chalicelib.tickets.mailbox_admin")
forwarding = lazy_module("chalicelib.tickets.forwarding")
bp = Blueprint(__name__)


def _settings_out(call: Call, settings: MailboxSettings) -> MailboxSettingsOut:
    deps = bootstrap.ticket_deps()
    workspace = call.workspace(deps.accounts)
    ack = settings.acknowledgement
    return schemas.MailboxSettingsOut(
        inbound_address=f"{workspace.slug}@{deps.policy.inbound_mail_domain}",
        forwarding_addresses=settings.forwarding_addresses,
        forwarding=[
            schemas.ForwardingAddressOut.model_validate(a)
            for a in forwarding.list_addresses(deps, call.member.workspace_id)
        ],
        acknowledgement={
            "enabled": ack.enabled,
            "subject": ack.subject,
            "body": ack.body,
            "placeholders": list(mailbox.ACK_PLACEHOLDERS),
        },
        sender_rate_per_hour=settings.sender_rate_per_hour,
    )


@operation(
    bp,
    "GET",
    "/v1/mail/settings",
    summary="The workspace's mailbox settings",
    tag="mail",
    response="MailboxSettingsOut",
    errors=(401,),
)
def get_settings(call: Call) -> MailboxSettingsOut:
    return _settings_out(call, mailbox_admin.mailbox_settings(bootstrap.ticket_deps(), call.member))


@operation(
    bp,
    "PUT",
    "/v1/mail/settings",
    summary="Change the acknowledgement auto-reply or the per-sender rate",
    tag="mail",
    body="MailboxSettingsIn",
    response="MailboxSettingsOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 422),
)
def put_settings(call: Call) -> MailboxSettingsOut:
    body: MailboxSettingsIn = call.body
    ack = body.acknowledgement
    updated = mailbox_admin.update_settings(
        bootstrap.ticket_deps(),
        call.member,
        ack_enabled=ack.enabled if ack else None,
        ack_subject=ack.subject if ack else None,
        ack_body=ack.body if ack else None,
        clear_subject=bool(ack and ack.subject == ""),
        clear_body=bool(ack and ack.body == ""),
        sender_rate_per_hour=body.sender_rate_per_hour,
    )
    return _settings_out(call, updated)


@operation(
    bp,
    "POST",
    "/v1/mail/addresses",
    summary="Register an address of yours whose mail should come to this inbox; it stays "
    "pending until confirmed, and the answer names the address to forward its mail to",
    tag="mail",
    body="ForwardingAddressIn",
    response="ForwardingAddressOut",
    status=201,
    roles=MANAGERS,
    errors=(400, 401, 403, 409, 422, 429),
)
def add_address(call: Call) -> ForwardingAddressOut:
    body: ForwardingAddressIn = call.body
    added = forwarding.request_address(bootstrap.ticket_deps(), call.member, str(body.address))
    return schemas.ForwardingAddressOut.model_validate(added)


@operation(
    bp,
    "POST",
    "/v1/mail/addresses/{address}/confirm",
    summary="Confirm a pending forwarding address with the code from its confirmation e-mail",
    tag="mail",
    body="ForwardingConfirmationIn",
    response="ForwardingAddressOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 404, 409, 422),
)
def confirm_address(call: Call) -> ForwardingAddressOut:
    from urllib.parse import unquote

    body: ForwardingConfirmationIn = call.body
    confirmed = forwarding.confirm_with_code(
        bootstrap.ticket_deps(), call.member, unquote(call.params["address"]), body.code
    )
    return schemas.ForwardingAddressOut.model_validate(confirmed)


@operation(
    bp,
    "DELETE",
    "/v1/mail/addresses/{address}",
    summary="Remove a forwarding address, confirmed or pending",
    tag="mail",
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404),
)
def remove_address(call: Call) -> None:
    from urllib.parse import unquote

    forwarding.remove_address(bootstrap.ticket_deps(), call.member, unquote(call.params["address"]))


@operation(
    bp,
    "GET",
    "/v1/mail/held",
    summary="Mail held back (a sender over the hourly rate), newest first",
    tag="mail",
    response="HeldMailListOut",
    errors=(401,),
)
def list_held(call: Call) -> HeldMailListOut:
    held = mailbox_admin.held_mail(bootstrap.ticket_deps(), call.member)
    return schemas.HeldMailListOut(held=[schemas.HeldMailOut.model_validate(h) for h in held])


@operation(
    bp,
    "POST",
    "/v1/mail/held/{held_id}/release",
    summary="File a held mail into the inbox after all",
    tag="mail",
    response="ReleasedOut",
    roles=MANAGERS,
    errors=(401, 403, 404),
)
def release_held(call: Call) -> ReleasedOut:
    ticket_id = mailbox_admin.release_held(
        bootstrap.ticket_deps(), call.member, call.params["held_id"]
    )
    return schemas.ReleasedOut(ticket_id=ticket_id)


@operation(
    bp,
    "DELETE",
    "/v1/mail/held/{held_id}",
    summary="Discard a held mail",
    tag="mail",
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404),
)
def discard_held(call: Call) -> None:
    mailbox_admin.discard_held(bootstrap.ticket_deps(), call.member, call.params["held_id"])
