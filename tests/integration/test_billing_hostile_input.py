"""Hostile input to billing: every bad request to a /v1/billing route, to the PayPal return
page and to the Stripe, PayPal and TapPay webhooks gets a 4xx with an error code (the return
page: a redirect saying it failed) and changes nothing, in Helptal or at the processors; no
owner reads or changes another workspace's billing; a read-only workspace makes no change
but those billing leaves open, and reads as before."""

# The fixtures imported from the billing API test module are parameters of the tests here.
# ruff: noqa: F811

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalicelib import bootstrap
from chalicelib.billing.model import Processor
from tests.integration.conftest import accept_invitation, invite
from tests.integration.test_billing_api import (  # noqa: F401 (fixtures)
    CARDHOLDER,
    Billing,
    billing,
    processors,
)

DECLINED_CARD = "4000000000000002"  # TapPay refuses to bind it
GOOD_CARD = "4242424242424242"
APP = "https://app.helptal.test/#/settings/billing"


def refused(answer: tuple[int, Any, Any], status: int | tuple[int, ...], case: str = "") -> str:
    """The error code of a refused request, checking its status and its JSON error shape
    (`case` names the case tried, in the failure message)."""
    code, body, _ = answer
    assert code in ((status,) if isinstance(status, int) else status), (case, code, body)
    assert isinstance(body, dict) and set(body) == {"error"}, (case, body)
    assert body["error"]["code"] and body["error"]["message"], (case, body)
    return str(body["error"]["code"])


def send(
    billing: Billing, method: str, path: str, body: Any, token: str | None, **headers: str
) -> tuple[int, Any, Any]:
    """The API's answer to `body`: a dict or list sent as JSON, a str or bytes sent as they
    are, None: no body at all."""
    if not isinstance(body, bytes):
        return billing.api.request(method, path, body, token=token, headers=headers or None)
    sent = {"Content-Type": "application/json", **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    response = getattr(billing.api.client.http, method.lower())(path, headers=sent, body=body)
    return response.status_code, json.loads(response.body), response.headers


def processor_state(billing: Billing) -> str:
    """Everything the processors' stand-ins keep (but their price list), as one text."""
    stripe = {k: o for k, o in billing.stripe.objects.items() if o.get("object") != "price"}
    paypal = {k: s.body for k, s in billing.paypal.subscriptions.items()}
    return json.dumps(
        {
            "stripe": stripe,
            "paypal": paypal,
            "paypal_sales": sorted(repr(s) for s in billing.paypal.sales.values()),
            "tappay_cards": sorted(billing.tappay.cards),
            "tappay_trades": sorted(billing.tappay.trades),
        },
        sort_keys=True,
        default=str,
    )


def workspace_state(billing: Billing, *owners: str, invoices: bool = True) -> list[Any]:
    """What the owners see of their billing (and, unless told not to, their invoices), and
    the processors' state."""
    seen: list[Any] = []
    for token in owners:
        seen.append(billing.get(token))
        if invoices:
            status, page, _ = billing.api.request("GET", "/v1/billing/invoices", token=token)
            assert status == 200, page
            seen.append(page)
    return [*seen, processor_state(billing)]


def signed_up(billing: Billing, name: str, email: str) -> tuple[str, str]:
    body = billing.api.sign_up(workspace=name, email=email)
    return str(body["token"]), str(body["workspace"]["id"])


def subscribe(billing: Billing, token: str, plan: str = "pro", seats: int = 3) -> str:
    """Subscribes through Stripe Checkout and delivers Stripe's events; the subscription id."""
    known = {k for k, o in billing.stripe.objects.items() if o.get("object") == "subscription"}
    status, body, _ = billing.api.request(
        "POST",
        "/v1/billing/checkout",
        {"plan": plan, "period": "month", "seats": seats, "processor": "stripe"},
        token=token,
    )
    assert status == 201, body
    billing.stripe.complete_checkout(body["url"].rsplit("/", 1)[1])
    billing.deliver_stripe()
    [subscription] = [
        k
        for k, o in billing.stripe.objects.items()
        if o.get("object") == "subscription" and k not in known
    ]
    assert billing.get(token)["status"] == "active"
    return subscription


def paypal_subscription(billing: Billing, token: str, seats: int = 2) -> str:
    """A PayPal subscription started by the workspace of `token` and approved at PayPal (the
    owner never came back: nothing applied yet); its id."""
    status, body, _ = billing.api.request(
        "POST",
        "/v1/billing/checkout",
        {"plan": "starter", "period": "month", "seats": seats, "processor": "paypal"},
        token=token,
    )
    assert status == 201, body
    subscription_id = body["url"].split("token=")[1].split("&")[0]
    billing.paypal.approve(subscription_id)
    return subscription_id


# -- bodies of every write route -------------------------------------------------------------

CHECKOUT = {"plan": "pro", "period": "month", "seats": 3, "processor": "stripe"}

Statuses = int | tuple[int, ...]
PRIME = "a" * 64  # well formed; TapPay has never issued it
DEEP = "{" + '"a":{' * 80

# (case, body, statuses) per route: the body None is no body at all, a str is sent as it
# is; each case changes nothing, neither the workspace's billing nor anything at a processor.
BAD_CHECKOUTS: list[tuple[str, Any, Statuses]] = [
    ("without a body", None, 400),
    ("with an empty body", "", 400),
    ("with a JSON null", "null", 400),
    ("with a JSON list", [CHECKOUT], 400),
    ("with a JSON string", '"pro"', 400),
    ("with a number", "3", 400),
    ("with broken JSON", '{"plan": "pro"', 400),
    ("with invalid UTF-8", b'{"plan": "\xff"}', 400),
    ("nested too deep", DEEP, 400),
    ("with an empty object", {}, 422),
    ("with a null plan", {**CHECKOUT, "plan": None}, 422),
    ("without seats", {"plan": "pro", "period": "month"}, 422),
    ("with an unknown field", {**CHECKOUT, "coupon": "FREE"}, 422),
    ("naming a workspace", {**CHECKOUT, "workspace_id": "01OTHER"}, 422),
    ("with a price", {**CHECKOUT, "price": 0}, 422),
    ("of the free plan", {**CHECKOUT, "plan": "free"}, 422),
    ("of an unknown plan", {**CHECKOUT, "plan": "enterprise"}, 422),
    ("of PRO in capitals", {**CHECKOUT, "plan": "PRO"}, 422),
    ("of a plan as a number", {**CHECKOUT, "plan": 2}, 422),
    ("of a plan as a list", {**CHECKOUT, "plan": ["pro"]}, 422),
    ("of a weekly period", {**CHECKOUT, "period": "week"}, 422),
    ("of an empty period", {**CHECKOUT, "period": ""}, 422),
    ("of a period as an object", {**CHECKOUT, "period": {}}, 422),
    ("through TapPay", {**CHECKOUT, "processor": "tappay"}, 422),
    ("through an unknown processor", {**CHECKOUT, "processor": "bitcoin"}, 422),
    ("through a null processor", {**CHECKOUT, "processor": None}, 422),
    ("of zero seats", {**CHECKOUT, "seats": 0}, 422),
    ("of negative seats", {**CHECKOUT, "seats": -3}, 422),
    ("of 10^30 seats", {**CHECKOUT, "seats": 10**30}, 422),
    ("of 2^63 seats", {**CHECKOUT, "seats": 2**63}, 422),
    ("of seats as text", {**CHECKOUT, "seats": "3"}, 422),
    ("of fractional seats", {**CHECKOUT, "seats": 2.5}, 422),
    ("of seats as 3.0", {**CHECKOUT, "seats": 3.0}, 422),
    ("of seats true", {**CHECKOUT, "seats": True}, 422),
    ("of seats 1e400", '{"plan": "pro", "period": "month", "seats": 1e400}', (400, 422)),
    ("of seats NaN", '{"plan": "pro", "period": "month", "seats": NaN}', (400, 422)),
    ("of fewer seats than members", {**CHECKOUT, "seats": 1}, 422),
    ("of more seats than Starter allows", {**CHECKOUT, "plan": "starter", "seats": 11}, 422),
    (
        "through PayPal, of more seats than Starter allows",
        {**CHECKOUT, "plan": "starter", "seats": 11, "processor": "paypal"},
        422,
    ),
    (
        "through PayPal, of fewer seats than members",
        {**CHECKOUT, "seats": 1, "processor": "paypal"},
        422,
    ),
    ("over the body size limit", {**CHECKOUT, "pad": "x" * 2_000_000}, (413, 422)),
]
BAD_SEATS: list[tuple[str, Any, Statuses]] = [
    ("without a body", None, 400),
    ("with a JSON list", [5], 400),
    ("with an empty object", {}, 422),
    ("as text", {"seats": "5"}, 422),
    ("null", {"seats": None}, 422),
    ("zero", {"seats": 0}, 422),
    ("negative", {"seats": -1}, 422),
    ("10^40", {"seats": 10**40}, 422),
    ("with an unknown field", {"seats": 5, "plan": "pro"}, 422),
    ("without a subscription", {"seats": 5}, 409),
]
BAD_CANCELS: list[tuple[str, Any, Statuses]] = [
    ("without a body", None, 400),
    ("at an unknown moment", {"when": "tomorrow"}, 422),
    ("when null", {"when": None}, 422),
    ("with a reason as a number", {"when": "now", "reason": 5}, 422),
    ("with a reason too long", {"when": "now", "reason": "x" * 501}, 422),
    ("with an unknown field", {"when": "now", "refund": 10**6}, 422),
    ("now without a subscription", {"when": "now"}, 409),
    ("at the period's end without a subscription", {}, 409),
]
BAD_BACKUP_CARDS: list[tuple[str, Any, Statuses]] = [
    ("without a body", None, 400),
    ("without a cardholder", {"prime": PRIME}, 422),
    ("without a prime", {"cardholder": CARDHOLDER}, 422),
    ("with a prime as a number", {"prime": 12345678, "cardholder": CARDHOLDER}, 422),
    ("with a prime too short", {"prime": "abc", "cardholder": CARDHOLDER}, 422),
    ("with a prime too long", {"prime": "a" * 201, "cardholder": CARDHOLDER}, 422),
    (
        "with the card's number",
        {"prime": PRIME, "cardholder": CARDHOLDER, "number": GOOD_CARD},
        422,
    ),
    ("with a garbage prime", {"prime": "not-a-prime-" * 3, "cardholder": CARDHOLDER}, 422),
]
BAD_BODIES: list[tuple[str, str, str, Any, Statuses]] = [
    *[(f"checkout {c}", "POST", "/v1/billing/checkout", b, s) for c, b, s in BAD_CHECKOUTS],
    *[(f"seats {c}", "PUT", "/v1/billing/seats", b, s) for c, b, s in BAD_SEATS],
    *[(f"cancel {c}", "POST", "/v1/billing/cancel", b, s) for c, b, s in BAD_CANCELS],
    *[
        (f"backup card {c}", "POST", "/v1/billing/backup-card", b, s)
        for c, b, s in BAD_BACKUP_CARDS
    ],
    ("portal without a subscription", "POST", "/v1/billing/portal", None, 409),
    ("portal naming a customer", "POST", "/v1/billing/portal", {"customer": "cus_x"}, 409),
    ("resume without a subscription", "POST", "/v1/billing/resume", None, 409),
]


# Each with a fresh prime of a good card: only the cardholder is wrong.
BAD_CARDHOLDERS: list[tuple[str, Any]] = [
    ("as text", "Ann"),
    ("as a list", [CARDHOLDER]),
    ("null", None),
    ("without a name", {k: v for k, v in CARDHOLDER.items() if k != "name"}),
    ("with an empty name", {**CARDHOLDER, "name": ""}),
    ("with a name too long", {**CARDHOLDER, "name": "A" * 121}),
    ("with a name of spaces", {**CARDHOLDER, "name": "   "}),
    ("with a name with a line break", {**CARDHOLDER, "name": "Ann\nBcc: x@evil.test"}),
    ("with a name with a NUL", {**CARDHOLDER, "name": "Ann\x00"}),
    ("with a name with a tab", {**CARDHOLDER, "name": "Ann\tOwner"}),
    ("with a name as a number", {**CARDHOLDER, "name": 7}),
    ("without an e-mail", {k: v for k, v in CARDHOLDER.items() if k != "email"}),
    ("with an e-mail without @", {**CARDHOLDER, "email": "ann.acme.test"}),
    ("with an e-mail with a line break", {**CARDHOLDER, "email": "ann@acme.test\nx@y"}),
    ("with an e-mail too long", {**CARDHOLDER, "email": "a" * 250 + "@acme.test"}),
    ("without a phone", {k: v for k, v in CARDHOLDER.items() if k != "phone"}),
    ("with a phone of letters", {**CARDHOLDER, "phone": "call me"}),
    ("with a phone too short", {**CARDHOLDER, "phone": "12"}),
    ("with a phone as a number", {**CARDHOLDER, "phone": 886912345678}),
    ("with a phone with a line break", {**CARDHOLDER, "phone": "+886\n912345678"}),
    ("with an unknown field", {**CARDHOLDER, "address": "1 Main St"}),
]


def test_bad_billing_requests_get_a_json_error_and_change_nothing(billing):
    """A trialing workspace (two members) without a subscription."""
    api = billing.api
    owner, _ = signed_up(billing, "Acme Support", "ann@acme.test")
    assert accept_invitation(api, invite(api, owner, "bob@acme.test"))[0] == 200
    # A backup card added first: its prime is spent, and the card must survive every case.
    used_prime = billing.tappay.make_prime(GOOD_CARD)
    added = api.request(
        "POST", "/v1/billing/backup-card", {"prime": used_prime, "cardholder": CARDHOLDER}, owner
    )
    assert added[0] == 200, added
    expired_prime = billing.tappay.make_prime(GOOD_CARD)
    billing.tappay.primes[expired_prime].issued_at -= 3600
    primes = [
        ("a used prime", used_prime),
        ("an expired prime", expired_prime),
        ("a declined card's prime", billing.tappay.make_prime(DECLINED_CARD)),
        ("a prime of another TapPay app", "f" * 64),
    ]
    cases = (
        BAD_BODIES
        + [
            (
                f"backup card, cardholder {name}",
                "POST",
                "/v1/billing/backup-card",
                {"prime": billing.tappay.make_prime(GOOD_CARD), "cardholder": cardholder},
                422,
            )
            for name, cardholder in BAD_CARDHOLDERS
        ]
        + [
            (
                f"backup card with {name}",
                "POST",
                "/v1/billing/backup-card",
                {"prime": prime, "cardholder": CARDHOLDER},
                422,
            )
            for name, prime in primes
        ]
    )
    refused_by_tappay = {case for case, *_ in cases[-len(primes) :]} | {
        "backup card with a garbage prime"
    }
    everything = workspace_state(billing, owner)
    before = workspace_state(billing, owner, invoices=False)

    for case, method, path, body, statuses in cases:
        code = refused(send(billing, method, path, body, owner), statuses, case)

        assert workspace_state(billing, owner, invoices=False) == before, case
        if case in refused_by_tappay:
            assert code == "card_refused", (case, code)
    assert workspace_state(billing, owner) == everything


# -- who may ---------------------------------------------------------------------------------


def billing_routes() -> list[tuple[str, str]]:
    from chalicelib.api.routing import OPERATIONS

    return [
        (op.method, op.path) for op in OPERATIONS if op.path.startswith("/v1/billing") and op.auth
    ]


VALID_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/billing/checkout"): CHECKOUT,
    ("PUT", "/v1/billing/seats"): {"seats": 4},
    ("POST", "/v1/billing/backup-card"): {"prime": "a" * 64, "cardholder": CARDHOLDER},
    ("POST", "/v1/billing/cancel"): {"when": "now"},
}


def test_only_owners_change_billing_and_only_owners_and_admins_read_it(billing):
    api = billing.api
    owner, _ = signed_up(billing, "Acme Support", "ann@acme.test")
    subscribe(billing, owner)
    _, admin, _ = accept_invitation(api, invite(api, owner, "adam@acme.test", "admin"), "Adam")
    _, agent, _ = accept_invitation(api, invite(api, owner, "aggie@acme.test", "agent"), "Aggie")
    keys = {}
    for role in ("admin", "agent"):
        created = api.request("POST", "/v1/api-keys", {"name": role, "role": role}, token=owner)
        assert created[0] == 201, created
        keys[role] = created[1]["key"]
    callers: list[tuple[str, str | None, int, int]] = [
        # (who, token, status of a read, status of a change)
        ("an admin", admin["token"], 200, 403),
        ("an agent", agent["token"], 403, 403),
        ("an admin's API key", keys["admin"], 200, 403),
        ("an agent's API key", keys["agent"], 403, 403),
        ("no one", None, 401, 401),
        ("a made-up token", "htl_" + "A" * 40, 401, 401),
    ]
    routes = billing_routes()
    assert len(routes) >= 9, routes
    everything = workspace_state(billing, owner)
    before = workspace_state(billing, owner, invoices=False)

    for who, token, read, change in callers:
        for method, path in routes:
            case = f"{who}: {method} {path}"
            body = VALID_BODIES.get((method, path))
            answer = send(billing, method, path, body, token)
            if method == "GET" and read == 200:
                assert answer[0] == 200, (case, answer)
            else:
                refused(answer, read if method == "GET" else change, case)

            assert workspace_state(billing, owner, invoices=False) == before, case
    assert workspace_state(billing, owner) == everything


# -- with a subscription ---------------------------------------------------------------------

SUBSCRIBED_BAD: list[tuple[str, str, str, Any, int | tuple[int, ...], str]] = [
    ("a second checkout", "POST", "/v1/billing/checkout", CHECKOUT, 409, "already_subscribed"),
    (
        "a second checkout through PayPal",
        "POST",
        "/v1/billing/checkout",
        {**CHECKOUT, "processor": "paypal"},
        409,
        "already_subscribed",
    ),
    ("fewer seats than members", "PUT", "/v1/billing/seats", {"seats": 1}, 409, "seats_in_use"),
    (
        "more seats than Starter allows",
        "PUT",
        "/v1/billing/seats",
        {"seats": 11},
        402,
        "plan_limit",
    ),
    ("zero seats", "PUT", "/v1/billing/seats", {"seats": 0}, 422, "validation_failed"),
    ("huge seats", "PUT", "/v1/billing/seats", {"seats": 2**64}, 422, "validation_failed"),
    ("negative seats", "PUT", "/v1/billing/seats", {"seats": -2}, 422, "validation_failed"),
    (
        "cancel at an unknown moment",
        "POST",
        "/v1/billing/cancel",
        {"when": "yesterday"},
        422,
        "validation_failed",
    ),
    (
        "cancel with a reason too long",
        "POST",
        "/v1/billing/cancel",
        {"when": "now", "reason": "x" * 501},
        422,
        "validation_failed",
    ),
]


def test_bad_changes_of_a_live_subscription_change_nothing(billing):
    api = billing.api
    owner, _ = signed_up(billing, "Acme Support", "ann@acme.test")
    assert accept_invitation(api, invite(api, owner, "bob@acme.test"))[0] == 200
    subscribe(billing, owner, plan="starter", seats=3)
    everything = workspace_state(billing, owner)
    before = workspace_state(billing, owner, invoices=False)

    for case, method, path, body, status, code in SUBSCRIBED_BAD:
        assert refused(send(billing, method, path, body, owner), status, case) == code, case

        assert workspace_state(billing, owner, invoices=False) == before, case
    assert workspace_state(billing, owner) == everything


def test_a_processor_that_refuses_or_does_not_answer_gets_a_409_or_503_and_changes_nothing(
    billing,
):
    """The owner cancelled in Stripe's portal and Stripe's webhook has not come yet: Stripe
    refuses changes of the ended subscription; TapPay is down."""
    owner, _ = signed_up(billing, "Acme Support", "ann@acme.test")
    subscription = subscribe(billing, owner, seats=3)
    billing.stripe.objects[subscription]["status"] = "canceled"
    prime = billing.tappay.make_prime
    cases: list[tuple[str, Any, str, str, Any, int, str]] = [
        # (case, how the processor fails, method, path, body, status, code)
        ("fewer seats", None, "PUT", "/v1/billing/seats", {"seats": 2}, 409, "processor_refused"),
        ("more seats", None, "PUT", "/v1/billing/seats", {"seats": 4}, 409, "processor_refused"),
        ("cancel at period end", None, "POST", "/v1/billing/cancel", {}, 409, "processor_refused"),
        (
            "TapPay timing out",
            lambda: billing.tappay.answer_status_next(421),
            "POST",
            "/v1/billing/backup-card",
            lambda: {"prime": prime(GOOD_CARD), "cardholder": CARDHOLDER},
            503,
            "processor_unavailable",
        ),
        (
            "TapPay down",
            lambda: billing.tappay.answer_http_next(503),
            "POST",
            "/v1/billing/backup-card",
            lambda: {"prime": prime(GOOD_CARD), "cardholder": CARDHOLDER},
            503,
            "processor_unavailable",
        ),
    ]
    everything = workspace_state(billing, owner)
    before = workspace_state(billing, owner, invoices=False)

    for case, failure, method, path, body, status, code in cases:
        if failure is not None:
            failure()
        sent = body() if callable(body) else body
        answer = send(billing, method, path, sent, owner)

        assert refused(answer, status, case) == code, case
        assert workspace_state(billing, owner, invoices=False) == before, case
    assert workspace_state(billing, owner) == everything


# -- invoices --------------------------------------------------------------------------------


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def two_invoices(billing: Billing, name: str, email: str) -> tuple[str, dict[str, Any]]:
    """A subscribed workspace with two invoices: its owner's token and the first page of
    its invoices (one invoice, and the cursor to the next)."""
    owner, _ = signed_up(billing, name, email)
    billing.stripe.renew(subscribe(billing, owner))
    billing.deliver_stripe()
    status, page, _ = billing.api.request("GET", "/v1/billing/invoices?limit=1", token=owner)
    assert status == 200 and len(page["invoices"]) == 1 and page["next_cursor"], page
    return owner, page


def test_bad_invoice_cursors_and_limits_are_refused_and_never_reach_another_workspace(billing):
    owner, first = two_invoices(billing, "Acme Support", "ann@acme.test")
    other, others_first = two_invoices(billing, "Globex", "gil@globex.test")
    own_cursor = json.loads(base64.urlsafe_b64decode(first["next_cursor"]))
    view = own_cursor["GSI1PK"]["S"]
    cursors = [
        ("garbage", "!!!not-base64!!!"),
        ("base64 of text", base64.urlsafe_b64encode(b"hello").decode()),
        ("a JSON list", _b64([1, 2])),
        ("a JSON string", _b64("GSI1PK")),
        ("a JSON null", _b64(None)),
        ("an empty object", _b64({})),
        ("a key of the wrong type", _b64({**own_cursor, "GSI1PK": {"N": "1"}})),
        ("a key as a bare string", _b64({**own_cursor, "GSI1PK": view})),
        ("a key as a list", _b64({**own_cursor, "GSI1PK": {"L": []}})),
        (
            "another listing's",
            _b64({**own_cursor, "GSI1PK": {"S": view.replace("INVOICES", "TICKETS")}}),
        ),
        ("another workspace's", others_first["next_cursor"]),
        ("too long", "A" * 2049),
    ]
    cases = (
        [(f"cursor: {name}", {"cursor": cursor}) for name, cursor in cursors]
        + [
            (f"limit {limit!r}", {"limit": limit})
            for limit in ("0", "-1", "101", "abc", "1.5", "", "1e3", str(10**30), "NaN")
        ]
        + [("a workspace parameter", {"workspace": "01OTHER"})]
    )
    everything = workspace_state(billing, owner, other)
    before = workspace_state(billing, owner, other, invoices=False)

    for case, query in cases:
        answer = billing.api.request("GET", f"/v1/billing/invoices?{urlencode(query)}", token=owner)

        refused(answer, (400, 422), case)
        assert workspace_state(billing, owner, other, invoices=False) == before, case
    assert workspace_state(billing, owner, other) == everything
    # Each owner's cursor goes on with that owner's invoices only.
    listed = {}
    for name, token, page in (("owner", owner, first), ("other", other, others_first)):
        query = urlencode({"cursor": page["next_cursor"]})
        status, rest, _ = billing.api.request("GET", f"/v1/billing/invoices?{query}", token=token)
        assert status == 200 and len(rest["invoices"]) == 1, rest
        listed[name] = {i["id"] for i in page["invoices"] + rest["invoices"]}
    assert listed["owner"].isdisjoint(listed["other"])


def test_an_invoice_cursor_without_its_key_attributes_is_refused(billing):
    owner, first = two_invoices(billing, "Acme Support", "ann@acme.test")
    own_cursor = json.loads(base64.urlsafe_b64decode(first["next_cursor"]))
    cursors = [
        ("only the listing's partition", {"GSI1PK": own_cursor["GSI1PK"]}),
        ("without the table key", {k: v for k, v in own_cursor.items() if k not in ("PK", "SK")}),
        ("a sort key as a number", {**own_cursor, "GSI1SK": {"N": "1"}}),
        ("an extra attribute", {**own_cursor, "status": {"S": "paid"}}),
    ]

    for case, cursor in cursors:
        query = urlencode({"cursor": _b64(cursor)})
        answer = billing.api.request("GET", f"/v1/billing/invoices?{query}", token=owner)

        assert refused(answer, 400, case) == "invalid_cursor", case


# -- PayPal's return page --------------------------------------------------------------------


def test_a_paypal_return_that_is_not_this_workspaces_approval_redirects_failed_and_applies_nothing(
    billing,
):
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    other, other_workspace = signed_up(billing, "Globex", "gil@globex.test")
    own = paypal_subscription(billing, owner)
    others = paypal_subscription(billing, other)
    cases = [
        ("no query", ""),
        ("no subscription id", f"workspace={workspace}"),
        ("no workspace", f"subscription_id={own}"),
        ("an empty subscription id", f"workspace={workspace}&subscription_id="),
        ("a garbage subscription id", f"workspace={workspace}&subscription_id=I-NOPE"),
        ("a path as subscription id", f"workspace={workspace}&subscription_id=..%2F..%2Fplans"),
        ("a subscription id with a NUL", f"workspace={workspace}&subscription_id=I-%00"),
        ("a huge subscription id", f"workspace={workspace}&subscription_id={'I' * 5000}"),
        ("another workspace's subscription", f"workspace={workspace}&subscription_id={others}"),
        (
            "own subscription for another workspace",
            f"workspace={other_workspace}&subscription_id={own}",
        ),
        ("an unknown workspace", f"workspace=01NOSUCHWORKSPACE&subscription_id={own}"),
        ("a garbage workspace", f"workspace=%FF%FE&subscription_id={own}"),
        (
            "the subscription id twice",
            f"workspace={workspace}&subscription_id={own}&subscription_id={others}",
        ),
        (
            "the workspace twice",
            f"workspace={workspace}&workspace={other_workspace}&subscription_id={own}",
        ),
    ]
    before = workspace_state(billing, owner, other)

    for case, query in cases:
        response = billing.api.client.http.get(f"/v1/billing/paypal/return?{query}")

        assert response.status_code == 302, (case, response.status_code, response.body)
        assert response.headers["Location"] == f"{APP}?paypal=failed", (case, response.headers)
        assert workspace_state(billing, owner, other) == before, case
    # The owner's own return applies the owner's subscription, to the owner's workspace only.
    response = billing.api.client.http.get(
        f"/v1/billing/paypal/return?workspace={workspace}&subscription_id={own}"
    )
    assert response.headers["Location"] == f"{APP}?paypal=done"
    assert billing.get(owner)["processor"] == "paypal"
    assert billing.get(other)["status"] == "trialing"


# -- webhooks --------------------------------------------------------------------------------


def stripe_event(event_type: str, object_id: str, **extra: Any) -> bytes:
    now = int(datetime.now(UTC).timestamp())
    event = {
        "id": f"evt_hostile_{event_type}_{object_id}",
        "object": "event",
        "type": event_type,
        "created": now,
        "data": {"object": {"id": object_id}},
        **extra,
    }
    return json.dumps(event).encode()


def test_stripe_deliveries_that_are_not_genuine_events_change_nothing(billing):
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    subscription = subscribe(billing, owner)
    sign = billing.stripe.signature_header
    event = json.loads(billing.stripe.events("invoice.paid")[-1].body)
    unsigned: list[tuple[str, bytes, dict[str, str]]] = [
        ("an empty body", b"", {}),
        ("garbage", b"\x00\xff garbage", {"Stripe-Signature": "t=1,v1=abc"}),
        ("not JSON, no signature", b"hello", {}),
        (
            "a signature header of garbage",
            json.dumps(event).encode(),
            {"Stripe-Signature": "garbage"},
        ),
        (
            "a signature without a time",
            json.dumps(event).encode(),
            {"Stripe-Signature": "v1=" + "0" * 64},
        ),
        (
            "a time that is no number",
            json.dumps(event).encode(),
            {"Stripe-Signature": "t=abc,v1=" + "0" * 64},
        ),
        (
            "a huge time",
            json.dumps(event).encode(),
            {"Stripe-Signature": f"t={10**30},v1=" + "0" * 64},
        ),
        (
            "a non-ASCII signature",
            json.dumps(event).encode(),
            {"Stripe-Signature": "t=1,v1=\u00e9"},
        ),
    ]
    signed_bodies: list[tuple[str, bytes]] = [
        ("signed text that is not JSON", b"not json at all"),
        ("signed invalid UTF-8", b'{"id": "\xff"}'),
        ("a signed JSON list", b"[]"),
        ("a signed JSON null", b"null"),
        (
            "a signed object that is no event",
            json.dumps({"id": "cus_1", "object": "customer"}).encode(),
        ),
        ("a signed event without an id", json.dumps({**event, "id": None}).encode()),
        ("a signed event without a type", json.dumps({**event, "type": ""}).encode()),
        ("a signed event without data", json.dumps({**event, "data": None}).encode()),
        ("a signed event whose data is a list", json.dumps({**event, "data": [1]}).encode()),
        (
            "a signed event whose object has no id",
            json.dumps({**event, "data": {"object": {}}}).encode(),
        ),
        (
            "a signed event whose object id is a number",
            json.dumps({**event, "data": {"object": {"id": 7}}}).encode(),
        ),
        ("a signed event created as text", json.dumps({**event, "created": "yesterday"}).encode()),
        ("a signed event created in year 10^20", json.dumps({**event, "created": 10**20}).encode()),
        ("a signed event created at -10^15", json.dumps({**event, "created": -(10**15)}).encode()),
        (
            "a signed event nested very deep",
            b'{"object": "event", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ),
    ]
    before = workspace_state(billing, owner)

    for case, body, headers in unsigned + [
        (c, b, {"Stripe-Signature": sign(b)}) for c, b in signed_bodies
    ]:
        response = billing.api.client.http.post(
            "/v1/webhooks/stripe",
            headers={"Content-Type": "application/json", **headers},
            body=body,
        )

        answer = (response.status_code, json.loads(response.body), {})
        assert refused(answer, 400, case) in ("invalid_signature", "malformed_json"), case
        billing.work()
        assert workspace_state(billing, owner) == before, case

    # Genuine events that billing does not act on are acknowledged and ignored; a replay of
    # one is acknowledged and not queued again.
    ghost = _stripe_subscription_of_no_workspace(billing)
    acknowledged = [
        ("an event type billing ignores", stripe_event("customer.created", "cus_nobody")),
        ("an event of a made-up type", stripe_event("helptal.hostile", "x_1")),
        ("an invoice Stripe does not have", stripe_event("invoice.paid", "in_nosuchinvoice")),
        (
            "a subscription Stripe does not have",
            stripe_event("customer.subscription.updated", "sub_nosuch"),
        ),
        (
            "a checkout session Stripe does not have",
            stripe_event("checkout.session.completed", "cs_nosuch"),
        ),
        ("a refund of a charge of no invoice", stripe_event("charge.refunded", "ch_nosuch")),
        *[(f"{e.type} of a customer of no workspace", e.body) for e in ghost],
    ]
    before = workspace_state(billing, owner)
    for case, body in acknowledged:
        first = billing.post_stripe(body, {"Stripe-Signature": sign(body)})
        again = billing.post_stripe(body, {"Stripe-Signature": sign(body)})

        assert (first[0], json.loads(first[1])) == (200, {"status": "accepted"}), (case, first)
        assert (again[0], json.loads(again[1])) == (200, {"status": "duplicate"}), (case, again)
        billing.work()
        assert workspace_state(billing, owner) == before, case
    # Nothing was made for the workspace the made-up subscription named.
    assert bootstrap.billing_store().get("01NOSUCHWORKSPACE") is None
    assert billing.get(owner)["processor"] == "stripe"
    assert bootstrap.billing_store().get(workspace).stripe_subscription_id == subscription


def _stripe_subscription_of_no_workspace(billing: Billing) -> list[Any]:
    """A subscription made at Stripe for a customer no workspace has (say, by hand in
    Stripe's dashboard): the events it made."""
    from chalicelib.billing.plans import PRO, Period

    stripe = bootstrap.billing_deps().stripe
    seen = len(billing.stripe.events())
    customer = stripe.create_customer("", "ghost@nowhere.test", "Ghost", idempotency_key="ghost")
    started = stripe.start_checkout(
        customer_id=customer,
        workspace_id="01NOSUCHWORKSPACE",
        plan=PRO,
        period=Period.MONTH,
        seats=2,
        success_url="https://nowhere.test/done",
        cancel_url="https://nowhere.test/canceled",
        locale="en",
        idempotency_key="ghost-checkout",
    )
    billing.stripe.complete_checkout(started.session_id)
    return billing.stripe.events()[seen:]


def test_paypal_deliveries_not_sent_by_paypal_change_nothing_and_a_replay_is_not_applied_twice(
    billing,
):
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    subscription = paypal_subscription(billing, owner)
    billing.api.client.http.get(
        f"/v1/billing/paypal/return?workspace={workspace}&subscription_id={subscription}"
    )
    transmissions = list(billing.paypal.transmissions.values())
    activated = next(t for t in transmissions if b"BILLING.SUBSCRIPTION.ACTIVATED" in t.body)
    genuine = activated.headers
    forged_body = activated.body.replace(subscription.encode(), b"I-FORGED0000", 1)
    headers_without = [
        (f"without {name}", {k: v for k, v in genuine.items() if k.upper() != name})
        for name in (
            "PAYPAL-TRANSMISSION-ID",
            "PAYPAL-TRANSMISSION-SIG",
            "PAYPAL-TRANSMISSION-TIME",
            "PAYPAL-CERT-URL",
            "PAYPAL-AUTH-ALGO",
        )
    ]
    cases: list[tuple[str, bytes, dict[str, str]]] = [
        ("no headers at all", activated.body, {"Content-Type": "application/json"}),
        *[(case, activated.body, headers) for case, headers in headers_without],
        ("a forged body", forged_body, genuine),
        (
            "another delivery's signature",
            activated.body,
            {**genuine, "PAYPAL-TRANSMISSION-SIG": "AAAA"},
        ),
        (
            "a cert URL elsewhere",
            activated.body,
            {**genuine, "PAYPAL-CERT-URL": "https://evil.test/cert"},
        ),
        ("a body that is not JSON", b"not json", genuine),
        ("a JSON list", b"[]", genuine),
        (
            "an event without an id",
            json.dumps({"event_type": "BILLING.SUBSCRIPTION.ACTIVATED"}).encode(),
            genuine,
        ),
        ("an event without a type", json.dumps({"id": "WH-1"}).encode(), genuine),
        ("invalid UTF-8", b'{"id": "\xff"}', genuine),
        ("a huge header", activated.body, {**genuine, "PAYPAL-TRANSMISSION-ID": "x" * 5000}),
    ]
    before = workspace_state(billing, owner)

    for case, body, headers in cases:
        response = billing.api.client.http.post("/v1/webhooks/paypal", headers=headers, body=body)

        answer = (response.status_code, json.loads(response.body), {})
        assert refused(answer, 400, case) in ("invalid_signature", "malformed_json"), case
        billing.work()
        assert workspace_state(billing, owner) == before, case

    # Genuine deliveries act once; replayed (or sent again by PayPal with a new
    # transmission), they are acknowledged and not applied again.
    billing.deliver_paypal()
    before = workspace_state(billing, owner)
    for transmission in transmissions:
        again = billing.paypal.redeliver(transmission.event_id)
        for case, sent in (("a replay", transmission), ("a new transmission", again)):
            response = billing.api.client.http.post(
                "/v1/webhooks/paypal", headers=sent.headers, body=sent.body
            )
            assert (response.status_code, json.loads(response.body)) == (
                200,
                {"status": "duplicate"},
            ), (case, transmission.event_id, response.body)
    billing.work()
    assert workspace_state(billing, owner) == before


def test_tappay_notifies_for_trades_tappay_does_not_confirm_are_refused(billing):
    from chalicelib.billing.model import Money

    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    status, _, _ = billing.api.request(
        "POST",
        "/v1/billing/backup-card",
        {"prime": billing.tappay.make_prime(GOOD_CARD), "cardholder": CARDHOLDER},
        token=owner,
    )
    assert status == 200
    secret = bootstrap.billing_store().backup_card_secret(workspace)
    assert secret is not None
    charged = bootstrap.billing_deps().tappay.charge(
        secret, Money(4_900, "usd"), order_number="hostile-order-1", details="Helptal"
    )
    trade = str(charged.reference)
    genuine = json.loads(billing.tappay.notify_body(trade))
    cases: list[tuple[str, bytes]] = [
        ("an empty body", b""),
        ("not JSON", b"rec_trade_id=D123&status=0"),
        ("broken JSON", b'{"rec_trade_id": "D1'),
        ("invalid UTF-8", b'{"rec_trade_id": "\xff"}'),
        ("a JSON list", b"[]"),
        ("a JSON string", b'"D123"'),
        ("without rec_trade_id", json.dumps({**genuine, "rec_trade_id": None}).encode()),
        ("rec_trade_id as a number", json.dumps({**genuine, "rec_trade_id": 123}).encode()),
        ("rec_trade_id too long", json.dumps({**genuine, "rec_trade_id": "D" * 65}).encode()),
        ("without status", json.dumps({**genuine, "status": None}).encode()),
        ("status as text", json.dumps({**genuine, "status": "0"}).encode()),
        ("status true", json.dumps({**genuine, "status": True}).encode()),
        ("an unknown trade", json.dumps({**genuine, "rec_trade_id": "D20990101NOSUCH"}).encode()),
        ("another amount", json.dumps({**genuine, "amount": 1}).encode()),
        ("another order number", json.dumps({**genuine, "order_number": "other"}).encode()),
        ("a failure TapPay did not record", json.dumps({**genuine, "status": 10003}).encode()),
        ("a body over the limit", json.dumps({**genuine, "pad": "x" * 70_000}).encode()),
        ("nested very deep", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ]
    before = workspace_state(billing, owner)

    for case, body in cases:
        response = billing.api.client.http.post(
            "/v1/webhooks/tappay", headers={"Content-Type": "application/json"}, body=body
        )

        answer = (response.status_code, json.loads(response.body), {})
        assert refused(answer, 400, case) in ("invalid_signature", "malformed_json"), case
        billing.work()
        assert workspace_state(billing, owner) == before, case
    # The genuine notify is acknowledged once.
    for expected in ("accepted", "duplicate"):
        response = billing.api.client.http.post(
            "/v1/webhooks/tappay",
            headers={"Content-Type": "application/json"},
            body=billing.tappay.notify_body(trade),
        )
        assert (response.status_code, json.loads(response.body)) == (200, {"status": expected})


# -- isolation -------------------------------------------------------------------------------


def test_an_owner_never_reads_or_changes_another_workspaces_billing(billing):
    api = billing.api
    owner, _ = signed_up(billing, "Acme Support", "ann@acme.test")
    other, other_workspace = signed_up(billing, "Globex", "gil@globex.test")
    subscribe(billing, other)
    status, theirs, _ = api.request("GET", "/v1/billing/invoices", token=other)
    [their_invoice] = theirs["invoices"]
    before = workspace_state(billing, owner, other)

    # Naming the other workspace: not a member there (404), whatever the route.
    for method, path in billing_routes():
        case = f"{method} {path} in another workspace"
        answer = send(
            billing,
            method,
            path,
            VALID_BODIES.get((method, path)),
            owner,
            **{"X-Workspace-Id": other_workspace},
        )

        refused(answer, 404, case)
        assert workspace_state(billing, owner, other) == before, case
    # The owner's own listing never holds the other workspace's invoice.
    status, mine, _ = api.request("GET", "/v1/billing/invoices", token=owner)
    assert status == 200 and their_invoice["id"] not in {i["id"] for i in mine["invoices"]}


def test_a_processors_object_naming_another_workspace_never_changes_it(billing):
    """What we write at the processor (checkout's client_reference_id, the subscription's
    metadata, PayPal's custom_id) names a workspace, but only the processor's customer or
    subscription that the workspace made decides whose it is."""
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    other, other_workspace = signed_up(billing, "Globex", "gil@globex.test")
    before_other = workspace_state(billing, other)

    # A's checkout, its session and subscription claiming B.
    status, body, _ = billing.api.request("POST", "/v1/billing/checkout", CHECKOUT, token=owner)
    assert status == 201, body
    session_id = body["url"].rsplit("/", 1)[1]
    session = billing.stripe.objects[session_id]
    session["client_reference_id"] = other_workspace
    session["metadata"] = {"workspace_id": other_workspace}
    billing.stripe._session_params[session_id]["subscription_metadata"] = {
        "workspace_id": other_workspace
    }
    billing.stripe.complete_checkout(session_id)
    billing.deliver_stripe()
    assert billing.get(other) == before_other[0], "B got A's subscription"
    # Whatever A's subscription does next, B stays as it was.
    [subscription] = [
        o["id"] for o in billing.stripe.objects.values() if o["object"] == "subscription"
    ]
    billing.stripe.renew(subscription, "fail")
    billing.deliver_stripe()
    assert billing.get(other) == before_other[0], "B followed A's subscription"
    status, listed, _ = billing.api.request("GET", "/v1/billing/invoices", token=other)
    assert listed["invoices"] == [], "A's invoices listed for B"
    # A's Stripe customer is still A's alone.
    customer = billing.stripe.objects[subscription]["customer"]
    assert bootstrap.billing_store().workspace_of(Processor.STRIPE, customer) == workspace


def test_a_tampered_paypal_custom_id_never_applies_a_subscription_to_the_workspace_it_names(
    billing,
):
    """A's PayPal subscription whose custom_id names B: neither A's return page nor PayPal's
    webhooks apply it to B."""
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    other, other_workspace = signed_up(billing, "Globex", "gil@globex.test")
    status, body, _ = billing.api.request(
        "POST", "/v1/billing/checkout", {**CHECKOUT, "processor": "paypal"}, token=owner
    )
    assert status == 201, body
    subscription = body["url"].split("token=")[1].split("&")[0]
    billing.paypal.subscriptions[subscription].body["custom_id"] = other_workspace
    billing.paypal.approve(subscription)
    before = workspace_state(billing, other)

    for case, claimed in (("the workspace it names", other_workspace), ("its own", workspace)):
        query = urlencode({"workspace": claimed, "subscription_id": subscription})
        response = billing.api.client.http.get(f"/v1/billing/paypal/return?{query}")

        assert response.headers["Location"] == f"{APP}?paypal=failed", case
        assert workspace_state(billing, other) == before, case
    billing.deliver_paypal()
    assert workspace_state(billing, other) == before, "B followed A's PayPal subscription"


# -- read-only -------------------------------------------------------------------------------


def test_a_read_only_workspace_is_refused_every_change_but_billings_and_reads_as_before(billing):
    from chalicelib.api.plan_gate import SAFE_METHODS, open_when_read_only
    from chalicelib.api.routing import OPERATIONS
    from chalicelib.billing.model import BillingStatus

    api = billing.api
    owner, workspace = signed_up(billing, "Acme Support", "ann@acme.test")
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "cleo@client.test"}, "subject": "Hello", "body": "Hi"},
        token=owner,
    )
    assert status == 201, ticket
    store = bootstrap.billing_store()
    account = store.get(workspace)
    account.plan_id, account.status, account.seats_paid = "pro", BillingStatus.ACTIVE, 3
    account.trial_ends_at = None
    account = store.save(account)

    def path_of(op: Any) -> str:
        return op.path.replace("{ticket_id}", ticket["id"]).replace("{", "").replace("}", "")

    reads = [op for op in OPERATIONS if op.auth and op.method in SAFE_METHODS]
    changes = [
        op
        for op in OPERATIONS
        if op.auth and op.method not in SAFE_METHODS and not open_when_read_only(op.method, op.path)
    ]
    assert len(reads) >= 40 and len(changes) >= 40, (len(reads), len(changes))
    answered = {
        (op.method, op.path): api.request(op.method, path_of(op), token=owner)[0] for op in reads
    }
    account.status = BillingStatus.READ_ONLY
    store.save(account)
    before = workspace_state(billing, owner)
    assert before[0]["writable"] is False

    # Refused before the body is read (it is not even JSON).
    for op in changes:
        case = f"{op.method} {op.path}"
        answer = api.request(op.method, path_of(op), "not even JSON", token=owner)

        assert refused(answer, 402, case) == "plan_limit", case
        assert answer[1]["error"]["details"]["reason"] == "read_only", (case, answer[1])
    assert workspace_state(billing, owner) == before
    assert api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner)[1]["subject"] == "Hello"
    # Reading answers as it did before.
    for op in reads:
        case = f"{op.method} {op.path}"
        status = api.request(op.method, path_of(op), token=owner)[0]

        assert status == answered[(op.method, op.path)], (case, status)
        assert status < 500 and status != 402, (case, status)
    # Billing's own changes are not refused for being read-only.
    for method, path in billing_routes():
        if method not in SAFE_METHODS:
            answer = api.request(method, path, VALID_BODIES.get((method, path)), token=owner)
            assert answer[0] != 402 and answer[0] < 500, (method, path, answer)
