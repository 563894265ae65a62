"""Inbox list latency and AWS calls per request at 100 vs 10,000 tickets (same run).

Seeds two workspaces (ticket items, tag entries and search postings written in batches, as the
stores write them), then times `GET /v1/tickets` through the API: the first page, and a
status-filtered page, many rounds each; then every combination of the documented filters
(status, assignee me/none, tag, requester, q) a few rounds each.
Targets: AWS calls equal at both sizes and at most 2 Queries a page, for every combination;
app latency ratio (10,000 / 100) <= 1.3 for the two timed views.

Two latencies are printed: the whole request, and the request less the time spent inside
AWS calls (the app's own work).  The emulator answers a GSI query by collecting and sorting
every matching item before applying the limit, so its time grows with the view's size where
DynamoDB reads one page; the app's own latency and the call count are what this benchmark
can judge here, and the target applies to them.

    .venv/bin/python bench/inbox_list.py [--large 10000] [--rounds 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import _emulator  # first: it sets the environment the settings read
import botocore.endpoint

CALLS: list[str] = []
AWS_SECONDS: list[float] = []
_original = botocore.endpoint.Endpoint.make_request


def _counting(self, operation_model, request_dict):  # type: ignore[no-untyped-def]
    CALLS.append(operation_model.name)
    started = time.perf_counter()
    try:
        return _original(self, operation_model, request_dict)
    finally:
        AWS_SECONDS.append(time.perf_counter() - started)


REQUESTERS = 500
WORD = "printer"


def seed(workspace_id: str, count: int, agent_id: str) -> None:
    """`count` tickets: statuses in turn, every third assigned to `agent_id`, every fifth
    tagged `vip`, requesters `C0`..`C499` in turn, every seventh mentioning a printer."""
    from chalicelib.store import keys
    from chalicelib.store.models import SearchPostingItem, TicketItem
    from chalicelib.store.tickets_repo import _tag_item, _ticket_item
    from chalicelib.tickets.model import Channel, Priority, Ticket, TicketStatus

    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED]
    with TicketItem.batch_write() as batch:
        for n in range(count):
            at = start + timedelta(minutes=n)
            ticket = Ticket(
                id=f"01J{n:023d}",
                workspace_id=workspace_id,
                number=n + 1,
                subject=f"Question {n}",
                requester_id=f"C{n % REQUESTERS}",
                requester_email=f"c{n % REQUESTERS}@customer.test",
                requester_name="Customer",
                cc=[],
                status=statuses[n % 4],
                priority=Priority.NORMAL,
                assignee_id=agent_id if n % 3 == 0 else None,
                tags=["vip"] if n % 5 == 0 else [],
                channel=Channel.EMAIL,
                created_at=at,
                updated_at=at,
                last_activity_at=at,
                message_count=1,
            )
            batch.save(_ticket_item(ticket))
            if ticket.tags:
                batch.save(_tag_item(ticket, "vip"))
            if n % 7 == 0:
                batch.save(SearchPostingItem(keys.search_term_pk(workspace_id, WORD), ticket.id))


def filter_combinations() -> list[str]:
    """Every combination of the documented filters, none included."""
    from itertools import product

    choices = product(
        [None, "open"], [None, "me", "none"], [None, "vip"], [None, "C1"], [None, WORD]
    )
    paths = []
    for status, assignee, tag, requester, q in choices:
        given = {"status": status, "assignee": assignee, "tag": tag, "requester": requester}
        given["q"] = q
        query = "&".join(f"{k}={v}" for k, v in given.items() if v)
        paths.append("/v1/tickets?limit=25" + (f"&{query}" if query else ""))
    return paths


def calls_of(client, token: str, path: str) -> tuple[int, int]:
    """(AWS calls, Queries) of one request for `path`."""
    CALLS.clear()
    response = client.http.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (path, response.body)
    return len(CALLS), CALLS.count("Query")


def measure(client, token: str, path: str, rounds: int) -> tuple[float, float, float, int]:
    """(median total, p95 total, median app-only latency, AWS calls per request)."""
    samples, own, calls = [], [], set()
    for _ in range(rounds):
        CALLS.clear()
        AWS_SECONDS.clear()
        started = time.perf_counter()
        response = client.http.get(path, headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - started
        samples.append(elapsed)
        own.append(elapsed - sum(AWS_SECONDS))
        assert response.status_code == 200, response.body
        assert len(json.loads(response.body)["tickets"]) == 25, path
        calls.add(len(CALLS))
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    return statistics.median(samples), p95, statistics.median(own), max(calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    server = _emulator.start()
    try:
        from chalice.test import Client

        from app import app

        with Client(app, stage_name="bench") as client:
            workspaces = {}
            for size in (args.small, args.large):
                body = json.loads(
                    client.http.post(
                        "/v1/signup",
                        headers={"Content-Type": "application/json"},
                        body=json.dumps(
                            {
                                "workspace_name": f"Bench {size}",
                                "name": "Bench",
                                "email": f"bench{size}@helptal.test",
                                "password": "bench-password-123",
                            }
                        ),
                    ).body
                )
                seed(body["workspace"]["id"], size, body["user"]["id"])
                workspaces[size] = body["token"]
            botocore.endpoint.Endpoint.make_request = _counting
            print(
                f"{'view':<26}{'tickets':>8}{'p50 ms':>9}{'p95 ms':>9}{'app p50':>9}"
                f"{'AWS calls':>11}"
            )
            verdicts = []
            for path in ("/v1/tickets?limit=25", "/v1/tickets?status=open&limit=25"):
                results = {}
                for size, token in workspaces.items():
                    measure(client, token, path, 3)  # warm-up
                    results[size] = measure(client, token, path, args.rounds)
                    p50, p95, own, calls = results[size]
                    print(
                        f"{path.split('?')[1]:<26}{size:>8}{p50 * 1000:>9.1f}"
                        f"{p95 * 1000:>9.1f}{own * 1000:>9.1f}{calls:>11}"
                    )
                total_ratio = results[args.large][0] / results[args.small][0]
                own_ratio = results[args.large][2] / results[args.small][2]
                same_calls = results[args.large][3] == results[args.small][3]
                verdicts.append(own_ratio <= 1.3 and same_calls)
                print(
                    f"  {args.large}/{args.small}: app latency ratio {own_ratio:.2f} "
                    f"(target <= 1.3), whole request {total_ratio:.2f} (emulator included); "
                    f"AWS calls equal: {same_calls}"
                )
            print(f"\nevery filter combination ({len(filter_combinations())}), first page:")
            print(
                f"{'filters':<58}{'calls ' + str(args.small):>12}{'calls ' + str(args.large):>13}"
            )
            worst_queries, all_equal = 0, True
            for path in filter_combinations():
                small = calls_of(client, workspaces[args.small], path)
                large = calls_of(client, workspaces[args.large], path)
                worst_queries = max(worst_queries, small[1], large[1])
                all_equal = all_equal and small == large
                label = path.split("limit=25")[1].lstrip("&") or "(none)"
                print(f"{label:<58}{small[0]:>12}{large[0]:>13}")
            verdict = all_equal and worst_queries <= 2
            verdicts.append(verdict)
            print(
                f"  AWS calls equal at {args.small} and {args.large} for every combination: "
                f"{all_equal}; most Queries a page {worst_queries} (target <= 2): "
                f"{'PASS' if verdict else 'FAIL'}"
            )
            print("PASS" if all(verdicts) else "FAIL")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
