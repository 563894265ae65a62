"""Objections to a planned sub-processor change through the API on the emulator, with the
real Stripe and PayPal adapters against their local stand-ins: a workspace on a yearly Pro
plan objects to a change 40 days out, its owners are mailed, it confirms the termination and
is refunded billing's prorated amount once, through the processor that took the payment;
it is then on the free plan and still readable.  Who may do what, hostile input (a 4xx and
nothing changed) and one workspace's objections out of another's reach."""

# The fixtures imported from the billing API test module are parameters of the tests here.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib import bootstrap
from chalicelib.billing.model import Money
from chalicelib.billing.refunds import prorated_refund
from chalicelib.ids import new_id
from chalicelib.privacy.model import (
    Category,
    ChangeKind,
    PlannedChange,
    SubProcessor,
    Words,
)
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite
from tests.integration.test_billing_api import (  # noqa: F401 (fixtures)
    Billing,
    billing,
    processors,
)

REASON = "Our customers' contracts allow only the hosting providers they approved."
AWS = SubProcessor(
    id="aws-ap-southeast-1",
    name="Amazon Web Services",
    legal_entity="Amazon Web Services Singapore Private Limited",
    location=Words("Singapore", "Singapour"),
    purpose=Words("Cloud hosting and database.", "Hébergement cloud et base de données."),
    category=Category.HOSTING,
    processes_workspace_content=True,
)


def plan_change(days: float = 40, announced_days_ago: float = 0) -> PlannedChange:
    """Records a change through the store, as the operator's command does."""
    now = datetime.now(UTC)
    change = PlannedChange(
        id=new_id(),
        kind=ChangeKind.REPLACE,
        announced_at=now - timedelta(days=announced_days_ago),
        effective_at=now + timedelta(days=days),
        summary=Words(
            "Hosting moves to AWS in Singapore.", "L'hébergement passe chez AWS à Singapour."
        ),
        subprocessor=AWS,
        replaces=("vultr", "digitalocean", "neon", "upstash"),
        planned_by="operator",
    )
    bootstrap.subprocessor_changes().record_change(change)
    return change


def owner_of(billing: Billing, workspace: str, email: str) -> tuple[str, str]:
    body = billing.api.sign_up(workspace=workspace, email=email)
    return str(body["token"]), str(body["workspace"]["id"])


def member(billing: Billing, owner: str, email: str, role: str) -> str:
    status, body, _ = accept_invitation(billing.api, invite(billing.api, owner, email, role))
    assert status == 200, body
    return str(body["token"])


def call(billing: Billing, method: str, path: str, token: str, body: Any = None) -> Any:
    status, answer, _ = billing.api.request(method, path, body, token=token)
    return status, answer


def privacy_mails(kind: str) -> list[dict[str, Any]]:
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    return [m for m in mails if m["purpose"] == "privacy" and f":{kind}:" in m["mail_id"]]


def stored_refund(workspace_id: str, invoice_id: str) -> Any:
    [refund] = [
        r
        for r in bootstrap.billing_store().refunds(workspace_id, invoice_id)
        if r.reason == "subprocessor_objection"
    ]
    return refund


def object_and_confirm(billing: Billing, owner: str, change: PlannedChange) -> tuple[Any, Any]:
    status, objection = call(
        billing, "POST", "/v1/privacy/objections", owner, {"change_id": change.id, "reason": REASON}
    )
    assert status == 201, objection
    assert (objection["status"], objection["reason"], objection["refund"]) == (
        "objected",
        REASON,
        None,
    )
    [received] = privacy_mails("objection_received")
    assert received["to"] == ["ann@acme.test"] and REASON in received["text"]
    assert "/settings/privacy" in received["text"]
    status, shown = call(billing, "GET", "/v1/privacy/subprocessor-changes", owner)
    assert status == 200, shown
    [notice] = shown["changes"]
    assert notice["change"]["id"] == change.id and notice["objection"]["id"] == objection["id"]
    status, done = call(billing, "POST", f"/v1/privacy/objections/{objection['id']}/confirm", owner)
    assert status == 200, done
    return objection, done


def test_a_yearly_stripe_subscription_is_ended_and_refunded_its_unused_part_once(billing):
    owner, workspace_id = owner_of(billing, "Acme Support", "ann@acme.test")
    billing.subscribe(owner, seats=3, period="year")
    drain_mail_queue()
    change = plan_change(days=40)

    objection, done = object_and_confirm(billing, owner, change)

    status, page, _ = billing.api.request("GET", "/v1/billing/invoices", token=owner)
    [invoice] = page["invoices"]
    refund = stored_refund(workspace_id, invoice["id"])
    expected = prorated_refund(
        Money(3 * 49_000, "usd"),
        datetime.fromisoformat(invoice["period_start"]),
        datetime.fromisoformat(invoice["period_end"]),
        refund.at,
    )
    assert expected.amount > 3 * 49_000 * 360 // 366
    assert done["status"] == "terminated" and done["confirmed_at"]
    assert done["refund"] == {
        "amount": {"amount": expected.amount, "currency": "usd"},
        "processor": "stripe",
    }
    # At Stripe: one refund of that amount, asked for the objection.
    refunds = [o for o in billing.stripe.objects.values() if o["object"] == "refund"]
    assert [r["amount"] for r in refunds] == [expected.amount]
    [made] = billing.stripe.events("refund.created")
    asked = json.loads(made.body)["request"]["idempotency_key"]
    assert asked == f"refund:{invoice['id']}:subprocessor_objection"
    [told] = privacy_mails("subscription_terminated")
    assert "Stripe" in told["text"] and "$1," in told["text"]

    # Confirmed again (a lost answer): the same answer, nothing refunded twice.
    status, again = call(
        billing, "POST", f"/v1/privacy/objections/{objection['id']}/confirm", owner
    )
    assert (status, again) == (200, done)
    assert len([o for o in billing.stripe.objects.values() if o["object"] == "refund"]) == 1
    assert privacy_mails("subscription_terminated") == []

    # Canceled, on the free plan, and everything still readable.
    billing.deliver_stripe()
    shown = billing.get(owner)
    assert (shown["status"], shown["plan"]["id"]) == ("canceled", "free")
    assert billing.api.request("GET", "/v1/tickets", token=owner)[0] == 200
    status, listed = call(billing, "GET", "/v1/privacy/objections", owner)
    assert status == 200 and listed["objections"] == [done]


def test_a_yearly_paypal_subscription_is_refunded_through_paypal(billing):
    api = billing.api
    owner, workspace_id = owner_of(billing, "Acme Support", "ann@acme.test")
    status, body, _ = api.request(
        "POST",
        "/v1/billing/checkout",
        {"plan": "pro", "period": "year", "seats": 2, "processor": "paypal"},
        token=owner,
    )
    assert status == 201, body
    subscription_id = body["url"].split("token=")[1].split("&")[0]
    back = billing.paypal.approve(subscription_id)
    assert api.client.http.get("/" + back.split("://", 1)[1].split("/", 1)[1]).status_code == 302
    billing.deliver_paypal()
    assert billing.get(owner)["processor"] == "paypal"
    drain_mail_queue()
    change = plan_change(days=40)

    _, done = object_and_confirm(billing, owner, change)

    [sale] = billing.paypal.sales_of(subscription_id)
    [(_, refunded, _)] = sale.refunds
    assert done["status"] == "terminated" and done["refund"]["processor"] == "paypal"
    assert Decimal(done["refund"]["amount"]["amount"]) / 100 == refunded
    status, page, _ = api.request("GET", "/v1/billing/invoices", token=owner)
    [invoice] = page["invoices"]
    refund = stored_refund(workspace_id, invoice["id"])
    expected = prorated_refund(
        Money(invoice["amount_paid"]["amount"], "usd"),
        datetime.fromisoformat(invoice["period_start"]),
        datetime.fromisoformat(invoice["period_end"]),
        refund.at,
    )
    assert done["refund"]["amount"]["amount"] == expected.amount > 0
    assert billing.paypal.subscriptions[subscription_id].body["status"] == "CANCELLED"
    assert billing.get(owner)["plan"]["id"] == "free"
    [told] = privacy_mails("subscription_terminated")
    assert "PayPal" in told["text"]


def test_owners_object_and_confirm_admins_read_and_dismiss_agents_see_nothing(billing):
    owner, _ = owner_of(billing, "Acme Support", "ann@acme.test")
    admin = member(billing, owner, "adam@acme.test", "admin")
    agent = member(billing, owner, "aggie@acme.test", "agent")
    change = plan_change(days=40)
    plan_change(days=60, announced_days_ago=-1)  # recorded, announced tomorrow: not shown
    objecting = {"change_id": change.id, "reason": REASON}

    for token in (agent,):
        for method, path, body in (
            ("GET", "/v1/privacy/subprocessor-changes", None),
            ("POST", f"/v1/privacy/subprocessor-changes/{change.id}/dismiss", None),
            ("GET", "/v1/privacy/objections", None),
            ("POST", "/v1/privacy/objections", objecting),
        ):
            status, answer = call(billing, method, path, token, body)
            assert (status, answer["error"]["code"]) == (403, "forbidden_role"), path
    status, answer = call(billing, "POST", "/v1/privacy/objections", admin, objecting)
    assert (status, answer["error"]["code"]) == (403, "forbidden_role")

    # The admin dismisses the notice for themself; the owner still sees it.
    status, dismissed = call(
        billing, "POST", f"/v1/privacy/subprocessor-changes/{change.id}/dismiss", admin
    )
    assert status == 200 and dismissed["dismissed"] is True
    status, seen = call(billing, "GET", "/v1/privacy/subprocessor-changes", admin)
    assert [(n["change"]["id"], n["dismissed"]) for n in seen["changes"]] == [(change.id, True)]
    assert seen["page_url"].endswith("/legal/subprocessors") and seen["notice_days"] == 30
    status, seen = call(billing, "GET", "/v1/privacy/subprocessor-changes", owner)
    assert [(n["change"]["id"], n["dismissed"]) for n in seen["changes"]] == [(change.id, False)]
    assert seen["changes"][0]["change"]["replaces"][0]["id"] == "vultr"

    status, objection = call(billing, "POST", "/v1/privacy/objections", owner, objecting)
    assert status == 201, objection
    status, again = call(billing, "POST", "/v1/privacy/objections", owner, objecting)
    assert (status, again["error"]["code"]) == (409, "already_objected")
    confirm = f"/v1/privacy/objections/{objection['id']}/confirm"
    for token in (admin, agent):
        status, answer = call(billing, "POST", confirm, token)
        assert status == 403, answer
    status, listed = call(billing, "GET", "/v1/privacy/objections", admin)
    assert [o["id"] for o in listed["objections"]] == [objection["id"]]
    assert listed["objections"][0]["status"] == "objected"

    # On its trial: nothing to terminate; the objection stays, marked so.
    status, answer = call(billing, "POST", confirm, owner)
    assert (status, answer["error"]["code"]) == (409, "no_subscription")
    status, listed = call(billing, "GET", "/v1/privacy/objections", owner)
    assert listed["objections"][0]["status"] == "no_subscription"
    assert listed["objections"][0]["reason"] == REASON


def test_another_workspaces_objection_is_out_of_reach(billing):
    ann, _ = owner_of(billing, "Acme Support", "ann@acme.test")
    bea, _ = owner_of(billing, "Beta Desk", "bea@beta.test")
    change = plan_change(days=40)
    status, theirs = call(
        billing, "POST", "/v1/privacy/objections", bea, {"change_id": change.id, "reason": "No."}
    )
    assert status == 201, theirs

    status, answer = call(billing, "POST", f"/v1/privacy/objections/{theirs['id']}/confirm", ann)
    assert (status, answer["error"]["code"]) == (404, "not_found")
    status, listed = call(billing, "GET", "/v1/privacy/objections", ann)
    assert listed["objections"] == []
    status, shown = call(billing, "GET", "/v1/privacy/subprocessor-changes", ann)
    assert shown["changes"][0]["objection"] is None
    # Each workspace objects for itself.
    status, mine = call(
        billing, "POST", "/v1/privacy/objections", ann, {"change_id": change.id, "reason": "No."}
    )
    assert status == 201 and mine["id"] != theirs["id"]


LONG = "x" * 2001
DEEP = "{" + '"a":{' * 80


def test_hostile_input_is_refused_with_a_4xx_and_changes_nothing(billing):
    owner, _ = owner_of(billing, "Acme Support", "ann@acme.test")
    change = plan_change(days=40)
    past = plan_change(days=-1, announced_days_ago=40)
    later = plan_change(days=60, announced_days_ago=-1)
    good = {"change_id": change.id, "reason": REASON}
    objections = "/v1/privacy/objections"
    changes = "/v1/privacy/subprocessor-changes"

    def objecting(**changed: Any) -> tuple[str, str, Any]:
        return "POST", objections, {**good, **changed}

    cases: list[tuple[str, tuple[str, str, Any], int]] = [
        ("no body", ("POST", objections, None), 400),
        ("an empty body", ("POST", objections, ""), 400),
        ("a JSON list", ("POST", objections, [good]), 400),
        ("JSON null", ("POST", objections, "null"), 400),
        ("broken JSON", ("POST", objections, '{"change_id": '), 400),
        ("nested too deep", ("POST", objections, DEEP), 400),
        ("an empty object", ("POST", objections, {}), 422),
        ("no reason", ("POST", objections, {"change_id": change.id}), 422),
        ("a blank reason", objecting(reason=" \n "), 422),
        ("a reason too long", objecting(reason=LONG), 422),
        ("a reason of null", objecting(reason=None), 422),
        ("a reason as a number", objecting(reason=5), 422),
        ("a NUL in the reason", objecting(reason="a\x00"), 422),
        ("a change id as a list", objecting(change_id=[1]), 422),
        ("a change id of slashes", objecting(change_id="../x"), 422),
        ("an unknown field", objecting(refund=1), 422),
        ("naming a workspace", objecting(workspace_id="W"), 422),
        ("an unknown change", objecting(change_id=new_id()), 404),
        ("a change in force", objecting(change_id=past.id), 409),
        ("a change not announced yet", objecting(change_id=later.id), 409),
        ("dismissing an unknown change", ("POST", f"{changes}/{new_id()}/dismiss", None), 404),
        ("dismissing a dotted id", ("POST", f"{changes}/%2E%2E/dismiss", None), 404),
        (
            "confirming an unknown objection",
            ("POST", f"{objections}/{new_id()}/confirm", None),
            404,
        ),
        ("confirming a long id", ("POST", f"{objections}/{'A' * 300}/confirm", None), 404),
    ]

    def state() -> Any:
        return [
            call(billing, "GET", "/v1/privacy/subprocessor-changes", owner),
            call(billing, "GET", "/v1/privacy/objections", owner),
            billing.get(owner),
        ]

    before = state()
    for case, (method, path, body), expected in cases:
        sent = body if isinstance(body, str) or body is None else json.dumps(body)
        status, answer, _ = billing.api.request(method, path, sent, token=owner)
        assert status == expected, (case, status, answer)
        assert set(answer) == {"error"} and answer["error"]["code"], (case, answer)
    assert state() == before
    assert privacy_mails("objection_received") == []
    # Without a session: 401, whatever the route.
    for method, path in (
        ("GET", "/v1/privacy/subprocessor-changes"),
        ("POST", "/v1/privacy/objections"),
        ("GET", "/v1/privacy/objections"),
    ):
        assert billing.api.request(method, path, good)[0] == 401, path


def test_a_read_only_workspace_still_reads_objects_and_dismisses(billing):
    from chalicelib.billing.model import BillingStatus

    owner, workspace_id = owner_of(billing, "Acme Support", "ann@acme.test")
    change = plan_change(days=40)
    store = bootstrap.billing_store()
    account = store.get(workspace_id)
    account.status, account.trial_ends_at = BillingStatus.READ_ONLY, None
    store.save(account)
    assert billing.api.request("POST", "/v1/tickets", {"subject": "x"}, token=owner)[0] == 402

    status, shown = call(billing, "GET", "/v1/privacy/subprocessor-changes", owner)
    assert status == 200 and [n["change"]["id"] for n in shown["changes"]] == [change.id]
    status, dismissed = call(
        billing, "POST", f"/v1/privacy/subprocessor-changes/{change.id}/dismiss", owner
    )
    assert status == 200 and dismissed["dismissed"] is True
    status, objection = call(
        billing, "POST", "/v1/privacy/objections", owner, {"change_id": change.id, "reason": REASON}
    )
    assert status == 201, objection
