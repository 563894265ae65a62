"""A workspace's billing account as it stands now, and what the billing screen shows of it.

`account_of` is how every billing service reads an account: it creates the trial of a
workspace made before billing existed, and writes the moves whose deadline passed (trial
over -> free plan, grace over -> read-only), mailing the owners about them, so a reader
never acts on an account that should have moved on.  `change_account` is how they change
one: read, change, save under the version read, again when someone saved meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.accounts.model import Page
from chalicelib.billing import mails
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import BillingAccount, Invoice, Money, Standing
from chalicelib.billing.plans import FREE, TRIAL_DAYS, TRIAL_PLAN, plan_named
from chalicelib.billing.ports import AccountChanged
from chalicelib.billing.standing import SUBSCRIBED, moved_on, standing
from chalicelib.billing.trial import new_trial
from chalicelib.errors import ServiceUnavailable

SAVE_ATTEMPTS = 5
MEMBERS_PAGE = 100


@dataclass(frozen=True)
class Overview:
    account: BillingAccount
    standing: Standing
    # When the subscription renews and what it will cost then (seats x price, before tax);
    # None without a paid subscription that renews.
    next_charge: tuple[datetime, Money] | None


def busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The billing account is being changed; try again in a moment.", code="billing_busy"
    )


def grace_ref(grace_ends_at: datetime | None) -> str:
    """What the mails of one grace period are about (a new grace period mails again)."""
    return f"grace-{grace_ends_at:%Y%m%dT%H%M%S}" if grace_ends_at else "grace"


def _member_count(deps: BillingDeps, workspace_id: str) -> int:
    count, cursor = 0, None
    while True:
        page = deps.accounts.list_members(workspace_id, cursor, MEMBERS_PAGE)
        count += len(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return count


def _announce_move(deps: BillingDeps, before: BillingAccount, kind: str) -> None:
    """Mails the owners about a move of `before` whose deadline passed."""
    if kind == "trial_ended":
        notice = mails.BillingNotice(
            "trial_ended",
            "trial",
            plan_name=TRIAL_PLAN.name,
            days=TRIAL_DAYS,
            seats=FREE.max_seats or 0,
        )
    elif kind == "read_only":
        notice = mails.BillingNotice("read_only", grace_ref(before.grace_ends_at))
    else:
        plan = plan_named(before.plan_id) or FREE
        about = before.paypal_subscription_id or before.stripe_subscription_id or "subscription"
        notice = mails.BillingNotice("subscription_canceled", about, plan_name=plan.name)
    mails.send(deps, before.workspace_id, notice, before.billing_email)


def settle(deps: BillingDeps, workspace_id: str, now: datetime) -> tuple[BillingAccount, str]:
    """The account at `now` and the move written ("trial_ended", "read_only",
    "subscription_canceled", or "" when none was due): created on a trial when the
    workspace has none (its members counted), moved on when a deadline passed (saved under
    the version read, the owners mailed)."""
    for _ in range(SAVE_ATTEMPTS):
        account = deps.store.get(workspace_id)
        if account is None:
            account = new_trial(workspace_id, now, seats_used=_member_count(deps, workspace_id))
            if not deps.store.create(account):
                continue  # created meanwhile: read it
        moved = moved_on(account, now)
        if moved is None:
            return account, ""
        after, kind = moved
        # Mailed first: a save that loses its race runs again and mails no one twice.
        _announce_move(deps, account, kind)
        try:
            return deps.store.save(after), kind
        except AccountChanged:
            continue
    raise busy()


def account_of(deps: BillingDeps, workspace_id: str) -> BillingAccount:
    """The account now (see `settle`): usually one GetItem."""
    return settle(deps, workspace_id, deps.clock.now())[0]


def change_account(
    deps: BillingDeps,
    workspace_id: str,
    change: Callable[[BillingAccount], BillingAccount | None],
) -> tuple[BillingAccount, BillingAccount]:
    """(before, after): `change` gets a copy of the account now and returns it changed, or
    None to leave it; saved under the version read, `change` run again on a fresh read
    when someone saved meanwhile."""
    for _ in range(SAVE_ATTEMPTS):
        before = account_of(deps, workspace_id)
        changed = change(replace(before))
        if changed is None:
            return before, before
        changed.updated_at = deps.clock.now()
        try:
            return before, deps.store.save(changed)
        except AccountChanged:
            continue
    raise busy()


def next_charge(account: BillingAccount) -> tuple[datetime, Money] | None:
    plan = plan_named(account.plan_id)
    if (
        plan is None
        or not plan.paid
        or account.period is None
        or account.current_period_end is None
        or account.cancel_at_period_end
        or account.status not in SUBSCRIBED
    ):
        return None
    price = plan.seat_price[account.period] * account.seats_paid
    return account.current_period_end, Money(price, plan.currency)


def overview(deps: BillingDeps, workspace_id: str) -> Overview:
    """The account, what it may do now and its next charge (GET /v1/billing)."""
    account = account_of(deps, workspace_id)
    return Overview(
        account=account,
        standing=standing(account, deps.clock.now()),
        next_charge=next_charge(account),
    )


def invoices(deps: BillingDeps, workspace_id: str, cursor: str | None, limit: int) -> Page[Invoice]:
    """The workspace's invoices, newest first (GET /v1/billing/invoices)."""
    return deps.store.list_invoices(workspace_id, cursor, limit)
