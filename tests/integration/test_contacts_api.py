"""The contact directory: requesters found by e-mail or name, each with their tickets."""

import pytest


def _open(api, token, email, name="", subject="Question"):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email, "name": name}, "subject": subject, "body": "Hello"},
        token=token,
    )
    assert status == 201, ticket
    return ticket


def _emails(api, token, query=""):
    status, page, _ = api.request("GET", f"/v1/contacts{query}", token=token)
    assert status == 200, page
    return [c["email"] for c in page["contacts"]]


@pytest.fixture()
def directory(api):
    owner = api.sign_up()
    people = [
        ("carla@customer.test", "Carla Gomez"),
        ("jean-pierre@bistro.test", "Jean-Pierre Élodie Martin"),
        ("m.martinez@corp.test", "Maria Martinez"),
        ("zed@other.test", ""),
    ]
    for email, name in people:
        _open(api, owner["token"], email, name)
    return owner


def test_contacts_are_listed_newest_first(api, directory):
    assert _emails(api, directory["token"]) == [
        "zed@other.test",
        "m.martinez@corp.test",
        "jean-pierre@bistro.test",
        "carla@customer.test",
    ]


def test_search_by_email_prefix_ignores_case(api, directory):
    token = directory["token"]
    assert _emails(api, token, "?q=CARLA@cust") == ["carla@customer.test"]
    assert _emails(api, token, "?q=m.mart") == ["m.martinez@corp.test"]
    assert _emails(api, token, "?q=zed") == ["zed@other.test"]
    assert _emails(api, token, "?q=customer.test") == []  # a prefix, not a substring


def test_search_by_any_word_of_the_name_ignores_case_and_accents(api, directory):
    token = directory["token"]
    assert _emails(api, token, "?q=gom") == ["carla@customer.test"]
    assert _emails(api, token, "?q=ELODIE") == ["jean-pierre@bistro.test"]
    assert _emails(api, token, "?q=pierre") == ["jean-pierre@bistro.test"]
    # "mart" starts Martin and Martinez (and m.martinez's address is no match for it):
    # each contact is listed once.
    assert sorted(_emails(api, token, "?q=mart")) == [
        "jean-pierre@bistro.test",
        "m.martinez@corp.test",
    ]
    assert _emails(api, token, "?q=maria%20mart") == ["m.martinez@corp.test"]
    assert _emails(api, token, "?q=%20%20") == _emails(api, token)


def test_search_pages_with_a_cursor_bound_to_the_search(api, directory):
    token = directory["token"]
    for n in range(5):
        _open(api, token, f"sam{n}@shop.test", f"Sam Number{n}")
    seen, cursor = [], None
    while True:
        status, page, _ = api.request(
            "GET",
            "/v1/contacts?q=sam&limit=2" + (f"&cursor={cursor}" if cursor else ""),
            token=token,
        )
        assert status == 200 and len(page["contacts"]) <= 2
        seen += [c["email"] for c in page["contacts"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"sam{n}@shop.test" for n in range(5)]
    first = api.request("GET", "/v1/contacts?q=sam&limit=2", token=token)[1]["next_cursor"]
    status, body, _ = api.request("GET", f"/v1/contacts?q=carla&cursor={first}", token=token)
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    status, body, _ = api.request("GET", f"/v1/contacts?cursor={first}", token=token)
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_bad_queries_are_named(api, directory):
    token = directory["token"]
    status, body, _ = api.request("GET", "/v1/contacts?limit=500", token=token)
    assert status == 422 and body["error"]["details"][0]["field"] == "limit"
    status, body, _ = api.request("GET", "/v1/contacts?colour=red", token=token)
    assert status == 422 and body["error"]["details"][0]["field"] == "colour"


def test_contact_detail_lists_their_tickets_newest_first(api, directory):
    token = directory["token"]
    first = _open(api, token, "carla@customer.test", subject="Second question")
    second = _open(api, token, "carla@customer.test", subject="Third question")
    _open(api, token, "zed@other.test", subject="Not Carla's")
    contact_id = first["requester"]["id"]
    status, contact, _ = api.request("GET", f"/v1/contacts/{contact_id}", token=token)
    assert status == 200, contact
    assert (contact["id"], contact["email"], contact["name"]) == (
        contact_id,
        "carla@customer.test",
        "Carla Gomez",
    )
    assert [t["subject"] for t in contact["tickets"]] == [
        "Third question",
        "Second question",
        "Question",
    ]
    api.request("PATCH", f"/v1/tickets/{first['id']}", {"status": "open"}, token=token)
    status, page, _ = api.request("GET", f"/v1/contacts/{contact_id}?limit=2", token=token)
    assert [t["id"] for t in page["tickets"]] == [first["id"], second["id"]]
    rest = api.request(
        "GET", f"/v1/contacts/{contact_id}?cursor={page['next_cursor']}", token=token
    )[1]
    assert [t["subject"] for t in rest["tickets"]] == ["Question"]
    assert rest["next_cursor"] is None


def test_unknown_contact_ids_are_404(api, directory):
    token = directory["token"]
    for contact_id in ("01J00000000000000000000000", "nope"):
        status, body, _ = api.request("GET", f"/v1/contacts/{contact_id}", token=token)
        assert (status, body["error"]["code"]) == (404, "contact_not_found")


def test_another_workspace_sees_none_of_the_contacts(api, directory):
    carla = _open(api, directory["token"], "carla@customer.test")["requester"]["id"]
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    status, body, _ = api.request("GET", f"/v1/contacts/{carla}", token=other["token"])
    assert (status, body["error"]["code"]) == (404, "contact_not_found")
    assert _emails(api, other["token"]) == []
    assert _emails(api, other["token"], "?q=carla") == []
    theirs = _open(api, other["token"], "carla@customer.test", "Carla at Globex")
    assert theirs["requester"]["id"] != carla
    assert _emails(api, other["token"], "?q=carla") == ["carla@customer.test"]
    detail = api.request("GET", f"/v1/contacts/{theirs['requester']['id']}", token=other["token"])
    assert [t["id"] for t in detail[1]["tickets"]] == [theirs["id"]]
    assert [
        c["name"]
        for c in api.request("GET", "/v1/contacts?q=carla", token=directory["token"])[1]["contacts"]
    ] == ["Carla Gomez"]
