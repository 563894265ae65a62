"""The one place that decides "may this workspace do X now" (plan + status + seats)."""

from __future__ import annotations

from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.overview import account_of
from chalicelib.billing.plans import Feature
from chalicelib.billing.standing import require


def may(
    deps: BillingDeps,
    workspace_id: str,
    *,
    feature: Feature | None = None,
    seats: int = 0,
    write: bool = True,
) -> None:
    """Raises PlanLimit (402, with what would allow it) when the workspace's plan lacks
    `feature`, it has fewer than `seats` free seats, or (`write`) it is read-only.  One
    GetItem (a write only when a trial or grace period just ended)."""
    if feature is None and seats == 0 and not write:
        return
    require(
        account_of(deps, workspace_id), deps.clock.now(), feature=feature, seats=seats, write=write
    )
