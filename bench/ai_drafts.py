"""Tokens per AI draft, and how much of each request is the cacheable prefix.

A workspace with AI on, a tone of voice and a small knowledge base asks for drafts through
the API; the AI-jobs worker sends them, through the real Anthropic SDK, to the local fake
Messages API (`fakes/anthropic.py`), which counts a token per four characters of the JSON it
receives (no tokenizer offline: the shares are what matters, not the absolute counts) and
simulates prompt caching per breakpoint, including the provider's floor: a prefix under
1,024 tokens is not cached at all.

Printed per draft: input tokens (uncached / cache write / cache read), output tokens, the
share of input in the cacheable prefix, and the share read from the cache. The baseline in
the same run is the first draft of the workspace (nothing cached yet). Targets: on the
workspace's second draft, cacheable share >= 70 %.

    .venv/bin/python bench/ai_drafts.py
"""

from __future__ import annotations

import os
import sys

import _emulator  # first: it sets the environment the settings read
from pytest_httpserver import HTTPServer

ARTICLES = [
    (
        "Refunds",
        """## Who can get a refund

Any payment made in the last 30 days can be refunded in full, whatever the plan. After 30
days, monthly plans are not refunded, but you can cancel at any time and keep access until
the end of the period you paid for. Annual plans are refunded pro rata for the full months
left, minus any discount you received for paying yearly.

## How to ask for a refund

Open Settings, then Billing, and choose the payment in the list of invoices. Press Request
refund, pick a reason and confirm. Owners and billing admins can do this; other members see
the invoices but not the button. If the payment is older than 30 days on a monthly plan, the
button is greyed out and the page explains why.

## When the money arrives

Refunds are sent the same day to the card or PayPal account used for the payment. Card
refunds reach you within 5 to 10 business days, depending on your bank, and may show as a
reversal of the original charge rather than a new credit. PayPal refunds are usually visible
within a day. We e-mail a credit note to the billing contact as soon as the refund is sent.
""",
    ),
    (
        "Double charges and pending payments",
        """## Why a payment can appear twice

When a card payment fails the first time and succeeds on a retry, your bank may show both
attempts. The failed one is an authorisation, not a charge: the bank releases it on its own,
usually within 3 business days, and it never reaches your statement.

## What to do if both payments stay

If both payments are still there after 3 business days, reply to us with the last four
digits of the card, the dates and the amounts. We check with our payment provider and refund
the duplicate the same day. You do not need to cancel your subscription or change your card.

## Avoiding it next time

Make sure the card's billing address and postcode match what your bank has on file; most
failed first attempts come from an address check. You can update the card under Settings,
Billing, Payment method.
""",
    ),
    (
        "Changing your plan or seats",
        """## Upgrading

You can move between Starter, Team and Business at any time from Settings, Billing, Plan.
An upgrade applies at once; we charge the difference for the rest of the current period,
pro rata, on the same day.

## Downgrading

A downgrade applies at the end of the period you paid for, so you keep the features until
then. If the smaller plan has fewer seats than members, choose who keeps access before the
change takes effect; the others become read-only.

## Adding or removing seats

Seats are added and removed from the same page. Added seats are charged pro rata; removed
seats are credited on the next invoice, never refunded to the card.
""",
    ),
    (
        "Invoices, receipts and VAT",
        """## Where to find invoices

Every invoice is e-mailed to the billing contact and listed under Settings, Billing,
Invoices, where you can download it as a PDF. The billing contact can be changed on the same
page and does not need to be a member of the workspace.

## VAT and company details

Add your VAT number and company address before the next payment to have them on the
invoice. We check EU VAT numbers with VIES; a valid number removes VAT for businesses outside
Singapore. Past invoices cannot be changed, but we can issue a credit note and a corrected
invoice on request.
""",
    ),
    (
        "Resetting your password",
        """Use Forgot password on the login page and follow the link we e-mail you; it is valid
for one hour and works once. If no e-mail arrives within a few minutes, check your spam
folder and that you typed the address your account uses. Accounts that sign in with Google,
Microsoft or your company's single sign-on do not have a password with us: reset it with
that provider instead. After five wrong attempts, sign-in is paused for 15 minutes.
""",
    ),
    (
        "Exporting your data",
        """Admins can export tickets, contacts and knowledge-base articles as CSV files from
Settings, Data, Export. Small exports download at once; large ones are prepared in the
background and e-mailed as a download link that stays valid for 7 days. Exports include
every field shown in the inbox, plus tags and custom fields, but not attachments.
""",
    ),
]

TICKETS = [
    (
        "Charged twice this month",
        "Hello, I see two payments of 49 EUR for November on my card ending 4242. "
        "Can you refund one of them? Thanks, Carla",
    ),
    (
        "Refund for annual plan",
        "Hi, we bought the annual Team plan 2 months ago but are moving to another tool. "
        "What refund can we get and how do we ask for it? Best, Omar",
    ),
]

# Anthropic documents 1,024 tokens as the smallest prefix Sonnet 4.6 caches (some report
# 2,048 in practice).
MIN_CACHEABLE_TOKENS = 1024

TONE = {
    "description": "Warm, plain words, short paragraphs; explain the next step clearly.",
    "sign_off": "Cheers, the Acme support team",
    "avoid": ["unfortunately", "as per", "kindly"],
}


def _shares(call: dict[str, int]) -> tuple[int, float, float]:
    total = call["input_tokens"] + call["cache_write_tokens"] + call["cache_read_tokens"]
    cacheable = call["cache_write_tokens"] + call["cache_read_tokens"]
    return total, cacheable / total, call["cache_read_tokens"] / total


def main() -> int:
    import logging

    from fakes.anthropic import FakeAnthropic

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    fake = FakeAnthropic()
    fake.tool_inputs["write_draft"] = {
        "body": "Hi Carla, the second payment is a pending authorisation your bank releases "
        "within 3 days [1]. If it is still there after that, reply and we refund it the "
        "same day [1]. Cheers, the Acme support team",
        "citations": [1],
        "answered": True,
    }
    fake.tool_inputs["record_triage"] = {
        "tags": [],
        "sentiment": "neutral",
        "sentiment_score": 0.5,
        "priority": "normal",
        "priority_reason": "A billing question.",
        "summary": "Billing question.",
    }
    fake.min_cacheable_tokens = MIN_CACHEABLE_TOKENS
    http = HTTPServer(host="127.0.0.1", port=0)
    http.expect_request("/v1/messages", method="POST").respond_with_handler(fake.handle)
    http.start()
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-bench"
    os.environ["ANTHROPIC_BASE_URL"] = http.url_for("/").rstrip("/")
    server = _emulator.start()
    try:
        import json

        from chalice.test import Client

        from app import app
        from devstack.pump import EventPump

        pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)

        def run_workers() -> None:
            pump.drain(["search_indexer", "ai_jobs_worker"])

        with Client(app, stage_name="bench") as client:

            def call(method: str, path: str, body: object = None, token: str = "") -> dict:
                response = getattr(client.http, method.lower())(
                    path,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                    body=json.dumps(body) if body is not None else None,
                )
                assert response.status_code < 300, response.body
                return json.loads(response.body) if response.body else {}

            owner = call(
                "POST",
                "/v1/signup",
                {
                    "workspace_name": "Acme",
                    "name": "Ann",
                    "email": "ann@acme.test",
                    "password": "correct horse battery",
                },
            )
            token = owner["token"]
            for title, body in ARTICLES:
                call(
                    "POST",
                    "/v1/kb/articles",
                    {"title": title, "body": body, "status": "published"},
                    token,
                )
            call("PUT", "/v1/workspace/ai", {"enabled": True, "tone": TONE}, token)
            tickets = []
            for subject, text in TICKETS:
                tickets.append(
                    call(
                        "POST",
                        "/v1/tickets",
                        {
                            "requester": {"email": "carla@customer.test", "name": "Carla"},
                            "subject": subject,
                            "body": text,
                        },
                        token,
                    )
                )
            run_workers()
            plan = [
                ("1st draft, ticket 1", tickets[0]["id"], None),
                ("2nd draft, ticket 1 (shorter)", tickets[0]["id"], "shorter"),
                ("1st draft, ticket 2", tickets[1]["id"], None),
            ]
            rows = []
            for label, ticket_id, instruction in plan:
                call(
                    "POST",
                    f"/v1/tickets/{ticket_id}/drafts",
                    {"instruction": instruction} if instruction else {},
                    token,
                )
                run_workers()
                [latest] = call("GET", "/v1/workspace/ai/log?limit=1", token=token)["calls"]
                assert latest["feature"] == "drafts" and latest["outcome"] == "ok", latest
                rows.append((label, latest))
    finally:
        server.stop()
        http.stop()

    print(
        f"{'draft':34} {'input':>6} {'uncached':>8} {'write':>6} {'read':>6} {'output':>6}"
        f" {'cacheable':>9} {'read':>6}"
    )
    for label, c in rows:
        total, cacheable, read = _shares(c)
        print(
            f"{label:34} {total:6d} {c['input_tokens']:8d} {c['cache_write_tokens']:6d} "
            f"{c['cache_read_tokens']:6d} {c['output_tokens']:6d} {cacheable:9.0%} {read:6.0%}"
        )
    baseline_total, _, baseline_read = _shares(rows[0][1])
    second_total, second_cacheable, second_read = _shares(rows[1][1])
    print(
        f"second draft: cacheable share {second_cacheable:.0%} (target >= 70%), read from "
        f"cache {second_read:.0%} vs {baseline_read:.0%} on the first; input tokens "
        f"{second_total} vs {baseline_total} (ratio {second_total / baseline_total:.2f})"
    )
    return 0 if second_cacheable >= 0.70 else 1


if __name__ == "__main__":
    sys.exit(main())
