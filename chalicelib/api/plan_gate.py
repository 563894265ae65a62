"""Where the API asks billing "may this workspace do this now": the one check every gated
route and every change goes through (chalicelib/billing/gate.py decides; plans.py says what
each plan includes).

- A route declared with `gate=Feature.X` needs a plan that includes X (402 `plan_limit`).
- A route declared with `seats=n` needs n free seats.
- Every other change (POST, PUT, PATCH, DELETE) needs a workspace that is not read-only,
  except those in OPEN_WHEN_READ_ONLY: signing in and out, one's own profile, billing itself,
  and changes that only take something away (removing a member, revoking a key, …).
  Reads are never refused: a workspace past its grace period can still read and export.
Nothing the workspace's customers send (mail, chats, bookings) goes through here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalicelib import bootstrap

if TYPE_CHECKING:
    from chalicelib.billing.plans import Feature

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# (method or "*", path pattern): changes a read-only workspace may still make.
OPEN_WHEN_READ_ONLY: tuple[tuple[str, str], ...] = (
    ("*", r"/v1/auth/.*"),
    ("*", r"/v1/me(/.*)?"),
    ("*", r"/v1/billing(/.*)?"),
    ("*", r"/v1/privacy(/.*)?"),
    # An owner may delete a read-only workspace, or keep it, as they may end its billing.
    ("*", r"/v1/workspace/deletion"),
    ("POST", r"/v1/notifications/read"),
    ("DELETE", r"/v1/members/\{user_id\}"),
    ("DELETE", r"/v1/members/invitations/\{invitation_id\}"),
    ("DELETE", r"/v1/api-keys/\{api_key_id\}"),
    ("DELETE", r"/v1/calendar-connections/\{connection_id\}"),
    # Presence: who is looking at or typing in a ticket (no content changes).
    ("*", r"/v1/tickets/\{ticket_id\}/(viewing|typing|seen)"),
)


def open_when_read_only(method: str, path: str) -> bool:
    return any(
        (allowed == "*" or allowed == method) and re.fullmatch(pattern, path)
        for allowed, pattern in OPEN_WHEN_READ_ONLY
    )


def needs_check(method: str, path: str, gate: Feature | None, seats: int) -> bool:
    """Whether a request of this route asks billing at all (one GetItem when it does)."""
    return (
        gate is not None
        or seats > 0
        or (method not in SAFE_METHODS and not open_when_read_only(method, path))
    )


def check(workspace_id: str, method: str, path: str, gate: Feature | None, seats: int) -> None:
    """Raises PlanLimit (402) when the workspace may not make this request now."""
    from chalicelib.billing.gate import may

    may(
        bootstrap.billing_deps(),
        workspace_id,
        feature=gate,
        seats=seats,
        write=method not in SAFE_METHODS and not open_when_read_only(method, path),
    )


def require_feature(workspace_id: str, feature: Feature) -> None:
    """For a handler whose body decides whether a feature is used (turning AI on, setting
    a custom domain): raises PlanLimit when the plan lacks it."""
    from chalicelib.billing.gate import may

    may(bootstrap.billing_deps(), workspace_id, feature=feature, seats=0, write=True)
