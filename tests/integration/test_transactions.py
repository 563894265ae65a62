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
