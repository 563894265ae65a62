"""The plans Helptal sells, as data: what each includes, how many seats, what a seat costs.

This table is the one place plans are described; every limit is decided from it by
`chalicelib.billing.standing` (never by a check written into a route).  Prices are per seat,
in integer minor units of the currency.  Provider prices are found by their lookup key
(`price_lookup_key`): Stripe prices and PayPal plans are created with these keys per
deployment (docs/billing.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Feature(StrEnum):
    """Something a plan may include (besides seats)."""

    AI_TEAMMATE = "ai_teammate"
    LIVE_CHAT = "live_chat"
    BOOKING = "booking"
    CUSTOM_DOMAIN = "custom_domain"
    SSO = "sso"
    API_KEYS = "api_keys"
    INTEGRATIONS = "integrations"


class Period(StrEnum):
    MONTH = "month"
    YEAR = "year"  # prepaid for the year


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    features: frozenset[Feature]
    max_seats: int | None  # None: as many as are paid for
    seat_price: dict[Period, int]  # minor units per seat and period; {} for the free plan
    currency: str = "usd"
    rank: int = 0  # higher includes more (used to name the plan that would allow a refusal)

    @property
    def paid(self) -> bool:
        return bool(self.seat_price)


FREE = Plan(
    id="free",
    name="Free",
    features=frozenset(),
    max_seats=2,
    seat_price={},
    rank=0,
)
STARTER = Plan(
    id="starter",
    name="Starter",
    features=frozenset({Feature.LIVE_CHAT, Feature.BOOKING, Feature.API_KEYS}),
    max_seats=10,
    seat_price={Period.MONTH: 1_900, Period.YEAR: 19_000},
    rank=1,
)
PRO = Plan(
    id="pro",
    name="Pro",
    features=frozenset(Feature),
    max_seats=None,
    seat_price={Period.MONTH: 4_900, Period.YEAR: 49_000},
    rank=2,
)

PLANS: dict[str, Plan] = {plan.id: plan for plan in (FREE, STARTER, PRO)}

# A new workspace tries Pro for 14 days, without a card, with up to TRIAL_SEATS members.
TRIAL_PLAN = PRO
TRIAL_DAYS = 14
TRIAL_SEATS = 25
# After the last automatic attempt (Stripe's retries, then the backup card) fails.
GRACE_DAYS = 7


def plan_named(plan_id: str) -> Plan | None:
    return PLANS.get(plan_id)


def price_lookup_key(plan: Plan, period: Period) -> str:
    """The provider price's lookup key, e.g. `helptal_pro_month`."""
    return f"helptal_{plan.id}_{period.value}"


def plan_of_lookup_key(key: str) -> tuple[Plan, Period] | None:
    """The inverse of `price_lookup_key` (None for a key that names no sold plan)."""
    prefix, _, rest = key.partition("_")
    plan_id, _, period = rest.rpartition("_")
    plan = PLANS.get(plan_id)
    if prefix != "helptal" or plan is None or not plan.paid:
        return None
    if period not in {p.value for p in Period}:
        return None
    return plan, Period(period)


def plans_with(feature: Feature) -> list[Plan]:
    """The sold plans that include `feature`, cheapest first."""
    return sorted((p for p in PLANS.values() if feature in p.features), key=lambda p: p.rank)
