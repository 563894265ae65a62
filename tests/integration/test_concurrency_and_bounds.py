"""Races end with one winner, and a request's AWS calls do not grow with the workspace."""

import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import PASSWORD, invite


def test_concurrent_signups_for_one_slug_make_exactly_one_workspace(api):
    def attempt(n):
        return api.request(
            "POST",
            "/v1/signup",
            {
                "workspace_name": "Race",
                "name": f"User {n}",
                "email": f"user{n}@race.test",
                "password": PASSWORD,
                "slug": "race",
            },
        )[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert sorted(statuses) == [201] + [409] * 7


def test_concurrent_accepts_of_one_invitation_admit_one_person(api):
    owner = api.sign_up()
    token = invite(api, owner["token"], "bob@acme.test")

    def attempt(n):
        return api.request(
            "POST", f"/v1/invitations/{token}/accept", {"name": f"Bob {n}", "password": PASSWORD}
        )[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(attempt, range(6)))
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 409, 410}
    members = api.request("GET", "/v1/members", token=owner["token"])[1]["members"]
    assert [m["email"] for m in members].count("bob@acme.test") == 1


def test_a_member_changed_meanwhile_is_a_conflict_and_the_owner_count_stays_true(api):
    from chalicelib import bootstrap
    from chalicelib.accounts.model import Role
    from tests.integration.conftest import accept_invitation

    owner = api.sign_up()
    bob = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    bob_id = bob["user"]["id"]
    workspace_id = owner["workspace"]["id"]
    store = bootstrap.account_deps().store
    stale = store.get_member(workspace_id, bob_id)  # read as an agent...
    store.change_role(stale, Role.OWNER)  # ...promoted by someone else meanwhile
    with pytest.raises(Exception) as refused:
        store.remove_member(stale)
    assert type(refused.value).__name__ == "MemberChanged"
    with pytest.raises(Exception) as refused:
        store.change_role(stale, Role.ADMIN)
    assert type(refused.value).__name__ == "MemberChanged"
    assert store.get_workspace(workspace_id).owner_count == 2

    def remove(n):
        return api.request("DELETE", f"/v1/members/{bob_id}", token=owner["token"])[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(remove, range(6)))
    assert statuses.count(204) == 1 and set(statuses) <= {204, 404, 409}
    assert store.get_workspace(workspace_id).owner_count == 1


def _calls_for(api, aws_calls, method, path, token):
    aws_calls.clear()
    status, _, _ = api.request(method, path, token=token)
    assert status == 200
    return list(aws_calls)


def test_request_aws_calls_do_not_grow_with_team_size(api, aws_calls):
    owner = api.sign_up()
    small = {
        path: _calls_for(api, aws_calls, "GET", path, owner["token"])
        for path in (
            "/v1/me",
            "/v1/workspace",
            "/v1/members?limit=5",
            "/v1/members/invitations",
            "/v1/api-keys",
        )
    }
    for n in range(12):
        invite(api, owner["token"], f"agent{n}@acme.test")
        api.request("POST", "/v1/api-keys", {"name": f"k{n}"}, token=owner["token"])
    large = {path: _calls_for(api, aws_calls, "GET", path, owner["token"]) for path in small}
    assert large == small
    assert all(len(calls) <= 4 for calls in large.values()), large
    assert not any("Scan" in call for calls in large.values() for call in calls)


@pytest.fixture()
def log_lines():
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_logs_carry_ids_but_never_passwords_or_tokens(api, log_lines):
    body = api.sign_up(email="ann@acme.test")
    api.request("GET", "/v1/me", token=body["token"])
    output = log_lines.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    handled = [line for line in lines if line.get("message") == "request handled"]
    assert handled and all(line.get("correlation_id") for line in handled)
    assert any(line.get("workspace_id") == body["workspace"]["id"] for line in handled)
    assert PASSWORD not in output
    assert body["token"] not in output


def _seed_busy_inbox(workspace_id, like, count, requesters):
    """`count` newer tickets (new, unassigned, tagged vip) written straight to the table."""
    from dataclasses import replace
    from datetime import timedelta

    from chalicelib.ids import new_id
    from chalicelib.store.models import TicketItem
    from chalicelib.store.tickets_repo import _tag_item, _ticket_item
    from chalicelib.tickets.model import TicketStatus

    with TicketItem.batch_write() as batch:
        for n in range(count):
            ticket = replace(
                like,
                id=new_id(),
                number=10_000 + n,
                status=TicketStatus.NEW,
                assignee_id=None,
                tags=["vip"],
                requester_id=requesters[n % len(requesters)],
                last_activity_at=like.last_activity_at + timedelta(seconds=n + 1),
            )
            batch.save(_ticket_item(ticket))
            batch.save(_tag_item(ticket, "vip"))


def test_every_inbox_view_costs_the_same_calls_at_three_tickets_and_at_three_hundred(
    api, aws_calls
):
    from itertools import product

    from chalicelib import bootstrap

    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]

    def open_ticket(email, **changes):
        status, ticket, _ = api.request(
            "POST",
            "/v1/tickets",
            {"requester": {"email": email, "name": "R"}, "subject": "S", "body": "B"},
            token=token,
        )
        assert status == 201
        if changes:
            assert api.request("PATCH", f"/v1/tickets/{ticket['id']}", changes, token=token)[0]
        return ticket

    closed = open_ticket("carla@customer.test", status="closed", tags=["vip"])
    open_ticket("carla@customer.test", status="open", assignee_id=owner["user"]["id"])
    other = open_ticket("dan@shop.test", tags=["vip"])
    carla, dan = closed["requester"]["id"], other["requester"]["id"]
    paths = [
        "/v1/tickets?limit=25" + "".join(f"&{name}={value}" for name, value in combination if value)
        for combination in product(
            [("status", None), ("status", "closed")],
            [("assignee", None), ("assignee", "me"), ("assignee", "none")],
            [("tag", None), ("tag", "vip")],
            [("requester", None), ("requester", carla)],
            [("q", None), ("q", "printer")],
        )
    ]

    def calls_per_view():
        return {path: _calls_for(api, aws_calls, "GET", path, token) for path in paths}

    few = calls_per_view()
    store = bootstrap.ticket_deps().store
    _seed_busy_inbox(workspace_id, store.get_ticket(workspace_id, closed["id"]), 300, [carla, dan])
    many = calls_per_view()

    assert many == few
    assert all(calls.count("Query") <= 2 for calls in many.values()), many
    unassigned_closed = "/v1/tickets?limit=25&status=closed&assignee=none"
    assert many[unassigned_closed].count("Query") == 1


def test_a_password_check_losing_rounds_to_others_opening_and_clearing_its_window_still_counts(
    api, monkeypatch
):
    """Other requests keep clearing the subject's window (their password passed) and opening
    it again (a new attempt) between this request's conditional writes: it keeps trying and
    takes its attempt, rather than answering "too many attempts" to a person who made one."""
    from chalicelib.store import accounts_repo
    from chalicelib.store.models import LoginThrottleItem

    store = accounts_repo.DynamoAccountsStore()
    subject = "racing@acme.test"
    pk, sk = accounts_repo.keys.login_throttle_pk(subject), accounts_repo.keys.LOOKUP_SK
    interfered = {"update": 0, "save": 0}
    update, save = LoginThrottleItem.update, LoginThrottleItem.save

    def cleared_first(self, *args, **kwargs):
        if interfered["update"] < 5:  # another request's passed check clears the window
            interfered["update"] += 1
            LoginThrottleItem(pk, sk).delete()
        return update(self, *args, **kwargs)

    def opened_first(self, *args, **kwargs):
        if interfered["save"] < 5:  # another request opens it again with its attempt
            interfered["save"] += 1
            save(LoginThrottleItem(pk, sk, failures=1, window_started=1_000, expires_at=9_999))
        return save(self, *args, **kwargs)

    monkeypatch.setattr(LoginThrottleItem, "update", cleared_first)
    monkeypatch.setattr(LoginThrottleItem, "save", opened_first)

    attempt = store.reserve_password_attempt(subject, 1_010, 900, 5)

    assert interfered == {"update": 5, "save": 5}
    assert attempt == 2  # the other request's attempt, then this one
