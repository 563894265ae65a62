def test_api_key_is_shown_once_and_works_as_bearer(api):
    owner = api.sign_up()
    status, created, _ = api.request(
        "POST", "/v1/api-keys", {"name": "Zapier", "role": "agent"}, token=owner["token"]
    )
    assert status == 201
    assert created["key"].startswith("htk_") and created["prefix"] == created["key"][:12]
    listed = api.request("GET", "/v1/api-keys", token=owner["token"])[1]["api_keys"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    status, me, _ = api.request("GET", "/v1/me", token=created["key"])
    assert status == 200
    assert (me["user"], me["api_key_id"], me["role"]) == (None, created["id"], "agent")


def test_revoked_api_key_stops_working(api):
    owner = api.sign_up()
    created = api.request("POST", "/v1/api-keys", {"name": "ci"}, token=owner["token"])[1]
    assert api.request("DELETE", f"/v1/api-keys/{created['id']}", token=owner["token"])[0] == 204
    status, body, _ = api.request("GET", "/v1/me", token=created["key"])
    assert (status, body["error"]["code"]) == (401, "invalid_token")
    assert api.request("GET", "/v1/api-keys", token=owner["token"])[1] == {"api_keys": []}


def test_agent_api_key_cannot_manage_members_or_keys(api):
    owner = api.sign_up()
    key = api.request("POST", "/v1/api-keys", {"name": "bot"}, token=owner["token"])[1]["key"]
    assert api.request("POST", "/v1/api-keys", {"name": "x"}, token=key)[0] == 403
    assert (
        api.request("POST", "/v1/members/invitations", {"email": "x@acme.test"}, token=key)[0]
        == 403
    )


def test_owner_role_cannot_be_given_to_a_key(api):
    owner = api.sign_up()
    status, body, _ = api.request(
        "POST", "/v1/api-keys", {"name": "x", "role": "owner"}, token=owner["token"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "role"


def _admin(api, owner, email="dan@acme.test"):
    from tests.integration.conftest import accept_invitation, invite

    invitation = invite(api, owner["token"], email, role="admin")
    status, body, _ = accept_invitation(api, invitation, name="Dan Admin")
    assert status == 200, body
    return body


def test_keys_show_who_holds_them_and_when_they_were_last_used(api, clock):
    owner = api.sign_up()
    created = api.request("POST", "/v1/api-keys", {"name": "ci"}, token=owner["token"])[1]
    assert (created["member_id"], created["last_used_at"]) == (owner["user"]["id"], None)
    assert created["created_by"] == f"user:{owner['user']['id']}"
    assert api.request("GET", "/v1/me", token=created["key"])[0] == 200
    [listed] = api.request("GET", "/v1/api-keys", token=owner["token"])[1]["api_keys"]
    first_use = listed["last_used_at"]
    assert first_use is not None
    # Uses within a minute are not written again; a later one is.
    api.request("GET", "/v1/me", token=created["key"])
    [listed] = api.request("GET", "/v1/api-keys", token=owner["token"])[1]["api_keys"]
    assert listed["last_used_at"] == first_use
    clock.advance(minutes=2)
    api.request("GET", "/v1/me", token=created["key"])
    [listed] = api.request("GET", "/v1/api-keys", token=owner["token"])[1]["api_keys"]
    assert listed["last_used_at"] > first_use


def test_removing_an_admin_revokes_the_keys_they_hold_and_minted(api):
    owner = api.sign_up()
    admin = _admin(api, owner)
    key = api.request("POST", "/v1/api-keys", {"name": "a", "role": "admin"}, token=admin["token"])
    minted = api.request("POST", "/v1/api-keys", {"name": "b"}, token=key[1]["key"])
    assert minted[0] == 201 and minted[1]["member_id"] == admin["user"]["id"]
    owners_key = api.request("POST", "/v1/api-keys", {"name": "o"}, token=owner["token"])[1]
    status = api.request("DELETE", f"/v1/members/{admin['user']['id']}", token=owner["token"])[0]
    assert status == 204
    for secret in (key[1]["key"], minted[1]["key"]):
        status, body, _ = api.request("GET", "/v1/me", token=secret)
        assert (status, body["error"]["code"]) == (401, "invalid_token")
        assert api.request("POST", "/v1/api-keys", {"name": "again"}, token=secret)[0] == 401
    listed = api.request("GET", "/v1/api-keys", token=owner["token"])[1]["api_keys"]
    assert [k["id"] for k in listed] == [owners_key["id"]]
    assert api.request("GET", "/v1/me", token=owners_key["key"])[0] == 200


def test_an_owner_transfers_a_key_to_keep_it_working_after_its_holder_leaves(api):
    owner = api.sign_up()
    admin = _admin(api, owner)
    key = api.request(
        "POST", "/v1/api-keys", {"name": "zap", "role": "admin"}, token=admin["token"]
    )[1]
    # Only owners transfer.
    transfer = f"/v1/api-keys/{key['id']}/transfer"
    assert (
        api.request("POST", transfer, {"member_id": owner["user"]["id"]}, token=admin["token"])[0]
        == 403
    )
    status, moved, _ = api.request(
        "POST", transfer, {"member_id": owner["user"]["id"]}, token=owner["token"]
    )
    assert status == 200 and moved["member_id"] == owner["user"]["id"]
    assert (
        api.request("DELETE", f"/v1/members/{admin['user']['id']}", token=owner["token"])[0] == 204
    )
    assert api.request("GET", "/v1/me", token=key["key"])[0] == 200
    status, body, _ = api.request("POST", transfer, {"member_id": "nobody"}, token=owner["token"])
    assert (status, body["error"]["code"]) == (404, "member_not_found")


def test_an_admin_key_cannot_be_given_to_an_agent(api):
    from tests.integration.conftest import accept_invitation, invite

    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    key = api.request("POST", "/v1/api-keys", {"name": "k", "role": "admin"}, token=owner["token"])
    status, body, _ = api.request(
        "POST",
        f"/v1/api-keys/{key[1]['id']}/transfer",
        {"member_id": agent["user"]["id"]},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (409, "member_role_too_low")


def test_keys_made_before_keys_had_a_holder_are_revoked_with_their_creator(api):
    from chalicelib import bootstrap
    from chalicelib.accounts.model import ApiKey, Credential, CredentialKind, Role
    from chalicelib.ids import new_id, token_hash

    owner = api.sign_up()
    admin = _admin(api, owner)
    workspace_id = owner["workspace"]["id"]
    secret = "htk_" + new_id() + "older-key-secret"
    now = bootstrap.account_deps().clock.now()
    older = ApiKey(
        id=new_id(),
        workspace_id=workspace_id,
        name="older",
        role=Role.ADMIN,
        prefix=secret[:12],
        token_hash=token_hash(secret),
        created_by=f"user:{admin['user']['id']}",
        created_at=now,
    )
    bootstrap.account_deps().store.create_api_key(
        older,
        Credential(
            token_hash=older.token_hash,
            kind=CredentialKind.API_KEY,
            workspace_id=workspace_id,
            expires_at=None,
            created_at=now,
            api_key_id=older.id,
            role=Role.ADMIN,
        ),
    )
    assert api.request("GET", "/v1/me", token=secret)[0] == 200
    # Without a holder it cannot mint keys.
    status, body, _ = api.request("POST", "/v1/api-keys", {"name": "x"}, token=secret)
    assert (status, body["error"]["code"]) == (403, "api_key_without_member")
    api.request("DELETE", f"/v1/members/{admin['user']['id']}", token=owner["token"])
    assert api.request("GET", "/v1/me", token=secret)[0] == 401
