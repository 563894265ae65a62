"""Mailgun stored messages: fetching the raw message a store() notification points at.

`GET <message-url>` with HTTP basic auth `api:<API key>` and `Accept: message/rfc2822`
answers JSON whose `body-mime` is the raw message (a server answering the raw message
itself is read too).

Decisions:
- **Only Mailgun's storage hosts are fetched**: https on a host ending in `.mailgun.net`
  (default port), or the origin of the configured API base (the local fake).  The URL comes
  from a signed notification, but it is still a URL we send our API key to and fetch from
  inside AWS: anything else is refused (SSRF), and redirects are not followed.
- **Retry or refuse.**  404 and 410 mean the message expired or never existed: refused
  (recorded, never retried).  Everything else that is not a 200 (429, 5xx, 401/403 from a
  rotated key, network errors, timeouts) is `ProviderUnavailable`: the queue retries it and
  parks it in the dead-letter queue after its maxReceiveCount.
- **Memory.**  The answer is read in 1 MB chunks into one buffer, capped at a size a 25 MB
  message cannot reach legitimately, within a total time budget; only the decoded message
  is returned.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from chalicelib.errors import ProviderUnavailable
from chalicelib.mail.inbound.stored import StoredMessageRefused

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10  # between two chunks; the whole download has `TOTAL_SECONDS`
# 25 MB at about 0.4 MB/s; inside the inbound worker's per-message budget
# (STORED_FETCH_SECONDS), itself inside the worker's 120 s timeout.
TOTAL_SECONDS = 60
CHUNK_BYTES = 1024 * 1024
STORAGE_HOST_SUFFIX = ".mailgun.net"
_GONE = (404, 410)
_JSON_TYPES = ("application/json", "")
_RAW_TYPES = ("message/rfc2822", "message/rfc822")


def is_storage_url(url: str, api_base: str) -> bool:
    """True when `url` is one Mailgun serves stored messages from: https on a host ending in
    `.mailgun.net` on the default port, or the scheme, host and port of `api_base`.  Never
    with credentials in the URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
        base = urlsplit(api_base)
        base_port = base.port
    except ValueError:  # an invalid port or IPv6 literal
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme == "https" and host.endswith(STORAGE_HOST_SUFFIX) and port in (None, 443):
        return True
    base_origin = (base.scheme, (base.hostname or "").lower(), base_port)
    return parts.scheme in ("http", "https") and (parts.scheme, host, port) == base_origin


class MailgunStorage:
    """Fetches stored messages from Mailgun (a `StoredMessages`)."""

    def __init__(
        self,
        api_base: str,
        api_key: str,
        session: Any | None = None,
        *,
        read_timeout: float = READ_TIMEOUT,
        total_seconds: float = TOTAL_SECONDS,
    ) -> None:
        self._api_base = api_base
        self._api_key = api_key
        self._session = session
        self._read_timeout = read_timeout
        self._total_seconds = total_seconds

    def _http(self) -> Any:
        if self._session is None:
            import requests  # imported on first fetch, not at cold start

            self._session = requests.Session()
        return self._session

    def fetch(self, message_url: str, max_bytes: int) -> bytes:
        if not is_storage_url(message_url, self._api_base):
            raise StoredMessageRefused(
                "message_url_not_allowed",
                f"{urlsplit(message_url).hostname or 'no host'} is not a Mailgun storage host",
            )
        if not self._api_key:
            raise ProviderUnavailable("MAILGUN_API_KEY is not configured")
        import requests

        started = time.monotonic()
        try:
            response = self._http().get(
                message_url,
                auth=("api", self._api_key),
                headers={"Accept": "message/rfc2822"},
                timeout=(CONNECT_TIMEOUT, self._read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as e:
            raise ProviderUnavailable(f"mailgun storage unreachable: {type(e).__name__}") from e
        with response:
            if response.status_code in _GONE:
                raise StoredMessageRefused(
                    "stored_message_gone",
                    f"mailgun answered {response.status_code} (expired or never stored)",
                )
            if response.status_code != 200:
                raise ProviderUnavailable(f"mailgun storage answered {response.status_code}")
            media_type = response.headers.get("Content-Type", "").partition(";")[0]
            media_type = media_type.strip().lower()
            if media_type not in (*_JSON_TYPES, *_RAW_TYPES):
                raise ProviderUnavailable(f"mailgun storage answered 200 with {media_type}")
            is_json = media_type in _JSON_TYPES
            # JSON escapes line breaks (and maybe more): allow for it, but not without bound.
            limit = 2 * max_bytes + CHUNK_BYTES if is_json else max_bytes
            body = self._read(response, limit, started)
        if not is_json:
            return bytes(body)
        mime = _body_mime(body)
        del body
        if len(mime) > max_bytes:
            raise StoredMessageRefused(
                "stored_message_too_large", f"{len(mime)} bytes, over {max_bytes}"
            )
        return mime

    def _read(self, response: Any, limit: int, started: float) -> bytearray:
        import requests

        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise StoredMessageRefused(
                "stored_message_too_large", f"{declared} bytes declared, over {limit}"
            )
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                body += chunk
                if len(body) > limit:
                    raise StoredMessageRefused(
                        "stored_message_too_large", f"more than {limit} bytes"
                    )
                if time.monotonic() - started > self._total_seconds:
                    raise ProviderUnavailable(
                        f"mailgun storage download took over {self._total_seconds} s"
                    )
        except requests.RequestException as e:
            raise ProviderUnavailable(f"mailgun storage download failed: {type(e).__name__}") from e
        return body


def _body_mime(body: bytearray) -> bytes:
    """The `body-mime` of a JSON answer, as the bytes of the message."""
    try:
        answer = json.loads(body)
    except ValueError as e:
        raise ProviderUnavailable("mailgun storage answered 200 without JSON") from e
    mime = answer.get("body-mime") if isinstance(answer, dict) else None
    if not isinstance(mime, str):
        raise ProviderUnavailable("mailgun storage answered 200 without body-mime")
    # JSON carries text: bytes that were not UTF-8 come back as they were decoded.
    try:
        return mime.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate escaped in the JSON
        return mime.encode("utf-8", errors="replace")
