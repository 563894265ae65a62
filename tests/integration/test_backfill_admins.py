"""The operator's backfill of the view of owners and admins (infra/backfill_admins.py) on the
emulator: memberships written before the view existed are put into it once, agents are not,
and the notice job's reader then lists them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from chalicelib.store.workspace_admins_repo import DynamoWorkspaceAdmins
from infra.backfill_admins import backfill
from tests.integration.conftest import Api, accept_invitation, invite


def _without_view(table: Any, workspace_id: str) -> None:
    """Makes the workspace's memberships look as they were written before the view."""
    found = table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :member)",
        ExpressionAttributeValues={":pk": f"WS#{workspace_id}", ":member": "MEMBER#"},
    )["Items"]
    for item in found:
        table.update_item(
            Key={"PK": item["PK"], "SK": item["SK"]}, UpdateExpression="REMOVE GSI2PK, GSI2SK"
        )


def _listed() -> set[str]:
    return {reader.email for reader in DynamoWorkspaceAdmins().listed(None, 100).readers}


def test_older_owner_and_admin_memberships_are_added_to_the_view_once(
    api: Api, clean_aws: Any
) -> None:
    owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
    token = owner["token"]
    accept_invitation(api, invite(api, token, "adam@acme.test", role="admin"), name="Adam")
    accept_invitation(api, invite(api, token, "dan@acme.test"), name="Dan")
    table = boto3.resource("dynamodb", endpoint_url=clean_aws.endpoint).Table(clean_aws.table_name)
    _without_view(table, owner["workspace"]["id"])
    assert _listed() == set()

    now = datetime.now(UTC)
    assert backfill(table, now, dry_run=True) == (2, 0)
    assert _listed() == set()
    assert backfill(table, now) == (2, 2)
    assert _listed() == {"ann@acme.test", "adam@acme.test"}
    assert backfill(table, now) == (0, 0)
