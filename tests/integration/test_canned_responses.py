"""Canned responses: saved replies with placeholders, applied to tickets and sent."""

import json

import pytest

from tests.integration.conftest import accept_invitation, drain_mail_queue, invite

GREETING = "Hi {{requester.first_name}},\n\nTicket #{{ticket.number}} is solved.\n\n{{agent.name}}"


@pytest.fixture()
def team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    drain_mail_queue()
    return owner, agent


def _create(api, token, name="Solved", body=GREETING, expect=201, **extra):
    status, created, _ = api.request(
        "POST", "/v1/canned-responses", {"name": name, "body": body, **extra}, token=token
    )
    assert status == expect, created
    return created


def _open(api, token, email="carla@customer.test", name="Carla Gomez", subject="Printer"):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email, "name": name}, "subject": subject, "body": "Help"},
        token=token,
    )
    assert status == 201, ticket
    return ticket


def _names(api, token, query=""):
    status, page, _ = api.request("GET", f"/v1/canned-responses{query}", token=token)
    assert status == 200, page
    return [c["name"] for c in page["canned_responses"]]


def test_agent_saves_a_canned_response_and_the_team_reads_it(api, team):
    owner, agent = team
    created = _create(
        api, agent["token"], set_status="solved", add_tags=["Resolved", "faq"], locale="en"
    )
    assert (created["name"], created["body"], created["locale"]) == ("Solved", GREETING, "en")
    assert (created["set_status"], created["add_tags"]) == ("solved", ["resolved", "faq"])
    assert created["placeholders"] == ["requester.first_name", "ticket.number", "agent.name"]
    assert created["created_by"] == f"user:{agent['user']['id']}"
    status, fetched, _ = api.request(
        "GET", f"/v1/canned-responses/{created['id']}", token=owner["token"]
    )
    assert (status, fetched) == (200, created)


def test_locale_defaults_to_the_workspace_language(api):
    owner = api.sign_up(workspace="Bonjour SARL", email="odile@bonjour.test", locale="fr")
    assert _create(api, owner["token"], body="Bonjour")["locale"] == "fr"


def test_list_is_by_name_and_q_keeps_names_starting_with_it(api, team):
    owner, _ = team
    for name in ("Refund issued", "Password reset", "refund denied", "Shipping delay"):
        _create(api, owner["token"], name=name, body="Hello")
    assert _names(api, owner["token"]) == [
        "Password reset",
        "refund denied",
        "Refund issued",
        "Shipping delay",
    ]
    assert _names(api, owner["token"], "?q=REF") == ["refund denied", "Refund issued"]
    assert _names(api, owner["token"], "?q=refund%20i") == ["Refund issued"]
    assert _names(api, owner["token"], "?q=nothing") == []
    seen, cursor = [], None
    while True:
        page = api.request(
            "GET",
            "/v1/canned-responses?limit=3" + (f"&cursor={cursor}" if cursor else ""),
            token=owner["token"],
        )[1]
        seen += [c["name"] for c in page["canned_responses"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == _names(api, owner["token"])


def test_names_are_unique_in_the_workspace_whatever_their_case(api, team):
    owner, agent = team
    _create(api, owner["token"], name="Refund issued", body="Done")
    status, body, _ = api.request(
        "POST",
        "/v1/canned-responses",
        {"name": "  REFUND   issued ", "body": "Other"},
        token=agent["token"],
    )
    assert (status, body["error"]["code"]) == (409, "canned_response_name_taken")
    other = _create(api, owner["token"], name="Refund denied", body="No")
    status, body, _ = api.request(
        "PATCH",
        f"/v1/canned-responses/{other['id']}",
        {"name": "refund ISSUED"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (409, "canned_response_name_taken")
    assert _names(api, owner["token"]) == ["Refund denied", "Refund issued"]


def test_update_renames_frees_the_old_name_and_clears_the_status(api, team):
    owner, _ = team
    created = _create(api, owner["token"], name="Old name", set_status="pending")
    status, updated, _ = api.request(
        "PATCH",
        f"/v1/canned-responses/{created['id']}",
        {"name": "New name", "body": "Hello {{requester.name}}", "set_status": None},
        token=owner["token"],
    )
    assert status == 200, updated
    assert (updated["name"], updated["body"], updated["set_status"]) == (
        "New name",
        "Hello {{requester.name}}",
        None,
    )
    assert updated["add_tags"] == created["add_tags"]
    assert updated["updated_at"] >= created["updated_at"]
    assert _names(api, owner["token"]) == ["New name"]
    _create(api, owner["token"], name="old NAME", body="The old name is free again")


def test_delete_removes_it_and_frees_its_name(api, team):
    owner, agent = team
    created = _create(api, owner["token"])
    path = f"/v1/canned-responses/{created['id']}"
    assert api.request("DELETE", path, token=agent["token"])[0] == 204
    assert api.request("GET", path, token=owner["token"])[0] == 404
    assert api.request("DELETE", path, token=owner["token"])[0] == 404
    assert api.request("PATCH", path, {"name": "x"}, token=owner["token"])[0] == 404
    assert _names(api, owner["token"]) == []
    _create(api, owner["token"], name="solved")


def test_unknown_placeholders_are_refused_by_name_and_nothing_is_saved(api, team):
    owner, _ = team
    status, body, _ = api.request(
        "POST",
        "/v1/canned-responses",
        {"name": "Typo", "body": "Hi {{requester.firstname}} from {{ company }}"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (422, "unknown_placeholder")
    assert body["error"]["details"] == [
        {"field": "body", "message": "unknown placeholders: {{requester.firstname}}, {{company}}"}
    ]
    assert _names(api, owner["token"]) == []
    created = _create(api, owner["token"], body="Hi")
    status, body, _ = api.request(
        "PATCH",
        f"/v1/canned-responses/{created['id']}",
        {"body": "Hi {{ticket.owner}}"},
        token=owner["token"],
    )
    assert status == 422 and "{{ticket.owner}}" in body["error"]["message"]
    assert (
        api.request("GET", f"/v1/canned-responses/{created['id']}", token=owner["token"])[1]["body"]
        == "Hi"
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A", "body": "b", "colour": "red"}, "colour"),
        ({"name": "A", "body": 5}, "body"),
        ({"name": "A", "body": "   "}, "body"),
        ({"name": "", "body": "b"}, "name"),
        ({"name": "A", "body": "b", "locale": "de"}, "locale"),
        ({"name": "A", "body": "b", "set_status": "deleted"}, "set_status"),
        ({"name": "A", "body": "b", "add_tags": ["no spaces allowed!"]}, "add_tags"),
        ({"name": "A", "body": "b", "add_tags": "vip"}, "add_tags"),
        ({"body": "b"}, "name"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(api, team, payload, field):
    owner, _ = team
    status, body, _ = api.request("POST", "/v1/canned-responses", payload, token=owner["token"])
    assert status == 422, body
    assert body["error"]["details"][0]["field"].startswith(field)
    assert _names(api, owner["token"]) == []


def test_apply_renders_for_the_ticket_and_agent_without_changing_it(api, team):
    owner, agent = team
    canned = _create(api, owner["token"], set_status="solved", add_tags=["faq"])
    ticket = _open(api, owner["token"])
    status, applied, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply",
        {},
        token=agent["token"],
    )
    assert status == 200, applied
    assert applied["body"] == "Hi Carla,\n\nTicket #1 is solved.\n\nBob Agent"
    assert (applied["set_status"], applied["add_tags"], applied["sent"]) == (
        "solved",
        ["faq"],
        False,
    )
    assert applied["ticket"] is None and applied["message"] is None
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert (detail["status"], detail["tags"], len(detail["messages"])) == ("new", [], 1)
    assert drain_mail_queue() == []


def test_apply_falls_back_when_the_requester_gave_no_name_in_english_and_french(api, team):
    owner, _ = team
    english = _create(api, owner["token"], name="Hello", body="Hi {{requester.first_name}},")
    french = _create(
        api,
        owner["token"],
        name="Bonjour",
        body="Bonjour {{requester.first_name}}, {{workspace.name}} vous répond.",
        locale="fr",
    )
    ticket = _open(api, owner["token"], email="xy77@customer.test", name="")
    named = _open(api, owner["token"], email="eloise@customer.test", name="Éloïse Martin")

    def render(ticket_id, canned_id):
        status, applied, _ = api.request(
            "POST",
            f"/v1/tickets/{ticket_id}/canned-responses/{canned_id}/apply",
            {"send": False},
            token=owner["token"],
        )
        assert status == 200, applied
        return applied["body"]

    assert render(ticket["id"], english["id"]) == "Hi there,"
    assert render(ticket["id"], french["id"]) == "Bonjour, Acme Support vous répond."
    assert render(named["id"], french["id"]) == "Bonjour Éloïse, Acme Support vous répond."
    assert render(named["number"], english["id"]) == "Hi Éloïse,"


def test_apply_and_send_mails_the_reply_and_sets_status_and_tags(api, team):
    owner, agent = team
    canned = _create(api, owner["token"], set_status="solved", add_tags=["faq", "vip"])
    ticket = _open(api, owner["token"])
    api.request("PATCH", f"/v1/tickets/{ticket['id']}", {"tags": ["vip"]}, token=owner["token"])
    status, applied, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply",
        {"send": True},
        token=agent["token"],
    )
    assert status == 200, applied
    assert applied["sent"] is True
    assert applied["message"]["text"] == "Hi Carla,\n\nTicket #1 is solved.\n\nBob Agent"
    assert (applied["message"]["kind"], applied["message"]["delivery"]) == ("reply", "queued")
    assert (applied["ticket"]["status"], applied["ticket"]["tags"]) == ("solved", ["vip", "faq"])
    [queued] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert queued["to"] == ["carla@customer.test"]
    assert queued["subject"] == "Re: Printer"
    assert queued["text"] == applied["message"]["text"]
    assert queued["from_name"] == "Bob Agent via Acme Support"
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert (detail["status"], detail["tags"]) == ("solved", ["vip", "faq"])
    assert detail["assignee_id"] == agent["user"]["id"]
    assert [m["kind"] for m in detail["messages"]] == ["customer", "reply"]


def test_sending_a_response_that_would_overflow_the_tags_sends_nothing(api, team):
    owner, _ = team
    canned = _create(api, owner["token"], add_tags=["extra"])
    ticket = _open(api, owner["token"])
    full = [f"t{n}" for n in range(20)]
    api.request("PATCH", f"/v1/tickets/{ticket['id']}", {"tags": full}, token=owner["token"])
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply",
        {"send": True},
        token=owner["token"],
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "add_tags"
    assert drain_mail_queue() == []
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=owner["token"])[1]
    assert len(detail["messages"]) == 1 and detail["tags"] == full


def test_apply_refuses_unknown_fields_and_missing_ids(api, team):
    owner, _ = team
    canned = _create(api, owner["token"])
    ticket = _open(api, owner["token"])
    path = f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply"
    status, body, _ = api.request("POST", path, {"send": "yes"}, token=owner["token"])
    assert status == 422 and body["error"]["details"][0]["field"] == "send"
    missing = "01J00000000000000000000000"
    for bad in (
        f"/v1/tickets/{missing}/canned-responses/{canned['id']}/apply",
        f"/v1/tickets/{ticket['id']}/canned-responses/{missing}/apply",
        f"/v1/tickets/{ticket['id']}/canned-responses/nope/apply",
    ):
        assert api.request("POST", bad, {"send": True}, token=owner["token"])[0] == 404
    assert drain_mail_queue() == []


def test_another_workspace_cannot_see_use_or_touch_canned_responses(api, team):
    owner, _ = team
    canned = _create(api, owner["token"], set_status="solved")
    ticket = _open(api, owner["token"])
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    theirs_ticket = _open(api, other["token"])
    path = f"/v1/canned-responses/{canned['id']}"
    for method, target, body in [
        ("GET", path, None),
        ("PATCH", path, {"name": "Mine now"}),
        ("DELETE", path, None),
        ("POST", f"/v1/tickets/{theirs_ticket['id']}/canned-responses/{canned['id']}/apply", {}),
        ("POST", f"/v1/tickets/{ticket['id']}/canned-responses/{canned['id']}/apply", {}),
    ]:
        status, _, _ = api.request(method, target, body, token=other["token"])
        assert status == 404, (method, target)
    assert _names(api, other["token"]) == []
    _create(api, other["token"], name="Solved", body="Globex has its own")
    assert _names(api, owner["token"]) == ["Solved"]
    mine = api.request("GET", path, token=owner["token"])[1]
    assert (mine["name"], mine["set_status"]) == ("Solved", "solved")
    assert drain_mail_queue() == []
