"""`python -m infra.reindex_tickets`: posts every ticket's search terms again, as the search
indexer now computes them (chalicelib/tickets/search.py `ticket_terms`).

Tickets indexed before the indexer posted the addresses in CC and To are not found by those
addresses: not by a search, not by a data-subject export of someone only copied on them, not
by an erasure's `mentions` phase.  Run this once per deployment with its AWS credentials and
settings (TABLE_NAME, else RESOURCE_PREFIX; `--stage prod` takes the stage's prefix from
.chalice/config.json):

    python -m infra.reindex_tickets --stage prod --dry-run   # how many tickets
    python -m infra.reindex_tickets --stage prod             # post their terms again

An operator's one-off: it finds the tickets with a paged Scan (product code never scans),
then reads each ticket and its messages and writes its postings (writing a posting twice
changes nothing, so it can be stopped and run again)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.one_off import deployment_table, one_off_arguments

MAX_MESSAGES = 1000  # as the indexer reads a ticket


def ticket_keys(table: Any) -> Iterator[tuple[str, str]]:
    """(workspace id, ticket id) of every ticket; `table` is a boto3 Table."""
    from boto3.dynamodb.conditions import Attr

    request: dict[str, Any] = {
        "FilterExpression": Attr("kind").eq("ticket"),
        "ProjectionExpression": "workspace_id, ticket_id",
    }
    while True:
        page = table.scan(**request)
        for item in page.get("Items", []):
            yield str(item["workspace_id"]), str(item["ticket_id"])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def reindex(table: Any, dry_run: bool = False) -> tuple[int, int]:
    """(tickets found, terms posted)."""
    from chalicelib.store.search_repo import DynamoSearchIndex
    from chalicelib.store.tickets_repo import DynamoTicketStore
    from chalicelib.tickets.search import index_ticket

    store, index = DynamoTicketStore(), DynamoSearchIndex()
    found = posted = 0
    for workspace_id, ticket_id in ticket_keys(table):
        found += 1
        if dry_run:
            continue
        ticket = store.get_ticket(workspace_id, ticket_id)
        if ticket is None:  # removed meanwhile
            continue
        messages = store.list_messages(workspace_id, ticket_id, MAX_MESSAGES)
        posted += index_ticket(index, ticket, messages)
    return found, posted


def main(argv: list[str] | None = None) -> int:
    args = one_off_arguments("python -m infra.reindex_tickets", __doc__ or "", argv)
    table = deployment_table(args.stage)
    found, posted = reindex(table, dry_run=args.dry_run)
    outcome = "(dry run: nothing written)" if args.dry_run else f"{posted} terms posted"
    print(f"{found} tickets; {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
