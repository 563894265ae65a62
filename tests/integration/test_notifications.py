"""Agents' notifications over the API and the events worker: who is told of what, reading
them, preferences, the e-mail digest, and nothing across workspaces."""

from __future__ import annotations

import json
import time

import pytest

from devstack.pump import EventPump
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite


@pytest.fixture()
def pump(clean_aws):
    from app import app

    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


@pytest.fixture()
def team(api):
    owner = api.sign_up()
    accepted = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"), "Bob Martin")
    drain_mail_queue()
    return {"ann": owner, "bob": accepted[1]}


def _events(pump):
    pump.drain(["search_indexer"])


def _open(api, member, subject="Printer on fire", **extra):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {
            "requester": {"email": "carla@customer.test", "name": "Carla"},
            "subject": subject,
            "body": "It smokes.",
            **extra,
        },
        token=member["token"],
    )
    assert status == 201, ticket
    return ticket


def _notifications(api, member, **headers):
    status, body, answered = api.request(
        "GET", "/v1/notifications", token=member["token"], headers=headers or None
    )
    return status, body, answered


def _kinds(api, member):
    status, body, _ = _notifications(api, member)
    assert status == 200, body
    return [(n["kind"], n["ticket_subject"]) for n in body["notifications"]]


def _customer_writes(api, workspace, ticket, text="Still smoking!"):
    from chalicelib.settings import get_settings
    from chalicelib.tickets.reply_address import reply_address
    from fakes.mailgun import inbound_form

    settings = get_settings()
    body, content_type = inbound_form(
        recipient=reply_address(
            settings.reply_address_secret,
            settings.inbound_mail_domain,
            workspace["slug"],
            workspace["id"],
            ticket["id"],
        ),
        sender="carla@customer.test",
        from_header="Carla <carla@customer.test>",
        subject=f"Re: {ticket['subject']}",
        body_plain=text,
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200


def test_a_new_ticket_tells_every_member_but_the_one_who_opened_it(api, team, pump):
    _open(api, team["ann"])
    _events(pump)
    assert _kinds(api, team["bob"]) == [("new_ticket", "Printer on fire")]
    assert _kinds(api, team["ann"]) == []


def test_an_assignment_and_then_a_customer_reply_tell_the_assignee_only(api, team, pump):
    ann, bob = team["ann"], team["bob"]
    ticket = _open(api, ann)
    status, _, _ = api.request(
        "PATCH",
        f"/v1/tickets/{ticket['id']}",
        {"assignee_id": bob["user"]["id"]},
        token=ann["token"],
    )
    assert status == 200
    _customer_writes(api, ann["workspace"], ticket)
    pump.drain(["inbound_mail_worker", "search_indexer"])

    status, body, _ = _notifications(api, bob)
    [reply, assigned, opened] = body["notifications"]
    assert (reply["kind"], reply["actor_name"], reply["excerpt"]) == (
        "customer_reply",
        "Carla",
        "Still smoking!",
    )
    assert (assigned["kind"], assigned["actor_id"]) == ("assigned", ann["user"]["id"])
    assert opened["kind"] == "new_ticket"
    assert body["unread_count"] == 3
    assert _kinds(api, ann) == []  # the reply is Bob's ticket; the assignment was Ann's own


def test_an_assignment_undone_before_its_event_is_read_still_tells_its_assignee(api, team, pump):
    ann, bob = team["ann"], team["bob"]
    ticket = _open(api, ann)
    pump.drain(["search_indexer"])
    for change in ({"assignee_id": bob["user"]["id"]}, {"assignee_id": None}):
        status, body, _ = api.request(
            "PATCH", f"/v1/tickets/{ticket['id']}", change, token=ann["token"]
        )
        assert status == 200, body
    pump.drain(["search_indexer"])
    assert _kinds(api, bob)[0] == ("assigned", "Printer on fire")


def test_a_mention_in_a_note_tells_the_member_named_and_not_the_writer(api, team, pump):
    ann, bob = team["ann"], team["bob"]
    ticket = _open(api, ann, assignee_id=ann["user"]["id"])
    _events(pump)
    api.request(
        "POST", "/v1/notifications/read", {"through": _newest(api, bob)}, token=bob["token"]
    )
    for text in ("@Bob can you look? cc @Ann", "Mail ann@acme.test, @nobody here"):
        status, _, _ = api.request(
            "POST",
            f"/v1/tickets/{ticket['id']}/messages",
            {"kind": "note", "body": text},
            token=ann["token"],
        )
        assert status == 201
    _events(pump)
    status, body, _ = _notifications(api, bob)
    mention = body["notifications"][0]
    assert (mention["kind"], mention["actor_name"], mention["read"]) == (
        "mention",
        "Ann Owner",
        False,
    )
    assert mention["excerpt"] == "@Bob can you look? cc @Ann"
    assert body["unread_count"] == 1
    assert _kinds(api, ann) == []
    # Kept on the notes as member ids: a rename later changes nothing.
    notes = api.request("GET", f"/v1/tickets/{ticket['id']}", token=ann["token"])[1]["messages"]
    assert [n["mentions"] for n in notes[1:]] == [[bob["user"]["id"], ann["user"]["id"]], []]


def _newest(api, member):
    return _notifications(api, member)[1]["notifications"][0]["id"]


def test_reading_changes_the_unread_count_and_an_unchanged_list_answers_304(api, team, pump):
    ann, bob = team["ann"], team["bob"]
    _open(api, ann, "First")
    _open(api, ann, "Second")
    _open(api, ann, "Third")
    _events(pump)
    status, body, headers = _notifications(api, bob)
    assert body["unread_count"] == 3 and headers["ETag"]
    status, again, _ = _notifications(api, bob, **{"If-None-Match": headers["ETag"]})
    assert (status, again) == (304, None)

    third, second, _first = body["notifications"]
    status, read, _ = api.request(
        "POST", "/v1/notifications/read", {"ids": [second["id"]]}, token=bob["token"]
    )
    assert (status, read) == (200, {"unread_count": 2})
    status, after, fresh = _notifications(api, bob, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and fresh["ETag"] != headers["ETag"]
    assert [n["read"] for n in after["notifications"]] == [False, True, False]

    status, read, _ = api.request(
        "POST", "/v1/notifications/read", {"through": third["id"]}, token=bob["token"]
    )
    assert read == {"unread_count": 0}
    assert all(n["read"] for n in _notifications(api, bob)[1]["notifications"])

    status, newer, _ = api.request(
        "GET", f"/v1/notifications?since={second['id']}", token=bob["token"]
    )
    assert [n["id"] for n in newer["notifications"]] == [third["id"]]


def test_bad_reads_are_refused_and_change_nothing(api, team, pump):
    bob = team["bob"]
    _open(api, team["ann"])
    _events(pump)
    for body in ({}, {"ids": ["not-an-id"]}, {"ids": [], "through": None}, {"ids": "x"}):
        status, answer, _ = api.request("POST", "/v1/notifications/read", body, token=bob["token"])
        assert status == 422, (body, answer)
        assert answer["error"]["code"] == "validation_failed"
    assert _notifications(api, bob)[1]["unread_count"] == 1
    status, answer, _ = api.request("GET", "/v1/notifications?since=nope", token=bob["token"])
    assert status == 422
    future = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"  # would mark every later notification read
    status, answer, _ = api.request(
        "POST", "/v1/notifications/read", {"through": future}, token=bob["token"]
    )
    assert (status, answer["error"]["code"]) == (404, "notification_not_found")
    assert _notifications(api, bob)[1]["unread_count"] == 1


def test_preferences_have_defaults_and_keep_what_a_change_leaves_out(api, team):
    bob = team["bob"]
    path = "/v1/me/notification-preferences"
    status, defaults, _ = api.request("GET", path, token=bob["token"])
    assert status == 200
    assert defaults["new_ticket"] == {"in_app": True, "email": False}
    assert defaults["mention"] == {"in_app": True, "email": True}
    status, changed, _ = api.request(
        "PUT", path, {"new_ticket": {"in_app": False, "email": True}}, token=bob["token"]
    )
    assert status == 200
    assert changed == {**defaults, "new_ticket": {"in_app": False, "email": True}}
    status, _, _ = api.request(
        "PUT", path, {"mention": {"in_app": "yes", "email": True}}, token=bob["token"]
    )
    assert status == 422
    assert api.request("GET", path, token=bob["token"])[1] == changed

    key = api.request("POST", "/v1/api-keys", {"name": "ci"}, token=team["ann"]["token"])[1]
    status, answer, _ = api.request("GET", path, token=key["key"])
    assert (status, answer["error"]["code"]) == (403, "not_a_person")


def test_turning_a_kind_off_in_the_app_and_by_mail_stops_it(api, team, pump):
    bob = team["bob"]
    api.request(
        "PUT",
        "/v1/me/notification-preferences",
        {"new_ticket": {"in_app": False, "email": False}},
        token=bob["token"],
    )
    _open(api, team["ann"])
    _events(pump)
    assert _kinds(api, bob) == []


def _digests(pump, minutes_from_now):
    pump.fire("notification-digest", time.time() + minutes_from_now * 60)
    return [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "notification_digest"
    ]


def test_the_digest_mails_each_agent_once_what_they_did_not_read(api, team, pump):
    ann, bob = team["ann"], team["bob"]
    ticket = _open(api, ann, "Refund twice", assignee_id=bob["user"]["id"])
    _open(api, ann, "Read in the app", assignee_id=bob["user"]["id"])
    _events(pump)
    read_one = _notifications(api, bob)[1]["notifications"][0]
    api.request("POST", "/v1/notifications/read", {"ids": [read_one["id"]]}, token=bob["token"])

    assert _digests(pump, 1) == []  # not due yet: time to read it in the app first
    [mail] = _digests(pump, 6)
    assert mail["to"] == ["bob@acme.test"]
    assert mail["subject"] == "1 new notification in Acme Support"
    assert "#1 was assigned to you: Refund twice" in mail["text"]
    assert f"/tickets/{ticket['id']}" in mail["text"]
    assert "Read in the app" not in mail["text"]
    assert _digests(pump, 7) == []  # mailed once, however often the job runs

    _customer_writes(api, ann["workspace"], ticket)
    pump.drain(["inbound_mail_worker", "search_indexer"])
    [later] = _digests(pump, 12)
    assert "Carla replied on #1: Refund twice" in later["text"]
    assert "Still smoking!" in later["text"]


def test_overlapping_digest_runs_mail_a_notification_once(api, team, pump):
    from concurrent.futures import ThreadPoolExecutor

    _open(api, team["ann"], assignee_id=team["bob"]["user"]["id"])
    _events(pump)
    at = time.time() + 6 * 60
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: pump.fire("notification_digest_job", at), range(3)))
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert [m["to"] for m in mails if m["purpose"] == "notification_digest"] == [["bob@acme.test"]]


def test_a_french_workspace_gets_its_digest_in_french(api, team, pump):
    ann = team["ann"]
    status, _, _ = api.request("PATCH", "/v1/workspace", {"locale": "fr"}, token=ann["token"])
    assert status == 200
    _open(api, ann, "Remboursement", assignee_id=team["bob"]["user"]["id"])
    _events(pump)
    [mail] = _digests(pump, 6)
    assert mail["subject"] == "1 nouvelle notification dans Acme Support"
    assert "Le ticket n° 1 vous a été attribué : Remboursement" in mail["text"]


def test_no_notification_of_one_workspace_reaches_another(api, team, pump):
    other = api.sign_up(workspace="Globex", email="gil@globex.test", name="Gil")
    drain_mail_queue()
    _open(api, team["ann"], "Acme only")
    _open(api, other, "Globex only")
    _events(pump)
    assert _kinds(api, team["bob"]) == [("new_ticket", "Acme only")]
    assert _kinds(api, other) == []
    # Bob's notification ids mean nothing in Gil's workspace.
    bob_id = _newest(api, team["bob"])
    api.request("POST", "/v1/notifications/read", {"ids": [bob_id]}, token=other["token"])
    assert _notifications(api, team["bob"])[1]["unread_count"] == 1
    digests = _digests(pump, 6)
    assert all(m["to"] != ["gil@globex.test"] for m in digests)


def test_a_redelivered_event_tells_no_one_twice(api, team, pump):
    from chalicelib.workers.notifications import notify

    ticket = _open(api, team["ann"])
    _events(pump)
    event = {
        "id": _newest(api, team["bob"]),
        "type": "ticket.created",
        "workspace_id": team["ann"]["workspace"]["id"],
        "ticket_id": ticket["id"],
        "actor": f"user:{team['ann']['user']['id']}",
        "at": "2026-11-30T10:00:00+00:00",
    }
    assert notify(json.dumps(event)) == 0
    assert _notifications(api, team["bob"])[1]["unread_count"] == 1


def test_an_unchanged_notification_poll_costs_one_read_at_one_and_at_sixty(
    api, team, pump, aws_calls
):
    bob = team["bob"]

    def unchanged_poll_calls():
        _, _, headers = _notifications(api, bob)
        aws_calls.clear()
        status, _, _ = _notifications(api, bob, **{"If-None-Match": headers["ETag"]})
        assert status == 304
        return list(aws_calls)

    _open(api, team["ann"])
    _events(pump)
    few = unchanged_poll_calls()
    for n in range(59):
        _open(api, team["ann"], f"Ticket {n}")
    _events(pump)
    assert _notifications(api, bob)[1]["unread_count"] == 60
    many = unchanged_poll_calls()
    assert many == few
    assert "Query" not in many and "Scan" not in many
    assert len(many) <= 3  # authentication's reads, then the member's notification state


def test_an_event_that_fails_is_retried_alone_while_the_others_of_its_batch_are_told(
    api, team, pump
):
    import boto3

    from chalicelib.ids import new_id
    from chalicelib.settings import get_settings

    ticket = _open(api, team["ann"])
    _events(pump)
    api.request(
        "POST",
        "/v1/notifications/read",
        {"through": _newest(api, team["bob"])},
        token=team["bob"]["token"],
    )
    settings = get_settings()
    sqs = boto3.client("sqs", region_name=settings.region)
    url = sqs.get_queue_url(QueueName=settings.queues.events)["QueueUrl"]
    good = {
        "id": new_id(),
        "type": "ticket.updated",
        "workspace_id": team["ann"]["workspace"]["id"],
        "ticket_id": ticket["id"],
        "actor": f"user:{team['ann']['user']['id']}",
        "changes": ["assignee"],
        "at": "2026-11-30T10:00:00+00:00",
    }
    api.request(
        "PATCH",
        f"/v1/tickets/{ticket['id']}",
        {"assignee_id": team["bob"]["user"]["id"]},
        token=team["bob"]["token"],  # Bob takes it himself: that event tells no one
    )
    pump.drain(["search_indexer"])
    broken = {**good, "id": new_id(), "at": "not a time"}
    for body in (broken, good):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    [worker] = [q for q in pump.queues if q.name == "search_indexer"]
    outcome = pump.poll_queue(worker)
    assert (outcome.received, outcome.failed) == (2, 1)
    assert _kinds(api, team["bob"])[0] == ("assigned", "Printer on fire")
