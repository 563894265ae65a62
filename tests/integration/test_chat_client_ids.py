"""A widget's `client_id` names one message however the request that carries it goes: an SDK
retry of the claim is still the claimer's own, another request waits while it is written,
a claim whose request died is taken over, and a sent message answers every resend."""

from __future__ import annotations

import pytest

from chalicelib.chat.ports import ClientIdTaken
from chalicelib.store.chat_repo import ABANDONED_CLAIM_SECONDS, DynamoChatStore

WS, TICKET, CLIENT = "01JD3ZQ5V4W2Y8K7M6N5P4Q0W1", "01JD3ZQ5V4W2Y8K7M6N5P4Q0T1", "c-1"
NOW = 1_790_000_000


@pytest.fixture()
def store(clean_aws):
    return DynamoChatStore()


def test_a_claim_put_again_by_the_same_request_is_still_its_own(store):
    store.claim_client_id(WS, TICKET, CLIENT, "claim-a", NOW)
    store.claim_client_id(WS, TICKET, CLIENT, "claim-a", NOW + 1)  # no error: the retry


def test_another_request_waits_while_the_message_is_written_then_gets_it(store):
    store.claim_client_id(WS, TICKET, CLIENT, "claim-a", NOW)
    with pytest.raises(ClientIdTaken) as pending:
        store.claim_client_id(WS, TICKET, CLIENT, "claim-b", NOW + 5)
    assert pending.value.message_id == ""
    assert store.client_message(WS, TICKET, CLIENT) is None
    store.bind_client_id(WS, TICKET, CLIENT, "01JD3ZQ5V4W2Y8K7M6N5P4Q0M1")
    with pytest.raises(ClientIdTaken) as sent:
        store.claim_client_id(WS, TICKET, CLIENT, "claim-c", NOW + 10**6)
    assert sent.value.message_id == "01JD3ZQ5V4W2Y8K7M6N5P4Q0M1"
    assert store.client_message(WS, TICKET, CLIENT) == "01JD3ZQ5V4W2Y8K7M6N5P4Q0M1"


def test_a_claim_whose_request_died_before_writing_is_taken_over(store):
    store.claim_client_id(WS, TICKET, CLIENT, "claim-a", NOW)
    store.claim_client_id(WS, TICKET, CLIENT, "claim-b", NOW + ABANDONED_CLAIM_SECONDS + 1)
    # Now claim-b's: a third request waits for it.
    with pytest.raises(ClientIdTaken):
        store.claim_client_id(WS, TICKET, CLIENT, "claim-c", NOW + ABANDONED_CLAIM_SECONDS + 2)
