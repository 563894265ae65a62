"""Changing a help centre's branding and custom domain, and proving the domain is ours."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from chalicelib.accounts.model import Principal
from chalicelib.errors import Conflict, Forbidden, ServiceUnavailable
from chalicelib.kb.domains import DnsUnavailable, TxtResolver, is_verified, normalise_domain
from chalicelib.kb.helpcentre import HelpCentreSettings


class DomainTakenError(Exception):
    pass


class SettingsReader(Protocol):
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None: ...


class SettingsStore(Protocol):
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None: ...
    def save_settings(
        self, workspace_id: str, before: HelpCentreSettings | None, settings: HelpCentreSettings
    ) -> None: ...
    def mark_verified(self, workspace_id: str, settings: HelpCentreSettings) -> None: ...


def _require_manager(principal: Principal) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can change the help centre.", code="forbidden_role")


def current(store: SettingsReader, workspace_id: str, name: str, locale: str) -> HelpCentreSettings:
    return store.get_settings(workspace_id) or HelpCentreSettings(name=name, default_locale=locale)


def update(
    store: SettingsStore,
    principal: Principal,
    defaults: HelpCentreSettings,
    *,
    name: str | None,
    brand_color: str | None,
    logo_url: str | None,
    default_locale: str | None,
    custom_domain: str | None,
) -> HelpCentreSettings:
    """A new or changed domain starts unverified (it serves nothing until verified)."""
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
    store.save_settings(principal.workspace_id, before, updated)
    return updated


def verify_domain(
    store: SettingsStore,
    resolver: TxtResolver,
    secret: str,
    principal: Principal,
    defaults: HelpCentreSettings,
) -> HelpCentreSettings:
    """Looks the TXT record up; when it is there the domain serves this help centre."""
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
    try:
        store.mark_verified(principal.workspace_id, verified)
    except DomainTakenError:
        raise Conflict(
            "Another help centre already uses this domain.", code="domain_taken"
        ) from None
    return verified
