"""Live chat in real time: an agent's reply reaches a waiting widget at once, waiting costs
the same calls however long the conversation, the agent's live view, and replies the
visitor did not see are mailed (never to an anonymous visitor's `.invalid` address)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.integration.chat_helpers import enable_chat, start, visitor
from tests.integration.conftest import drain_mail_queue


@pytest.fixture()
def owner(api, clean_aws):
    return api.sign_up(workspace="Acme Support")


@pytest.fixture()
def key(api, owner):
    return enable_chat(api, owner)["public_key"]


def _reply(api, owner, ticket_id, text="Yes, how can I help?"):
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket_id}/messages",
        {"body": text, "kind": "reply"},
        token=owner["token"],
    )
    assert status == 201, body
    return body


def _mail_to(address):
    return [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"]).get("to") == [address]
    ]


def _deliver_event(api, body):
    """Hands the events queue's consumer one event, as SQS would after its delay."""
    event = api.client.events.generate_sqs_event(
        message_bodies=[json.dumps(body)], queue_name="events"
    )
    api.client.lambda_.invoke("search_indexer", event)


def test_a_waiting_widget_gets_the_agent_s_reply_within_a_second(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    path = f"/v1/chat/{key}/conversations/{cid}/messages"
    first = visitor(api, "GET", path + f"?after={started['cursor']}", None, token)[1]
    assert first["messages"] == [] and first["agent_typing"] is False
    replied_at: list[float] = []

    def agent_replies() -> None:
        time.sleep(1.0)
        replied_at.append(time.monotonic())
        _reply(api, owner, cid)

    agent = threading.Thread(target=agent_replies)
    agent.start()
    began = time.monotonic()
    status, news, _ = visitor(
        api,
        "GET",
        path + f"?after={first['cursor']}&version={first['version']}&wait=10",
        None,
        token,
    )
    answered = time.monotonic()
    agent.join()
    assert status == 200
    assert [(m["author"], m["text"]) for m in news["messages"]] == [
        ("agent", "Yes, how can I help?")
    ]
    assert news["messages"][0]["author_name"] == "Ann Owner"
    assert news["version"] > first["version"] and news["status"] == "open"
    conversation = visitor(api, "GET", f"/v1/chat/{key}/conversations/{cid}", None, token)[1]
    assert conversation["agent"] == {"name": "Ann Owner", "avatar_url": None}  # the replier
    assert answered - replied_at[0] < 1.0 and answered - began < 5
    # The reply was shown, not mailed: delivered to the widget, nothing queued.
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert detail["messages"][-1]["delivery"] == "sent"
    assert [m for m in drain_mail_queue() if "reply" in m["Body"]] == []


def test_a_poll_costs_the_same_calls_at_three_messages_and_at_three_hundred(
    api, owner, key, clock, aws_calls
):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    path = f"/v1/chat/{key}/conversations/{cid}/messages"

    def send(count):
        for n in range(count):
            if n and n % 25 == 0:
                clock.advance(seconds=61)  # past the visitor's 30 messages a minute
            status, _, _ = visitor(api, "POST", path, {"text": f"message {n}"}, token)
            assert status == 201

    def calls_per_poll():
        latest = visitor(api, "GET", path + "?wait=0", None, token)[1]
        cursor = latest["cursor"]
        while True:  # read to the end, a page at a time
            page = visitor(api, "GET", path + f"?after={cursor}", None, token)[1]
            if not page["messages"]:
                break
            cursor = page["cursor"]
        aws_calls.clear()
        answer = visitor(
            api, "GET", path + f"?after={cursor}&version={latest['version']}&wait=1", None, token
        )[1]
        assert answer["messages"] == []
        return sorted(aws_calls)

    send(2)
    few = calls_per_poll()
    send(297)
    many = calls_per_poll()
    assert few == many
    assert many.count("Query") == 1 and "Scan" not in many
    assert many.count("BatchGetItem") <= 1 + 1 / 0.25


def test_the_agent_s_live_view_shows_the_visitor_typing_and_every_message(api, owner, key):
    started = start(api, key, "Where is my order?")
    token, cid = started["visitor_token"], started["conversation"]["id"]
    base = f"/v1/chat/{key}/conversations/{cid}"
    assert visitor(api, "POST", base + "/typing", {"typing": True}, token)[0] == 204
    status, view, _ = api.request("GET", f"/v1/tickets/{cid}/live", token=owner["token"])
    assert status == 200
    assert [m["text"] for m in view["messages"]] == ["Where is my order?"]
    assert view["visitor_typing"] is True and view["visitor_online"] is False
    api.request(
        "POST",
        f"/v1/tickets/{cid}/messages",
        {"body": "Checking their order", "kind": "note"},
        token=owner["token"],
    )
    assert (
        api.request("POST", f"/v1/tickets/{cid}/typing", {"typing": True}, token=owner["token"])[0]
        == 204
    )
    seen = {"message_id": started["messages"][0]["id"]}
    assert api.request("POST", f"/v1/tickets/{cid}/seen", seen, token=owner["token"])[0] == 204
    polled = visitor(api, "GET", base + "/messages", None, token)[1]
    assert polled["agent_typing"] is True
    assert polled["agent_seen_message_id"] == started["messages"][0]["id"]
    assert [m["text"] for m in polled["messages"]] == ["Where is my order?"]  # never the note
    later = api.request(
        "GET",
        f"/v1/tickets/{cid}/live?after={view['cursor']}&version={view['version']}&wait=2",
        token=owner["token"],
    )[1]
    assert [m["kind"] for m in later["messages"]] == ["note"]
    assert later["visitor_online"] is True
    other = api.sign_up(workspace="Bolt Support", email="bo@bolt.test")
    status, _, _ = api.request("GET", f"/v1/tickets/{cid}/live", token=other["token"])
    assert status == 404


def test_a_reply_the_visitor_did_not_see_is_mailed_with_the_ticket_s_reply_address(api, owner, key):
    started = start(api, key, "Can you call me back?", email="dan@customer.test")
    cid = started["conversation"]["id"]
    reply = _reply(api, owner, cid, "We will, tomorrow morning.")
    drain_mail_queue()
    _deliver_event(
        api,
        {
            "type": "chat.reply_unseen",
            "workspace_id": owner["workspace"]["id"],
            "ticket_id": cid,
            "message_id": reply["id"],
        },
    )
    [mail] = _mail_to("dan@customer.test")
    assert mail["purpose"] == "ticket_reply" and mail["text"] == "We will, tomorrow morning."
    assert mail["reply_to"].startswith("acme-support+t-")
    assert mail["ticket_message_id"] == reply["id"]
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert detail["messages"][-1]["delivery"] == "queued"  # now it follows the mail
    # Delivered again (SQS is at least once): mailed once.
    _deliver_event(
        api,
        {
            "type": "chat.reply_unseen",
            "workspace_id": owner["workspace"]["id"],
            "ticket_id": cid,
            "message_id": reply["id"],
        },
    )
    assert _mail_to("dan@customer.test") == []


def test_a_reply_the_visitor_saw_or_one_to_an_anonymous_visitor_is_never_mailed(api, owner, key):
    seen_by_visitor = start(api, key, "Hi", email="eve@customer.test")
    anonymous = start(api, key, "Hi again")
    for started in (seen_by_visitor, anonymous):
        cid = started["conversation"]["id"]
        reply = _reply(api, owner, cid)
        if started is seen_by_visitor:
            status, _, _ = visitor(
                api,
                "POST",
                f"/v1/chat/{key}/conversations/{cid}/seen",
                {"message_id": reply["id"]},
                started["visitor_token"],
            )
            assert status == 204
        _deliver_event(
            api,
            {
                "type": "chat.reply_unseen",
                "workspace_id": owner["workspace"]["id"],
                "ticket_id": cid,
                "message_id": reply["id"],
            },
        )
    queued = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert [m for m in queued if m.get("purpose") == "ticket_reply"] == []
    assert not any(a.endswith(".invalid") for m in queued for a in m.get("to", []))


def test_a_visitor_sends_at_most_thirty_messages_a_minute(api, owner, key, clock):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    path = f"/v1/chat/{key}/conversations/{cid}/messages"
    clock.advance(seconds=60 - clock.now().second % 60)  # the start of a minute
    for n in range(30):
        assert visitor(api, "POST", path, {"text": f"m{n}"}, token)[0] == 201
    status, body, headers = visitor(api, "POST", path, {"text": "one too many"}, token)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert headers["Retry-After"] == "60"
    clock.advance(seconds=60)
    assert visitor(api, "POST", path, {"text": "a minute later"}, token)[0] == 201


def test_an_unconfirmed_owner_answers_a_chat_in_the_widget_but_mails_no_one(api, clean_aws):
    owner = api.sign_up(workspace="Fresh Co", email="fay@fresh.test", confirm=False)
    key = enable_chat(api, owner)["public_key"]
    started = start(api, key, "Are you open on Sundays?", email="gil@customer.test")
    cid = started["conversation"]["id"]
    reply = _reply(api, owner, cid, "Yes, from ten to four.")
    polled = visitor(
        api,
        "GET",
        f"/v1/chat/{key}/conversations/{cid}/messages?after={started['cursor']}",
        None,
        started["visitor_token"],
    )[1]
    assert [m["text"] for m in polled["messages"]] == ["Yes, from ten to four."]
    drain_mail_queue()
    _deliver_event(
        api,
        {
            "type": "chat.reply_unseen",
            "workspace_id": owner["workspace"]["id"],
            "ticket_id": cid,
            "message_id": reply["id"],
        },
    )
    assert _mail_to("gil@customer.test") == []
    # An e-mail ticket still waits for the confirmation.
    status, body, _ = api.request(
        "POST",
        "/v1/tickets",
        {"subject": "Hi", "requester": {"email": "hal@customer.test"}, "body": "Hello"},
        token=owner["token"],
    )
    assert status == 201, body
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{body['id']}/messages",
        {"body": "Hello back", "kind": "reply"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (409, "email_not_confirmed")
