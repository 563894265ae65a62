"""Objections to sub-processor changes and dismissed change notices, in DynamoDB
(implements `Objections`, chalicelib/privacy/objections.py).  Workspace data, under the
workspace's partition:

| item                 | PK         | SK                                    | written              |
|----------------------|------------|---------------------------------------|----------------------|
| an objection         | `WS#<ws>`  | `privacy#objection#<objection id>`    | once, then its       |
|                      |            |                                       | outcome (conditional)|
| a dismissed notice   | `WS#<ws>`  | `privacy#dismissed#<actor>#<change>`  | put (idempotent)     |

Access patterns (docs/data-model.md, Privacy objections): an objection is one GetItem (its id
is derived from the workspace and the change, so "one per workspace and change" is the
PutItem's `attribute_not_exists(PK)`); a workspace's objections are one Query of
`privacy#objection#` (one per change: few); a member's dismissed notices are one Query of
`privacy#dismissed#<actor>#`.  An outcome is written unless the objection is terminated
already (a second confirmation never overwrites the first's refund)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.billing.model import Money, Processor
from chalicelib.privacy.objections import AlreadyObjected, Objection, ObjectionStatus
from chalicelib.store import keys
from chalicelib.store.models import Item

OBJECTION_PREFIX = "privacy#objection#"
DISMISSAL_PREFIX = "privacy#dismissed#"
CONDITION_FAILED = "ConditionalCheckFailedException"
MAX_LISTED = 200


def objection_sk(objection_id: str) -> str:
    return f"{OBJECTION_PREFIX}{objection_id}"


def dismissals_prefix(actor: str) -> str:
    return f"{DISMISSAL_PREFIX}{actor}#"


def dismissal_sk(actor: str, change_id: str) -> str:
    return f"{dismissals_prefix(actor)}{change_id}"


class ObjectionItem(Item, discriminator="privacy_objection"):
    """PK=WS#<ws>, SK=privacy#objection#<id>."""

    objection_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    change_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    confirmed_by = UnicodeAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    refund_amount = NumberAttribute(null=True)  # minor units
    refund_currency = UnicodeAttribute(null=True)
    refunded_through = UnicodeAttribute(null=True)  # stripe, paypal, tappay


class NoticeDismissalItem(Item, discriminator="privacy_notice_dismissal"):
    """PK=WS#<ws>, SK=privacy#dismissed#<actor>#<change id>."""

    change_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def _refused(error: PutError) -> bool:
    return error.cause_response_code == CONDITION_FAILED


def _item(objection: Objection) -> ObjectionItem:
    refund = objection.refund
    return ObjectionItem(
        keys.workspace_pk(objection.workspace_id),
        objection_sk(objection.id),
        objection_id=objection.id,
        workspace_id=objection.workspace_id,
        change_id=objection.change_id,
        reason=objection.reason,
        by=objection.by,
        at=objection.at,
        status=objection.status.value,
        confirmed_by=objection.confirmed_by,
        confirmed_at=objection.confirmed_at,
        refund_amount=refund.amount if refund is not None else None,
        refund_currency=refund.currency if refund is not None else None,
        refunded_through=objection.refunded_through.value if objection.refunded_through else None,
    )


def _objection(item: ObjectionItem) -> Objection:
    refund = (
        Money(int(item.refund_amount), item.refund_currency)
        if item.refund_amount is not None and item.refund_currency
        else None
    )
    return Objection(
        id=item.objection_id,
        workspace_id=item.workspace_id,
        change_id=item.change_id,
        reason=item.reason,
        by=item.by,
        at=item.at,
        status=ObjectionStatus(item.status),
        confirmed_by=item.confirmed_by,
        confirmed_at=item.confirmed_at,
        refund=refund,
        refunded_through=Processor(item.refunded_through) if item.refunded_through else None,
    )


class DynamoObjections:
    def record(self, objection: Objection) -> None:
        """PutItem under `attribute_not_exists(PK)`; AlreadyObjected when it exists."""
        try:
            _item(objection).save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if _refused(e):
                raise AlreadyObjected() from e
            raise

    def get(self, workspace_id: str, objection_id: str) -> Objection | None:
        """GetItem (consistent)."""
        try:
            item = ObjectionItem.get(
                keys.workspace_pk(workspace_id), objection_sk(objection_id), consistent_read=True
            )
        except ObjectionItem.DoesNotExist:
            return None
        return _objection(item)

    def of_workspace(self, workspace_id: str) -> list[Objection]:
        """Query `privacy#objection#` (consistent), newest first."""
        found = [
            _objection(item)
            for item in ObjectionItem.query(
                keys.workspace_pk(workspace_id),
                ObjectionItem.sk.startswith(OBJECTION_PREFIX),
                consistent_read=True,
                limit=MAX_LISTED,
            )
        ]
        return sorted(found, key=lambda o: (o.at, o.id), reverse=True)

    def settle(self, objection: Objection) -> Objection:
        """PutItem of the outcome unless the stored objection is terminated (or gone);
        the objection as stored afterwards."""
        condition = Item.pk.exists() & (ObjectionItem.status != ObjectionStatus.TERMINATED.value)
        try:
            _item(objection).save(condition=condition)
        except PutError as e:
            if not _refused(e):
                raise
            stored = self.get(objection.workspace_id, objection.id)
            return stored if stored is not None else objection
        return objection

    def dismiss(self, workspace_id: str, actor: str, change_id: str, at: datetime) -> None:
        """PutItem (dismissing twice is the same)."""
        NoticeDismissalItem(
            keys.workspace_pk(workspace_id),
            dismissal_sk(actor, change_id),
            change_id=change_id,
            actor=actor,
            at=at,
        ).save()

    def dismissed(self, workspace_id: str, actor: str) -> frozenset[str]:
        """Query `privacy#dismissed#<actor>#` (consistent)."""
        return frozenset(
            item.change_id
            for item in NoticeDismissalItem.query(
                keys.workspace_pk(workspace_id),
                NoticeDismissalItem.sk.startswith(dismissals_prefix(actor)),
                consistent_read=True,
                limit=MAX_LISTED,
            )
        )
