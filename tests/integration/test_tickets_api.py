"""The inbox API: opening, listing, changing tickets, replies and notes."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import accept_invitation, drain_mail_queue, invite


def _open(api, token, email="carla@customer.test", subject="Printer on fire", **extra):
    status, body, _ = api.request(
        "POST",
        "/v1/tickets",
        {
            "requester": {"email": email, "name": "Carla"},
            "subject": subject,
            "body": "It is on fire.\n\nPlease help.",
            **extra,
        },
        token=token,
    )
    assert status == 201, body
    return body


@pytest.fixture()
def team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    drain_mail_queue()
    return owner, agent


def test_opened_ticket_gets_a_number_a_requester_and_its_first_message(api, team):
    owner, _ = team
    ticket = _open(api, owner["token"], tags=["Billing", "vip"], priority="high")
    assert (ticket["number"], ticket["status"], ticket["priority"]) == (1, "new", "high")
    assert ticket["tags"] == ["billing", "vip"]
    assert ticket["requester"]["email"] == "carla@customer.test"
    status, detail, _ = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])
    assert status == 200
    [message] = detail["messages"]
    assert (message["kind"], message["text"]) == ("customer", "It is on fire.\n\nPlease help.")
    assert message["html"] == "<p>It is on fire.</p><p>Please help.</p>"
    assert [a["action"] for a in detail["activity"]] == ["created"]
    by_number = api.request("GET", "/v1/tickets/1", token=owner["token"])[1]
    assert by_number["id"] == ticket["id"]


def test_the_same_requester_is_one_contact(api, team):
    owner, _ = team
    first = _open(api, owner["token"], email="Carla@Customer.test")
    second = _open(api, owner["token"], email="carla@customer.test")
    assert first["requester"]["id"] == second["requester"]["id"]
    listed = api.request(
        "GET", f"/v1/tickets?requester={first['requester']['id']}", token=owner["token"]
    )[1]["tickets"]
    assert {t["id"] for t in listed} == {first["id"], second["id"]}


def test_twenty_tickets_opened_at_once_get_twenty_distinct_numbers(api, team):
    owner, _ = team
    with ThreadPoolExecutor(max_workers=10) as pool:
        opened = list(
            pool.map(
                lambda n: _open(
                    api, owner["token"], email=f"c{n}@customer.test", subject=f"Issue {n}"
                ),
                range(20),
            )
        )
    assert sorted(t["number"] for t in opened) == list(range(1, 21))


def test_changes_are_recorded_in_the_activity_log(api, team):
    owner, agent = team
    ticket = _open(api, owner["token"])
    status, changed, _ = api.request(
        "PATCH",
        f"/v1/tickets/{ticket['id']}",
        {
            "status": "pending",
            "priority": "urgent",
            "assignee_id": agent["user"]["id"],
            "tags": ["refund"],
        },
        token=owner["token"],
    )
    assert status == 200
    assert (changed["status"], changed["priority"], changed["assignee_id"], changed["tags"]) == (
        "pending",
        "urgent",
        agent["user"]["id"],
        ["refund"],
    )
    activity = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1][
        "activity"
    ]
    assert {(a["action"], a["before"], a["after"]) for a in activity} >= {
        ("status", "new", "pending"),
        ("priority", "normal", "urgent"),
        ("assignee", None, agent["user"]["id"]),
        ("tags", "", "refund"),
    }
    assert all(a["actor"] == f"user:{owner['user']['id']}" for a in activity[1:])
    status, unassigned, _ = api.request(
        "PATCH", f"/v1/tickets/{ticket['id']}", {"assignee_id": None}, token=owner["token"]
    )
    assert unassigned["assignee_id"] is None


def test_bad_changes_are_refused_and_change_nothing(api, team):
    owner, _ = team
    ticket = _open(api, owner["token"])
    for patch, field in [
        ({"status": "deleted"}, "status"),
        ({"priority": 3}, "priority"),
        ({"assignee_id": "01J00000000000000000000000"}, "assignee_id"),
        ({"tags": ["no spaces allowed!"]}, "tags"),
        ({"colour": "red"}, "colour"),
    ]:
        status, body, _ = api.request(
            "PATCH", f"/v1/tickets/{ticket['id']}", patch, token=owner["token"]
        )
        assert status == 422, (patch, body)
        assert body["error"]["details"][0]["field"].startswith(field)
    after = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert (after["status"], after["priority"], after["tags"]) == ("new", "normal", [])


def test_inbox_lists_newest_activity_first_with_filters_and_cursor(api, team):
    owner, agent = team
    tickets = [
        _open(api, owner["token"], email=f"c{n}@customer.test", subject=f"T{n}") for n in range(5)
    ]
    api.request(
        "PATCH",
        f"/v1/tickets/{tickets[1]['id']}",
        {"status": "open", "assignee_id": agent["user"]["id"], "tags": ["vip"]},
        token=owner["token"],
    )
    listed = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    assert [t["subject"] for t in listed] == ["T1", "T4", "T3", "T2", "T0"]

    def subjects(query, token=owner["token"]):
        return [
            t["subject"]
            for t in api.request("GET", f"/v1/tickets?{query}", token=token)[1]["tickets"]
        ]

    assert subjects("status=open") == ["T1"]
    assert subjects("status=new") == ["T4", "T3", "T2", "T0"]
    assert subjects("assignee=me", token=agent["token"]) == ["T1"]
    assert subjects("assignee=none") == ["T4", "T3", "T2", "T0"]
    assert subjects("tag=VIP") == ["T1"]
    assert subjects("tag=vip&status=new") == []
    assert subjects("status=open&assignee=none") == []
    seen, cursor = [], None
    while True:
        page = api.request(
            "GET",
            "/v1/tickets?limit=2" + (f"&cursor={cursor}" if cursor else ""),
            token=owner["token"],
        )[1]
        seen += [t["subject"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["T1", "T4", "T3", "T2", "T0"]


def test_bad_list_queries_are_named(api, team):
    owner, _ = team
    status, body, _ = api.request("GET", "/v1/tickets?status=lost", token=owner["token"])
    assert status == 422 and body["error"]["details"][0]["field"] == "status"
    status, body, _ = api.request("GET", "/v1/tickets?cursor=abc", token=owner["token"])
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_reply_goes_out_by_mail_threaded_and_a_note_does_not(api, team):
    owner, agent = team
    ticket = _open(api, owner["token"])
    status, reply, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "We are on it.", "cc": ["boss@customer.test"]},
        token=agent["token"],
    )
    assert status == 201 and reply["delivery"] == "queued"
    [queued] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert queued["to"] == ["carla@customer.test"]
    assert queued["cc"] == ["boss@customer.test"]
    assert queued["from_name"] == "Bob Agent via Acme Support"
    assert queued["from_address"].startswith("acme-support@")
    assert queued["reply_to"].startswith("acme-support+t-")
    assert queued["subject"] == "Re: Printer on fire"
    assert queued["headers"]["Message-Id"].endswith("@mg.helptal.test>")
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert detail["status"] == "open"  # a reply opens a new ticket
    assert detail["assignee_id"] == agent["user"]["id"]  # and takes it, when unassigned
    assert detail["first_response_at"] is not None
    status, note, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Customer is a VIP", "kind": "note"},
        token=owner["token"],
    )
    assert (status, note["kind"], note["delivery"]) == (201, "note", "not_sent")
    assert drain_mail_queue() == []


def test_replying_blind_after_a_new_customer_message_is_409(api, team):
    owner, _ = team
    ticket = _open(api, owner["token"])
    seen = ticket["last_customer_message_id"]
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert detail["messages"][-1]["id"] == seen
    status, _, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "ok", "last_seen_message_id": seen},
        token=owner["token"],
    )
    assert status == 201
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "again", "last_seen_message_id": "01A00000000000000000000000"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (409, "new_customer_message")


def test_another_workspace_cannot_see_or_touch_a_ticket(api, team):
    owner, _ = team
    ticket = _open(api, owner["token"])
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    for method, path, body in [
        ("GET", f"/v1/tickets/{ticket['id']}", None),
        ("GET", "/v1/tickets/1", None),
        ("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "solved"}),
        ("POST", f"/v1/tickets/{ticket['id']}/messages", {"body": "hi"}),
    ]:
        status, _, _ = api.request(method, path, body, token=other["token"])
        assert status == 404, (method, path)
    assert api.request("GET", "/v1/tickets", token=other["token"])[1]["tickets"] == []
    mine = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert mine["status"] == "new" and len(mine["messages"]) == 1


def test_a_ticket_reference_that_is_not_an_id_or_a_number_is_not_found(api, team):
    owner, _ = team
    ticket = _open(api, owner["token"])
    assert api.request("GET", f"/v1/tickets/{ticket['number']}", token=owner["token"])[0] == 200
    for reference in ["²", "%C2%B2", "١٢", "12345678901", "nope"]:
        status, body, _ = api.request("GET", f"/v1/tickets/{reference}", token=owner["token"])
        assert (status, body["error"]["code"]) == (404, "ticket_not_found"), reference
