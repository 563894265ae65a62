"""Help-centre settings: branding, language and custom domain (its DNS records, its
verification and HTTPS status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api import plan_gate
from chalicelib.api.routing import Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.model import Workspace
    from chalicelib.api.schemas import (
        HelpCentreSettingsIn,
        HelpCentreSettingsOut,
    )
    from chalicelib.kb.helpcentre_site import HelpCentreSettings

schemas = lazy_module("chalicelib.api.schemas")
# The help-centre and custom-hostname rules load with the first settings request, not with
# the app.
domains = lazy_module("chalicelib.kb.domains")
helpcentre_site = lazy_module("chalicelib.kb.helpcentre_site")
helpcentre_settings = lazy_module("chalicelib.kb.helpcentre_settings")
setups = lazy_module("chalicelib.kb.domain_setup")
bp = Blueprint(__name__)


def _workspace(call: Call) -> Workspace:
    return call.workspace(bootstrap.account_deps().store)


def _defaults(workspace: Workspace) -> HelpCentreSettings:
    return helpcentre_site.HelpCentreSettings(name=workspace.name, default_locale=workspace.locale)


def current_settings(workspace: Workspace) -> HelpCentreSettings:
    return helpcentre_settings.current(
        bootstrap.helpcentre_store(), workspace.id, workspace.name, workspace.locale
    )


def help_centre_url(workspace: Workspace, settings: HelpCentreSettings) -> str:
    """Where the help centre is reached: its verified domain, else /hc/<slug>."""
    if settings.domain_verified:
        return f"https://{settings.custom_domain}"
    return f"{get_settings().public_base_url.rstrip('/')}/hc/{workspace.slug}"


def _out(
    workspace: Workspace, settings: HelpCentreSettings, *, refresh: bool = False
) -> HelpCentreSettingsOut:
    record = (
        domains.instruction(
            get_settings().domain_verification_secret, workspace.id, settings.custom_domain
        )
        if settings.custom_domain
        else None
    )
    setup = setups.domain_setup(
        bootstrap.custom_hostname_deps(),
        workspace.id,
        settings,
        record,
        bootstrap.clock().now(),
        refresh=refresh,
    )
    return schemas.HelpCentreSettingsOut(
        name=settings.name,
        brand_color=settings.brand_color,
        logo_url=settings.logo_url,
        default_locale=settings.default_locale,
        custom_domain=settings.custom_domain,
        domain_verified=settings.domain_verified,
        url=help_centre_url(workspace, settings),
        dns_record={
            "name": record.record_name,
            "type": record.record_type,
            "value": record.record_value,
        }
        if record
        else None,
        dns_records=[
            {"purpose": r.purpose.value, "name": r.name, "type": r.type, "value": r.value}
            for r in setup.dns_records
        ],
        https={
            "status": setup.https.status.value,
            "explanation": setup.https.explanation,
            "hostname_status": setup.https.hostname_status,
            "certificate_status": setup.https.certificate_status,
            "checked_at": setup.https.checked_at,
        },
    )


@operation(
    bp,
    "GET",
    "/v1/kb/settings",
    summary="Help-centre branding, custom domain, its DNS records and HTTPS status",
    tag="knowledge-base",
    response="HelpCentreSettingsOut",
    errors=(401,),
)
def get_kb_settings(call: Call) -> HelpCentreSettingsOut:
    workspace = _workspace(call)
    return _out(workspace, current_settings(workspace), refresh=True)


@operation(
    bp,
    "PUT",
    "/v1/kb/settings",
    summary="Change the help centre's name, colour, logo, language or custom domain",
    tag="knowledge-base",
    body="HelpCentreSettingsIn",
    response="HelpCentreSettingsOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 409, 422),
)
def put_kb_settings(call: Call) -> HelpCentreSettingsOut:
    body: HelpCentreSettingsIn = call.body
    if body.custom_domain:
        plan_gate.require_feature(call.member.workspace_id, Feature.CUSTOM_DOMAIN)
    workspace = _workspace(call)
    updated = helpcentre_settings.update(
        bootstrap.helpcentre_store(),
        bootstrap.custom_hostname_deps(),
        call.member,
        _defaults(workspace),
        bootstrap.clock().now(),
        name=body.name,
        brand_color=body.brand_color,
        logo_url=body.logo_url,
        default_locale=body.default_locale,
        custom_domain=body.custom_domain,
    )
    return _out(workspace, updated)


@operation(
    bp,
    "POST",
    "/v1/kb/settings/verify-domain",
    gate=Feature.CUSTOM_DOMAIN,
    summary="Check the DNS TXT record; on success the custom domain goes live and its "
    "HTTPS certificate is requested (asked again: validated again)",
    tag="knowledge-base",
    response="HelpCentreSettingsOut",
    roles=MANAGERS,
    errors=(401, 403, 409, 503),
)
def verify_domain(call: Call) -> HelpCentreSettingsOut:
    workspace = _workspace(call)
    verified = helpcentre_settings.verify_domain(
        bootstrap.helpcentre_store(),
        bootstrap.custom_hostname_deps(),
        bootstrap.dns_resolver(),
        get_settings().domain_verification_secret,
        call.member,
        _defaults(workspace),
        bootstrap.clock().now(),
    )
    return _out(workspace, verified)
