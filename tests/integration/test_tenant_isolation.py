"""A member of one workspace can neither read nor change anything of another."""

import base64
import json

import pytest

from tests.integration.conftest import accept_invitation, invite


@pytest.fixture()
def two_workspaces(api):
    acme = api.sign_up(workspace="Acme", email="ann@acme.test")
    globex = api.sign_up(workspace="Globex", email="gus@globex.test")
    globex_agent = accept_invitation(api, invite(api, globex["token"], "gina@globex.test"))[1]
    return acme, globex, globex_agent


def test_switching_to_a_foreign_workspace_is_404(api, two_workspaces):
    acme, globex, _ = two_workspaces
    status, body, _ = api.request(
        "GET",
        "/v1/workspace",
        token=acme["token"],
        headers={"X-Workspace-Id": globex["workspace"]["id"]},
    )
    assert (status, body["error"]["code"]) == (404, "workspace_not_found")


def test_a_workspace_switch_that_is_no_workspace_id_is_404_before_any_lookup(api, two_workspaces):
    acme, _, _ = two_workspaces
    for requested in ("x" * 3000, acme["workspace"]["id"].lower(), "<b>", " "):
        status, body, _ = api.request(
            "GET", "/v1/workspace", token=acme["token"], headers={"X-Workspace-Id": requested}
        )
        assert (status, body["error"]["code"]) == (404, "workspace_not_found"), requested[:40]


def test_foreign_member_ids_are_404_and_unchanged(api, two_workspaces):
    acme, globex, gina = two_workspaces
    gina_id = gina["user"]["id"]
    assert (
        api.request("PATCH", f"/v1/members/{gina_id}", {"role": "admin"}, token=acme["token"])[0]
        == 404
    )
    assert api.request("DELETE", f"/v1/members/{gina_id}", token=acme["token"])[0] == 404
    members = api.request("GET", "/v1/members", token=globex["token"])[1]["members"]
    assert {m["email"]: m["role"] for m in members}["gina@globex.test"] == "agent"


def test_foreign_api_keys_and_invitations_are_404(api, two_workspaces):
    acme, globex, _ = two_workspaces
    key = api.request("POST", "/v1/api-keys", {"name": "ci"}, token=globex["token"])[1]
    assert api.request("DELETE", f"/v1/api-keys/{key['id']}", token=acme["token"])[0] == 404
    assert api.request("GET", "/v1/me", token=key["key"])[0] == 200
    invite(api, globex["token"], "new@globex.test")
    [pending] = api.request("GET", "/v1/members/invitations", token=globex["token"])[1][
        "invitations"
    ]
    assert (
        api.request("DELETE", f"/v1/members/invitations/{pending['id']}", token=acme["token"])[0]
        == 404
    )
    assert api.request("GET", "/v1/members/invitations", token=acme["token"])[1] == {
        "invitations": []
    }


def test_listings_show_only_the_own_workspace(api, two_workspaces):
    acme, _, _ = two_workspaces
    members = api.request("GET", "/v1/members", token=acme["token"])[1]["members"]
    assert [m["email"] for m in members] == ["ann@acme.test"]
    assert api.request("GET", "/v1/api-keys", token=acme["token"])[1] == {"api_keys": []}


def test_a_cursor_from_another_workspace_is_refused(api, two_workspaces):
    acme, globex, _ = two_workspaces
    forged = base64.urlsafe_b64encode(
        json.dumps(
            {"PK": {"S": f"WS#{globex['workspace']['id']}"}, "SK": {"S": "MEMBER#0"}}
        ).encode()
    ).decode()
    status, body, _ = api.request("GET", f"/v1/members?cursor={forged}", token=acme["token"])
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_api_key_is_bound_to_its_workspace(api, two_workspaces):
    acme, globex, _ = two_workspaces
    key = api.request("POST", "/v1/api-keys", {"name": "zap"}, token=acme["token"])[1]["key"]
    status, _, _ = api.request(
        "GET", "/v1/workspace", token=key, headers={"X-Workspace-Id": globex["workspace"]["id"]}
    )
    assert status == 404


def test_member_of_both_can_switch_with_the_header(api):
    globex = api.sign_up(workspace="Globex", email="gus@globex.test")
    acme = api.sign_up(workspace="Acme", email="ann@acme.test")
    token = accept_invitation(api, invite(api, acme["token"], "gus@globex.test"))[1]["token"]
    for workspace in (acme, globex):
        status, body, _ = api.request(
            "GET",
            "/v1/workspace",
            token=token,
            headers={"X-Workspace-Id": workspace["workspace"]["id"]},
        )
        assert (status, body["id"]) == (200, workspace["workspace"]["id"])
