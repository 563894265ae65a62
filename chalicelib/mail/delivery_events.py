"""What Mailgun tells us after sending: delivered, failed, bounced — shown on the reply."""

from __future__ import annotations

from typing import Any

from chalicelib.mail.intake_queue import ReleasableGuard
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.model import DeliveryStatus


def delivery_of(event: str, severity: str | None, reason: str | None) -> DeliveryStatus | None:
    """The delivery state an event means for a reply; None for events that change nothing
    (accepted, opened, clicked, a temporary failure Mailgun is still retrying)."""
    if event == "delivered":
        return DeliveryStatus.DELIVERED
    if event == "failed" and severity == "permanent":
        return (
            DeliveryStatus.BOUNCED
            if reason in ("bounce", "suppress-bounce")
            else DeliveryStatus.FAILED
        )
    if event == "rejected":
        return DeliveryStatus.FAILED
    return None


def suppresses_acknowledgements(event: str, severity: str | None, reason: str | None) -> bool:
    """A hard bounce or a spam complaint: the address gets no more auto-replies."""
    if event == "complained":
        return True
    return delivery_of(event, severity, reason) is DeliveryStatus.BOUNCED


def record_mailgun_event(
    deps: TicketDeps, signing_key: str, guard: ReleasableGuard, payload: Any
) -> str:
    """Verifies an event webhook and records it on the reply it is about.

    "duplicate" for a token already seen, "ignored" for events about other mail or that change
    nothing, "recorded" otherwise.  Writes: the token; one UpdateItem on the message; for a
    hard bounce or a complaint about a workspace's mail, the recipient's acknowledgement
    suppression."""
    from chalicelib.providers.mailgun_webhooks import event_token, parse_event, verify_event
    from chalicelib.tickets.conversation import record_delivery

    if not verify_event(payload, signing_key, guard, deps.clock.now().timestamp()):
        return "duplicate"
    try:
        event = parse_event(payload)
        suppressed = False
        if (
            suppresses_acknowledgements(event.event, event.severity, event.reason)
            and event.workspace_id
            and event.recipient
        ):
            deps.mailbox.suppress_acknowledgements(
                event.workspace_id, event.recipient, event.reason or event.event, deps.clock.now()
            )
            suppressed = True
        delivery = delivery_of(event.event, event.severity, event.reason)
        if delivery is None or not (event.workspace_id and event.ticket_id and event.mail_id):
            return "recorded" if suppressed else "ignored"
        detail = (
            " ".join(
                part
                for part in (
                    str(event.delivery_status_code or ""),
                    event.delivery_status_message or event.reason or "",
                )
                if part
            )
            or None
        )
        changed = record_delivery(
            deps, event.workspace_id, event.ticket_id, event.mail_id, delivery, detail
        )
    except Exception:
        # Not recorded: free the token so that Mailgun's retry is not taken for a duplicate.
        guard.release(event_token(payload))
        raise
    return "recorded" if changed or suppressed else "ignored"
