"""A burst of mail into one workspace, filed by workers running side by side: every
message lands once, none is left failing towards the dead-letter queue."""

from concurrent.futures import ThreadPoolExecutor

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

REQUESTER = "carla@customer.test"
NEW_CONVERSATIONS = 40
REPLIES = 10
WORKERS = 10


def _post(api, **fields):
    body, content_type = inbound_form(**fields)
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200, response.body


def test_fifty_messages_at_once_into_one_workspace_all_filed_exactly_once(api, clean_aws):
    owner = api.sign_up()
    drain_mail_queue()
    api.request("PUT", "/v1/mail/settings", {"sender_rate_per_hour": 1000}, token=owner["token"])
    inbound = owner["workspace"]["inbound_address"]
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    _post(api, recipient=inbound, sender=REQUESTER, message_id="<root@customer.test>")
    assert pump.poll_queue(worker).failed == 0
    for n in range(NEW_CONVERSATIONS):
        _post(
            api,
            recipient=inbound,
            sender=f"customer{n}@example.test",
            subject=f"Question {n}",
            message_id=f"<new-{n}@example.test>",
        )
    for n in range(REPLIES):
        _post(
            api,
            recipient=inbound,
            sender=REQUESTER,
            subject="Re: Hello",
            body_plain=f"Reply {n}",
            message_id=f"<reply-{n}@customer.test>",
            in_reply_to="<root@customer.test>",
        )

    def work(_: int) -> tuple[int, int]:
        received = failed = 0
        while (outcome := pump.poll_queue(worker)).received:
            received += outcome.received
            failed += outcome.failed
        return received, failed

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(work, range(WORKERS)))
    assert sum(failed for _, failed in results) == 0, results
    # SQS delivers at least once: a message whose visibility lapsed under load comes again,
    # and is filed once all the same (what the assertions below check).
    assert sum(received for received, _ in results) >= NEW_CONVERSATIONS + REPLIES

    tickets = api.request("GET", "/v1/tickets?limit=100", token=owner["token"])[1]["tickets"]
    assert len(tickets) == NEW_CONVERSATIONS + 1
    assert sorted(t["number"] for t in tickets) == list(range(1, NEW_CONVERSATIONS + 2))
    [root] = [t for t in tickets if t["requester"]["email"] == REQUESTER]
    assert root["message_count"] == REPLIES + 1
    counts = api.request("GET", "/v1/inbox/counts", token=owner["token"])[1]
    assert counts["by_status"]["new"] + counts["by_status"]["open"] == NEW_CONVERSATIONS + 1
