"""Searching the inbox: the indexer follows ticket events; results stay within a workspace."""

import pytest

from app import app
from devstack.pump import EventPump


@pytest.fixture()
def index_events(clean_aws):
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [indexer] = [q for q in pump.queues if q.name == "search_indexer"]

    def run():
        while True:
            outcome = pump.poll_queue(indexer)
            assert outcome.failed == 0
            if not outcome.received:
                return

    return run


def _open(api, token, subject, body, email="carla@customer.test", name="Carla Diaz"):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email, "name": name}, "subject": subject, "body": body},
        token=token,
    )
    assert status == 201
    return ticket


def _search(api, token, query):
    status, body, _ = api.request("GET", f"/v1/tickets?q={query}", token=token)
    assert status == 200, body
    return [t["subject"] for t in body["tickets"]]


def test_tickets_are_found_by_subject_body_requester_and_replies(api, index_events):
    owner = api.sign_up()
    printer = _open(api, owner["token"], "Printer on fire", "The toner smells of smoke.")
    _open(
        api,
        owner["token"],
        "Refund please",
        "I was charged twice.",
        email="dan@shop.test",
        name="Dan",
    )
    api.request(
        "POST",
        f"/v1/tickets/{printer['id']}/messages",
        {"body": "Please unplug the cartridge."},
        token=owner["token"],
    )
    index_events()
    assert _search(api, owner["token"], "printer") == ["Printer on fire"]
    assert _search(api, owner["token"], "toner%20smoke") == ["Printer on fire"]
    assert _search(api, owner["token"], "cartridge") == ["Printer on fire"]
    assert _search(api, owner["token"], "dan%40shop.test") == ["Refund please"]
    assert _search(api, owner["token"], "diaz") == ["Printer on fire"]
    assert _search(api, owner["token"], "charged") == ["Refund please"]
    assert _search(api, owner["token"], "printer%20refund") == []
    assert _search(api, owner["token"], "Probl%C3%A8me") == []


def test_search_combines_with_filters_and_pages(api, index_events):
    owner = api.sign_up()
    made = [_open(api, owner["token"], f"Invoice {n}", "invoice question") for n in range(5)]
    api.request("PATCH", f"/v1/tickets/{made[0]['id']}", {"status": "solved"}, token=owner["token"])
    index_events()
    assert _search(api, owner["token"], "invoice&status=solved") == ["Invoice 0"]
    seen, cursor = [], None
    while True:
        path = "/v1/tickets?q=invoice&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.request("GET", path, token=owner["token"])[1]
        seen += [t["subject"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Invoice {n}" for n in reversed(range(5))]
    status, body, _ = api.request(
        "GET", "/v1/tickets?q=invoice&cursor=nonsense", token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_another_workspace_never_finds_my_tickets(api, index_events):
    owner = api.sign_up()
    _open(api, owner["token"], "Secret project", "classified words")
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    index_events()
    assert _search(api, other["token"], "secret") == []
    assert _search(api, owner["token"], "secret") == ["Secret project"]
