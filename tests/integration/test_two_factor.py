"""Two-factor sign-in (TOTP and recovery codes) through the API: enrolling, logging in in
two steps, replay and throttling, turning it off, and workspaces that require it."""

import pyotp

from tests.integration.conftest import PASSWORD, invite

WEB = {"X-Helptal-Client": "web"}


def _code(secret, clock, seconds=0):
    return pyotp.TOTP(secret).at(clock.now().timestamp() + seconds)


def _enrol(api, token, clock):
    """Turns two-factor sign-in on; returns the secret and the recovery codes."""
    status, enrolment, _ = api.request("POST", "/v1/me/two-factor", token=token)
    assert status == 201, enrolment
    secret = enrolment["secret"]
    status, body, _ = api.request(
        "POST", "/v1/me/two-factor/confirm", {"code": _code(secret, clock)}, token=token
    )
    assert status == 200, body
    clock.advance(seconds=30)  # the confirming code is used: the next login needs the next one
    return secret, body["recovery_codes"]


def _password_step(api, email="ann@acme.test", **headers):
    status, body, answer_headers = api.request(
        "POST",
        "/v1/auth/login",
        {"email": email, "password": PASSWORD},
        headers=headers,
    )
    assert status == 200, body
    return body, answer_headers


def test_enrolling_gives_a_secret_and_uri_once_then_ten_recovery_codes(api, clock):
    owner = api.sign_up()
    status, enrolment, _ = api.request("POST", "/v1/me/two-factor", token=owner["token"])
    assert status == 201
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/Helptal:ann%40acme.test?")
    assert enrolment["qr_code"].startswith("data:image/svg+xml")
    # Not on until a code confirms it: logging in is unchanged.
    assert _password_step(api)[0]["two_factor_required"] is False
    status, body, _ = api.request(
        "POST",
        "/v1/me/two-factor/confirm",
        {"code": _code(enrolment["secret"], clock)},
        token=owner["token"],
    )
    assert status == 200
    assert len(set(body["recovery_codes"])) == 10
    status, state, _ = api.request("GET", "/v1/me/two-factor", token=owner["token"])
    assert state["enabled"] is True and state["recovery_codes_left"] == 10
    profile = api.request("GET", "/v1/me/profile", token=owner["token"])[1]
    assert enrolment["secret"] not in str(profile) + str(state)
    status, body, _ = api.request("POST", "/v1/me/two-factor", token=owner["token"])
    assert (status, body["error"]["code"]) == (409, "two_factor_already_on")


def test_a_wrong_confirmation_code_leaves_two_factor_off(api, clock):
    owner = api.sign_up()
    api.request("POST", "/v1/me/two-factor", token=owner["token"])
    status, body, _ = api.request(
        "POST", "/v1/me/two-factor/confirm", {"code": "000000"}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (422, "invalid_two_factor_code")
    assert api.request("GET", "/v1/me/two-factor", token=owner["token"])[1]["enabled"] is False


def test_login_with_two_factor_answers_a_challenge_and_no_session_then_a_code_opens_one(api, clock):
    owner = api.sign_up()
    secret, _ = _enrol(api, owner["token"], clock)
    first, headers = _password_step(api)
    assert first["two_factor_required"] is True
    assert first["token"] is None and first["user"] is None and first["workspaces"] == []
    assert first["challenge"].startswith("htc_")
    assert "Set-Cookie" not in headers and "set-cookie" not in headers
    assert api.request("GET", "/v1/me", token=first["challenge"])[0] == 401
    status, second, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": first["challenge"], "code": _code(secret, clock)},
    )
    assert status == 200, second
    assert second["two_factor_required"] is False
    assert second["user"]["email"] == "ann@acme.test"
    assert api.request("GET", "/v1/me", token=second["token"])[0] == 200
    # The challenge works once.
    clock.advance(seconds=30)
    status, body, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": first["challenge"], "code": _code(secret, clock)},
    )
    assert (status, body["error"]["code"]) == (401, "invalid_challenge")


def test_the_web_client_gets_its_session_cookie_from_the_second_step(api, clock):
    owner = api.sign_up()
    secret, _ = _enrol(api, owner["token"], clock)
    first, headers = _password_step(api, **WEB)
    assert "Set-Cookie" not in headers and "set-cookie" not in headers
    status, second, headers = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": first["challenge"], "code": _code(secret, clock)},
        headers=WEB,
    )
    assert status == 200
    assert second["token"] is None
    cookie = headers.get("Set-Cookie") or headers.get("set-cookie")
    assert cookie.startswith("__Host-helptal_session=hts_")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_a_code_is_accepted_once_even_within_its_window(api, clock):
    owner = api.sign_up()
    secret, _ = _enrol(api, owner["token"], clock)
    code = _code(secret, clock)
    first = _password_step(api)[0]
    status, _, _ = api.request(
        "POST", "/v1/auth/login/two-factor", {"challenge": first["challenge"], "code": code}
    )
    assert status == 200
    again = _password_step(api)[0]
    status, body, _ = api.request(
        "POST", "/v1/auth/login/two-factor", {"challenge": again["challenge"], "code": code}
    )
    assert (status, body["error"]["code"]) == (401, "invalid_two_factor_code")
    assert body.get("token") is None
    clock.advance(seconds=30)
    status, _, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": again["challenge"], "code": _code(secret, clock)},
    )
    assert status == 200


def test_a_recovery_code_opens_one_login_only(api, clock):
    owner = api.sign_up()
    _, recovery = _enrol(api, owner["token"], clock)
    first = _password_step(api)[0]
    status, body, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": first["challenge"], "recovery_code": recovery[0].upper()},
    )
    assert status == 200, body
    again = _password_step(api)[0]
    status, body, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": again["challenge"], "recovery_code": recovery[0]},
    )
    assert (status, body["error"]["code"]) == (401, "invalid_two_factor_code")
    state = api.request("GET", "/v1/me/two-factor", token=owner["token"])[1]
    assert state["recovery_codes_left"] == 9


def test_wrong_codes_are_throttled(api, clock):
    owner = api.sign_up()
    _enrol(api, owner["token"], clock)
    challenge = _password_step(api)[0]["challenge"]
    answers = [
        api.request("POST", "/v1/auth/login/two-factor", {"challenge": challenge, "code": "000000"})
        for _ in range(12)
    ]
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 401 and 429 in statuses
    assert all(body.get("token") is None for _, body, _ in answers)


def test_a_challenge_lapses_after_five_minutes(api, clock):
    owner = api.sign_up()
    secret, _ = _enrol(api, owner["token"], clock)
    challenge = _password_step(api)[0]["challenge"]
    clock.advance(minutes=6)
    status, body, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": challenge, "code": _code(secret, clock)},
    )
    assert (status, body["error"]["code"]) == (401, "invalid_challenge")


def test_the_second_step_needs_exactly_one_of_code_and_recovery_code(api, clock):
    owner = api.sign_up()
    _enrol(api, owner["token"], clock)
    challenge = _password_step(api)[0]["challenge"]
    for body in (
        {"challenge": challenge},
        {"challenge": challenge, "code": "1", "recovery_code": "x"},
    ):
        status, answer, _ = api.request("POST", "/v1/auth/login/two-factor", body)
        assert status == 422, answer


def test_turning_two_factor_off_needs_a_code_or_the_password(api, clock):
    owner = api.sign_up()
    _enrol(api, owner["token"], clock)
    status, body, _ = api.request(
        "DELETE", "/v1/me/two-factor", {"password": "not my password"}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (422, "invalid_password")
    status, _, _ = api.request(
        "DELETE", "/v1/me/two-factor", {"password": PASSWORD}, token=owner["token"]
    )
    assert status == 204
    assert _password_step(api)[0]["token"].startswith("hts_")
    assert api.request("GET", "/v1/me/two-factor", token=owner["token"])[1] == {
        "enabled": False,
        "enabled_at": None,
        "recovery_codes_left": 0,
        "required_by_workspace": False,
    }


def test_new_recovery_codes_replace_the_old_ones(api, clock):
    owner = api.sign_up()
    secret, old = _enrol(api, owner["token"], clock)
    status, body, _ = api.request(
        "POST",
        "/v1/me/two-factor/recovery-codes",
        {"code": _code(secret, clock)},
        token=owner["token"],
    )
    assert status == 200
    assert set(body["recovery_codes"]).isdisjoint(old)
    challenge = _password_step(api)[0]["challenge"]
    status, _, _ = api.request(
        "POST", "/v1/auth/login/two-factor", {"challenge": challenge, "recovery_code": old[0]}
    )
    assert status == 401


def test_a_workspace_can_require_two_factor_and_members_must_enrol_first(api, clock):
    owner = api.sign_up()
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"two_factor_required": True}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (409, "two_factor_needed_first")
    _enrol(api, owner["token"], clock)
    join = invite(api, owner["token"], "bob@acme.test")
    status, joined, _ = api.request(
        "POST", f"/v1/invitations/{join}/accept", {"name": "Bob", "password": PASSWORD}
    )
    assert status == 200
    bob = joined["token"]
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"two_factor_required": True}, token=bob
    )
    assert (status, body["error"]["code"]) == (403, "forbidden_role")
    status, workspace, _ = api.request(
        "PATCH", "/v1/workspace", {"two_factor_required": True}, token=owner["token"]
    )
    assert status == 200 and workspace["two_factor_required"] is True
    # Bob can still log in and reach his profile, nothing else.
    bob_login = _password_step(api, email="bob@acme.test")[0]
    for token in (bob, bob_login["token"]):
        status, body, _ = api.request("GET", "/v1/tickets", token=token)
        assert (status, body["error"]["code"]) == (403, "two_factor_required")
    assert api.request("GET", "/v1/members", token=bob)[0] == 403
    assert api.request("GET", "/v1/me", token=bob)[0] == 200
    state = api.request("GET", "/v1/me/two-factor", token=bob)[1]
    assert state["required_by_workspace"] is True
    # The owner, enrolled, is not held back.
    assert api.request("GET", "/v1/tickets", token=owner["token"])[0] == 200
    _enrol(api, bob, clock)
    assert api.request("GET", "/v1/tickets", token=bob)[0] == 200
    status, body, _ = api.request("DELETE", "/v1/me/two-factor", {"password": PASSWORD}, token=bob)
    assert (status, body["error"]["code"]) == (409, "two_factor_required_here")


def test_api_keys_are_not_held_back_by_the_requirement(api, clock):
    owner = api.sign_up()
    _enrol(api, owner["token"], clock)
    key = api.request("POST", "/v1/api-keys", {"name": "CRM"}, token=owner["token"])[1]["key"]
    api.request("PATCH", "/v1/workspace", {"two_factor_required": True}, token=owner["token"])
    assert api.request("GET", "/v1/tickets", token=key)[0] == 200
