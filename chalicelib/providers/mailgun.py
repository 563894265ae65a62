"""Mailgun HTTP API adapter: sending messages (`POST /v3/<domain>/messages`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.mail.outbound import MailAttachment, OutboundMail, display_address, header_safe

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 15


class MailgunSender:
    """Sends through Mailgun.  429, 5xx and network errors are retryable; other 4xx are not."""

    def __init__(
        self,
        api_base: str,
        domain: str,
        api_key: str,
        session: Any | None = None,
        read_file: Callable[[str], bytes] | None = None,
    ) -> None:
        self._url = f"{api_base.rstrip('/')}/v3/{domain}/messages"
        self._domain = domain
        self._api_key = api_key
        self._session = session
        self._read_file = read_file  # attachments' bytes by S3 key (the content bucket)

    def _http(self) -> Any:
        if self._session is None:
            import requests  # imported on first send, not at cold start

            self._session = requests.Session()
        return self._session

    def form_fields(self, mail: OutboundMail) -> list[tuple[str, str]]:
        sender = mail.from_address or f"noreply@{self._domain}"
        fields = [("from", display_address(mail.from_name, sender))]
        fields += [("to", header_safe(address)) for address in mail.to]
        fields += [("cc", header_safe(address)) for address in mail.cc]
        fields += [("subject", header_safe(mail.subject)), ("text", mail.text)]
        if mail.html:
            fields.append(("html", mail.html))
        if mail.reply_to:
            fields.append(("h:Reply-To", header_safe(mail.reply_to)))
        fields += [
            (f"h:{header_safe(name)}", header_safe(value)) for name, value in mail.headers.items()
        ]
        fields += [("o:tag", header_safe(tag)) for tag in mail.tags]
        # Echoed back on delivery events (and visible to recipients: ids only, no content).
        fields.append(("v:helptal-mail-id", mail.mail_id))
        if mail.ticket_id:
            fields.append(("v:helptal-workspace-id", mail.workspace_id))
            fields.append(("v:helptal-ticket-id", mail.ticket_id))
        return fields

    def attachment_files(self, mail: OutboundMail) -> list[tuple[str, tuple[str, bytes, str]]]:
        """Mailgun's `attachment` form files: (name, bytes, type) read from storage."""
        if not mail.attachments:
            return []
        stored = [a for a in mail.attachments if a.inline_base64 is None]
        if stored and self._read_file is None:
            raise ProviderUnavailable("no storage to read the attachments from")
        try:
            return [
                ("attachment", (header_safe(a.filename), self._content(a), a.content_type))
                for a in mail.attachments
            ]
        except Exception as e:  # storage errors are retried like a provider outage
            raise ProviderUnavailable(f"attachment unreadable: {type(e).__name__}") from e

    def _content(self, attachment: MailAttachment) -> bytes:
        if attachment.inline_base64 is not None:  # carried in the queued message
            import base64

            return base64.b64decode(attachment.inline_base64)
        if self._read_file is None:
            raise ProviderUnavailable("no storage to read the attachments from")
        return self._read_file(attachment.s3_key)

    def send(self, mail: OutboundMail) -> str:
        if not self._api_key:
            raise ProviderUnavailable("MAILGUN_API_KEY is not configured")
        import requests

        files = self.attachment_files(mail)
        try:
            response = self._http().post(
                self._url,
                auth=("api", self._api_key),
                data=self.form_fields(mail),
                files=files or None,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
        except requests.RequestException as e:
            raise ProviderUnavailable(f"mailgun unreachable: {type(e).__name__}") from e
        if response.status_code == 200:
            try:
                return str(response.json()["id"]).strip().strip("<>")
            except (ValueError, KeyError) as e:
                raise ProviderUnavailable("mailgun answered 200 without an id") from e
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(f"mailgun answered {response.status_code}")
        raise ProviderRejected(f"mailgun answered {response.status_code}: {_message(response)}")


def _message(response: Any) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except ValueError:
        return str(response.text)[:300]
