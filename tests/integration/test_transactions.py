"""Why a transaction was refused is reported for the item as it was added."""

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.store.models import Item, SlugLookup
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction


def test_reasons_follow_the_order_items_were_added_whatever_their_kind(clean_aws):
    SlugLookup("SLUG#taken", "LOOKUP", workspace_id="w1").save()
    with pytest.raises(TransactWriteError) as refused, transaction() as tx:
        tx.update(SlugLookup("SLUG#a", "LOOKUP"), actions=[SlugLookup.workspace_id.set("w2")])
        tx.delete(SlugLookup("SLUG#b", "LOOKUP"))
        tx.save(
            SlugLookup("SLUG#taken", "LOOKUP", workspace_id="w3"),
            condition=Item.pk.does_not_exist(),
        )
        tx.save(SlugLookup("SLUG#c", "LOOKUP", workspace_id="w4"))
    assert cancellation_reasons(refused.value) == [None, None, CONDITION_FAILED, None]


def test_transactions_use_the_tables_timeouts_and_retries():
    from chalicelib.store.models import Item
    from chalicelib.store.transactions import _connection

    connection = _connection()
    assert connection._connect_timeout_seconds == Item.Meta.connect_timeout_seconds
    assert connection._read_timeout_seconds == Item.Meta.read_timeout_seconds
    assert connection._max_retry_attempts_exception == Item.Meta.max_retry_attempts


def test_a_cancelled_transaction_leaves_every_touched_item_as_it_was(clean_aws):
    SlugLookup("SLUG#renamed", "LOOKUP", workspace_id="w1").save()
    SlugLookup("SLUG#removed", "LOOKUP", workspace_id="w2").save()
    SlugLookup("SLUG#taken", "LOOKUP", workspace_id="w3").save()
    with pytest.raises(TransactWriteError) as refused, transaction() as tx:
        tx.update(SlugLookup("SLUG#renamed", "LOOKUP"), actions=[SlugLookup.workspace_id.set("w9")])
        tx.delete(SlugLookup("SLUG#removed", "LOOKUP"))
        tx.save(SlugLookup("SLUG#new-by-put", "LOOKUP", workspace_id="w4"))
        tx.update(
            SlugLookup("SLUG#new-by-update", "LOOKUP"), actions=[SlugLookup.workspace_id.set("w5")]
        )
        tx.condition_check(SlugLookup, "SLUG#taken", "LOOKUP", condition=Item.pk.does_not_exist())
    assert cancellation_reasons(refused.value) == [None, None, None, None, CONDITION_FAILED]

    assert SlugLookup.get("SLUG#renamed", "LOOKUP").workspace_id == "w1"
    assert SlugLookup.get("SLUG#removed", "LOOKUP").workspace_id == "w2"
    assert SlugLookup.get("SLUG#taken", "LOOKUP").workspace_id == "w3"
    assert SlugLookup.count("SLUG#new-by-put") == 0
    assert SlugLookup.count("SLUG#new-by-update") == 0


def test_a_transaction_retried_with_its_request_token_succeeds_once_as_in_dynamodb(clean_aws):
    """An SDK retry after a lost answer reuses the ClientRequestToken: DynamoDB answers it
    without running the transaction again (its conditions would otherwise fail)."""
    dynamodb = clean_aws.client("dynamodb")
    item = {"PK": {"S": "SLUG#retried"}, "SK": {"S": "LOOKUP"}, "workspace_id": {"S": "w1"}}
    request = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": clean_aws.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ],
        "ClientRequestToken": "retry-token-1",
    }

    dynamodb.transact_write_items(**request)
    dynamodb.transact_write_items(**request)  # the retry: success, nothing written twice

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(**{**request, "ClientRequestToken": "another-token"})
    assert SlugLookup.get("SLUG#retried", "LOOKUP").workspace_id == "w1"
