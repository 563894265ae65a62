"""Delivering one queued e-mail, exactly once as far as we can tell."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.mail.outbound import MailStatus, OutboundMail


class MailSender(Protocol):
    def send(self, mail: OutboundMail) -> str:
        """Hands the mail to the provider; returns its message id.
        Raises ProviderUnavailable (retry later) or ProviderRejected (never retry)."""


class MailLog(Protocol):
    def status(self, workspace_id: str, mail_id: str) -> MailStatus | None: ...
    def mark_sent(self, workspace_id: str, mail_id: str, provider_message_id: str) -> None: ...
    def mark_failed(self, workspace_id: str, mail_id: str, reason: str) -> None: ...
    def record_attempt(self, workspace_id: str, mail_id: str, error: str) -> None: ...


def deliver(mail: OutboundMail, log: MailLog, sender: MailSender) -> MailStatus:
    """Sends `mail` unless it was already sent or permanently failed (redeliveries are no-ops).

    A permanent rejection is recorded as failed and not retried; a transient failure is
    recorded and re-raised so the queue retries it (and dead-letters it in the end)."""
    current = log.status(mail.workspace_id, mail.mail_id)
    if current in (MailStatus.SENT, MailStatus.FAILED):
        return current
    if any(never_delivered(address) for address in mail.to):
        log.mark_failed(mail.workspace_id, mail.mail_id, UNDELIVERABLE)
        return MailStatus.FAILED
    if any(never_delivered(address) for address in mail.cc):
        mail = replace(mail, cc=[c for c in mail.cc if not never_delivered(c)])
    try:
        provider_message_id = sender.send(mail)
    except ProviderRejected as e:
        log.mark_failed(mail.workspace_id, mail.mail_id, str(e)[:500])
        return MailStatus.FAILED
    except ProviderUnavailable as e:
        log.record_attempt(mail.workspace_id, mail.mail_id, str(e)[:500])
        raise
    log.mark_sent(mail.workspace_id, mail.mail_id, provider_message_id)
    return MailStatus.SENT


# RFC 2606: `.invalid` never resolves; anonymous chat visitors get such an address.
UNDELIVERABLE = "not sent: the address is reserved as undeliverable (.invalid)"


def never_delivered(address: str) -> bool:
    """Whether `address` is one no mail may be sent to (a `.invalid` domain)."""
    return address.strip().rstrip(">").lower().endswith(".invalid")
