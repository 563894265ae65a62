"""pynamodb implementation of `AcknowledgementLedger`: hourly counters and suppressions.

Items (all under the workspace's partition):
| acknowledgements this hour, whole workspace | PK=WS#<ws>, SK=ACKCOUNT#<hour>                    |
| acknowledgements this hour, one recipient   | PK=WS#<ws>, SK=ACKCOUNT#<sha256(address)>#<hour>  |
| an address never to acknowledge             | PK=WS#<ws>, SK=ACKSUPPRESS#<sha256(address)>      |
Counters expire (TTL) two hours after their hour; suppressions are kept."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.store import keys
from chalicelib.store.models import Item

HOUR_SECONDS = 3600


class AcknowledgementCountItem(Item, discriminator="ack_count"):
    acknowledgements = NumberAttribute(default=0)


class AcknowledgementSuppressionItem(Item, discriminator="ack_suppression"):
    address = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def _address_key(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


def workspace_count_sk(hour: int) -> str:
    return f"ACKCOUNT#{hour}"


def recipient_count_sk(address: str, hour: int) -> str:
    return f"ACKCOUNT#{_address_key(address)}#{hour}"


def suppression_sk(address: str) -> str:
    return f"ACKSUPPRESS#{_address_key(address)}"


def claim_steps(
    workspace_id: str, recipient: str, hour: int, *, per_recipient: int, per_workspace: int
) -> list[tuple[str, Item, Any, Any]]:
    """The writes of one acknowledgement's claim, for the transaction of the ticket it
    acknowledges: ("check", item, condition, None) that the recipient is not suppressed, then
    ("update", item, actions, condition) adding one to each hourly count below its cap.  A
    refusal of any of them cancels the transaction (nothing is counted)."""
    pk = keys.workspace_pk(workspace_id)
    expires_at = (hour + 2) * HOUR_SECONDS
    count = AcknowledgementCountItem.acknowledgements
    steps: list[tuple[str, Item, Any, Any]] = [
        (
            "check",
            AcknowledgementSuppressionItem(pk, suppression_sk(recipient)),
            Item.pk.does_not_exist(),
            None,
        )
    ]
    for sk, cap in (
        (workspace_count_sk(hour), per_workspace),
        (recipient_count_sk(recipient, hour), per_recipient),
    ):
        steps.append(
            (
                "update",
                AcknowledgementCountItem(pk, sk),
                [
                    count.add(1),
                    AcknowledgementCountItem.kind.set(AcknowledgementCountItem),
                    AcknowledgementCountItem.expires_at.set(expires_at),
                ],
                count.does_not_exist() | (count < cap),
            )
        )
    return steps


class DynamoAcknowledgementLedger:
    def suppress_acknowledgements(
        self, workspace_id: str, address: str, reason: str, at: datetime
    ) -> None:
        try:
            AcknowledgementSuppressionItem(
                keys.workspace_pk(workspace_id),
                suppression_sk(address),
                address=address.strip().lower(),
                reason=reason,
                at=at,
            ).save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise

    def acknowledgements_suppressed(self, workspace_id: str, address: str) -> bool:
        try:
            AcknowledgementSuppressionItem.get(
                keys.workspace_pk(workspace_id), suppression_sk(address)
            )
        except AcknowledgementSuppressionItem.DoesNotExist:
            return False
        return True
