"""A chat the visitor left goes on by e-mail: the unseen reply is mailed with the ticket's
reply address, and the visitor's answer by e-mail joins the same conversation, where the
widget shows it when the visitor comes back."""

from __future__ import annotations

import json

from fakes.mailgun import inbound_form
from tests.integration.chat_helpers import enable_chat, start, visitor
from tests.integration.conftest import drain_mail_queue

VISITOR = "dora@customer.test"


def test_the_visitors_mail_answer_to_an_unseen_reply_joins_the_chat(api, deliver_mail):
    owner = api.sign_up(workspace="Acme Support")
    key = enable_chat(api, owner)["public_key"]
    started = start(api, key, "Do you ship to Lyon?", email=VISITOR)
    cid, token = started["conversation"]["id"], started["visitor_token"]
    status, reply, _ = api.request(
        "POST",
        f"/v1/tickets/{cid}/messages",
        {"body": "We do, in two days.", "kind": "reply"},
        token=owner["token"],
    )
    assert status == 201, reply
    drain_mail_queue()
    event = api.client.events.generate_sqs_event(
        message_bodies=[
            json.dumps(
                {
                    "type": "chat.reply_unseen",
                    "workspace_id": owner["workspace"]["id"],
                    "ticket_id": cid,
                    "message_id": reply["id"],
                }
            )
        ],
        queue_name="events",
    )
    api.client.lambda_.invoke("search_indexer", event)
    [mailed] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"]).get("to") == [VISITOR]
    ]

    deliver_mail(
        inbound_form(
            recipient=mailed["reply_to"],
            sender=VISITOR,
            subject=f"Re: {mailed['subject']}",
            in_reply_to=mailed["headers"]["Message-Id"],
            references=mailed["headers"]["Message-Id"],
            body_plain="Great, then I will order today.",
        )
    )

    tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    assert [t["id"] for t in tickets] == [cid]  # no new ticket: the same conversation
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert [m["text"] for m in detail["messages"]][-1] == "Great, then I will order today."
    # Back on the site, the visitor sees the conversation went on by mail.
    polled = visitor(
        api, "GET", f"/v1/chat/{key}/conversations/{cid}/messages?after={reply['id']}", None, token
    )[1]
    assert [(m["author"], m["text"]) for m in polled["messages"]] == [
        ("visitor", "Great, then I will order today.")
    ]
