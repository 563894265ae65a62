"""The local emulator holds a real workspace: memory and time per write stay flat.

Each transaction has the shape of a created ticket (the ticket, the workspace's ticket
counter, a lookup item), sent straight to a moto server started the way devstack starts it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.settings import get_settings
from devstack.emulator import MotoServer
from devstack.resources import create_resources

TRANSACTIONS = 3000
WINDOW = 500
MAX_RSS_MB = 400
# Wall-clock cap: moto's table-copy rollback makes each write slower than the last.
BUDGET_SECONDS = 90.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@pytest.fixture()
def emulator() -> Iterator[tuple[MotoServer, Any, str]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the emulator's RSS from /proc")
    with MotoServer() as server:
        settings = get_settings()
        created = create_resources(settings, endpoint_url=server.endpoint)
        dynamodb = boto3.client(
            "dynamodb", endpoint_url=server.endpoint, region_name=created.region
        )
        yield server, dynamodb, created.table_name


def _ticket_transaction(table: str, number: int) -> list[dict[str, Any]]:
    workspace = "WS#01HWORKSPACE"
    ticket_id = f"01HTICKET{number:08d}"
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "PK": {"S": workspace},
                    "SK": {"S": f"TICKET#{ticket_id}"},
                    "GSI1PK": {"S": f"{workspace}#STATUS#open"},
                    "GSI1SK": {"S": f"2026-11-30T12:00:00Z#{ticket_id}"},
                    "subject": {"S": f"Order {number} arrived damaged"},
                    "requester": {"S": f"customer{number}@example.test"},
                    "body": {"S": "The box was crushed and the mug inside broken. " * 8},
                    "number": {"N": str(number)},
                    "status": {"S": "open"},
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {"PK": {"S": workspace}, "SK": {"S": "COUNTER#tickets"}},
                "UpdateExpression": "ADD #n :one",
                "ExpressionAttributeNames": {"#n": "value"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "PK": {"S": f"{workspace}#TICKETNO#{number}"},
                    "SK": {"S": "LOOKUP"},
                    "ticket_id": {"S": ticket_id},
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
    ]


def test_emulator_memory_and_write_time_stay_flat_over_thousands_of_tickets(emulator):
    server, dynamodb, table = emulator
    assert server.pid is not None
    rss_before = _rss_mb(server.pid)
    durations: list[float] = []
    started = time.monotonic()
    for number in range(1, TRANSACTIONS + 1):
        sent = time.perf_counter()
        dynamodb.transact_write_items(TransactItems=_ticket_transaction(table, number))
        durations.append(time.perf_counter() - sent)
        if number % WINDOW == 0:
            rss = _rss_mb(server.pid)
            elapsed = time.monotonic() - started
            assert rss < MAX_RSS_MB, f"emulator RSS {rss:.0f} MB after {number} tickets"
            assert elapsed < BUDGET_SECONDS, f"{number} tickets took {elapsed:.0f} s"

    rss_after = _rss_mb(server.pid)
    # Medians: a neighbour's burst on a shared machine should not decide the verdict.
    first = statistics.median(durations[:WINDOW])
    last = statistics.median(durations[-WINDOW:])
    counter = dynamodb.get_item(
        TableName=table, Key={"PK": {"S": "WS#01HWORKSPACE"}, "SK": {"S": "COUNTER#tickets"}}
    )["Item"]
    assert counter["value"] == {"N": str(TRANSACTIONS)}
    assert rss_after < MAX_RSS_MB, f"emulator RSS {rss_before:.0f} -> {rss_after:.0f} MB"
    assert last < 2 * first, f"per write {first * 1000:.1f} ms first, {last * 1000:.1f} ms last"
    print(
        f"\nRSS {rss_before:.0f} -> {rss_after:.0f} MB; per transaction "
        f"{first * 1000:.1f} ms (first {WINDOW}) -> {last * 1000:.1f} ms (last {WINDOW})"
    )
