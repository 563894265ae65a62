"""Files in live chat: a visitor uploads (presigned POST to S3, moto) and sends them, the
team sees them on the chat ticket, the visitor downloads their conversation's files only;
and the conversation's smaller rules: the agent's "seen", the hand-off shown to the visitor,
a read of the agent's live view that moves nothing, and a conversation merged into another."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.chat_helpers import ORIGIN, enable_chat, start, visitor

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture()
def owner(api, clean_aws):
    return api.sign_up(workspace="Acme Support")


@pytest.fixture()
def key(api, owner):
    return enable_chat(api, owner)["public_key"]


@pytest.fixture()
def chat(api, key):
    started = start(api, key, "Here is my invoice")
    cid = started["conversation"]["id"]
    return {
        "token": started["visitor_token"],
        "id": cid,
        "base": f"/v1/chat/{key}/conversations/{cid}",
        "first": started["messages"][0]["id"],
    }


def visitor_upload(api, chat, filename, content_type, content, token=None):
    status, permit, _ = visitor(
        api,
        "POST",
        chat["base"] + "/attachments",
        {"filename": filename, "content_type": content_type, "size": len(content)},
        token or chat["token"],
    )
    assert status == 201, permit
    posted = requests.post(
        permit["upload_url"],
        data=permit["fields"],
        files={"file": (filename, content, content_type)},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return permit["id"]


def send(api, chat, text="", attachment_ids=(), token=None):
    return visitor(
        api,
        "POST",
        chat["base"] + "/messages",
        {"text": text, "attachment_ids": list(attachment_ids)},
        token or chat["token"],
    )


def ticket(api, owner, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=owner["token"])[1]


# -- files -------------------------------------------------------------------------------------


def test_a_visitor_sends_a_file_the_team_sees_it_and_the_visitor_downloads_it(api, owner, chat):
    png = visitor_upload(api, chat, "screenshot.png", "image/png", PNG)
    status, sent, _ = send(api, chat, "", [png])
    assert status == 201, sent
    [file] = sent["attachments"]
    assert file["filename"] == "screenshot.png" and file["content_type"] == "image/png"
    assert file["size"] == len(PNG)

    [shown] = [m for m in ticket(api, owner, chat["id"])["messages"] if m["id"] == sent["id"]]
    assert shown["kind"] == "customer"
    [agent_view] = shown["attachments"]
    assert agent_view["url"] == f"/v1/tickets/{chat['id']}/attachments/{png}"
    status, _, headers = api.request("GET", agent_view["url"], token=owner["token"])
    assert status == 302 and requests.get(headers["Location"], timeout=10).content == PNG

    # With the visitor token, and through the signed link an image can use (no token, no
    # Origin).
    status, _, headers = visitor(
        api, "GET", chat["base"] + f"/attachments/{png}", None, chat["token"]
    )
    assert status == 302 and requests.get(headers["Location"], timeout=10).content == PNG
    status, _, headers = visitor(api, "GET", file["url"], None, None, origin=None)
    assert status == 302 and "X-Amz-Expires=300" in headers["Location"]
    assert requests.get(headers["Location"], timeout=10).content == PNG


def test_the_team_s_reply_files_reach_the_widget_but_never_a_note_s(api, owner, chat):
    def agent_upload(name, content):
        status, permit, _ = api.request(
            "POST",
            f"/v1/tickets/{chat['id']}/attachments",
            {"filename": name, "content_type": "application/pdf", "size": len(content)},
            token=owner["token"],
        )
        assert status == 201, permit
        requests.post(
            permit["upload_url"],
            data=permit["fields"],
            files={"file": (name, content, "application/pdf")},
            timeout=10,
        )
        return permit["id"]

    reply_file, note_file = agent_upload("guide.pdf", PDF), agent_upload("internal.pdf", PDF)
    for kind, file_id in (("reply", reply_file), ("note", note_file)):
        status, posted, _ = api.request(
            "POST",
            f"/v1/tickets/{chat['id']}/messages",
            {"body": f"A {kind}", "kind": kind, "attachment_ids": [file_id]},
            token=owner["token"],
        )
        assert status == 201, posted

    polled = visitor(
        api, "GET", chat["base"] + f"/messages?after={chat['first']}", None, chat["token"]
    )[1]
    [reply] = polled["messages"]
    assert [a["filename"] for a in reply["attachments"]] == ["guide.pdf"]
    status, _, headers = visitor(api, "GET", reply["attachments"][0]["url"], origin=None)
    assert status == 302 and requests.get(headers["Location"], timeout=10).content == PDF
    status, body, _ = visitor(
        api, "GET", chat["base"] + f"/attachments/{note_file}", None, chat["token"]
    )
    assert status == 404 and body["error"]["code"] == "attachment_not_found"


def test_another_visitor_and_a_forged_or_expired_link_cannot_download(api, key, chat):
    png = visitor_upload(api, chat, "passport.png", "image/png", PNG)
    file = send(api, chat, "my passport", [png])[1]["attachments"][0]
    other = start(api, key, "Hi")
    other_chat = {"base": f"/v1/chat/{key}/conversations/{other['conversation']['id']}"}

    # The other visitor's token, on this conversation or theirs.
    assert (
        visitor(api, "GET", chat["base"] + f"/attachments/{png}", None, other["visitor_token"])[0]
        == 404
    )
    assert (
        visitor(
            api, "GET", other_chat["base"] + f"/attachments/{png}", None, other["visitor_token"]
        )[0]
        == 404
    )
    link = urlsplit(file["url"])
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    for changed in (
        {**query, "signature": "0" * 64},
        {**query, "expires": str(int(query["expires"]) + 3600)},
        {**query, "expires": "1000"},  # long past, even when signed
    ):
        url = link.path + "?" + "&".join(f"{k}={v}" for k, v in changed.items())
        status, body, _ = visitor(api, "GET", url, origin=None)
        assert status == 404 and body["error"]["code"] == "attachment_not_found", changed
    # No token and no link.
    status, body, _ = visitor(api, "GET", chat["base"] + f"/attachments/{png}")
    assert status == 401 and body["error"]["code"] == "invalid_visitor_token"


def test_a_program_called_pdf_and_unknown_types_are_refused_and_nothing_is_sent(api, owner, chat):
    for name, content_type in (("run.exe", "application/pdf"), ("page.html", "text/html")):
        status, body, _ = visitor(
            api,
            "POST",
            chat["base"] + "/attachments",
            {"filename": name, "content_type": content_type, "size": 10},
            chat["token"],
        )
        assert status == 422 and body["error"]["code"] == "attachment_type_refused", name
    status, body, _ = visitor(
        api,
        "POST",
        chat["base"] + "/attachments",
        {"filename": "big.pdf", "content_type": "application/pdf", "size": 16 * 1024 * 1024},
        chat["token"],
    )
    assert status == 413 and body["error"]["code"] == "attachment_too_large"
    disguised = visitor_upload(api, chat, "invoice.pdf", "application/pdf", WINDOWS_PROGRAM)
    status, body, _ = send(api, chat, "see file", [disguised])
    assert status == 422 and body["error"]["code"] == "attachment_type_refused"
    status, body, _ = send(api, chat, "", [])
    assert status == 422
    assert len(ticket(api, owner, chat["id"])["messages"]) == 1


def test_an_upload_for_another_conversation_is_refused(api, key, chat):
    other = start(api, key, "Hi")
    other_chat = {
        "token": other["visitor_token"],
        "base": f"/v1/chat/{key}/conversations/{other['conversation']['id']}",
    }
    theirs = visitor_upload(api, other_chat, "a.pdf", "application/pdf", PDF)
    status, body, _ = send(api, chat, "mine now", [theirs])
    assert status == 422 and body["error"]["code"] == "attachment_not_usable"


def test_a_visitor_starts_at_most_20_uploads_in_ten_minutes(api, chat):
    body = {"filename": "a.png", "content_type": "image/png", "size": 10}
    answers = [
        visitor(api, "POST", chat["base"] + "/attachments", body, chat["token"]) for _ in range(21)
    ]
    assert [a[0] for a in answers[:20]] == [201] * 20
    status, refused, headers = answers[20]
    assert status == 429 and refused["error"]["code"] == "rate_limited"
    assert headers["Retry-After"] == "600"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


# -- the agent's "seen", and reading the live view ---------------------------------------------


def test_an_agent_marks_the_visitor_s_message_seen_and_the_widget_sees_it(api, owner, chat):
    path = f"/v1/tickets/{chat['id']}/seen"
    assert api.request("POST", path, {"message_id": chat["first"]}, token=owner["token"])[0] == 204
    polled = visitor(api, "GET", chat["base"] + "/messages", None, chat["token"])[1]
    assert polled["agent_seen_message_id"] == chat["first"]

    reply = api.request(
        "POST",
        f"/v1/tickets/{chat['id']}/messages",
        {"body": "Hi", "kind": "reply"},
        token=owner["token"],
    )[1]
    status, body, _ = api.request("POST", path, {"message_id": reply["id"]}, token=owner["token"])
    assert status == 409 and body["error"]["code"] == "not_a_visitor_message"
    status, body, _ = api.request(
        "POST", path, {"message_id": "01JD3Y7R2W5V8H3J6K9M400000"}, token=owner["token"]
    )
    assert status == 404 and body["error"]["code"] == "message_not_found"


def test_seen_is_refused_for_a_mail_ticket_and_another_workspace_s_chat(api, owner, chat):
    _, mail_ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "c@customer.test"}, "subject": "Mail", "body": "Hi"},
        token=owner["token"],
    )
    [first] = ticket(api, owner, mail_ticket["id"])["messages"]
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{mail_ticket['id']}/seen",
        {"message_id": first["id"]},
        token=owner["token"],
    )
    assert status == 404 and body["error"]["code"] == "conversation_not_found"
    stranger = api.sign_up(workspace="Other Co", email="bo@other.test")
    status, _, _ = api.request(
        "POST",
        f"/v1/tickets/{chat['id']}/seen",
        {"message_id": chat["first"]},
        token=stranger["token"],
    )
    assert status == 404
    polled = visitor(api, "GET", chat["base"] + "/messages", None, chat["token"])[1]
    assert polled["agent_seen_message_id"] is None


def test_reading_the_agent_s_live_view_at_once_moves_nothing(api, owner, chat):
    live = f"/v1/tickets/{chat['id']}/live?wait=0"
    first = api.request("GET", live, token=owner["token"])[1]
    second = api.request("GET", live, token=owner["token"])[1]
    assert first["version"] == second["version"]
    assert [m["id"] for m in first["messages"]] == [chat["first"]]


# -- the hand-off, as the visitor sees it ------------------------------------------------------


def test_asking_for_a_person_shows_the_visitor_the_conversation_is_handed_off(api, chat):
    polled = visitor(api, "GET", chat["base"] + "/messages", None, chat["token"])[1]
    assert polled["handed_off"] is False
    status, conversation, _ = visitor(api, "POST", chat["base"] + "/handoff", {}, chat["token"])
    assert status == 200 and conversation["handed_off"] is True
    polled = visitor(api, "GET", chat["base"] + "/messages", None, chat["token"])[1]
    assert polled["handed_off"] is True and polled["status"] == "open"
    again = visitor(api, "GET", chat["base"], None, chat["token"])[1]
    assert again["handed_off"] is True


# -- a conversation merged into another ticket -------------------------------------------------


def test_a_visitor_writing_after_a_merge_reaches_the_ticket_it_went_into_and_keeps_chatting(
    api, owner, key, chat
):
    _, target, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "c@customer.test"}, "subject": "Same issue", "body": "Hi"},
        token=owner["token"],
    )
    status, merged, _ = api.request(
        "POST", f"/v1/tickets/{chat['id']}/merge", {"into": target["id"]}, token=owner["token"]
    )
    assert status == 200, merged

    status, sent, _ = send(api, chat, "Still there?")
    assert status == 201, sent
    on_target = [m["text"] for m in ticket(api, owner, target["id"])["messages"]]
    assert "Still there?" in on_target
    assert "Still there?" not in [m["text"] for m in ticket(api, owner, chat["id"])["messages"]]

    # The team answers on the target; the widget, still on its conversation, gets it.
    api.request(
        "POST",
        f"/v1/tickets/{target['id']}/messages",
        {"body": "Yes, here", "kind": "reply"},
        token=owner["token"],
    )
    polled = visitor(
        api, "GET", chat["base"] + f"/messages?after={sent['id']}", None, chat["token"]
    )
    assert polled[0] == 200, polled
    assert [m["text"] for m in polled[1]["messages"]] == ["Yes, here"]
    conversation = visitor(api, "GET", chat["base"], None, chat["token"])[1]
    assert conversation["id"] == chat["id"] and conversation["status"] == "open"
