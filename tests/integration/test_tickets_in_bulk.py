"""One change on several tickets at once (PATCH /v1/tickets): each ticket changed on its own,
tags added to and removed from what each has, failures reported without stopping the rest."""

from tests.integration.conftest import accept_invitation, drain_mail_queue, invite


def _open(api, token, subject, tags=()):
    status, body, _ = api.request(
        "POST",
        "/v1/tickets",
        {
            "requester": {"email": "carla@customer.test", "name": "Carla"},
            "subject": subject,
            "body": "Help.",
            "tags": list(tags),
        },
        token=token,
    )
    assert status == 201, body
    return body


def _bulk(api, token, ids, **changes):
    body = {"ticket_ids": ids, "changes": changes}
    return api.request("PATCH", "/v1/tickets", body, token=token)


def _team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    drain_mail_queue()
    return owner, agent


def test_several_tickets_are_solved_and_assigned_together(api, clean_aws):
    owner, agent = _team(api)
    tickets = [_open(api, owner["token"], f"Case {n}") for n in range(3)]
    status, body, _ = _bulk(
        api,
        owner["token"],
        [t["id"] for t in tickets],
        status="solved",
        assignee_id=agent["user"]["id"],
    )
    assert status == 200, body
    assert (body["changed"], body["failed"]) == (3, 0)
    assert [r["ticket_id"] for r in body["results"]] == [t["id"] for t in tickets]
    for ticket in tickets:
        read = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
        assert (read["status"], read["assignee_id"]) == ("solved", agent["user"]["id"])
    # Unassigning is `assignee_id: null`, by number as well as by id.
    status, body, _ = _bulk(api, owner["token"], [str(tickets[0]["number"])], assignee_id=None)
    assert body["results"][0]["ticket"]["assignee_id"] is None


def test_tags_are_added_to_and_removed_from_what_each_ticket_has(api, clean_aws):
    owner, _ = _team(api)
    a = _open(api, owner["token"], "A", tags=["vip"])
    b = _open(api, owner["token"], "B", tags=["billing", "refund"])
    # A teammate tags A meanwhile: the bulk change keeps it (no stale copy written back).
    api.request(
        "PATCH", f"/v1/tickets/{a['id']}", {"tags": ["vip", "urgent"]}, token=owner["token"]
    )
    status, body, _ = _bulk(
        api, owner["token"], [a["id"], b["id"]], add_tags=["Refund"], remove_tags=["billing"]
    )
    assert status == 200, body
    tags = {r["ticket_id"]: r["ticket"]["tags"] for r in body["results"]}
    assert tags == {a["id"]: ["vip", "urgent", "refund"], b["id"]: ["refund"]}


def test_a_ticket_that_cannot_be_changed_is_reported_and_the_others_are_changed(api, clean_aws):
    owner, _ = _team(api)
    kept = _open(api, owner["token"], "Kept")
    merged = _open(api, owner["token"], "Merged away")
    api.request(
        "POST", f"/v1/tickets/{merged['id']}/merge", {"into": kept["id"]}, token=owner["token"]
    )
    missing = "01JD3ZQ5V4W2Y8K7M6N5P4Q3R2"
    status, body, _ = _bulk(
        api, owner["token"], [merged["id"], missing, kept["id"], kept["id"]], status="pending"
    )
    assert status == 200, body
    assert (body["changed"], body["failed"]) == (1, 2)
    errors = [r["error"] and r["error"]["code"] for r in body["results"]]
    assert errors == ["ticket_merged", "ticket_not_found", None]
    assert body["results"][2]["ticket"]["status"] == "pending"


def test_bad_changes_refuse_the_whole_request_and_change_nothing(api, clean_aws):
    owner, _ = _team(api)
    ticket = _open(api, owner["token"], "Untouched")
    for changes in (
        {"status": "solved", "assignee_id": "01JD3ZQ5V4W2Y8K7M6N5P4Q3R2"},  # not a member
        {"status": "solved", "add_tags": ["no spaces!"]},
        {"status": "lost"},
    ):
        status, body, _ = _bulk(api, owner["token"], [ticket["id"]], **changes)
        assert status == 422, (changes, body)
    status, _, _ = api.request(
        "PATCH",
        "/v1/tickets",
        {"ticket_ids": [ticket["id"]] * 51, "changes": {}},
        token=owner["token"],
    )
    assert status == 422
    read = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert read["status"] == "new"


def test_another_workspaces_tickets_are_not_found(api, clean_aws):
    owner, _ = _team(api)
    mine = _open(api, owner["token"], "Mine")
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    answered, body, _ = _bulk(api, other["token"], [mine["id"]], status="closed")
    assert answered == 200 and body["results"][0]["error"]["code"] == "ticket_not_found"
    read = api.request("GET", f"/v1/tickets/{mine['id']}", token=owner["token"])[1]
    assert read["status"] == "new"
