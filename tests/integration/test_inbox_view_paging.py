"""Short pages of a filtered inbox view: following next_cursor lists every match once."""

from chalicelib import bootstrap
from tests.integration.test_concurrency_and_bounds import _seed_busy_inbox


def _open(api, token, email, **changes):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": email, "name": "R"}, "subject": "S", "body": "B"},
        token=token,
    )
    assert status == 201
    if changes:
        status, ticket, _ = api.request(
            "PATCH", f"/v1/tickets/{ticket['id']}", changes, token=token
        )
        assert status == 200
    return ticket


def _follow(api, token, path):
    """Every ticket id of a view, following next_cursor; the number of pages read."""
    ids, pages, cursor = [], 0, None
    while True:
        status, body, _ = api.request(
            "GET", path + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        assert status == 200, body
        pages += 1
        ids += [t["id"] for t in body["tickets"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids, pages


def test_a_rare_combination_is_found_by_following_short_pages(api):
    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]
    closed = _open(api, token, "carla@customer.test", status="closed")
    like = bootstrap.ticket_deps().store.get_ticket(workspace_id, closed["id"])
    _seed_busy_inbox(workspace_id, like, 250, [closed["requester"]["id"]])

    carla = closed["requester"]["id"]
    ids, pages = _follow(api, token, f"/v1/tickets?limit=25&requester={carla}&status=closed")
    assert ids == [closed["id"]]
    assert pages == 3  # 251 tickets of this requester, read 100 at a time


def test_unassigned_closed_tickets_have_their_own_view_full_pages_at_once(api, aws_calls):
    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]
    closed = [_open(api, token, f"c{n}@customer.test", status="closed") for n in range(3)]
    like = bootstrap.ticket_deps().store.get_ticket(workspace_id, closed[0]["id"])
    _seed_busy_inbox(workspace_id, like, 250, [closed[0]["requester"]["id"]])

    aws_calls.clear()
    ids, pages = _follow(api, token, "/v1/tickets?limit=2&assignee=none&status=closed")

    assert ids == [t["id"] for t in reversed(closed)]  # newest activity first
    assert pages == 2  # a full page, then the last one: never a short page of a slice
    assert aws_calls.count("Query") == pages  # one Query a page


def test_pages_cut_inside_a_slice_continue_after_the_last_ticket_shown(api):
    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]
    first = _open(api, token, "carla@customer.test", tags=["vip"])
    carla = first["requester"]["id"]
    other = _open(api, token, "dan@shop.test")
    like = bootstrap.ticket_deps().store.get_ticket(workspace_id, first["id"])
    _seed_busy_inbox(workspace_id, like, 40, [carla, other["requester"]["id"]])

    by_requester, _ = _follow(api, token, f"/v1/tickets?limit=7&requester={carla}&tag=vip")
    assert len(by_requester) == len(set(by_requester)) == 21
    assert by_requester[-1] == first["id"]
    by_tag, _ = _follow(api, token, "/v1/tickets?limit=7&tag=vip&status=new&assignee=none")
    assert len(by_tag) == len(set(by_tag)) == 41
    assert by_tag[-1] == first["id"]
