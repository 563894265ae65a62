"""pynamodb implementation of `CannedResponseStore` (access patterns: models.py).

A canned response is `WS#<ws>` / `CANNED#<id>`, listed by name from GSI1
(`WS#<ws>#CANNED` / `<name key>#<id>`); its name is claimed by `WS#<ws>` /
`CANNEDNAME#<name key>`, written in the same transaction under `attribute_not_exists`."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.store import keys
from chalicelib.store.models import CannedNameClaim, CannedResponseItem, Item
from chalicelib.store.paging import decode_cursor, encode_cursor
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction
from chalicelib.tickets.canned import (
    CannedNameTaken,
    CannedPage,
    CannedResponse,
    StaleCannedResponse,
)
from chalicelib.tickets.model import TicketStatus

CONFLICTS = ("TransactionConflict",)


def _item(canned: CannedResponse) -> CannedResponseItem:
    ws = canned.workspace_id
    return CannedResponseItem(
        keys.workspace_pk(ws),
        keys.canned_response_sk(canned.id),
        gsi1pk=keys.canned_responses_view(ws),
        gsi1sk=keys.canned_name_order(canned.name_key, canned.id),
        canned_id=canned.id,
        workspace_id=ws,
        name=canned.name,
        name_key=canned.name_key,
        body=canned.body,
        locale=canned.locale,
        set_status=canned.set_status.value if canned.set_status else None,
        add_tags=list(canned.add_tags),
        created_by=canned.created_by,
        created_at=canned.created_at,
        updated_at=canned.updated_at,
        revision=canned.revision,
    )


def _canned(item: CannedResponseItem) -> CannedResponse:
    return CannedResponse(
        id=item.canned_id,
        workspace_id=item.workspace_id,
        name=item.name,
        body=item.body,
        locale=item.locale,
        set_status=TicketStatus(item.set_status) if item.set_status else None,
        add_tags=[str(tag) for tag in item.add_tags or []],
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        revision=int(item.revision or 0),
    )


def _claim(canned: CannedResponse) -> CannedNameClaim:
    return CannedNameClaim(
        keys.workspace_pk(canned.workspace_id),
        keys.canned_name_sk(canned.name_key),
        canned_id=canned.id,
    )


class DynamoCannedResponseStore:
    def create(self, canned: CannedResponse) -> None:
        try:
            with transaction() as tx:
                tx.save(_item(canned), condition=Item.pk.does_not_exist())
                tx.save(_claim(canned), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if len(reasons) > 1 and reasons[1] == CONDITION_FAILED:
                raise CannedNameTaken() from e
            if any(reason in CONFLICTS for reason in reasons):
                raise StaleCannedResponse() from e
            raise

    def get(self, workspace_id: str, canned_id: str) -> CannedResponse | None:
        try:
            item = CannedResponseItem.get(
                keys.workspace_pk(workspace_id),
                keys.canned_response_sk(canned_id),
                consistent_read=True,
            )
        except CannedResponseItem.DoesNotExist:
            return None
        return _canned(item)

    def list(
        self, workspace_id: str, name_prefix: str, cursor: str | None, limit: int
    ) -> CannedPage:
        view = keys.canned_responses_view(workspace_id)
        start = decode_cursor(cursor, {"GSI1PK": view}, sort_prefix=("GSI1SK", name_prefix))
        result = Item.by_user.query(
            view,
            CannedResponseItem.gsi1sk.startswith(name_prefix) if name_prefix else None,
            limit=limit,
            last_evaluated_key=start,
        )
        found = [_canned(item) for item in result if isinstance(item, CannedResponseItem)]
        return CannedPage(found, encode_cursor(result.last_evaluated_key))

    def save(self, before: CannedResponse, after: CannedResponse) -> None:
        renamed = before.name_key != after.name_key
        try:
            # Cancellation reasons follow the order the items are added (store/transactions.py).
            with transaction() as tx:
                if renamed:
                    tx.delete(_claim(before), condition=CannedNameClaim.canned_id == before.id)
                tx.save(_item(after), condition=CannedResponseItem.revision == before.revision)
                if renamed:
                    tx.save(_claim(after), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            in_order = reasons if renamed else [None, *reasons, None]
            old_claim, item, new_claim = [*in_order, None, None, None][:3]
            if CONDITION_FAILED in (old_claim, item):
                raise StaleCannedResponse() from e
            if new_claim == CONDITION_FAILED:
                raise CannedNameTaken() from e
            if any(reason in CONFLICTS for reason in reasons):
                raise StaleCannedResponse() from e
            raise

    def delete(self, canned: CannedResponse) -> None:
        try:
            with transaction() as tx:
                tx.delete(_item(canned), condition=CannedResponseItem.revision == canned.revision)
                tx.delete(_claim(canned), condition=CannedNameClaim.canned_id == canned.id)
        except TransactWriteError as e:
            if any(reason in (CONDITION_FAILED, *CONFLICTS) for reason in cancellation_reasons(e)):
                raise StaleCannedResponse() from e
            raise
