"""Large mail: Mailgun's store(notify=...) route notifies the webhook, the worker fetches the
stored message from (fake) Mailgun and files it like any other mail."""

import hashlib
import json
import os
import time
from email.message import EmailMessage

import pytest
import requests

from app import app
from chalicelib import bootstrap
from devstack.pump import EventPump
from fakes.mailgun import stored_notification
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"
STORED_WEBHOOK = "/v1/webhooks/mailgun/stored"


@pytest.fixture()
def workspace(api):
    owner = api.sign_up()
    drain_mail_queue()
    return owner


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


@pytest.fixture()
def mailgun(fake_mailgun):
    """The fake Mailgun, as the API base the worker fetches stored messages from."""
    bootstrap.stored_messages.cache_clear()
    yield fake_mailgun
    bootstrap.stored_messages.cache_clear()


def _message(
    to: str,
    *,
    subject: str = "Logs from last night",
    message_id: str = "<stored-1@customer.test>",
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Carla Customer <{CUSTOMER}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content("The export failed again, logs attached.")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def _notify(api, body_and_type):
    body, content_type = body_and_type
    response = api.client.http.post(
        STORED_WEBHOOK, headers={"Content-Type": content_type}, body=body
    )
    return response.status_code, json.loads(response.body or b"{}")


def _receive(api, mailgun, raw, recipient, **kwargs):
    """What a store() route does: keep the message at Mailgun, notify the webhook."""
    message_url = mailgun.store(raw, recipient=recipient)
    return _notify(
        api,
        mailgun.stored_notification(raw, message_url=message_url, recipient=recipient, **kwargs),
    )


def _run_worker(pump):
    """Polls the inbound-mail queue until it is empty: (records handled, records failed)."""
    [subscription] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    received = failed = 0
    while True:
        outcome = pump.poll_queue(subscription)
        if not outcome.received:
            return received, failed
        received += outcome.received
        failed += outcome.failed


def _tickets(api, token):
    return api.request("GET", "/v1/tickets", token=token)[1]["tickets"]


def _detail(api, token, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=token)[1]


def _download(api, token, url):
    response = api.client.http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302
    return requests.get(response.headers["Location"], timeout=30).content


def _refusals(aws):
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=aws.bucket, Prefix="inbound/refused/")
    return [
        json.loads(s3.get_object(Bucket=aws.bucket, Key=entry["Key"])["Body"].read())
        for entry in listed.get("Contents", [])
    ]


def _dead_letters(aws):
    sqs = aws.client("sqs")
    dead = sqs.receive_message(QueueUrl=aws.dlq_urls["inbound_mail"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in dead.get("Messages", [])]


def test_a_stored_message_is_fetched_and_filed_as_a_ticket_with_its_attachments(
    api, workspace, pump, mailgun
):
    inbound = workspace["workspace"]["inbound_address"]
    log = os.urandom(300_000)
    raw = _message(
        inbound,
        attachments=[("export.log.gz", "application/gzip", log), ("note.txt", "text/plain", b"hi")],
    )

    assert _receive(api, mailgun, raw, inbound) == (200, {"status": "queued"})
    assert mailgun.fetches == 0  # the webhook only queues; the worker fetches
    assert _run_worker(pump) == (1, 0)

    [ticket] = _tickets(api, workspace["token"])
    assert ticket["subject"] == "Logs from last night"
    assert ticket["requester"]["email"] == CUSTOMER
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    assert message["text"] == "The export failed again, logs attached."
    files = {a["filename"]: a for a in message["attachments"]}
    assert set(files) == {"export.log.gz", "note.txt"}
    assert _download(api, workspace["token"], files["export.log.gz"]["url"]) == log


def test_forged_or_stale_notifications_are_refused_and_nothing_is_fetched(
    api, workspace, pump, mailgun
):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound)
    url = mailgun.store(raw, recipient=inbound)
    forged = stored_notification(raw, message_url=url, recipient=inbound, signing_key="not-the-key")
    stale = mailgun.stored_notification(
        raw, message_url=url, recipient=inbound, timestamp=int(time.time()) - 10 * 3600
    )
    unsigned = (
        f"recipient={inbound}&message-url={url}".encode(),
        "application/x-www-form-urlencoded",
    )

    assert _notify(api, forged)[1]["error"]["code"] == "invalid_signature"
    assert _notify(api, stale)[1]["error"]["code"] == "stale_signature"
    assert _notify(api, unsigned)[0] == 401
    assert _run_worker(pump) == (0, 0)
    assert mailgun.fetches == 0
    assert _tickets(api, workspace["token"]) == []


def test_a_replayed_notification_is_accepted_once_and_files_one_ticket(
    api, workspace, pump, mailgun
):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound)
    url = mailgun.store(raw, recipient=inbound)
    notification = mailgun.stored_notification(
        raw, message_url=url, recipient=inbound, token="r" * 50
    )

    assert _notify(api, notification) == (200, {"status": "queued"})
    assert _notify(api, notification) == (200, {"status": "duplicate"})
    assert _run_worker(pump) == (1, 0)
    assert len(_tickets(api, workspace["token"])) == 1


def test_a_notification_without_message_url_is_a_bad_request_and_can_be_retried(
    api, workspace, pump, mailgun
):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound)
    url = mailgun.store(raw, recipient=inbound)
    body, content_type = mailgun.stored_notification(
        raw, message_url=url, recipient=inbound, token="m" * 50
    )
    without_url = "&".join(p for p in body.decode().split("&") if not p.startswith("message-url="))

    status, answer = _notify(api, (without_url.encode(), content_type))
    assert (status, answer["error"]["code"]) == (400, "missing_message_url")
    # The token was not used up: the complete notification is still accepted.
    assert _notify(api, (body, content_type)) == (200, {"status": "queued"})


def test_a_fetch_that_fails_is_retried_through_the_queue_then_filed(
    api, workspace, pump, mailgun, clean_aws
):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound)
    mailgun.fail_next_fetch(503)
    mailgun.fail_next_fetch(429)

    assert _receive(api, mailgun, raw, inbound)[0] == 200
    received, failed = _run_worker(pump)

    assert (received, failed) == (3, 2)  # two failed attempts, then the mail was filed
    [ticket] = _tickets(api, workspace["token"])
    assert ticket["subject"] == "Logs from last night"
    assert _dead_letters(clean_aws) == []


def test_a_fetch_that_keeps_failing_ends_in_the_dead_letter_queue(
    api, workspace, pump, mailgun, clean_aws
):
    inbound = workspace["workspace"]["inbound_address"]
    mailgun.fail_next_fetch(503, times=50)

    assert _receive(api, mailgun, _message(inbound), inbound)[0] == 200
    received, failed = _run_worker(pump)

    assert received == failed >= 1
    [parked] = _dead_letters(clean_aws)
    assert parked["kind"] == "stored"  # kept for a redrive: the mail is not lost
    assert _tickets(api, workspace["token"]) == []


@pytest.mark.parametrize(
    "message_url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://storage.api.mailgun.net.attacker.test/v3/domains/d/messages/k",
        "http://127.0.0.1:1/v3/domains/d/messages/k",
    ],
)
def test_a_message_url_off_mailgun_storage_is_refused_recorded_and_not_retried(
    api, workspace, pump, mailgun, clean_aws, message_url
):
    inbound = workspace["workspace"]["inbound_address"]
    notification = mailgun.stored_notification(
        _message(inbound), message_url=message_url, recipient=inbound
    )

    assert _notify(api, notification) == (200, {"status": "queued"})
    assert _run_worker(pump) == (1, 0)  # handled once: not retried

    [refusal] = _refusals(clean_aws)
    assert refusal["reason"] == "message_url_not_allowed"
    assert refusal["message_url"] == message_url
    assert refusal["recipient"] == inbound
    assert _tickets(api, workspace["token"]) == []
    assert _dead_letters(clean_aws) == []


def test_an_expired_stored_message_is_recorded_for_operators_and_not_retried(
    api, workspace, pump, mailgun, clean_aws
):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound, subject="Sent last week")
    url = mailgun.store(raw, recipient=inbound)
    mailgun.expire(url)

    notification = mailgun.stored_notification(raw, message_url=url, recipient=inbound)
    assert _notify(api, notification)[0] == 200
    assert _run_worker(pump) == (1, 0)

    [refusal] = _refusals(clean_aws)
    assert (refusal["reason"], refusal["subject"]) == ("stored_message_gone", "Sent last week")
    assert refusal["from"] == f"Carla Customer <{CUSTOMER}>"
    assert _tickets(api, workspace["token"]) == []
    assert _dead_letters(clean_aws) == []


def test_a_message_near_mailguns_25_mb_limit_keeps_its_18_mb_attachment(
    api, workspace, pump, mailgun
):
    inbound = workspace["workspace"]["inbound_address"]
    video = os.urandom(18 * 1024 * 1024)
    raw = _message(inbound, attachments=[("screen-recording.mp4", "video/mp4", video)])
    assert 24 * 1024 * 1024 < len(raw) <= 25 * 1024 * 1024

    assert _receive(api, mailgun, raw, inbound)[0] == 200
    assert _run_worker(pump) == (1, 0)

    [ticket] = _tickets(api, workspace["token"])
    [message] = _detail(api, workspace["token"], ticket["id"])["messages"]
    [attachment] = message["attachments"]
    assert message["delivery_detail"] is None
    kept = _download(api, workspace["token"], attachment["url"])
    assert hashlib.sha256(kept).digest() == hashlib.sha256(video).digest()


def test_the_same_mail_stored_twice_makes_one_ticket(api, workspace, pump, mailgun):
    inbound = workspace["workspace"]["inbound_address"]
    raw = _message(inbound, message_id="<twice@customer.test>")
    for _ in range(2):  # two notifications (two stored copies) of one message
        _receive(api, mailgun, raw, inbound)
    _run_worker(pump)
    [ticket] = _tickets(api, workspace["token"])
    assert ticket["message_count"] == 1


def test_a_held_stored_message_is_released_into_a_ticket_with_its_attachment(
    api, workspace, pump, mailgun
):
    token = workspace["token"]
    api.request("PUT", "/v1/mail/settings", {"sender_rate_per_hour": 1}, token=token)
    inbound = workspace["workspace"]["inbound_address"]
    _receive(api, mailgun, _message(inbound, message_id="<first@customer.test>"), inbound)
    large = _message(
        inbound,
        subject="Second, with the log",
        message_id="<second@customer.test>",
        attachments=[("export.log", "text/plain", b"line\n" * 1000)],
    )
    _receive(api, mailgun, large, inbound)
    _run_worker(pump)
    [held] = api.request("GET", "/v1/mail/held", token=token)[1]["held"]
    assert held["subject"] == "Second, with the log"
    mailgun.reset()  # released from what we kept, not fetched again

    status, released, _ = api.request("POST", f"/v1/mail/held/{held['id']}/release", token=token)

    assert status == 200
    [message] = _detail(api, token, released["ticket_id"])["messages"]
    [attachment] = message["attachments"]
    assert _download(api, token, attachment["url"]) == b"line\n" * 1000


def test_with_too_little_time_left_a_stored_message_waits_for_the_next_invocation(
    api, workspace, mailgun, clean_aws
):
    from chalice.local import LambdaContext

    from chalicelib.workers.inbound_mail import STORED_FETCH_SECONDS, inbound_mail_worker
    from devstack.pump import sqs_event

    inbound = workspace["workspace"]["inbound_address"]
    _receive(api, mailgun, _message(inbound), inbound)
    sqs = clean_aws.client("sqs")
    queue_url = clean_aws.queue_urls["inbound_mail"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = sqs_event(messages, "arn:aws:sqs:ap-southeast-1:123456789012:q", clean_aws.region)
    almost_out = LambdaContext(
        "inbound_mail_worker", 512, max_runtime_ms=(STORED_FETCH_SECONDS - 1) * 1000
    )

    answer = inbound_mail_worker(event, almost_out)

    assert answer["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert mailgun.fetches == 0
    roomy = LambdaContext("inbound_mail_worker", 512, max_runtime_ms=120_000)
    assert inbound_mail_worker(event, roomy)["batchItemFailures"] == []
    assert len(_tickets(api, workspace["token"])) == 1
