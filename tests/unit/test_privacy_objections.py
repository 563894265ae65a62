"""Objections to a planned sub-processor change: taken only during the notice period, once
per workspace and change, acknowledged to the owners; confirming ends the paid subscription
with the unused prepaid part refunded through billing (once, however often it is asked);
without a subscription the objection stays recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.accounts.model import Role
from chalicelib.billing.mails import format_money
from chalicelib.billing.model import BillingStatus, Money, Processor
from chalicelib.billing.plans import Period
from chalicelib.billing.refunds import prorated_refund
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.privacy.objections import (
    ObjectionStatus,
    confirm_termination,
    dismiss,
    object_to_change,
    objection_id,
    objections_of,
    upcoming_changes,
)
from tests.billing_fakes import WS
from tests.objection_fakes import OWNER_ACTOR, ObjectionWorld

REASON = "Our customers' contracts require hosting by providers we approved."
OTHER_WS = "01HWORKSPACEOTHER000000001"


def _mails(world: ObjectionWorld, kind: str) -> list:
    return [
        m for m in world.mail.mails if m.mail_id.startswith("privacy:") and f":{kind}:" in m.mail_id
    ]


def _refused(call, code: str):
    with pytest.raises(Conflict) as refused:
        call()
    assert refused.value.code == code
    return refused.value


# -- the notice period ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "taken"),
    [
        ("one second before its announcement", False),
        ("at its announcement", True),
        ("a microsecond before it takes effect", True),
        ("on the instant it takes effect", False),
        ("after it took effect", False),
    ],
)
def test_an_objection_is_taken_from_the_announcement_until_the_change_takes_effect(moment, taken):
    world = ObjectionWorld()
    change = world.plan_change(days=40, announced=timedelta(days=2))
    at = {
        "one second before its announcement": change.announced_at - timedelta(seconds=1),
        "at its announcement": change.announced_at,
        "a microsecond before it takes effect": change.effective_at - timedelta(microseconds=1),
        "on the instant it takes effect": change.effective_at,
        "after it took effect": change.effective_at + timedelta(days=1),
    }[moment]
    world.clock.moment = at

    if taken:
        objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)
        assert objection.status is ObjectionStatus.OBJECTED and objection.at == at
        assert world.stored(objection) == objection
    else:
        _refused(
            lambda: object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON),
            "not_in_notice_period",
        )
        assert objections_of(world.deps(), WS) == []
        assert _mails(world, "objection_received") == []


def test_the_owners_see_only_changes_in_their_notice_period_soonest_first():
    world = ObjectionWorld()
    later = world.plan_change(days=60)
    sooner = world.plan_change(days=35)
    world.plan_change(days=50, announced=timedelta(days=1))  # not announced yet
    world.plan_change(days=-1, announced=timedelta(days=-40))  # in force already

    shown = upcoming_changes(world.deps(), WS, OWNER_ACTOR)

    assert [n.change.id for n in shown] == [sooner.id, later.id]
    assert all(not n.dismissed and n.objection is None for n in shown)


# -- one objection per workspace and change -------------------------------------------------


def test_a_workspace_objects_once_to_a_change_and_its_owners_are_told_once():
    world = ObjectionWorld()
    second_owner = world.add_member("01HUSEROWNER00000000000002", Role.OWNER, locale="fr")
    world.add_member("01HUSERADMIN00000000000001", Role.ADMIN)
    change = world.plan_change()

    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, f"  {REASON}\n")
    _refused(
        lambda: object_to_change(world.deps(), WS, second_owner, change.id, "Another reason"),
        "already_objected",
    )

    assert objection.reason == REASON and objection.by == OWNER_ACTOR
    assert objection.id == objection_id(WS, change.id)
    assert objections_of(world.deps(), WS) == [objection]
    received = _mails(world, "objection_received")
    assert sorted(m.to[0] for m in received) == ["000002@acme.test", "olivia@acme.test"]
    [french] = [m for m in received if "Bonjour" in m.text]
    assert "objection" in french.subject and "vous" in french.text
    [english] = [m for m in received if "Hello" in m.text]
    assert REASON in english.text and "Hosting moves to AWS in Singapore." in english.text
    assert "https://app.helptal.test/app/#/settings/privacy" in english.text


def test_another_workspace_objects_to_the_same_change_on_its_own():
    world = ObjectionWorld()
    world.billing.accounts.add_workspace(OTHER_WS, "Other Desk")
    change = world.plan_change()
    mine = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)

    theirs = object_to_change(world.deps(), OTHER_WS, "user:someone", change.id, REASON)

    assert theirs.id != mine.id
    assert objections_of(world.deps(), OTHER_WS) == [theirs]
    with pytest.raises(NotFound):
        confirm_termination(world.deps(), OTHER_WS, "user:someone", mine.id)


@pytest.mark.parametrize("reason", ["", "   \n\t ", "x" * 2001])
def test_a_blank_or_overlong_reason_is_refused_and_nothing_recorded(reason):
    world = ObjectionWorld()
    change = world.plan_change()
    with pytest.raises(ValidationFailed):
        object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, reason)
    assert objections_of(world.deps(), WS) == [] and world.mail.mails == []


def test_a_reason_of_two_thousand_characters_is_kept_whole():
    world = ObjectionWorld()
    change = world.plan_change()
    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, "é" * 2000)
    assert world.stored(objection).reason == "é" * 2000


def test_an_unknown_change_is_not_found():
    world = ObjectionWorld()
    for call in (
        lambda: object_to_change(
            world.deps(), WS, OWNER_ACTOR, "01JNOSUCHCHANGE00000000000", REASON
        ),
        lambda: dismiss(world.deps(), WS, OWNER_ACTOR, "01JNOSUCHCHANGE00000000000"),
        lambda: confirm_termination(world.deps(), WS, OWNER_ACTOR, "01JNOSUCHOBJECTION00000000"),
    ):
        with pytest.raises(NotFound):
            call()


# -- dismissing the in-product notice ---------------------------------------------------------


def test_a_dismissed_notice_is_hidden_from_that_member_only():
    world = ObjectionWorld()
    admin = world.add_member("01HUSERADMIN00000000000001", Role.ADMIN)
    change = world.plan_change()

    shown = dismiss(world.deps(), WS, admin, change.id)
    dismiss(world.deps(), WS, admin, change.id)  # twice: the same

    assert shown.dismissed and shown.change == change
    assert [name for _, name in shown.leaving] == ["Vultr", "DigitalOcean", "Neon", "Upstash"]
    assert [n.dismissed for n in upcoming_changes(world.deps(), WS, admin)] == [True]
    assert [n.dismissed for n in upcoming_changes(world.deps(), WS, OWNER_ACTOR)] == [False]


# -- confirming the termination ---------------------------------------------------------------


def test_confirming_ends_a_yearly_subscription_and_refunds_the_unused_part_once():
    world = ObjectionWorld()
    world.billing.subscribe_stripe("pro", Period.YEAR, 3)
    account = world.billing.account
    start, end = account.current_period_start, account.current_period_end
    assert start is not None and end is not None
    change = world.plan_change(days=40)
    world.clock.advance(days=2)
    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)
    world.clock.advance(days=1)

    done = confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)

    expected = prorated_refund(Money(3 * 49_000, "usd"), start, end, world.clock.now())
    assert expected.amount > 0
    assert (done.status, done.refund, done.refunded_through) == (
        ObjectionStatus.TERMINATED,
        expected,
        Processor.STRIPE,
    )
    assert done.confirmed_by == OWNER_ACTOR and done.confirmed_at == world.clock.now()
    assert world.stored(objection) == done
    assert (world.billing.account.status, world.billing.account.plan_id) == (
        BillingStatus.CANCELED,
        "free",
    )
    [(_, refunded, key)] = world.billing.stripe.called("refund")
    assert refunded == expected and key.endswith(":subprocessor_objection")
    [told] = _mails(world, "subscription_terminated")
    assert format_money(expected, "en") in told.text
    assert "Stripe" in told.text and "Free plan" in told.text

    world.clock.advance(hours=3)
    again = confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)

    assert again == done
    assert len(world.billing.stripe.refunds) == 1
    assert len(_mails(world, "subscription_terminated")) == 1


def test_a_confirmation_cut_short_before_its_outcome_was_written_finishes_with_one_refund():
    world = ObjectionWorld()
    world.billing.subscribe_paypal("pro", Period.YEAR, 2)
    change = world.plan_change()
    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)
    settle = world.objections.settle

    def crash(_objection):
        raise TimeoutError("the store did not answer")

    world.objections.settle = crash  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)
    world.objections.settle = settle  # type: ignore[method-assign]
    assert world.stored(objection).status is ObjectionStatus.OBJECTED

    done = confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)

    assert done.status is ObjectionStatus.TERMINATED
    assert done.refunded_through is Processor.PAYPAL and done.refund is not None
    assert len(world.billing.paypal.refunds) == 1
    assert len(_mails(world, "subscription_terminated")) == 1


def test_confirming_without_a_subscription_answers_no_subscription_and_keeps_the_objection():
    world = ObjectionWorld()  # on its trial: nothing paid
    change = world.plan_change()
    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)

    for _ in range(2):
        _refused(
            lambda: confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id),
            "no_subscription",
        )

    kept = world.stored(objection)
    assert kept.status is ObjectionStatus.NO_SUBSCRIPTION and kept.refund is None
    assert kept.reason == REASON and kept.confirmed_by == OWNER_ACTOR
    assert world.billing.account.status is BillingStatus.TRIALING
    assert _mails(world, "subscription_terminated") == []
    [notice] = upcoming_changes(world.deps(), WS, OWNER_ACTOR)
    assert notice.objection == kept


def test_a_workspace_that_subscribes_after_a_refused_confirmation_can_confirm_again():
    world = ObjectionWorld()
    change = world.plan_change()
    objection = object_to_change(world.deps(), WS, OWNER_ACTOR, change.id, REASON)
    _refused(
        lambda: confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id),
        "no_subscription",
    )
    world.billing.subscribe_stripe("starter", Period.MONTH, 2)

    done = confirm_termination(world.deps(), WS, OWNER_ACTOR, objection.id)

    assert done.status is ObjectionStatus.TERMINATED and done.refund is not None
