import json

from tests.integration.conftest import PASSWORD, accept_invitation, drain_mail_queue, invite


def test_invited_agent_accepts_and_joins_the_team(api):
    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    status, body, _ = accept_invitation(api, invitation)
    assert status == 200, body
    assert body["workspace"]["id"] == owner["workspace"]["id"]
    assert body["user"]["role"] == "agent"
    status, me, _ = api.request("GET", "/v1/me", token=body["token"])
    assert me["user"]["email"] == "bob@acme.test" and me["role"] == "agent"
    members = api.request("GET", "/v1/members", token=owner["token"])[1]["members"]
    assert sorted(m["email"] for m in members) == ["ann@acme.test", "bob@acme.test"]
    assert (
        api.request("GET", "/v1/members/invitations", token=owner["token"])[1]["invitations"] == []
    )


def test_invitation_mail_is_queued_in_the_workspace_language(api):
    owner = api.sign_up()
    api.request("PATCH", "/v1/workspace", {"locale": "fr"}, token=owner["token"])
    drain_mail_queue()
    api.request(
        "POST", "/v1/members/invitations", {"email": "chloe@acme.test"}, token=owner["token"]
    )
    [message] = drain_mail_queue()
    mail = json.loads(message["Body"])
    assert mail["subject"] == "Ann Owner vous invite à rejoindre Acme Support sur Helptal"
    assert mail["to"] == ["chloe@acme.test"]
    assert "/join/hti_" in mail["html"]
    assert "https://api.helptal.test/join/hti_" in mail["text"]  # PUBLIC_BASE_URL


def test_invitation_link_works_once(api):
    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    assert accept_invitation(api, invitation)[0] == 200
    status, body, _ = accept_invitation(api, invitation)
    assert status == 410
    assert body["error"]["code"] == "invitation_used"


def test_expired_invitation_is_410_and_creates_nobody(api, clock):
    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    clock.advance(days=7, seconds=1)
    status, body, _ = accept_invitation(api, invitation)
    assert status == 410
    assert body["error"]["code"] == "invitation_expired"
    assert (
        api.request("POST", "/v1/auth/login", {"email": "bob@acme.test", "password": PASSWORD})[0]
        == 401
    )


def test_revoked_invitation_is_410(api):
    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    [pending] = api.request("GET", "/v1/members/invitations", token=owner["token"])[1][
        "invitations"
    ]
    assert (
        api.request("DELETE", f"/v1/members/invitations/{pending['id']}", token=owner["token"])[0]
        == 204
    )
    status, body, _ = accept_invitation(api, invitation)
    assert (status, body["error"]["code"]) == (410, "invitation_revoked")


def test_unknown_invitation_token_is_404(api):
    assert accept_invitation(api, "hti_" + "x" * 43)[0] == 404
    assert accept_invitation(api, "nonsense")[0] == 404


def test_accepting_with_a_weak_password_is_422_and_keeps_the_link_usable(api):
    owner = api.sign_up()
    invitation = invite(api, owner["token"], "bob@acme.test")
    status, body, _ = accept_invitation(api, invitation, password="short")
    assert (status, body["error"]["code"]) == (422, "weak_password")
    assert accept_invitation(api, invitation)[0] == 200


def test_existing_user_joins_a_second_workspace_with_their_password(api):
    api.sign_up(workspace="Globex", email="bob@acme.test", name="Bob")
    owner = api.sign_up(workspace="Acme", email="ann@acme.test")
    invitation = invite(api, owner["token"], "bob@acme.test")
    assert accept_invitation(api, invitation, password="not bob's password")[0] == 401
    status, _body, _ = accept_invitation(api, invitation)
    assert status == 200
    status, login, _ = api.request(
        "POST", "/v1/auth/login", {"email": "bob@acme.test", "password": PASSWORD}
    )
    assert sorted(w["name"] for w in login["workspaces"]) == ["Acme", "Globex"]


def test_inviting_an_existing_member_is_409(api):
    owner = api.sign_up()
    status, body, _ = api.request(
        "POST", "/v1/members/invitations", {"email": "ann@acme.test"}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "already_member")


def test_agents_cannot_invite_or_change_roles(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    status, body, _ = api.request(
        "POST", "/v1/members/invitations", {"email": "eve@acme.test"}, token=agent["token"]
    )
    assert (status, body["error"]["code"]) == (403, "forbidden_role")
    status, _, _ = api.request(
        "PATCH", f"/v1/members/{owner['user']['id']}", {"role": "agent"}, token=agent["token"]
    )
    assert status == 403
    assert drain_mail_queue() == []


def test_admin_cannot_demote_or_remove_an_owner_or_mint_owners(api):
    owner = api.sign_up()
    admin = accept_invitation(api, invite(api, owner["token"], "adam@acme.test", role="admin"))[1]
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    assert (
        api.request(
            "PATCH", f"/v1/members/{owner['user']['id']}", {"role": "agent"}, token=admin["token"]
        )[0]
        == 403
    )
    assert (
        api.request("DELETE", f"/v1/members/{owner['user']['id']}", token=admin["token"])[0] == 403
    )
    assert (
        api.request(
            "PATCH", f"/v1/members/{agent['user']['id']}", {"role": "owner"}, token=admin["token"]
        )[0]
        == 403
    )
    status, body, _ = api.request(
        "PATCH", f"/v1/members/{agent['user']['id']}", {"role": "admin"}, token=admin["token"]
    )
    assert (status, body["role"]) == (200, "admin")


def test_last_owner_cannot_be_demoted_or_removed(api):
    owner = api.sign_up()
    owner_id = owner["user"]["id"]
    status, body, _ = api.request(
        "PATCH", f"/v1/members/{owner_id}", {"role": "admin"}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "last_owner")
    status, body, _ = api.request("DELETE", f"/v1/members/{owner_id}", token=owner["token"])
    assert (status, body["error"]["code"]) == (409, "last_owner")
    assert api.request("GET", "/v1/me", token=owner["token"])[1]["role"] == "owner"


def test_with_a_second_owner_the_first_can_step_down(api):
    owner = api.sign_up()
    second = accept_invitation(api, invite(api, owner["token"], "olga@acme.test", role="owner"))[1]
    status, body, _ = api.request(
        "PATCH", f"/v1/members/{owner['user']['id']}", {"role": "admin"}, token=owner["token"]
    )
    assert (status, body["role"]) == (200, "admin")
    # Now Olga is the last owner.
    status, body, _ = api.request(
        "DELETE", f"/v1/members/{second['user']['id']}", token=second["token"]
    )
    assert (status, body["error"]["code"]) == (409, "last_owner")


def test_removed_member_loses_access_immediately(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    assert (
        api.request("DELETE", f"/v1/members/{agent['user']['id']}", token=owner["token"])[0] == 204
    )
    status, body, _ = api.request("GET", "/v1/me", token=agent["token"])
    assert (status, body["error"]["code"]) == (401, "membership_ended")


def test_members_are_paged_with_a_cursor(api):
    owner = api.sign_up()
    for n in range(3):
        accept_invitation(api, invite(api, owner["token"], f"agent{n}@acme.test"))
    seen, cursor = [], None
    while True:
        path = "/v1/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = api.request("GET", path, token=owner["token"])
        assert status == 200 and len(page["members"]) <= 2
        seen += [m["email"] for m in page["members"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["ann@acme.test"] + [f"agent{n}@acme.test" for n in range(3)])


def test_bad_paging_parameters_are_named(api):
    owner = api.sign_up()
    status, body, _ = api.request("GET", "/v1/members?limit=5000", token=owner["token"])
    assert status == 422 and body["error"]["details"][0]["field"] == "limit"
    status, body, _ = api.request("GET", "/v1/members?cursor=garbage", token=owner["token"])
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_pending_invitations_are_one_query_however_many_were_accepted_or_revoked(api, aws_calls):
    from chalicelib.accounts.model import InvitationStatus
    from chalicelib.store.models import InvitationItem

    owner = api.sign_up()
    token, workspace_id = owner["token"], owner["workspace"]["id"]
    invite(api, token, "first@team.test")
    first = InvitationItem.get(
        f"WS#{workspace_id}", f"INVITE#{_pending_ids(api, token)['first@team.test']}"
    )
    # 300 newer invitations that were revoked since, written straight to the table.
    with InvitationItem.batch_write() as batch:
        for n in range(300):
            revoked = InvitationItem.from_raw_data(first.serialize())
            revoked.invitation_id = f"01ZZZZZZZZZZZZZZZZZZZZ{n:04d}"
            revoked.sk = f"INVITE#{revoked.invitation_id}"
            revoked.status = InvitationStatus.REVOKED.value
            revoked.gsi1pk = revoked.gsi1sk = None
            batch.save(revoked)
    invite(api, token, "second@team.test")
    invite(api, token, "third@team.test")
    third = _pending_ids(api, token)["third@team.test"]
    assert api.request("DELETE", f"/v1/members/invitations/{third}", token=token)[0] == 204
    assert accept_invitation(api, invite(api, token, "fourth@team.test"))[0] == 200

    aws_calls.clear()
    pending = _pending_ids(api, token)

    assert sorted(pending) == ["first@team.test", "second@team.test"]
    assert aws_calls.count("Query") == 1


def _pending_ids(api, token):
    status, body, _ = api.request("GET", "/v1/members/invitations", token=token)
    assert status == 200, body
    return {i["email"]: i["id"] for i in body["invitations"]}
