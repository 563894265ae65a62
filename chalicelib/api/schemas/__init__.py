"""Request and response schemas of the public API (also the source of the OpenAPI document).

One module per capability; each name is reachable here, where routes name them
(`operation(..., body="SignupIn")`). A name is looked up on first use in the capability
modules in turn, so a tickets route loads the ticket schemas (and what they build on), not
the help-centre, knowledge-base or mail ones."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.api.schemas.ai import *  # noqa: F403
    from chalicelib.api.schemas.ai_results import *  # noqa: F403
    from chalicelib.api.schemas.billing import *  # noqa: F403
    from chalicelib.api.schemas.booking import *  # noqa: F403
    from chalicelib.api.schemas.calendars import *  # noqa: F403
    from chalicelib.api.schemas.canned import *  # noqa: F403
    from chalicelib.api.schemas.chat import *  # noqa: F403
    from chalicelib.api.schemas.chat_insights import *  # noqa: F403
    from chalicelib.api.schemas.common import *  # noqa: F403
    from chalicelib.api.schemas.contacts import *  # noqa: F403
    from chalicelib.api.schemas.helpcentre import *  # noqa: F403
    from chalicelib.api.schemas.kb import *  # noqa: F403
    from chalicelib.api.schemas.legal_subscriptions import *  # noqa: F403
    from chalicelib.api.schemas.live import *  # noqa: F403
    from chalicelib.api.schemas.mail import *  # noqa: F403
    from chalicelib.api.schemas.notifications import *  # noqa: F403
    from chalicelib.api.schemas.privacy import *  # noqa: F403
    from chalicelib.api.schemas.privacy_erasures import *  # noqa: F403
    from chalicelib.api.schemas.privacy_exports import *  # noqa: F403
    from chalicelib.api.schemas.privacy_public import *  # noqa: F403
    from chalicelib.api.schemas.privacy_retention import *  # noqa: F403
    from chalicelib.api.schemas.profile import *  # noqa: F403
    from chalicelib.api.schemas.ticket_changes import *  # noqa: F403
    from chalicelib.api.schemas.tickets import *  # noqa: F403
    from chalicelib.api.schemas.workspace_deletion import *  # noqa: F403

# Searched in this order: the ones every request needs first, then the ones they build on.
CAPABILITY_MODULES = (
    "common",
    "tickets",
    "ai_results",
    "ai",
    "canned",
    "contacts",
    "helpcentre",
    "kb",
    "mail",
    "profile",
    "ticket_changes",
    "notifications",
    "chat",
    "chat_insights",
    "live",
    "calendars",
    "booking",
    "billing",
    "privacy_public",
    "legal_subscriptions",
    "privacy",
    "privacy_exports",
    "privacy_erasures",
    "privacy_retention",
    "workspace_deletion",
)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    for capability in CAPABILITY_MODULES:
        module = importlib.import_module(f"{__name__}.{capability}")
        if name in vars(module) and not name.startswith("_"):
            found = vars(module)[name]
            globals()[name] = found  # cached: the next lookup is a plain attribute
            return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
