"""Merging, who-is-viewing and the inbox counts."""

import json

import pytest

from app import app
from devstack.pump import EventPump
from fakes.mailgun import inbound_form
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite


@pytest.fixture()
def team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    drain_mail_queue()
    return owner, agent


def _open(api, token, email="carla@customer.test", subject="Help", **extra):
    status, body, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email}, "subject": subject, "body": "Please", **extra},
        token=token,
    )
    assert status == 201, body
    return body


def _counts(api, token):
    return api.request("GET", "/v1/inbox/counts", token=token)[1]


def test_counts_follow_every_change(api, team):
    owner, agent = team
    assert _counts(api, owner["token"]) == {
        "by_status": {s: 0 for s in ("new", "open", "pending", "on_hold", "solved", "closed")},
        "mine": 0,
        "unassigned": 0,
    }
    first = _open(api, owner["token"])
    _open(api, owner["token"], email="d@customer.test")
    api.request(
        "PATCH",
        f"/v1/tickets/{first['id']}",
        {"status": "open", "assignee_id": agent["user"]["id"]},
        token=owner["token"],
    )
    counts = _counts(api, agent["token"])
    assert counts["by_status"]["new"] == 1 and counts["by_status"]["open"] == 1
    assert (counts["mine"], counts["unassigned"]) == (1, 1)
    api.request("PATCH", f"/v1/tickets/{first['id']}", {"status": "solved"}, token=owner["token"])
    counts = _counts(api, agent["token"])
    assert counts["by_status"]["solved"] == 1 and counts["by_status"]["open"] == 0
    assert counts["mine"] == 0  # solved tickets no longer count as yours to handle


def test_merging_moves_messages_and_later_mail_lands_in_the_target(api, team, clean_aws):
    owner, _ = team
    inbound = owner["workspace"]["inbound_address"]
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]

    def mail_in(**fields):
        body, content_type = inbound_form(recipient=inbound, **fields)
        api.client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        while pump.poll_queue(worker).received:
            pass

    mail_in(sender="carla@customer.test", subject="Refund", message_id="<a1@customer.test>")
    mail_in(sender="dan@customer.test", subject="Refund too", message_id="<b1@customer.test>")
    tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    target = next(t for t in tickets if t["requester"]["email"] == "carla@customer.test")
    source = next(t for t in tickets if t["requester"]["email"] == "dan@customer.test")
    status, merged, _ = api.request(
        "POST", f"/v1/tickets/{source['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )
    assert status == 200
    assert merged["message_count"] == 2 and "dan@customer.test" in merged["cc"]
    closed = api.request("GET", f"/v1/tickets/{source['id']}", token=owner["token"])[1]
    assert (closed["status"], closed["merged_into"]) == ("closed", target["id"])
    assert merged["merged_from"] == [source["number"]] and closed["merged_from"] == []
    mail_in(
        sender="dan@customer.test",
        subject="Re: Refund too",
        in_reply_to="<b1@customer.test>",
        message_id="<b2@customer.test>",
    )
    detail = api.request("GET", f"/v1/tickets/{target['id']}", token=owner["token"])[1]
    assert [m["from_address"] for m in detail["messages"]] == [
        "carla@customer.test",
        "dan@customer.test",
        "dan@customer.test",
    ]
    assert len(api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]) == 2
    counts = _counts(api, owner["token"])
    assert counts["by_status"]["closed"] == 0  # a merged ticket is no longer counted
    status, body, _ = api.request(
        "POST", f"/v1/tickets/{source['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "ticket_merged")
    status, body, _ = api.request(
        "POST", f"/v1/tickets/{target['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )
    assert status == 422


def test_replies_to_a_merged_ticket_are_refused(api, team):
    owner, _ = team
    a, b = _open(api, owner["token"]), _open(api, owner["token"], email="x@customer.test")
    api.request("POST", f"/v1/tickets/{a['id']}/merge", {"into": b["id"]}, token=owner["token"])
    status, body, _ = api.request(
        "POST", f"/v1/tickets/{a['id']}/messages", {"body": "hi"}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "ticket_merged")


def test_merging_across_workspaces_is_404(api, team):
    owner, _ = team
    mine = _open(api, owner["token"])
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    theirs = _open(api, other["token"])
    status, _, _ = api.request(
        "POST", f"/v1/tickets/{mine['id']}/merge", {"into": theirs["id"]}, token=owner["token"]
    )
    assert status == 404


def test_viewers_see_each_other_until_their_heartbeat_lapses(api, team, clock):
    owner, agent = team
    ticket = _open(api, owner["token"])
    path = f"/v1/tickets/{ticket['id']}/viewing"
    assert api.request("POST", path, token=owner["token"])[1] == {"viewers": []}
    viewers = api.request("POST", path, token=agent["token"])[1]["viewers"]
    assert [(v["user_id"], v["name"]) for v in viewers] == [(owner["user"]["id"], "Ann Owner")]
    clock.advance(seconds=31)
    assert api.request("POST", path, token=agent["token"])[1] == {"viewers": []}


def test_a_viewer_who_closes_the_ticket_drops_off_at_once(api, team, clean_aws):
    owner, agent = team
    ticket = _open(api, owner["token"])
    path = f"/v1/tickets/{ticket['id']}/viewing"
    api.request("POST", path, token=owner["token"])
    assert len(api.request("POST", path, token=agent["token"])[1]["viewers"]) == 1
    assert api.request("DELETE", path, token=owner["token"])[0] == 204
    assert api.request("POST", path, token=agent["token"])[1] == {"viewers": []}
    assert api.request("DELETE", path, token=owner["token"])[0] == 204  # idempotent
    other = api.sign_up(workspace="Other Desk", email="zed@other.test")
    assert api.request("DELETE", path, token=other["token"])[0] == 404


def test_ticket_events_are_published(api, team, clean_aws):
    owner, _ = team
    sqs = clean_aws.client("sqs")
    ticket = _open(api, owner["token"])
    api.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "open"}, token=owner["token"])
    api.request(
        "POST", f"/v1/tickets/{ticket['id']}/messages", {"body": "ok"}, token=owner["token"]
    )
    events = []
    while batch := sqs.receive_message(
        QueueUrl=clean_aws.queue_urls["events"], MaxNumberOfMessages=10
    ).get("Messages", []):
        events += [json.loads(m["Body"]) for m in batch]
        for m in batch:
            sqs.delete_message(
                QueueUrl=clean_aws.queue_urls["events"], ReceiptHandle=m["ReceiptHandle"]
            )
    assert [e["type"] for e in events if e.get("ticket_id") == ticket["id"]] == [
        "ticket.created",
        "ticket.updated",
        "message.sent",
    ]
    assert all(e["workspace_id"] == owner["workspace"]["id"] for e in events)
