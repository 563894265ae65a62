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
