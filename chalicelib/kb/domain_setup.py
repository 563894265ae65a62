"""What the help centre's settings show about its custom domain: the DNS records to create
and the state of HTTPS, with what to do next, in the customer's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.kb.custom_hostnames import (
    CustomHostname,
    DnsRecord,
    HostnameDeps,
    HostnameState,
    RecordPurpose,
    refresh_if_stale,
    timed_out,
)
from chalicelib.kb.domains import DnsInstruction
from chalicelib.kb.helpcentre_site import HelpCentreSettings


class HttpsStatus(StrEnum):
    NOT_CONFIGURED = "not_configured"
    NO_DOMAIN = "no_domain"
    AWAITING_VERIFICATION = "awaiting_verification"
    NOT_REQUESTED = "not_requested"
    PROVISIONING = "provisioning"
    PENDING = "pending"
    ACTIVE = "active"
    RETRYING = "retrying"
    ERROR = "error"


@dataclass(frozen=True)
class HttpsView:
    status: HttpsStatus
    explanation: str
    hostname_status: str | None = None
    certificate_status: str | None = None
    checked_at: datetime | None = None


@dataclass(frozen=True)
class DomainSetup:
    https: HttpsView
    dns_records: tuple[DnsRecord, ...]


_CERTIFICATE_STEPS = {
    "initializing": "Cloudflare is preparing the certificate.",
    "pending_validation": "Cloudflare is validating the certificate over HTTP through the "
    "CNAME record.",
    "pending_issuance": "The certificate authority is issuing the certificate.",
    "pending_deployment": "The certificate was issued and is being deployed across "
    "Cloudflare's network.",
}


def _pending_explanation(record: CustomHostname, cname_target: str) -> str:
    cname = (
        f"the CNAME record {record.domain} -> {cname_target}"
        if cname_target
        else "the CNAME record below"
    )
    certificate = record.certificate_status
    if record.hostname_status == "moved":
        text = f"The domain no longer points at Helptal: put back {cname}."
    elif timed_out(certificate):
        text = (
            f"Certificate validation timed out; Helptal asks Cloudflare to try again. "
            f"Check {cname}."
        )
    elif certificate == "active":
        text = f"The certificate is ready; Cloudflare is still checking {cname}."
    elif certificate in _CERTIFICATE_STEPS:
        text = _CERTIFICATE_STEPS[certificate]
        if certificate in ("initializing", "pending_validation"):
            text += f" It needs {cname}; DNS changes can take a while to spread."
    else:
        text = f"Cloudflare reports the certificate as {certificate or 'not started'}."
    if record.problem:
        text += f" Cloudflare says: {record.problem}"
    return text


def https_view(
    configured: bool,
    settings: HelpCentreSettings,
    record: CustomHostname | None,
    cname_target: str,
) -> HttpsView:
    """The state of HTTPS on the custom domain, with what the customer should do next."""
    domain = settings.custom_domain
    if not configured:
        return HttpsView(
            HttpsStatus.NOT_CONFIGURED,
            "This deployment does not issue HTTPS certificates for custom domains "
            "(Cloudflare for SaaS is not configured); the help centre stays reachable at "
            "its Helptal address.",
        )
    if not domain:
        return HttpsView(
            HttpsStatus.NO_DOMAIN,
            "Set a custom domain to serve the help centre on your own name over HTTPS.",
        )
    if not settings.domain_verified:
        return HttpsView(
            HttpsStatus.AWAITING_VERIFICATION,
            "Create the DNS records below, then verify the domain: the HTTPS certificate "
            "is requested once the domain is verified.",
        )
    if record is None or record.state is HostnameState.RELEASING:
        return HttpsView(
            HttpsStatus.NOT_REQUESTED,
            "No HTTPS certificate has been requested for this domain yet: verify the "
            "domain again to request one.",
        )
    if record.failures:
        return _seen(
            record,
            HttpsStatus.RETRYING,
            f"Cloudflare could not be asked just now ({record.problem}); Helptal retries "
            f"automatically ({record.failures} failed attempt(s) so far).",
        )
    if record.state is HostnameState.CREATING:
        return _seen(
            record, HttpsStatus.PROVISIONING, "Requesting the HTTPS certificate from Cloudflare."
        )
    if record.state is HostnameState.ACTIVE:
        return _seen(
            record,
            HttpsStatus.ACTIVE,
            f"Served over HTTPS at https://{domain} with a certificate Cloudflare renews.",
        )
    if record.state is HostnameState.FAILED:
        return _seen(
            record,
            HttpsStatus.ERROR,
            f"Cloudflare refused the hostname: {record.problem or record.hostname_status}. "
            "Check the domain and its DNS records, then verify the domain again.",
        )
    return _seen(record, HttpsStatus.PENDING, _pending_explanation(record, cname_target))


def _seen(record: CustomHostname, status: HttpsStatus, explanation: str) -> HttpsView:
    return HttpsView(
        status,
        explanation,
        hostname_status=record.hostname_status,
        certificate_status=record.certificate_status,
        checked_at=record.checked_at,
    )


def dns_records(
    settings: HelpCentreSettings,
    ownership: DnsInstruction | None,
    record: CustomHostname | None,
    cname_target: str,
) -> tuple[DnsRecord, ...]:
    """Every record the customer creates: the CNAME to the target, the ownership TXT, then
    whatever Cloudflare asks for (its ownership and certificate validation records)."""
    domain = settings.custom_domain
    if not domain:
        return ()
    records = []
    if cname_target:
        records.append(DnsRecord(RecordPurpose.ROUTING, domain, "CNAME", cname_target))
    if ownership is not None:
        records.append(
            DnsRecord(
                RecordPurpose.DOMAIN_OWNERSHIP,
                ownership.record_name,
                ownership.record_type,
                ownership.record_value,
            )
        )
    if record is not None and record.state is not HostnameState.RELEASING:
        records.extend(record.records)
    return tuple(records)


def domain_setup(
    deps: HostnameDeps,
    workspace_id: str,
    settings: HelpCentreSettings,
    ownership: DnsInstruction | None,
    now: datetime,
    *,
    refresh: bool,
) -> DomainSetup:
    """What the settings page shows about the custom domain: one GetItem when the domain
    is verified, and with `refresh` at most one Cloudflare call for a pending hostname."""
    record = None
    if deps.provider is not None and settings.custom_domain and settings.domain_verified:
        record = deps.store.get_hostname(workspace_id, settings.custom_domain)
        if record is not None and refresh:
            record = refresh_if_stale(deps, record, now)
    target = deps.policy.cname_target
    return DomainSetup(
        https=https_view(deps.provider is not None, settings, record, target),
        dns_records=dns_records(settings, ownership, record, target),
    )
