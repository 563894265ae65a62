"""`python -m infra.backfill_admins`: puts owner and admin memberships written before the
view of every workspace's owners and admins existed (GSI2 `WSADMINS`, read by the
sub-processor change notices) into it.

Run it once per deployment with its AWS credentials and settings (TABLE_NAME, else
RESOURCE_PREFIX; `--stage prod` takes the stage's prefix from .chalice/config.json):

    python -m infra.backfill_admins --stage prod --dry-run   # how many would be added
    python -m infra.backfill_admins --stage prod             # add them

An operator's one-off: it reads the table with a paged Scan (product code never scans).
Each membership is updated under the condition that it is still an owner or admin and still
outside the view, so running it twice, or while roles change, adds each one once.  Its place
in the view is the time of the backfill (as a role change's is): the notice job reads the view
onwards from where it stopped, so an older time would put them behind it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infra.one_off import deployment_table, one_off_arguments

MANAGING_ROLES = ("owner", "admin")


def backfill(table: Any, now: datetime, dry_run: bool = False) -> tuple[int, int]:
    """(memberships found outside the view, memberships added); `table` is a boto3 Table."""
    from boto3.dynamodb.conditions import Attr
    from botocore.exceptions import ClientError

    from chalicelib.store import keys

    since = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    wanted = (
        Attr("kind").eq("membership")
        & Attr("role").is_in(list(MANAGING_ROLES))
        & Attr("GSI2PK").not_exists()
    )
    found = added = 0
    request: dict[str, Any] = {"FilterExpression": wanted}
    while True:
        page = table.scan(**request)
        for item in page.get("Items", []):
            found += 1
            if dry_run:
                continue
            try:
                table.update_item(
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET GSI2PK = :view, GSI2SK = :order",
                    ConditionExpression="attribute_exists(PK) AND attribute_not_exists(GSI2PK) "
                    "AND #role IN (:owner, :admin)",
                    ExpressionAttributeNames={"#role": "role"},
                    ExpressionAttributeValues={
                        ":view": keys.WORKSPACE_ADMINS_VIEW,
                        ":order": keys.workspace_admin_order(
                            since, str(item["workspace_id"]), str(item["user_id"])
                        ),
                        ":owner": "owner",
                        ":admin": "admin",
                    },
                )
                added += 1
            except ClientError as e:
                if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        if "LastEvaluatedKey" not in page:
            return found, added
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    args = one_off_arguments("python -m infra.backfill_admins", __doc__ or "", argv)
    table = deployment_table(args.stage)
    found, added = backfill(table, datetime.now(UTC), dry_run=args.dry_run)
    outcome = f"would add {found}" if args.dry_run else f"added {added}"
    print(f"{found} owner and admin memberships outside the view; {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
