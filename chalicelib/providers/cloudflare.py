"""Cloudflare for SaaS adapter: custom hostnames of the SaaS zone (API v4, Bearer token).

Every answer is an envelope `{success, errors, messages, result}`; this unwraps it and
turns failures into the domain's errors: timeouts, 429 and 5xx are ProviderUnavailable
(retry later), other refusals ProviderRejected, a duplicate hostname HostnameAlreadyExists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.kb.custom_hostnames import (
    DnsRecord,
    HostnameAlreadyExists,
    ProviderHostname,
    RecordPurpose,
)

TIMEOUT_SECONDS = 10
DUPLICATE_HOSTNAME = 1406
# HTTP validation through the customer's CNAME; no TLS older than 1.2 on help centres.
SSL = {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}}


class CloudflareCustomHostnames:
    """`CustomHostnameProvider` on `<api_base>/zones/<zone_id>/custom_hostnames`."""

    def __init__(
        self,
        api_base: str,
        zone_id: str,
        api_token: str | Callable[[], str],
        session: Any | None = None,
    ) -> None:
        """`api_token`: the token, or how to read it at each call (a secret can rotate)."""
        self._url = f"{api_base.rstrip('/')}/zones/{quote(zone_id, safe='')}/custom_hostnames"
        self._token = api_token if callable(api_token) else lambda: api_token
        self._session = session

    def _http(self) -> Any:
        if self._session is None:
            import requests  # imported on first use, not at cold start

            self._session = requests.Session()
        return self._session

    def create(self, hostname: str) -> ProviderHostname:
        return _hostname(self._call("POST", "", json={"hostname": hostname, "ssl": SSL}))

    def get(self, hostname_id: str) -> ProviderHostname | None:
        result = self._call("GET", f"/{quote(hostname_id, safe='')}", missing_ok=True)
        return _hostname(result) if result is not None else None

    def find(self, hostname: str) -> ProviderHostname | None:
        results = self._call("GET", "", params={"hostname": hostname})
        if not isinstance(results, list):
            raise ProviderUnavailable("cloudflare listed custom hostnames without a list")
        for result in results:
            if str(result.get("hostname", "")).lower() == hostname.lower():
                return _hostname(result)
        return None

    def revalidate(self, hostname_id: str) -> ProviderHostname | None:
        # Sending the same ssl block tells Cloudflare to run domain control validation again.
        path = f"/{quote(hostname_id, safe='')}"
        result = self._call("PATCH", path, json={"ssl": SSL}, missing_ok=True)
        return _hostname(result) if result is not None else None

    def delete(self, hostname_id: str) -> None:
        self._call("DELETE", f"/{quote(hostname_id, safe='')}", missing_ok=True)

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The envelope's `result`; None for a 404 when `missing_ok`."""
        import requests

        try:
            response = self._http().request(
                method,
                self._url + path,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._token()}"},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as e:
            raise ProviderUnavailable(f"cloudflare unreachable: {type(e).__name__}") from e
        if response.status_code == 404 and missing_ok:
            return None
        try:
            envelope = response.json()
        except ValueError:
            envelope = {}
        if not isinstance(envelope, dict):
            envelope = {}
        try:
            response.raise_for_status()
        except requests.HTTPError as e:
            raise _failure(response.status_code, envelope) from e
        if not envelope.get("success"):
            raise ProviderUnavailable(
                f"cloudflare answered {response.status_code} without success: {_messages(envelope)}"
            )
        return envelope.get("result")


def _messages(envelope: dict[str, Any]) -> str:
    errors = envelope.get("errors") or []
    text = "; ".join(
        f"{error.get('code')}: {error.get('message')}"
        for error in errors
        if isinstance(error, dict)
    )
    return text[:300] or "no error given"


def _failure(status: int, envelope: dict[str, Any]) -> Exception:
    codes = {error.get("code") for error in envelope.get("errors") or [] if isinstance(error, dict)}
    message = f"cloudflare answered {status}: {_messages(envelope)}"
    if status == 429 or status >= 500:
        return ProviderUnavailable(message)
    if DUPLICATE_HOSTNAME in codes:
        return HostnameAlreadyExists(message)
    return ProviderRejected(message)


def _hostname(result: Any) -> ProviderHostname:
    """A custom hostname from Cloudflare's description; the DNS records it asks for are its
    ownership TXT record and any TXT/CNAME certificate validation records (HTTP validation
    tokens are served by Cloudflare itself through the CNAME)."""
    if not isinstance(result, dict) or not result.get("id") or not result.get("hostname"):
        raise ProviderUnavailable("cloudflare described a custom hostname without id or name")
    ssl = result.get("ssl") or {}
    records: list[DnsRecord] = []
    ownership = result.get("ownership_verification") or {}
    if ownership.get("name") and ownership.get("value"):
        records.append(
            DnsRecord(
                RecordPurpose.CLOUDFLARE_OWNERSHIP,
                str(ownership["name"]),
                str(ownership.get("type") or "txt").upper(),
                str(ownership["value"]),
            )
        )
    for validation in ssl.get("validation_records") or []:
        if validation.get("txt_name") and validation.get("txt_value"):
            name, kind, value = validation["txt_name"], "TXT", validation["txt_value"]
        elif validation.get("cname") and validation.get("cname_target"):
            name, kind, value = validation["cname"], "CNAME", validation["cname_target"]
        else:
            continue
        records.append(DnsRecord(RecordPurpose.CERTIFICATE_VALIDATION, str(name), kind, str(value)))
    problems = [str(error) for error in result.get("verification_errors") or [] if error]
    problems += [
        str(error["message"])
        for error in ssl.get("validation_errors") or []
        if isinstance(error, dict) and error.get("message")
    ]
    return ProviderHostname(
        id=str(result["id"]),
        hostname=str(result["hostname"]),
        status=str(result.get("status") or "pending"),
        certificate_status=str(ssl["status"]) if ssl.get("status") else None,
        records=tuple(records),
        problems=tuple(problems),
    )
