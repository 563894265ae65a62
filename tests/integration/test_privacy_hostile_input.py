"""Hostile input to every privacy route and page on the emulator, as case tables (each test
sets its world up once and tries every case, naming the failing one): the workspace routes
answer a JSON 4xx `{"error": {"code", "message"}}` and change nothing, one workspace never
reaches another's objections, a read-only or free-plan workspace still reaches them, the
public pages and their JSON answer any query, header or method without a 5xx, the
subscription pages never tell whether an address is known, and the operator's command
refuses a malformed change file with a clear message, recording nothing."""

# The billing fixtures imported below are parameters of a test here.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import bootstrap
from chalicelib.ids import new_id
from chalicelib.privacy.model import Category, ChangeKind, PlannedChange, SubProcessor, Words
from infra import subprocessors as command
from tests.integration.conftest import Api, drain_mail_queue, take_queued_mail
from tests.integration.test_billing_api import (  # noqa: F401 (fixtures)
    billing,
    processors,
)

REASON = "Our customers' contracts allow only the hosting providers they approved."
JSON_TYPE = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OBJECTIONS = "/v1/privacy/objections"
CHANGES = "/v1/privacy/subprocessor-changes"
AWS = SubProcessor(
    id="aws-ap-southeast-1",
    name="Amazon Web Services",
    legal_entity="Amazon Web Services Singapore Private Limited",
    location=Words("Singapore", "Singapour"),
    purpose=Words("Cloud hosting and database.", "Hébergement cloud et base de données."),
    category=Category.HOSTING,
    processes_workspace_content=True,
)


def plan(days: float = 40, announced_days_ago: float = 0) -> PlannedChange:
    """A change recorded through the store, as the operator's command records it."""
    now = datetime.now(UTC)
    change = PlannedChange(
        id=new_id(),
        kind=ChangeKind.REPLACE,
        announced_at=now - timedelta(days=announced_days_ago),
        effective_at=now + timedelta(days=days),
        summary=Words("Hosting moves to AWS.", "L'hébergement passe chez AWS."),
        subprocessor=AWS,
        replaces=("vultr", "digitalocean", "neon", "upstash"),
        planned_by="operator",
    )
    bootstrap.subprocessor_changes().record_change(change)
    return change


def owner(api: Api, workspace: str, email: str) -> tuple[str, str]:
    body = api.sign_up(workspace=workspace, email=email)
    return str(body["token"]), str(body["workspace"]["id"])


def send(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    """The request as given (bytes and text as they are, anything else as JSON); the status,
    the decoded JSON (None when the body is not JSON) and the raw response."""
    sent = {**JSON_TYPE, **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
    response = api.client.http.request(method, path, headers=sent, body=payload or b"")
    try:
        decoded = json.loads(response.body) if response.body else None
    except ValueError:
        decoded = None
    return response.status_code, decoded, response


def stored_items(aws: Any) -> list[dict[str, Any]]:
    """Every item of the table but the request counters (test-only Scan)."""
    dynamodb = aws.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=aws.table_name):
        items += [i for i in page["Items"] if not i["PK"]["S"].startswith("NOTICEREQ#")]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def privacy_items(aws: Any, workspace_id: str) -> list[dict[str, Any]]:
    dynamodb = aws.client("dynamodb")
    return dynamodb.query(
        TableName=aws.table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :privacy)",
        ExpressionAttributeValues={
            ":pk": {"S": f"WS#{workspace_id}"},
            ":privacy": {"S": "privacy#"},
        },
        ConsistentRead=True,
    )["Items"]


def assert_error(case: str, status: int, answer: Any, expected: int, code: str | None) -> None:
    assert status == expected, (case, status, answer)
    assert isinstance(answer, dict) and set(answer) == {"error"}, (case, answer)
    error = answer["error"]
    assert isinstance(error.get("code"), str) and error["code"], (case, answer)
    assert isinstance(error.get("message"), str) and error["message"], (case, answer)
    if code is not None:
        assert error["code"] == code, (case, answer)


# -- the workspace routes -------------------------------------------------------------------

DEEP = "{" + '"a":{' * 80
HUGE = '{"change_id": "x", "reason": "' + "x" * 300_000 + '"}'


def test_every_privacy_route_refuses_hostile_requests_with_a_json_4xx_and_changes_nothing(api, aws):
    ann, ann_ws = owner(api, "Acme Support", "ann@acme.test")
    bea, bea_ws = owner(api, "Beta Desk", "bea@beta.test")
    change = plan(days=40)
    past = plan(days=-1, announced_days_ago=40)
    later = plan(days=60, announced_days_ago=-1)
    status, theirs, _ = send(
        api, "POST", OBJECTIONS, {"change_id": change.id, "reason": REASON}, bea
    )
    assert status == 201, theirs
    good = {"change_id": change.id, "reason": REASON}

    def objecting(**changed: Any) -> tuple[str, str, Any, dict[str, str]]:
        return "POST", OBJECTIONS, {**good, **changed}, {}

    def raw(body: Any, headers: dict[str, str] | None = None) -> tuple[str, str, Any, dict]:
        return "POST", OBJECTIONS, body, headers or {}

    def dismissing(change_id: str) -> tuple[str, str, Any, dict[str, str]]:
        return "POST", f"{CHANGES}/{change_id}/dismiss", None, {}

    def confirming(objection_id: str) -> tuple[str, str, Any, dict[str, str]]:
        return "POST", f"{OBJECTIONS}/{objection_id}/confirm", None, {}

    # (case, (method, path, body, headers), status, code or None)
    cases: list[tuple[str, tuple[str, str, Any, dict[str, str]], int, str | None]] = [
        # the body of an objection
        ("no body", raw(None), 400, "missing_body"),
        ("an empty body", raw(""), 400, "missing_body"),
        ("a body of spaces", raw("  \n "), 400, "missing_body"),
        ("a JSON list", raw([good]), 400, "malformed_json"),
        ("JSON null", raw("null"), 400, "malformed_json"),
        ("a JSON string", raw('"x"'), 400, "malformed_json"),
        ("a JSON number", raw("5"), 400, "malformed_json"),
        ("broken JSON", raw('{"change_id": '), 400, "malformed_json"),
        ("JSON then garbage", raw(json.dumps(good) + "x"), 400, "malformed_json"),
        ("nested too deep", raw(DEEP), 400, "malformed_json"),
        ("invalid UTF-8", raw(b'{"change_id": "\xff\xfe", "reason": "x"}'), 400, None),
        ("a body over the size limit", raw(HUGE), 413, None),
        ("sent as text", raw(json.dumps(good), {"Content-Type": "text/plain"}), 415, None),
        ("sent as a form", raw(urlencode(good), FORM), 415, None),
        ("an empty object", raw({}), 422, "validation_failed"),
        ("no reason", raw({"change_id": change.id}), 422, "validation_failed"),
        ("no change id", raw({"reason": REASON}), 422, "validation_failed"),
        ("an unknown field", objecting(refund=1), 422, "validation_failed"),
        ("naming another workspace", objecting(workspace_id=bea_ws), 422, "validation_failed"),
        ("setting the status", objecting(status="terminated"), 422, "validation_failed"),
        # the reason
        ("an empty reason", objecting(reason=""), 422, "validation_failed"),
        ("a reason of spaces", objecting(reason="     "), 422, "validation_failed"),
        ("a reason of tabs and breaks", objecting(reason="\t\r\n \n"), 422, "validation_failed"),
        ("a reason of wide spaces", objecting(reason="\u00a0\u3000\u2003"), 422, None),
        ("a reason of zero-width marks", objecting(reason="\u200b\u200d\ufeff"), 422, None),
        ("a NUL in the reason", objecting(reason="a\x00b"), 422, "validation_failed"),
        ("a terminal escape", objecting(reason="\x1b[31mred"), 422, "validation_failed"),
        ("a DEL in the reason", objecting(reason="no\x7f"), 422, "validation_failed"),
        ("a C1 control in the reason", objecting(reason="no\x9b2J"), 422, "validation_failed"),
        ("a reason of 10 000 characters", objecting(reason="x" * 10_000), 422, None),
        ("a reason of 2001 characters", objecting(reason="x" * 2001), 422, None),
        (
            "a lone surrogate",
            raw('{"change_id": "' + change.id + '", "reason": "\\ud800"}'),
            400,
            None,
        ),
        ("a reason of null", objecting(reason=None), 422, "validation_failed"),
        ("a reason as a number", objecting(reason=5), 422, "validation_failed"),
        ("a reason as a list", objecting(reason=["no"]), 422, "validation_failed"),
        ("a reason as an object", objecting(reason={"en": "no"}), 422, "validation_failed"),
        # the change objected to
        ("an empty change id", objecting(change_id=""), 422, "validation_failed"),
        ("a change id with a space", objecting(change_id="01 X"), 422, "validation_failed"),
        ("a change id of 65 characters", objecting(change_id="A" * 65), 422, None),
        ("a change id ending in a newline", objecting(change_id=f"{change.id}\n"), 422, None),
        ("a change id of slashes", objecting(change_id="../x"), 422, "validation_failed"),
        ("an accented change id", objecting(change_id="été"), 422, "validation_failed"),
        ("a change id as a number", objecting(change_id=5), 422, "validation_failed"),
        ("a change id of null", objecting(change_id=None), 422, "validation_failed"),
        ("a change id as a list", objecting(change_id=[change.id]), 422, "validation_failed"),
        ("a change id that is no ULID", objecting(change_id="hello"), 404, None),
        ("a change id in lower case", objecting(change_id=change.id.lower()), 404, None),
        ("a change id of 64 characters", objecting(change_id="A" * 64), 404, None),
        ("an unknown change", objecting(change_id=new_id()), 404, None),
        ("a change in force", objecting(change_id=past.id), 409, "not_in_notice_period"),
        ("a change not announced", objecting(change_id=later.id), 409, "not_in_notice_period"),
        # dismissing
        ("dismissing an unknown change", dismissing(new_id()), 404, None),
        ("dismissing no ULID", dismissing("hello"), 404, None),
        ("dismissing a long id", dismissing("A" * 300), 404, None),
        ("dismissing a dotted id", dismissing("%2E%2E"), 404, None),
        ("dismissing a NUL", dismissing("%00"), 404, None),
        ("dismissing a newline", dismissing(f"{change.id}%0A"), 404, None),
        ("dismissing an accented id", dismissing("%C3%A9t%C3%A9"), 404, None),
        ("dismissing a change in force", dismissing(past.id), 409, "not_in_notice_period"),
        ("dismissing a change not announced", dismissing(later.id), 409, "not_in_notice_period"),
        # confirming
        ("confirming an unknown objection", confirming(new_id()), 404, None),
        ("confirming another workspace's objection", confirming(theirs["id"]), 404, None),
        ("confirming by a change id", confirming(change.id), 404, None),
        ("confirming a long id", confirming("A" * 300), 404, None),
        ("confirming a NUL", confirming("%00"), 404, None),
        ("confirming a quoted id", confirming("%22%3E%3Cb%3E"), 404, None),
        # methods no route answers
        ("PUT on the objections", ("PUT", OBJECTIONS, good, {}), 405, None),
        ("PATCH on the objections", ("PATCH", OBJECTIONS, good, {}), 405, None),
        ("DELETE on the objections", ("DELETE", OBJECTIONS, None, {}), 405, None),
        (
            "GET on a confirmation",
            ("GET", f"{OBJECTIONS}/{theirs['id']}/confirm", None, {}),
            405,
            None,
        ),
        (
            "DELETE on a dismissal",
            ("DELETE", f"{CHANGES}/{change.id}/dismiss", None, {}),
            405,
            None,
        ),
        ("POST on the changes", ("POST", CHANGES, good, {}), 405, None),
        # who is asking
        (
            "another workspace named",
            ("POST", OBJECTIONS, good, {"X-Workspace-Id": bea_ws}),
            404,
            None,
        ),
        (
            "a workspace of garbage",
            ("POST", OBJECTIONS, good, {"X-Workspace-Id": "<b>"}),
            404,
            None,
        ),
        (
            "a very long workspace",
            ("POST", OBJECTIONS, good, {"X-Workspace-Id": "W" * 3000}),
            404,
            None,
        ),
        (
            "another workspace's confirmation",
            ("POST", f"{OBJECTIONS}/{theirs['id']}/confirm", None, {"X-Workspace-Id": bea_ws}),
            404,
            None,
        ),
        (
            "another workspace's dismissal",
            ("POST", f"{CHANGES}/{change.id}/dismiss", None, {"X-Workspace-Id": bea_ws}),
            404,
            None,
        ),
    ]
    anonymous: list[tuple[str, tuple[str, str, Any, dict[str, str]], int, str | None]] = [
        ("no session", ("POST", OBJECTIONS, good, {}), 401, None),
        (
            "a forged bearer",
            ("POST", OBJECTIONS, good, {"Authorization": "Bearer htl_forged"}),
            401,
            None,
        ),
        ("a basic login", ("GET", CHANGES, None, {"Authorization": "Basic YTpi"}), 401, None),
        (
            "a bearer of garbage",
            ("GET", OBJECTIONS, None, {"Authorization": "Bearer \u00e9" * 400}),
            401,
            None,
        ),
        ("no session on a confirmation", confirming(theirs["id"]), 401, None),
    ]
    drain_mail_queue()
    before = stored_items(aws)

    for case, (method, path, body, headers), expected, code in cases:
        status, answer, _ = send(api, method, path, body, ann, headers)
        assert_error(case, status, answer, expected, code)
    for case, (method, path, body, headers), expected, code in anonymous:
        status, answer, _ = send(api, method, path, body, None, headers)
        assert_error(case, status, answer, expected, code)

    assert stored_items(aws) == before
    assert drain_mail_queue() == []
    assert privacy_items(aws, ann_ws) == []


def test_one_workspace_never_reads_dismisses_objects_for_or_confirms_anothers(api, aws):
    ann, ann_ws = owner(api, "Acme Support", "ann@acme.test")
    bea, bea_ws = owner(api, "Beta Desk", "bea@beta.test")
    change = plan(days=40)
    theirs_said = {"change_id": change.id, "reason": "Beta's own reason"}
    status, theirs, _ = send(api, "POST", OBJECTIONS, theirs_said, bea)
    assert status == 201, theirs
    drain_mail_queue()
    bea_before = privacy_items(aws, bea_ws)
    bea_listed = send(api, "GET", OBJECTIONS, None, bea)[1]
    as_bea = {"X-Workspace-Id": bea_ws}
    confirm_theirs = f"{OBJECTIONS}/{theirs['id']}/confirm"
    objecting = {"change_id": change.id, "reason": "Ours."}

    # (case, method, path, body, headers, status): none of Ann's answers shows Beta's objection
    cases: list[tuple[str, str, str, Any, dict[str, str], int]] = [
        ("listing objections", "GET", OBJECTIONS, None, {}, 200),
        ("listing changes", "GET", CHANGES, None, {}, 200),
        ("listing objections as Beta", "GET", OBJECTIONS, None, as_bea, 404),
        ("listing changes as Beta", "GET", CHANGES, None, as_bea, 404),
        ("confirming Beta's objection", "POST", confirm_theirs, None, {}, 404),
        ("confirming it as Beta", "POST", confirm_theirs, None, as_bea, 404),
        (
            "objecting for Beta in the body",
            "POST",
            OBJECTIONS,
            {**objecting, "workspace_id": bea_ws},
            {},
            422,
        ),
        ("objecting as Beta", "POST", OBJECTIONS, objecting, as_bea, 404),
        ("dismissing as Beta", "POST", f"{CHANGES}/{change.id}/dismiss", None, as_bea, 404),
        ("dismissing for herself", "POST", f"{CHANGES}/{change.id}/dismiss", None, {}, 200),
    ]
    for case, method, path, body, headers, expected in cases:
        status, answer, _ = send(api, method, path, body, ann, headers)
        assert status == expected, (case, status, answer)
        assert theirs["id"] not in json.dumps(answer), case
        assert "Beta's own reason" not in json.dumps(answer), case
        if status >= 400:
            assert_error(case, status, answer, expected, None)

    # Beta's objection, listing and notices are as they were; Beta was mailed nothing.
    assert privacy_items(aws, bea_ws) == bea_before, "Beta's items"
    assert send(api, "GET", OBJECTIONS, None, bea)[1] == bea_listed, "Beta's listing"
    [notice] = send(api, "GET", CHANGES, None, bea)[1]["changes"]
    assert notice["dismissed"] is False and notice["objection"]["status"] == "objected"
    assert [m for m in drain_mail_queue() if "bea@beta.test" in m["Body"]] == []
    # Ann objects for Acme only, under an id of her own; Beta's is untouched.
    status, mine, _ = send(api, "POST", OBJECTIONS, objecting, ann)
    assert status == 201 and mine["id"] != theirs["id"], mine
    assert privacy_items(aws, bea_ws) == bea_before, "Beta's items after Ann objected"
    assert {i["SK"]["S"] for i in privacy_items(aws, ann_ws)} >= {f"privacy#objection#{mine['id']}"}


# -- a read-only or free-plan workspace ----------------------------------------------------


def _set_account(workspace_id: str, **changed: Any) -> None:
    from dataclasses import replace

    store = bootstrap.billing_store()
    account = store.get(workspace_id)
    assert account is not None
    store.save(replace(account, **changed))


def test_read_only_free_and_canceled_workspaces_reach_every_privacy_route(api, aws):
    from chalicelib.billing.model import BillingStatus, Processor

    now = datetime.now(UTC)
    workspaces = {
        "read-only": owner(api, "Read Only", "ro@ro.test"),
        "free": owner(api, "Free Plan", "free@free.test"),
        "canceled": owner(api, "Canceled", "gone@gone.test"),
    }
    change = plan(days=40)
    _set_account(workspaces["read-only"][1], status=BillingStatus.READ_ONLY, trial_ends_at=None)
    _set_account(
        workspaces["free"][1], plan_id="free", status=BillingStatus.ACTIVE, trial_ends_at=None
    )
    # A paid Stripe subscription that was canceled (now on the free plan, nothing to end).
    _set_account(
        workspaces["canceled"][1],
        plan_id="free",
        status=BillingStatus.CANCELED,
        trial_ends_at=None,
        processor=Processor.STRIPE,
        stripe_customer_id="cus_gone",
        stripe_subscription_id="sub_gone",
        current_period_start=now - timedelta(days=40),
        current_period_end=now - timedelta(days=10),
    )
    drain_mail_queue()
    accounts = {kind: bootstrap.billing_store().get(ws) for kind, (_, ws) in workspaces.items()}

    for kind, (token, workspace_id) in workspaces.items():
        if kind == "read-only":
            assert send(api, "POST", "/v1/tickets", {"subject": "x"}, token)[0] == 402, kind
        status, shown, _ = send(api, "GET", CHANGES, None, token)
        assert status == 200 and [n["change"]["id"] for n in shown["changes"]] == [change.id], kind
        status, dismissed, _ = send(api, "POST", f"{CHANGES}/{change.id}/dismiss", None, token)
        assert status == 200 and dismissed["dismissed"] is True, (kind, dismissed)
        status, objection, _ = send(
            api, "POST", OBJECTIONS, {"change_id": change.id, "reason": REASON}, token
        )
        assert status == 201, (kind, objection)
        [received] = [
            json.loads(m["Body"]) for m in drain_mail_queue() if ":objection_received:" in m["Body"]
        ]
        assert REASON in received["text"], kind
        confirm = f"{OBJECTIONS}/{objection['id']}/confirm"
        # Confirmed twice: the same refusal, the objection kept, nothing ended, nobody mailed.
        for attempt in ("first", "second"):
            status, answer, _ = send(api, "POST", confirm, None, token)
            assert_error(f"{kind}, {attempt}", status, answer, 409, "no_subscription")
        status, listed, _ = send(api, "GET", OBJECTIONS, None, token)
        assert status == 200, kind
        [kept] = listed["objections"]
        assert (kept["status"], kept["reason"], kept["refund"]) == (
            "no_subscription",
            REASON,
            None,
        ), kind
        assert [m for m in drain_mail_queue() if "privacy" in m["Body"]] == [], kind
        after = bootstrap.billing_store().get(workspace_id)
        assert (after.plan_id, after.status) == (
            accounts[kind].plan_id,
            accounts[kind].status,
        ), kind


def test_confirming_while_the_processor_fails_or_once_canceled_keeps_the_objection(billing, aws):
    """Stripe down or refusing: a JSON 503 or 409, nothing ended or refunded, the objection
    kept; canceled at Stripe before its webhook came: ended here too, refunded once;
    canceled in Helptal before: 409 `no_subscription`, nothing refunded again."""
    import requests

    api, stripe = billing.api, billing.stripe
    ann, _ = owner(api, "Acme Support", "ann@acme.test")
    bea, bea_ws = owner(api, "Beta Desk", "bea@beta.test")
    for token in (ann, bea):
        billing.subscribe(token, seats=2, period="year")
    change = plan(days=40)
    said = {"change_id": change.id, "reason": REASON}
    ann_objection = send(api, "POST", OBJECTIONS, said, ann)[1]
    status, body, _ = send(api, "POST", "/v1/billing/cancel", {"when": "now"}, bea)
    assert status == 200 and body["refund"] is not None, body
    bea_objection = send(api, "POST", OBJECTIONS, said, bea)[1]

    def refunds() -> list[int]:
        return [o["amount"] for o in stripe.objects.values() if o["object"] == "refund"]

    def cancel_at_stripe() -> None:
        [subscription] = [
            o
            for o in stripe.objects.values()
            if o["object"] == "subscription" and o["status"] != "canceled"
        ]
        ended = requests.delete(
            f"{stripe.url}/v1/subscriptions/{subscription['id']}",
            headers={"Authorization": f"Bearer {stripe.secret_key}"},
            timeout=5,
        )
        assert ended.status_code == 200, ended.text

    # (case, who, their objection, what happens first, status, code, the objection's status)
    cases: list[tuple[str, str, Any, Any, int, str | None, str]] = [
        (
            "Stripe not answering",
            ann,
            ann_objection,
            lambda: stripe.fail_next(503, 3),
            503,
            "processor_unavailable",
            "objected",
        ),
        (
            "Stripe refusing",
            ann,
            ann_objection,
            lambda: stripe.fail_next(400, 1),
            409,
            "processor_refused",
            "objected",
        ),
        (
            "canceled at Stripe, no webhook yet",
            ann,
            ann_objection,
            cancel_at_stripe,
            200,
            None,
            "terminated",
        ),
        ("confirmed again", ann, ann_objection, lambda: None, 200, None, "terminated"),
        (
            "canceled in Helptal before",
            bea,
            bea_objection,
            lambda: None,
            409,
            "no_subscription",
            "no_subscription",
        ),
        (
            "canceled, confirmed again",
            bea,
            bea_objection,
            lambda: None,
            409,
            "no_subscription",
            "no_subscription",
        ),
    ]
    refunded_before = refunds()
    for case, token, objection, first, expected, code, afterwards in cases:
        first()
        status, answer, _ = send(
            api, "POST", f"{OBJECTIONS}/{objection['id']}/confirm", None, token
        )
        if expected >= 400:
            assert_error(case, status, answer, expected, code)
        else:
            assert status == expected and answer["status"] == "terminated", (case, answer)
            assert answer["refund"]["processor"] == "stripe", (case, answer)
        [kept] = send(api, "GET", OBJECTIONS, None, token)[1]["objections"]
        assert kept["status"] == afterwards and kept["reason"] == REASON, (case, kept)
        if afterwards == "objected":
            assert refunds() == refunded_before, case
    # Ann's termination refunded once; Beta's cancellation was its only refund.
    assert len(refunds()) == len(refunded_before) + 1
    assert bootstrap.billing_store().get(bea_ws).status.value == "canceled"


# -- the public pages and their JSON ---------------------------------------------------------

PUBLIC_PAGES = ("/legal/subprocessors", "/legal/subprocessors/changelog")
PUBLIC_JSON = ("/v1/public/subprocessors", "/v1/public/subprocessors/changelog")

# (case, query, headers, the page's language or None when either will do)
ODD_QUERIES: list[tuple[str, str, dict[str, str], str | None]] = [
    ("a language in capitals", "?lang=FR", {}, None),
    ("an empty language", "?lang=", {"Accept-Language": "fr"}, "fr"),
    ("a language of markup", "?lang=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", {}, "en"),
    ("a NUL language", "?lang=fr%00", {}, "en"),
    ("a language as a list", "?lang[]=fr&lang[]=en", {}, "en"),
    ("a language repeated 500 times", "?" + "&".join(["lang=fr"] * 500), {}, "fr"),
    ("a language of 100 000 characters", "?lang=" + "f" * 100_000, {}, "en"),
    ("broken percent escapes", "?lang=%ZZ%&%=%%", {}, "en"),
    ("invalid UTF-8", "?lang=%ff%fe", {}, "en"),
    ("only separators", "?&&&===&", {}, "en"),
    ("a thousand parameters", "?" + "&".join(f"p{n}={n}" for n in range(1000)), {}, "en"),
    ("a query of 200 000 characters", "?x=" + "y" * 200_000, {}, "en"),
    ("an Accept-Language of 20 000 tags", "", {"Accept-Language": "de;q=0.1," * 20_000}, "en"),
    ("an Accept-Language of garbage", "", {"Accept-Language": ";;,,=;q=,*"}, "en"),
    ("an Accept-Language wildcard", "", {"Accept-Language": "*"}, "en"),
    ("an Accept-Language of markup", "", {"Accept-Language": "<script>fr</script>"}, "en"),
    ("an Accept-Language with a NUL", "", {"Accept-Language": "fr\x00"}, None),
    ("an Accept-Language of Latin-1", "", {"Accept-Language": "fr-\xe9"}, None),
    ("an If-None-Match of garbage", "", {"If-None-Match": '"' * 5000}, "en"),
]


def test_the_public_pages_and_their_json_answer_any_query_and_header(api, aws):
    plan(days=40)
    for case, query, headers, language in ODD_QUERIES:
        for path in PUBLIC_PAGES:
            response = api.client.http.get(path + query, headers=headers)
            page = response.body.decode()
            assert response.status_code == 200, (case, path, response.status_code, page[:300])
            assert response.headers["Content-Type"].startswith("text/html"), (case, path)
            assert "default-src 'none'" in response.headers["Content-Security-Policy"], case
            assert "<script" not in page.lower() and "alert(1)" not in page, (case, path)
            assert "y" * 100 not in page and "f" * 100 not in page, (case, path)
            if language:
                assert f'<html lang="{language}">' in page, (case, path)
        for path in PUBLIC_JSON:
            response = api.client.http.get(path + query, headers=headers)
            assert response.status_code == 200, (case, path, response.status_code)
            answer = json.loads(response.body)
            assert answer["upcoming"] and "planned_by" not in answer["upcoming"][0], (case, path)
            assert "<script" not in response.body.decode(), (case, path)
            assert response.headers["Cache-Control"] == "public, max-age=300", (case, path)


def test_the_public_pages_and_their_json_refuse_other_methods_without_a_5xx(api, aws):
    """Routing refuses them before any page is rendered: the JSON error of every routing
    refusal, pages included (tests/unit/test_openapi.py documents it so)."""
    before = stored_items(aws)
    for path in (*PUBLIC_PAGES, *PUBLIC_JSON, SUBSCRIBE):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "FOO"):
            if (method == "GET") != (path == SUBSCRIBE):
                continue  # the routes' own method
            case = f"{method} {path}"
            response = api.client.http.request(
                method, path, headers=FORM, body=b"email=a%40b.test&lang=fr"
            )
            answer = json.loads(response.body)
            assert_error(case, response.status_code, answer, 405, "method_not_allowed")
    for path in PUBLIC_JSON:  # (the pages have no preflight of their own)
        preflight = api.client.http.options(
            path, headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "PUT"}
        )
        assert preflight.status_code < 500, (path, preflight.status_code)
    assert stored_items(aws) == before
    assert drain_mail_queue() == []


# -- the subscription pages ---------------------------------------------------------------

SUBSCRIBE = "/legal/subprocessors/subscribe"
CONFIRM = "/legal/subprocessors/subscriptions/confirm/"
UNSUBSCRIBE = "/legal/subprocessors/subscriptions/unsubscribe/"


def _subscribe(api: Api, email: str, lang: str = "en") -> Any:
    return api.client.http.post(
        SUBSCRIBE, headers=FORM, body=urlencode({"email": email, "lang": lang})
    )


def _links(email: str) -> tuple[str, str]:
    import re

    mail = take_queued_mail(email, "subprocessor_subscription")
    confirm = re.search(r"/confirm/([\w.-]+)", mail["text"])
    assert confirm is not None, mail["text"]
    unsubscribe = mail["headers"]["List-Unsubscribe"].rsplit("/", 1)[1].strip("<>")
    return confirm.group(1), unsubscribe


def _page_of(case: str, response: Any, status: int) -> str:
    assert response.status_code == status, (case, response.status_code, response.body[:300])
    assert response.headers["Content-Type"].startswith("text/html"), case
    assert response.headers["Cache-Control"] == "no-store", case
    assert "default-src 'none'" in response.headers["Content-Security-Policy"], case
    return response.body.decode()


def test_the_subscription_pages_never_tell_whether_an_address_is_known(api, aws, monkeypatch):
    from chalicelib.privacy import subscriptions

    monkeypatch.setattr(subscriptions, "REQUESTS_PER_VISITOR", 1000)
    # pending, confirmed, unsubscribed after confirming, at its daily mail limit
    _subscribe(api, "pending@example.com")
    for email in ("confirmed@example.com", "gone@example.com"):
        _subscribe(api, email)
        confirm, unsubscribe = _links(email)
        assert api.client.http.post(CONFIRM + confirm, headers=FORM).status_code == 200
    assert api.client.http.post(UNSUBSCRIBE + unsubscribe, headers=FORM).status_code == 200
    for _ in range(3):
        _subscribe(api, "limited@example.com")
    drain_mail_queue()

    answers = {
        case: _subscribe(api, email)
        for case, email in (
            ("unknown", "new@example.com"),
            ("pending", "pending@example.com"),
            ("confirmed", "confirmed@example.com"),
            ("confirmed, in capitals", "CONFIRMED@Example.COM"),
            ("unsubscribed", "gone@example.com"),
            ("at its daily limit", "limited@example.com"),
        )
    }
    pages = {case: _page_of(case, response, 200) for case, response in answers.items()}
    assert len(set(pages.values())) == 1, {case: page[:80] for case, page in pages.items()}
    headers = {
        case: {k: v for k, v in r.headers.items() if k.lower() != "x-request-id"}
        for case, r in answers.items()
    }
    assert len({json.dumps(h, sort_keys=True) for h in headers.values()}) == 1, headers


def test_confirming_twice_or_after_unsubscribing_and_odd_languages_on_the_link_pages(
    api, aws, monkeypatch
):
    from chalicelib.privacy import subscriptions
    from chalicelib.privacy.notice_ports import subscriber_key

    monkeypatch.setattr(subscriptions, "REQUESTS_PER_VISITOR", 1000)
    _subscribe(api, "dpo@example.com", lang="fr")
    confirm, unsubscribe = _links("dpo@example.com")
    _subscribe(api, "replaced@example.com")
    replaced, _ = _links("replaced@example.com")
    _subscribe(api, "replaced@example.com")
    drain_mail_queue()

    def status_of(email: str) -> str | None:
        found = bootstrap.notice_subscribers().get(subscriber_key(email))
        return found.status.value if found else None

    odd = "?lang=" + "%3Cb%3E" * 2000
    # (case, method, path, headers, status, the subscriber's status afterwards)
    cases: list[tuple[str, str, str, dict[str, str], int, str | None]] = [
        (
            "the confirmation page",
            "GET",
            CONFIRM + confirm + odd,
            {"Accept-Language": "*" * 9000},
            200,
            "pending",
        ),
        ("confirming", "POST", CONFIRM + confirm + "?lang=%00", FORM, 200, "confirmed"),
        ("confirming twice", "POST", CONFIRM + confirm, FORM, 200, "confirmed"),
        (
            "confirming as multipart",
            "POST",
            CONFIRM + confirm,
            {"Content-Type": "multipart/form-data"},
            200,
            "confirmed",
        ),
        ("confirming as JSON", "POST", CONFIRM + confirm, JSON_TYPE, 415, "confirmed"),
        ("PUT on the confirmation", "PUT", CONFIRM + confirm, FORM, 405, "confirmed"),
        ("DELETE on the confirmation", "DELETE", CONFIRM + confirm, FORM, 405, "confirmed"),
        ("the unsubscribe page", "GET", UNSUBSCRIBE + unsubscribe + odd, {}, 200, "confirmed"),
        (
            "DELETE on the unsubscription",
            "DELETE",
            UNSUBSCRIBE + unsubscribe,
            FORM,
            405,
            "confirmed",
        ),
        ("unsubscribing", "POST", UNSUBSCRIBE + unsubscribe, FORM, 200, None),
        ("unsubscribing twice", "POST", UNSUBSCRIBE + unsubscribe, FORM, 200, None),
        ("confirming once unsubscribed", "POST", CONFIRM + confirm, FORM, 404, None),
        ("its page once unsubscribed", "GET", CONFIRM + confirm, {}, 200, None),
        ("a replaced link", "POST", CONFIRM + replaced, FORM, 404, None),
        ("GET on the form", "GET", SUBSCRIBE, {}, 405, None),
        ("PUT on the form", "PUT", SUBSCRIBE, FORM, 405, None),
    ]
    for case, method, path, headers, expected, afterwards in cases:
        response = api.client.http.request(
            method, path, headers=headers, body=b"List-Unsubscribe=One-Click"
        )
        assert response.status_code == expected, (case, response.status_code, response.body[:300])
        if expected in (200, 404):
            page = _page_of(case, response, expected)
            assert "<b>" not in page and "<script" not in page, case
        assert status_of("dpo@example.com") == afterwards, case
        assert status_of("replaced@example.com") == "pending", case
    assert drain_mail_queue() == []


# -- the operator's command ----------------------------------------------------------------

HOSTING_FILE = Path(command.__file__).parent / "subprocessor_changes" / "aws-hosting.json"


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hosting(**changed: Any) -> dict[str, Any]:
    raw = json.loads(HOSTING_FILE.read_text(encoding="utf-8"))
    raw["effective_at"] = _in(40)
    for name, value in changed.items():
        if name.startswith("sp_"):
            raw["subprocessor"][name[3:]] = value
        else:
            raw[name] = value
    return raw


def _without(name: str) -> dict[str, Any]:
    raw = _hosting()
    if name.startswith("sp_"):
        del raw["subprocessor"][name[3:]]
    else:
        del raw[name]
    return raw


# (case, the file's content (a dict as JSON, text or bytes as they are), what stderr names)
CHANGE_FILES: list[tuple[str, Any, str]] = [
    ("an empty file", "", "JSONDecodeError"),
    ("not JSON", "kind: replace", "JSONDecodeError"),
    ("invalid UTF-8", b'{"kind": "\xff"}', "UnicodeDecodeError"),
    ("a JSON list", [_hosting()], "a change is a JSON object"),
    ("a JSON string", '"replace"', "a change is a JSON object"),
    ("nested too deep", "[" * 100_000 + "]" * 100_000, "nest"),
    ("an unknown field", _hosting(approved=True), "unknown fields: approved"),
    ("an announcement date given", _hosting(announced_at="2020-01-01T00:00:00Z"), "announced_at"),
    ("an id given", _hosting(id="01MYOWNID"), "id"),
    ("a planner given", _hosting(planned_by="someone else"), "planned_by"),
    # kind
    ("no kind", _without("kind"), "kind"),
    ("a kind in capitals", _hosting(kind="REPLACE"), "kind"),
    ("a kind as a number", _hosting(kind=1), "kind"),
    ("a kind as a list", _hosting(kind=["replace"]), "kind"),
    ("a kind as an object", _hosting(kind={"replace": True}), "kind"),
    # effective_at
    ("no effective date", _without("effective_at"), "effective_at"),
    ("an effective date in words", _hosting(effective_at="next month"), "effective_at"),
    ("an effective date as a number", _hosting(effective_at=20270301), "effective_at"),
    ("an effective date as a list", _hosting(effective_at=["2027-03-01"]), "effective_at"),
    ("no such day", _hosting(effective_at="2027-02-30"), "effective_at"),
    ("a time without its offset", _hosting(effective_at="2027-03-01T00:00:00"), "effective_at"),
    ("an effective date in the past", _hosting(effective_at="2020-01-01"), "effective_in_the_past"),
    ("too short a notice", _hosting(effective_at=_in(10)), "notice_too_short"),
    ("the last day of year 9999", _hosting(effective_at="9999-12-31"), "effective_at"),
    ("year 9999 west of UTC", _hosting(effective_at="9999-12-31T23:00:00-05:00"), "effective_at"),
    ("year 1 east of UTC", _hosting(effective_at="0001-01-01T00:30:00+01:00"), "effective_at"),
    # summary
    ("no summary", _without("summary"), "summary"),
    ("a summary as text", _hosting(summary="Hosting moves."), "summary"),
    ("no French summary", _hosting(summary={"en": "Hosting moves."}), "summary.fr"),
    ("a blank English summary", _hosting(summary={"en": "  ", "fr": "x"}), "summary.en"),
    ("a summary as a number", _hosting(summary={"en": 5, "fr": "x"}), "summary.en"),
    ("a summary too long", _hosting(summary={"en": "x" * 2001, "fr": "x"}), "summary.en"),
    ("a NUL in the summary", _hosting(summary={"en": "a\x00b", "fr": "x"}), "summary.en"),
    # subprocessor
    ("no newcomer for a replacement", _without("subprocessor"), "invalid_change"),
    ("a newcomer as text", _hosting(subprocessor="aws"), "subprocessor"),
    ("a newcomer as a list", _hosting(subprocessor=["aws"]), "subprocessor"),
    ("no provider id", _without("sp_id"), "subprocessor.id"),
    ("a provider id in capitals", _hosting(sp_id="AWS"), "subprocessor.id"),
    ("a provider id ending in a newline", _hosting(sp_id="aws-sg\n"), "subprocessor.id"),
    ("a provider id of 64 characters", _hosting(sp_id="a" * 64), "subprocessor.id"),
    ("a provider id as a number", _hosting(sp_id=7), "subprocessor.id"),
    ("no provider name", _without("sp_name"), "subprocessor.name"),
    ("a blank provider name", _hosting(sp_name=" "), "subprocessor.name"),
    ("a provider name as a list", _hosting(sp_name=["AWS"]), "subprocessor.name"),
    ("a provider name with a line break", _hosting(sp_name="AWS\nBcc: x"), "subprocessor.name"),
    ("a legal entity as a number", _hosting(sp_legal_entity=42), "subprocessor.legal_entity"),
    (
        "a legal entity as an object",
        _hosting(sp_legal_entity={"a": 1}),
        "subprocessor.legal_entity",
    ),
    ("a legal entity too long", _hosting(sp_legal_entity="x" * 2001), "subprocessor.legal_entity"),
    ("no location", _without("sp_location"), "subprocessor.location"),
    ("a location as text", _hosting(sp_location="Singapore"), "subprocessor.location"),
    ("no French location", _hosting(sp_location={"en": "Singapore"}), "subprocessor.location.fr"),
    ("no purpose", _without("sp_purpose"), "subprocessor.purpose"),
    ("a purpose as a list", _hosting(sp_purpose=["hosting"]), "subprocessor.purpose"),
    ("no category", _without("sp_category"), "subprocessor.category"),
    ("an unknown category", _hosting(sp_category="cloud"), "subprocessor.category"),
    ("a category as a list", _hosting(sp_category=["hosting"]), "subprocessor.category"),
    ("no content flag", _without("sp_processes_workspace_content"), "processes_workspace_content"),
    (
        "a content flag as text",
        _hosting(sp_processes_workspace_content="yes"),
        "processes_workspace_content",
    ),
    (
        "a content flag of null",
        _hosting(sp_processes_workspace_content=None),
        "processes_workspace_content",
    ),
    ("an unknown newcomer field", _hosting(sp_website="https://aws.test"), "website"),
    # replaces
    ("replaces as text", _hosting(replaces="vultr"), "replaces"),
    ("replaces as an object", _hosting(replaces={"vultr": True}), "replaces"),
    ("replaces of numbers", _hosting(replaces=[1, 2]), "replaces[0]"),
    ("replaces in capitals", _hosting(replaces=["Vultr"]), "replaces[0]"),
    ("replaces twice the same", _hosting(replaces=["vultr", "vultr"]), "invalid_change"),
    ("replaces nobody", _hosting(replaces=[]), "invalid_change"),
    ("replaces one not listed", _hosting(replaces=["linode"]), "unknown_subprocessor"),
    ("an addition that replaces", _hosting(kind="add"), "invalid_change"),
    ("a removal with a newcomer", _hosting(kind="remove"), "invalid_change"),
    ("adding one listed", _hosting(kind="add", replaces=[], sp_id="mailgun"), "already_listed"),
]


def test_the_operators_command_refuses_every_malformed_change_file_recording_nothing(
    clean_aws, tmp_path, capsys
):
    from chalicelib.store.subprocessor_changes_repo import DynamoSubprocessorChanges

    store = DynamoSubprocessorChanges()
    assert store.all_changes() == []
    path = tmp_path / "change.json"
    for case, content, named in CHANGE_FILES:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        code = command.main(["plan", "--file", str(path), "--yes"])
        out, err = capsys.readouterr()
        assert code == 1, (case, code, out, err)
        assert "Traceback" not in err and named in err, (case, err)
        assert "Recorded" not in out, (case, out)
    for case, argv in (
        ("a missing file", ["plan", "--file", str(tmp_path / "none.json"), "--yes"]),
        ("a folder", ["plan", "--file", str(tmp_path), "--yes"]),
        ("showing an id of 3000 characters", ["show", "x" * 3000]),
        ("showing an empty id", ["show", ""]),
    ):
        code = command.main(argv)
        out, err = capsys.readouterr()
        assert code == 1 and err.strip(), (case, code, out, err)
    for case, argv in (
        ("no file named", ["plan", "--yes"]),
        ("an unknown command", ["delete", "x"]),
        ("a list time in words", ["list", "--at", "yesterday"]),
        ("a list time in year 1", ["list", "--at", "0001-06-01"]),
        ("a list time past year 9999", ["list", "--at", "9999-12-31T23:00:00-05:00"]),
    ):
        with pytest.raises(SystemExit) as refused:
            command.main(argv)
        out, err = capsys.readouterr()
        assert refused.value.code == 2 and "error" in err, (case, refused.value.code, err)
    assert store.all_changes() == []
