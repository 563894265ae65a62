import json

from tests.integration.conftest import PASSWORD


def test_signup_creates_workspace_owner_and_working_session(api):
    body = api.sign_up(workspace="Acme Support", email="Ann@Acme.test")
    assert body["workspace"]["slug"] == "acme-support"
    assert body["workspace"]["inbound_address"] == "acme-support@in.helptal.test"
    assert body["user"] == {
        "id": body["user"]["id"],
        "email": "ann@acme.test",
        "name": "Ann Owner",
        "role": "owner",
        "email_confirmed": True,
    }
    status, me, _ = api.request("GET", "/v1/me", token=body["token"])
    assert status == 200
    assert me["workspace"]["id"] == body["workspace"]["id"]
    assert me["role"] == "owner"


def test_requested_slug_that_is_taken_is_409_and_changes_nothing(api):
    api.sign_up(workspace="Acme", email="ann@acme.test", slug="acme")
    status, body, _ = api.request(
        "POST",
        "/v1/signup",
        {
            "workspace_name": "Other",
            "name": "Bob",
            "email": "bob@other.test",
            "password": PASSWORD,
            "slug": "acme",
        },
    )
    assert status == 409
    assert body["error"]["code"] == "slug_taken"
    # Bob's account was not created by the failed sign-up.
    status, body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "bob@other.test", "password": PASSWORD}
    )
    assert status == 401


def test_derived_slug_gets_a_suffix_when_taken(api):
    first = api.sign_up(workspace="Acme Support", email="ann@acme.test")
    second = api.sign_up(workspace="Acme Support", email="bob@acme.test")
    assert first["workspace"]["slug"] == "acme-support"
    assert second["workspace"]["slug"].startswith("acme-support-")


def _shape(value):
    """The keys of a JSON answer, recursively (what a caller can compare besides values)."""
    if isinstance(value, dict):
        return {key: _shape(inner) for key, inner in value.items()}
    return type(value).__name__


def _sign_up_body(email, password=PASSWORD, **extra):
    return {
        "workspace_name": "Second Desk",
        "name": "Someone",
        "email": email,
        "password": password,
        **extra,
    }


def test_signup_with_an_existing_email_answers_like_a_new_one_and_creates_nothing(api):
    from tests.integration.conftest import drain_mail_queue

    api.sign_up(email="ann@acme.test")
    drain_mail_queue()
    new = api.request("POST", "/v1/signup", _sign_up_body("zed@other.test"))
    taken = api.request(
        "POST", "/v1/signup", _sign_up_body("ANN@acme.test", password="an attacker's guess")
    )
    assert new[0] == taken[0] == 201
    assert _shape(new[1]) == _shape(taken[1])
    assert taken[1]["user"]["email"] == "ann@acme.test"
    assert taken[1]["workspace"]["slug"].startswith("second-desk")
    # Nothing was created for the existing address, and Ann's password is unchanged.
    status, body, _ = api.request("GET", "/v1/me", token=taken[1]["token"])
    assert (status, body["error"]["code"]) == (401, "invalid_token")
    login = api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD})
    assert login[0] == 200 and len(login[1]["workspaces"]) == 1
    assert (
        api.request(
            "POST",
            "/v1/auth/login",
            {"email": "ann@acme.test", "password": "an attacker's guess"},
        )[0]
        == 401
    )
    # Ann is told, and only Ann (Zed, who signed up, is asked to confirm his address).
    queued = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert sorted((m["to"][0], m["purpose"]) for m in queued) == [
        ("ann@acme.test", "signup_with_existing_account"),
        ("zed@other.test", "email_confirmation"),
    ]
    mails = [m for m in queued if m["to"] == ["ann@acme.test"]]
    assert mails[0]["subject"] == "Someone tried to sign up to Helptal with your e-mail address"
    assert "https://app.helptal.test/login" in mails[0]["text"]
    assert "“Second Desk”" in mails[0]["text"]


def test_signup_notices_are_in_the_requested_language_and_at_most_one_an_hour(api, clock):
    from tests.integration.conftest import drain_mail_queue

    api.sign_up(email="ann@acme.test")
    drain_mail_queue()
    for _ in range(3):
        status, _body, _ = api.request(
            "POST", "/v1/signup", _sign_up_body("ann@acme.test", locale="fr")
        )
        assert status == 201
    [mail] = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert mail["subject"] == (
        "Quelqu'un a essayé de s'inscrire sur Helptal avec votre adresse e-mail"
    )
    assert "« Second Desk »" in mail["text"]
    clock.advance(minutes=61)
    api.request("POST", "/v1/signup", _sign_up_body("ann@acme.test"))
    assert len(drain_mail_queue()) == 1


def test_a_taken_slug_is_refused_alike_for_new_and_existing_emails(api):
    api.sign_up(email="ann@acme.test", slug="acme")
    for email in ("ann@acme.test", "zed@other.test"):
        status, body, _ = api.request("POST", "/v1/signup", _sign_up_body(email, slug="acme"))
        assert (status, body["error"]["code"]) == (409, "slug_taken")


def test_login_returns_token_user_and_workspaces(api):
    created = api.sign_up(email="ann@acme.test")
    status, body, _ = api.request(
        "POST", "/v1/auth/login", {"email": " ANN@acme.test ", "password": PASSWORD}
    )
    assert status == 200
    assert body["user"]["id"] == created["user"]["id"]
    assert body["workspaces"] == [
        {
            "id": created["workspace"]["id"],
            "slug": "acme-support",
            "name": "Acme Support",
            "role": "owner",
        }
    ]
    assert api.request("GET", "/v1/me", token=body["token"])[0] == 200


def test_login_signup_invitation_and_me_show_the_user_alike_with_their_role(api):
    from tests.integration.conftest import accept_invitation, invite

    owner = api.sign_up(email="ann@acme.test")
    accepted = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    for email, role, first in (
        ("ann@acme.test", "owner", owner["user"]),
        ("bob@acme.test", "agent", accepted["user"]),
    ):
        status, login, _ = api.request(
            "POST", "/v1/auth/login", {"email": email, "password": PASSWORD}
        )
        assert status == 200
        me = api.request("GET", "/v1/me", token=login["token"])[1]
        assert login["user"] == first == me["user"]
        assert login["user"]["role"] == me["role"] == role


def test_wrong_password_and_unknown_email_get_the_same_answer(api):
    api.sign_up(email="ann@acme.test")
    wrong = api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": "x"})
    unknown = api.request("POST", "/v1/auth/login", {"email": "zed@acme.test", "password": "x"})
    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1]


def test_repeated_failures_are_throttled_with_retry_after(api, clock):
    api.sign_up(email="ann@acme.test")
    for _ in range(5):
        assert (
            api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": "wrong"})[
                0
            ]
            == 401
        )
    status, body, headers = api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD}
    )
    assert status == 429
    assert body["error"]["code"] == "login_throttled"
    assert 0 < int(headers["Retry-After"]) <= 15 * 60
    clock.advance(minutes=16)
    assert (
        api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD})[0]
        == 200
    )


def test_throttling_an_unknown_email_looks_the_same(api):
    for _ in range(5):
        api.request("POST", "/v1/auth/login", {"email": "nobody@acme.test", "password": "x"})
    status, _body, headers = api.request(
        "POST", "/v1/auth/login", {"email": "nobody@acme.test", "password": "x"}
    )
    assert status == 429 and "Retry-After" in headers


def test_successful_login_resets_the_failure_count(api):
    api.sign_up(email="ann@acme.test")
    for _ in range(4):
        api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": "bad"})
    assert (
        api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD})[0]
        == 200
    )
    for _ in range(4):
        api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": "bad"})
    assert (
        api.request("POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD})[0]
        == 200
    )


def test_logout_revokes_the_token(api):
    token = api.sign_up()["token"]
    assert api.request("POST", "/v1/auth/logout", token=token)[0] == 204
    status, body, _ = api.request("GET", "/v1/me", token=token)
    assert status == 401
    assert body["error"]["code"] == "invalid_token"


def test_sessions_expire(api, clock):
    token = api.sign_up()["token"]
    clock.advance(days=8)
    status, body, _ = api.request("GET", "/v1/me", token=token)
    assert status == 401
    assert body["error"]["code"] == "token_expired"


def test_forged_token_is_401(api):
    token = api.sign_up()["token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert api.request("GET", "/v1/me", token=forged)[0] == 401


def test_workspace_settings_can_be_changed_by_owner(api):
    token = api.sign_up()["token"]
    status, body, _ = api.request(
        "PATCH",
        "/v1/workspace",
        {"name": "Acme Help", "timezone": "Asia/Singapore", "locale": "fr"},
        token=token,
    )
    assert status == 200
    assert (body["name"], body["timezone"], body["locale"]) == ("Acme Help", "Asia/Singapore", "fr")
    assert api.request("GET", "/v1/workspace", token=token)[1]["name"] == "Acme Help"


def test_bad_workspace_patch_changes_nothing(api):
    token = api.sign_up()["token"]
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"name": "New", "timezone": "Nowhere/City"}, token=token
    )
    assert status == 422
    assert body["error"]["details"][0]["field"] == "timezone"
    assert api.request("GET", "/v1/workspace", token=token)[1]["name"] == "Acme Support"


def test_health_reports_the_table_reachable(api):
    status, body, _ = api.request("GET", "/v1/health")
    assert (status, body) == (200, {"status": "ok", "table": "reachable"})


def test_signup_refuses_blank_control_and_common_passwords_saying_why(api):
    for password, why in [
        (" " * 10, "must not be only spaces"),
        ("\u0000" * 10, "must not contain control characters"),
        ("password12", "is one of the most common passwords"),
    ]:
        status, body, _ = api.request(
            "POST",
            "/v1/signup",
            {
                "workspace_name": "Acme",
                "name": "Ann",
                "email": "ann@acme.test",
                "password": password,
            },
        )
        assert status == 422, password
        assert body["error"]["code"] == "weak_password"
        assert body["error"]["details"][0]["field"] == "password"
        assert why in body["error"]["details"][0]["message"]
    status, _body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": "password12"}
    )
    assert status == 401  # nothing was created


def test_signup_costs_one_password_hash_whether_or_not_the_email_has_an_account(api):
    import dataclasses

    from chalicelib import bootstrap
    from chalicelib.accounts import signup

    api.sign_up(email="ann@acme.test")
    real = bootstrap.account_deps().hasher
    hashed: list[str] = []

    class CountingHasher:
        def hash(self, password: str) -> str:
            hashed.append(password)
            return str(real.hash(password))

        def verify(self, password_hash: str, password: str) -> bool:
            raise AssertionError("sign-up checks no password")

        def verify_decoy(self, password: str) -> None:
            raise AssertionError("sign-up checks no password")

    deps = dataclasses.replace(bootstrap.account_deps(), hasher=CountingHasher())
    for email in ("ann@acme.test", "zed@other.test"):
        signup.sign_up(
            deps,
            workspace_name="Desk",
            name="Someone",
            email=email,
            password=PASSWORD,
            login_url="https://app.helptal.test/login",
        )
    assert len(hashed) == 2
