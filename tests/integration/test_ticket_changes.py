"""The inbox's changes feed and counts: what changed since a cursor, 304 while nothing did,
one read per poll whatever the inbox's size, and nothing of another workspace."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta


def _open(api, token, subject="Printer on fire", email="carla@customer.test"):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email, "name": "Carla"}, "subject": subject, "body": "Help"},
        token=token,
    )
    assert status == 201, ticket
    return ticket


def _changes(api, token, since=None, etag=None):
    path = "/v1/tickets/changes" + (f"?since={since}" if since else "")
    headers = {"If-None-Match": etag} if etag else None
    return api.request("GET", path, token=token, headers=headers)


def test_a_new_ticket_and_a_reply_show_in_the_changes_since_the_cursor(api):
    owner = api.sign_up()
    token = owner["token"]
    status, start, _ = _changes(api, token)
    assert status == 200 and start["tickets"] == [] and start["more"] is False

    first = _open(api, token, "Printer on fire")
    status, body, headers = _changes(api, token, start["next_cursor"])
    assert status == 200
    assert [t["id"] for t in body["tickets"]] == [first["id"]]
    assert headers["ETag"]

    second = _open(api, token, "Refund please", "dan@shop.test")
    note_path = f"/v1/tickets/{first['id']}/messages"
    status, note, _ = api.request("POST", note_path, {"kind": "note", "body": "On it"}, token=token)
    assert status == 201, note
    status, later, _ = _changes(api, token, body["next_cursor"])
    assert status == 200
    # Newest activity first: the note moved the first ticket above the second.
    assert [t["id"] for t in later["tickets"]][:2] == [first["id"], second["id"]]
    assert later["tickets"][0]["message_count"] == 2


def test_a_poll_with_nothing_new_answers_304_and_keeps_its_cursor(api):
    owner = api.sign_up()
    token = owner["token"]
    start = _changes(api, token)[1]
    _open(api, token)
    status, body, headers = _changes(api, token, start["next_cursor"])
    assert status == 200

    status, again, again_headers = _changes(api, token, body["next_cursor"], headers["ETag"])
    assert (status, again) == (304, None)
    assert again_headers["ETag"] == headers["ETag"]

    newer = _open(api, token, "Another one", "dan@shop.test")
    status, fresh, _ = _changes(api, token, body["next_cursor"], headers["ETag"])
    assert status == 200
    assert fresh["tickets"][0]["id"] == newer["id"]


def test_an_unchanged_poll_costs_one_query_at_one_ticket_and_at_three_hundred(api, aws_calls):
    from chalicelib import bootstrap

    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]
    ticket = _open(api, token)

    def unchanged_poll_calls():
        _, body, headers = _changes(api, token, _changes(api, token)[1]["next_cursor"])
        aws_calls.clear()
        status, _, _ = _changes(api, token, body["next_cursor"], headers["ETag"])
        assert status == 304
        return list(aws_calls)

    few = unchanged_poll_calls()
    like = bootstrap.ticket_deps().store.get_ticket(workspace_id, ticket["id"])
    _seed_older_tickets(like, 300)
    many = unchanged_poll_calls()
    assert many == few
    assert many.count("Query") == 1 and "Scan" not in many
    assert len(many) <= 3  # authentication's reads, then the one Query


def _seed_older_tickets(like, count):
    from chalicelib.ids import new_id
    from chalicelib.store.models import TicketItem
    from chalicelib.store.tickets_repo import _ticket_item

    with TicketItem.batch_write() as batch:
        for n in range(count):
            batch.save(
                _ticket_item(
                    replace(
                        like,
                        id=new_id(),
                        number=10_000 + n,
                        last_activity_at=like.last_activity_at - timedelta(hours=1, seconds=n),
                    )
                )
            )


def test_counts_answer_304_while_they_are_the_same(api):
    owner = api.sign_up()
    token = owner["token"]
    status, counts, headers = api.request("GET", "/v1/inbox/counts", token=token)
    assert status == 200 and headers["ETag"]
    status, body, _ = api.request(
        "GET", "/v1/inbox/counts", token=token, headers={"If-None-Match": headers["ETag"]}
    )
    assert (status, body) == (304, None)
    _open(api, token)
    status, counts, fresh = api.request(
        "GET", "/v1/inbox/counts", token=token, headers={"If-None-Match": headers["ETag"]}
    )
    assert status == 200 and counts["by_status"]["new"] == 1
    assert fresh["ETag"] != headers["ETag"]


def test_another_workspaces_tickets_never_show_in_the_changes(api):
    acme = api.sign_up()
    other = api.sign_up(workspace="Globex", email="gil@globex.test", name="Gil")
    acme_start = _changes(api, acme["token"])[1]["next_cursor"]
    other_start = _changes(api, other["token"])[1]["next_cursor"]
    _open(api, other["token"], "Globex secret")
    mine = _open(api, acme["token"], "Acme ticket")

    for since in (acme_start, other_start):  # a cursor is a place, never a workspace
        status, body, _ = _changes(api, acme["token"], since)
        assert status == 200
        assert [t["id"] for t in body["tickets"]] == [mine["id"]]


def test_a_cursor_that_is_not_one_is_refused(api):
    owner = api.sign_up()
    for since in ("nonsense", "eyJwIjoiV1MjeCIsIngiOmZhbHNlfQ"):
        status, body, _ = _changes(api, owner["token"], since)
        assert status == 400
        assert body["error"]["code"] == "invalid_cursor"
