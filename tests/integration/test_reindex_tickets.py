"""The operator's re-index of tickets (infra/reindex_tickets.py) on the emulator: a ticket
indexed before CC addresses were posted is found by its CC address once re-indexed, and a
second run changes nothing."""

from __future__ import annotations

from typing import Any

import boto3

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from infra.reindex_tickets import main, reindex
from tests.integration.conftest import Api

COPIED = "vera.copied@partner.test"


def _found(api: Api, token: str, query: str) -> list[str]:
    status, body, _ = api.request("GET", f"/v1/tickets?q={query}", token=token)
    assert status == 200, body
    return [t["subject"] for t in body["tickets"]]


def test_an_old_ticket_is_found_by_its_cc_address_once_reindexed(
    api: Api, clean_aws: Any, capsys: Any
) -> None:
    owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    body, content_type = inbound_form(
        recipient=owner["workspace"]["inbound_address"],
        sender="bob@partner.test",
        subject="Contract renewal",
        body_plain="Renewal for next year, please.",
        extra_headers=[("Cc", f"Vera <{COPIED}>")],
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200
    pump.drain(["inbound_mail_worker", "search_indexer"])
    token = owner["token"]
    assert _found(api, token, COPIED) == ["Contract renewal"]

    # As it was indexed before addresses in CC were posted.
    table = boto3.resource("dynamodb", endpoint_url=clean_aws.endpoint).Table(clean_aws.table_name)
    workspace = owner["workspace"]["id"]
    for term in (COPIED, "vera", "copied"):
        postings = table.query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": f"WS#{workspace}#TERM#{term}"},
        )["Items"]
        for posting in postings:
            table.delete_item(Key={"PK": posting["PK"], "SK": posting["SK"]})
    assert _found(api, token, COPIED) == []

    assert main(["--dry-run"]) == 0
    assert "1 tickets; (dry run: nothing written)" in capsys.readouterr().out
    assert _found(api, token, COPIED) == []
    found, posted = reindex(table)
    assert found == 1 and posted > 3
    assert _found(api, token, COPIED) == ["Contract renewal"]
    assert reindex(table) == (found, posted)
