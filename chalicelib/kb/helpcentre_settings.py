"""Changing a help centre's branding and custom domain, and proving the domain is ours.

A verified domain gets its HTTPS certificate through a custom hostname at Cloudflare
(chalicelib/kb/custom_hostnames.py): requested when the domain is verified, deleted when
the domain changes or goes.  Cloudflare being down never fails these requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from chalicelib.accounts.model import Principal
from chalicelib.errors import Conflict, Forbidden, ServiceUnavailable
from chalicelib.kb import custom_hostnames
from chalicelib.kb.custom_hostnames import HostnameDeps, HostnameWrite, StaleHostname
from chalicelib.kb.domains import DnsUnavailable, TxtResolver, is_verified, normalise_domain
from chalicelib.kb.helpcentre_site import HelpCentreSettings


class DomainTakenError(Exception):
    pass


class SettingsReader(Protocol):
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None: ...


class SettingsStore(Protocol):
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None: ...
    def save_settings(
        self,
        workspace_id: str,
        before: HelpCentreSettings | None,
        settings: HelpCentreSettings,
        hostname: HostnameWrite | None = None,
    ) -> None:
        """With `hostname` in the same transaction; raises StaleHostname when it changed."""

    def mark_verified(
        self,
        workspace_id: str,
        settings: HelpCentreSettings,
        hostname: HostnameWrite | None = None,
    ) -> None:
        """Claims the domain, with `hostname` in the same transaction; raises DomainTakenError
        (another workspace holds the domain) or StaleHostname."""


def _changed_meanwhile() -> Conflict:
    return Conflict(
        "The help centre's domain changed meanwhile; reload and try again.",
        code="settings_changed",
    )


def _require_manager(principal: Principal) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can change the help centre.", code="forbidden_role")


def current(store: SettingsReader, workspace_id: str, name: str, locale: str) -> HelpCentreSettings:
    return store.get_settings(workspace_id) or HelpCentreSettings(name=name, default_locale=locale)


def update(
    store: SettingsStore,
    hostnames: HostnameDeps,
    principal: Principal,
    defaults: HelpCentreSettings,
    now: datetime,
    *,
    name: str | None,
    brand_color: str | None,
    logo_url: str | None,
    default_locale: str | None,
    custom_domain: str | None,
) -> HelpCentreSettings:
    """A new or changed domain starts unverified (it serves nothing until verified).  The
    custom hostname of a verified domain that changes or goes is deleted at Cloudflare
    (now, or by the scheduled job when Cloudflare fails)."""
    _require_manager(principal)
    before = store.get_settings(principal.workspace_id)
    settings = before or defaults
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name.strip()
    if brand_color is not None:
        changes["brand_color"] = brand_color.lower()
    if logo_url is not None:
        changes["logo_url"] = logo_url or None
    if default_locale is not None:
        changes["default_locale"] = default_locale
    if custom_domain is not None:
        domain = normalise_domain(custom_domain) if custom_domain.strip() else None
        if domain != settings.custom_domain:
            changes["custom_domain"] = domain
            changes["domain_verified"] = False
    updated = replace(settings, **changes)  # type: ignore[arg-type]
    left = before.custom_domain if before and before.domain_verified else None
    released = (
        custom_hostnames.on_domain_left(hostnames, principal.workspace_id, left, now)
        if left and left != updated.custom_domain
        else None
    )
    try:
        store.save_settings(principal.workspace_id, before, updated, released)
    except StaleHostname:
        raise _changed_meanwhile() from None
    if released is not None:
        custom_hostnames.release(hostnames, released.after, now)
    return updated


def verify_domain(
    store: SettingsStore,
    hostnames: HostnameDeps,
    resolver: TxtResolver,
    secret: str,
    principal: Principal,
    defaults: HelpCentreSettings,
    now: datetime,
) -> HelpCentreSettings:
    """Looks the TXT record up; when it is there the domain serves this help centre and its
    custom hostname is requested at Cloudflare (or validated again, when asked again)."""
    _require_manager(principal)
    settings = current(store, principal.workspace_id, defaults.name, defaults.default_locale)
    if not settings.custom_domain:
        raise Conflict("Set a custom domain first.", code="no_custom_domain")
    try:
        found = is_verified(resolver, secret, principal.workspace_id, settings.custom_domain)
    except DnsUnavailable as e:
        raise ServiceUnavailable(
            "DNS could not be checked just now; try again.", code="dns_unavailable"
        ) from e
    if not found:
        raise Conflict(
            "The TXT record was not found yet (DNS changes can take a while).",
            code="domain_not_verified",
        )
    verified = replace(settings, domain_verified=True)
    domain = settings.custom_domain
    request = custom_hostnames.on_verification(hostnames, principal.workspace_id, domain, now)
    try:
        store.mark_verified(principal.workspace_id, verified, request)
    except DomainTakenError:
        raise Conflict(
            "Another help centre already uses this domain.", code="domain_taken"
        ) from None
    except StaleHostname:
        raise _changed_meanwhile() from None
    custom_hostnames.after_verification(hostnames, principal.workspace_id, domain, now)
    return verified
