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
