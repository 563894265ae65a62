"""Big content never fails a request: limits are in UTF-8 bytes (what DynamoDB counts, 400 KB
an item), over-limit input is a 4xx that says why, and mail too long to keep is shortened."""

import json

import pytest

from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"
JAPANESE = "あ"  # 3 bytes in UTF-8
EMOJI = "😀"  # 4 bytes in UTF-8
BODY_MAX_BYTES = 100_000


def _utf8(payload):
    """JSON as clients send it: UTF-8, not \\u escapes (an emoji would count 12 bytes)."""
    return json.dumps(payload, ensure_ascii=False)


@pytest.fixture()
def workspace(api):
    owner = api.sign_up()
    drain_mail_queue()
    return owner


def _create_ticket(api, token, body):
    return api.request(
        "POST",
        "/v1/tickets",
        _utf8({"requester": {"email": CUSTOMER}, "subject": "Long", "body": body}),
        token=token,
    )


def _messages(api, token, ticket_id):
    status, detail, _ = api.request("GET", f"/v1/tickets/{ticket_id}", token=token)
    assert status == 200, detail
    return detail["messages"]


@pytest.fixture()
def ticket(api, workspace):
    status, created, _ = _create_ticket(api, workspace["token"], "Help")
    assert status == 201, created
    return created


# -- tickets, replies and notes ---------------------------------------------------------------


@pytest.mark.parametrize("char", [JAPANESE, EMOJI])
def test_a_ticket_body_at_the_byte_limit_is_kept_whole(api, workspace, char):
    body = char * (BODY_MAX_BYTES // len(char.encode()))
    status, created, _ = _create_ticket(api, workspace["token"], body)
    assert status == 201, created
    [message] = _messages(api, workspace["token"], created["id"])
    assert message["text"] == body


@pytest.mark.parametrize(
    "body",
    [
        JAPANESE * 80_000,  # 240 KB: text and HTML together once overflowed the item (500)
        EMOJI * (BODY_MAX_BYTES // 4 + 1),
    ],
)
def test_a_ticket_body_over_the_byte_limit_is_refused_with_422(api, workspace, body):
    status, answer, _ = _create_ticket(api, workspace["token"], body)
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    assert "bytes" in str(answer["error"])
    assert api.request("GET", "/v1/tickets", token=workspace["token"])[1]["tickets"] == []


@pytest.mark.parametrize("kind", ["reply", "note"])
@pytest.mark.parametrize("char", [JAPANESE, EMOJI])
def test_a_reply_or_note_at_the_byte_limit_is_kept_whole(api, workspace, ticket, kind, char):
    body = char * (BODY_MAX_BYTES // len(char.encode()))
    status, posted, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        _utf8({"body": body, "kind": kind}),
        token=workspace["token"],
    )
    assert status == 201, posted
    assert _messages(api, workspace["token"], ticket["id"])[-1]["text"] == body


@pytest.mark.parametrize("kind", ["reply", "note"])
@pytest.mark.parametrize("body", [JAPANESE * 80_000, EMOJI * (BODY_MAX_BYTES // 4 + 1)])
def test_a_reply_or_note_over_the_byte_limit_is_refused_with_422(
    api, workspace, ticket, kind, body
):
    status, answer, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        _utf8({"body": body, "kind": kind}),
        token=workspace["token"],
    )
    assert status == 422, answer
    assert "bytes" in str(answer["error"])
    assert len(_messages(api, workspace["token"], ticket["id"])) == 1


def test_a_reply_whose_html_form_would_not_fit_is_refused_with_413(api, workspace, ticket):
    # Every "&" is "&amp;" in the HTML kept beside the text: 100 KB of them is 600 KB.
    status, answer, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "&" * BODY_MAX_BYTES, "kind": "reply"},
        token=workspace["token"],
    )
    assert status == 413, answer
    assert answer["error"]["code"] == "message_too_large"
    assert len(_messages(api, workspace["token"], ticket["id"])) == 1


# -- mail in ----------------------------------------------------------------------------------


def _only_message(api, workspace):
    [ticket] = api.request("GET", "/v1/tickets", token=workspace["token"])[1]["tickets"]
    [message] = _messages(api, workspace["token"], ticket["id"])
    return message


@pytest.mark.parametrize("char", [JAPANESE, EMOJI])
def test_inbound_text_too_long_to_keep_is_shortened_and_says_so(api, workspace, deliver_mail, char):
    text = char * 150_000  # 450-600 KB
    deliver_mail(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            subject="A very long log",
            body_plain=text,
        )
    )
    message = _only_message(api, workspace)
    assert 50_000 < len(message["text"].encode()) < 200_000
    assert text.startswith(message["text"])
    assert "shortened" in message["delivery_detail"]


def test_inbound_text_that_fits_is_kept_whole_without_a_note(api, workspace, deliver_mail):
    text = JAPANESE * 30_000  # 90 KB
    deliver_mail(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            body_plain=text,
        )
    )
    message = _only_message(api, workspace)
    assert message["text"] == text
    assert message["delivery_detail"] is None


@pytest.mark.parametrize("char", [JAPANESE, EMOJI])
def test_inbound_html_too_long_to_keep_is_shortened_and_says_so(api, workspace, deliver_mail, char):
    paragraph = "<p>" + char * 1_000 + "</p>"
    html = "<html><body>" + paragraph * 300 + "</body></html>"  # 0.9-1.2 MB
    deliver_mail(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            subject="A newsletter-sized mail",
            body_plain="See the HTML part.",
            body_html=html,
        )
    )
    message = _only_message(api, workspace)
    kept = message["html"]
    assert 50_000 < len(kept.encode()) < 250_000
    assert kept.rstrip().endswith(">") or char in kept[-1:]
    assert "<p" not in kept[kept.rfind(">") :]  # no tag left cut in two
    assert "shortened" in message["delivery_detail"]


def test_inbound_html_of_millions_of_characters_is_ticketed(api, workspace, deliver_mail):
    html = "<div>" + "x" * 2_000_000 + "</div>"
    deliver_mail(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            body_plain="x" * 2_000_000,
            body_html=html,
        )
    )
    message = _only_message(api, workspace)
    assert "shortened" in message["delivery_detail"]
    assert len(message["text"]) + len(message["html"]) < 400_000


def test_inbound_mail_with_a_huge_subject_and_text_is_ticketed(api, workspace, deliver_mail):
    deliver_mail(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            subject=EMOJI * 60_000,  # 240 KB
            body_plain=EMOJI * 100_000,
        )
    )
    message = _only_message(api, workspace)
    assert "shortened" in message["delivery_detail"]
    assert message["subject"].startswith(EMOJI)


# -- articles ---------------------------------------------------------------------------------


def _article(api, token, body):
    return api.request(
        "POST", "/v1/kb/articles", _utf8({"title": "Long", "body": body}), token=token
    )


def test_an_article_at_the_limit_in_emoji_is_kept_whole(api, workspace):
    body = EMOJI * 30_000  # 120 KB, and as much again in HTML
    status, article, _ = _article(api, workspace["token"], body)
    assert status == 201, article
    status, read, _ = api.request(
        "GET", f"/v1/kb/articles/{article['id']}", token=workspace["token"]
    )
    assert status == 200, read
    assert read["body"] == body


def test_an_article_over_the_limit_is_refused_with_422(api, workspace):
    status, answer, _ = _article(api, workspace["token"], JAPANESE * 30_001)
    assert status == 422, answer


# -- canned responses -------------------------------------------------------------------------


def test_a_canned_response_at_the_limit_in_emoji_is_kept_whole(api, workspace):
    body = EMOJI * 20_000
    status, created, _ = api.request(
        "POST",
        "/v1/canned-responses",
        _utf8({"name": "Long", "body": body}),
        token=workspace["token"],
    )
    assert status == 201, created
    status, read, _ = api.request(
        "GET", f"/v1/canned-responses/{created['id']}", token=workspace["token"]
    )
    assert read["body"] == body


def test_a_canned_reply_whose_placeholders_would_not_fit_is_refused_with_413(api, workspace):
    token = workspace["token"]
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        _utf8({"requester": {"email": CUSTOMER}, "subject": EMOJI * 250, "body": "Help"}),
        token=token,
    )
    assert status == 201, ticket
    # 1,000 subjects of 1 KB each: a megabyte once the placeholders are filled in.
    body = "{{ticket.subject}}\n" * 1_000
    status, canned, _ = api.request(
        "POST", "/v1/canned-responses", {"name": "Echo", "body": body}, token=token
    )
    assert status == 201, canned
    status, answer, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply",
        {"send": True},
        token=token,
    )
    assert status == 413, answer
    assert answer["error"]["code"] == "message_too_large"
    assert len(_messages(api, token, ticket["id"])) == 1
