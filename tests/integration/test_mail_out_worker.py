"""The mail-out worker sends queued mail through Mailgun (a local fake, via the real adapter)."""

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.mail.outbound import MailStatus
from tests.integration.conftest import drain_mail_queue
from tests.stages import TEST_STAGE


@pytest.fixture()
def queued_invitation(api):
    owner = api.sign_up()
    drain_mail_queue()
    status, _, _ = api.request(
        "POST", "/v1/members/invitations", {"email": "bob@acme.test"}, token=owner["token"]
    )
    assert status == 201
    [message] = drain_mail_queue()
    return json.loads(message["Body"]), message["Body"]


def _run_worker(*bodies):
    with Client(app, stage_name=TEST_STAGE) as client:
        event = client.events.generate_sqs_event(
            message_bodies=list(bodies), queue_name="helptal-test-mail-out"
        )
        payload = client.lambda_.invoke("mail_out_worker", event).payload
        ids = [record["messageId"] for record in event["Records"]]
    failed = [f["itemIdentifier"] for f in payload["batchItemFailures"]]
    return ids, failed


def test_invitation_mail_reaches_mailgun_with_the_right_fields(fake_mailgun, queued_invitation):
    mail, body = queued_invitation
    _, failed = _run_worker(body)
    assert failed == []
    [sent] = fake_mailgun.messages
    assert sent.domain == "mg.helptal.test"
    assert sent.all("to") == ["bob@acme.test"]
    assert sent.one("from") == '"Acme Support" <noreply@mg.helptal.test>'
    assert sent.one("subject") == "Ann Owner invited you to Acme Support on Helptal"
    assert "/join/hti_" in sent.one("text") and "/join/hti_" in sent.one("html")
    assert sent.one("v:helptal-mail-id") == mail["mail_id"]
    assert bootstrap.mail_log().status(mail["workspace_id"], mail["mail_id"]) is MailStatus.SENT


def test_a_redelivered_message_is_not_sent_twice(fake_mailgun, queued_invitation):
    _, body = queued_invitation
    _run_worker(body)
    _run_worker(body)
    assert len(fake_mailgun.messages) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_mailgun_overload_leaves_the_message_for_retry(fake_mailgun, queued_invitation, status):
    mail, body = queued_invitation
    fake_mailgun.fail_next(status)
    ids, failed = _run_worker(body)
    assert failed == ids
    assert fake_mailgun.messages == []
    assert bootstrap.mail_log().status(mail["workspace_id"], mail["mail_id"]) is MailStatus.QUEUED
    _, failed = _run_worker(body)  # the queue delivers it again
    assert failed == []
    assert len(fake_mailgun.messages) == 1


def test_permanent_rejection_marks_the_mail_failed_without_retry(fake_mailgun, queued_invitation):
    mail, body = queued_invitation
    fake_mailgun.fail_next(400, message="to parameter is not a valid address")
    _, failed = _run_worker(body)
    assert failed == []
    assert bootstrap.mail_log().status(mail["workspace_id"], mail["mail_id"]) is MailStatus.FAILED
    _run_worker(body)
    assert fake_mailgun.messages == []


def test_one_failure_does_not_fail_the_whole_batch(fake_mailgun, api):
    owner = api.sign_up()
    drain_mail_queue()
    for address in ("one@acme.test", "two@acme.test"):
        api.request("POST", "/v1/members/invitations", {"email": address}, token=owner["token"])
    bodies = [m["Body"] for m in drain_mail_queue()]
    fake_mailgun.fail_next(503)
    ids, failed = _run_worker(*bodies)
    assert len(failed) == 1 and failed[0] in ids
    assert len(fake_mailgun.messages) == 1


def test_an_unreadable_message_is_reported_failed_so_it_ends_in_the_dlq(fake_mailgun, api):
    ids, failed = _run_worker("not json")
    assert failed == ids
