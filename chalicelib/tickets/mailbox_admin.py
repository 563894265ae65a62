"""Changing a workspace's mailbox settings, and letting held mail through (forwarding
addresses: chalicelib/tickets/forwarding.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from chalicelib.accounts.model import Principal
from chalicelib.concurrency import retry_stale
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.mailbox import (
    ACK_PLACEHOLDERS,
    Acknowledgement,
    HeldMail,
    MailboxSettings,
    StaleMailboxSettings,
)

MAX_HELD_LISTED = 100
WRITE_ATTEMPTS = 10
T = TypeVar("T")


def write_settings(write: Callable[[], T]) -> T:
    """Settings are read, changed and written back unless someone else wrote meanwhile."""
    return retry_stale(
        write,
        (StaleMailboxSettings,),
        Conflict(
            "The mailbox settings are being changed by others; try again.",
            code="mailbox_settings_busy",
        ),
        WRITE_ATTEMPTS,
    )


def require_manager(principal: Principal) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden(
            "Only owners and admins can change mailbox settings.", code="forbidden_role"
        )


def _check_placeholders(field: str, text: str | None) -> None:
    import re

    for found in re.findall(r"{{[^}]*}}", text or ""):
        if found not in ACK_PLACEHOLDERS:
            raise ValidationFailed(
                f"{field}: unknown placeholder {found}; use {', '.join(ACK_PLACEHOLDERS)}",
                code="unknown_placeholder",
                details=[{"field": f"acknowledgement.{field}", "message": f"unknown {found}"}],
            )


def update_settings(
    deps: TicketDeps,
    principal: Principal,
    *,
    ack_enabled: bool | None,
    ack_subject: str | None,
    ack_body: str | None,
    clear_subject: bool,
    clear_body: bool,
    sender_rate_per_hour: int | None,
) -> MailboxSettings:
    require_manager(principal)
    _check_placeholders("subject", ack_subject)
    _check_placeholders("body", ack_body)

    def write() -> MailboxSettings:
        current = deps.mailbox.get_settings(principal.workspace_id)
        ack = current.acknowledgement
        ack = Acknowledgement(
            enabled=ack.enabled if ack_enabled is None else ack_enabled,
            subject=None if clear_subject else (ack_subject or ack.subject),
            body=None if clear_body else (ack_body or ack.body),
        )
        updated = replace(
            current,
            acknowledgement=ack,
            sender_rate_per_hour=sender_rate_per_hour or current.sender_rate_per_hour,
        )
        deps.mailbox.save_settings(principal.workspace_id, updated)
        return replace(updated, revision=current.revision + 1)

    return write_settings(write)


def mailbox_settings(deps: TicketDeps, principal: Principal) -> MailboxSettings:
    """The caller's workspace's mailbox settings (defaults until someone changed them)."""
    return deps.mailbox.get_settings(principal.workspace_id)


def held_mail(deps: TicketDeps, principal: Principal) -> list[HeldMail]:
    return deps.mailbox.list_held(principal.workspace_id, MAX_HELD_LISTED)


def _held(deps: TicketDeps, principal: Principal, held_id: str) -> HeldMail:
    held = deps.mailbox.get_held(principal.workspace_id, held_id)
    if held is None:
        raise NotFound("No such held mail.", code="held_mail_not_found")
    return held


def release_held(deps: TicketDeps, principal: Principal, held_id: str) -> str | None:
    """Files a held mail into the inbox after all; returns its ticket id."""
    from chalicelib.mail.intake_queue import load_inbound_delivery
    from chalicelib.tickets.mail_intake import receive_mail

    held = _held(deps, principal, held_id)
    mail = load_inbound_delivery(
        deps.blobs, {"raw_key": held.raw_key, "content_type": held.content_type}
    )
    intake = receive_mail(deps, mail, held.raw_key, released=True, content_type=held.content_type)
    deps.mailbox.drop_held(principal.workspace_id, held_id)
    return intake.ticket_id


def discard_held(deps: TicketDeps, principal: Principal, held_id: str) -> None:
    deps.mailbox.drop_held(principal.workspace_id, _held(deps, principal, held_id).id)
