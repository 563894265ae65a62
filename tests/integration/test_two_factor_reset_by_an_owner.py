"""An owner or admin turns off the two-factor sign-in of a member who lost their
authenticator: only for someone of this workspace alone, never an admin for an owner, and
the member is told by e-mail."""

import json

from tests.integration.conftest import accept_invitation, drain_mail_queue, invite
from tests.integration.test_two_factor import _enrol, _password_step


def _team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    admin = accept_invitation(
        api, invite(api, owner["token"], "cleo@acme.test", role="admin"), name="Cleo Admin"
    )[1]
    drain_mail_queue()
    return owner, agent, admin


def _reset(api, token, user_id):
    return api.request("DELETE", f"/v1/members/{user_id}/two-factor", token=token)


def test_an_admin_turns_off_a_members_lost_second_factor_and_the_member_is_told(api, clock):
    owner, agent, admin = _team(api)
    _enrol(api, agent["token"], clock)
    listed = api.request("GET", "/v1/members", token=owner["token"])[1]["members"]
    assert {m["email"]: m["two_factor"] for m in listed}["bob@acme.test"] is True
    assert _password_step(api, "bob@acme.test")[0]["two_factor_required"] is True

    status, body, _ = _reset(api, admin["token"], agent["user"]["id"])
    assert status == 204, body
    assert _password_step(api, "bob@acme.test")[0]["two_factor_required"] is False
    [mail] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert (mail["to"], mail["purpose"]) == (["bob@acme.test"], "two_factor_reset")
    assert "Cleo Admin turned off two-factor sign-in" in mail["text"]
    status, body, _ = _reset(api, admin["token"], agent["user"]["id"])
    assert (status, body["error"]["code"]) == (409, "two_factor_off")


def test_who_may_reset_whom(api, clock):
    owner, agent, admin = _team(api)
    _enrol(api, owner["token"], clock)
    _enrol(api, admin["token"], clock)
    # An agent may not; an admin may not for an owner; nobody for themselves.
    assert _reset(api, agent["token"], admin["user"]["id"])[0] == 403
    assert _reset(api, admin["token"], owner["user"]["id"])[1]["error"]["code"] == "owner_required"
    status, body, _ = _reset(api, admin["token"], admin["user"]["id"])
    assert (status, body["error"]["code"]) == (409, "own_two_factor")
    # A stranger of another workspace is not found.
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    assert _reset(api, other["token"], admin["user"]["id"])[0] == 404
    assert _password_step(api, "cleo@acme.test")[0]["two_factor_required"] is True


def test_someone_who_belongs_to_another_workspace_too_is_not_reset(api, clock):
    owner, agent, _ = _team(api)
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    accept_invitation(api, invite(api, other["token"], "bob@acme.test"), name="Bob Agent")
    _enrol(api, agent["token"], clock)
    status, body, _ = _reset(api, owner["token"], agent["user"]["id"])
    assert (status, body["error"]["code"]) == (409, "member_of_other_workspaces")
    assert _password_step(api, "bob@acme.test")[0]["two_factor_required"] is True
