"""Filing an e-mail costs a bounded number of AWS calls, for a new ticket and for a reply:
what the worker has read for one mail of a batch it does not read again for the next."""

from collections import Counter

import botocore.endpoint
import pytest

from app import app
from chalicelib.workers import inbound_mail
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"
# AWS calls the worker makes to file one e-mail, the first of a batch (its workspace and
# mailbox settings not read yet) included.  A new ticket's include queueing its
# acknowledgement (whose hourly claim and record are written with the ticket).
NEW_TICKET_CALLS = 8
REPLY_CALLS = 8


@pytest.fixture()
def calls_per_record(monkeypatch):
    """The AWS calls made while the inbound worker files each record, one list per record.
    The queue's own receive and delete are the platform's; a queue's URL is looked up once
    per container: neither is counted."""
    per_record: list[list[str]] = []
    original_request = botocore.endpoint.Endpoint.make_request
    original_file_one = inbound_mail._file_one
    filing: list[list[str]] = []

    def make_request(self, operation_model, request_dict):
        if filing and operation_model.name != "GetQueueUrl":
            filing[-1].append(operation_model.name)
        return original_request(self, operation_model, request_dict)

    def file_one(*args, **kwargs):
        filing.append([])
        try:
            return original_file_one(*args, **kwargs)
        finally:
            per_record.append(filing.pop())

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", make_request)
    monkeypatch.setattr(inbound_mail, "_file_one", file_one)
    return per_record


def _post(api, **fields):
    body, content_type = inbound_form(**fields)
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200, response.body


def test_new_tickets_and_a_reply_in_one_batch_each_cost_at_most_eight_aws_calls(
    api, clean_aws, calls_per_record
):
    owner = api.sign_up()
    drain_mail_queue()
    inbound = owner["workspace"]["inbound_address"]
    _post(
        api,
        recipient=inbound,
        sender=CUSTOMER,
        subject="Order 1234 missing",
        message_id="<first@customer.test>",
    )
    _post(
        api,
        recipient=inbound,
        sender=CUSTOMER,
        subject="Re: Order 1234 missing",
        message_id="<second@customer.test>",
        in_reply_to="<first@customer.test>",
    )
    _post(  # a returning customer: their contact exists
        api,
        recipient=inbound,
        sender=CUSTOMER,
        subject="Invoice 77 wrong",
        message_id="<third@customer.test>",
    )
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    outcome = pump.poll_queue(worker)
    assert (outcome.received, outcome.failed) == (3, 0)

    tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    assert sorted((t["number"], t["message_count"]) for t in tickets) == [(1, 2), (2, 1)]
    assert len({t["requester"]["id"] for t in tickets}) == 1
    new_ticket, reply, returning_customer = calls_per_record
    assert len(new_ticket) <= NEW_TICKET_CALLS, Counter(new_ticket)
    assert len(reply) <= REPLY_CALLS, Counter(reply)
    assert len(returning_customer) <= NEW_TICKET_CALLS, Counter(returning_customer)
