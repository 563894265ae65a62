"""Retention policies and the old closed tickets they reach, in DynamoDB (implements
`RetentionPolicies` and `ClosedTickets`, chalicelib/privacy/retention.py).

| item                | PK                     | SK                  | GSI1PK / GSI1SK          |
|---------------------|------------------------|---------------------|--------------------------|
| retention policy    | `WS#<ws>`              | `privacy#retention` | `RETENTION#WORKSPACES` / |
|                     |                        |                     | `<ws>`, only while it has|
|                     |                        |                     | a number (sparse)        |
| the schedule's turn | `RETENTION#WORKSPACES` | `CURSOR`            |                          |

The policy item holds the rule (`closed_tickets_after_months`, `updated_at`, `updated_by`)
and the outcome of the last run that applied it (`last_applied_at`, `last_removed`,
`removed_total`); a rule change and a run's record are separate UpdateItems, so neither
undoes the other.  The schedule finds the workspaces with a rule by one Query of the sparse
`GSI1` partition `RETENTION#WORKSPACES` (ids only: no content), and a workspace's old closed
tickets by one Query per page of its status view (`GSI2` `WS#<ws>#TICKETS#STATUS#<status>`,
sorted by `<last activity>#<ticket>`), `GSI2SK` below the cut-off, oldest first."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.privacy.retention import ClosedTicketPage, RetentionPolicy
from chalicelib.store import keys
from chalicelib.store.models import Item, TicketItem
from chalicelib.store.paging import decode_cursor, encode_cursor, one_slice
from chalicelib.tickets.model import TicketStatus

POLICY_SK = "privacy#retention"
POLICIES_VIEW = "RETENTION#WORKSPACES"
CURSOR_SK = "CURSOR"
CONDITION_FAILED = "ConditionalCheckFailedException"
CLOSED = frozenset({TicketStatus.SOLVED.value, TicketStatus.CLOSED.value})


class RetentionPolicyItem(Item, discriminator="retention_policy"):
    """PK=WS#<ws>, SK=privacy#retention; in GSI1 RETENTION#WORKSPACES while it has a rule."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    closed_tickets_after_months = NumberAttribute(null=True)  # absent: kept forever
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    last_applied_at = UTCDateTimeAttribute(null=True)
    last_removed = NumberAttribute(default=0)
    removed_total = NumberAttribute(default=0)


class RetentionCursorItem(Item, discriminator="retention_cursor"):
    """PK=RETENTION#WORKSPACES, SK=CURSOR: the workspace the last run handled last."""

    position = UnicodeAttribute()


def _refused(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == CONDITION_FAILED


def _policy(item: RetentionPolicyItem) -> RetentionPolicy:
    months = item.closed_tickets_after_months
    return RetentionPolicy(
        workspace_id=item.workspace_id,
        closed_tickets_after_months=int(months) if months is not None else None,
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        last_applied_at=item.last_applied_at,
        last_removed=int(item.last_removed or 0),
        removed_total=int(item.removed_total or 0),
    )


def _key(workspace_id: str) -> RetentionPolicyItem:
    return RetentionPolicyItem(keys.workspace_pk(workspace_id), POLICY_SK)


class DynamoRetentionPolicies:
    def get(self, workspace_id: str) -> RetentionPolicy | None:
        """GetItem, consistent."""
        try:
            item = RetentionPolicyItem.get(
                keys.workspace_pk(workspace_id), POLICY_SK, consistent_read=True
            )
        except RetentionPolicyItem.DoesNotExist:
            return None
        return _policy(item)

    def save_rule(self, policy: RetentionPolicy) -> RetentionPolicy:
        """UpdateItem of the rule (condition: the policy exists), else PutItem of a new
        policy (condition: none exists); a policy without months leaves the view."""
        months = policy.closed_tickets_after_months
        ws = policy.workspace_id
        if policy.updated_at is None or policy.updated_by is None:
            raise ValueError("a rule is saved with who set it and when")
        for _ in range(3):
            actions: list[Action] = [
                RetentionPolicyItem.updated_at.set(policy.updated_at),
                RetentionPolicyItem.updated_by.set(policy.updated_by),
            ]
            if months is None:
                actions += [
                    RetentionPolicyItem.closed_tickets_after_months.remove(),
                    RetentionPolicyItem.gsi1pk.remove(),
                    RetentionPolicyItem.gsi1sk.remove(),
                ]
            else:
                actions += [
                    RetentionPolicyItem.closed_tickets_after_months.set(months),
                    RetentionPolicyItem.gsi1pk.set(POLICIES_VIEW),
                    RetentionPolicyItem.gsi1sk.set(ws),
                ]
            try:
                _key(ws).update(actions=actions, condition=Item.pk.exists())
                return self.get(ws) or policy
            except UpdateError as e:
                if not _refused(e):
                    raise
            item = RetentionPolicyItem(
                keys.workspace_pk(ws),
                POLICY_SK,
                workspace_id=ws,
                closed_tickets_after_months=months,
                updated_at=policy.updated_at,
                updated_by=policy.updated_by,
                gsi1pk=POLICIES_VIEW if months is not None else None,
                gsi1sk=ws if months is not None else None,
            )
            try:
                item.save(condition=Item.pk.does_not_exist())
                return _policy(item)
            except PutError as e:
                if not _refused(e):
                    raise
        raise RuntimeError("the retention policy kept changing while it was saved")

    def with_rule(self, after: str | None, limit: int) -> list[RetentionPolicy]:
        """Query GSI1 RETENTION#WORKSPACES, GSI1SK > `after`, ≤ `limit`."""
        condition = RetentionPolicyItem.gsi1sk > after if after is not None else None
        found = Item.by_user.query(POLICIES_VIEW, condition, limit=limit)
        return [
            _policy(item)
            for item in found
            if isinstance(item, RetentionPolicyItem)
            and item.closed_tickets_after_months is not None
        ]

    def record_run(self, workspace_id: str, at: datetime, removed: int) -> None:
        """UpdateItem (condition: the policy exists; one deleted meanwhile stays deleted)."""
        try:
            _key(workspace_id).update(
                actions=[
                    RetentionPolicyItem.last_applied_at.set(at),
                    RetentionPolicyItem.last_removed.set(removed),
                    RetentionPolicyItem.removed_total.add(removed),
                ],
                condition=Item.pk.exists(),
            )
        except UpdateError as e:
            if not _refused(e):
                raise

    def run_cursor(self) -> str | None:
        try:
            item = RetentionCursorItem.get(POLICIES_VIEW, CURSOR_SK, consistent_read=True)
        except RetentionCursorItem.DoesNotExist:
            return None
        return str(item.position)

    def save_run_cursor(self, workspace_id: str) -> None:
        RetentionCursorItem(POLICIES_VIEW, CURSOR_SK, position=workspace_id).save()


def _activity_iso(moment: datetime) -> str:
    # As the ticket views write last activity (chalicelib/store/tickets_repo.py).
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoClosedTickets:
    def inactive(
        self,
        workspace_id: str,
        status: TicketStatus,
        before: datetime,
        after: str | None,
        limit: int,
    ) -> ClosedTicketPage:
        """One Query of GSI2 `WS#<ws>#TICKETS#STATUS#<status>`, `GSI2SK < <before>`
        (`<last activity>#<ticket>` sorts before any key of that instant), oldest first."""
        hash_key = keys.tickets_by_status(workspace_id, status.value)
        result = Item.by_status_or_tag.query(
            hash_key,
            TicketItem.gsi2sk < _activity_iso(before),
            scan_index_forward=True,
            limit=limit,
            last_evaluated_key=decode_cursor(after, {"GSI2PK": hash_key}),
        )
        found, last_key = one_slice(result, Item, limit)
        ids = [item.ticket_id for item in found if isinstance(item, TicketItem)]
        return ClosedTicketPage(ids, encode_cursor(last_key))

    def still_inactive(self, workspace_id: str, ticket_id: str, before: datetime) -> bool:
        """GetItem of the ticket, consistent."""
        try:
            item = TicketItem.get(
                keys.ticket_pk(workspace_id, ticket_id), keys.TICKET_SK, consistent_read=True
            )
        except TicketItem.DoesNotExist:
            return False
        return item.status in CLOSED and item.last_activity_at < before
