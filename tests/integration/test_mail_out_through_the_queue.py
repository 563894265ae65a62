"""Outbound mail through the real queue and the local event pump: delivered once, or kept in
the dead-letter queue when Mailgun keeps failing — never lost."""

import json

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.mail.outbound import MailStatus
from devstack.pump import EventPump
from infra.template import MAX_RECEIVE_COUNT


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def _mail_out(pump):
    [subscription] = [q for q in pump.queues if q.name == "mail_out_worker"]
    return subscription


def _invite(api, email="bob@acme.test"):
    owner = api.sign_up()
    status, _, _ = api.request(
        "POST", "/v1/members/invitations", {"email": email}, token=owner["token"]
    )
    assert status == 201
    return owner


def test_invitation_is_delivered_and_removed_from_the_queue(api, fake_mailgun, pump, clean_aws):
    _invite(api)
    outcome = pump.poll_queue(_mail_out(pump))
    assert (outcome.received, outcome.deleted, outcome.failed) == (1, 1, 0)
    assert [m.all("to") for m in fake_mailgun.messages] == [["bob@acme.test"]]
    assert pump.poll_queue(_mail_out(pump)).received == 0


def test_mail_that_keeps_failing_ends_in_the_dead_letter_queue(api, fake_mailgun, pump, clean_aws):
    owner = _invite(api)
    fake_mailgun.fail_next(503, times=100)
    subscription = _mail_out(pump)
    deliveries = 0
    for _ in range(20):
        outcome = pump.poll_queue(subscription)
        deliveries += outcome.received
        if outcome.received == 0 and deliveries:
            break
    sqs = clean_aws.client("sqs")
    dead = sqs.receive_message(QueueUrl=clean_aws.dlq_urls["mail_out"], MaxNumberOfMessages=10)
    [message] = dead["Messages"]
    mail = json.loads(message["Body"])
    assert mail["to"] == ["bob@acme.test"]
    assert deliveries == MAX_RECEIVE_COUNT
    assert fake_mailgun.messages == []
    status = bootstrap.mail_log().status(owner["workspace"]["id"], mail["mail_id"])
    assert status is MailStatus.QUEUED
